//! Outbreak response, written once for every backend: the functions here
//! gather, inside one unit of work, what the pure rules of
//! [`gridsweep_response`] need, ask them, and write what they answer
//! through the backend's [`IncidentTx`].

mod blocks;
mod chains;
mod decisions;
mod records;
mod respond;
mod views;

pub use decisions::{decide, propose};
pub use records::{complete_task, mark, note};
pub use respond::{needs_response, respond};
pub use views::{area_coverage, detail, report};

pub(crate) use blocks::*;
pub(crate) use chains::*;
pub(crate) use decisions::*;
pub(crate) use respond::*;

pub(crate) use chrono::{DateTime, Duration, Utc};
pub(crate) use gridsweep_domain::pipeline::{Outcome, TubeKind};
pub(crate) use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, AreaPath, PersonId};
pub(crate) use gridsweep_response::coverage::{Coverage, coverage};
pub(crate) use gridsweep_response::decide::{
    Chain, CompoundCoverage, DecisionFact, Facts, MemberFact, TubeTally, blockers, check_confirm,
    evaluate, hard_blockers, retest_status,
};
pub(crate) use gridsweep_response::reaction::{
    JoinInput, MemberInput, NewTask, PLAYBOOK_ACTOR, Reaction, grid_levels, incident_area, react,
    responsible_for, retest_tube_task, single_retest_task,
};
pub(crate) use gridsweep_response::report::{
    DecisionView, EntryView, IncidentData, IncidentInfo, MemberView, OrderView, Report, TaskView,
    TubeFact, TubeRole,
};
pub(crate) use gridsweep_response::stage2::replay;
pub(crate) use gridsweep_response::*;
pub(crate) use gridsweep_storage::incidents::{
    IncidentTx, PersonFact, PersonMark, PoolBlock, RoundTube,
};
pub(crate) use gridsweep_storage::pipeline::{Effect, Effects, NewRound, ResultRow, TubeRow};
pub(crate) use gridsweep_storage::{StoreError, StoreResult};
pub(crate) use serde::{Deserialize, Serialize};
pub(crate) use std::collections::{BTreeMap, BTreeSet};

/// A request to confirm or reject a proposed decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: i64,
    pub confirm: bool,
    pub by: String,
    pub role: Responder,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    /// Lifting while a controlled compound is below the playbook's
    /// coverage requirement: the reason command gives (recorded, shown in
    /// the report). Never passes people awaiting retests or open chains.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// The server's clock, when `at` must not lie after it (every request
    /// but a drill replay's); `None` lets a replay use its own clock.
    #[serde(default)]
    pub clock: Option<ServerClock>,
}

/// The server's clock as a time check sees it: `at` may lie at most
/// `skew_seconds` after `now` (devices' clocks drift a little).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerClock {
    pub now: DateTime<Utc>,
    pub skew_seconds: i64,
}

impl ServerClock {
    /// Refuses a time after the server's clock (plus skew).
    pub fn check(&self, at: DateTime<Utc>) -> Result<(), ResponseError> {
        if at > self.now + Duration::seconds(self.skew_seconds) {
            return Err(ResponseError::TimeAfterServerClock {
                at: at.to_rfc3339(),
                server: self.now.to_rfc3339(),
                skew_seconds: self.skew_seconds,
            });
        }
        Ok(())
    }
}

/// A decision someone proposes by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManualProposal {
    pub kind: DecisionKind,
    pub person: Option<PersonId>,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The server's clock `at` must not lie after (none for a replay).
    #[serde(default)]
    pub clock: Option<ServerClock>,
}

/// A line someone adds to the timeline: a grid level reporting in place
/// (`mobilised`, text starting with the role's words) or a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewNote {
    pub kind: TimelineKind,
    pub text: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// An incident with everything recorded on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub info: IncidentInfo,
    pub members: Vec<MemberView>,
    pub orders: Vec<OrderView>,
    pub tasks: Vec<TaskView>,
    pub decisions: Vec<DecisionView>,
    pub timeline: Vec<EntryView>,
    pub tubes: Vec<(String, TubeRole)>,
    pub children: Vec<i64>,
    /// What still stands between the incident and the all-clear.
    pub blockers: Vec<String>,
}

pub(crate) type Refused<T> = Result<T, ResponseError>;

macro_rules! rule {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}
pub(crate) use rule;

pub(crate) fn ids_of(path: &AreaPath) -> Vec<AreaId> {
    path.ids()
}

pub(crate) fn path_of(ids: &[AreaId]) -> Option<AreaPath> {
    let (first, rest) = ids.split_first()?;
    let mut p = AreaPath::root(*first);
    for id in rest {
        p = p.child(*id);
    }
    Some(p)
}

pub(crate) fn chains(
    tx: &mut dyn IncidentTx,
    paths: &[&AreaPath],
) -> StoreResult<BTreeMap<AreaId, AreaBrief>> {
    let ids: BTreeSet<AreaId> = paths.iter().flat_map(|p| ids_of(p)).collect();
    let ids: Vec<AreaId> = ids.into_iter().collect();
    Ok(tx
        .area_briefs(&ids)?
        .into_iter()
        .map(|(a, _)| (a.id, a))
        .collect())
}

pub(crate) fn chain_of(path: &AreaPath, areas: &BTreeMap<AreaId, AreaBrief>) -> Vec<AreaBrief> {
    ids_of(path)
        .iter()
        .filter_map(|id| areas.get(id).cloned())
        .collect()
}

pub(crate) fn entry(
    tx: &mut dyn IncidentTx,
    incident: i64,
    at: DateTime<Utc>,
    actor: &str,
    kind: TimelineKind,
    text: String,
) -> StoreResult<()> {
    tx.insert_entry(&EntryView {
        incident,
        at,
        actor: actor.to_string(),
        kind,
        text,
    })
}
