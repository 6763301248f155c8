//! Turning a [`RunReport`](crate::run::RunReport) into something to read:
//! the console (as results arrive), JSON and JUnit XML.

mod bench;
mod console;
mod fuzz;
mod junit;
mod soak;

pub use bench::bench_line;
pub use console::{Console, failure_details, shell_quote};
pub use fuzz::{FuzzCommands, FuzzConsole};
pub use junit::junit_xml;
pub use soak::{soak_header, soak_sample, soak_summary};
