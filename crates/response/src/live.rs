//! An open incident as the command dashboard shows it: how many members
//! have their retest back, what the lab still owes, how far each
//! controlled compound's full-coverage sampling has come, and which
//! decisions wait for a person. Built from the report, the task and
//! decision lists and the coverage of each controlled compound, so the
//! dashboard and the report can never disagree.

use crate::coverage::Tally;
use crate::model::{AreaBrief, DecisionStatus, TaskStatus};
use crate::report::{Counts, DecisionView, IncidentInfo, Report, RetestCounts, TaskView};
use serde::{Deserialize, Serialize};

/// One compound under static control and its coverage over the incident's
/// rounds (sampled in the expansion or retest round, or accounted for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompoundCoverage {
    pub area: AreaBrief,
    pub tally: Tally,
    /// Sampled or explained, 0–1.
    pub covered_share: f64,
}

/// The dashboard's line for one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub incident: IncidentInfo,
    /// Pool members and how their single-tube retests stand.
    pub retests: RetestCounts,
    /// Members whose retest is back (`members − pending`).
    pub retested: u64,
    /// Tubes with samples and no result yet.
    pub tubes_awaiting: u64,
    pub expansion: Counts,
    pub compounds: Vec<CompoundCoverage>,
    /// Decisions proposed and not yet confirmed or rejected.
    pub proposed: Vec<DecisionView>,
    pub tasks_open: u64,
    pub tasks_total: u64,
    /// What still stands between the incident and the all-clear.
    pub blockers: Vec<String>,
    pub time_to_all_clear: Option<String>,
}

/// Puts the dashboard line together. `compounds` are the controlled
/// compounds with their tallies over the incident's rounds, in the order
/// of control.
pub fn live(
    report: &Report,
    tasks: &[TaskView],
    decisions: &[DecisionView],
    blockers: Vec<String>,
    compounds: Vec<(AreaBrief, Tally)>,
) -> LiveStatus {
    LiveStatus {
        incident: report.incident.clone(),
        retests: report.retests,
        retested: report
            .retests
            .members
            .saturating_sub(report.retests.pending),
        tubes_awaiting: report.tubes_awaiting,
        expansion: report.expansion.clone(),
        compounds: compounds
            .into_iter()
            .map(|(area, tally)| CompoundCoverage {
                area,
                covered_share: tally.covered_share(),
                tally,
            })
            .collect(),
        proposed: decisions
            .iter()
            .filter(|d| d.status == DecisionStatus::Proposed)
            .cloned()
            .collect(),
        tasks_open: tasks
            .iter()
            .filter(|t| t.status != TaskStatus::Done)
            .count() as u64,
        tasks_total: tasks.len() as u64,
        blockers,
        time_to_all_clear: report.time_to_all_clear.clone(),
    }
}
