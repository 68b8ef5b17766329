//! Helpers for `gridsweep bench ingest`: pick residents to scan, and the
//! ceiling — the same rows the sync path writes, inserted straight into
//! SQLite with no server, no JSON and no rule checks.

use crate::{SqliteStore, db_err};
use chrono::Utc;
use gridsweep_storage::{StoreError, StoreResult};
use rusqlite::params;
use std::time::{Duration, Instant};

impl SqliteStore {
    /// `n` resident ID numbers, spread over the roster (every k-th person),
    /// for simulated devices to scan.
    pub fn sample_documents(&self, n: usize) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let total: i64 = c
                .query_row(
                    "SELECT count(*) FROM persons WHERE doc_kind = 'resident_id'",
                    [],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            if (total as usize) < n {
                return Err(StoreError::NotFound(format!(
                    "only {total} residents with an ID number, {n} needed"
                )));
            }
            let step = (total as usize / n).max(1);
            let mut stmt = c
                .prepare(
                    "SELECT doc_number FROM persons WHERE doc_kind = 'resident_id' ORDER BY id",
                )
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(n);
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            for (i, row) in rows.enumerate() {
                if i % step == 0 {
                    out.push(row.map_err(db_err)?);
                    if out.len() == n {
                        break;
                    }
                }
            }
            Ok(out)
        })
    }

    /// Inserts, for each tube, the rows a synced tube leaves behind — the
    /// tube, its samples, one device-event row per event, the device
    /// cursor — `group` tubes per transaction, as the writer commits one
    /// group per fsync. Returns the time taken. Persons are resolved
    /// before the clock starts: this is the insert rate alone.
    pub fn insert_ceiling(
        &self,
        round: i64,
        site: i64,
        prefix: &str,
        documents: &[String],
        per_tube: usize,
        group: usize,
    ) -> StoreResult<Duration> {
        let ids: Vec<i64> = self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id FROM persons WHERE doc_number = ?1 AND doc_kind = 'resident_id'",
                )
                .map_err(db_err)?;
            documents
                .iter()
                .map(|d| stmt.query_row([d], |r| r.get(0)).map_err(db_err))
                .collect()
        })?;
        let prefix = prefix.to_string();
        let per_tube = per_tube.max(1);
        let tubes: Vec<Vec<i64>> = ids.chunks(per_tube).map(|c| c.to_vec()).collect();
        let started = Instant::now();
        for (g, chunk) in tubes.chunks(group.max(1)).enumerate() {
            let chunk = chunk.to_vec();
            let prefix = prefix.clone();
            self.write(move |c| {
                let now = Utc::now().timestamp_millis();
                let mut tube = c
                    .prepare_cached(
                        "INSERT INTO tubes(barcode, round_id, site_id, kind, status, capacity, samples,
                         opened_at, opened_by, sealed_at) VALUES (?1, ?2, ?3, 'human', 'sealed', 20, ?4, ?5, ?6, ?5)",
                    )
                    .map_err(db_err)?;
                let mut sample = c
                    .prepare_cached(
                        "INSERT INTO samples(tube, round_id, person_id, at, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(db_err)?;
                let mut event = c
                    .prepare_cached(
                        "INSERT INTO device_events(device_id, seq, at, command, state, received_at)
                         VALUES (?1, ?2, ?3, ?4, '{\"state\":\"applied\"}', ?3)",
                    )
                    .map_err(db_err)?;
                let mut cursor = c
                    .prepare_cached(
                        "INSERT INTO device_cursors(device_id, next_seq) VALUES (?1, ?2)
                         ON CONFLICT(device_id) DO UPDATE SET next_seq = excluded.next_seq",
                    )
                    .map_err(db_err)?;
                for (i, persons) in chunk.iter().enumerate() {
                    let code = format!("{prefix}{g:05}-{i:03}");
                    let device = format!("{prefix}dev-{i}");
                    tube.execute(params![code, round, site, persons.len(), now, "bench"])
                        .map_err(db_err)?;
                    let mut seq = g as i64 * 1000 + 1;
                    let open = format!(
                        "{{\"type\":\"open_tube\",\"tube\":\"{code}\",\"round\":{round},\"site\":{site},\"kind\":\"human\",\"capacity\":null}}"
                    );
                    event.execute(params![device, seq, now, open]).map_err(db_err)?;
                    for p in persons {
                        seq += 1;
                        sample.execute(params![code, round, p, now, device]).map_err(db_err)?;
                        let add = format!(
                            "{{\"type\":\"add_person\",\"tube\":\"{code}\",\"document\":\"410105199001010000\",\"document_kind\":null,\"qr\":null}}"
                        );
                        event.execute(params![device, seq, now, add]).map_err(db_err)?;
                    }
                    seq += 1;
                    let seal = format!("{{\"type\":\"seal_tube\",\"tube\":\"{code}\"}}");
                    event.execute(params![device, seq, now, seal]).map_err(db_err)?;
                    cursor.execute(params![device, seq + 1]).map_err(db_err)?;
                }
                Ok(())
            })?;
        }
        Ok(started.elapsed())
    }
}
