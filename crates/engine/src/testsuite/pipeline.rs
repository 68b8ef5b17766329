//! The sample pipeline through the engine: a tube's life cycle,
//! environmental tubes, direct results, and the reach check on every
//! command.

use super::fixtures::{ctx, pipeline_fixture, run};
use crate::Engine;
use gridsweep_domain::Reach;
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

/// A tube from open to result: every step's checks and error codes, and
/// results corrected only on purpose.
pub fn tube_life_cycle(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 21);
    opening_checks(engine, round, site);
    sampling_checks(engine, &persons);
    sealing_boxing_and_receiving(engine, round, site, &persons);
    results_and_corrections(engine);
}

/// Opens a human tube of the round at the site, of the round's pool size.
fn open_human(round: i64, site: i64, tube: &str) -> pipeline::Command {
    pipeline::Command::OpenTube {
        tube: tube.into(),
        round,
        site,
        kind: gridsweep_domain::pipeline::TubeKind::Human,
        capacity: None,
    }
}

/// Adds a person to a tube by their document number.
fn add_by_document(tube: &str, p: &NewPerson) -> pipeline::Command {
    pipeline::Command::AddPerson {
        tube: tube.into(),
        document: Some(p.document.number().to_string()),
        document_kind: None,
        qr: None,
    }
}

/// Step 1 of [`tube_life_cycle`]: opens T0001; a second open, a bad code,
/// an unknown round and a capacity over the pool size are refused.
fn opening_checks(engine: &Engine, round: i64, site: i64) {
    use gridsweep_domain::pipeline::TubeKind;
    use pipeline::Command::*;
    let open = |tube: &str| open_human(round, site, tube);
    assert_eq!(run(engine, open("T0001")).map(|_| ()), Ok(()));
    assert_eq!(run(engine, open("T0001")).unwrap_err(), "tube_exists");
    assert_eq!(
        run(engine, open("bad code!")).unwrap_err(),
        "invalid_identifier"
    );
    assert_eq!(
        run(
            engine,
            OpenTube {
                tube: "T0009".into(),
                round: 999,
                site,
                kind: TubeKind::Human,
                capacity: None
            }
        )
        .unwrap_err(),
        "round_unknown"
    );
    assert_eq!(
        run(
            engine,
            OpenTube {
                tube: "T0009".into(),
                round,
                site,
                kind: TubeKind::Human,
                capacity: Some(21)
            }
        )
        .unwrap_err(),
        "bad_capacity"
    );
}

/// Step 2 of [`tube_life_cycle`]: fills T0001 with 20 persons (one by
/// health-code QR); duplicates, a full or unknown tube and a wrong check
/// digit are refused.
fn sampling_checks(engine: &Engine, persons: &[NewPerson]) {
    use pipeline::Command::*;
    let add = add_by_document;
    for p in &persons[..19] {
        run(engine, add("T0001", p)).unwrap();
    }
    assert_eq!(
        run(engine, add("T0001", &persons[0])).unwrap_err(),
        "duplicate_sample"
    );
    // By health-code QR.
    let qr = format!("GSHC1|resident_id|{}", persons[19].document.number());
    run(
        engine,
        AddPerson {
            tube: "T0001".into(),
            document: None,
            document_kind: None,
            qr: Some(qr),
        },
    )
    .unwrap();
    assert_eq!(
        run(engine, add("T0001", &persons[20])).unwrap_err(),
        "tube_full"
    );
    assert_eq!(
        run(engine, add("T0404", &persons[20])).unwrap_err(),
        "tube_unknown"
    );
    let mut wrong = persons[20].document.number().to_string();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '1' { '2' } else { '1' });
    assert_eq!(
        run(
            engine,
            AddPerson {
                tube: "T0001".into(),
                document: Some(wrong),
                document_kind: None,
                qr: None
            }
        )
        .unwrap_err(),
        "invalid_identifier"
    );
}

/// Step 3 of [`tube_life_cycle`]: seals, boxes, hands over and receives
/// T0001, each step refused out of order; an empty tube cannot be sealed.
fn sealing_boxing_and_receiving(engine: &Engine, round: i64, site: i64, persons: &[NewPerson]) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::{CtValues, Outcome, TubeStatus};
    use pipeline::Command::*;
    let open = |tube: &str| open_human(round, site, tube);
    let add = add_by_document;
    assert_eq!(
        run(
            engine,
            PostResult {
                tube: "T0001".into(),
                outcome: Some(Outcome::Negative),
                ct: CtValues::default(),
                correction: false
            }
        )
        .unwrap_err(),
        "tube_not_received"
    );
    assert_eq!(
        run(
            engine,
            Receive {
                tubes: vec!["T0001".into()],
                boxes: vec![]
            }
        )
        .unwrap_err(),
        "tube_not_sealed"
    );
    run(
        engine,
        SealTube {
            tube: "T0001".into(),
        },
    )
    .unwrap();
    assert_eq!(
        run(
            engine,
            SealTube {
                tube: "T0001".into()
            }
        )
        .unwrap_err(),
        "tube_not_open"
    );
    assert_eq!(
        run(engine, add("T0001", &persons[20])).unwrap_err(),
        "tube_not_open"
    );
    run(engine, open("T0002")).unwrap();
    assert_eq!(
        run(
            engine,
            SealTube {
                tube: "T0002".into()
            }
        )
        .unwrap_err(),
        "tube_empty"
    );
    assert_eq!(
        run(
            engine,
            BoxTubes {
                box_barcode: "BOX-1".into(),
                tubes: vec!["T0002".into()]
            }
        )
        .unwrap_err(),
        "tube_not_sealed"
    );
    run(
        engine,
        BoxTubes {
            box_barcode: "BOX-1".into(),
            tubes: vec!["T0001".into()],
        },
    )
    .unwrap();
    assert_eq!(
        store.tube("T0001").unwrap().unwrap().status,
        TubeStatus::Boxed
    );
    assert_eq!(
        run(
            engine,
            Receive {
                tubes: vec![],
                boxes: vec!["BOX-9".into()]
            }
        )
        .unwrap_err(),
        "box_unknown"
    );
    run(
        engine,
        HandOver {
            box_barcode: "BOX-1".into(),
        },
    )
    .unwrap();
    assert_eq!(
        run(
            engine,
            HandOver {
                box_barcode: "BOX-1".into()
            }
        )
        .unwrap_err(),
        "box_closed"
    );
    let got = run(
        engine,
        Receive {
            tubes: vec![],
            boxes: vec!["BOX-1".into()],
        },
    )
    .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        store.tube("T0001").unwrap().unwrap().status,
        TubeStatus::Received
    );
}

/// Step 4 of [`tube_life_cycle`]: a suspect result; a retry changes
/// nothing, a different result needs a correction, and both are kept.
fn results_and_corrections(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::{CtValues, Outcome};
    use pipeline::Command::*;
    let suspect = CtValues {
        orf1ab: Some(32.1),
        n: Some(33.0),
    };
    let fx = run(
        engine,
        PostResult {
            tube: "T0001".into(),
            outcome: None,
            ct: suspect,
            correction: false,
        },
    )
    .unwrap();
    assert!(
        matches!(
            &fx[0],
            pipeline::Effect::TubeResulted {
                outcome: Outcome::Suspected,
                ..
            }
        ),
        "{fx:?}"
    );
    // A retry of the same result changes nothing; a different one needs a correction.
    let fx = run(
        engine,
        PostResult {
            tube: "T0001".into(),
            outcome: None,
            ct: suspect,
            correction: false,
        },
    )
    .unwrap();
    assert!(matches!(&fx[0], pipeline::Effect::ResultUnchanged { .. }));
    assert_eq!(
        run(
            engine,
            PostResult {
                tube: "T0001".into(),
                outcome: Some(Outcome::Negative),
                ct: CtValues::default(),
                correction: false
            }
        )
        .unwrap_err(),
        "result_conflict"
    );
    run(
        engine,
        PostResult {
            tube: "T0001".into(),
            outcome: Some(Outcome::Negative),
            ct: CtValues::default(),
            correction: true,
        },
    )
    .unwrap();
    let history = store.results("T0001").unwrap();
    assert_eq!(history.len(), 2);
    assert!(!history[0].current && history[1].current && history[1].correction);
    assert_eq!(history[0].outcome, Outcome::Suspected);
    assert_eq!(store.tube("T0001").unwrap().unwrap().samples, 20);
}

/// Environmental tubes take points, not persons, up to their capacity.
pub fn environmental_tubes(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::TubeKind;
    use pipeline::Command::*;
    let (round, site, persons, _) = pipeline_fixture(store, 1);
    run(
        engine,
        OpenTube {
            tube: "E0001".into(),
            round,
            site,
            kind: TubeKind::Environmental,
            capacity: None,
        },
    )
    .unwrap();
    for i in 0..10 {
        run(
            engine,
            AddPoint {
                tube: "E0001".into(),
                point: format!("{i}号楼电梯按钮"),
            },
        )
        .unwrap();
    }
    assert_eq!(
        run(
            engine,
            AddPoint {
                tube: "E0001".into(),
                point: "单元门把手".into()
            }
        )
        .unwrap_err(),
        "tube_full"
    );
    run(
        engine,
        OpenTube {
            tube: "E0002".into(),
            round,
            site,
            kind: TubeKind::Environmental,
            capacity: None,
        },
    )
    .unwrap();
    run(
        engine,
        AddPoint {
            tube: "E0002".into(),
            point: "快递柜".into(),
        },
    )
    .unwrap();
    assert_eq!(
        run(
            engine,
            AddPoint {
                tube: "E0002".into(),
                point: "快递柜".into()
            }
        )
        .unwrap_err(),
        "duplicate_point"
    );
    let p = &persons[0];
    assert_eq!(
        run(
            engine,
            AddPerson {
                tube: "E0002".into(),
                document: Some(p.document.number().into()),
                document_kind: None,
                qr: None
            }
        )
        .unwrap_err(),
        "wrong_tube_kind"
    );
}

/// A result for a tube not received by a lab is refused unless its site
/// may post results directly.
pub fn direct_results_need_site_permission(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::{CtValues, Outcome, TubeKind};
    use pipeline::Command::*;
    let (round, site, persons, _) = pipeline_fixture(store, 1);
    run(
        engine,
        OpenTube {
            tube: "D0001".into(),
            round,
            site,
            kind: TubeKind::Human,
            capacity: Some(1),
        },
    )
    .unwrap();
    run(
        engine,
        AddPerson {
            tube: "D0001".into(),
            document: Some(persons[0].document.number().into()),
            document_kind: None,
            qr: None,
        },
    )
    .unwrap();
    run(
        engine,
        SealTube {
            tube: "D0001".into(),
        },
    )
    .unwrap();
    let result = || PostResult {
        tube: "D0001".into(),
        outcome: Some(Outcome::Negative),
        ct: CtValues::default(),
        correction: false,
    };
    assert_eq!(run(engine, result()).unwrap_err(), "tube_not_received");
    store.set_direct_results(site, true).unwrap();
    run(engine, result()).unwrap();
}

/// Every command is checked against the actor's reach by the engine, as
/// the rows are when it applies them: no HTTP layer in between.
pub fn the_engine_checks_reach_inside_the_transaction(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use pipeline::{Command, DeviceEvent};
    let (round, site, persons, f) = pipeline_fixture(store, 2);
    let community = store.area(f.community).unwrap().unwrap().path;
    let other = store.area(f.other_community).unwrap().unwrap().path;
    let as_reach = |reach: Reach, cmd: Command| {
        let mut c = ctx("reach");
        c.reach = reach;
        engine
            .execute(cmd, c)
            .unwrap()
            .map_err(|e| e.code().to_string())
    };
    let open = |tube: &str| Command::OpenTube {
        tube: tube.into(),
        round,
        site,
        kind: gridsweep_domain::pipeline::TubeKind::Human,
        capacity: None,
    };
    let forbidden = Err("forbidden".to_string());
    // The site lies in 瓦屋李: another community, a lab and nobody are refused.
    assert_eq!(
        as_reach(Reach::Area(other.clone()), open("RCH-0001")),
        forbidden
    );
    assert_eq!(as_reach(Reach::Lab, open("RCH-0001")), forbidden);
    assert_eq!(as_reach(Reach::Nowhere, open("RCH-0001")), forbidden);
    assert!(store.tube("RCH-0001").unwrap().is_none());
    assert!(as_reach(Reach::Area(community.clone()), open("RCH-0001")).is_ok());
    let add = Command::AddPerson {
        tube: " RCH-0001 ".into(),
        document: Some(persons[0].document.number().into()),
        document_kind: None,
        qr: None,
    };
    assert_eq!(as_reach(Reach::Area(other.clone()), add.clone()), forbidden);
    assert!(as_reach(Reach::Area(community.clone()), add).is_ok());
    let seal = Command::SealTube {
        tube: "RCH-0001".into(),
    };
    assert_eq!(
        as_reach(Reach::Area(other.clone()), seal.clone()),
        forbidden
    );
    assert!(as_reach(Reach::Area(community.clone()), seal).is_ok());
    let pack = Command::BoxTubes {
        box_barcode: "RCHBOX-01".into(),
        tubes: vec!["RCH-0001".into()],
    };
    assert_eq!(
        as_reach(Reach::Area(other.clone()), pack.clone()),
        forbidden
    );
    assert!(as_reach(Reach::Area(community.clone()), pack).is_ok());
    // Another community may not add its tube to that box, nor hand it over.
    let hand = Command::HandOver {
        box_barcode: "RCHBOX-01".into(),
    };
    assert_eq!(
        as_reach(Reach::Area(other.clone()), hand.clone()),
        forbidden
    );
    assert!(as_reach(Reach::Area(community.clone()), hand).is_ok());
    // Lab steps need a lab.
    let receive = Command::Receive {
        tubes: vec![],
        boxes: vec!["RCHBOX-01".into()],
    };
    assert_eq!(
        as_reach(Reach::Area(community.clone()), receive.clone()),
        forbidden
    );
    assert!(as_reach(Reach::Lab, receive).is_ok());
    let result = Command::PostResult {
        tube: "RCH-0001".into(),
        outcome: Some(gridsweep_domain::pipeline::Outcome::Negative),
        ct: Default::default(),
        correction: false,
    };
    assert_eq!(
        as_reach(Reach::Area(community.clone()), result.clone()),
        forbidden
    );
    assert!(as_reach(Reach::Lab, result).is_ok());

    // A device of another community: its waiting scan is checked when the
    // gap fills, against the tube as it then is.
    let at = ctx("x").at;
    let scan = DeviceEvent {
        seq: 2,
        at,
        command: Command::AddPerson {
            tube: "RCH-0002".into(),
            document: Some(persons[1].document.number().into()),
            document_kind: None,
            qr: None,
        },
    };
    let r = engine
        .sync("other/pda".into(), vec![scan], Reach::Area(other.clone()))
        .unwrap();
    assert_eq!(r.pending, vec![2]);
    assert!(as_reach(Reach::Area(community.clone()), open("RCH-0002")).is_ok());
    let first = DeviceEvent {
        seq: 1,
        at,
        command: Command::SealTube {
            tube: "RCH-0002".into(),
        },
    };
    let r = engine
        .sync("other/pda".into(), vec![first], Reach::Area(other))
        .unwrap();
    assert_eq!(
        r.rejected
            .iter()
            .map(|x| (x.seq, x.code.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "forbidden"), (2, "forbidden")]
    );
    assert_eq!(store.tube("RCH-0002").unwrap().unwrap().samples, 0);
}
