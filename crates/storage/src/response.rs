//! Outbreak response, written once for every backend (like
//! [`crate::pipeline`]): a backend exposes row-level primitives through
//! [`ResponseTx`] inside one transaction; the functions here gather what
//! the pure rules of [`gridsweep_response`] need, ask them, and write what
//! they answer.

use crate::pipeline::{Effect, Effects, NewRound, PipelineTx, ResultRow, TubeRow};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use gridsweep_domain::pipeline::{Outcome, TubeKind};
use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, AreaPath, DocumentKind, PersonId};
use gridsweep_response::coverage::{Coverage, RosterEntry, coverage};
use gridsweep_response::decide::{
    Chain, CompoundCoverage, DecisionFact, Facts, MemberFact, TubeTally, blockers, check_confirm,
    evaluate, hard_blockers, retest_status,
};
use gridsweep_response::reaction::{
    JoinInput, MemberInput, NewTask, PLAYBOOK_ACTOR, grid_levels, incident_area, react,
    responsible_for, retest_tube_task, single_retest_task,
};
use gridsweep_response::report::{
    DecisionView, EntryView, IncidentData, IncidentInfo, MemberView, OrderView, Report, SampleFact,
    TaskView, TubeFact, TubeRole,
};
use gridsweep_response::stage2::{Block, replay};
use gridsweep_response::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

/// The row-level operations a backend provides for the response.
pub trait ResponseTx: PipelineTx {
    /// Next id of a named sequence (incident, order, task, decision).
    fn next_id(&mut self, kind: &str) -> StoreResult<i64>;
    /// A tube as stored, read without locking it: the response looks at
    /// other tubes of an incident (their chains) while their own results
    /// may be arriving, and must not wait on them while holding the
    /// response lock (a backend whose [`PipelineTx::tube`] locks the row
    /// overrides this).
    fn peek_tube(&mut self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        self.tube(barcode)
    }
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
    fn insert_round(&mut self, r: &NewRound) -> StoreResult<i64>;
    fn add_round_area(&mut self, round: i64, area: AreaId) -> StoreResult<()>;
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
    /// Tubes of a round with their current results and sites.
    fn round_tubes(&mut self, round: i64) -> StoreResult<Vec<RoundTube>>;
    /// Tubes, resulted, non-negative in a round.
    fn round_tally(&mut self, round: i64) -> StoreResult<TubeTally>;
    fn tube_samples(&mut self, tubes: &[String]) -> StoreResult<Vec<SampleFact>>;
    fn round_samples(&mut self, round: i64) -> StoreResult<Vec<SampleFact>>;
    fn set_mark(&mut self, m: &PersonMark) -> StoreResult<()>;
    fn marks(&mut self, round: i64) -> StoreResult<Vec<PersonMark>>;
    /// The roster under `path` with whether each person has a sample in
    /// `round` and any mark.
    fn roster_coverage(&mut self, path: &AreaPath, round: i64) -> StoreResult<Vec<RosterEntry>>;
    fn insert_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()>;
    /// Rewrites a block's tasks and completeness.
    fn update_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()>;
    /// An incident's blocks, in the order they were planned.
    fn pool_blocks(&mut self, incident: i64) -> StoreResult<Vec<PoolBlock>>;
}

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

type Refused<T> = Result<T, ResponseError>;

macro_rules! rule {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

fn ids_of(path: &AreaPath) -> Vec<AreaId> {
    path.ids()
}

fn path_of(ids: &[AreaId]) -> Option<AreaPath> {
    let (first, rest) = ids.split_first()?;
    let mut p = AreaPath::root(*first);
    for id in rest {
        p = p.child(*id);
    }
    Some(p)
}

fn chains(
    tx: &mut dyn ResponseTx,
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

fn chain_of(path: &AreaPath, areas: &BTreeMap<AreaId, AreaBrief>) -> Vec<AreaBrief> {
    ids_of(path)
        .iter()
        .filter_map(|id| areas.get(id).cloned())
        .collect()
}

fn entry(
    tx: &mut dyn ResponseTx,
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

/// Reacts to a tube's current result: opens or joins an incident for a
/// non-negative tube, records a member's retest, and proposes whatever
/// the playbook would now decide. Idempotent: a second call for the same
/// result changes nothing.
pub fn respond(
    tx: &mut dyn ResponseTx,
    tube: &str,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let Some(t) = tx.tube(tube)? else {
        return Ok(vec![]);
    };
    let Some(res) = tx.current_result(tube)? else {
        return Ok(vec![]);
    };
    // The lab's clock, not the server's: a replayed or synced result
    // opens the incident at the time it was posted.
    let at = if res.posted_at > at {
        at
    } else {
        res.posted_at
    };
    let mut fx = Vec::new();
    match tx.incident_for_round(t.round)? {
        Some((inc, RoundRole::Retest)) => {
            if tx.incident_of_tube(tube)?.is_some() {
                return Ok(fx);
            }
            tx.insert_incident_tube(inc, tube, TubeRole::Retest, at)?;
            let in_tube = tx.tube_persons(tube)?;
            if in_tube.len() > 1 {
                // A pooled retest tube: it decides nobody by itself; the
                // decoder reads it with the rest of its round below.
                let names: Vec<String> = tx
                    .members(inc)?
                    .into_iter()
                    .filter(|(m, _)| in_tube.contains(&m.person.id))
                    .map(|(m, _)| m.person.name)
                    .collect();
                entry(
                    tx,
                    inc,
                    at,
                    &res.posted_by,
                    TimelineKind::Result,
                    format!(
                        "混管复核 {tube}（{} 人：{}）：{}",
                        in_tube.len(),
                        names.join("、"),
                        gridsweep_response::report::outcome_zh(res.outcome)
                    ),
                )?;
                fx.push(Effect::IncidentUpdated {
                    incident: inc,
                    what: format!("pooled retest {}", res.outcome.as_str()),
                });
                fx.extend(advance_blocks(tx, inc, at, &res.posted_by)?);
                fx.extend(propose_due(tx, inc, at, pb)?);
                return Ok(fx);
            }
            let status = retest_status(res.outcome, res.grey_zone);
            let persons: BTreeSet<PersonId> = in_tube.into_iter().collect();
            let members = tx.members(inc)?;
            let mut tasks = tx.tasks(inc)?;
            for (m, _) in members
                .iter()
                .filter(|(m, _)| persons.contains(&m.person.id))
            {
                tx.set_member_status(inc, m.person.id, status)?;
                for task in tasks.iter_mut().filter(|k| {
                    k.kind == TaskKind::Retest
                        && k.status == TaskStatus::Open
                        && k.person.as_ref().map(|p| p.id) == Some(m.person.id)
                }) {
                    task.status = TaskStatus::Done;
                    task.done_at = Some(at);
                    task.done_by = Some(res.posted_by.clone());
                    tx.update_task(task)?;
                }
                let ct = [res.ct.orf1ab, res.ct.n]
                    .iter()
                    .flatten()
                    .map(|v| format!("{v:.1}"))
                    .collect::<Vec<_>>()
                    .join("/");
                entry(
                    tx,
                    inc,
                    at,
                    &res.posted_by,
                    TimelineKind::Result,
                    format!(
                        "{} 单管复核 {}：{}{}",
                        m.person.name,
                        tube,
                        status.label_zh(),
                        if ct.is_empty() {
                            String::new()
                        } else {
                            format!("（Ct {ct}）")
                        }
                    ),
                )?;
            }
            fx.push(Effect::IncidentUpdated {
                incident: inc,
                what: format!("retest {}", status.as_str()),
            });
            fx.extend(advance_blocks(tx, inc, at, &res.posted_by)?);
            fx.extend(propose_due(tx, inc, at, pb)?);
        }
        Some((inc, RoundRole::Expansion)) => {
            if res.outcome.is_alarm() && tx.incident_of_tube(tube)?.is_none() {
                // A reactive expansion tube has its own chain: linked as an
                // expansion tube (so every figure keeps counting it), its
                // members retested as the playbook's stage 2 says, or —
                // for an environmental tube — its points disinfected and
                // swabbed again.
                let (site_name, site_path) = tx
                    .site_place(t.site)?
                    .ok_or_else(|| StoreError::Corrupt(format!("tube {tube} site")))?;
                match t.kind {
                    TubeKind::Human => {
                        entry(
                            tx,
                            inc,
                            at,
                            &res.posted_by,
                            TimelineKind::Result,
                            format!(
                                "扩面筛查 {site_name} 采样管 {tube}（{}混1，{} 人）{}：成员隔离待复核",
                                t.capacity,
                                t.samples,
                                gridsweep_response::report::outcome_zh(res.outcome)
                            ),
                        )?;
                        fx.extend(join(
                            tx,
                            inc,
                            &t,
                            TubeRole::Expansion,
                            MemberKind::PoolMember,
                            at,
                            pb,
                        )?);
                    }
                    TubeKind::Environmental => {
                        tx.insert_incident_tube(inc, tube, TubeRole::Expansion, at)?;
                        fx.extend(environmental_chain(
                            tx,
                            inc,
                            &t,
                            &site_name,
                            &site_path,
                            &res.posted_by,
                            at,
                            res.outcome,
                        )?);
                    }
                }
            } else if !res.outcome.is_alarm() && t.kind == TubeKind::Environmental {
                fx.extend(resample_done(tx, inc, &t, &res.posted_by, at)?);
            }
            fx.extend(propose_due(tx, inc, at, pb)?);
        }
        None => {
            if !res.outcome.is_alarm() || tx.incident_of_tube(tube)?.is_some() {
                return Ok(fx);
            }
            let Some((site_name, site_path)) = tx.site_place(t.site)? else {
                return Err(StoreError::Corrupt(format!("tube {tube} site")));
            };
            let areas = chains(tx, &[&site_path])?;
            let site_chain = chain_of(&site_path, &areas);
            let Some(area) = incident_area(&site_chain).cloned() else {
                return Err(StoreError::Corrupt(format!("site {} area", t.site)));
            };
            let inc = match tx.open_incident_for_area(area.id)? {
                Some(inc) => {
                    entry(
                        tx,
                        inc,
                        at,
                        &res.posted_by,
                        TimelineKind::Joined,
                        format!(
                            "{site_name} 采样管 {tube}（{}混1，{} 人）{}，并入本事件",
                            t.capacity,
                            t.samples,
                            gridsweep_response::report::outcome_zh(res.outcome)
                        ),
                    )?;
                    inc
                }
                None => {
                    let title = format!(
                        "{} {}混1 {}",
                        site_name,
                        t.capacity,
                        gridsweep_response::report::outcome_zh(res.outcome)
                    );
                    let inc = open_incident(tx, None, title, &area, Some(tube), None, at, pb)?;
                    entry(
                        tx,
                        inc,
                        at,
                        &res.posted_by,
                        TimelineKind::Opened,
                        format!(
                            "{site_name} 采样管 {tube}（{}混1，{} 人）{}，事件开启",
                            t.capacity,
                            t.samples,
                            gridsweep_response::report::outcome_zh(res.outcome)
                        ),
                    )?;
                    let levels = grid_levels(&site_chain);
                    entry(
                        tx,
                        inc,
                        at,
                        PLAYBOOK_ACTOR,
                        TimelineKind::Notified,
                        format!(
                            "推送 {}",
                            levels
                                .iter()
                                .map(|l| format!("{}（{}）", l.role.label_zh(), l.area_name))
                                .collect::<Vec<_>>()
                                .join("、")
                        ),
                    )?;
                    if pb.expand_site_community {
                        let round = tx.incident(inc)?.and_then(|i| i.expansion_round);
                        if let Some(round) = round {
                            tx.add_round_area(round, area.id)?;
                        }
                    }
                    fx.push(Effect::IncidentOpened {
                        incident: inc,
                        area: area.id.get(),
                        area_name: area.name.clone(),
                        tube: tube.to_string(),
                    });
                    inc
                }
            };
            fx.extend(join(
                tx,
                inc,
                &t,
                TubeRole::Trigger,
                MemberKind::PoolMember,
                at,
                pb,
            )?);
        }
    }
    Ok(fx)
}

#[allow(clippy::too_many_arguments)]
fn open_incident(
    tx: &mut dyn ResponseTx,
    parent: Option<i64>,
    title: String,
    area: &AreaBrief,
    tube: Option<&str>,
    case: Option<PersonBrief>,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<i64> {
    let id = tx.next_id("incident")?;
    let ends_at = at + Duration::hours(i64::from(pb.expansion_hours));
    let expansion = tx.insert_round(&NewRound {
        name: format!("事件#{id} 扩面筛查"),
        pool_size: pb.expansion_pool,
        starts_at: at,
        ends_at,
        areas: vec![],
    })?;
    // Single tubes for Dorfman, as on 6·13; a decoding design's pooled
    // tubes need room for their members.
    let retest_pool = pb.stage2.retest_pool_size();
    let retest = tx.insert_round(&NewRound {
        name: if retest_pool == 1 {
            format!("事件#{id} 单管复核")
        } else {
            format!("事件#{id} 复核")
        },
        pool_size: retest_pool,
        starts_at: at,
        ends_at,
        // The incident's own area, so its people can read the round.
        areas: vec![area.id],
    })?;
    tx.insert_incident(&IncidentInfo {
        id,
        parent,
        title,
        area: area.clone(),
        status: IncidentStatus::Open,
        opened_at: at,
        closed_at: None,
        trigger_tube: tube.map(str::to_string),
        case,
        expansion_round: Some(expansion),
        retest_round: Some(retest),
    })?;
    entry(
        tx,
        id,
        at,
        PLAYBOOK_ACTOR,
        TimelineKind::Order,
        if retest_pool == 1 {
            format!(
                "建立扩面筛查轮次 #{expansion}（{}混1）与单管复核轮次 #{retest}",
                pb.expansion_pool
            )
        } else {
            format!(
                "建立扩面筛查轮次 #{expansion}（{}混1）与复核轮次 #{retest}（{} 设计，每管至多 {retest_pool} 人）",
                pb.expansion_pool,
                pb.stage2.label()
            )
        },
    )?;
    Ok(id)
}

fn member_inputs(
    tx: &mut dyn ResponseTx,
    persons: &[PersonFact],
    with_households: bool,
) -> StoreResult<(Vec<MemberInput>, BTreeMap<AreaId, AreaPath>)> {
    let paths: Vec<&AreaPath> = persons.iter().map(|p| &p.household_path).collect();
    let mut areas = chains(tx, &paths)?;
    let orgs: Vec<AreaId> = persons
        .iter()
        .flat_map(|p| p.affiliations.iter().map(|a| a.0))
        .collect();
    for (a, _) in tx.area_briefs(&orgs)? {
        areas.insert(a.id, a);
    }
    let mut compound_paths = BTreeMap::new();
    let mut out = Vec::new();
    for p in persons {
        let chain = chain_of(&p.household_path, &areas);
        if let Some(c) = gridsweep_response::reaction::compound_of(&chain) {
            let ids: Vec<AreaId> = ids_of(&p.household_path)
                .into_iter()
                .take_while(|id| *id != c.id)
                .chain(std::iter::once(c.id))
                .collect();
            if let Some(path) = path_of(&ids) {
                compound_paths.insert(c.id, path);
            }
        }
        let household = if with_households {
            tx.household_residents(p.household)?
                .into_iter()
                .filter(|h| h.brief.id != p.brief.id)
                .map(|h| h.brief)
                .collect()
        } else {
            vec![]
        };
        out.push(MemberInput {
            person: p.brief.clone(),
            chain,
            affiliations: p
                .affiliations
                .iter()
                .filter_map(|(id, k)| areas.get(id).map(|a| (a.clone(), *k)))
                .collect(),
            household,
        });
    }
    Ok((out, compound_paths))
}

fn join(
    tx: &mut dyn ResponseTx,
    inc: i64,
    tube: &TubeRow,
    role: TubeRole,
    kind: MemberKind,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let ids = tx.tube_persons(&tube.barcode)?;
    let persons = tx.person_facts(&ids)?;
    tx.insert_incident_tube(inc, &tube.barcode, role, at)?;
    join_persons(tx, inc, &tube.barcode, &persons, kind, at, pb)
}

/// The title prefix tying a chain's tasks to its tube.
fn chain_prefix(tube: &str) -> String {
    format!("{tube} ")
}

/// A non-negative environmental tube: its points are disinfected and
/// swabbed again, as tasks of the grid worker (or community staff)
/// responsible for the site; the chain resolves when the disinfection is
/// done and a later environmental tube of the site comes back negative.
#[allow(clippy::too_many_arguments)]
fn environmental_chain(
    tx: &mut dyn ResponseTx,
    inc: i64,
    t: &TubeRow,
    site_name: &str,
    site_path: &AreaPath,
    actor: &str,
    at: DateTime<Utc>,
    outcome: Outcome,
) -> StoreResult<Effects> {
    let areas = chains(tx, &[site_path])?;
    let chain = chain_of(site_path, &areas);
    let Some(assignee) = responsible_for(&chain) else {
        return Err(StoreError::Corrupt(format!("site of tube {}", t.barcode)));
    };
    let place = chain.last().cloned();
    let prefix = chain_prefix(&t.barcode);
    for (kind, title) in [
        (
            TaskKind::Disinfection,
            format!("{prefix}阳性环境样本：{site_name} {} 个点位消杀", t.samples),
        ),
        (
            TaskKind::EnvResample,
            format!("{prefix}消杀后复采：{site_name} {} 个点位", t.samples),
        ),
    ] {
        write_task(
            tx,
            inc,
            &NewTask {
                kind,
                title,
                area: place.clone(),
                person: None,
                assignee: assignee.clone(),
                target: t.samples,
            },
            at,
        )?;
    }
    entry(
        tx,
        inc,
        at,
        actor,
        TimelineKind::Result,
        format!(
            "扩面筛查 环境 {site_name} 采样管 {}（{} 个点位）{}：消杀与复采任务下发 {}",
            t.barcode,
            t.samples,
            gridsweep_response::report::outcome_zh(outcome),
            assignee.label()
        ),
    )?;
    Ok(vec![Effect::IncidentUpdated {
        incident: inc,
        what: format!("environmental chain {}", t.barcode),
    }])
}

/// A negative environmental tube: any open resampling of a reactive
/// environmental tube of the same site, resulted before this one was
/// opened, is done.
fn resample_done(
    tx: &mut dyn ResponseTx,
    inc: i64,
    t: &TubeRow,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Effects> {
    let mut fx = Vec::new();
    let reactive: Vec<(String, TubeRole)> = tx
        .incident_tubes(inc)?
        .into_iter()
        .filter(|(_, r)| *r == TubeRole::Expansion)
        .collect();
    let mut tasks = tx.tasks(inc)?;
    for (code, _) in reactive {
        if code == t.barcode {
            continue;
        }
        let Some(r) = tx.peek_tube(&code)? else {
            continue;
        };
        let before = r.resulted_at.is_some_and(|done| done <= t.opened_at);
        if r.kind != TubeKind::Environmental || r.site != t.site || !before {
            continue;
        }
        let prefix = chain_prefix(&code);
        for task in tasks.iter_mut().filter(|k| {
            k.kind == TaskKind::EnvResample
                && k.status == TaskStatus::Open
                && k.title.starts_with(&prefix)
        }) {
            task.status = TaskStatus::Done;
            task.done_at = Some(at);
            task.done_by = Some(actor.to_string());
            tx.update_task(task)?;
            entry(
                tx,
                inc,
                at,
                actor,
                TimelineKind::Result,
                format!("环境复采 {} 阴性：{code} 复采完成", t.barcode),
            )?;
            fx.push(Effect::IncidentUpdated {
                incident: inc,
                what: format!("resampled {code}"),
            });
        }
    }
    Ok(fx)
}

/// Every non-negative tube of the incident — its trigger tubes, and each
/// tube of its expansion round resulted non-negative — with the state of
/// its chain of follow-ups.
fn incident_chains(tx: &mut dyn ResponseTx, info: &IncidentInfo) -> StoreResult<Vec<Chain>> {
    let status: BTreeMap<PersonId, MemberStatus> = tx
        .members(info.id)?
        .into_iter()
        .map(|(m, _)| (m.person.id, m.status))
        .collect();
    let tasks = tx.tasks(info.id)?;
    let mut candidates: Vec<(String, TubeRole)> = tx
        .incident_tubes(info.id)?
        .into_iter()
        .filter(|(_, r)| *r != TubeRole::Retest)
        .collect();
    let expansion = match info.expansion_round {
        Some(r) => tx.round_tubes(r)?,
        None => vec![],
    };
    for t in &expansion {
        let alarm = t.result.as_ref().is_some_and(|r| r.outcome.is_alarm());
        if alarm && !candidates.iter().any(|(c, _)| *c == t.tube.barcode) {
            candidates.push((t.tube.barcode.clone(), TubeRole::Expansion));
        }
    }
    let mut out = Vec::new();
    for (code, role) in candidates {
        let Some(tube) = tx.peek_tube(&code)? else {
            continue;
        };
        let Some(result) = tx.current_result(&code)? else {
            continue;
        };
        if !result.outcome.is_alarm() {
            continue;
        }
        let site = tx.site_place(tube.site)?.map(|s| s.0).unwrap_or_default();
        let mut c = Chain {
            tube: code.clone(),
            role,
            kind: tube.kind,
            outcome: Some(result.outcome),
            site,
            resulted_at: tube.resulted_at,
            persons: 0,
            awaiting: 0,
            cases: 0,
            disinfected: false,
            resampled: false,
            resolved: false,
        };
        match tube.kind {
            TubeKind::Human => {
                for p in tx.tube_persons(&code)? {
                    c.persons += 1;
                    match status.get(&p) {
                        Some(MemberStatus::PendingRetest) => c.awaiting += 1,
                        Some(MemberStatus::Positive | MemberStatus::Confirmed) => c.cases += 1,
                        _ => {}
                    }
                }
                c.resolved = c.awaiting == 0 && c.cases == 0;
            }
            TubeKind::Environmental => {
                let prefix = chain_prefix(&code);
                let mine: Vec<&TaskView> = tasks
                    .iter()
                    .filter(|k| k.kind == TaskKind::Disinfection && k.title.starts_with(&prefix))
                    .collect();
                c.disinfected =
                    !mine.is_empty() && mine.iter().all(|k| k.status == TaskStatus::Done);
                c.resampled = expansion.iter().any(|o| {
                    o.tube.barcode != code
                        && o.tube.kind == TubeKind::Environmental
                        && o.tube.site == tube.site
                        && tube.resulted_at.is_some_and(|r| r <= o.tube.opened_at)
                        && o.result
                            .as_ref()
                            .is_some_and(|r| r.outcome == Outcome::Negative)
                });
                c.resolved = c.disinfected && c.resampled;
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// Coverage of each compound the incident put under static control, over
/// the incident's rounds: a resident counts as sampled with a sample in
/// the expansion or the retest round (a retested trigger member is
/// covered), as accounted for with a mark in either round or an isolation
/// order of the incident, else as missing.
fn compound_coverage(
    tx: &mut dyn ResponseTx,
    info: &IncidentInfo,
) -> StoreResult<Vec<CompoundCoverage>> {
    let orders = tx.orders(info.id)?;
    let isolated: BTreeSet<PersonId> = orders
        .iter()
        .filter(|o| {
            matches!(
                o.kind,
                OrderKind::HomeIsolation | OrderKind::IsolationPendingRetest
            )
        })
        .filter_map(|o| o.person.as_ref().map(|p| p.id))
        .collect();
    let rounds: Vec<i64> = [info.expansion_round, info.retest_round]
        .into_iter()
        .flatten()
        .collect();
    let mut out: Vec<CompoundCoverage> = Vec::new();
    for o in orders.iter().filter(|o| o.kind == OrderKind::StaticControl) {
        let Some(area) = &o.area else { continue };
        if out.iter().any(|c| c.area.id == area.id) {
            continue;
        }
        let Some((brief, path)) = tx.area_briefs(&[area.id])?.into_iter().next() else {
            continue;
        };
        let mut people: BTreeMap<PersonId, (bool, bool)> = BTreeMap::new();
        for r in &rounds {
            for e in tx.roster_coverage(&path, *r)? {
                let v = people.entry(e.person.id).or_default();
                v.0 |= e.sampled;
                v.1 |= e.mark.is_some() || isolated.contains(&e.person.id);
            }
        }
        let mut c = CompoundCoverage {
            incident: info.id,
            area: brief,
            roster: people.len() as u64,
            sampled: 0,
            accounted: 0,
            missing: 0,
            lifted: o.lifted_at.is_some(),
        };
        for (sampled, accounted) in people.values() {
            if *sampled {
                c.sampled += 1;
            } else if *accounted {
                c.accounted += 1;
            } else {
                c.missing += 1;
            }
        }
        out.push(c);
    }
    Ok(out)
}

fn join_persons(
    tx: &mut dyn ResponseTx,
    inc: i64,
    source: &str,
    persons: &[PersonFact],
    kind: MemberKind,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let Some(info) = tx.incident(inc)? else {
        return Err(StoreError::NotFound(format!("incident {inc}")));
    };
    let (members, compound_paths) = member_inputs(tx, persons, kind == MemberKind::PoolMember)?;
    let existing = tx.members(inc)?;
    let in_tube: BTreeSet<PersonId> = persons.iter().map(|p| p.brief.id).collect();
    let orders = tx.orders(inc)?;
    let tasks = tx.tasks(inc)?;
    let known_compounds: BTreeSet<AreaId> = orders
        .iter()
        .filter(|o| o.kind == OrderKind::StaticControl)
        .filter_map(|o| o.area.as_ref().map(|a| a.id))
        .collect();
    let mut buildings = BTreeMap::new();
    for (id, path) in &compound_paths {
        if !known_compounds.contains(id) {
            buildings.insert(*id, tx.areas_under(path, AreaLevel::Building)?);
        }
    }
    let input = JoinInput {
        incident: inc,
        source: source.to_string(),
        at,
        kind,
        members: members.clone(),
        // A person of this tube the incident already holds but who awaits
        // nothing — a traced household member, or a member whose earlier
        // retest cleared them — is planned again: isolated pending a
        // retest like any member, and counted as such (one person may hold
        // two roles). Everyone else already known gets nothing new.
        known_persons: existing
            .iter()
            .filter(|(m, _)| {
                kind != MemberKind::PoolMember
                    || !in_tube.contains(&m.person.id)
                    || !matches!(m.status, MemberStatus::Traced | MemberStatus::Cleared)
            })
            .map(|(m, _)| m.person.id)
            .collect(),
        known_compounds,
        known_affiliations: tasks
            .iter()
            .filter(|t| t.kind == TaskKind::TraceAffiliation)
            .filter_map(|t| t.area.as_ref().map(|a| a.id))
            .collect(),
        buildings,
    };
    // An incident opened under single tubes has a 1:1 retest round: its
    // later pools are retested singly too, whatever the playbook now says.
    let retest_pool = match info.retest_round {
        Some(r) => tx.round(r)?.map_or(1, |r| r.pool_size),
        None => 1,
    };
    let plan = if retest_pool < pb.stage2.retest_pool_size() {
        react(
            &Playbook {
                stage2: Stage2::Dorfman,
                ..pb.clone()
            },
            &input,
        )
    } else {
        react(pb, &input)
    };
    let affiliation_names: BTreeMap<PersonId, Vec<String>> = members
        .iter()
        .map(|m| {
            (
                m.person.id,
                m.affiliations
                    .iter()
                    .map(|(a, k)| {
                        format!(
                            "{} {}",
                            a.name,
                            match k {
                                AffiliationKind::Student => "学生",
                                AffiliationKind::Employee => "职工",
                            }
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let already: BTreeSet<PersonId> = existing.iter().map(|(m, _)| m.person.id).collect();
    for m in &plan.members {
        if already.contains(&m.person.id) {
            // Only ever re-isolated: a known person is never set back to
            // "traced" by someone else's household.
            if m.status == MemberStatus::PendingRetest {
                tx.set_member_status(inc, m.person.id, m.status)?;
            }
            continue;
        }
        tx.insert_member(
            inc,
            &MemberView {
                person: m.person.clone(),
                kind: m.kind,
                status: m.status,
                source: m.source.clone(),
                address: m.address.clone(),
                affiliations: affiliation_names
                    .get(&m.person.id)
                    .cloned()
                    .unwrap_or_default(),
            },
            m.household,
        )?;
    }
    for o in &plan.orders {
        let id = tx.next_id("order")?;
        tx.insert_order(&OrderView {
            id,
            incident: inc,
            kind: o.kind,
            area: o.area.clone(),
            person: o.person.clone(),
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            ordered_by: PLAYBOOK_ACTOR.to_string(),
            reason: o.reason.clone(),
            lifted_at: None,
            lifted_by: None,
        })?;
    }
    let mut task_ids = Vec::with_capacity(plan.tasks.len());
    for t in &plan.tasks {
        let id = tx.next_id("task")?;
        task_ids.push(id);
        tx.insert_task(&TaskView {
            id,
            incident: inc,
            kind: t.kind,
            title: t.title.clone(),
            area: t.area.clone(),
            person: t.person.clone(),
            assignee: t.assignee.clone(),
            target: t.target,
            status: TaskStatus::Open,
            created_at: at,
            done_at: None,
            done_by: None,
        })?;
    }
    if let Some(round) = info.expansion_round {
        for a in &plan.round_areas {
            tx.add_round_area(round, *a)?;
        }
    }
    for e in &plan.timeline {
        tx.insert_entry(&EntryView {
            incident: inc,
            at: e.at,
            actor: e.actor.clone(),
            kind: e.kind,
            text: e.text.clone(),
        })?;
    }
    // The alert reaches every sub-district and community whose residents
    // are new members, not only the chain of the hut the tube came from.
    let notified: Vec<String> = tx
        .timeline(inc)?
        .into_iter()
        .filter(|e| e.kind == TimelineKind::Notified)
        .map(|e| e.text)
        .collect();
    let mut levels: Vec<Assignee> = Vec::new();
    for m in &members {
        if !plan.members.iter().any(|n| n.person.id == m.person.id) {
            continue;
        }
        for l in grid_levels(&m.chain) {
            let label = format!("{}（{}）", l.role.label_zh(), l.area_name);
            if l.role != Responder::DistrictCommand
                && !notified.iter().any(|t| t.contains(&label))
                && !levels.iter().any(|x| x.area == l.area)
            {
                levels.push(l);
            }
        }
    }
    if !levels.is_empty() {
        entry(
            tx,
            inc,
            at,
            PLAYBOOK_ACTOR,
            TimelineKind::Notified,
            format!(
                "推送 成员所在 {}",
                levels
                    .iter()
                    .map(|l| format!("{}（{}）", l.role.label_zh(), l.area_name))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        )?;
    }
    let mut fx = Vec::new();
    if let Some(b) = &plan.block {
        tx.insert_pool_block(&PoolBlock {
            incident: inc,
            tube: source.to_string(),
            block: b.block.clone(),
            tasks: vec![
                b.tasks
                    .iter()
                    .map(|t| t.and_then(|i| task_ids.get(i).copied()))
                    .collect(),
            ],
            complete: false,
        })?;
        // A block the pool alone decides (a one-person pool) is settled now.
        fx.extend(advance_blocks(tx, inc, at, PLAYBOOK_ACTOR)?);
    }
    fx.insert(
        0,
        Effect::IncidentUpdated {
            incident: inc,
            what: format!(
                "joined {source}: {} members, {} orders, {} tasks",
                plan.members.len(),
                plan.orders.len(),
                plan.tasks.len()
            ),
        },
    );
    Ok(fx)
}

/// Whether a retest tube came back non-negative, as the decoder reads it:
/// a grey-zone Ct counts, an invalid run is no answer (a new tube is taken).
fn reads_positive(outcome: Outcome) -> Option<bool> {
    match outcome {
        Outcome::Negative => Some(false),
        Outcome::Suspected | Outcome::Positive => Some(true),
        Outcome::Invalid => None,
    }
}

/// Replays the decoder over each open block of the incident with the
/// retest round's results so far, and carries out what it now says:
/// pooled tasks whose tube is back are done; members it clears are
/// cleared (as a negative single tube would); members it flags from a
/// pooled tube get a single-tube retest to confirm (a single tube's own
/// result already stands); the next round's tubes become tasks. A retest
/// tube answers for the decoder's tube with exactly its persons; if two
/// do, the later result counts.
fn advance_blocks(
    tx: &mut dyn ResponseTx,
    inc: i64,
    at: DateTime<Utc>,
    actor: &str,
) -> StoreResult<Effects> {
    let mut blocks: Vec<PoolBlock> = tx
        .pool_blocks(inc)?
        .into_iter()
        .filter(|b| !b.complete)
        .collect();
    if blocks.is_empty() {
        return Ok(vec![]);
    }
    let Some(round) = tx.incident(inc)?.and_then(|i| i.retest_round) else {
        return Ok(vec![]);
    };
    let mut results: BTreeMap<Vec<PersonId>, (DateTime<Utc>, bool)> = BTreeMap::new();
    for t in tx.round_tubes(round)? {
        let Some(r) = &t.result else { continue };
        let Some(pos) = reads_positive(r.outcome) else {
            continue;
        };
        let mut key = tx.tube_persons(&t.tube.barcode)?;
        key.sort_unstable();
        let newer = results
            .get(&key)
            .is_none_or(|(when, _)| r.posted_at >= *when);
        if newer {
            results.insert(key, (r.posted_at, pos));
        }
    }
    let mut fx = Vec::new();
    for b in &mut blocks {
        let rep = replay(&b.block, |tube| {
            let mut key: Vec<PersonId> = tube.iter().map(|&i| b.block.members[i]).collect();
            key.sort_unstable();
            results.get(&key).map(|r| r.1)
        })
        .map_err(|e| StoreError::Corrupt(format!("pool block {}: {e}", b.tube)))?;
        let members: BTreeMap<PersonId, MemberView> = tx
            .members(inc)?
            .into_iter()
            .map(|(m, _)| (m.person.id, m))
            .collect();
        let mut tasks = tx.tasks(inc)?;
        // Pooled tubes back: their tasks are done.
        for (r, (tubes, got)) in rep.rounds.iter().enumerate() {
            for (k, (tube, res)) in tubes.iter().zip(got).enumerate() {
                let id = b.tasks.get(r).and_then(|ts| ts.get(k)).copied().flatten();
                if tube.len() < 2 || res.is_none() {
                    continue;
                }
                if let Some(task) = tasks
                    .iter_mut()
                    .find(|t| Some(t.id) == id && t.status == TaskStatus::Open)
                {
                    task.status = TaskStatus::Done;
                    task.done_at = Some(at);
                    task.done_by = Some(actor.to_string());
                    tx.update_task(task)?;
                }
            }
        }
        let person = |i: usize| b.block.members[i];
        let pending = |p: &PersonId| {
            members
                .get(p)
                .is_some_and(|m| m.status == MemberStatus::PendingRetest)
        };
        let mut cleared = Vec::new();
        for p in rep.decision.cleared.iter().map(|&i| person(i)) {
            if pending(&p) {
                tx.set_member_status(inc, p, MemberStatus::Cleared)?;
                cleared.push(members[&p].person.name.clone());
            }
        }
        // Flagged from a pooled tube: confirm with a single tube.
        let to_confirm: Vec<PersonId> = rep
            .decision
            .flagged
            .iter()
            .map(|&i| person(i))
            .filter(|p| {
                pending(p)
                    && !tasks.iter().any(|t| {
                        t.kind == TaskKind::Retest
                            && t.status == TaskStatus::Open
                            && t.person.as_ref().map(|x| x.id) == Some(*p)
                    })
            })
            .collect();
        // The next round, once, when the decoder first asks for it.
        let next_round = rep.decision.round;
        let asks_new_round = !rep.decision.complete && next_round > b.tasks.len();
        let mut need: Vec<PersonId> = to_confirm.clone();
        if asks_new_round {
            need.extend(
                rep.decision
                    .retest_tubes
                    .iter()
                    .flatten()
                    .map(|&i| person(i)),
            );
        }
        need.sort_unstable();
        need.dedup();
        let facts = tx.person_facts(&need)?;
        let (inputs, _) = member_inputs(tx, &facts, false)?;
        let input_of: BTreeMap<PersonId, &MemberInput> =
            inputs.iter().map(|m| (m.person.id, m)).collect();
        let mut new_tasks = Vec::new();
        for p in &to_confirm {
            if let Some(t) = input_of.get(p).and_then(|m| single_retest_task(m)) {
                new_tasks.push(t);
            }
        }
        let confirm_names: Vec<String> = to_confirm
            .iter()
            .filter_map(|p| members.get(p).map(|m| m.person.name.clone()))
            .collect();
        let mut round_ids = Vec::new();
        let mut created = 0;
        for t in new_tasks {
            write_task(tx, inc, &t, at)?;
            created += 1;
        }
        if asks_new_round {
            let total = rep.decision.retest_tubes.len();
            for (k, tube) in rep.decision.retest_tubes.iter().enumerate() {
                let ms: Vec<&MemberInput> = tube
                    .iter()
                    .filter_map(|&i| input_of.get(&person(i)).copied())
                    .collect();
                // A member already holding an open single-tube task keeps it.
                let open_single = match ms.as_slice() {
                    [one] => tasks.iter().find(|t| {
                        t.kind == TaskKind::Retest
                            && t.status == TaskStatus::Open
                            && t.person.as_ref().map(|x| x.id) == Some(one.person.id)
                    }),
                    _ => None,
                };
                let id = match open_single {
                    Some(t) => Some(t.id),
                    None if ms.len() == tube.len() => {
                        match retest_tube_task(&b.tube, next_round + 1, k + 1, total, &ms) {
                            Some(t) => {
                                created += 1;
                                Some(write_task(tx, inc, &t, at)?)
                            }
                            None => None,
                        }
                    }
                    None => None,
                };
                round_ids.push(id);
            }
            b.tasks.push(round_ids);
        }
        b.complete = rep.decision.complete;
        let mut said = Vec::new();
        if !cleared.is_empty() {
            said.push(format!(
                "{} 人复核阴性（{}）",
                cleared.len(),
                cleared.join("、")
            ));
        }
        if !confirm_names.is_empty() {
            said.push(format!(
                "{} 人疑似阳性，单管确认任务已下发（{}）",
                confirm_names.len(),
                confirm_names.join("、")
            ));
        }
        if asks_new_round {
            said.push(format!(
                "第{}轮复核 {} 管",
                next_round + 1,
                rep.decision.retest_tubes.len()
            ));
        }
        if said.is_empty() && !b.complete {
            continue;
        }
        tx.update_pool_block(b)?;
        if said.is_empty() {
            continue;
        }
        entry(
            tx,
            inc,
            at,
            PLAYBOOK_ACTOR,
            TimelineKind::Result,
            format!(
                "{} 混管复核判读（{}）：{}",
                b.tube,
                b.block.design.label(),
                said.join("；")
            ),
        )?;
        fx.push(Effect::IncidentUpdated {
            incident: inc,
            what: format!(
                "pool {} decoded: {} cleared, {} to confirm, {created} new tasks",
                b.tube,
                cleared.len(),
                confirm_names.len(),
            ),
        });
    }
    Ok(fx)
}

fn write_task(
    tx: &mut dyn ResponseTx,
    inc: i64,
    t: &gridsweep_response::reaction::NewTask,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    let id = tx.next_id("task")?;
    tx.insert_task(&TaskView {
        id,
        incident: inc,
        kind: t.kind,
        title: t.title.clone(),
        area: t.area.clone(),
        person: t.person.clone(),
        assignee: t.assignee.clone(),
        target: t.target,
        status: TaskStatus::Open,
        created_at: at,
        done_at: None,
        done_by: None,
    })?;
    Ok(id)
}

/// The facts the rules read. Coverage is the costly part (the roster of
/// every controlled compound): with `coverage` false it is computed only
/// when nothing else blocks, i.e. only when it can decide a proposal.
fn facts(tx: &mut dyn ResponseTx, info: &IncidentInfo, coverage: bool) -> StoreResult<Facts> {
    let mut f = facts_without_coverage(tx, info)?;
    if coverage || hard_blockers(&f).is_empty() {
        f.coverage = Some(compound_coverage(tx, info)?);
    }
    Ok(f)
}

fn facts_without_coverage(tx: &mut dyn ResponseTx, info: &IncidentInfo) -> StoreResult<Facts> {
    let members = tx.members(info.id)?;
    let decisions = tx.decisions(info.id)?;
    let expansion = match info.expansion_round {
        Some(r) => tx.round_tally(r)?,
        None => TubeTally::default(),
    };
    Ok(Facts {
        status: info.status,
        members: members
            .iter()
            .map(|(m, _)| MemberFact {
                person: m.person.id,
                kind: m.kind,
                status: m.status,
            })
            .collect(),
        expansion,
        decisions: decisions
            .iter()
            .map(|d| DecisionFact {
                kind: d.kind,
                person: d.person.as_ref().map(|p| p.id),
                status: d.status,
            })
            .collect(),
        chains: incident_chains(tx, info)?,
        coverage: None,
    })
}

/// Records the proposals the playbook would now make.
fn propose_due(
    tx: &mut dyn ResponseTx,
    inc: i64,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let Some(info) = tx.incident(inc)? else {
        return Ok(vec![]);
    };
    // A proposal never predates its incident, whatever clock a result
    // carried.
    let at = at.max(info.opened_at);
    let f = facts(tx, &info, false)?;
    let proposals = evaluate(pb, &f);
    if proposals.is_empty() {
        return Ok(vec![]);
    }
    let members: BTreeMap<PersonId, PersonBrief> = tx
        .members(inc)?
        .into_iter()
        .map(|(m, _)| (m.person.id, m.person))
        .collect();
    let mut fx = Vec::new();
    for p in proposals {
        let id = tx.next_id("decision")?;
        let person = p.person.and_then(|id| members.get(&id).cloned());
        tx.insert_decision(&DecisionView {
            id,
            incident: inc,
            kind: p.kind,
            person: person.clone(),
            status: DecisionStatus::Proposed,
            reason: p.reason.clone(),
            proposed_at: at,
            proposed_by: PLAYBOOK_ACTOR.to_string(),
            decided_at: None,
            decided_by: None,
            decided_role: None,
            note: None,
            override_reason: None,
        })?;
        entry(
            tx,
            inc,
            at,
            PLAYBOOK_ACTOR,
            TimelineKind::Proposed,
            format!(
                "建议 {}{}：{}（待 {} 确认）",
                p.kind.label_zh(),
                person.map(|p| format!(" {}", p.name)).unwrap_or_default(),
                p.reason,
                pb.confirm
                    .roles(p.kind)
                    .iter()
                    .map(|r| r.label_zh())
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        )?;
        fx.push(Effect::DecisionProposed {
            incident: inc,
            decision: id,
            kind: p.kind.as_str().to_string(),
        });
    }
    Ok(fx)
}

/// Proposes a decision by hand (a CDC epidemiologist's own call).
pub fn propose(
    tx: &mut dyn ResponseTx,
    inc: i64,
    p: &ManualProposal,
) -> StoreResult<Refused<Effects>> {
    let info = rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    if info.status != IncidentStatus::Open {
        return Ok(Err(ResponseError::IncidentClosed(inc)));
    }
    if let Some(clock) = &p.clock {
        rule!(clock.check(p.at));
    }
    if p.at < info.opened_at {
        return Ok(Err(ResponseError::TimeBeforeIncident {
            at: p.at.to_rfc3339(),
            opened_at: info.opened_at.to_rfc3339(),
        }));
    }
    let members = tx.members(inc)?;
    let person = match p.person {
        Some(id) => Some(rule!(
            members
                .iter()
                .find(|(m, _)| m.person.id == id)
                .map(|(m, _)| m.person.clone())
                .ok_or(ResponseError::PersonUnknown(id.0))
        )),
        None => None,
    };
    if p.kind != DecisionKind::LiftAndClose && person.is_none() {
        return Ok(Err(ResponseError::Invalid {
            field: "person".into(),
            reason: format!("a {} names the member it is about", p.kind),
        }));
    }
    let id = tx.next_id("decision")?;
    tx.insert_decision(&DecisionView {
        id,
        incident: inc,
        kind: p.kind,
        person: person.clone(),
        status: DecisionStatus::Proposed,
        reason: p.reason.clone(),
        proposed_at: p.at,
        proposed_by: p.by.clone(),
        decided_at: None,
        decided_by: None,
        decided_role: None,
        note: None,
        override_reason: None,
    })?;
    entry(
        tx,
        inc,
        p.at,
        &p.by,
        TimelineKind::Proposed,
        format!(
            "建议 {}{}：{}",
            p.kind.label_zh(),
            person.map(|p| format!(" {}", p.name)).unwrap_or_default(),
            p.reason
        ),
    )?;
    Ok(Ok(vec![Effect::DecisionProposed {
        incident: inc,
        decision: id,
        kind: p.kind.as_str().to_string(),
    }]))
}

/// Confirms or rejects a proposed decision, checking the role, and
/// carries it out when confirmed.
pub fn decide(
    tx: &mut dyn ResponseTx,
    inc: i64,
    v: &Verdict,
    pb: &Playbook,
) -> StoreResult<Refused<Effects>> {
    let mut info = rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    let mut d = rule!(
        tx.decisions(inc)?
            .into_iter()
            .find(|d| d.id == v.decision)
            .ok_or(ResponseError::DecisionUnknown(v.decision))
    );
    rule!(check_confirm(pb, d.id, d.kind, d.status, v.role));
    // Times the server can vouch for: a decision is never before its
    // proposal or its incident, nor (outside a replay) after the clock.
    if let Some(clock) = &v.clock {
        rule!(clock.check(v.at));
    }
    if v.at < d.proposed_at {
        return Ok(Err(ResponseError::TimeBeforeProposal {
            at: v.at.to_rfc3339(),
            proposed_at: d.proposed_at.to_rfc3339(),
        }));
    }
    if v.at < info.opened_at {
        return Ok(Err(ResponseError::TimeBeforeIncident {
            at: v.at.to_rfc3339(),
            opened_at: info.opened_at.to_rfc3339(),
        }));
    }
    let override_reason = v
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if v.override_reason.is_some() && override_reason.is_none() {
        return Ok(Err(ResponseError::Invalid {
            field: "override_reason".into(),
            reason: "an override names its reason".into(),
        }));
    }
    let mut fx = Vec::new();
    let mut overridden: Vec<String> = Vec::new();
    if v.confirm {
        if info.status != IncidentStatus::Open {
            return Ok(Err(ResponseError::IncidentClosed(inc)));
        }
        match d.kind {
            DecisionKind::LiftAndClose => {
                let f = facts(tx, &info, true)?;
                let all = blockers(&f, pb.lift_coverage_percent);
                let hard: Vec<&str> = all
                    .iter()
                    .filter(|b| !b.overridable)
                    .map(|b| b.text.as_str())
                    .collect();
                if !hard.is_empty() {
                    return Ok(Err(ResponseError::ConditionsChanged(hard.join("；"))));
                }
                overridden = all.into_iter().map(|b| b.text).collect();
                if !overridden.is_empty() && override_reason.is_none() {
                    return Ok(Err(ResponseError::CoverageBelowRequirement(
                        overridden.join("；"),
                    )));
                }
                let mut lifted = Vec::new();
                for mut o in tx.orders(inc)? {
                    if o.kind == OrderKind::HomeIsolation || o.lifted_at.is_some() {
                        continue;
                    }
                    o.lifted_at = Some(v.at);
                    o.lifted_by = Some(v.by.clone());
                    tx.update_order(&o)?;
                    if let Some(a) = &o.area {
                        lifted.push(a.name.clone());
                    }
                }
                info.status = IncidentStatus::Closed;
                info.closed_at = Some(v.at);
                tx.update_incident(&info)?;
                if let Some(reason) = override_reason.as_ref().filter(|_| !overridden.is_empty()) {
                    entry(
                        tx,
                        inc,
                        v.at,
                        &v.by,
                        TimelineKind::Note,
                        format!(
                            "覆盖率未达预案要求（{}），指挥部明确理由提前解除：{reason}",
                            overridden.join("；")
                        ),
                    )?;
                }
                entry(
                    tx,
                    inc,
                    v.at,
                    &v.by,
                    TimelineKind::Lifted,
                    format!("解除全部管控：{}", lifted.join("、")),
                )?;
                entry(
                    tx,
                    inc,
                    v.at,
                    &v.by,
                    TimelineKind::Closed,
                    "事件结案".to_string(),
                )?;
                fx.push(Effect::IncidentClosed { incident: inc });
            }
            DecisionKind::HomeIsolation => {
                let Some(person) = d.person.clone() else {
                    return Ok(Err(ResponseError::Invalid {
                        field: "person".into(),
                        reason: "decision names no person".into(),
                    }));
                };
                let members = tx.members(inc)?;
                let Some((_, household)) = members.iter().find(|(m, _)| m.person.id == person.id)
                else {
                    return Ok(Err(ResponseError::PersonUnknown(person.id.0)));
                };
                let household = *household;
                let residents = tx.household_residents(household)?;
                let ends = v.at + Duration::days(i64::from(pb.home_isolation_days));
                let mut names = Vec::new();
                for r in &residents {
                    let id = tx.next_id("order")?;
                    tx.insert_order(&OrderView {
                        id,
                        incident: inc,
                        kind: OrderKind::HomeIsolation,
                        area: None,
                        person: Some(r.brief.clone()),
                        starts_at: v.at,
                        ends_at: Some(ends),
                        ordered_by: v.by.clone(),
                        reason: if r.brief.id == person.id {
                            format!("单管复核指标略高，居家隔离 {} 天", pb.home_isolation_days)
                        } else {
                            format!(
                                "{} 同住人员，居家隔离 {} 天",
                                person.name, pb.home_isolation_days
                            )
                        },
                        lifted_at: None,
                        lifted_by: None,
                    })?;
                    names.push(r.brief.name.clone());
                    if members.iter().any(|(m, _)| m.person.id == r.brief.id) {
                        tx.set_member_status(inc, r.brief.id, MemberStatus::HomeIsolated)?;
                    }
                }
                for mut o in tx.orders(inc)? {
                    if o.kind == OrderKind::IsolationPendingRetest
                        && o.lifted_at.is_none()
                        && o.person.as_ref().map(|p| p.id) == Some(person.id)
                    {
                        o.lifted_at = Some(v.at);
                        o.lifted_by = Some(v.by.clone());
                        tx.update_order(&o)?;
                    }
                }
                entry(
                    tx,
                    inc,
                    v.at,
                    &v.by,
                    TimelineKind::Order,
                    format!(
                        "{} 及同住人员居家隔离 {} 天：{}",
                        person.name,
                        pb.home_isolation_days,
                        names.join("、")
                    ),
                )?;
                fx.push(Effect::IncidentUpdated {
                    incident: inc,
                    what: "home isolation".into(),
                });
            }
            DecisionKind::ConfirmCase => {
                let Some(person) = d.person.clone() else {
                    return Ok(Err(ResponseError::Invalid {
                        field: "person".into(),
                        reason: "decision names no person".into(),
                    }));
                };
                tx.set_member_status(inc, person.id, MemberStatus::Confirmed)?;
                fx.extend(cascade(tx, &info, &person, v, pb)?);
            }
        }
    }
    d.status = if v.confirm {
        DecisionStatus::Confirmed
    } else {
        DecisionStatus::Rejected
    };
    d.decided_at = Some(v.at);
    d.decided_by = Some(v.by.clone());
    d.decided_role = Some(v.role);
    d.note = v.note.clone();
    // Recorded only when it actually passed a coverage shortfall.
    d.override_reason = if overridden.is_empty() {
        None
    } else {
        override_reason
    };
    tx.update_decision(&d)?;
    entry(
        tx,
        inc,
        v.at,
        &v.by,
        if v.confirm {
            TimelineKind::Confirmed
        } else {
            TimelineKind::Rejected
        },
        format!(
            "{}（{}）{} {}{}",
            v.by,
            v.role.label_zh(),
            d.status.label_zh(),
            d.kind.label_zh(),
            d.person
                .as_ref()
                .map(|p| format!(" {}", p.name))
                .unwrap_or_default()
        ),
    )?;
    fx.push(Effect::DecisionDecided {
        incident: inc,
        decision: d.id,
        kind: d.kind.as_str().to_string(),
        confirmed: v.confirm,
        by: v.by.clone(),
    });
    Ok(Ok(fx))
}

/// A confirmed case: a new incident over the case's contacts — the
/// household (close contacts) and the rest of the building.
fn cascade(
    tx: &mut dyn ResponseTx,
    parent: &IncidentInfo,
    case: &PersonBrief,
    v: &Verdict,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let facts = tx.person_facts(&[case.id])?;
    let Some(me) = facts.first() else {
        return Ok(vec![]);
    };
    let ids = ids_of(&me.household_path);
    let building = path_of(&ids[..ids.len().saturating_sub(1)]);
    let mut contacts = tx.household_residents(me.household)?;
    let mut left_out = 0usize;
    let mut building_residents = 0usize;
    if let Some(b) = &building {
        let all = tx.residents_under(b, u32::MAX)?;
        building_residents = all.len();
        let cap = match pb.max_building_contacts {
            0 => usize::MAX,
            n => n as usize,
        };
        let mut taken = 0usize;
        for p in all {
            if contacts.iter().any(|c| c.brief.id == p.brief.id) {
                continue;
            }
            if taken >= cap {
                left_out += 1;
                continue;
            }
            taken += 1;
            contacts.push(p);
        }
    }
    contacts.retain(|c| c.brief.id != case.id);
    let areas = chains(tx, &[&me.household_path])?;
    let chain = chain_of(&me.household_path, &areas);
    let area = gridsweep_response::reaction::compound_of(&chain)
        .cloned()
        .unwrap_or_else(|| parent.area.clone());
    let title = format!("病例 {} 密接处置", case.name);
    let child = open_incident(
        tx,
        Some(parent.id),
        title,
        &area,
        None,
        Some(case.clone()),
        v.at,
        pb,
    )?;
    entry(
        tx,
        child,
        v.at,
        &v.by,
        TimelineKind::Opened,
        format!(
            "事件 #{} 确诊 {}：密接 {} 人隔离待单管复核",
            parent.id,
            case.name,
            contacts.len()
        ),
    )?;
    if left_out > 0 {
        // Nothing is cut silently: the playbook's cap and its effect.
        entry(
            tx,
            child,
            v.at,
            PLAYBOOK_ACTOR,
            TimelineKind::Note,
            format!(
                "同楼栋 {building_residents} 人，按预案上限 max_building_contacts = {} 纳入密接，{left_out} 人未纳入",
                pb.max_building_contacts
            ),
        )?;
    }
    let mut fx = vec![Effect::IncidentOpened {
        incident: child,
        area: area.id.get(),
        area_name: area.name.clone(),
        tube: String::new(),
    }];
    fx.extend(join_persons(
        tx,
        child,
        &format!("病例 {}", case.name),
        &contacts,
        MemberKind::Contact,
        v.at,
        pb,
    )?);
    entry(
        tx,
        parent.id,
        v.at,
        &v.by,
        TimelineKind::Cascade,
        format!(
            "确诊 {}，管控继续；启动关联事件 #{child}（密接 {} 人）",
            case.name,
            contacts.len()
        ),
    )?;
    Ok(fx)
}

/// Records a line on the timeline (a grid level in place, a note).
pub fn note(tx: &mut dyn ResponseTx, inc: i64, n: &NewNote) -> StoreResult<Refused<Effects>> {
    rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    entry(tx, inc, n.at, &n.by, n.kind, n.text.clone())?;
    Ok(Ok(vec![Effect::IncidentUpdated {
        incident: inc,
        what: n.kind.as_str().to_string(),
    }]))
}

/// Marks a task done. A done task may resolve a chain (an environmental
/// tube's disinfection), so the playbook looks again at what it would
/// propose.
pub fn complete_task(
    tx: &mut dyn ResponseTx,
    inc: i64,
    task: i64,
    by: &str,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Refused<TaskView>> {
    let info = rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    if at < info.opened_at {
        return Ok(Err(ResponseError::TimeBeforeIncident {
            at: at.to_rfc3339(),
            opened_at: info.opened_at.to_rfc3339(),
        }));
    }
    let mut t = rule!(
        tx.tasks(inc)?
            .into_iter()
            .find(|t| t.id == task)
            .ok_or(ResponseError::TaskUnknown(task))
    );
    if t.status != TaskStatus::Done {
        t.status = TaskStatus::Done;
        t.done_at = Some(at);
        t.done_by = Some(by.to_string());
        tx.update_task(&t)?;
        entry(
            tx,
            inc,
            at,
            by,
            TimelineKind::Task,
            format!("完成：{}", t.title),
        )?;
        propose_due(tx, inc, at, pb)?;
    }
    Ok(Ok(t))
}

/// One incident with everything on it.
pub fn detail(
    tx: &mut dyn ResponseTx,
    inc: i64,
    pb: &Playbook,
) -> StoreResult<Option<IncidentDetail>> {
    let Some(info) = tx.incident(inc)? else {
        return Ok(None);
    };
    let f = facts(tx, &info, true)?;
    Ok(Some(IncidentDetail {
        members: tx.members(inc)?.into_iter().map(|(m, _)| m).collect(),
        orders: tx.orders(inc)?,
        tasks: tx.tasks(inc)?,
        decisions: tx.decisions(inc)?,
        timeline: tx.timeline(inc)?,
        tubes: tx.incident_tubes(inc)?,
        children: tx.children_of(inc)?,
        blockers: blockers(&f, pb.lift_coverage_percent)
            .into_iter()
            .map(|b| b.text)
            .collect(),
        info,
    }))
}

fn community_name(path: &AreaPath, areas: &BTreeMap<AreaId, AreaBrief>) -> String {
    let chain = chain_of(path, areas);
    chain
        .iter()
        .find(|a| a.level == AreaLevel::Community)
        .or(chain.last())
        .map(|a| a.name.clone())
        .unwrap_or_default()
}

fn incident_data(
    tx: &mut dyn ResponseTx,
    inc: i64,
    pb: &Playbook,
) -> StoreResult<Option<IncidentData>> {
    let Some(info) = tx.incident(inc)? else {
        return Ok(None);
    };
    let f = facts(tx, &info, true)?;
    let blockers: Vec<String> = blockers(&f, pb.lift_coverage_percent)
        .into_iter()
        .map(|b| b.text)
        .collect();
    let alerted = member_levels(tx, inc)?;
    let mut round_tubes: Vec<(RoundTube, TubeRole)> = Vec::new();
    let linked = tx.incident_tubes(inc)?;
    for (code, role) in &linked {
        if *role != TubeRole::Trigger {
            continue;
        }
        if let Some(t) = tx.peek_tube(code)? {
            let result = tx.current_result(code)?;
            let (site_name, site_path) = tx
                .site_place(t.site)?
                .ok_or_else(|| StoreError::Corrupt(format!("site {}", t.site)))?;
            round_tubes.push((
                RoundTube {
                    tube: t,
                    result,
                    site_name,
                    site_path,
                },
                TubeRole::Trigger,
            ));
        }
    }
    let triggers: BTreeSet<String> = round_tubes
        .iter()
        .map(|(t, _)| t.tube.barcode.clone())
        .collect();
    for (round, role) in [
        (info.expansion_round, TubeRole::Expansion),
        (info.retest_round, TubeRole::Retest),
    ] {
        if let Some(r) = round {
            for t in tx.round_tubes(r)? {
                if !triggers.contains(&t.tube.barcode) {
                    round_tubes.push((t, role));
                }
            }
        }
    }
    let paths: Vec<&AreaPath> = round_tubes.iter().map(|(t, _)| &t.site_path).collect();
    let areas = chains(tx, &paths)?;
    let tubes: Vec<TubeFact> = round_tubes
        .iter()
        .map(|(t, role)| TubeFact {
            barcode: t.tube.barcode.clone(),
            role: *role,
            kind: t.tube.kind,
            capacity: t.tube.capacity,
            samples: t.tube.samples,
            site: t.site_name.clone(),
            community: community_name(&t.site_path, &areas),
            outcome: t.result.as_ref().map(|r| r.outcome),
            grey_zone: t.result.as_ref().is_some_and(|r| r.grey_zone),
            resulted_at: t.tube.resulted_at,
        })
        .collect();
    let mut samples = Vec::new();
    if let Some(r) = info.expansion_round {
        samples.extend(tx.round_samples(r)?);
    }
    let trigger_codes: Vec<String> = triggers.into_iter().collect();
    samples.extend(tx.tube_samples(&trigger_codes)?);
    Ok(Some(IncidentData {
        chains: f.chains,
        coverage: f.coverage.unwrap_or_default(),
        blockers,
        alerted,
        members: tx.members(inc)?.into_iter().map(|(m, _)| m).collect(),
        orders: tx.orders(inc)?,
        tasks: tx.tasks(inc)?,
        decisions: tx.decisions(inc)?,
        timeline: tx.timeline(inc)?,
        tubes,
        samples,
        info,
    }))
}

/// The sub-districts and communities where the incident's members live,
/// in the order first met.
fn member_levels(tx: &mut dyn ResponseTx, inc: i64) -> StoreResult<Vec<AreaBrief>> {
    let households: BTreeSet<AreaId> = tx.members(inc)?.into_iter().map(|(_, h)| h).collect();
    let households: Vec<AreaId> = households.into_iter().collect();
    let paths: Vec<AreaPath> = tx
        .area_briefs(&households)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let refs: Vec<&AreaPath> = paths.iter().collect();
    let areas = chains(tx, &refs)?;
    let mut out: Vec<AreaBrief> = Vec::new();
    for p in &paths {
        for a in chain_of(p, &areas) {
            if matches!(a.level, AreaLevel::SubDistrict | AreaLevel::Community)
                && !out.iter().any(|x| x.id == a.id)
            {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// The report of an incident and every incident it cascaded into.
pub fn report(tx: &mut dyn ResponseTx, inc: i64, pb: &Playbook) -> StoreResult<Option<Report>> {
    let Some(root) = incident_data(tx, inc, pb)? else {
        return Ok(None);
    };
    let mut cascades = Vec::new();
    let mut queue = tx.children_of(inc)?;
    while let Some(c) = queue.pop() {
        if let Some(d) = incident_data(tx, c, pb)? {
            cascades.push(d);
        }
        queue.extend(tx.children_of(c)?);
    }
    cascades.sort_by_key(|c| c.info.id);
    Ok(Some(gridsweep_response::report::build(&root, &cascades)))
}

/// Coverage of an area in a round.
pub fn area_coverage(
    tx: &mut dyn ResponseTx,
    area: AreaId,
    round: i64,
) -> StoreResult<Refused<Coverage>> {
    rule!(tx.round(round)?.ok_or(ResponseError::RoundUnknown(round)));
    let Some((brief, path)) = tx.area_briefs(&[area])?.into_iter().next() else {
        return Ok(Err(ResponseError::Invalid {
            field: "area".into(),
            reason: format!("no area {area}"),
        }));
    };
    let areas = tx.grid_areas_under(&path)?;
    let roster = tx.roster_coverage(&path, round)?;
    Ok(Ok(coverage(&brief, round, &areas, &roster)))
}

/// Marks a person away / hospitalised / sampled elsewhere for a round;
/// when the round is an incident's, the playbook looks again at what it
/// would propose (the mark may complete a compound's coverage).
pub fn mark(tx: &mut dyn ResponseTx, m: &PersonMark, pb: &Playbook) -> StoreResult<Refused<()>> {
    rule!(
        tx.round(m.round)?
            .ok_or(ResponseError::RoundUnknown(m.round))
    );
    if tx.person_facts(&[m.person])?.is_empty() {
        return Ok(Err(ResponseError::PersonUnknown(m.person.0)));
    }
    tx.set_mark(m)?;
    if let Some((inc, _)) = tx.incident_for_round(m.round)?
        && tx
            .incident(inc)?
            .is_some_and(|i| i.status == IncidentStatus::Open)
    {
        propose_due(tx, inc, m.at, pb)?;
    }
    Ok(Ok(()))
}

/// Whether [`respond`] would do anything for this tube: its result is
/// non-negative, or it belongs to an incident's round. Lets a backend
/// answer the common case (a negative routine tube) with one read.
pub fn needs_response(tx: &mut dyn ResponseTx, tube: &str) -> StoreResult<bool> {
    let Some(t) = tx.tube(tube)? else {
        return Ok(false);
    };
    let alarm = tx
        .current_result(tube)?
        .is_some_and(|r| Outcome::is_alarm(r.outcome));
    Ok(alarm || tx.incident_for_round(t.round)?.is_some())
}
