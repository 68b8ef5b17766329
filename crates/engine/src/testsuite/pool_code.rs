//! The pool + code playbook: stage-2 code tubes clear and flag members,
//! and a third round resolves two positives.

use super::fixtures::{ctx, person, pipeline_fixture};
use super::incidents::{FITTED, fitted_tube_result, tube_result};
use crate::Engine;
use crate::incident::IncidentDetail;
use gridsweep_domain::PersonId;
use gridsweep_response::report::IncidentInfo;
use gridsweep_storage::*;

/// The pool + code playbook, with a third round of single tubes.
fn pc3() -> gridsweep_response::Playbook {
    gridsweep_response::Playbook {
        stage2: gridsweep_response::Stage2::PoolCode { third_round: true },
        ..Default::default()
    }
}

/// Samples the tubes the decoder asked for (`tubes`, member indices into
/// `pool`) in the retest round, each positive when it holds one of
/// `positives`, and lets the engine react after each.
fn sample_asked(
    engine: &Engine,
    retest_round: i64,
    site: i64,
    prefix: &str,
    pool: &[NewPerson],
    tubes: &[Vec<usize>],
    positives: &[usize],
) {
    use gridsweep_domain::pipeline::Outcome;
    for (k, tube) in tubes.iter().enumerate() {
        let persons: Vec<NewPerson> = tube.iter().map(|&i| pool[i].clone()).collect();
        let outcome = if tube.iter().any(|i| positives.contains(i)) {
            Outcome::Positive
        } else {
            Outcome::Negative
        };
        fitted_tube_result(
            engine,
            retest_round,
            site,
            &format!("{prefix}-{k:02}"),
            &persons,
            outcome,
            &pc3(),
            FITTED,
        );
    }
}

/// The 20:1 pool under the pool + code playbook: 6 pooled retest tubes
/// instead of 20 single tubes; one positive is read off them, the other
/// 19 are cleared, and the positive is confirmed by a single tube.
pub fn pool_code_stage2_clears_and_flags(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    let (inc, asked) = six_code_tubes_are_asked(engine, round, site, &persons);
    let retest_round = inc.retest_round.unwrap();
    five_tubes_decide_nothing(engine, retest_round, site, &persons, &asked, &inc);
    the_sixth_clears_and_flags(engine, retest_round, site, &persons, &asked, &inc);
    let d = a_single_tube_confirms(engine, retest_round, site, &persons, &inc);
    contacts_capped_by_the_playbook(engine, &persons, &d, &inc);
}

/// Step 1 of [`pool_code_stage2_clears_and_flags`]: a suspect pool opens
/// an incident asking 6 code tubes of 10, each titled with its members;
/// returns the incident and the tubes asked.
fn six_code_tubes_are_asked(
    engine: &Engine,
    round: i64,
    site: i64,
    persons: &[NewPerson],
) -> (IncidentInfo, Vec<Vec<usize>>) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::report::TaskView;
    use gridsweep_response::*;
    tube_result(
        engine,
        round,
        site,
        "POOL-0001",
        persons,
        Outcome::Suspected,
        &pc3(),
    );
    let inc = engine.incidents().unwrap()[0].clone();
    let retest_round = inc.retest_round.unwrap();
    assert_eq!(store.round(retest_round).unwrap().unwrap().pool_size, 10);
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    let pooled: Vec<&TaskView> = d
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::PooledRetest)
        .collect();
    assert_eq!(
        pooled.len(),
        6,
        "6 stage-2 tubes instead of 20 single tubes"
    );
    assert!(
        pooled
            .iter()
            .all(|t| t.target == 10 && t.status == TaskStatus::Open)
    );
    assert_eq!(
        d.tasks
            .iter()
            .filter(|t| t.kind == TaskKind::Retest)
            .count(),
        0
    );
    let asked = Stage2::PoolCode { third_round: true }
        .after_pool(20)
        .unwrap()
        .retest_tubes;
    for (tube, task) in asked.iter().zip(&pooled) {
        for &i in tube {
            assert!(
                task.title.contains(persons[i].name.as_str()),
                "{}",
                task.title
            );
        }
    }
    (inc, asked)
}

/// Step 2 of [`pool_code_stage2_clears_and_flags`]: with member 13
/// positive, the first five code tubes back decide nothing.
fn five_tubes_decide_nothing(
    engine: &Engine,
    retest_round: i64,
    site: i64,
    persons: &[NewPerson],
    asked: &[Vec<usize>],
    inc: &IncidentInfo,
) {
    use gridsweep_response::*;
    // The positive is member 13; the first five tubes back decide nothing.
    sample_asked(
        engine,
        retest_round,
        site,
        "S2",
        persons,
        &asked[..5],
        &[13],
    );
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    assert!(
        d.members
            .iter()
            .filter(|m| m.kind == MemberKind::PoolMember)
            .all(|m| m.status == MemberStatus::PendingRetest)
    );
    assert_eq!(
        d.tasks
            .iter()
            .filter(|t| t.kind == TaskKind::PooledRetest && t.status == TaskStatus::Done)
            .count(),
        5
    );
}

/// Step 3 of [`pool_code_stage2_clears_and_flags`]: the sixth tube clears
/// 19 members and flags member 13 for a single tube; replaying it changes
/// nothing.
fn the_sixth_clears_and_flags(
    engine: &Engine,
    retest_round: i64,
    site: i64,
    persons: &[NewPerson],
    asked: &[Vec<usize>],
    inc: &IncidentInfo,
) {
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::report::TaskView;
    use gridsweep_response::*;
    // The sixth tube completes the round: 19 cleared, member 13 flagged.
    let rest: Vec<Vec<usize>> = asked[5..].to_vec();
    let (code, outcome) = ("S2-LAST", rest[0].contains(&13));
    let six: Vec<NewPerson> = rest[0].iter().map(|&i| persons[i].clone()).collect();
    fitted_tube_result(
        engine,
        retest_round,
        site,
        code,
        &six,
        if outcome {
            Outcome::Positive
        } else {
            Outcome::Negative
        },
        &pc3(),
        FITTED,
    );
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    let status = |i: usize| {
        d.members
            .iter()
            .find(|m| m.person.id == persons[i].id)
            .unwrap()
            .status
    };
    for i in 0..20 {
        let want = if i == 13 {
            MemberStatus::PendingRetest
        } else {
            MemberStatus::Cleared
        };
        assert_eq!(status(i), want, "member {i}");
    }
    assert!(
        d.tasks
            .iter()
            .filter(|t| t.kind == TaskKind::PooledRetest)
            .all(|t| t.status == TaskStatus::Done)
    );
    let confirm: Vec<&TaskView> = d
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Retest)
        .collect();
    assert_eq!(
        confirm.len(),
        1,
        "one single tube to confirm the flagged member"
    );
    assert_eq!(confirm[0].person.as_ref().unwrap().id, persons[13].id);
    assert_eq!(confirm[0].status, TaskStatus::Open);
    assert!(
        d.timeline
            .iter()
            .any(|e| e.text.contains("混管复核判读") && e.text.contains("19 人复核阴性")),
        "{:?}",
        d.timeline.iter().map(|e| &e.text).collect::<Vec<_>>()
    );
    assert!(
        d.blockers
            .iter()
            .any(|b| b.contains("1 人单管复核结果未出"))
    );
    // Replaying the response for a tube already read changes nothing.
    let before = engine.incident_detail(inc.id).unwrap().unwrap();
    assert!(
        Engine::new(engine.store().clone())
            .with_playbook(pc3())
            .respond_to_result(code.into(), ctx("t").at)
            .unwrap()
            .is_empty()
    );
    assert_eq!(engine.incident_detail(inc.id).unwrap().unwrap(), before);
}

/// Step 4 of [`pool_code_stage2_clears_and_flags`]: the single tube is
/// positive and the CDC is asked to confirm the case; returns the detail.
fn a_single_tube_confirms(
    engine: &Engine,
    retest_round: i64,
    site: i64,
    persons: &[NewPerson],
    inc: &IncidentInfo,
) -> IncidentDetail {
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::*;
    // The single tube confirms: positive, and the CDC is asked to confirm the case.
    fitted_tube_result(
        engine,
        retest_round,
        site,
        "S3-CONFIRM",
        &persons[13..14],
        Outcome::Positive,
        &pc3(),
        FITTED,
    );
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    assert_eq!(
        d.members
            .iter()
            .find(|m| m.person.id == persons[13].id)
            .unwrap()
            .status,
        MemberStatus::Positive
    );
    assert!(
        d.tasks
            .iter()
            .all(|t| t.kind != TaskKind::Retest || t.status == TaskStatus::Done)
    );
    assert!(
        d.decisions
            .iter()
            .any(|x| x.kind == DecisionKind::ConfirmCase
                && x.person.as_ref().map(|p| p.id) == Some(persons[13].id))
    );
    let report = engine.incident_report(inc.id).unwrap().unwrap();
    assert_eq!(
        (
            report.retests.members,
            report.retests.negative,
            report.retests.positive
        ),
        (20, 19, 1)
    );
    d
}

/// Step 5 of [`pool_code_stage2_clears_and_flags`]: confirming the case
/// under a playbook capping same-building contacts at 5 takes 5 of the 8
/// next door, and says so.
fn contacts_capped_by_the_playbook(
    engine: &Engine,
    persons: &[NewPerson],
    d: &IncidentDetail,
    inc: &IncidentInfo,
) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_response::*;
    // The case's building holds 8 more residents next door; a playbook
    // capping same-building contacts at 5 takes 5 of them, and says so.
    let f = other_household_of(store, &persons[0]);
    let next_door: Vec<NewPerson> = (0..8)
        .map(|i| person(store, &format!("邻居{i}"), 700 + i * 2 + 1, &f))
        .collect();
    store
        .write_population(&PopulationBatch {
            persons: next_door,
            ..Default::default()
        })
        .unwrap();
    let case = d
        .decisions
        .iter()
        .find(|x| x.kind == DecisionKind::ConfirmCase)
        .unwrap();
    let capped = gridsweep_response::Playbook {
        max_building_contacts: 5,
        ..pc3()
    };
    Engine::new(engine.store().clone())
        .with_playbook(capped)
        .decide(
            inc.id,
            crate::incident::Verdict {
                decision: case.id,
                confirm: true,
                by: "疾控".into(),
                role: Responder::Cdc,
                at: case.proposed_at + chrono::Duration::minutes(30),
                note: None,
                override_reason: None,
                clock: None,
            },
        )
        .unwrap()
        .unwrap();
    let child = engine.incidents().unwrap()[0].clone();
    assert_eq!(child.parent, Some(inc.id));
    let cd = engine.incident_detail(child.id).unwrap().unwrap();
    let contacts = cd
        .members
        .iter()
        .filter(|m| m.kind == MemberKind::Contact)
        .count();
    assert_eq!(contacts, 19 + 5, "the household and 5 of the 8 next door");
    assert!(
        cd.timeline
            .iter()
            .any(|e| e.text
                == "同楼栋 28 人，按预案上限 max_building_contacts = 5 纳入密接，3 人未纳入"),
        "{:?}",
        cd.timeline
    );
}

/// The other household of the fixture's building (the one `p` does not
/// live in).
fn other_household_of(store: &dyn Store, p: &NewPerson) -> AreaNode {
    let building = store.area(p.household).unwrap().unwrap().parent.unwrap();
    store
        .children(building)
        .unwrap()
        .into_iter()
        .find(|h| h.id != p.household)
        .unwrap()
}

/// Two positives in the pool: the code tubes are ambiguous, the decoder
/// asks single tubes of the candidates in a third round, and their own
/// results decide (no further confirmation tube).
pub fn pool_code_third_round_resolves_two_positives(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::report::TaskView;
    use gridsweep_response::*;
    use std::collections::BTreeSet;
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    tube_result(
        engine,
        round,
        site,
        "POOL-0002",
        &persons,
        Outcome::Positive,
        &pc3(),
    );
    let inc = engine.incidents().unwrap()[0].clone();
    let retest_round = inc.retest_round.unwrap();
    let asked = Stage2::PoolCode { third_round: true }
        .after_pool(20)
        .unwrap()
        .retest_tubes;
    sample_asked(engine, retest_round, site, "S2", &persons, &asked, &[0, 1]);
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    let singles: Vec<&TaskView> = d
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Retest)
        .collect();
    // Codewords 000111 and 001011 light 001111: four candidates.
    let want: BTreeSet<PersonId> = persons[..4].iter().map(|p| p.id).collect();
    let got: BTreeSet<PersonId> = singles
        .iter()
        .map(|t| t.person.as_ref().unwrap().id)
        .collect();
    assert_eq!(got, want);
    let cleared = d
        .members
        .iter()
        .filter(|m| m.status == MemberStatus::Cleared)
        .count();
    assert_eq!(cleared, 16);
    assert!(d.timeline.iter().any(|e| e.text.contains("第3轮复核 4 管")));
    // Third round: members 0 and 1 positive, 2 and 3 negative.
    for i in 0..4 {
        fitted_tube_result(
            engine,
            retest_round,
            site,
            &format!("S3-{i}"),
            &persons[i..i + 1],
            if i < 2 {
                Outcome::Positive
            } else {
                Outcome::Negative
            },
            &pc3(),
            FITTED,
        );
    }
    let d = engine.incident_detail(inc.id).unwrap().unwrap();
    let status = |i: usize| {
        d.members
            .iter()
            .find(|m| m.person.id == persons[i].id)
            .unwrap()
            .status
    };
    assert_eq!(status(0), MemberStatus::Positive);
    assert_eq!(status(1), MemberStatus::Positive);
    assert_eq!(status(2), MemberStatus::Cleared);
    assert_eq!(status(3), MemberStatus::Cleared);
    // No extra confirmation tube: the third round's were single tubes.
    assert_eq!(
        d.tasks
            .iter()
            .filter(|t| t.kind == TaskKind::Retest)
            .count(),
        4
    );
    assert!(d.tasks.iter().all(
        |t| !matches!(t.kind, TaskKind::Retest | TaskKind::PooledRetest)
            || t.status == TaskStatus::Done
    ));
    // 1 pool + 6 code tubes + 4 singles = 11 tubes for 20 people, not 21.
    let tubes = engine.incident_report(inc.id).unwrap().unwrap();
    assert_eq!(tubes.retests.positive, 2);
}
