//! Protocol drift check: do the harness and an SDK speak the same wire protocol?
//!
//! [`source::load`] reads what an SDK ships (a directory of `.proto` files, a serialized
//! `FileDescriptorSet`, or a Python package of generated `*_pb2.py` modules) into a descriptor
//! pool; [`compare::compare`] matches its definitions of one package against the harness's by
//! full name and classifies each difference as wire-incompatible or compatible, after the rules
//! of `buf breaking`'s WIRE category (the table is in [`rules`]); [`report::Report`] prints them
//! grouped by service, message and enum, or serializes them as JSON.
//!
//! The crate knows nothing of the harness: the caller passes both pools.

pub mod compare;
pub mod py_bytes;
pub mod report;
pub mod rules;
pub mod source;

pub use compare::{CompareError, compare};
pub use report::{Difference, Report, Summary};
pub use rules::{Compatibility, Rule};
pub use source::{LoadError, LoadedSource, SourceKind, load};
