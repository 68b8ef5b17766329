//! The shared fixtures: a tiny area grid, valid residents, a round with
//! a site, and the helpers that run one command as a tester.

use crate::Engine;
use gridsweep_domain::{
    AreaId, AreaLevel, IdNumber, PersonDocument, PersonId, PersonName, Phone, Reach, SiteKind,
};
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

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

/// A round over the fixture's district, a hut, and `n` residents in the
/// first household; returns (round id, site id, the residents, the
/// fixture).
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

pub(super) fn ctx(actor: &str) -> pipeline::CommandContext {
    use chrono::{TimeZone, Utc};
    pipeline::CommandContext {
        actor: actor.into(),
        at: Utc.with_ymd_and_hms(2022, 6, 13, 4, 0, 0).unwrap(),
        cutoffs: Default::default(),
        reach: Reach::Everywhere,
    }
}

pub(super) fn run(engine: &Engine, cmd: pipeline::Command) -> Result<pipeline::Effects, String> {
    engine
        .execute(cmd, ctx("tester"))
        .unwrap()
        .map_err(|e| e.code().to_string())
}
