//! The plugin as a fuzz run sees it: launched (and activated, as the
//! server does) on first use, torn down after a crash and launched again
//! on the next call, deactivated and stopped at the end.

use std::time::Duration;

use super::{
    properties::{self, Checks, Failure, FailureKind},
    report::{Mode, Request},
    runner::{FuzzOptions, Fuzzed},
};
use crate::{
    launch::{CapturedLine, PluginTarget},
    session::{Session, SessionError},
};

/// The plugin as the run sees it: launched on first use, relaunched on
/// the next call after a crash.
pub(super) struct Live<'a> {
    target: &'a PluginTarget,
    options: &'a FuzzOptions,
    session: Option<Session>,
    pub(super) launches: u64,
    pub(super) crashes: u64,
    /// What the plugin wrote during the latest call.
    pub(super) call_output: Vec<CapturedLine>,
}

impl<'a> Live<'a> {
    pub(super) fn new(target: &'a PluginTarget, options: &'a FuzzOptions) -> Live<'a> {
        Live {
            target,
            options,
            session: None,
            launches: 0,
            crashes: 0,
            call_output: Vec::new(),
        }
    }

    /// The running session, launched (and activated, as the server does)
    /// if there is none.
    pub(super) async fn session(&mut self) -> Result<&mut Session, String> {
        if self.session.is_none() {
            let session = Session::start(self.target, None, &self.options.launch)
                .await
                .map_err(|err| match &err {
                    SessionError::Launch(failure) => {
                        let output: Vec<String> = failure
                            .output_tail
                            .iter()
                            .map(|line| format!("  | {}", line.text))
                            .collect();
                        format!("{err}\n{}", output.join("\n"))
                            .trim_end()
                            .to_owned()
                    }
                    _ => err.to_string(),
                })?;
            self.launches += 1;
            if let Err(failure) = session.activate(self.options.deadline).await {
                session.stop(Duration::ZERO).await;
                return Err(format!("the plugin failed to activate: {failure}"));
            }
            self.session = Some(session);
        }
        Ok(self.session.as_mut().expect("set above"))
    }

    /// Runs one request; the outer error means the plugin could not be
    /// (re)started.
    pub(super) async fn check(
        &mut self,
        fuzzed: &Fuzzed,
        request: &Request,
    ) -> Result<Result<(), Failure>, String> {
        let checks = Checks {
            spec: &self.options.spec,
            deadline: self.options.deadline,
        };
        let session = self.session().await?;
        let call_started = session.plugin.process.spawned_at().elapsed();
        let outcome = match (fuzzed.mode, request) {
            (Mode::Unary, Request::Encoded(bytes)) => {
                properties::check_unary(session, &fuzzed.hook, bytes, checks).await
            }
            (Mode::Raw, Request::Encoded(bytes)) => {
                properties::check_raw(session, &fuzzed.hook, bytes, checks).await
            }
            (Mode::Http, Request::Http(case)) => {
                properties::check_http(session, case, checks).await
            }
            _ => unreachable!("each mode generates its own kind of request"),
        };
        let crashed = matches!(&outcome, Err(f) if matches!(f.kind, FailureKind::Crashed(_)));
        let session = self.session.as_mut().expect("the call ran in it");
        if crashed {
            // A traceback may still be on its way through the pipe.
            session.plugin.process.settle_output().await;
        }
        if outcome.is_err() {
            self.call_output = session
                .plugin
                .process
                .output()
                .tail(None, 12)
                .into_iter()
                .filter(|line| line.at >= call_started)
                .collect();
        }
        if crashed {
            self.crashes += 1;
            let dead = self.session.take().expect("checked above");
            dead.stop(Duration::ZERO).await;
        }
        Ok(outcome)
    }

    /// `OnDeactivate`, as the server calls it, then SIGTERM and the grace period.
    pub(super) async fn stop(&mut self) {
        if let Some(session) = self.session.take() {
            // The server logs a failed OnDeactivate and stops the plugin anyway.
            let _ = session.deactivate(self.options.deadline).await;
            session.stop(self.options.grace).await;
        }
    }
}
