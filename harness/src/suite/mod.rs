//! Suites: JSON files of cases, each an ordered list of steps (hook calls
//! with their requests and expectations, health and lifecycle checks).
//! Requests are written in the proto3 JSON mapping, so a suite reads like
//! the wire. The README's "Suites" section documents the format.
//!
//! The format itself is [`file`](mod@file): types that both read and
//! write a suite file. [`parse`] reads text into them and builds the model
//! ([`Suite`]: validated, requests encoded, steps positioned);
//! [`write`](mod@write) turns the model back into them and prints them.

pub mod file;
mod known_failing;
mod load;
mod model;
mod redact;
mod refs;
pub mod write;

use bytes::Bytes;
use globset::{Glob, GlobSet, GlobSetBuilder};

pub use known_failing::KnownFailing;
pub use load::{SuiteError, load_path, parse};
pub use model::{
    Action, Activation, CallExpect, Case, ErrorExpect, HookExpect, HookStep, HttpBody, HttpExpect,
    HttpStep, Location, Origin, OutcomeExpect, OutputExpect, PluginErrors, Redaction, Selector,
    StatusExpect, Step, Suite, TextMatch,
};
pub use refs::{Ref, resolve_suite};

/// The suites every plugin gets, embedded in the binary: the lifecycle,
/// then one per hook family, each calling every hook of the family with a
/// realistic payload and checking the answer is well formed.
const BUILTIN: &[(&str, &str)] = &[
    ("lifecycle", include_str!("../../../suites/lifecycle.json")),
    ("messages", include_str!("../../../suites/messages.json")),
    (
        "users-channels-teams",
        include_str!("../../../suites/users-channels-teams.json"),
    ),
    ("commands", include_str!("../../../suites/commands.json")),
    ("system", include_str!("../../../suites/system.json")),
    (
        "serve-http",
        include_str!("../../../suites/serve-http.json"),
    ),
];

/// The built-in suites, parsed.
pub fn builtin() -> Vec<Suite> {
    BUILTIN
        .iter()
        .map(|(name, text)| parse(Origin::Builtin(name), text).expect("built-in suites are valid"))
        .collect()
}

/// Every hook step's hook and encoded request in `suites`, in order: the
/// realistic payloads soak and bench send.
pub fn hook_requests<'a>(suites: impl IntoIterator<Item = &'a Suite>) -> Vec<(String, Bytes)> {
    suites
        .into_iter()
        .flat_map(|suite| &suite.cases)
        .flat_map(|case| &case.steps)
        .filter_map(|step| match &step.action {
            Action::Hook(hook) => Some((hook.hook.clone(), hook.request.clone())),
            _ => None,
        })
        .collect()
}

/// Selects cases by `suite/case` name: included by any `--filter` glob (all
/// when none is given) and not excluded by a `--skip` glob.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl CaseFilter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<CaseFilter, globset::Error> {
        Ok(CaseFilter {
            include: glob_set(include)?,
            exclude: glob_set(exclude)?,
        })
    }

    pub fn selects(&self, suite: &str, case: &str) -> bool {
        let name = format!("{suite}/{case}");
        self.include.as_ref().is_none_or(|set| set.is_match(&name))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(&name))
    }
}

fn glob_set(patterns: &[String]) -> Result<Option<GlobSet>, globset::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // A pattern without `/` names a suite or a case on its own.
        let pattern = if pattern.contains('/') {
            pattern.clone()
        } else {
            format!("{{{pattern},{pattern}/*,*/{pattern}}}")
        };
        builder.add(Glob::new(&pattern)?);
    }
    builder.build().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_suites_parse() {
        let suites = builtin();
        let names: Vec<&str> = suites.iter().map(|suite| suite.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lifecycle",
                "messages",
                "users-channels-teams",
                "commands",
                "system",
                "serve-http"
            ]
        );
        // Every unary hook is called by some built-in suite.
        let called: std::collections::HashSet<&str> = suites
            .iter()
            .flat_map(|suite| &suite.cases)
            .flat_map(|case| &case.steps)
            .filter_map(|step| match &step.action {
                Action::Hook(hook) => Some(hook.hook.as_str()),
                _ => None,
            })
            .collect();
        for hook in crate::hooks::hook_names() {
            if hook != "Implemented" && hook != "ServeHTTP" {
                assert!(
                    called.contains(hook.as_str()),
                    "no built-in suite calls {hook}"
                );
            }
        }
    }

    #[test]
    fn filters_match_suite_case_names() {
        let filter = CaseFilter::new(&["lifecycle/act*".into()], &[]).unwrap();
        assert!(filter.selects("lifecycle", "activate"));
        assert!(!filter.selects("lifecycle", "health"));
        let by_suite = CaseFilter::new(&["lifecycle".into()], &["*/shutdown".into()]).unwrap();
        assert!(by_suite.selects("lifecycle", "health"));
        assert!(!by_suite.selects("lifecycle", "shutdown"));
        assert!(!by_suite.selects("other", "health"));
        let by_case = CaseFilter::new(&["health".into()], &[]).unwrap();
        assert!(by_case.selects("lifecycle", "health"));
        assert!(CaseFilter::new(&["[".into()], &[]).is_err());
    }
}
