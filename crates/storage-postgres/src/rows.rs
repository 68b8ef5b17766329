//! Turning PostgreSQL rows into the storage row types.

use crate::db_err;
use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, AreaPath, DocumentKind, Gender,
    PersonDocument, PersonId, PersonName, Phone, SiteKind,
};
use gridsweep_storage::{AreaNode, PersonRecord, SiteRecord, StoreError, StoreResult};
use postgres::{Client, Row};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// An `AREA_COLS` row.
pub fn area(r: &Row) -> StoreResult<AreaNode> {
    let level: String = r.get(2);
    let path: String = r.get(4);
    Ok(AreaNode {
        id: AreaId::new(r.get(0)).map_err(|e| corrupt("area id", e))?,
        parent: r
            .get::<_, Option<i64>>(1)
            .map(AreaId::new)
            .transpose()
            .map_err(|e| corrupt("parent id", e))?,
        level: AreaLevel::parse(&level).map_err(|e| corrupt("level", e))?,
        name: r.get(3),
        path: AreaPath::parse(&path).map_err(|e| corrupt("path", e))?,
        resident_count: r.get(5),
    })
}

/// A `PERSON_COLS` row (affiliations filled in later).
pub fn person(r: &Row) -> StoreResult<PersonRecord> {
    let kind: String = r.get(2);
    let kind = DocumentKind::parse(&kind).ok_or_else(|| corrupt("doc kind", &kind))?;
    let name: String = r.get(1);
    let number: String = r.get(3);
    let gender: Option<String> = r.get(4);
    let phone: Option<String> = r.get(6);
    let path: String = r.get(8);
    Ok(PersonRecord {
        id: PersonId(r.get(0)),
        name: PersonName::parse(&name).map_err(|e| corrupt("name", e))?,
        document: PersonDocument::parse(kind, &number).map_err(|e| corrupt("document", e))?,
        gender: gender.as_deref().and_then(Gender::parse),
        birth_date: r.get(5),
        phone: phone
            .as_deref()
            .map(Phone::parse)
            .transpose()
            .map_err(|e| corrupt("phone", e))?,
        household: AreaId::new(r.get(7)).map_err(|e| corrupt("household", e))?,
        household_path: AreaPath::parse(&path).map_err(|e| corrupt("path", e))?,
        affiliations: Vec::new(),
    })
}

/// A sites row: id, area_id, kind, name.
pub fn site(r: &Row) -> StoreResult<SiteRecord> {
    let kind: String = r.get(2);
    Ok(SiteRecord {
        id: r.get(0),
        area: AreaId::new(r.get(1)).map_err(|e| corrupt("site area", e))?,
        kind: SiteKind::parse(&kind).ok_or_else(|| corrupt("site kind", &kind))?,
        name: r.get(3),
    })
}

/// Loads each person's affiliations in one query.
pub fn with_affiliations(
    c: &mut Client,
    mut persons: Vec<PersonRecord>,
) -> StoreResult<Vec<PersonRecord>> {
    if persons.is_empty() {
        return Ok(persons);
    }
    let ids: Vec<i64> = persons.iter().map(|p| p.id.0).collect();
    let rows = c
        .query(
            "SELECT person_id, area_id, kind FROM affiliations
             WHERE person_id = ANY($1) ORDER BY person_id, area_id",
            &[&ids],
        )
        .map_err(db_err)?;
    for r in rows {
        let pid: i64 = r.get(0);
        let kind: String = r.get(2);
        let aff = Affiliation {
            area: AreaId::new(r.get(1)).map_err(|e| corrupt("affiliation", e))?,
            kind: AffiliationKind::parse(&kind).ok_or_else(|| corrupt("affiliation", &kind))?,
        };
        if let Some(p) = persons.iter_mut().find(|p| p.id.0 == pid) {
            p.affiliations.push(aff);
        }
    }
    Ok(persons)
}
