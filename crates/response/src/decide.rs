//! The decision rules. The playbook never acts on its own judgement: it
//! proposes, and a person with the right role confirms (the record keeps
//! who). All retests and expansion tubes negative → lift every control and
//! close; a grey-zone member → home isolation with the household; a
//! positive retest → confirmed case, controls stay, contacts cascade.

use crate::model::*;
use crate::playbook::Playbook;
use gridsweep_domain::PersonId;
use gridsweep_domain::pipeline::Outcome;
use serde::{Deserialize, Serialize};

/// A member as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFact {
    pub person: PersonId,
    pub kind: MemberKind,
    pub status: MemberStatus,
}

/// The expansion round's tubes (human and environmental).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TubeTally {
    pub tubes: u32,
    pub resulted: u32,
    pub non_negative: u32,
}

/// A decision already on record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFact {
    pub kind: DecisionKind,
    pub person: Option<PersonId>,
    pub status: DecisionStatus,
}

/// One non-negative tube's chain of follow-ups (SPEC §8: every
/// non-negative tube has its own chain — trigger, expansion, environmental
/// or retest — and the incident closes only when every chain is resolved).
/// A human tube's chain is resolved when each of its persons has a retest
/// answer that is not a case; an environmental tube's when its points are
/// disinfected and a later resampling of its site came back negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    pub tube: String,
    pub role: crate::report::TubeRole,
    pub kind: gridsweep_domain::pipeline::TubeKind,
    pub outcome: Option<gridsweep_domain::pipeline::Outcome>,
    pub site: String,
    pub resulted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Persons in the tube (0 for an environmental tube).
    pub persons: u32,
    /// Of them, still awaiting a retest answer.
    pub awaiting: u32,
    /// Of them, retest positive or confirmed.
    pub cases: u32,
    /// Environmental: disinfection task done.
    pub disinfected: bool,
    /// Environmental: a later tube of the site resulted negative.
    pub resampled: bool,
    pub resolved: bool,
}

impl Chain {
    /// What the chain still waits for, in staff's words (empty when resolved).
    pub fn waiting_for(&self) -> String {
        if self.resolved {
            return String::new();
        }
        match self.kind {
            gridsweep_domain::pipeline::TubeKind::Human => {
                let mut w = Vec::new();
                if self.awaiting > 0 {
                    w.push(format!("{} 人待复核", self.awaiting));
                }
                if self.cases > 0 {
                    w.push(format!("{} 人复核阳性", self.cases));
                }
                if w.is_empty() {
                    w.push("待复核".to_string());
                }
                w.join("，")
            }
            gridsweep_domain::pipeline::TubeKind::Environmental => {
                let mut w = Vec::new();
                if !self.disinfected {
                    w.push("待消杀");
                }
                if !self.resampled {
                    w.push("待复采阴性");
                }
                w.join("，")
            }
        }
    }

    /// "扩面筛查 KM1-1-0003（环境）".
    pub fn label(&self) -> String {
        let role = match self.role {
            crate::report::TubeRole::Trigger => "触发管",
            crate::report::TubeRole::Expansion => "扩面筛查",
            crate::report::TubeRole::Retest => "复核管",
        };
        match self.kind {
            gridsweep_domain::pipeline::TubeKind::Human => format!("{role} {}", self.tube),
            gridsweep_domain::pipeline::TubeKind::Environmental => {
                format!("{role} {}（环境）", self.tube)
            }
        }
    }
}

/// A controlled compound's coverage over the incident's rounds: every
/// resident sampled in the expansion or retest round, or accounted for
/// (marked away / hospitalised / sampled elsewhere, or under isolation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompoundCoverage {
    /// The incident whose control it is (a cascade controls its own).
    #[serde(default)]
    pub incident: i64,
    pub area: AreaBrief,
    pub roster: u64,
    pub sampled: u64,
    /// Not sampled but accounted for.
    pub accounted: u64,
    pub missing: u64,
    /// The control is lifted.
    pub lifted: bool,
}

impl CompoundCoverage {
    /// Sampled or accounted for, in whole per cent rounded down (100 only
    /// when nobody is missing; an empty roster is fully covered).
    pub fn percent(&self) -> u64 {
        ((self.sampled + self.accounted) * 100)
            .checked_div(self.roster)
            .unwrap_or(100)
    }

    /// Whether the compound meets a requirement of `required` per cent.
    pub fn meets(&self, required: u32) -> bool {
        (self.sampled + self.accounted) * 100 >= u64::from(required) * self.roster
    }
}

/// What the rules look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub status: IncidentStatus,
    pub members: Vec<MemberFact>,
    pub expansion: TubeTally,
    pub decisions: Vec<DecisionFact>,
    /// Every non-negative tube's chain.
    #[serde(default)]
    pub chains: Vec<Chain>,
    /// The compounds still under static control, with their coverage;
    /// `None` when not computed (the caller found other blockers first).
    #[serde(default)]
    pub coverage: Option<Vec<CompoundCoverage>>,
}

/// Why controls may not be lifted yet. `overridable` blockers (coverage
/// below the playbook's requirement) may be passed by an explicit,
/// recorded override with a reason; the others never.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub text: String,
    pub overridable: bool,
}

/// A decision the playbook proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub kind: DecisionKind,
    /// The member it is about (none for lift-and-close).
    pub person: Option<PersonId>,
    pub reason: String,
}

/// What a single-tube retest means for the member.
pub fn retest_status(outcome: Outcome, grey_zone: bool) -> MemberStatus {
    match outcome {
        Outcome::Negative => MemberStatus::Cleared,
        Outcome::Suspected if grey_zone => MemberStatus::GreyZone,
        Outcome::Suspected | Outcome::Positive => MemberStatus::Positive,
        // The run failed: the member waits for a new sample.
        Outcome::Invalid => MemberStatus::PendingRetest,
    }
}

/// Why controls may not be lifted yet; empty when they may.
pub fn lift_blockers(f: &Facts) -> Vec<String> {
    blockers(f, 100).into_iter().map(|b| b.text).collect()
}

/// The blockers that no override passes: people awaiting retests, cases,
/// tubes without results, unresolved chains.
pub fn hard_blockers(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if f.status != IncidentStatus::Open {
        out.push("事件已结案".to_string());
    }
    // Everyone awaiting a retest blocks, whatever else they are (a
    // household member found in a reactive tube of their own included).
    let pending = f
        .members
        .iter()
        .filter(|m| m.status == MemberStatus::PendingRetest)
        .count();
    if pending > 0 {
        out.push(format!("{pending} 人单管复核结果未出"));
    }
    let cases = f
        .members
        .iter()
        .filter(|m| matches!(m.status, MemberStatus::Positive | MemberStatus::Confirmed))
        .count();
    if cases > 0 {
        out.push(format!("{cases} 人复核阳性"));
    }
    if f.expansion.tubes == 0 {
        out.push("扩面筛查尚无采样".to_string());
    }
    if f.expansion.resulted < f.expansion.tubes {
        out.push(format!(
            "扩面筛查 {} 管结果未出",
            f.expansion.tubes - f.expansion.resulted
        ));
    }
    for c in f.chains.iter().filter(|c| !c.resolved) {
        out.push(format!("{} 非阴性：{}", c.label(), c.waiting_for()));
    }
    // A non-negative expansion tube without a chain on record (never
    // expected: each is linked when resulted) still blocks.
    let chained = f
        .chains
        .iter()
        .filter(|c| c.role == crate::report::TubeRole::Expansion)
        .count() as u32;
    if f.expansion.non_negative > chained {
        out.push(format!(
            "扩面筛查 {} 管非阴性",
            f.expansion.non_negative - chained
        ));
    }
    out
}

/// Every blocker, hard ones first, then each controlled compound below
/// `required` per cent coverage (when coverage was computed).
pub fn blockers(f: &Facts, required: u32) -> Vec<Blocker> {
    let mut out: Vec<Blocker> = hard_blockers(f)
        .into_iter()
        .map(|text| Blocker {
            text,
            overridable: false,
        })
        .collect();
    for c in f.coverage.iter().flatten() {
        if !c.lifted && !c.meets(required) {
            out.push(Blocker {
                text: format!(
                    "{} 覆盖 {}%（应检 {}，已采 {}，已说明 {}，缺 {} 人），未达解除要求 {}%",
                    c.area.name,
                    c.percent(),
                    c.roster,
                    c.sampled,
                    c.accounted,
                    c.missing,
                    required
                ),
                overridable: true,
            });
        }
    }
    out
}

fn on_record(f: &Facts, kind: DecisionKind, person: Option<PersonId>) -> bool {
    f.decisions
        .iter()
        .any(|d| d.kind == kind && d.person == person && d.status != DecisionStatus::Rejected)
}

/// The decisions the playbook would now take and that are not already
/// proposed or confirmed.
pub fn evaluate(pb: &Playbook, f: &Facts) -> Vec<Proposal> {
    let mut out = Vec::new();
    if f.status != IncidentStatus::Open {
        return out;
    }
    for m in &f.members {
        match m.status {
            MemberStatus::Positive if !on_record(f, DecisionKind::ConfirmCase, Some(m.person)) => {
                out.push(Proposal {
                    kind: DecisionKind::ConfirmCase,
                    person: Some(m.person),
                    reason: "单管复核阳性：确诊，管控继续，启动密接处置".into(),
                })
            }
            MemberStatus::GreyZone
                if !on_record(f, DecisionKind::HomeIsolation, Some(m.person)) =>
            {
                out.push(Proposal {
                    kind: DecisionKind::HomeIsolation,
                    person: Some(m.person),
                    reason: format!(
                        "单管复核 Ct 值处于灰区（指标略高）：本人及同住人员居家隔离 {} 天",
                        pb.home_isolation_days
                    ),
                })
            }
            _ => {}
        }
    }
    // Lift only with nothing blocking — coverage included: a proposal is
    // never made while coverage is unknown or short of the requirement.
    if f.coverage.is_some()
        && blockers(f, pb.lift_coverage_percent).is_empty()
        && !on_record(f, DecisionKind::LiftAndClose, None)
    {
        let reactive = f
            .chains
            .iter()
            .filter(|c| c.role != crate::report::TubeRole::Trigger)
            .count();
        out.push(Proposal {
            kind: DecisionKind::LiftAndClose,
            person: None,
            reason: if reactive == 0 {
                format!(
                    "单管复核及扩面筛查 {} 管全部阴性：解除全部管控并结案",
                    f.expansion.tubes
                )
            } else {
                format!(
                    "扩面筛查 {} 管中 {reactive} 管非阴性，其处置链均已闭环；单管复核全部完成，管控区域覆盖达标：解除全部管控并结案",
                    f.expansion.tubes
                )
            },
        });
    }
    out
}

/// Whether `role` may confirm (or reject) a decision in `status`.
pub fn check_confirm(
    pb: &Playbook,
    id: i64,
    kind: DecisionKind,
    status: DecisionStatus,
    role: Responder,
) -> Result<(), ResponseError> {
    if status != DecisionStatus::Proposed {
        return Err(ResponseError::DecisionNotPending {
            id,
            status: status.as_str().into(),
        });
    }
    if !pb.may_confirm(kind, role) {
        return Err(ResponseError::RoleNotAllowed {
            kind: kind.as_str().into(),
            role: role.as_str().into(),
            allowed: pb
                .confirm
                .roles(kind)
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn member(i: i64, kind: MemberKind, status: MemberStatus) -> MemberFact {
        MemberFact {
            person: PersonId(i),
            kind,
            status,
        }
    }

    fn facts(members: Vec<MemberFact>, tally: TubeTally) -> Facts {
        Facts {
            status: IncidentStatus::Open,
            members,
            expansion: tally,
            decisions: vec![],
            chains: vec![],
            coverage: Some(vec![]),
        }
    }

    #[test]
    fn the_story() {
        let pb = Playbook::default();
        let mut ms: Vec<_> = (1..=20)
            .map(|i| member(i, MemberKind::PoolMember, MemberStatus::Cleared))
            .collect();
        ms[7].status = MemberStatus::GreyZone;
        ms.push(member(99, MemberKind::Household, MemberStatus::Traced));
        let all_neg = TubeTally {
            tubes: 368,
            resulted: 368,
            non_negative: 0,
        };
        let p = evaluate(&pb, &facts(ms.clone(), all_neg));
        let kinds: Vec<_> = p.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            vec![DecisionKind::HomeIsolation, DecisionKind::LiftAndClose]
        );
        // Results still out: only the isolation.
        let half = TubeTally {
            resulted: 200,
            ..all_neg
        };
        assert_eq!(evaluate(&pb, &facts(ms.clone(), half)).len(), 1);
        // A positive retest: confirm proposed, never lift.
        ms[3].status = MemberStatus::Positive;
        let p = evaluate(&pb, &facts(ms, all_neg));
        assert!(p.iter().any(|p| p.kind == DecisionKind::ConfirmCase));
        assert!(!p.iter().any(|p| p.kind == DecisionKind::LiftAndClose));
    }

    #[test]
    fn roles() {
        let pb = Playbook::default();
        let ok = check_confirm(
            &pb,
            1,
            DecisionKind::LiftAndClose,
            DecisionStatus::Proposed,
            Responder::DistrictCommand,
        );
        assert!(ok.is_ok());
        let e = check_confirm(
            &pb,
            1,
            DecisionKind::LiftAndClose,
            DecisionStatus::Proposed,
            Responder::GridWorker,
        )
        .unwrap_err();
        assert_eq!((e.code(), e.status()), ("role_not_allowed", 403));
        let e = check_confirm(
            &pb,
            1,
            DecisionKind::HomeIsolation,
            DecisionStatus::Confirmed,
            Responder::Cdc,
        )
        .unwrap_err();
        assert_eq!(e.code(), "decision_not_pending");
    }

    fn chain(role: crate::report::TubeRole, resolved: bool) -> Chain {
        Chain {
            tube: "KM1-1-0004".into(),
            role,
            kind: gridsweep_domain::pipeline::TubeKind::Human,
            outcome: Some(Outcome::Positive),
            site: "春藤核酸采样小屋".into(),
            resulted_at: None,
            persons: 20,
            awaiting: if resolved { 0 } else { 20 },
            cases: 0,
            disinfected: false,
            resampled: false,
            resolved,
        }
    }

    fn compound(roster: u64, sampled: u64, accounted: u64) -> CompoundCoverage {
        CompoundCoverage {
            incident: 1,
            area: AreaBrief {
                id: gridsweep_domain::AreaId::new(5).unwrap(),
                level: gridsweep_domain::AreaLevel::Compound,
                name: "百合御府".into(),
            },
            roster,
            sampled,
            accounted,
            missing: roster - sampled - accounted,
            lifted: false,
        }
    }

    /// A reactive expansion tube blocks until its chain resolves, and
    /// then lifting is proposed (the tally still counts it non-negative).
    #[test]
    fn a_reactive_tube_blocks_until_its_chain_resolves() {
        let pb = Playbook::default();
        let tally = TubeTally {
            tubes: 23,
            resulted: 23,
            non_negative: 1,
        };
        let mut f = facts(vec![], tally);
        f.chains = vec![chain(crate::report::TubeRole::Expansion, false)];
        assert_eq!(
            lift_blockers(&f),
            vec!["扩面筛查 KM1-1-0004 非阴性：20 人待复核".to_string()]
        );
        assert!(evaluate(&pb, &f).is_empty());
        f.chains[0] = chain(crate::report::TubeRole::Expansion, true);
        assert!(lift_blockers(&f).is_empty());
        let p = evaluate(&pb, &f);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].reason.contains("1 管非阴性，其处置链均已闭环"),
            "{}",
            p[0].reason
        );
        // A non-negative tube with no chain on record still blocks.
        f.chains.clear();
        assert_eq!(lift_blockers(&f), vec!["扩面筛查 1 管非阴性".to_string()]);
    }

    /// Anyone awaiting a retest blocks, a household member included.
    #[test]
    fn everyone_awaiting_a_retest_blocks() {
        let f = facts(
            vec![member(
                1,
                MemberKind::Household,
                MemberStatus::PendingRetest,
            )],
            TubeTally {
                tubes: 1,
                resulted: 1,
                non_negative: 0,
            },
        );
        assert_eq!(lift_blockers(&f), vec!["1 人单管复核结果未出".to_string()]);
    }

    /// Coverage below the requirement blocks (overridably); unknown
    /// coverage never lets a lift be proposed.
    #[test]
    fn coverage_gates_the_lift() {
        let mut pb = Playbook::default();
        let tally = TubeTally {
            tubes: 8,
            resulted: 8,
            non_negative: 0,
        };
        let mut f = facts(vec![], tally);
        f.coverage = None;
        assert!(evaluate(&pb, &f).is_empty(), "coverage not known");
        f.coverage = Some(vec![compound(281, 155, 20)]);
        let b = blockers(&f, 100);
        assert_eq!(b.len(), 1);
        assert!(b[0].overridable);
        assert_eq!(
            b[0].text,
            "百合御府 覆盖 62%（应检 281，已采 155，已说明 20，缺 106 人），未达解除要求 100%"
        );
        assert!(evaluate(&pb, &f).is_empty());
        pb.lift_coverage_percent = 60;
        assert_eq!(evaluate(&pb, &f).len(), 1, "62 % meets a 60 % playbook");
        // 100 % means nobody missing: 280 of 281 is not enough.
        f.coverage = Some(vec![compound(281, 270, 10)]);
        assert_eq!(compound(281, 270, 10).percent(), 99);
        assert!(!compound(281, 270, 10).meets(100));
        assert!(compound(281, 271, 10).meets(100));
        assert_eq!(compound(0, 0, 0).percent(), 100);
    }

    fn status() -> impl Strategy<Value = MemberStatus> {
        prop::sample::select(MemberStatus::ALL.to_vec())
    }

    proptest! {
        /// Lift is proposed exactly when nothing blocks it, and never next
        /// to a positive retest or an outstanding tube.
        #[test]
        fn lift_only_when_everything_is_negative(
            statuses in prop::collection::vec(status(), 0..30),
            tubes in 0u32..50, resulted_less in 0u32..5, non_negative in 0u32..3,
        ) {
            let pb = Playbook::default();
            let members: Vec<_> = statuses.iter().enumerate()
                .map(|(i, s)| member(i as i64, MemberKind::PoolMember, *s)).collect();
            let resulted = tubes.saturating_sub(resulted_less);
            let f = facts(members.clone(), TubeTally { tubes, resulted, non_negative: non_negative.min(resulted) });
            let p = evaluate(&pb, &f);
            let lift = p.iter().any(|p| p.kind == DecisionKind::LiftAndClose);
            let blocked = members.iter().any(|m| matches!(m.status,
                MemberStatus::PendingRetest | MemberStatus::Positive | MemberStatus::Confirmed))
                || tubes == 0 || resulted < tubes || non_negative.min(resulted) > 0;
            prop_assert_eq!(lift, !blocked);
            // Proposing is idempotent: once on record, nothing is proposed again.
            let mut f2 = f.clone();
            f2.decisions = p.iter().map(|p| DecisionFact { kind: p.kind, person: p.person, status: DecisionStatus::Proposed }).collect();
            prop_assert!(evaluate(&pb, &f2).is_empty());
            // Every grey-zone member gets exactly one isolation proposal.
            let grey = members.iter().filter(|m| m.status == MemberStatus::GreyZone).count();
            prop_assert_eq!(p.iter().filter(|p| p.kind == DecisionKind::HomeIsolation).count(), grey);
        }
    }
}
