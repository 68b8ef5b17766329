//! The test suite every backend runs: the store's own areas, and the use
//! cases of the engine over it.
//!
//! A backend's test file calls [`crate::storage_tests!`] with a function
//! that returns a fresh, empty, migrated store (or `None` to skip, e.g. when
//! no PostgreSQL server is configured). Each case below becomes one test,
//! given an [`Engine`] over that store.

use crate::Engine;
use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, DocumentKind, Gender, IdNumber,
    PersonDocument, PersonId, PersonName, Phone, Reach, SiteKind,
};
use gridsweep_storage::incidents;
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

/// Expands to one `#[test]` per case of the suite.
#[macro_export]
macro_rules! storage_tests {
    ($fresh:path) => {
        $crate::storage_tests!(@cases $fresh;
            areas_round_trip, resident_counts_roll_up, persons_round_trip_any_script,
            search_is_scoped, duplicate_document_writes_nothing, ids_do_not_overlap,
            find_areas_by_name, existing_documents_reported, sites_in_subtree,
            tube_life_cycle, environmental_tubes, direct_results_need_site_permission,
            sync_applies_each_event_once, suspect_tube_opens_an_incident,
            decisions_need_the_right_role, users_and_scopes, sessions_expire_and_end,
            password_change_ends_other_sessions,
            api_tokens_hashed_revocable_expiring, audit_appends_and_filters,
            person_site_and_box_lookups, pool_code_stage2_clears_and_flags,
            pool_code_third_round_resolves_two_positives,
            the_engine_checks_reach_inside_the_transaction,
            a_new_devices_batch_sent_twice_at_once_applies_once,
            overlapping_first_batches_at_once_lose_nothing,
            opposite_order_tubes_at_once_both_apply,
            a_read_never_waits_for_a_writer);
    };
    (@cases $fresh:path; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                match $fresh() {
                    Some(store) => $crate::testsuite::$case(&$crate::Engine::new(std::sync::Arc::from(store))),
                    None => eprintln!("skipped {}: no database configured", stringify!($case)),
                }
            }
        )*
    };
}

/// A tiny grid: district → sub-district → community → compound →
/// building → two households, a school, and a hut.
pub struct Fixture {
    pub district: AreaId,
    pub community: AreaId,
    pub other_community: AreaId,
    pub building: AreaId,
    pub school: AreaId,
    pub households: Vec<AreaId>,
    pub other_household: AreaId,
}

/// Builds the fixture areas (no persons).
pub fn fixture(store: &dyn Store) -> Fixture {
    let first = store.allocate_ids(IdKind::Area, 10).unwrap();
    let id = |i: i64| AreaId::new(first + i).unwrap();
    let d = NewArea::root(id(0), "高新区");
    let child = |p: &NewArea, i: i64, level, name: &str| {
        NewArea::child(p.id, p.level, &p.path, id(i), level, name).unwrap()
    };
    let sd = child(&d, 1, AreaLevel::SubDistrict, "梧桐街办事处");
    let c = child(&sd, 2, AreaLevel::Community, "瓦屋李社区");
    let comp = child(&c, 3, AreaLevel::Compound, "瓦屋李新居");
    let b = child(&comp, 4, AreaLevel::Building, "1号楼");
    let h1 = child(&b, 5, AreaLevel::Household, "1单元101");
    let h2 = child(&b, 6, AreaLevel::Household, "1单元102");
    let c2 = child(&sd, 7, AreaLevel::Community, "翡翠华庭社区");
    let h3 = {
        let b2 = child(&c2, 8, AreaLevel::Building, "8号楼");
        let h = child(&b2, 9, AreaLevel::Household, "2单元301");
        store
            .write_population(&PopulationBatch {
                areas: vec![d.clone(), sd.clone(), c.clone(), comp.clone(), b.clone()],
                ..Default::default()
            })
            .unwrap();
        store
            .write_population(&PopulationBatch {
                areas: vec![h1.clone(), h2.clone(), c2.clone(), b2, h.clone()],
                ..Default::default()
            })
            .unwrap();
        h.id
    };
    let sid = store.allocate_ids(IdKind::Area, 1).unwrap();
    let school = child(&c, sid - first, AreaLevel::School, "高新区第三十七中学");
    store
        .write_population(&PopulationBatch {
            areas: vec![school.clone()],
            ..Default::default()
        })
        .unwrap();
    Fixture {
        district: d.id,
        community: c.id,
        other_community: c2.id,
        building: b.id,
        school: school.id,
        households: vec![h1.id, h2.id],
        other_household: h3,
    }
}

/// A valid resident ID for a sequence number: region 410105, born on
/// 1990-01-01 plus one day per thousand, sequence `seq % 1000`.
pub fn resident_id(seq: u32) -> IdNumber {
    let born = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
        + chrono::Duration::days(i64::from(seq / 1000));
    let body = format!("410105{}{:03}", born.format("%Y%m%d"), seq % 1000);
    let mut b = [0u8; 17];
    b.copy_from_slice(body.as_bytes());
    IdNumber::parse(&format!(
        "{body}{}",
        gridsweep_domain::ids::id_check_char(&b)
    ))
    .unwrap()
}

/// A person in a household, with an allocated id.
pub fn person(store: &dyn Store, name: &str, seq: u32, household: &AreaNode) -> NewPerson {
    let id = store.allocate_ids(IdKind::Person, 1).unwrap();
    let doc = resident_id(seq);
    NewPerson {
        id: PersonId(id),
        name: PersonName::parse(name).unwrap(),
        gender: Some(doc.gender()),
        birth_date: Some("1990-01-01".into()),
        document: PersonDocument::resident(&doc),
        phone: Some(Phone::parse(&format!("138{:08}", seq)).unwrap()),
        household: household.id,
        household_path: household.path.clone(),
        affiliations: vec![],
    }
}

pub fn areas_round_trip(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let d = store.area(f.district).unwrap().unwrap();
    assert_eq!(d.name, "高新区");
    assert_eq!(d.level, AreaLevel::District);
    assert_eq!(d.parent, None);
    let roots = store.roots().unwrap();
    assert_eq!(roots.len(), 1);
    let kids = store.children(f.community).unwrap();
    let names: Vec<_> = kids.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"瓦屋李新居") && names.contains(&"高新区第三十七中学"));
    let b = store.area(f.building).unwrap().unwrap();
    assert!(b.path.is_within(&d.path));
    assert_eq!(store.area(AreaId::new(999_999).unwrap()).unwrap(), None);
    let got = store.areas(&[f.district, f.building]).unwrap();
    assert_eq!(got.len(), 2);
}

pub fn resident_counts_roll_up(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let h1 = store.area(f.households[0]).unwrap().unwrap();
    let h2 = store.area(f.households[1]).unwrap().unwrap();
    let h3 = store.area(f.other_household).unwrap().unwrap();
    let persons = vec![
        person(store, "李华", 1, &h1),
        person(store, "李明", 3, &h1),
        person(store, "王芳", 5, &h2),
        person(store, "欧阳娜娜", 7, &h3),
    ];
    store
        .write_population(&PopulationBatch {
            persons,
            ..Default::default()
        })
        .unwrap();
    let count = |id| store.area(id).unwrap().unwrap().resident_count;
    assert_eq!(count(f.district), 4);
    assert_eq!(count(f.community), 3);
    assert_eq!(count(f.building), 3);
    assert_eq!(count(f.households[0]), 2);
    assert_eq!(count(f.other_community), 1);
    assert_eq!(count(f.school), 0);
    assert_eq!(store.stats().unwrap().persons, 4);
}

pub fn persons_round_trip_any_script(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let h1 = store.area(f.households[0]).unwrap().unwrap();
    let mut p = person(store, "买买提·艾力", 11, &h1);
    p.affiliations = vec![Affiliation {
        area: f.school,
        kind: AffiliationKind::Student,
    }];
    let mut passport = person(store, "Smith John", 0, &h1);
    passport.document = PersonDocument::parse(DocumentKind::Passport, "E12345678").unwrap();
    passport.gender = None;
    passport.birth_date = None;
    passport.phone = None;
    store
        .write_population(&PopulationBatch {
            persons: vec![p.clone(), passport.clone()],
            ..Default::default()
        })
        .unwrap();
    let back = store
        .person_by_document(DocumentKind::ResidentId, p.document.number())
        .unwrap()
        .unwrap();
    assert_eq!(back.name.as_str(), "买买提·艾力");
    assert_eq!(back.id, p.id);
    assert_eq!(back.gender, Some(Gender::Male));
    assert_eq!(back.phone, p.phone);
    assert_eq!(back.household_path, h1.path);
    assert_eq!(back.affiliations, p.affiliations);
    let pp = store
        .person_by_document(DocumentKind::Passport, "E12345678")
        .unwrap()
        .unwrap();
    assert_eq!(pp.name.as_str(), "Smith John");
    assert_eq!(pp.phone, None);
    assert!(
        store
            .person_by_document(DocumentKind::ResidentId, "E12345678")
            .unwrap()
            .is_none()
    );
}

pub fn search_is_scoped(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let h1 = store.area(f.households[0]).unwrap().unwrap();
    let h3 = store.area(f.other_household).unwrap().unwrap();
    let a = person(store, "张伟", 21, &h1);
    let b = person(store, "张伟", 23, &h3);
    let c = person(store, "张三丰", 25, &h1);
    store
        .write_population(&PopulationBatch {
            persons: vec![a.clone(), b.clone(), c],
            ..Default::default()
        })
        .unwrap();
    let district = store.area(f.district).unwrap().unwrap();
    let community = store.area(f.community).unwrap().unwrap();
    assert_eq!(
        store
            .search_persons(&district.path, "张伟", 50)
            .unwrap()
            .len(),
        2
    );
    let scoped = store.search_persons(&community.path, "张", 50).unwrap();
    assert_eq!(scoped.len(), 2);
    assert!(
        scoped
            .iter()
            .all(|p| p.household_path.is_within(&community.path))
    );
    let by_id = store
        .search_persons(&community.path, b.document.number(), 50)
        .unwrap();
    assert!(
        by_id.is_empty(),
        "a person outside the area must not be found"
    );
    let by_id = store
        .search_persons(&district.path, b.document.number(), 50)
        .unwrap();
    assert_eq!(by_id.len(), 1);
    assert_eq!(
        store.search_persons(&district.path, "张", 1).unwrap().len(),
        1
    );
    // LIKE wildcards in a query are literal characters, not patterns.
    assert!(
        store
            .search_persons(&district.path, "%", 50)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search_persons(&district.path, "_", 50)
            .unwrap()
            .is_empty()
    );
}

pub fn duplicate_document_writes_nothing(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let h1 = store.area(f.households[0]).unwrap().unwrap();
    let a = person(store, "赵敏", 31, &h1);
    store
        .write_population(&PopulationBatch {
            persons: vec![a.clone()],
            ..Default::default()
        })
        .unwrap();
    let new_id = store.allocate_ids(IdKind::Area, 1).unwrap();
    let new_household = NewArea::child(
        h1.parent.unwrap(),
        AreaLevel::Building,
        &store.area(h1.parent.unwrap()).unwrap().unwrap().path,
        AreaId::new(new_id).unwrap(),
        AreaLevel::Household,
        "3单元303",
    )
    .unwrap();
    let mut dup = person(store, "赵敏敏", 31, &h1);
    dup.household = new_household.id;
    dup.household_path = new_household.path.clone();
    let fresh = person(store, "周芷若", 33, &h1);
    let err = store
        .write_population(&PopulationBatch {
            areas: vec![new_household.clone()],
            persons: vec![fresh.clone(), dup],
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(store.area(new_household.id).unwrap().is_none());
    assert!(
        store
            .person_by_document(DocumentKind::ResidentId, fresh.document.number())
            .unwrap()
            .is_none()
    );
    assert_eq!(store.area(f.district).unwrap().unwrap().resident_count, 1);
    assert_eq!(store.stats().unwrap().persons, 1);
}

pub fn ids_do_not_overlap(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let a = store.allocate_ids(IdKind::Person, 100).unwrap();
    let b = store.allocate_ids(IdKind::Person, 1).unwrap();
    let c = store.allocate_ids(IdKind::Area, 5).unwrap();
    assert!(a > 0 && c > 0);
    assert_eq!(b, a + 100);
    let d = store.allocate_ids(IdKind::Area, 5).unwrap();
    assert_eq!(d, c + 5);
}

pub fn find_areas_by_name(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let d = store.area(f.district).unwrap().unwrap();
    let other = store.area(f.other_community).unwrap().unwrap();
    let found = store
        .find_areas(
            Some(&d.path),
            "瓦屋李新居",
            &[AreaLevel::Compound, AreaLevel::School],
        )
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        store
            .find_areas(Some(&other.path), "瓦屋李新居", &[AreaLevel::Compound])
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_areas(None, "瓦屋李新居", &[AreaLevel::Building])
            .unwrap()
            .is_empty()
    );
    let b = store.child_by_name(found[0].id, "1号楼").unwrap().unwrap();
    assert_eq!(b.id, f.building);
    assert!(store.child_by_name(found[0].id, "9号楼").unwrap().is_none());
}

pub fn existing_documents_reported(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let h1 = store.area(f.households[0]).unwrap().unwrap();
    let a = person(store, "陈静", 41, &h1);
    store
        .write_population(&PopulationBatch {
            persons: vec![a.clone()],
            ..Default::default()
        })
        .unwrap();
    let other = resident_id(43);
    let found = store
        .existing_documents(&[
            (DocumentKind::ResidentId, a.document.number().to_string()),
            (DocumentKind::ResidentId, other.as_str().to_string()),
            (DocumentKind::Passport, a.document.number().to_string()),
        ])
        .unwrap();
    assert_eq!(found, vec![a.document.number().to_string()]);
}

pub fn sites_in_subtree(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let f = fixture(store);
    let c = store.area(f.community).unwrap().unwrap();
    let other = store.area(f.other_community).unwrap().unwrap();
    let id = store.allocate_ids(IdKind::Site, 1).unwrap();
    store
        .write_population(&PopulationBatch {
            sites: vec![NewSite {
                id,
                area: c.id,
                area_path: c.path.clone(),
                kind: SiteKind::Hut,
                name: "瓦屋李核酸采样小屋".into(),
            }],
            ..Default::default()
        })
        .unwrap();
    let d = store.area(f.district).unwrap().unwrap();
    let sites = store.sites(&d.path).unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].kind, SiteKind::Hut);
    assert!(store.sites(&other.path).unwrap().is_empty());
}

/// A round over the fixture's district, a hut, and `n` residents in the
/// first household; returns (round id, site id, the residents).
pub fn pipeline_fixture(store: &dyn Store, n: u32) -> (i64, i64, Vec<NewPerson>, Fixture) {
    use chrono::{TimeZone, Utc};
    use pipeline::NewRound;
    let f = fixture(store);
    let c = store.area(f.community).unwrap().unwrap();
    let site = store.allocate_ids(IdKind::Site, 1).unwrap();
    let h1 = store.area(f.households[0]).unwrap().unwrap();
    let persons: Vec<NewPerson> = (0..n)
        .map(|i| person(store, &format!("居民{i}"), 100 + i * 2 + 1, &h1))
        .collect();
    store
        .write_population(&PopulationBatch {
            sites: vec![NewSite {
                id: site,
                area: c.id,
                area_path: c.path.clone(),
                kind: SiteKind::Hut,
                name: "瓦屋李核酸采样小屋".into(),
            }],
            persons: persons.clone(),
            ..Default::default()
        })
        .unwrap();
    let round = store
        .create_round(NewRound {
            name: "6·13 全员核酸".into(),
            pool_size: 20,
            starts_at: Utc.with_ymd_and_hms(2022, 6, 12, 16, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2099, 12, 31, 16, 0, 0).unwrap(),
            areas: vec![f.district],
        })
        .unwrap();
    (round.id, site, persons, f)
}

fn ctx(actor: &str) -> pipeline::CommandContext {
    use chrono::{TimeZone, Utc};
    pipeline::CommandContext {
        actor: actor.into(),
        at: Utc.with_ymd_and_hms(2022, 6, 13, 4, 0, 0).unwrap(),
        cutoffs: Default::default(),
        reach: Reach::Everywhere,
    }
}

fn run(engine: &Engine, cmd: pipeline::Command) -> Result<pipeline::Effects, String> {
    engine
        .execute(cmd, ctx("tester"))
        .unwrap()
        .map_err(|e| e.code().to_string())
}

pub fn tube_life_cycle(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::{CtValues, Outcome, TubeKind, TubeStatus};
    use pipeline::Command::*;
    let (round, site, persons, _) = pipeline_fixture(store, 21);
    let open = |tube: &str| OpenTube {
        tube: tube.into(),
        round,
        site,
        kind: TubeKind::Human,
        capacity: None,
    };
    let add = |tube: &str, p: &NewPerson| AddPerson {
        tube: tube.into(),
        document: Some(p.document.number().to_string()),
        document_kind: None,
        qr: None,
    };
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

fn events(
    range: std::ops::RangeInclusive<i64>,
    all: &[pipeline::DeviceEvent],
) -> Vec<pipeline::DeviceEvent> {
    all.iter()
        .filter(|e| range.contains(&e.seq))
        .cloned()
        .collect()
}

/// A device's queue: open a tube, scan `persons`, seal; seq from 1.
pub fn device_queue(
    round: i64,
    site: i64,
    tube: &str,
    persons: &[NewPerson],
    first_seq: i64,
) -> Vec<pipeline::DeviceEvent> {
    use chrono::{TimeZone, Utc};
    use pipeline::{Command, DeviceEvent};
    let at = Utc.with_ymd_and_hms(2022, 6, 13, 4, 0, 0).unwrap();
    let mut out = vec![Command::OpenTube {
        tube: tube.into(),
        round,
        site,
        kind: gridsweep_domain::pipeline::TubeKind::Human,
        capacity: None,
    }];
    out.extend(persons.iter().map(|p| Command::AddPerson {
        tube: tube.into(),
        document: Some(p.document.number().into()),
        document_kind: None,
        qr: None,
    }));
    out.push(Command::SealTube { tube: tube.into() });
    out.into_iter()
        .enumerate()
        .map(|(i, command)| DeviceEvent {
            seq: first_seq + i as i64,
            at: at + chrono::Duration::seconds(i as i64 * 15),
            command,
        })
        .collect()
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

pub fn sync_applies_each_event_once(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 40);
    let mut all = device_queue(round, site, "S0001", &persons[..20], 1);
    all.extend(device_queue(round, site, "S0002", &persons[20..], 23));
    // The same batch three times.
    for _ in 0..3 {
        let r = engine
            .sync("dev-1".into(), events(1..=10, &all), Reach::Everywhere)
            .unwrap();
        assert_eq!(r.accepted, (1..=10).collect::<Vec<_>>());
        assert!(r.rejected.is_empty() && r.pending.is_empty());
        assert_eq!(r.next_seq, 11);
    }
    // Out of order: the tail arrives before the middle.
    let r = engine
        .sync("dev-1".into(), events(30..=44, &all), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.pending, (30..=44).collect::<Vec<_>>());
    assert!(r.accepted.is_empty());
    assert_eq!(r.next_seq, 11);
    // Overlapping: 5..=29 repeats 5..=10 and fills the gap.
    let r = engine
        .sync("dev-1".into(), events(5..=29, &all), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.accepted, (5..=44).collect::<Vec<_>>(), "{r:?}");
    assert_eq!(r.next_seq, 45);
    // Everything again: same answers, nothing doubled.
    let r = engine
        .sync("dev-1".into(), all.clone(), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.accepted, (1..=44).collect::<Vec<_>>());
    let t1 = store.tube("S0001").unwrap().unwrap();
    let t2 = store.tube("S0002").unwrap().unwrap();
    assert_eq!((t1.samples, t2.samples), (20, 20));
    assert_eq!(t1.status, gridsweep_domain::pipeline::TubeStatus::Sealed);
    // A rejected event keeps its rejection on resend; other devices are separate.
    let dup = vec![pipeline::DeviceEvent {
        seq: 45,
        ..all[1].clone()
    }];
    let r = engine
        .sync("dev-1".into(), dup.clone(), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].code, "tube_not_open");
    let r = engine.sync("dev-1".into(), dup, Reach::Everywhere).unwrap();
    assert_eq!((r.rejected.len(), r.next_seq), (1, 46));
    let r = engine
        .sync("dev-2".into(), events(1..=1, &all), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.rejected[0].code, "tube_exists");
}

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
const FITTED: bool = true;

/// [`alarm`] under a given playbook, for any round (retest tubes too).
fn tube_result(
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
fn fitted_tube_result(
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

pub fn suspect_tube_opens_an_incident(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::*;
    let (round, site, persons, f) = pipeline_fixture(store, 21);
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
    use gridsweep_domain::pipeline::Outcome;
    use gridsweep_response::report::TaskView;
    use gridsweep_response::*;
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    tube_result(
        engine,
        round,
        site,
        "POOL-0001",
        &persons,
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
    // The positive is member 13; the first five tubes back decide nothing.
    sample_asked(
        engine,
        retest_round,
        site,
        "S2",
        &persons,
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

fn t(h: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2022, 6, 13, h, 0, 0).unwrap()
}

fn new_user(name: &str, role: gridsweep_domain::Role, scope: Option<AreaId>) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: format!("{name} 显示名"),
        role,
        scope_area: scope,
        lab: role.is_lab().then(|| "金域检验".to_string()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        created_at: t(1),
    }
}

pub fn users_and_scopes(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let f = fixture(store);
    let c = store.area(f.community).unwrap().unwrap();
    let u = store
        .create_user(new_user("wawuli", Role::Community, Some(f.community)))
        .unwrap();
    assert_eq!(u.scope_path.as_ref(), Some(&c.path));
    assert_eq!(
        (u.role, u.disabled, u.created_at),
        (Role::Community, false, t(1))
    );
    let lab = store
        .create_user(new_user("lab1", Role::Lab, None))
        .unwrap();
    assert_eq!(
        (lab.lab.as_deref(), lab.scope_path.as_ref()),
        (Some("金域检验"), None)
    );
    assert!(matches!(
        store.create_user(new_user("wawuli", Role::Cdc, None)),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.user_by_name("wawuli").unwrap().unwrap(), u);
    assert_eq!(store.user(lab.id).unwrap().unwrap(), lab);
    assert!(store.user_by_name("nobody").unwrap().is_none());
    let all = store.users().unwrap();
    assert_eq!(
        all.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["wawuli", "lab1"]
    );
    store.set_user_disabled(u.id, true).unwrap();
    assert!(store.user(u.id).unwrap().unwrap().disabled);
    store.set_user_disabled(u.id, false).unwrap();
    assert!(!store.user(u.id).unwrap().unwrap().disabled);
    assert!(matches!(
        store.set_user_disabled(9999, true),
        Err(StoreError::NotFound(_))
    ));
}

pub fn sessions_expire_and_end(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let u = store
        .create_user(new_user("cdc1", Role::Cdc, None))
        .unwrap();
    let s = SessionRow {
        token_hash: "ab".repeat(32),
        user_id: u.id,
        csrf_token: "csrf".into(),
        created_at: t(1),
        expires_at: t(9),
        address: Some("127.0.0.1".into()),
    };
    store.create_session(s.clone()).unwrap();
    assert_eq!(store.session(&s.token_hash, t(2)).unwrap(), Some(s.clone()));
    assert_eq!(store.session(&s.token_hash, t(10)).unwrap(), None);
    assert_eq!(store.session("cd", t(2)).unwrap(), None);
    store.delete_session(&s.token_hash).unwrap();
    assert_eq!(store.session(&s.token_hash, t(2)).unwrap(), None);
    // Disabling an account ends its sessions.
    store.create_session(s.clone()).unwrap();
    store.set_user_disabled(u.id, true).unwrap();
    assert_eq!(store.session(&s.token_hash, t(2)).unwrap(), None);
}

pub fn password_change_ends_other_sessions(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let u = store
        .create_user(new_user("admin2", Role::Admin, None))
        .unwrap();
    assert!(!u.must_change_password);
    let session = |hash: &str| SessionRow {
        token_hash: hash.repeat(32),
        user_id: u.id,
        csrf_token: "csrf".into(),
        created_at: t(1),
        expires_at: t(9),
        address: None,
    };
    // First start: a one-time password, to be changed before anything else.
    store
        .set_password(u.id, "one-time".into(), true, None)
        .unwrap();
    let got = store.user(u.id).unwrap().unwrap();
    assert!(got.must_change_password);
    assert_eq!(got.password_hash.as_deref(), Some("one-time"));
    let (mine, other) = (session("aa"), session("bb"));
    store.create_session(mine.clone()).unwrap();
    store.create_session(other.clone()).unwrap();
    store
        .set_password(u.id, "chosen".into(), false, Some(mine.token_hash.clone()))
        .unwrap();
    let got = store.user_by_name("admin2").unwrap().unwrap();
    assert!(!got.must_change_password);
    assert_eq!(got.password_hash.as_deref(), Some("chosen"));
    assert_eq!(store.session(&mine.token_hash, t(2)).unwrap(), Some(mine));
    assert_eq!(store.session(&other.token_hash, t(2)).unwrap(), None);
    assert!(matches!(
        store.set_password(9999, "x".into(), false, None),
        Err(StoreError::NotFound(_))
    ));
}

pub fn api_tokens_hashed_revocable_expiring(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let u = store
        .create_user(new_user("pda", Role::Sampler, None))
        .unwrap();
    let new = |hash: &str| NewApiToken {
        user_id: u.id,
        name: "PDA 7".into(),
        token_hash: hash.into(),
        prefix: "gs_1234".into(),
        created_at: t(1),
        expires_at: t(9),
    };
    let a = store.create_api_token(new("aa")).unwrap();
    let b = store.create_api_token(new("bb")).unwrap();
    assert!(matches!(
        store.create_api_token(new("aa")),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.api_token_by_hash("aa", t(2)).unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.api_token_by_hash("aa", t(9)).unwrap(),
        None,
        "expired"
    );
    let revoked = store.revoke_api_token(b.id, t(3)).unwrap();
    assert_eq!(revoked.revoked_at, Some(t(3)));
    assert_eq!(
        store.revoke_api_token(b.id, t(4)).unwrap().revoked_at,
        Some(t(3))
    );
    assert_eq!(store.api_token_by_hash("bb", t(3)).unwrap(), None);
    assert_eq!(store.api_tokens().unwrap(), vec![a, revoked]);
    assert!(matches!(
        store.revoke_api_token(999, t(3)),
        Err(StoreError::NotFound(_))
    ));
}

pub fn audit_appends_and_filters(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let entry = |h: u32, actor: &str, action: &str, target: &str| NewAudit {
        at: t(h),
        actor_id: Some(1),
        actor: actor.into(),
        role: Some(Role::Cdc),
        action: action.into(),
        target: Some(target.into()),
        detail: Some("full".into()),
        address: Some("10.0.0.1".into()),
    };
    let first = store
        .append_audit(entry(1, "cdc1", "person.read", "person:7"))
        .unwrap();
    store
        .append_audit(entry(2, "cdc1", "login", "user:1"))
        .unwrap();
    store
        .append_audit(entry(3, "lab1", "result.post", "tube:S1"))
        .unwrap();
    let all = store
        .audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].id, first, "newest first");
    assert_eq!(all[2].entry, entry(1, "cdc1", "person.read", "person:7"));
    let by = |f: AuditFilter| store.audit(&AuditFilter { limit: 10, ..f }).unwrap().len();
    assert_eq!(
        by(AuditFilter {
            actor: Some("cdc1".into()),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        by(AuditFilter {
            action: Some("login".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(AuditFilter {
            target: Some("tube:S1".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(AuditFilter {
            since: Some(t(2)),
            until: Some(t(3)),
            ..Default::default()
        }),
        1
    );
    let newest = store
        .audit(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].entry.action, "result.post");
}

pub fn person_site_and_box_lookups(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, f) = pipeline_fixture(store, 3);
    let p = store.person(persons[0].id).unwrap().unwrap();
    assert_eq!(p.document, persons[0].document);
    assert!(store.person(PersonId(999_999)).unwrap().is_none());
    let s = store.site(site).unwrap().unwrap();
    assert_eq!(s.area, f.community);
    assert!(store.site(999_999).unwrap().is_none());
    engine
        .sync(
            "dev".into(),
            device_queue(round, site, "B0001", &persons, 1),
            Reach::Everywhere,
        )
        .unwrap();
    run(
        engine,
        pipeline::Command::BoxTubes {
            box_barcode: "BOX1".into(),
            tubes: vec!["B0001".into()],
        },
    )
    .unwrap();
    assert_eq!(store.box_tubes("BOX1").unwrap(), vec!["B0001".to_string()]);
    assert!(store.box_tubes("BOX2").unwrap().is_empty());
}

/// Runs `f` on two threads at once, released together.
fn at_once<T: Send>(f: impl Fn(usize) -> T + Sync) -> (T, T) {
    let gate = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            gate.wait();
            f(0)
        });
        let b = s.spawn(|| {
            gate.wait();
            f(1)
        });
        (a.join().unwrap(), b.join().unwrap())
    })
}

/// A new device's batch sent twice at once (a retry on a timeout, two open
/// tabs): both copies get the sequential answer, everything applied once.
pub fn a_new_devices_batch_sent_twice_at_once_applies_once(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    for trial in 0..5 {
        let tube = format!("TWICE-{trial}");
        let batch = device_queue(round, site, &tube, &persons, 1);
        let device = format!("race/twice-{trial}");
        let (a, b) = at_once(|_| engine.sync(device.clone(), batch.clone(), Reach::Everywhere));
        for r in [a.unwrap(), b.unwrap()] {
            assert_eq!(
                r.accepted,
                (1..=22).collect::<Vec<_>>(),
                "trial {trial}: {r:?}"
            );
            assert!(r.rejected.is_empty() && r.pending.is_empty(), "{r:?}");
            assert_eq!(r.next_seq, 23);
        }
        assert_eq!(store.tube(&tube).unwrap().unwrap().samples, 20);
    }
}

/// A new device's queue split in two batches sent at once: whichever runs
/// first, nothing acknowledged is lost and the cursor never moves back.
pub fn overlapping_first_batches_at_once_lose_nothing(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    for trial in 0..5 {
        let tube = format!("HALVES-{trial}");
        let all = device_queue(round, site, &tube, &persons, 1);
        let halves = [all[..11].to_vec(), all[11..].to_vec()];
        let device = format!("race/halves-{trial}");
        let (a, b) = at_once(|i| engine.sync(device.clone(), halves[i].clone(), Reach::Everywhere));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.rejected.is_empty() && b.rejected.is_empty(),
            "{a:?} {b:?}"
        );
        // Every acknowledged event stays acknowledged on a resend.
        let again = engine.sync(device.clone(), all, Reach::Everywhere).unwrap();
        assert_eq!(again.accepted, (1..=22).collect::<Vec<_>>(), "{again:?}");
        for seq in a.accepted.iter().chain(&b.accepted) {
            assert!(again.accepted.contains(seq));
        }
        assert_eq!(again.next_seq, 23);
        assert_eq!(store.tube(&tube).unwrap().unwrap().samples, 20);
    }
}

/// Two devices filling the same two tubes in opposite orders at once: on a
/// backend with concurrent writers their row locks meet crosswise; the
/// loser runs again instead of failing.
pub fn opposite_order_tubes_at_once_both_apply(engine: &Engine) {
    use pipeline::{Command, DeviceEvent};
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 40);
    let at = ctx("t").at;
    for trial in 0..5 {
        let tubes = [format!("CROSS-{trial}-A"), format!("CROSS-{trial}-B")];
        for t in &tubes {
            run(
                engine,
                Command::OpenTube {
                    tube: t.clone(),
                    round,
                    site,
                    kind: gridsweep_domain::pipeline::TubeKind::Human,
                    capacity: None,
                },
            )
            .unwrap();
        }
        // Device i scans 10 persons into one tube, then 10 into the other,
        // in opposite orders.
        let batch = |i: usize| -> Vec<DeviceEvent> {
            let order = if i == 0 { [0, 1] } else { [1, 0] };
            let mut out = Vec::new();
            for (k, t) in order.iter().enumerate() {
                for p in &persons[i * 20 + k * 10..i * 20 + k * 10 + 10] {
                    out.push(DeviceEvent {
                        seq: out.len() as i64 + 1,
                        at,
                        command: Command::AddPerson {
                            tube: tubes[*t].clone(),
                            document: Some(p.document.number().into()),
                            document_kind: None,
                            qr: None,
                        },
                    });
                }
            }
            out
        };
        let (a, b) = at_once(|i| {
            engine.sync(
                format!("race/cross-{trial}-{i}"),
                batch(i),
                Reach::Everywhere,
            )
        });
        for r in [a.unwrap(), b.unwrap()] {
            assert_eq!(r.accepted, (1..=20).collect::<Vec<_>>(), "{r:?}");
        }
        for t in &tubes {
            assert_eq!(store.tube(t).unwrap().unwrap().samples, 20);
        }
    }
}

/// A read never waits for a writer: while a write holds a tube (as a
/// result being posted does), a read of it — the dashboard's live view —
/// answers at once from its snapshot.
pub fn a_read_never_waits_for_a_writer(engine: &Engine) {
    use std::sync::mpsc;
    let store: &dyn Store = &**engine.store();
    let (round, site, _, _) = pipeline_fixture(store, 1);
    run(
        engine,
        pipeline::Command::OpenTube {
            tube: "HELD-1".into(),
            round,
            site,
            kind: gridsweep_domain::pipeline::TubeKind::Human,
            capacity: None,
        },
    )
    .unwrap();
    let (held, is_held) = mpsc::channel::<()>();
    let (read, was_read) = mpsc::channel::<()>();
    let read_while_held = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            store.write(move |tx| {
                tx.tube("HELD-1")?;
                let _ = held.send(());
                // The failsafe only ends the wait of a reader that blocks.
                Ok(was_read
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .is_ok())
            })
        });
        is_held.recv().unwrap();
        let t = store.read(|tx| tx.tube("HELD-1")).unwrap();
        assert_eq!(t.unwrap().barcode, "HELD-1");
        let _ = read.send(());
        writer.join().unwrap().unwrap()
    });
    assert!(read_while_held, "the read waited for the writer to commit");
}
