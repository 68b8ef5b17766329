//! The response to a result: a suspect tube opens an incident, and its
//! decisions need the right role; with the helpers that post a result.

use super::fixtures::{Fixture, ctx, pipeline_fixture, run};
use crate::Engine;
use gridsweep_response::report::IncidentInfo;
use gridsweep_storage::incidents;
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

/// Samples `persons` into a new tube, receives it and posts `outcome`;
/// then lets the response engine react, as the HTTP layer does.
fn alarm(
    engine: &Engine,
    round: i64,
    site: i64,
    code: &str,
    persons: &[NewPerson],
    outcome: gridsweep_domain::pipeline::Outcome,
) -> pipeline::Effects {
    tube_result(
        engine,
        round,
        site,
        code,
        persons,
        outcome,
        &gridsweep_response::Playbook::default(),
    )
}

/// A trigger tube: the round's pool size.
const POOL: bool = false;
/// A retest tube: exactly as many places as persons.
pub(super) const FITTED: bool = true;

/// [`alarm`] under a given playbook, for any round (retest tubes too).
pub(super) fn tube_result(
    engine: &Engine,
    round: i64,
    site: i64,
    code: &str,
    persons: &[NewPerson],
    outcome: gridsweep_domain::pipeline::Outcome,
    pb: &gridsweep_response::Playbook,
) -> pipeline::Effects {
    fitted_tube_result(engine, round, site, code, persons, outcome, pb, POOL)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn fitted_tube_result(
    engine: &Engine,
    round: i64,
    site: i64,
    code: &str,
    persons: &[NewPerson],
    outcome: gridsweep_domain::pipeline::Outcome,
    pb: &gridsweep_response::Playbook,
    fitted: bool,
) -> pipeline::Effects {
    use pipeline::Command::*;
    run(
        engine,
        OpenTube {
            tube: code.into(),
            round,
            site,
            kind: gridsweep_domain::pipeline::TubeKind::Human,
            capacity: fitted.then_some(persons.len() as u32),
        },
    )
    .unwrap();
    for p in persons {
        run(
            engine,
            AddPerson {
                tube: code.into(),
                document: Some(p.document.number().into()),
                document_kind: None,
                qr: None,
            },
        )
        .unwrap();
    }
    run(engine, SealTube { tube: code.into() }).unwrap();
    run(
        engine,
        Receive {
            tubes: vec![code.into()],
            boxes: vec![],
        },
    )
    .unwrap();
    run(
        engine,
        PostResult {
            tube: code.into(),
            outcome: Some(outcome),
            ct: Default::default(),
            correction: false,
        },
    )
    .unwrap();
    Engine::new(engine.store().clone())
        .with_playbook(pb.clone())
        .respond_to_result(code.into(), ctx("t").at)
        .unwrap()
}

/// A suspect tube opens an incident with members, tasks and orders; a
/// second tube joins it; coverage and the report count them.
pub fn suspect_tube_opens_an_incident(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, f) = pipeline_fixture(store, 21);
    let inc = a_suspect_tube_opens(engine, round, site, &persons, &f);
    a_second_tube_joins(engine, round, site, &persons, &inc);
    coverage_and_report(engine, round, &persons, &f, &inc);
}

/// Step 1 of [`suspect_tube_opens_an_incident`]: a negative tube does
/// nothing, a suspect one opens the incident with its members, tasks and
/// orders, once; returns the incident.
fn a_suspect_tube_opens(
    engine: &Engine,
    round: i64,
    site: i64,
    persons: &[NewPerson],
    f: &Fixture,
) -> IncidentInfo {
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::*;
    // A negative routine tube does nothing.
    assert!(
        alarm(
            engine,
            round,
            site,
            "NEG-0001",
            &persons[..1],
            Outcome::Negative
        )
        .is_empty()
    );
    assert!(engine.incidents().unwrap().is_empty());
    let fx = alarm(
        engine,
        round,
        site,
        "SUS-0001",
        &persons[1..20],
        Outcome::Suspected,
    );
    assert!(
        matches!(fx[0], pipeline::Effect::IncidentOpened { .. }),
        "{fx:?}"
    );
    let list = engine.incidents().unwrap();
    assert_eq!(list.len(), 1);
    let inc = &list[0];
    assert_eq!(inc.area.id, f.community);
    assert_eq!(inc.status, IncidentStatus::Open);
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    let pool = d
        .members
        .iter()
        .filter(|m| m.kind == MemberKind::PoolMember)
        .count();
    assert_eq!(pool, 19);
    // The two others of the household are traced, not isolated.
    assert_eq!(
        d.members
            .iter()
            .filter(|m| m.kind == MemberKind::Household)
            .count(),
        2
    );
    assert!(
        d.members
            .iter()
            .all(|m| m.person.document_masked.contains("********"))
    );
    let retests = d
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Retest)
        .count();
    assert_eq!(retests, 19);
    assert_eq!(
        d.orders
            .iter()
            .filter(|o| o.kind == OrderKind::IsolationPendingRetest)
            .count(),
        19
    );
    let controls: Vec<_> = d
        .orders
        .iter()
        .filter(|o| o.kind == OrderKind::StaticControl)
        .collect();
    assert_eq!(controls.len(), 1);
    assert_eq!(controls[0].area.as_ref().unwrap().name, "瓦屋李新居");
    assert!(
        d.tasks
            .iter()
            .any(|t| t.kind == TaskKind::DoorToDoor && t.area.as_ref().unwrap().id == f.building)
    );
    assert!(d.tasks.iter().any(|t| t.kind == TaskKind::Environmental));
    assert!(!d.timeline.is_empty());
    // Idempotent: a retried response changes nothing.
    assert!(
        engine
            .respond_to_result("SUS-0001".into(), ctx("t").at)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        engine.incident_detail(inc.id).unwrap().unwrap().tasks.len(),
        d.tasks.len()
    );
    inc.clone()
}

/// Step 2 of [`suspect_tube_opens_an_incident`]: a second suspect tube of
/// the same community joins the incident instead of opening another.
fn a_second_tube_joins(
    engine: &Engine,
    round: i64,
    site: i64,
    persons: &[NewPerson],
    inc: &IncidentInfo,
) {
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::*;
    // A second non-negative tube of the same community joins.
    alarm(
        engine,
        round,
        site,
        "SUS-0002",
        &persons[20..21],
        Outcome::Suspected,
    );
    let list = engine.incidents().unwrap();
    assert_eq!(list.len(), 1, "joined, not opened");
    let d2 = engine.incident_detail(inc.id).unwrap().unwrap();
    let pending = d2
        .members
        .iter()
        .filter(|m| m.status == MemberStatus::PendingRetest)
        .count();
    assert_eq!(
        pending, 20,
        "the traced housemate is now isolated pending retest"
    );
    assert_eq!(
        d2.tasks
            .iter()
            .filter(|t| t.kind == TaskKind::Retest)
            .count(),
        20
    );
    assert_eq!(
        d2.orders
            .iter()
            .filter(|o| o.kind == OrderKind::StaticControl)
            .count(),
        1
    );
}

/// Step 3 of [`suspect_tube_opens_an_incident`]: coverage of the routine and
/// expansion rounds, a mark, and the report's retest counts and blockers.
fn coverage_and_report(
    engine: &Engine,
    round: i64,
    persons: &[NewPerson],
    f: &Fixture,
    inc: &IncidentInfo,
) {
    use gridsweep_response::*;
    // Coverage of the community in the routine round; a mark explains one.
    let expansion = inc.expansion_round.unwrap();
    engine
        .mark_person(incidents::PersonMark {
            round,
            person: persons[0].id,
            kind: MarkKind::Away,
            note: String::new(),
            at: ctx("t").at,
            by: "网格员".into(),
        })
        .unwrap()
        .unwrap();
    let c = engine.coverage(f.community, round).unwrap().unwrap();
    assert_eq!(c.total.roster, 21);
    assert_eq!(c.total.sampled, 21);
    let c = engine.coverage(f.community, expansion).unwrap().unwrap();
    assert_eq!((c.total.sampled, c.total.missing), (0, 21));
    assert_eq!(engine.person_marks(round).unwrap().len(), 1);
    let report = engine.incident_report(inc.id).unwrap().unwrap();
    // Everyone awaiting a retest is counted, whatever else they are: the
    // 19 pool members and the housemate found in a tube of their own.
    assert_eq!(report.retests.members, 20);
    assert_eq!(report.retests.pending, 20);
    assert!(
        engine
            .incident_detail(inc.id)
            .unwrap()
            .unwrap()
            .blockers
            .contains(&"20 人单管复核结果未出".to_string()),
        "and every one of them blocks"
    );
    assert!(report.all_clear_at.is_none());
}

/// A decision is taken only by a role allowed to, once; a lift is refused
/// while retests are outstanding.
pub fn decisions_need_the_right_role(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use crate::incident::{ManualProposal, Verdict};
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::*;
    let (round, site, persons, _) = pipeline_fixture(store, 3);
    alarm(
        engine,
        round,
        site,
        "SUS-0101",
        &persons[..1],
        Outcome::Suspected,
    );
    let inc = engine.incidents().unwrap()[0].id;
    let fx = engine
        .propose_decision(
            inc,
            ManualProposal {
                kind: DecisionKind::HomeIsolation,
                person: Some(persons[0].id),
                reason: "疾控研判".into(),
                by: "李医生".into(),
                at: ctx("t").at,
                clock: None,
            },
        )
        .unwrap()
        .unwrap();
    let id = match &fx[0] {
        pipeline::Effect::DecisionProposed { decision, .. } => *decision,
        other => panic!("{other:?}"),
    };
    let verdict = |role| Verdict {
        decision: id,
        confirm: true,
        by: "王五".into(),
        role,
        at: ctx("t").at,
        note: None,
        override_reason: None,
        clock: None,
    };
    let e = engine
        .decide(inc, verdict(Responder::GridWorker))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), "role_not_allowed");
    engine
        .decide(inc, verdict(Responder::Cdc))
        .unwrap()
        .unwrap();
    let e = engine
        .decide(inc, verdict(Responder::Cdc))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), "decision_not_pending");
    let d = engine.incident_detail(inc).unwrap().unwrap();
    let dec = d.decisions.iter().find(|x| x.id == id).unwrap();
    assert_eq!(dec.decided_by.as_deref(), Some("王五"));
    assert_eq!(dec.decided_role, Some(Responder::Cdc));
    // The member and the rest of the household: 7 days at home.
    let homes: Vec<_> = d
        .orders
        .iter()
        .filter(|o| o.kind == OrderKind::HomeIsolation)
        .collect();
    assert_eq!(homes.len(), 3);
    assert!(
        homes
            .iter()
            .all(|o| (o.ends_at.unwrap() - o.starts_at).num_days() == 7)
    );
    // Lift is refused while retests are outstanding.
    let lift = engine
        .propose_decision(
            inc,
            ManualProposal {
                kind: DecisionKind::LiftAndClose,
                person: None,
                reason: "试图提前解除".into(),
                by: "张三".into(),
                at: ctx("t").at,
                clock: None,
            },
        )
        .unwrap()
        .unwrap();
    let lid = match &lift[0] {
        pipeline::Effect::DecisionProposed { decision, .. } => *decision,
        other => panic!("{other:?}"),
    };
    let e = engine
        .decide(
            inc,
            Verdict {
                decision: lid,
                confirm: true,
                by: "张三".into(),
                role: Responder::DistrictCommand,
                at: ctx("t").at,
                note: None,
                override_reason: None,
                clock: None,
            },
        )
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), "conditions_changed");
}
