//! Turning SQLite rows into the storage row types.

use crate::db_err;
use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, AreaPath, DocumentKind, Gender,
    PersonDocument, PersonId, PersonName, Phone, SiteKind,
};
use gridsweep_storage::{AreaNode, PersonRecord, SiteRecord, StoreError, StoreResult};
use rusqlite::{Connection, Row};

type Parsed<T> = rusqlite::Result<StoreResult<T>>;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// An `AREA_COLS` row.
pub fn area(r: &Row<'_>) -> Parsed<AreaNode> {
    let id: i64 = r.get(0)?;
    let parent: Option<i64> = r.get(1)?;
    let level: String = r.get(2)?;
    let name: String = r.get(3)?;
    let path: String = r.get(4)?;
    let resident_count: i64 = r.get(5)?;
    Ok((|| {
        Ok(AreaNode {
            id: AreaId::new(id).map_err(|e| corrupt("area id", e))?,
            parent: parent
                .map(AreaId::new)
                .transpose()
                .map_err(|e| corrupt("parent id", e))?,
            level: AreaLevel::parse(&level).map_err(|e| corrupt("level", e))?,
            name,
            path: AreaPath::parse(&path).map_err(|e| corrupt("path", e))?,
            resident_count,
        })
    })())
}

/// A `PERSON_COLS` row (affiliations filled in later).
pub fn person(r: &Row<'_>) -> Parsed<PersonRecord> {
    let id: i64 = r.get(0)?;
    let name: String = r.get(1)?;
    let kind: String = r.get(2)?;
    let number: String = r.get(3)?;
    let gender: Option<String> = r.get(4)?;
    let birth_date: Option<String> = r.get(5)?;
    let phone: Option<String> = r.get(6)?;
    let household: i64 = r.get(7)?;
    let path: String = r.get(8)?;
    Ok((|| {
        let kind = DocumentKind::parse(&kind).ok_or_else(|| corrupt("doc kind", &kind))?;
        Ok(PersonRecord {
            id: PersonId(id),
            name: PersonName::parse(&name).map_err(|e| corrupt("name", e))?,
            document: PersonDocument::parse(kind, &number).map_err(|e| corrupt("document", e))?,
            gender: gender.as_deref().and_then(Gender::parse),
            birth_date,
            phone: phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|e| corrupt("phone", e))?,
            household: AreaId::new(household).map_err(|e| corrupt("household", e))?,
            household_path: AreaPath::parse(&path).map_err(|e| corrupt("path", e))?,
            affiliations: Vec::new(),
        })
    })())
}

/// A sites row: id, area_id, kind, name.
pub fn site(r: &Row<'_>) -> Parsed<SiteRecord> {
    let id: i64 = r.get(0)?;
    let area: i64 = r.get(1)?;
    let kind: String = r.get(2)?;
    let name: String = r.get(3)?;
    Ok((|| {
        Ok(SiteRecord {
            id,
            area: AreaId::new(area).map_err(|e| corrupt("site area", e))?,
            kind: SiteKind::parse(&kind).ok_or_else(|| corrupt("site kind", &kind))?,
            name,
        })
    })())
}

/// Collects a `query_map` whose rows parse into `StoreResult`s.
pub fn collect<T, I>(rows: rusqlite::Result<I>) -> StoreResult<Vec<T>>
where
    I: Iterator<Item = rusqlite::Result<StoreResult<T>>>,
{
    rows.map_err(db_err)?
        .map(|r| r.map_err(db_err).and_then(|x| x))
        .collect()
}

/// Loads each person's affiliations.
pub fn with_affiliations(
    c: &Connection,
    mut persons: Vec<PersonRecord>,
) -> StoreResult<Vec<PersonRecord>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT area_id, kind FROM affiliations WHERE person_id = ?1 ORDER BY area_id",
        )
        .map_err(db_err)?;
    for p in &mut persons {
        let rows = stmt
            .query_map([p.id.0], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_err)?;
        for row in rows {
            let (area, kind) = row.map_err(db_err)?;
            p.affiliations.push(Affiliation {
                area: AreaId::new(area).map_err(|e| corrupt("affiliation", e))?,
                kind: AffiliationKind::parse(&kind).ok_or_else(|| corrupt("affiliation", &kind))?,
            });
        }
    }
    Ok(persons)
}
