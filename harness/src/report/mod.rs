//! Turning a [`RunReport`](crate::run::RunReport) into something to read:
//! the console (as results arrive), JSON and JUnit XML.

mod console;
mod junit;

pub use console::{Console, failure_details, shell_quote};
pub use junit::junit_xml;
