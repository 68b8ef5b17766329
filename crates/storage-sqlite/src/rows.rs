//! Turning SQLite rows into the storage row types: [`Cols`] reads a row by
//! column name for the shared decoders in [`gridsweep_storage::codec`].

use crate::db_err;
use gridsweep_storage::codec::{self, Columns};
use gridsweep_storage::{AreaNode, PersonRecord, SiteRecord, StoreResult};
use rusqlite::{Connection, Params, Row, Statement};

type Parsed<T> = rusqlite::Result<StoreResult<T>>;

/// An SQLite row read by column name.
pub struct Cols<'a, 'r>(pub &'a Row<'r>);

impl Columns for Cols<'_, '_> {
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.0.get(col).map_err(db_err)
    }
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.0.get(col).map_err(db_err)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        self.0.get(col).map_err(db_err)
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        self.0.get(col).map_err(db_err)
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        self.0.get(col).map_err(db_err)
    }
    fn opt_real(&self, col: &str) -> StoreResult<Option<f64>> {
        self.0.get(col).map_err(db_err)
    }
}

/// Every row `stmt` returns for `p`, decoded by `f`.
pub fn all<T>(
    stmt: &mut Statement<'_>,
    p: impl Params,
    f: impl Fn(&dyn Columns) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut rows = stmt.query(p).map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db_err)? {
        out.push(f(&Cols(r))?);
    }
    Ok(out)
}

/// The first row `stmt` returns for `p`, if any, decoded by `f`.
pub fn first<T>(
    stmt: &mut Statement<'_>,
    p: impl Params,
    f: impl Fn(&dyn Columns) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut rows = stmt.query(p).map_err(db_err)?;
    rows.next()
        .map_err(db_err)?
        .map(|r| f(&Cols(r)))
        .transpose()
}

/// An `AREA_COLS` row.
pub fn area(r: &Row<'_>) -> Parsed<AreaNode> {
    Ok(codec::area_node(&Cols(r)))
}

/// A `PERSON_COLS` row (affiliations filled in later).
pub fn person(r: &Row<'_>) -> Parsed<PersonRecord> {
    Ok(codec::person_record(&Cols(r)))
}

/// A sites row: id, area_id, kind, name.
pub fn site(r: &Row<'_>) -> Parsed<SiteRecord> {
    Ok(codec::site_record(&Cols(r)))
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
        p.affiliations = all(&mut stmt, [p.id.0], codec::affiliation)?;
    }
    Ok(persons)
}
