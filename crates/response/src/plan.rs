//! What the playbook does when a non-negative tube opens or joins an
//! incident: members isolated pending a single-tube retest (one retest task
//! each), households traced, schools and employers traced, static control
//! on every newly affected compound with a door-to-door task per building
//! and an environmental sampling task, and the compound added to the
//! incident's expansion round. Pure: the caller gathers the inputs and
//! writes the plan in the transaction that recorded the result.

use crate::model::*;
use crate::playbook::Playbook;
use chrono::{DateTime, Utc};
use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, PersonId};
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

/// Everything the planner needs to add a tube's members to an incident.
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

/// What to write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinPlan {
    pub members: Vec<NewMember>,
    pub orders: Vec<NewOrder>,
    pub tasks: Vec<NewTask>,
    /// Compounds to add to the expansion round.
    pub round_areas: Vec<AreaId>,
    pub timeline: Vec<NewEntry>,
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
        Some(g) => (Role::GridWorker, g),
        None => (
            Role::Community,
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
                AreaLevel::District => Role::DistrictCommand,
                AreaLevel::SubDistrict => Role::SubDistrict,
                AreaLevel::Community => Role::Community,
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

fn address(chain: &[AreaBrief]) -> String {
    chain
        .iter()
        .filter(|a| a.level != AreaLevel::District)
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Plans adding `input.members` to the incident. Persons, compounds and
/// affiliations the incident already knows get nothing new, so a second
/// tube from the same building adds only what is new.
pub fn plan_join(pb: &Playbook, input: &JoinInput) -> JoinPlan {
    let mut plan = JoinPlan::default();
    let mut persons = input.known_persons.clone();
    let mut compounds = input.known_compounds.clone();
    let mut affiliations = input.known_affiliations.clone();
    let at = input.at;
    let entry = |kind, text: String| NewEntry {
        at,
        actor: PLAYBOOK_ACTOR.to_string(),
        kind,
        text,
    };
    let mut isolated = 0;
    let mut traced = 0;
    for m in &input.members {
        let Some(household) = m.chain.last() else {
            continue;
        };
        let Some(worker) = responsible_for(&m.chain) else {
            continue;
        };
        if persons.insert(m.person.id) {
            isolated += 1;
            plan.members.push(NewMember {
                person: m.person.clone(),
                kind: input.kind,
                status: MemberStatus::PendingRetest,
                source: input.source.clone(),
                household: household.id,
                address: address(&m.chain),
            });
            plan.orders.push(NewOrder {
                kind: OrderKind::IsolationPendingRetest,
                area: None,
                person: Some(m.person.clone()),
                starts_at: at,
                ends_at: None,
                reason: format!("{} {}，隔离待单管复核", input.source, input.kind.label_zh()),
            });
            plan.tasks.push(NewTask {
                kind: TaskKind::Retest,
                title: format!("{} 单管复核采样（{}）", m.person.name, household.name),
                area: Some(household.clone()),
                person: Some(m.person.clone()),
                assignee: worker.clone(),
                target: 1,
            });
        }
        if pb.trace_households && input.kind == MemberKind::PoolMember {
            let new: Vec<&PersonBrief> = m
                .household
                .iter()
                .filter(|h| {
                    !input.members.iter().any(|o| o.person.id == h.id) && !persons.contains(&h.id)
                })
                .collect();
            if !new.is_empty() {
                for h in &new {
                    persons.insert(h.id);
                    traced += 1;
                    plan.members.push(NewMember {
                        person: (*h).clone(),
                        kind: MemberKind::Household,
                        status: MemberStatus::Traced,
                        source: input.source.clone(),
                        household: household.id,
                        address: address(&m.chain),
                    });
                }
                plan.tasks.push(NewTask {
                    kind: TaskKind::TraceHousehold,
                    title: format!("追踪告知 {} 同住人员 {} 人", m.person.name, new.len()),
                    area: Some(household.clone()),
                    person: Some(m.person.clone()),
                    assignee: worker.clone(),
                    target: new.len() as u32,
                });
            }
        }
        if pb.trace_affiliations && input.kind == MemberKind::PoolMember {
            for (org, kind) in &m.affiliations {
                if affiliations.insert(org.id) {
                    plan.tasks.push(NewTask {
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
                            role: Role::Cdc,
                            area: org.id,
                            area_name: org.name.clone(),
                        },
                        target: 0,
                    });
                }
            }
        }
        let Some(compound) = compound_of(&m.chain) else {
            continue;
        };
        if !compounds.insert(compound.id) {
            continue;
        }
        let upto: Vec<AreaBrief> = m
            .chain
            .iter()
            .take_while(|a| a.id != compound.id)
            .cloned()
            .chain(std::iter::once(compound.clone()))
            .collect();
        let worker = responsible_for(&upto).unwrap_or(worker);
        plan.orders.push(NewOrder {
            kind: OrderKind::StaticControl,
            area: Some(compound.clone()),
            person: None,
            starts_at: at,
            ends_at: None,
            reason: format!("{} 涉及住户，静态化管控", input.source),
        });
        plan.round_areas.push(compound.id);
        let buildings = input
            .buildings
            .get(&compound.id)
            .cloned()
            .unwrap_or_default();
        for b in &buildings {
            plan.tasks.push(NewTask {
                kind: TaskKind::DoorToDoor,
                title: format!("{} {} 上门采样", compound.name, b.name),
                area: Some(b.clone()),
                person: None,
                assignee: worker.clone(),
                target: 0,
            });
        }
        plan.tasks.push(NewTask {
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
        plan.timeline.push(entry(
            TimelineKind::Order,
            format!(
                "{} 静态化管控；{} 栋楼上门采样任务下发 {}；环境采样任务",
                compound.name,
                buildings.len(),
                worker.label()
            ),
        ));
    }
    if isolated > 0 {
        plan.timeline.insert(
            0,
            entry(
                TimelineKind::Order,
                format!(
                    "{} {} 人隔离待单管复核，复核任务 {} 项",
                    input.kind.label_zh(),
                    isolated,
                    isolated
                ),
            ),
        );
    }
    if traced > 0 {
        plan.timeline.push(entry(
            TimelineKind::Task,
            format!("同住人员 {traced} 人追踪告知"),
        ));
    }
    let orgs: Vec<&str> = plan
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::TraceAffiliation)
        .filter_map(|t| t.area.as_ref().map(|a| a.name.as_str()))
        .collect();
    if !orgs.is_empty() {
        plan.timeline.push(entry(
            TimelineKind::Task,
            format!("学校/单位追踪：{}", orgs.join("、")),
        ));
    }
    plan
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
        assert_eq!(w.role, Role::GridWorker);
        assert_eq!(w.label(), "瓦屋李社区第1网格 网格员");
        assert_eq!(incident_area(&chain[..3]).unwrap().name, "瓦屋李社区");
        let levels = grid_levels(&chain);
        assert_eq!(levels.len(), 3);
        assert_eq!(levels[0].role, Role::DistrictCommand);
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
        assert_eq!(responsible_for(&school).unwrap().role, Role::Community);
    }
}
