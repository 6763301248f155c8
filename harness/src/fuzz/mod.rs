//! `harness fuzz`: property-based fuzzing of a live plugin.
//!
//! [`strategies`] generate hook requests (and ServeHTTP requests),
//! [`properties`] say what every answer must satisfy (the plugin stays up,
//! answers within its deadline, well formed by the protocol rules, and
//! keeps the invariants of a [`spec`]), [`runner`] drives the plugin
//! through seeded cases, restarting it after crashes, and [`shrink`] turns
//! each failure into a minimal case, saved as a suite file `harness run`
//! replays. [`raw`] mutates the encoded bytes instead, to check that the
//! plugin's decoder and gRPC stack survive malformed input.

mod live;
pub mod properties;
pub mod raw;
pub mod report;
pub mod runner;
mod save;
pub mod shrink;
mod size;
pub mod spec;
pub mod strategies;

pub use properties::{Failure, FailureKind};
pub use report::{Finding, FuzzProgress, FuzzReport, Mode, Request, Stats};
pub use runner::{FuzzOptions, fuzz};
pub use spec::{Spec, SpecError};
pub use strategies::Profile;
