//! The plugin's operating-system process: spawned in a process group of its
//! own, so that the group (grandchildren included) can always be reaped,
//! whether the run passed, failed or was interrupted.

use std::{
    os::fd::{AsFd, OwnedFd},
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use tokio::process::{Child, Command};

use super::{
    output::{FirstLine, OutputLog, Stream},
    target::CommandLine,
};

/// A running plugin process and the capture of its output.
#[derive(Debug)]
pub struct PluginProcess {
    child: Child,
    group: Pid,
    spawned_at: Instant,
    output: OutputLog,
    readers: Vec<tokio::task::JoinHandle<()>>,
    /// Second handles on the read ends of stdout and stderr, to ask how
    /// much the plugin has written that the readers have not taken yet.
    pipes: Vec<OwnedFd>,
    exit: Option<ExitStatus>,
}

/// How the process ended when asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It exited by itself (after SIGTERM when one was sent).
    Exited { status: ExitStatus, after: Duration },
    /// It outlived the grace period and was killed.
    Killed { grace: Duration },
}

impl PluginProcess {
    /// Spawns `command` with `env` added to the harness's own environment.
    /// Returns the process and a receiver for the first line of stdout.
    pub fn spawn(
        command: &CommandLine,
        env: &[(String, String)],
    ) -> std::io::Result<(PluginProcess, tokio::sync::oneshot::Receiver<FirstLine>)> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .current_dir(&command.cwd)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let spawned_at = Instant::now();
        let pid = child.id().expect("a just-spawned child has a pid");
        let output = OutputLog::new(spawned_at);
        let (first_line_tx, first_line_rx) = tokio::sync::oneshot::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let pipes = vec![
            stdout.as_fd().try_clone_to_owned()?,
            stderr.as_fd().try_clone_to_owned()?,
        ];
        let readers = vec![
            tokio::spawn(
                output
                    .clone()
                    .capture(Stream::Stdout, stdout, Some(first_line_tx)),
            ),
            tokio::spawn(output.clone().capture(Stream::Stderr, stderr, None)),
        ];
        let process = PluginProcess {
            child,
            group: Pid::from_raw(pid as i32),
            spawned_at,
            output,
            readers,
            pipes,
            exit: None,
        };
        Ok((process, first_line_rx))
    }

    pub fn pid(&self) -> u32 {
        self.group.as_raw() as u32
    }

    pub fn output(&self) -> &OutputLog {
        &self.output
    }

    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// Waits for the process to exit.
    pub async fn wait(&mut self) -> ExitStatus {
        if let Some(status) = self.exit {
            return status;
        }
        let status = match self.child.wait().await {
            Ok(status) => status,
            // Only possible if the child was already reaped elsewhere.
            Err(_) => std::os::unix::process::ExitStatusExt::from_raw(0),
        };
        self.exit = Some(status);
        status
    }

    /// The exit status, if the process has already exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// The exit status, if the process exits within `wait`. A plugin that
    /// crashed in a call may still be going down when the call fails.
    pub async fn exited_within(&mut self, wait: Duration) -> Option<ExitStatus> {
        match self.try_exit() {
            Some(status) => Some(status),
            None => tokio::time::timeout(wait, self.wait()).await.ok(),
        }
    }

    /// SIGTERM to the group, up to `grace` for the plugin to exit, then
    /// SIGKILL. The whole group is killed at the end in every case, so
    /// nothing the plugin started survives it.
    pub async fn terminate(&mut self, grace: Duration) -> Termination {
        let started = Instant::now();
        let outcome = if let Some(status) = self.try_exit() {
            Termination::Exited {
                status,
                after: Duration::ZERO,
            }
        } else {
            let _ = killpg(self.group, Signal::SIGTERM);
            match tokio::time::timeout(grace, self.wait()).await {
                Ok(status) => Termination::Exited {
                    status,
                    after: started.elapsed(),
                },
                Err(_) => Termination::Killed { grace },
            }
        };
        self.kill_group();
        self.wait().await;
        outcome
    }

    /// SIGKILL to every process left in the group.
    pub fn kill_group(&self) {
        // ESRCH (the group is already empty) is the common, expected case.
        let _ = killpg(self.group, Signal::SIGKILL);
    }

    /// Waits until the readers have taken in everything the plugin has
    /// written so far (nothing unread in either pipe, nothing new seen
    /// twice in a row), so output can be attributed to the call during
    /// which it was written. Bounded: a plugin writing without pause is
    /// never caught up with.
    pub async fn catch_up_output(&self) {
        const BOUND: Duration = Duration::from_millis(200);
        const POLL: Duration = Duration::from_micros(250);
        let started = Instant::now();
        let mut seen = self.output.bytes_seen();
        let mut quiet = 0;
        while quiet < 2 && started.elapsed() < BOUND {
            tokio::time::sleep(POLL).await;
            let unread: u64 = self
                .pipes
                .iter()
                .map(|pipe| rustix::io::ioctl_fionread(pipe).unwrap_or(0))
                .sum();
            let now_seen = self.output.bytes_seen();
            quiet = if unread == 0 && now_seen == seen {
                quiet + 1
            } else {
                0
            };
            seen = now_seen;
        }
    }

    /// Gives the output readers a moment to reach the end of both pipes, so
    /// a diagnosis quotes the last thing the plugin said before it died. The
    /// wait is bounded: a surviving grandchild may hold the pipes open.
    pub async fn settle_output(&mut self) {
        let readers = std::mem::take(&mut self.readers);
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            for reader in readers {
                let _ = reader.await;
            }
        })
        .await;
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        // The safety net for every early return and for cancellation: the
        // group goes down with its handle. `kill_on_drop` then lets tokio
        // reap the leader in the background.
        self.kill_group();
    }
}
