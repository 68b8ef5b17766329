//! What the response asks outside a unit of work.

use super::*;

impl IncidentStore for PgStore {
    fn unanswered_results(&self) -> StoreResult<Vec<String>> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT t.barcode FROM tubes t JOIN results r ON r.tube = t.barcode AND r.current
                     WHERE r.outcome <> 'negative'
                       AND NOT EXISTS (SELECT 1 FROM incident_tubes it WHERE it.tube = t.barcode)
                 UNION
                 SELECT t.barcode FROM incidents i JOIN tubes t ON t.round_id = i.retest_round
                     WHERE i.status = 'open' AND t.resulted_at IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM incident_tubes it WHERE it.tube = t.barcode)
                 UNION
                 SELECT (SELECT t.barcode FROM tubes t
                         WHERE t.round_id = i.expansion_round AND t.resulted_at IS NOT NULL
                         ORDER BY t.resulted_at DESC LIMIT 1)
                     FROM incidents i WHERE i.status = 'open' AND i.expansion_round IS NOT NULL",
                &[],
            )
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .collect())
    }
}
