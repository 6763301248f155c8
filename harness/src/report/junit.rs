//! JUnit XML, the format CI systems (GitLab, GitHub, Jenkins) read: one
//! `<testsuite>` per suite, one `<testcase>` per case, with the same failure
//! details the console prints.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::console::failure_details;
use crate::run::{Outcome, RunReport};

pub fn junit_xml(report: &RunReport) -> String {
    let mut junit = Report::new("harness");
    junit.set_time(report.duration);
    for suite in &report.suites {
        let mut test_suite = TestSuite::new(suite.name.as_str());
        for case in &suite.cases {
            let status = match &case.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Failed => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let first = case.steps.iter().flat_map(|step| &step.mismatches).next();
                    let message = first.map_or_else(
                        || "failed".to_owned(),
                        |m| format!("{}: expected {}, actual {}", m.field, m.expected, m.actual),
                    );
                    status
                        .set_message(message)
                        .set_description(failure_details(case));
                    status
                }
                Outcome::UnexpectedPass => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message("listed as known to fail, but passed");
                    status
                }
                Outcome::KnownFailing => {
                    let mut status = TestCaseStatus::skipped();
                    status
                        .set_message("known failing")
                        .set_description(failure_details(case));
                    status
                }
                Outcome::NotRun { reason } | Outcome::Skipped { reason } => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(reason.as_str());
                    status
                }
            };
            let mut test_case = TestCase::new(case.name.as_str(), status);
            test_case
                .set_classname(case.suite.as_str())
                .set_time(case.duration);
            test_suite.add_test_case(test_case);
        }
        let output: Vec<String> = suite
            .output_tail
            .iter()
            .map(|line| format!("{:?} | {}", line.stream, line.text))
            .collect();
        if !output.is_empty() {
            test_suite.set_system_out(output.join("\n"));
        }
        junit.add_test_suite(test_suite);
    }
    if let Some(failure) = &report.launch_failure {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(failure.message.as_str());
        let mut test_suite = TestSuite::new(failure.suite.as_str());
        test_suite.add_test_case(TestCase::new("launch", status));
        junit.add_test_suite(test_suite);
    }
    junit
        .to_string()
        .expect("JUnit serialization into memory cannot fail")
}
