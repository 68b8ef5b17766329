//! What a non-negative tube sets off when it opens or joins an incident
//! (named apart from the pooling crate's `plan`, which designs pools):
//! members isolated pending retest, with the retest tubes the playbook's
//! stage-2 design asks the decoder for (Dorfman: one single-tube task each;
//! pool + code: a few pooled tubes), households traced, schools and
//! employers traced, static control on every newly affected compound with
//! a door-to-door task per building and an environmental sampling task,
//! and the compound added to the incident's expansion round. Pure: the
//! caller gathers the inputs and writes the reaction in the transaction
//! that recorded the result.

use crate::model::*;
use crate::playbook::Playbook;
use crate::stage2::{Block, Stage2};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, PersonId};
use gridsweep_pooling::Decision;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Who wrote the records the playbook creates.
pub const PLAYBOOK_ACTOR: &str = "预案(playbook)";

/// One person of the tube (or one contact of a case), with where they live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberInput {
    pub person: PersonBrief,
    /// The household's ancestors, district first, household last.
    pub chain: Vec<AreaBrief>,
    /// Schools and employers.
    pub affiliations: Vec<(AreaBrief, AffiliationKind)>,
    /// The others living in the same household.
    pub household: Vec<PersonBrief>,
}

/// Everything [`react`] needs to add a tube's members to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinInput {
    pub incident: i64,
    /// The tube that brought them in (or the case, for a cascade).
    pub source: String,
    pub at: DateTime<Utc>,
    /// `PoolMember` for a tube, `Contact` for a cascade.
    pub kind: MemberKind,
    pub members: Vec<MemberInput>,
    /// Persons already in the incident, of any kind.
    pub known_persons: BTreeSet<PersonId>,
    /// Compounds already under this incident's static control.
    pub known_compounds: BTreeSet<AreaId>,
    /// Schools/employers already being traced.
    pub known_affiliations: BTreeSet<AreaId>,
    /// The buildings of each compound the members live in.
    pub buildings: BTreeMap<AreaId, Vec<AreaBrief>>,
}

/// A person to add to the incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMember {
    pub person: PersonBrief,
    pub kind: MemberKind,
    pub status: MemberStatus,
    pub source: String,
    pub household: AreaId,
    /// Sub-district down to the household.
    pub address: String,
}

/// A control order to issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    pub kind: OrderKind,
    pub area: Option<AreaBrief>,
    pub person: Option<PersonBrief>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub reason: String,
}

/// A task to hand out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTask {
    pub kind: TaskKind,
    pub title: String,
    pub area: Option<AreaBrief>,
    pub person: Option<PersonBrief>,
    pub assignee: Assignee,
    /// Persons to sample or points to swab; 0 when not countable.
    pub target: u32,
}

/// A line of the incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: TimelineKind,
    pub text: String,
}

/// A non-negative pool whose members a decoding design resolves: kept so
/// the engine can replay the decoder as the stage-2 tubes come back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRetest {
    pub block: Block,
    /// The stage-2 tubes the decoder asked for (indices into `block.members`).
    pub tubes: Vec<Vec<usize>>,
    /// For each of `tubes`, the index in [`Reaction::tasks`] of its task
    /// (none only for a tube no one could be assigned to).
    pub tasks: Vec<Option<usize>>,
}

/// What a tube sets off, for the caller to write in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    pub members: Vec<NewMember>,
    pub orders: Vec<NewOrder>,
    pub tasks: Vec<NewTask>,
    /// Compounds to add to the expansion round.
    pub round_areas: Vec<AreaId>,
    pub timeline: Vec<NewEntry>,
    /// The pool being decoded, when the playbook's stage-2 design is not
    /// single tubes (Dorfman's stage 2 is decided by each single tube).
    pub block: Option<BlockRetest>,
}

/// The place a household is controlled as: the nearest compound, school or
/// workplace above it — or, where houses sit straight in a grid cell (a
/// village), that grid cell.
pub fn compound_of(chain: &[AreaBrief]) -> Option<&AreaBrief> {
    chain
        .iter()
        .rev()
        .find(|a| !matches!(a.level, AreaLevel::Household | AreaLevel::Building))
        .filter(|a| a.level != AreaLevel::District)
}

/// The grid worker responsible for a place: the grid cell above it, or the
/// community's staff where there is no grid cell.
pub fn responsible_for(chain: &[AreaBrief]) -> Option<Assignee> {
    let grid = chain.iter().rev().find(|a| a.level == AreaLevel::Grid);
    let (role, area) = match grid {
        Some(g) => (Responder::GridWorker, g),
        None => (
            Responder::Community,
            chain
                .iter()
                .rev()
                .find(|a| a.level == AreaLevel::Community)
                .or_else(|| chain.last())?,
        ),
    };
    Some(Assignee {
        role,
        area: area.id,
        area_name: area.name.clone(),
    })
}

/// The incident's own area: the community of the site the tube came from
/// (or the site's area if it sits higher). A later non-negative tube from
/// the same community joins the open incident instead of opening another.
pub fn incident_area(site_chain: &[AreaBrief]) -> Option<&AreaBrief> {
    site_chain
        .iter()
        .find(|a| a.level == AreaLevel::Community)
        .or_else(|| site_chain.last())
}

/// The three grid levels to alert, top down: district command,
/// sub-district office, community — each on its own area.
pub fn grid_levels(chain: &[AreaBrief]) -> Vec<Assignee> {
    chain
        .iter()
        .filter_map(|a| {
            let role = match a.level {
                AreaLevel::District => Responder::DistrictCommand,
                AreaLevel::SubDistrict => Responder::SubDistrict,
                AreaLevel::Community => Responder::Community,
                _ => return None,
            };
            Some(Assignee {
                role,
                area: a.id,
                area_name: a.name.clone(),
            })
        })
        .collect()
}

/// The single-tube retest task of one member, assigned to the grid worker
/// responsible for their household. `None` for a member placed nowhere.
pub fn single_retest_task(m: &MemberInput) -> Option<NewTask> {
    let household = m.chain.last()?;
    let worker = responsible_for(&m.chain)?;
    Some(NewTask {
        kind: TaskKind::Retest,
        title: format!("{} 单管复核采样（{}）", m.person.name, household.name),
        area: Some(household.clone()),
        person: Some(m.person.clone()),
        assignee: worker,
        target: 1,
    })
}

/// Who samples a tube holding several members, and where: the grid worker
/// when they share a grid cell, else the staff of the lowest level whose
/// area holds them all (a pooled tube is one trip, and the task must lie
/// within its assignee's scope). The area is the deepest one they share.
pub fn common_responsible(chains: &[&[AreaBrief]]) -> Option<(AreaBrief, Assignee)> {
    let first = chains.first()?;
    let shared = first
        .iter()
        .enumerate()
        .take_while(|(i, a)| chains.iter().all(|c| c.get(*i).map(|b| b.id) == Some(a.id)))
        .count();
    let common = &first[..shared];
    let deepest = common.last()?.clone();
    let by_level = |level| common.iter().rev().find(|a| a.level == level);
    let (role, area) = [
        (AreaLevel::Grid, Responder::GridWorker),
        (AreaLevel::Community, Responder::Community),
        (AreaLevel::SubDistrict, Responder::SubDistrict),
        (AreaLevel::District, Responder::DistrictCommand),
    ]
    .into_iter()
    .find_map(|(level, role)| by_level(level).map(|a| (role, a)))?;
    Some((
        deepest,
        Assignee {
            role,
            area: area.id,
            area_name: area.name.clone(),
        },
    ))
}

/// The task for one tube the decoder asks for. A one-member tube is that
/// member's single-tube retest; a tube of several is a pooled retest task
/// naming them. `round` is the lab round counting the pool as round 1;
/// `k` of `total` numbers the tube within its round.
pub fn retest_tube_task(
    source: &str,
    round: usize,
    k: usize,
    total: usize,
    members: &[&MemberInput],
) -> Option<NewTask> {
    if let [one] = members {
        return single_retest_task(one);
    }
    let chains: Vec<&[AreaBrief]> = members.iter().map(|m| m.chain.as_slice()).collect();
    let (area, assignee) = common_responsible(&chains)?;
    let names: Vec<&str> = members.iter().map(|m| m.person.name.as_str()).collect();
    Some(NewTask {
        kind: TaskKind::PooledRetest,
        title: format!(
            "{source} 第{round}轮混管复核 {k}/{total}（{} 人同管）：{}",
            members.len(),
            names.join("、")
        ),
        area: Some(area),
        person: None,
        assignee,
        target: members.len() as u32,
    })
}

/// Every member in a single tube: what a decoder refusal falls back to,
/// since a retest is never to be lost.
fn singles(n: usize) -> Decision {
    Decision {
        round: 1,
        retest_tubes: (0..n).map(|i| vec![i]).collect(),
        ..Decision::default()
    }
}

fn address(chain: &[AreaBrief]) -> String {
    chain
        .iter()
        .filter(|a| a.level != AreaLevel::District)
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a tube's members, or a case's contacts, set off in the incident.
/// Persons, compounds and affiliations the incident already knows get
/// nothing new, so a second tube from the same building adds only what is
/// new.
///
/// The retest tubes of a pool's new members come from the decoder: the
/// playbook's stage-2 design is asked for the tubes after a non-negative
/// pool of them (in scan order). A one-member tube, or a member the decoder
/// flags outright, is a single-tube retest task as on 6·13; a tube of
/// several is a pooled retest task. Contacts of a case are not a pool:
/// each gets a single tube.
pub fn react(pb: &Playbook, input: &JoinInput) -> Reaction {
    let stage = match input.kind {
        MemberKind::PoolMember => pb.stage2,
        MemberKind::Household | MemberKind::Contact => Stage2::Dorfman,
    };
    let mut reaction = Reaction::default();
    let retests = Retests::ask(stage, input, &mut reaction.tasks);
    let mut scan = Scan {
        pb,
        input,
        persons: input.known_persons.clone(),
        compounds: input.known_compounds.clone(),
        affiliations: input.known_affiliations.clone(),
        isolated: 0,
        singles_planned: 0,
        traced: 0,
        retests,
        reaction,
    };
    for (i, m) in input.members.iter().enumerate() {
        scan.member(i, m);
    }
    scan.finish(stage)
}

/// The line every record the playbook writes in the timeline shares.
fn entry(at: DateTime<Utc>, kind: TimelineKind, text: String) -> NewEntry {
    NewEntry {
        at,
        actor: PLAYBOOK_ACTOR.to_string(),
        kind,
        text,
    }
}

/// The members a tube newly isolates, in scan order (indices into
/// `input.members`): placed somewhere with someone responsible, not yet in
/// the incident, each person once. These are the pool the decoder resolves.
fn new_block(input: &JoinInput) -> Vec<usize> {
    let mut in_block = BTreeSet::new();
    input
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.chain.last().is_some()
                && responsible_for(&m.chain).is_some()
                && !input.known_persons.contains(&m.person.id)
                && in_block.insert(m.person.id)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The stage-2 retest of the new members: what the decoder asked for and
/// which task samples each of its tubes.
struct Retests {
    /// The members newly isolated (indices into `input.members`).
    block: Vec<usize>,
    /// A member's index in `input.members` → their place in `block`.
    position: BTreeMap<usize, usize>,
    /// The decoder's answer after the pool.
    decision: Decision,
    /// Some tube holds several members (the isolation then waits for a
    /// retest, not a single-tube one).
    pooled: bool,
    /// A place in `block` → the one-member tube it is alone in.
    single_tube: BTreeMap<usize, usize>,
    /// For each tube of `decision`, the index of its task.
    tube_tasks: Vec<Option<usize>>,
    flagged: BTreeSet<usize>,
    cleared: BTreeSet<usize>,
}

impl Retests {
    /// Asks `stage` for the tubes after a non-negative pool of the new
    /// members (single tubes when the decoder refuses: a retest is never
    /// to be lost), and plans a pooled retest task for every tube of
    /// several. One-member tubes get their task with their member.
    fn ask(stage: Stage2, input: &JoinInput, tasks: &mut Vec<NewTask>) -> Self {
        let block = new_block(input);
        let decision = if block.is_empty() {
            Decision::default()
        } else {
            stage
                .after_pool(block.len())
                .unwrap_or_else(|_| singles(block.len()))
        };
        let position = block.iter().enumerate().map(|(b, &i)| (i, b)).collect();
        let pooled = decision.retest_tubes.iter().any(|t| t.len() > 1);
        let mut single_tube = BTreeMap::new();
        let mut tube_tasks = vec![None; decision.retest_tubes.len()];
        let total = decision.retest_tubes.len();
        for (k, tube) in decision.retest_tubes.iter().enumerate() {
            if let [one] = tube.as_slice() {
                single_tube.insert(*one, k);
                continue;
            }
            let members: Vec<&MemberInput> =
                tube.iter().map(|&b| &input.members[block[b]]).collect();
            if let Some(task) =
                retest_tube_task(&input.source, decision.round + 1, k + 1, total, &members)
            {
                tube_tasks[k] = Some(tasks.len());
                tasks.push(task);
            }
        }
        Retests {
            flagged: decision.flagged.iter().copied().collect(),
            cleared: decision.cleared.iter().copied().collect(),
            block,
            position,
            decision,
            pooled,
            single_tube,
            tube_tasks,
        }
    }
}

/// The members gone through in scan order, with what the incident knows
/// so far and what has been set off.
struct Scan<'a> {
    pb: &'a Playbook,
    input: &'a JoinInput,
    persons: BTreeSet<PersonId>,
    compounds: BTreeSet<AreaId>,
    affiliations: BTreeSet<AreaId>,
    /// Members isolated pending their retest.
    isolated: usize,
    /// Single-tube retest tasks handed out.
    singles_planned: usize,
    /// Household members traced.
    traced: usize,
    retests: Retests,
    reaction: Reaction,
}

impl Scan<'_> {
    /// Everything one member sets off: their isolation and retest, their
    /// household and affiliations traced, their compound controlled. A
    /// member placed nowhere, or with no one responsible, sets off nothing.
    fn member(&mut self, i: usize, m: &MemberInput) {
        let Some(household) = m.chain.last() else {
            return;
        };
        let Some(worker) = responsible_for(&m.chain) else {
            return;
        };
        if self.persons.insert(m.person.id) {
            self.isolate(i, m, household);
        }
        if self.pb.trace_households && self.input.kind == MemberKind::PoolMember {
            self.trace_household(m, household, &worker);
        }
        if self.pb.trace_affiliations && self.input.kind == MemberKind::PoolMember {
            self.trace_affiliations(m);
        }
        self.control_compound(m, worker);
    }

    /// Adds a new member: isolated pending retest unless the decoder
    /// already cleared them, with their single-tube task when they are
    /// alone in a tube or flagged.
    fn isolate(&mut self, i: usize, m: &MemberInput, household: &AreaBrief) {
        let input = self.input;
        let b = self.retests.position.get(&i).copied();
        let clear = b.is_some_and(|b| self.retests.cleared.contains(&b));
        self.reaction.members.push(NewMember {
            person: m.person.clone(),
            kind: input.kind,
            status: if clear {
                MemberStatus::Cleared
            } else {
                MemberStatus::PendingRetest
            },
            source: input.source.clone(),
            household: household.id,
            address: address(&m.chain),
        });
        if !clear {
            self.isolated += 1;
            self.reaction.orders.push(NewOrder {
                kind: OrderKind::IsolationPendingRetest,
                area: None,
                person: Some(m.person.clone()),
                starts_at: input.at,
                ends_at: None,
                reason: format!(
                    "{} {}，{}",
                    input.source,
                    input.kind.label_zh(),
                    if self.retests.pooled {
                        "隔离待复核"
                    } else {
                        "隔离待单管复核"
                    }
                ),
            });
        }
        let r = &mut self.retests;
        let single = b.filter(|b| r.single_tube.contains_key(b) || r.flagged.contains(b));
        if let Some(b) = single
            && let Some(task) = single_retest_task(m)
        {
            if let Some(&k) = r.single_tube.get(&b) {
                r.tube_tasks[k] = Some(self.reaction.tasks.len());
            }
            self.singles_planned += 1;
            self.reaction.tasks.push(task);
        }
    }

    /// The member's household: those living with them who are neither in
    /// the tube nor known yet are traced and told, in one task.
    fn trace_household(&mut self, m: &MemberInput, household: &AreaBrief, worker: &Assignee) {
        let input = self.input;
        let new: Vec<&PersonBrief> = m
            .household
            .iter()
            .filter(|h| {
                !input.members.iter().any(|o| o.person.id == h.id) && !self.persons.contains(&h.id)
            })
            .collect();
        if new.is_empty() {
            return;
        }
        for h in &new {
            self.persons.insert(h.id);
            self.traced += 1;
            self.reaction.members.push(NewMember {
                person: (*h).clone(),
                kind: MemberKind::Household,
                status: MemberStatus::Traced,
                source: input.source.clone(),
                household: household.id,
                address: address(&m.chain),
            });
        }
        self.reaction.tasks.push(NewTask {
            kind: TaskKind::TraceHousehold,
            title: format!("追踪告知 {} 同住人员 {} 人", m.person.name, new.len()),
            area: Some(household.clone()),
            person: Some(m.person.clone()),
            assignee: worker.clone(),
            target: new.len() as u32,
        });
    }

    /// The member's schools and employers not yet traced: one task each
    /// for the CDC.
    fn trace_affiliations(&mut self, m: &MemberInput) {
        for (org, kind) in &m.affiliations {
            if !self.affiliations.insert(org.id) {
                continue;
            }
            self.reaction.tasks.push(NewTask {
                kind: TaskKind::TraceAffiliation,
                title: format!(
                    "追踪 {} 关联人员（{} {}）",
                    org.name,
                    m.person.name,
                    match kind {
                        AffiliationKind::Student => "学生",
                        AffiliationKind::Employee => "职工",
                    }
                ),
                area: Some(org.clone()),
                person: Some(m.person.clone()),
                assignee: Assignee {
                    role: Responder::Cdc,
                    area: org.id,
                    area_name: org.name.clone(),
                },
                target: 0,
            });
        }
    }

    /// The member's compound, the first time the incident meets it: static
    /// control, added to the expansion round, a door-to-door task per
    /// building and an environmental sampling task, for the grid worker
    /// responsible for the compound (else the member's).
    fn control_compound(&mut self, m: &MemberInput, worker: Assignee) {
        let Some(compound) = compound_of(&m.chain) else {
            return;
        };
        if !self.compounds.insert(compound.id) {
            return;
        }
        let (pb, input) = (self.pb, self.input);
        let upto: Vec<AreaBrief> = m
            .chain
            .iter()
            .take_while(|a| a.id != compound.id)
            .cloned()
            .chain(std::iter::once(compound.clone()))
            .collect();
        let worker = responsible_for(&upto).unwrap_or(worker);
        let reaction = &mut self.reaction;
        reaction.orders.push(NewOrder {
            kind: OrderKind::StaticControl,
            area: Some(compound.clone()),
            person: None,
            starts_at: input.at,
            ends_at: None,
            reason: format!("{} 涉及住户，静态化管控", input.source),
        });
        reaction.round_areas.push(compound.id);
        let buildings = input
            .buildings
            .get(&compound.id)
            .cloned()
            .unwrap_or_default();
        for b in &buildings {
            reaction.tasks.push(NewTask {
                kind: TaskKind::DoorToDoor,
                title: format!("{} {} 上门采样", compound.name, b.name),
                area: Some(b.clone()),
                person: None,
                assignee: worker.clone(),
                target: 0,
            });
        }
        reaction.tasks.push(NewTask {
            kind: TaskKind::Environmental,
            title: format!(
                "{} 环境采样 {} 个点位（每管 {} 点）",
                compound.name, pb.env_points_per_compound, pb.env_points_per_tube
            ),
            area: Some(compound.clone()),
            person: None,
            assignee: worker.clone(),
            target: pb.env_points_per_compound,
        });
        reaction.timeline.push(entry(
            input.at,
            TimelineKind::Order,
            format!(
                "{} 静态化管控；{} 栋楼上门采样任务下发 {}；环境采样任务",
                compound.name,
                buildings.len(),
                worker.label()
            ),
        ));
    }

    /// Puts the isolations' summary first in the timeline, keeps the block
    /// for the decoder's replay, and adds the tracing lines.
    fn finish(mut self, stage: Stage2) -> Reaction {
        if let Some(line) = self.isolation_summary(stage) {
            self.reaction.timeline.insert(0, line);
        }
        let input = self.input;
        let r = self.retests;
        let mut reaction = self.reaction;
        if stage.decodes() && !r.block.is_empty() {
            reaction.block = Some(BlockRetest {
                block: Block {
                    design: stage.design_for(r.block.len()),
                    members: r
                        .block
                        .iter()
                        .map(|&i| input.members[i].person.id)
                        .collect(),
                },
                tubes: r.decision.retest_tubes.clone(),
                tasks: r.tube_tasks,
            });
        }
        if self.traced > 0 {
            reaction.timeline.push(entry(
                input.at,
                TimelineKind::Task,
                format!("同住人员 {} 人追踪告知", self.traced),
            ));
        }
        let orgs: Vec<&str> = reaction
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::TraceAffiliation)
            .filter_map(|t| t.area.as_ref().map(|a| a.name.as_str()))
            .collect();
        if !orgs.is_empty() {
            let line = entry(
                input.at,
                TimelineKind::Task,
                format!("学校/单位追踪：{}", orgs.join("、")),
            );
            reaction.timeline.push(line);
        }
        reaction
    }

    /// How many were isolated and with which retest tubes: single tubes
    /// as on 6·13, or the design's pooled and single tubes against the
    /// single tubes they replace. None when no one was isolated.
    fn isolation_summary(&self, stage: Stage2) -> Option<NewEntry> {
        if self.isolated == 0 {
            return None;
        }
        let (input, r) = (self.input, &self.retests);
        let text = if !r.pooled {
            format!(
                "{} {} 人隔离待单管复核，复核任务 {} 项",
                input.kind.label_zh(),
                self.isolated,
                self.singles_planned
            )
        } else {
            let pooled_tubes = r
                .decision
                .retest_tubes
                .iter()
                .filter(|t| t.len() > 1)
                .count();
            format!(
                "{} {} 人隔离待复核；按 {} 设计（{}）复核混管 {} 管、单管 {} 管，代替单管复核 {} 管",
                input.kind.label_zh(),
                self.isolated,
                stage.label(),
                stage.design_for(r.block.len()).label(),
                pooled_tubes,
                self.singles_planned,
                r.block.len()
            )
        };
        Some(entry(input.at, TimelineKind::Order, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridsweep_domain::AreaId;

    fn a(id: i64, level: AreaLevel, name: &str) -> AreaBrief {
        AreaBrief {
            id: AreaId::new(id).unwrap(),
            level,
            name: name.into(),
        }
    }

    #[test]
    fn compound_and_worker() {
        let chain = vec![
            a(1, AreaLevel::District, "高新区"),
            a(2, AreaLevel::SubDistrict, "梧桐街办事处"),
            a(3, AreaLevel::Community, "瓦屋李社区"),
            a(4, AreaLevel::Grid, "瓦屋李社区第1网格"),
            a(5, AreaLevel::Compound, "瓦屋李新居"),
            a(6, AreaLevel::Building, "1号楼"),
            a(7, AreaLevel::Household, "1单元101"),
        ];
        assert_eq!(compound_of(&chain).unwrap().name, "瓦屋李新居");
        let w = responsible_for(&chain).unwrap();
        assert_eq!(w.role, Responder::GridWorker);
        assert_eq!(w.label(), "瓦屋李社区第1网格 网格员");
        assert_eq!(incident_area(&chain[..3]).unwrap().name, "瓦屋李社区");
        let levels = grid_levels(&chain);
        assert_eq!(levels.len(), 3);
        assert_eq!(levels[0].role, Responder::DistrictCommand);
        // A school's staff block: the school is the compound, no grid.
        let school = vec![
            a(1, AreaLevel::District, "高新区"),
            a(2, AreaLevel::SubDistrict, "冬青街办事处"),
            a(3, AreaLevel::Community, "瑞达路社区"),
            a(8, AreaLevel::School, "高新区第三十七中学"),
            a(9, AreaLevel::Building, "教工楼"),
            a(10, AreaLevel::Household, "1单元101"),
        ];
        assert_eq!(compound_of(&school).unwrap().level, AreaLevel::School);
        assert_eq!(responsible_for(&school).unwrap().role, Responder::Community);
    }

    fn person(i: i64) -> PersonBrief {
        PersonBrief {
            id: PersonId(i),
            name: format!("居民{i}"),
            document_masked: "410105********0000".into(),
        }
    }

    /// `n` pool members: the first half in 瓦屋李新居 (grid 1), the rest
    /// in 玉兰雅亭 (grid 2), two to a household.
    fn pool_input(n: i64) -> JoinInput {
        let district = a(1, AreaLevel::District, "高新区");
        let sub = a(2, AreaLevel::SubDistrict, "梧桐街办事处");
        let community = a(3, AreaLevel::Community, "瓦屋李社区");
        let members = (0..n)
            .map(|i| {
                let (grid, compound) = if i < n / 2 {
                    (
                        a(4, AreaLevel::Grid, "瓦屋李社区第1网格"),
                        a(5, AreaLevel::Compound, "瓦屋李新居"),
                    )
                } else {
                    (
                        a(14, AreaLevel::Grid, "瓦屋李社区第2网格"),
                        a(15, AreaLevel::Compound, "玉兰雅亭"),
                    )
                };
                let building = a(compound.id.get() * 10, AreaLevel::Building, "1号楼");
                let household = a(
                    1000 + i / 2,
                    AreaLevel::Household,
                    &format!("{}室", 101 + i / 2),
                );
                MemberInput {
                    person: person(100 + i),
                    chain: vec![
                        district.clone(),
                        sub.clone(),
                        community.clone(),
                        grid,
                        compound,
                        building,
                        household,
                    ],
                    affiliations: vec![],
                    household: vec![],
                }
            })
            .collect();
        JoinInput {
            incident: 1,
            source: "WWL-0613-0001".into(),
            at: chrono::DateTime::from_timestamp(1_655_064_240, 0).unwrap(),
            kind: MemberKind::PoolMember,
            members,
            known_persons: BTreeSet::new(),
            known_compounds: BTreeSet::new(),
            known_affiliations: BTreeSet::new(),
            buildings: BTreeMap::new(),
        }
    }

    fn pc3() -> Playbook {
        Playbook {
            stage2: Stage2::PoolCode { third_round: true },
            ..Playbook::default()
        }
    }

    #[test]
    fn dorfman_sets_off_one_single_tube_task_per_member_as_on_6_13() {
        let input = pool_input(20);
        let reaction = react(&Playbook::default(), &input);
        let retests: Vec<&NewTask> = reaction
            .tasks
            .iter()
            .filter(|t| matches!(t.kind, TaskKind::Retest | TaskKind::PooledRetest))
            .collect();
        assert_eq!(retests.len(), 20);
        for (t, m) in retests.iter().zip(&input.members) {
            let household = m.chain.last().unwrap();
            assert_eq!(t.kind, TaskKind::Retest);
            assert_eq!(
                t.title,
                format!("{} 单管复核采样（{}）", m.person.name, household.name)
            );
            assert_eq!(t.person.as_ref(), Some(&m.person));
            assert_eq!(t.area.as_ref(), Some(household));
            assert_eq!(t.assignee, responsible_for(&m.chain).unwrap());
            assert_eq!(t.target, 1);
        }
        // Per member, in scan order: the retest task comes first, then the
        // compound's tasks when the member is the first from it.
        assert_eq!(
            reaction.tasks[0].person.as_ref(),
            Some(&input.members[0].person)
        );
        assert_eq!(reaction.tasks[1].kind, TaskKind::Environmental);
        assert_eq!(
            reaction.tasks[2].person.as_ref(),
            Some(&input.members[1].person)
        );
        assert_eq!(
            reaction.timeline[0].text,
            "混管成员 20 人隔离待单管复核，复核任务 20 项"
        );
        assert!(
            reaction
                .orders
                .iter()
                .filter(|o| o.kind == OrderKind::IsolationPendingRetest)
                .all(|o| o.reason == "WWL-0613-0001 混管成员，隔离待单管复核")
        );
        assert!(reaction.block.is_none(), "single tubes need no replay");
        assert!(
            reaction
                .members
                .iter()
                .all(|m| m.status == MemberStatus::PendingRetest)
        );
    }

    #[test]
    fn pool_code_asks_for_the_decoders_pooled_tubes() {
        let input = pool_input(20);
        let reaction = react(&pc3(), &input);
        let decision = pc3().stage2.after_pool(20).unwrap();
        assert_eq!(decision.retest_tubes.len(), 6);
        assert!(reaction.tasks.iter().all(|t| t.kind != TaskKind::Retest));
        let pooled: Vec<&NewTask> = reaction
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::PooledRetest)
            .collect();
        assert_eq!(pooled.len(), 6, "6 tubes instead of 20");
        let block = reaction.block.as_ref().unwrap();
        assert_eq!(block.tubes, decision.retest_tubes);
        assert_eq!(
            block.block.members,
            input
                .members
                .iter()
                .map(|m| m.person.id)
                .collect::<Vec<_>>()
        );
        assert_eq!(block.block.design.label(), "PC3(20;6C3)");
        for (k, (tube, task)) in block.tubes.iter().zip(&block.tasks).enumerate() {
            let task = &reaction.tasks[task.unwrap()];
            assert_eq!(task.kind, TaskKind::PooledRetest);
            assert_eq!(task.target, 10);
            assert!(task.person.is_none());
            assert!(task.title.starts_with(&format!(
                "WWL-0613-0001 第2轮混管复核 {}/6（10 人同管）：",
                k + 1
            )));
            let names: Vec<String> = tube
                .iter()
                .map(|&i| input.members[i].person.name.clone())
                .collect();
            assert!(task.title.ends_with(&names.join("、")), "{}", task.title);
            // A tube within one grid cell is its grid worker's; one that
            // mixes both grids is the community's (the last code tube holds
            // only the second half).
            let one_grid = tube.iter().all(|&i| i < 10) || tube.iter().all(|&i| i >= 10);
            if one_grid {
                assert_eq!(task.assignee.role, Responder::GridWorker);
                assert_eq!(task.area.as_ref().unwrap().level, AreaLevel::Building);
            } else {
                assert_eq!(task.assignee.role, Responder::Community);
                assert_eq!(task.area.as_ref().unwrap().name, "瓦屋李社区");
            }
        }
        let mixed = reaction
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::PooledRetest && t.assignee.role == Responder::Community)
            .count();
        assert_eq!(mixed, 5);
        assert_eq!(reaction.members.len(), 20);
        assert!(
            reaction
                .members
                .iter()
                .all(|m| m.status == MemberStatus::PendingRetest)
        );
        assert!(
            reaction
                .orders
                .iter()
                .filter(|o| o.kind == OrderKind::IsolationPendingRetest)
                .all(|o| o.reason == "WWL-0613-0001 混管成员，隔离待复核")
        );
        assert_eq!(
            reaction.timeline[0].text,
            "混管成员 20 人隔离待复核；按 PC3 设计（PC3(20;6C3)）复核混管 6 管、单管 0 管，代替单管复核 20 管"
        );
    }

    /// The compound tasks are unchanged by the stage-2 design.
    #[test]
    fn the_design_leaves_the_compound_tasks_alone() {
        let input = pool_input(20);
        let reaction = react(&pc3(), &input);
        let d2 = react(&Playbook::default(), &input);
        let rest = |p: &Reaction| -> Vec<NewTask> {
            p.tasks
                .iter()
                .filter(|t| !matches!(t.kind, TaskKind::Retest | TaskKind::PooledRetest))
                .cloned()
                .collect()
        };
        assert_eq!(rest(&reaction), rest(&d2));
        assert_eq!(reaction.round_areas, d2.round_areas);
    }

    #[test]
    fn pooled_tube_within_one_grid_goes_to_its_grid_worker() {
        let mut input = pool_input(20);
        input.members.truncate(10); // all in grid 1
        let reaction = react(&pc3(), &input);
        let pooled: Vec<&NewTask> = reaction
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::PooledRetest)
            .collect();
        // 10 people: C(5,2) = 10 codewords over 5 tubes.
        assert_eq!(pooled.len(), 5);
        for t in pooled {
            assert_eq!(t.assignee.role, Responder::GridWorker);
            assert_eq!(t.assignee.area_name, "瓦屋李社区第1网格");
        }
    }

    #[test]
    fn known_members_stay_out_of_the_block_and_contacts_get_single_tubes() {
        let mut input = pool_input(20);
        input.known_persons.insert(PersonId(100));
        let reaction = react(&pc3(), &input);
        let block = reaction.block.unwrap();
        assert_eq!(block.block.members.len(), 19);
        assert!(!block.block.members.contains(&PersonId(100)));
        assert_eq!(block.block.design.label(), "PC3(19;6C3)");
        // A one-person pool: the decoder flags its member for a single tube.
        let mut one = pool_input(20);
        one.members.truncate(1);
        let reaction = react(&pc3(), &one);
        assert_eq!(reaction.block.as_ref().unwrap().tubes.len(), 0);
        let retests: Vec<&NewTask> = reaction
            .tasks
            .iter()
            .filter(|t| matches!(t.kind, TaskKind::Retest | TaskKind::PooledRetest))
            .collect();
        assert_eq!(retests.len(), 1);
        assert_eq!(retests[0].kind, TaskKind::Retest);
        assert_eq!(
            reaction.timeline[0].text,
            "混管成员 1 人隔离待单管复核，复核任务 1 项"
        );
        // Contacts of a case are not a pool.
        let mut contacts = pool_input(6);
        contacts.kind = MemberKind::Contact;
        let reaction = react(&pc3(), &contacts);
        assert!(reaction.block.is_none());
        assert_eq!(
            reaction
                .tasks
                .iter()
                .filter(|t| t.kind == TaskKind::Retest)
                .count(),
            6
        );
    }
}
