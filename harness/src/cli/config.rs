//! `harness.toml`: the settings `harness run` and `harness gate` take from a
//! file, as cargo-nextest takes its own from `.config/nextest.toml`.
//!
//! The file is found upward from the current directory, or named with
//! `--config`. Its top-level sections are the defaults; a `[profile.NAME]`
//! section, chosen with `--profile NAME`, overrides them field by field.
//! Paths in it are relative to the file's directory. A flag given on the
//! command line wins over both.
//!
//! ```toml
//! [run]
//! jobs = 2
//! timeout = "30s"
//! fail-on-plugin-errors = true
//!
//! [[plugin]]
//! path = "plugins/hello"
//! suites = ["plugins/hello/suites"]
//!
//! [profile.ci.run]
//! ci = true
//! ```

use std::{
    collections::BTreeMap,
    fmt::Display,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use anyhow::{Context, bail};
use harness::latency::Stat;
use serde::{Deserialize, Deserializer};

/// The name the file is looked for under.
pub const FILE_NAME: &str = "harness.toml";

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    // The fields of `Settings`, spelt out: serde cannot refuse unknown
    // keys of a flattened struct.
    #[serde(default)]
    run: RunSettings,
    #[serde(default)]
    output: OutputSettings,
    #[serde(default)]
    bench: BenchSettings,
    #[serde(default)]
    drift: DriftSettings,
    #[serde(default)]
    plugin: Vec<PluginEntry>,
    #[serde(default)]
    profile: BTreeMap<String, Settings>,
}

/// What the defaults and each profile may set.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub run: RunSettings,
    #[serde(default)]
    pub output: OutputSettings,
    #[serde(default)]
    pub bench: BenchSettings,
    #[serde(default)]
    pub drift: DriftSettings,
}

/// How suites run: the flags of `harness run`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunSettings {
    pub jobs: Option<usize>,
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub start_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub grace: Option<Duration>,
    pub no_builtin: Option<bool>,
    pub filter: Option<Vec<String>>,
    pub skip: Option<Vec<String>>,
    pub known_failing: Option<PathBuf>,
    pub fail_on_plugin_errors: Option<bool>,
    /// Snapshot CI mode: new or changed snapshots fail.
    pub ci: Option<bool>,
    pub verbose: Option<bool>,
    /// `--update-snapshots`: on the command line only.
    #[serde(skip)]
    pub update_snapshots: bool,
    /// `--partition`: on the command line only, each CI machine its own.
    #[serde(skip)]
    pub partition: Option<harness::run::Partition>,
    /// `--frozen-clock`: on the command line only.
    #[serde(skip)]
    pub frozen_clock: Option<std::time::SystemTime>,
}

/// Where results are written. In `json` and `junit`, `{plugin}` stands
/// for the plugin's id, so the gate writes one file per plugin.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutputSettings {
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub bench_dir: Option<PathBuf>,
}

/// The gate's latency check: the flags of `harness bench`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchSettings {
    /// The plugin to measure (a path; default: the first `[[plugin]]`).
    pub plugin: Option<PathBuf>,
    /// Leave the bench out of the gate.
    pub skip: Option<bool>,
    pub hooks: Option<String>,
    pub api: Option<String>,
    pub calls: Option<u64>,
    #[serde(default, deserialize_with = "duration")]
    pub duration: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub warmup: Option<Duration>,
    pub rounds: Option<u64>,
    #[serde(default, deserialize_with = "duration")]
    pub budget: Option<Duration>,
    #[serde(default, deserialize_with = "parsed")]
    pub percentile: Option<Stat>,
    pub baseline: Option<PathBuf>,
    /// The reference plugin, or `none`.
    pub floor: Option<String>,
}

/// The gate's drift check.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DriftSettings {
    /// The SDK's protocol, as `harness proto diff` takes it.
    pub source: Option<PathBuf>,
    /// Also write the differences as JSON here.
    pub json: Option<PathBuf>,
}

/// A plugin the gate runs, with what to pass it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PluginEntry {
    pub path: PathBuf,
    /// Arguments passed on to the plugin executable.
    #[serde(default)]
    pub args: Vec<String>,
    /// Its own suite files or directories, run after the built-in ones.
    #[serde(default)]
    pub suites: Vec<PathBuf>,
    /// Its known-failing list, over `run.known-failing`.
    pub known_failing: Option<PathBuf>,
}

/// The settings in force: the defaults with the chosen profile over them.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file they came from, if any.
    pub path: Option<PathBuf>,
    pub profile: Option<String>,
    pub settings: Settings,
    pub plugins: Vec<PluginEntry>,
}

impl Config {
    /// `--config FILE`, or `harness.toml` found upward from the current
    /// directory, or no file at all; then `--profile NAME` over it.
    pub fn find(explicit: Option<&Path>, profile: Option<&str>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(path) => Some(path.to_owned()),
            None => {
                let cwd = std::env::current_dir().context("cannot read the current directory")?;
                cwd.ancestors()
                    .map(|dir| dir.join(FILE_NAME))
                    .find(|candidate| candidate.is_file())
            }
        };
        match path {
            Some(path) => Config::load(&path, profile),
            None if profile.is_some() => {
                bail!(
                    "--profile needs a {FILE_NAME}: none was found here or above, and no --config was given"
                )
            }
            None => Ok(Config::default()),
        }
    }

    pub fn load(path: &Path, profile: Option<&str>) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut file: ConfigFile =
            toml::from_str(&text).map_err(|err| anyhow::anyhow!(positioned(path, &text, &err)))?;
        let mut settings = Settings {
            run: file.run,
            output: file.output,
            bench: file.bench,
            drift: file.drift,
        };
        if let Some(name) = profile {
            let Some(chosen) = file.profile.remove(name) else {
                let known: Vec<String> = file.profile.keys().cloned().collect();
                let hint = harness::wire::closest_name(name, known.iter().cloned())
                    .map(|close| format!(", did you mean `{close}`?"))
                    .unwrap_or_default();
                bail!(
                    "{}: no profile `{name}`{hint} (profiles: {})",
                    path.display(),
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                );
            };
            settings.overlay(chosen);
        }
        let base = path.parent().unwrap_or(Path::new("."));
        settings.rebase(base);
        for plugin in &mut file.plugin {
            plugin.path = base.join(&plugin.path);
            for suite in &mut plugin.suites {
                *suite = base.join(&*suite);
            }
            rebase(&mut plugin.known_failing, base);
        }
        Ok(Config {
            path: Some(path.to_owned()),
            profile: profile.map(str::to_owned),
            settings,
            plugins: file.plugin,
        })
    }

    /// The `[[plugin]]` entry for a plugin named on the command line.
    pub fn plugin_entry(&self, plugin: &Path) -> Option<&PluginEntry> {
        let wanted = plugin.canonicalize().ok()?;
        self.plugins
            .iter()
            .find(|entry| entry.path.canonicalize().ok().as_ref() == Some(&wanted))
    }
}

/// Sets every field `top` sets.
macro_rules! overlay {
    ($base:expr, $top:expr; $($field:ident),+ $(,)?) => {
        $( if $top.$field.is_some() { $base.$field = $top.$field; } )+
    };
}

impl Settings {
    /// Sets every field `top` sets: a profile over the defaults, flags over the file.
    pub fn overlay(&mut self, top: Settings) {
        let (run, output, bench, drift) = (top.run, top.output, top.bench, top.drift);
        overlay!(self.run, run; jobs, timeout, start_timeout, grace, no_builtin, filter, skip,
            known_failing, fail_on_plugin_errors, ci, verbose, frozen_clock);
        self.run.update_snapshots |= run.update_snapshots;
        if run.partition.is_some() {
            self.run.partition = run.partition;
        }
        overlay!(self.output, output; json, junit, bench_dir);
        overlay!(self.bench, bench; plugin, skip, hooks, api, calls, duration, warmup, rounds,
            budget, percentile, baseline, floor);
        overlay!(self.drift, drift; source, json);
    }

    /// Makes the file's relative paths relative to its directory.
    fn rebase(&mut self, base: &Path) {
        for path in [
            &mut self.run.known_failing,
            &mut self.output.json,
            &mut self.output.junit,
            &mut self.output.bench_dir,
            &mut self.bench.plugin,
            &mut self.bench.baseline,
            &mut self.drift.source,
            &mut self.drift.json,
        ] {
            rebase(path, base);
        }
        if let Some(floor) = &mut self.bench.floor
            && floor != "none"
        {
            *floor = base.join(&*floor).display().to_string();
        }
    }
}

fn rebase(path: &mut Option<PathBuf>, base: &Path) {
    if let Some(path) = path {
        *path = base.join(&*path);
    }
}

/// `file:line:column: message`, with a did-you-mean for an unknown key.
fn positioned(path: &Path, text: &str, err: &toml::de::Error) -> String {
    let (line, column) = match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.chars().count()
                - before
                    .rfind('\n')
                    .map_or(0, |at| before[..=at].chars().count())
                + 1;
            (line, column)
        }
        None => (1, 1),
    };
    let message = err.message().trim_end();
    format!(
        "{}:{line}:{column}: {message}{}",
        path.display(),
        unknown_key_hint(message)
    )
}

/// For serde's "unknown field `X`, expected one of `A`, `B`": the closest of
/// the expected names to `X`.
fn unknown_key_hint(message: &str) -> String {
    if !message.starts_with("unknown field") {
        return String::new();
    }
    let mut quoted = message.split('`').skip(1).step_by(2);
    let Some(unknown) = quoted.next() else {
        return String::new();
    };
    harness::wire::closest_name(unknown, quoted.map(str::to_owned))
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default()
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map(Some).map_err(|err| {
        serde::de::Error::custom(format!("{text:?} is not a duration like \"30s\": {err}"))
    })
}

fn parsed<'de, D: Deserializer<'de>, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: FromStr,
    T::Err: Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, profile: Option<&str>) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        Config::load(&path, profile)
    }

    #[test]
    fn a_profile_overrides_the_defaults_field_by_field() {
        let text = "[run]\njobs = 3\ntimeout = \"2s\"\n[profile.ci.run]\njobs = 1\nci = true\n";
        let defaults = load(text, None).unwrap().settings.run;
        assert_eq!(defaults.jobs, Some(3));
        assert_eq!(defaults.ci, None);
        let ci = load(text, Some("ci")).unwrap().settings.run;
        assert_eq!(ci.jobs, Some(1));
        assert_eq!(ci.ci, Some(true));
        assert_eq!(ci.timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn an_unknown_key_is_positioned_with_a_suggestion() {
        let err = load("[run]\njobs = 2\nfail-on-plugin-error = true\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("harness.toml:3:1: unknown field `fail-on-plugin-error`"),
            "{err}"
        );
        assert!(
            err.contains("did you mean `fail-on-plugin-errors`?"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_and_profiles_are_named() {
        let err = load("[bench]\nbudget = \"fast\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2:10:"), "{err}");
        assert!(err.contains("\"fast\" is not a duration"), "{err}");
        let err = load("[profile.ci.run]\njobs = 1\n", Some("cj"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no profile `cj`, did you mean `ci`?"), "{err}");
    }

    #[test]
    fn paths_are_relative_to_the_file() {
        let config = load("[[plugin]]\npath = \"p\"\nsuites = [\"s\"]\n", None).unwrap();
        let dir = config.path.as_ref().unwrap().parent().unwrap();
        assert_eq!(config.plugins[0].path, dir.join("p"));
        assert_eq!(config.plugins[0].suites, vec![dir.join("s")]);
    }
}
