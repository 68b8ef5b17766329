//! Sampling sites: where tubes are opened.

use serde::{Deserialize, Serialize};

/// The three ways samples are taken in the story: a fixed hut (采样小屋),
/// a door-to-door team (上门采样) and a closed-loop point (闭环采样点).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Hut,
    DoorToDoor,
    ClosedLoop,
}

impl SiteKind {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Hut => "hut",
            SiteKind::DoorToDoor => "door_to_door",
            SiteKind::ClosedLoop => "closed_loop",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        [SiteKind::Hut, SiteKind::DoorToDoor, SiteKind::ClosedLoop]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}
