//! mm-plugin-harness plays the Mattermost server against plugin executables
//! that speak Mattermost's gRPC plugin protocol.
//!
//! Data flows one way: [`launch`] starts the plugin as the server does,
//! [`run`] replays suites (hooks out through [`hooks`], API calls in through
//! [`api`]), [`check`] judges every answer, and [`report`] says what
//! happened. [`soak`] relaunches a plugin many times to catch the harness
//! leaking; [`latency`] measures hook and API latency in HDR histograms
//! against a budget, a baseline and the harness's own floor; [`fuzz`]
//! drives it with generated requests and shrinks what fails to a case. [`session`]
//! pairs a launched plugin with its Plugin API server; [`front`] puts it
//! behind real HTTP as the server's `/plugins/{id}` routes do. [`suite`]
//! reads the files that drive it all; [`wire`] holds the protocol plumbing
//! the others share.

pub mod check;
pub mod control;
pub mod engine;
pub mod front;
pub mod fuzz;
pub mod hooks;
pub mod latency;
pub mod launch;
pub mod record;
pub mod report;
pub mod run;
pub mod session;
pub mod soak;
pub mod suite;

// The bottom of the stack and the Plugin API server are crates of their own,
// so the compiler keeps them from reaching up; their paths stay `crate::wire`
// and `crate::api` inside the harness.
pub use api;
pub use wire;
