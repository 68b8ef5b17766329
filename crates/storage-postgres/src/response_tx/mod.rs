//! [`IncidentTx`] over a PostgreSQL transaction: one file per part of it,
//! and the row helpers they share.
//!
//! [`IncidentTx`]: gridsweep_storage::incidents::IncidentTx

use crate::db_err;
use crate::pipeline_tx::PgTx;
use crate::rows::{all, opt};
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, Columns};
use gridsweep_storage::incidents::PersonFact;
use postgres::Row;
use postgres::types::ToSql;

mod incident_rows;
mod response_work;
mod roster;
mod round_rows;

type P<'a> = &'a (dyn ToSql + Sync);

impl PgTx<'_, '_> {
    fn q(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Vec<Row>> {
        self.0.query(sql, p).map_err(db_err)
    }

    fn q1(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Option<Row>> {
        self.0.query_opt(sql, p).map_err(db_err)
    }

    fn ex(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<u64> {
        self.0.execute(sql, p).map_err(db_err)
    }

    /// Every row of `sql` for `p`, decoded by `f`.
    fn rows<T>(
        &mut self,
        sql: &str,
        p: &[P<'_>],
        f: impl Fn(&dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        all(&self.q(sql, p)?, f)
    }

    /// The row of `sql` for `p`, if any, decoded by `f`.
    fn row<T>(
        &mut self,
        sql: &str,
        p: &[P<'_>],
        f: impl Fn(&dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let row = self.q1(sql, p)?;
        opt(row, f)
    }

    fn facts(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Vec<PersonFact>> {
        let mut facts = self.rows(sql, p, |r| codec::person_fact(r, Vec::new()))?;
        for f in &mut facts {
            f.affiliations = self.rows(
                "SELECT area_id, kind FROM affiliations WHERE person_id = $1 ORDER BY area_id",
                &[&f.brief.id.0],
                codec::fact_affiliation,
            )?;
        }
        Ok(facts)
    }
}
