//! What the outbreak response stores, and the row-level operations a
//! backend provides for it inside one transaction: small traits by area
//! ([`RosterTx`], [`RoundRowsTx`], [`IncidentRowsTx`], [`ResponseWorkTx`])
//! joined by [`IncidentTx`]. The use cases that drive them live in the
//! engine crate.

use crate::StoreResult;
use crate::pipeline::{NewRound, PipelineTx, ResultRow, TubeRow};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, AreaPath, DocumentKind, PersonId};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::decide::TubeTally;
use gridsweep_response::report::{
    DecisionView, EntryView, IncidentInfo, MemberView, OrderView, SampleFact, TaskView, TubeRole,
};
use gridsweep_response::stage2::Block;
use gridsweep_response::*;
use serde::{Deserialize, Serialize};

/// A person as the response reads them from the roster; the document is
/// masked on the way out of the backend.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonFact {
    pub brief: PersonBrief,
    pub household: AreaId,
    pub household_path: AreaPath,
    pub affiliations: Vec<(AreaId, AffiliationKind)>,
}

/// Masks a stored document for the incident tables, which never hold a
/// full ID number.
pub fn mask_doc(kind: &str, number: &str) -> String {
    match DocumentKind::parse(kind) {
        Some(DocumentKind::ResidentId) => gridsweep_domain::mask_id_number(number),
        _ => gridsweep_domain::mask_document(number),
    }
}

/// A tube of an incident round with its site and current result.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTube {
    pub tube: TubeRow,
    pub result: Option<ResultRow>,
    pub site_name: String,
    pub site_path: AreaPath,
}

/// Why a person on the roster was not sampled in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonMark {
    pub round: i64,
    pub person: PersonId,
    pub kind: MarkKind,
    pub note: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// A non-negative pool whose members the playbook's stage-2 design (other
/// than single tubes) resolves. Kept so the decoder can be replayed over
/// the retest round as its tubes come back: a retest tube counts for the
/// decoder's tube with exactly the same persons.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolBlock {
    pub incident: i64,
    /// The non-negative pool that brought the members in.
    pub tube: String,
    pub block: Block,
    /// Per round asked after the pool (index 0 = stage 2), the task id of
    /// each tube the decoder asked for.
    pub tasks: Vec<Vec<Option<i64>>>,
    /// Every member cleared or flagged: nothing more to replay.
    pub complete: bool,
}

/// The row-level operations a backend provides for the response, inside
/// one transaction: every area's trait below, joined so the engine can take
/// one `&mut dyn IncidentTx`. Implemented for anything that implements the
/// parts; a backend implements those.
pub trait IncidentTx:
    PipelineTx + RosterTx + RoundRowsTx + IncidentRowsTx + ResponseWorkTx
{
}

impl<T> IncidentTx for T where
    T: PipelineTx + RosterTx + RoundRowsTx + IncidentRowsTx + ResponseWorkTx + ?Sized
{
}

/// The roster as the response reads it: who was in a tube, their
/// households, the areas around them, and who under an area was sampled.
pub trait RosterTx {
    fn tube_persons(&mut self, tube: &str) -> StoreResult<Vec<PersonId>>;
    fn person_facts(&mut self, ids: &[PersonId]) -> StoreResult<Vec<PersonFact>>;
    fn household_residents(&mut self, household: AreaId) -> StoreResult<Vec<PersonFact>>;
    /// Residents whose household lies under `path`, at most `limit`.
    fn residents_under(&mut self, path: &AreaPath, limit: u32) -> StoreResult<Vec<PersonFact>>;
    fn area_briefs(&mut self, ids: &[AreaId]) -> StoreResult<Vec<(AreaBrief, AreaPath)>>;
    /// Areas of `level` under `path`, by name.
    fn areas_under(&mut self, path: &AreaPath, level: AreaLevel) -> StoreResult<Vec<AreaBrief>>;
    /// Areas under `path` above household level (for coverage roll-ups).
    fn grid_areas_under(&mut self, path: &AreaPath) -> StoreResult<Vec<AreaBrief>>;
    /// A site's name and its area's path.
    fn site_place(&mut self, site: i64) -> StoreResult<Option<(String, AreaPath)>>;
    /// The roster under `path` with whether each person has a sample in
    /// `round` and any mark.
    fn roster_coverage(&mut self, path: &AreaPath, round: i64) -> StoreResult<Vec<RosterEntry>>;
}

/// The rounds the response opens and what came of them: their areas,
/// tubes, tallies and samples, and why a person was not sampled.
pub trait RoundRowsTx: PipelineTx {
    /// A tube as stored, read without locking it: the response looks at
    /// other tubes of an incident (their chains) while their own results
    /// may be arriving, and must not wait on them while holding the
    /// response lock (a backend whose [`PipelineTx::tube`] locks the row
    /// overrides this).
    fn peek_tube(&mut self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        self.tube(barcode)
    }
    fn insert_round(&mut self, r: &NewRound) -> StoreResult<i64>;
    fn add_round_area(&mut self, round: i64, area: AreaId) -> StoreResult<()>;
    /// Tubes of a round with their current results and sites.
    fn round_tubes(&mut self, round: i64) -> StoreResult<Vec<RoundTube>>;
    /// Tubes, resulted, non-negative in a round.
    fn round_tally(&mut self, round: i64) -> StoreResult<TubeTally>;
    fn tube_samples(&mut self, tubes: &[String]) -> StoreResult<Vec<SampleFact>>;
    fn round_samples(&mut self, round: i64) -> StoreResult<Vec<SampleFact>>;
    fn set_mark(&mut self, m: &PersonMark) -> StoreResult<()>;
    fn marks(&mut self, round: i64) -> StoreResult<Vec<PersonMark>>;
}

/// Incidents themselves: their ids and rows, how they nest, the tubes and
/// rounds that belong to them, and their members.
pub trait IncidentRowsTx {
    /// Serialises the response's units of work against each other: two
    /// results arriving together must not both open an incident for one
    /// community, nor both propose the same decision. A backend with a
    /// single writer (SQLite) has this already; PostgreSQL takes a
    /// transaction-scoped lock.
    fn serialize_responses(&mut self) -> StoreResult<()> {
        Ok(())
    }
    /// Next id of a named sequence (incident, order, task, decision).
    fn next_id(&mut self, kind: &str) -> StoreResult<i64>;
    fn insert_incident(&mut self, i: &IncidentInfo) -> StoreResult<()>;
    fn update_incident(&mut self, i: &IncidentInfo) -> StoreResult<()>;
    fn incident(&mut self, id: i64) -> StoreResult<Option<IncidentInfo>>;
    /// Every incident, newest first.
    fn incidents(&mut self) -> StoreResult<Vec<IncidentInfo>>;
    fn children_of(&mut self, parent: i64) -> StoreResult<Vec<i64>>;
    fn open_incident_for_area(&mut self, area: AreaId) -> StoreResult<Option<i64>>;
    fn incident_for_round(&mut self, round: i64) -> StoreResult<Option<(i64, RoundRole)>>;
    fn incident_of_tube(&mut self, tube: &str) -> StoreResult<Option<(i64, TubeRole)>>;
    fn insert_incident_tube(
        &mut self,
        incident: i64,
        tube: &str,
        role: TubeRole,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    fn incident_tubes(&mut self, incident: i64) -> StoreResult<Vec<(String, TubeRole)>>;
    fn insert_member(
        &mut self,
        incident: i64,
        m: &MemberView,
        household: AreaId,
    ) -> StoreResult<()>;
    fn set_member_status(
        &mut self,
        incident: i64,
        person: PersonId,
        status: MemberStatus,
    ) -> StoreResult<()>;
    fn members(&mut self, incident: i64) -> StoreResult<Vec<(MemberView, AreaId)>>;
}

/// The work an incident sets off and its record: orders, tasks, decisions,
/// the timeline, and the stage-2 pool blocks the decoder replays.
pub trait ResponseWorkTx {
    fn insert_order(&mut self, o: &OrderView) -> StoreResult<()>;
    fn update_order(&mut self, o: &OrderView) -> StoreResult<()>;
    fn orders(&mut self, incident: i64) -> StoreResult<Vec<OrderView>>;
    fn insert_task(&mut self, t: &TaskView) -> StoreResult<()>;
    fn update_task(&mut self, t: &TaskView) -> StoreResult<()>;
    fn tasks(&mut self, incident: i64) -> StoreResult<Vec<TaskView>>;
    fn insert_decision(&mut self, d: &DecisionView) -> StoreResult<()>;
    fn update_decision(&mut self, d: &DecisionView) -> StoreResult<()>;
    fn decisions(&mut self, incident: i64) -> StoreResult<Vec<DecisionView>>;
    fn insert_entry(&mut self, e: &EntryView) -> StoreResult<()>;
    fn timeline(&mut self, incident: i64) -> StoreResult<Vec<EntryView>>;
    fn insert_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()>;
    /// Rewrites a block's tasks and completeness.
    fn update_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()>;
    /// An incident's blocks, in the order they were planned.
    fn pool_blocks(&mut self, incident: i64) -> StoreResult<Vec<PoolBlock>>;
}
