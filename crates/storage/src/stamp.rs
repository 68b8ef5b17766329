//! Times as both backends store them: Unix milliseconds, UTC. One place,
//! so SQLite and PostgreSQL cannot disagree on the unit or the error.

use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};

/// A time as stored.
pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored time back; out-of-range values are a corrupt row.
pub fn from_ms(v: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("time {v}")))
}

/// A nullable stored time back.
pub fn opt_ms(v: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}
