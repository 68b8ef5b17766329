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

/// What the rules look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub status: IncidentStatus,
    pub members: Vec<MemberFact>,
    pub expansion: TubeTally,
    pub decisions: Vec<DecisionFact>,
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

fn needs_retest(kind: MemberKind) -> bool {
    matches!(kind, MemberKind::PoolMember | MemberKind::Contact)
}

/// Why controls may not be lifted yet; empty when they may.
pub fn lift_blockers(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if f.status != IncidentStatus::Open {
        out.push("事件已结案".to_string());
    }
    let pending = f
        .members
        .iter()
        .filter(|m| needs_retest(m.kind) && m.status == MemberStatus::PendingRetest)
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
    if f.expansion.non_negative > 0 {
        out.push(format!("扩面筛查 {} 管非阴性", f.expansion.non_negative));
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
    if lift_blockers(f).is_empty() && !on_record(f, DecisionKind::LiftAndClose, None) {
        out.push(Proposal {
            kind: DecisionKind::LiftAndClose,
            person: None,
            reason: format!(
                "单管复核及扩面筛查 {} 管全部阴性：解除全部管控并结案",
                f.expansion.tubes
            ),
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
    role: Role,
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
            Role::DistrictCommand,
        );
        assert!(ok.is_ok());
        let e = check_confirm(
            &pb,
            1,
            DecisionKind::LiftAndClose,
            DecisionStatus::Proposed,
            Role::GridWorker,
        )
        .unwrap_err();
        assert_eq!((e.code(), e.status()), ("role_not_allowed", 403));
        let e = check_confirm(
            &pb,
            1,
            DecisionKind::HomeIsolation,
            DecisionStatus::Confirmed,
            Role::Cdc,
        )
        .unwrap_err();
        assert_eq!(e.code(), "decision_not_pending");
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
