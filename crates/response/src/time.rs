//! The drill's clock: times are stored in UTC and shown in China Standard
//! Time (UTC+8, no daylight saving — so a fixed offset is exact).

use chrono::{DateTime, FixedOffset, Utc};

/// UTC+08:00, Asia/Shanghai.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A UTC instant on the China clock.
pub fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&china())
}

/// `HH:MM` on the China clock, as the story tells times.
pub fn hm(t: DateTime<Utc>) -> String {
    local(t).format("%H:%M").to_string()
}

/// `YYYY-MM-DD HH:MM` on the China clock.
pub fn ymd_hm(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// `MM-DD HH:MM` on the China clock: for an incident that spans days,
/// where `HH:MM` alone would be ambiguous across midnight.
pub fn md_hm(t: DateTime<Utc>) -> String {
    local(t).format("%m-%d %H:%M").to_string()
}

/// A duration as "13 h 50 m".
pub fn duration_hm(minutes: i64) -> String {
    format!("{} h {:02} m", minutes / 60, minutes % 60)
}
