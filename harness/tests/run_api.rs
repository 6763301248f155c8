//! `harness::run` as a library: what it returns is data (a `RunReport`),
//! checked here field by field rather than through console text.

mod common;

use harness::{
    run::{self, Outcome, RunOptions, Silent, StepOutcome},
    suite::{self, Origin},
};

fn suite(text: &str) -> suite::Suite {
    suite::parse(Origin::Builtin("inline.json"), text).expect("the inline suite is valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_suites_pass_against_rust_reference_as_data() {
    let target = common::rust_reference_target();
    let report = run::run(
        &target,
        &suite::builtin(),
        &RunOptions::default(),
        &mut Silent,
    )
    .await;
    assert!(
        report.launch_failure.is_none(),
        "{:?}",
        report.launch_failure
    );
    assert!(!report.interrupted);
    assert_eq!(report.suites.len(), suite::builtin().len());
    assert_eq!(report.count(Outcome::is_failed), 0);
    let passed = report.count(|outcome| *outcome == Outcome::Passed);
    assert!(passed > 40, "{passed} cases passed");
    assert_eq!(report.plugin.runtime, "native");
    assert!(
        report
            .plugin
            .implemented
            .iter()
            .any(|hook| hook == "OnActivate")
    );
    for suite in &report.suites {
        assert!(
            suite
                .exit
                .as_deref()
                .is_some_and(|exit| exit.contains("after SIGTERM")),
            "{}: {:?}",
            suite.name,
            suite.exit
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_reported_with_its_mismatch_and_transcript() {
    let target = common::rust_reference_target();
    let suites = [suite(
        r#"{"name": "data", "cases": [
            {"name": "wrong-expectation", "steps": [
                {"hook": "MessageWillBePosted",
                 "request": {"post": {"message": "hi", "channel_id": "c", "user_id": "u"}},
                 "expect": {"outcome": "dismiss"}}]},
            {"name": "after", "steps": [{"health": {}}]}
        ]}"#,
    )];
    let report = run::run(&target, &suites, &RunOptions::default(), &mut Silent).await;
    let cases: Vec<_> = report.cases().collect();
    assert_eq!(cases.len(), 2);
    let failed = cases[0];
    assert_eq!(failed.outcome, Outcome::Failed);
    let step = &failed.steps[0];
    assert_eq!(step.outcome, StepOutcome::Failed);
    assert_eq!(step.mismatches[0].field, "outcome");
    assert!(
        !failed.transcript.is_empty(),
        "a failed case keeps its wire transcript"
    );
    // A failed answer is not a death: the next case runs.
    assert_eq!(cases[1].outcome, Outcome::Passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_fails_to_activate_runs_no_case() {
    let target = common::rust_reference_target();
    let mut options = RunOptions::default();
    options.launch.extra_args = vec!["--fault".into(), "crash:OnActivate".into()];
    let report = run::run(
        &target,
        &[suite(
            r#"{"name": "data", "cases": [{"name": "one", "steps": [{"health": {}}]}]}"#,
        )],
        &options,
        &mut Silent,
    )
    .await;
    let suite = &report.suites[0];
    // The connection broke mid-call: grpc-go's name for it.
    assert!(
        suite.notes[0].starts_with("OnActivate failed: UNAVAILABLE"),
        "{:?}",
        suite.notes
    );
    assert!(matches!(suite.cases[0].outcome, Outcome::NotRun { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_stops_at_its_first_failing_step_unless_told_to_go_on() {
    let target = common::rust_reference_target();
    let failing_step = r#"{"hook": "MessageWillBePosted",
        "request": {"post": {"message": "hi", "channel_id": "c", "user_id": "u"}},
        "expect": {"outcome": "dismiss"}}"#;
    let suites = [suite(&format!(
        r#"{{"name": "data", "cases": [
            {{"name": "stops", "steps": [{failing_step}, {failing_step}]}},
            {{"name": "goes-on", "continue_on_failure": true,
              "steps": [{failing_step}, {failing_step}, {{"health": {{}}}}]}}
        ]}}"#
    ))];
    let report = run::run(&target, &suites, &RunOptions::default(), &mut Silent).await;
    let cases: Vec<_> = report.cases().collect();
    assert_eq!(cases[0].steps.len(), 1);
    let outcomes: Vec<StepOutcome> = cases[1].steps.iter().map(|step| step.outcome).collect();
    assert_eq!(
        outcomes,
        [
            StepOutcome::Failed,
            StepOutcome::Failed,
            StepOutcome::Passed
        ]
    );
    assert_eq!(cases[1].outcome, Outcome::Failed);
}
