//! [`IncidentTx`] over an SQLite connection (inside a write transaction,
//! or on a reader connection for the read-only calls): one file per part
//! of it, and the row helpers they share.
//!
//! [`IncidentTx`]: gridsweep_storage::incidents::IncidentTx

use crate::db_err;
use crate::pipeline_tx::SqliteTx;
use crate::rows::{all, first};
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec;
use gridsweep_storage::incidents::PersonFact;

mod incident_rows;
mod response_work;
mod roster;
mod round_rows;

impl SqliteTx<'_> {
    fn facts(&mut self, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<PersonFact>> {
        let mut facts = self.rows(sql, p, |r| codec::person_fact(r, Vec::new()))?;
        let mut aff = self
            .conn()
            .prepare_cached(
                "SELECT area_id, kind FROM affiliations WHERE person_id = ?1 ORDER BY area_id",
            )
            .map_err(db_err)?;
        for f in &mut facts {
            f.affiliations = all(&mut aff, [f.brief.id.0], codec::fact_affiliation)?;
        }
        Ok(facts)
    }

    /// Every row of `sql` for `p`, decoded by `f`.
    fn rows<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl Fn(&dyn codec::Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        all(&mut stmt, p, f)
    }

    /// The first row of `sql` for `p`, if any, decoded by `f`.
    fn row<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl Fn(&dyn codec::Columns) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        first(&mut stmt, p, f)
    }
}
