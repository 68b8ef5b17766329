//! The store's own population areas: areas, persons, search, ids and
//! sites, as every backend must keep them.

use super::fixtures::{fixture, person, resident_id};
use crate::Engine;
use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, DocumentKind, Gender, PersonDocument, SiteKind,
};
use gridsweep_storage::*;

/// Areas read back as written: names, levels, parents, paths, children.
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

/// Resident counts roll up from households to every ancestor area.
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

/// Persons read back whole, whatever the script of the name, with or
/// without a resident ID.
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

/// Search finds only persons inside the given area, by name or document,
/// and treats LIKE wildcards as plain characters.
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

/// A batch with a document already on file is refused whole: no area,
/// no person, no count changes.
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

/// Allocated id ranges follow one another and never overlap.
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

/// Areas are found by name within a subtree and at given levels; a child
/// by its name.
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

/// Of a list of documents, exactly those already on file are reported.
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

/// Sites are listed by the area subtree they lie in.
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
