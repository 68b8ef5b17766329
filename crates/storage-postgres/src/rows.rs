//! Turning PostgreSQL rows into the storage row types: [`Cols`] reads a
//! row by column name for the shared decoders in
//! [`gridsweep_storage::codec`].

use crate::db_err;
use gridsweep_storage::codec::{self, Columns};
use gridsweep_storage::{AreaNode, PersonRecord, SiteRecord, StoreResult};
use postgres::{Client, Row};

/// A PostgreSQL row read by column name.
pub struct Cols<'a>(pub &'a Row);

impl Cols<'_> {
    /// An integer column; `INTEGER` columns (sizes, counts) widen to `i64`.
    fn wide(&self, col: &str) -> StoreResult<Option<i64>> {
        match self.0.try_get::<_, Option<i64>>(col) {
            Ok(v) => Ok(v),
            Err(e) => self
                .0
                .try_get::<_, Option<i32>>(col)
                .map(|v| v.map(i64::from))
                .map_err(|_| db_err(e)),
        }
    }
}

impl Columns for Cols<'_> {
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.wide(col)?
            .ok_or_else(|| gridsweep_storage::StoreError::Corrupt(format!("{col} is null")))
    }
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.wide(col)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        self.0.try_get(col).map_err(db_err)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        self.0.try_get(col).map_err(db_err)
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        self.0.try_get(col).map_err(db_err)
    }
    fn opt_real(&self, col: &str) -> StoreResult<Option<f64>> {
        self.0.try_get(col).map_err(db_err)
    }
}

/// Every row decoded by `f`.
pub fn all<T>(rows: &[Row], f: impl Fn(&dyn Columns) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| f(&Cols(r))).collect()
}

/// An optional row decoded by `f`.
pub fn opt<T>(
    row: Option<Row>,
    f: impl Fn(&dyn Columns) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    row.map(|r| f(&Cols(&r))).transpose()
}

/// An `AREA_COLS` row.
pub fn area(r: &Row) -> StoreResult<AreaNode> {
    codec::area_node(&Cols(r))
}

/// A `PERSON_COLS` row (affiliations filled in later).
pub fn person(r: &Row) -> StoreResult<PersonRecord> {
    codec::person_record(&Cols(r))
}

/// A sites row: id, area_id, kind, name.
pub fn site(r: &Row) -> StoreResult<SiteRecord> {
    codec::site_record(&Cols(r))
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
    for r in &rows {
        let pid = Cols(r).int("person_id")?;
        let aff = codec::affiliation(&Cols(r))?;
        if let Some(p) = persons.iter_mut().find(|p| p.id.0 == pid) {
            p.affiliations.push(aff);
        }
    }
    Ok(persons)
}
