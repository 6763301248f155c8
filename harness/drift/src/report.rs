//! The differences found, as a readable list and as JSON.

use std::fmt::Write as _;

use crate::rules::{Compatibility, Rule};

/// One difference between the harness's protocol and the SDK's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// The service, message or enum it is in: `message mattermost.pluginapi.v1.User`.
    pub group: String,
    /// What differs within the group: `method GetUser`, `field user_id`, `value ROLE_ADMIN`, or
    /// the group's own kind (`message`) when the whole of it is on one side only.
    pub item: String,
    /// What the harness has; `None` when it has nothing there.
    pub harness: Option<String>,
    /// What the SDK has; `None` when it has nothing there.
    pub sdk: Option<String>,
    pub rule: Rule,
    pub compatibility: Compatibility,
    /// What the difference means for the two peers.
    pub detail: String,
}

/// Totals over a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub differences: usize,
    pub wire_incompatible: usize,
    pub compatible: usize,
}

/// Every difference found in one package, grouped by service, message and enum.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub package: String,
    pub summary: Summary,
    pub differences: Vec<Difference>,
}

impl Report {
    pub(crate) fn new(package: &str, differences: Vec<Difference>) -> Report {
        let wire_incompatible = differences
            .iter()
            .filter(|difference| difference.compatibility == Compatibility::WireIncompatible)
            .count();
        Report {
            package: package.to_owned(),
            summary: Summary {
                differences: differences.len(),
                wire_incompatible,
                compatible: differences.len() - wire_incompatible,
            },
            differences,
        }
    }

    /// Whether any difference breaks the wire protocol.
    pub fn has_wire_incompatible(&self) -> bool {
        self.summary.wire_incompatible > 0
    }

    /// `N differences: X wire-incompatible, Y compatible`.
    pub fn summary_line(&self) -> String {
        let Summary {
            differences,
            wire_incompatible,
            compatible,
        } = self.summary;
        let noun = if differences == 1 {
            "difference"
        } else {
            "differences"
        };
        format!(
            "{differences} {noun}: {wire_incompatible} wire-incompatible, {compatible} compatible"
        )
    }

    /// The differences under their group headers, one line each, then the summary line.
    pub fn render_text(&self) -> String {
        let mut text = String::new();
        let mut current_group = None;
        for difference in &self.differences {
            if current_group != Some(&difference.group) {
                if current_group.is_some() {
                    text.push('\n');
                }
                let _ = writeln!(text, "{}", difference.group);
                current_group = Some(&difference.group);
            }
            let _ = writeln!(
                text,
                "  {}: harness {}, sdk {} -> {} ({}: {})",
                difference.item,
                side(&difference.harness),
                side(&difference.sdk),
                difference.compatibility,
                difference.rule,
                difference.detail,
            );
        }
        if !self.differences.is_empty() {
            text.push('\n');
        }
        text.push_str(&self.summary_line());
        text.push('\n');
        text
    }
}

fn side(value: &Option<String>) -> String {
    match value {
        Some(value) => format!("`{value}`"),
        None => "absent".to_owned(),
    }
}
