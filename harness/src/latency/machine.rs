//! What the numbers were measured on. Latencies mean little without the
//! machine: CPU, cores, kernel, and for Python plugins the interpreter and
//! grpcio versions, which move the figures more than anything else.

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    /// Logical CPUs this process may run on.
    pub cores: usize,
    pub kernel: String,
    pub os: String,
    pub memory_mib: u64,
    /// The Python that runs the plugin (or `python3` on PATH for a native
    /// plugin), if any.
    pub python: Option<String>,
    pub grpcio: Option<String>,
    /// "release" or "debug": a debug harness measures itself, mostly.
    pub harness_build: String,
}

impl Machine {
    /// The same hardware, system and harness build: what makes figures
    /// comparable. (Python versions belong to the plugins measured.)
    pub fn same_host(&self, other: &Machine) -> bool {
        self.key() == other.key()
    }

    /// What identifies the host in a history: CPU, cores, kernel, OS,
    /// memory and the harness's build. Python and grpcio are the plugin's.
    pub fn key(&self) -> String {
        format!(
            "{} × {} | {} | {} | {} MiB | {}",
            self.cpu_model, self.cores, self.kernel, self.os, self.memory_mib, self.harness_build
        )
    }

    pub fn one_line(&self) -> String {
        let python = match (&self.python, &self.grpcio) {
            (Some(python), Some(grpcio)) => format!(", Python {python}, grpcio {grpcio}"),
            (Some(python), None) => format!(", Python {python} (no grpcio)"),
            _ => String::new(),
        };
        format!(
            "{} ({} cores, {} MiB), {}, Linux {}{python}, {} harness",
            self.cpu_model, self.cores, self.memory_mib, self.os, self.kernel, self.harness_build
        )
    }
}

/// Describes this machine; `python` is the interpreter to ask for its and
/// grpcio's versions.
pub async fn describe(python: &Path) -> Machine {
    let (python, grpcio) = python_versions(python).await;
    Machine {
        cpu_model: cpu_model(),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        kernel: read_trimmed("/proc/sys/kernel/osrelease"),
        os: os_name(),
        memory_mib: memory_mib(),
        python,
        grpcio,
        harness_build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            // x86 says "model name"; some ARM kernels only "Hardware" or "Model".
            matches!(key.trim(), "model name" | "Model" | "Hardware")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

fn memory_mib() -> u64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    info.lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

/// Asks `python` for its version, then grpcio's (each `None` when missing).
async fn python_versions(python: &Path) -> (Option<String>, Option<String>) {
    const SCRIPT: &str = "import sys\nprint(sys.version.split()[0], flush=True)\nimport grpc\nprint(grpc.__version__)";
    let mut command = tokio::process::Command::new(python);
    command
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let Ok(Ok(output)) = tokio::time::timeout(Duration::from_secs(10), command.output()).await
    else {
        return (None, None);
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    (
        lines.next().map(str::to_owned),
        lines.next().map(str::to_owned),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn this_machine_is_described() {
        let machine = describe(Path::new("/nonexistent/python")).await;
        assert!(machine.cores >= 1);
        assert!(!machine.cpu_model.is_empty());
        assert_ne!(machine.kernel, "");
        assert_eq!((machine.python, machine.grpcio), (None, None));
        assert!(Machine::default().one_line().contains("harness"));
    }
}
