//! The budget gate: every selected call's chosen statistic must be within
//! the budget, or the run fails, naming each call over it and by how much.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    histogram::{Stat, format_ns},
    report::{BenchReport, CallKind},
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub limit: Duration,
    pub stat: Stat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetVerdict {
    pub limit_ns: u64,
    pub stat: Stat,
    pub passed: bool,
    pub calls: Vec<CallVerdict>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallVerdict {
    pub call: String,
    pub value_ns: f64,
    /// Positive when over the budget.
    pub over_by_ns: f64,
    /// Share of the calls at or over the budget.
    pub share_over: f64,
    pub passed: bool,
    /// Why the call fails, for people.
    pub reason: Option<String>,
}

/// The calls a budget is about: the plugin's hooks and the API round trips
/// it sees. Floors and server-side service times are the harness's own.
pub fn is_gated(kind: CallKind) -> bool {
    matches!(kind, CallKind::Hook | CallKind::ApiPlugin)
}

pub fn judge(report: &BenchReport, budget: Budget) -> BudgetVerdict {
    let limit_ns = u64::try_from(budget.limit.as_nanos()).unwrap_or(u64::MAX);
    let calls: Vec<CallVerdict> = report
        .calls
        .iter()
        .filter(|call| is_gated(call.kind))
        .map(|call| {
            let name = call.key().to_string();
            if call.summary.count == 0 {
                return CallVerdict {
                    call: name,
                    value_ns: 0.0,
                    over_by_ns: 0.0,
                    share_over: 0.0,
                    passed: false,
                    reason: Some(format!(
                        "no successful call to judge ({} failed)",
                        call.errors
                    )),
                };
            }
            let value = call.histogram.get(budget.stat);
            let over_by = value - limit_ns as f64;
            let passed = over_by <= 0.0;
            let share_over =
                call.histogram.count_at_least(budget.limit) as f64 / call.summary.count as f64;
            CallVerdict {
                reason: (!passed).then(|| {
                    format!(
                        "{} {} is {} over the {} budget ({:.1}×; {:.1} % of calls over)",
                        budget.stat,
                        format_ns(value),
                        format_ns(over_by),
                        format_ns(limit_ns as f64),
                        value / limit_ns.max(1) as f64,
                        share_over * 100.0
                    )
                }),
                call: name,
                value_ns: value,
                over_by_ns: over_by,
                share_over,
                passed,
            }
        })
        .collect();
    BudgetVerdict {
        limit_ns,
        stat: budget.stat,
        passed: !calls.is_empty() && calls.iter().all(|verdict| verdict.passed),
        calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::report::tests::synthetic;

    #[test]
    fn calls_over_the_budget_fail_and_say_by_how_much() {
        // Uniform over [50, 100) µs.
        let report = synthetic("MessageWillBePosted", 50, 1.0, 2);
        let tight = judge(
            &report,
            Budget {
                limit: Duration::from_micros(60),
                stat: Stat::P99,
            },
        );
        assert!(!tight.passed);
        let reason = tight.calls[0].reason.as_deref().unwrap();
        assert!(reason.starts_with("p99 "), "{reason}");
        assert!(reason.contains("over the 60.0µs budget"), "{reason}");
        assert!(tight.calls[0].share_over > 0.7);
        let loose = judge(
            &report,
            Budget {
                limit: Duration::from_millis(1),
                stat: Stat::P99,
            },
        );
        assert!(loose.passed, "{loose:?}");
        // p50 is under 80 µs, p99 is not.
        let median = Budget {
            limit: Duration::from_micros(80),
            stat: Stat::P50,
        };
        assert!(judge(&report, median).passed);
    }

    #[test]
    fn a_call_with_no_successes_fails_the_gate() {
        let mut report = synthetic("MessageWillBePosted", 50, 1.0, 1);
        report.calls[0] = crate::latency::report::CallReport::new(
            "com.example.p",
            CallKind::Hook,
            "ExecuteCommand",
            None,
        );
        report.calls[0].errors = 3;
        let verdict = judge(
            &report,
            Budget {
                limit: Duration::from_secs(10),
                stat: Stat::P99,
            },
        );
        assert!(!verdict.passed);
        assert!(
            verdict.calls[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("3 failed")
        );
    }
}
