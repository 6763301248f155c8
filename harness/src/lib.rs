//! mm-plugin-harness plays the Mattermost server against plugin executables
//! that speak Mattermost's gRPC plugin protocol.
//!
//! Data flows one way (ARCHITECTURE.md draws the stack): [`launch`] starts
//! the plugin as the server does, [`session`] pairs it with its Plugin API
//! server ([`api`]) and activates it, [`engine`] executes suite steps
//! against it (hooks out through [`hooks`]), [`check`] judges every answer,
//! and [`report`] says what happened. The modes all run on that engine:
//! [`run`] replays suites; [`fuzz`] drives hooks with generated requests and
//! shrinks what fails to a case; [`latency`] measures hook and API latency
//! in HDR histograms against a budget, a baseline and the physical and
//! harness floors; [`soak`] relaunches a plugin many times to catch the
//! harness leaking; [`front`] puts a plugin behind real HTTP as the
//! server's `/plugins/{id}` routes do; [`record`] stands between a real
//! server and a plugin and writes what passed as a suite; [`control`] lets
//! another program drive a live plugin over JSON lines. [`suite`] reads and
//! writes the files that drive it all; [`wire`] holds the protocol plumbing
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
