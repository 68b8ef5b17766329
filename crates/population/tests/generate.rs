//! The generator against a fresh SQLite store: the story's places, the
//! counts, valid unique IDs, census-like households, determinism.

use gridsweep_domain::{AreaLevel, IdNumber};
use gridsweep_population::{
    BATCH_PERSONS, DEMO_PEOPLE, GenError, GenProgress, GenSpec, generate, names,
};
use gridsweep_storage::AreaNode;
use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh(tag: &str) -> SqliteStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gridsweep-population-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    SqliteStore::open(dir.join("t.db")).unwrap()
}

fn run(
    store: &SqliteStore,
    seed: u64,
    people: u64,
) -> (gridsweep_population::GenSummary, Vec<GenProgress>) {
    let mut seen = Vec::new();
    let summary = generate(store, &GenSpec { seed, people }, &mut |p| seen.push(p)).unwrap();
    (summary, seen)
}

fn sql(store: &SqliteStore) -> rusqlite::Connection {
    rusqlite::Connection::open(store.path()).unwrap()
}

/// The one area called `name` under `parent`, checked to be of `level`.
fn child(store: &SqliteStore, parent: &AreaNode, name: &str, level: AreaLevel) -> AreaNode {
    let node = store
        .child_by_name(parent.id, name)
        .unwrap()
        .unwrap_or_else(|| panic!("{name} under {}", parent.name));
    assert_eq!(node.level, level, "{name}");
    node
}

fn district(store: &SqliteStore, name: &str) -> AreaNode {
    store
        .roots()
        .unwrap()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("district {name}"))
}

fn one(store: &SqliteStore, name: &str) -> AreaNode {
    let found = store.find_areas(None, name, &AreaLevel::ALL).unwrap();
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found.into_iter().next().unwrap()
}

fn students_of(conn: &rusqlite::Connection, area: &AreaNode) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM affiliations WHERE area_id = ?1 AND kind = 'student'",
        [area.id.get()],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn demo_and_beyond() {
    let store = fresh("beyond");
    let people = DEMO_PEOPLE + 20_000;
    let (summary, progress) = run(&store, 613, people);
    assert_eq!(summary.persons, people);
    assert_eq!(store.stats().unwrap().persons as u64, people);
    assert_eq!(summary.districts, 2);

    // Batches are bounded, and progress ends at the total.
    let mut last = 0;
    for p in &progress {
        assert!(p.persons_written - last <= BATCH_PERSONS as u64 + 8);
        assert_eq!(p.persons_total, people);
        last = p.persons_written;
    }
    assert_eq!(last, people);
    assert_eq!(progress.last().unwrap().areas_written, summary.areas);

    // The story's tree.
    let gaoxin = district(&store, names::DISTRICT);
    assert_eq!(gaoxin.resident_count as u64, DEMO_PEOPLE);
    let zhongyuan = district(&store, "中原区");
    assert_eq!(zhongyuan.resident_count, 20_000);
    let wutong = child(
        &store,
        &gaoxin,
        names::WUTONG_SUBDISTRICT,
        AreaLevel::SubDistrict,
    );
    let wawuli = child(
        &store,
        &wutong,
        names::WAWULI_COMMUNITY,
        AreaLevel::Community,
    );
    let grid = child(&store, &wawuli, names::WAWULI_GRID_1, AreaLevel::Grid);
    let compound = child(&store, &grid, names::WAWULI_COMPOUND, AreaLevel::Compound);
    assert!(
        (5_300..=6_000).contains(&wawuli.resident_count),
        "瓦屋李社区 holds {}",
        wawuli.resident_count
    );
    let buildings = store.children(compound.id).unwrap();
    assert_eq!(buildings.len(), 20);
    assert!(buildings.iter().any(|b| b.name == "20号楼"));
    let households = store.children(buildings[0].id).unwrap();
    assert!(households.iter().all(|h| h.level == AreaLevel::Household));
    assert!(households.iter().any(|h| h.name.starts_with("3单元")));
    let sites = store.sites(&wawuli.path).unwrap();
    assert!(sites.iter().any(|s| s.name == names::WAWULI_HUT
        && s.kind == gridsweep_domain::SiteKind::Hut
        && s.area == wawuli.id));

    for name in names::RESPONSE_SITES {
        let node = one(&store, name);
        assert!(node.path.is_within(&gaoxin.path));
        assert!(node.resident_count > 0, "{name} is empty");
    }
    let gas = one(&store, names::GAS_COMPOUND);
    assert!(
        (300..=550).contains(&gas.resident_count),
        "{}",
        gas.resident_count
    );
    let yulan = one(&store, names::YULAN_COMPOUND);
    assert!(
        (400..=600).contains(&yulan.resident_count),
        "{}",
        yulan.resident_count
    );
    let kaixuan = one(&store, names::KAIXUAN_SELF_BUILT);
    assert!(
        (300..=550).contains(&kaixuan.resident_count),
        "{}",
        kaixuan.resident_count
    );
    let school = one(&store, names::SCHOOL_37);
    assert_eq!(school.level, AreaLevel::School);
    let feicui = one(&store, names::FEICUI_COMPOUND);
    assert_eq!(store.children(feicui.id).unwrap().len(), 12);
    for (sub, communities) in [
        (
            names::WUTONG_SUBDISTRICT,
            &[
                names::WAWULI_COMMUNITY,
                names::FEICUI_COMMUNITY,
                names::XIXI_COMMUNITY,
            ][..],
        ),
        (
            names::DONGQING_SUBDISTRICT,
            &[
                names::RUIDA_COMMUNITY,
                names::CHUNTENG_COMMUNITY,
                names::ZIJIN_COMMUNITY,
            ],
        ),
        (
            names::YULAN_SUBDISTRICT,
            &[
                names::YULAN_COMMUNITY,
                names::KAIXUAN_COMMUNITY,
                names::TONGHE_COMMUNITY,
                names::ZIZHU_COMMUNITY,
            ],
        ),
        (
            names::SHIFO_SUBDISTRICT,
            &[
                names::DALI_VILLAGE,
                names::GOUZHAO_VILLAGE,
                names::WALIU_VILLAGE,
                names::GUANYUE_COMMUNITY,
            ],
        ),
    ] {
        let s = child(&store, &gaoxin, sub, AreaLevel::SubDistrict);
        for c in communities {
            let c = child(&store, &s, c, AreaLevel::Community);
            assert!(
                c.resident_count > 1_000,
                "{} holds {}",
                c.name,
                c.resident_count
            );
            let sites = store.sites(&c.path).unwrap();
            assert!(
                sites
                    .iter()
                    .any(|x| x.kind == gridsweep_domain::SiteKind::Hut && x.area == c.id)
            );
        }
    }

    // Every ID valid and unique; birth dates and genders agree with it.
    let conn = sql(&store);
    let mut stmt = conn
        .prepare("SELECT doc_number, gender, birth_date, name, phone FROM persons")
        .unwrap();
    let mut ids = HashSet::new();
    let mut phones = 0;
    let mut minority = 0;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (doc, gender, birth, name, phone) = row.unwrap();
        let id = IdNumber::parse(&doc).unwrap();
        assert!(
            gridsweep_population::ZHENGZHOU_REGIONS.contains(&id.region_code().parse().unwrap())
        );
        assert_eq!(id.gender().as_str(), gender);
        let (y, m, d) = id.birth_date();
        assert_eq!(birth, format!("{y:04}-{m:02}-{d:02}"));
        assert!((1916..=2022).contains(&y));
        assert!(ids.insert(doc), "duplicate ID");
        if name.contains('·') {
            minority += 1;
        }
        if let Some(p) = phone {
            assert_eq!(p.len(), 11);
            phones += 1;
        }
    }
    assert_eq!(ids.len() as u64, people);
    assert!(phones as u64 > people / 2, "{phones} phones");
    assert!(minority > 100, "{minority} minority names");

    // Census-like households.
    let households: i64 = conn
        .query_row(
            "SELECT count(*) FROM areas WHERE level = 'household'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(households as u64, summary.households);
    let mean = people as f64 / households as f64;
    assert!((2.4..=2.8).contains(&mean), "mean household size {mean}");
    let singles: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT household_id FROM persons GROUP BY household_id HAVING count(*) = 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let share = singles as f64 / households as f64;
    assert!((0.2..=0.3).contains(&share), "one-person share {share}");
    // No empty households: every household area has a resident.
    let inhabited: i64 = conn
        .query_row(
            "SELECT count(DISTINCT household_id) FROM persons",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(inhabited, households);

    // Pupils, students and employees.
    assert!(students_of(&conn, &school) > 1_000);
    assert!(students_of(&conn, &one(&store, names::ZZU_SOUTH)) > 200);
    let staff: i64 = conn
        .query_row(
            "SELECT count(*) FROM affiliations WHERE area_id = ?1 AND kind = 'employee'",
            [school.id.get()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(staff > 5, "{staff} staff");
    let employees: i64 = conn
        .query_row(
            "SELECT count(*) FROM affiliations WHERE kind = 'employee'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(employees as u64 > people / 5, "{employees} employees");

    // A second run into the same store is refused before writing.
    let again = generate(
        &store,
        &GenSpec {
            seed: 613,
            people: 10,
        },
        &mut |_| {},
    );
    assert!(matches!(again, Err(GenError::AlreadyGenerated(_))));
    assert_eq!(store.stats().unwrap().persons as u64, people);
}

#[test]
fn fewer_people_truncate_the_demo_story_first() {
    let store = fresh("small");
    let (summary, _) = run(&store, 613, 3_000);
    assert_eq!(summary.persons, 3_000);
    assert_eq!(summary.districts, 1);
    assert_eq!(store.stats().unwrap().persons, 3_000);
    let gaoxin = district(&store, names::DISTRICT);
    assert_eq!(gaoxin.resident_count, 3_000);
    // All of them in the compound at the centre of the story, and the
    // story's other places are there to find.
    assert_eq!(one(&store, names::WAWULI_COMPOUND).resident_count, 3_000);
    for name in names::RESPONSE_SITES {
        one(&store, name);
    }
    one(&store, names::ZZU_SOUTH);
    assert!(!store.sites(&gaoxin.path).unwrap().is_empty());

    let zero = generate(&fresh("zero"), &GenSpec { seed: 1, people: 0 }, &mut |_| {});
    assert!(matches!(zero, Err(GenError::InvalidSpec(_))));
}

fn dump(store: &SqliteStore) -> Vec<String> {
    let conn = sql(store);
    let mut out = Vec::new();
    for q in [
        "SELECT id || '|' || coalesce(parent_id, '') || '|' || level || '|' || name || '|' || path || '|' || resident_count FROM areas ORDER BY id",
        "SELECT id || '|' || name || '|' || doc_number || '|' || gender || '|' || birth_date || '|' || coalesce(phone, '') || '|' || area_path FROM persons ORDER BY id",
        "SELECT person_id || '|' || area_id || '|' || kind FROM affiliations ORDER BY person_id, area_id",
        "SELECT id || '|' || area_id || '|' || kind || '|' || name FROM sites ORDER BY id",
    ] {
        let mut stmt = conn.prepare(q).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

#[test]
fn same_seed_same_roster() {
    let a = fresh("det-a");
    let b = fresh("det-b");
    let c = fresh("det-c");
    run(&a, 42, 4_000);
    run(&b, 42, 4_000);
    run(&c, 43, 4_000);
    let (da, db, dc) = (dump(&a), dump(&b), dump(&c));
    assert!(da.len() > 4_000);
    assert_eq!(da, db);
    assert_ne!(da, dc);
    // Search answers agree too.
    let pa = a
        .search_persons(&district(&a, names::DISTRICT).path, "王", 50)
        .unwrap();
    let pb = b
        .search_persons(&district(&b, names::DISTRICT).path, "王", 50)
        .unwrap();
    assert!(!pa.is_empty());
    assert_eq!(pa, pb);
}
