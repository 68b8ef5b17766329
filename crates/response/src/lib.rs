//! Outbreak response as pure logic: no I/O, no clock, no database.
//!
//! When a pooled tube comes back non-negative the storage layer gathers
//! what the rules need (the tube's members, their households, compounds,
//! buildings and affiliations), hands it to [`reaction::react`], and writes
//! the reaction it gets back — orders, tasks, members, timeline — in the
//! same transaction. The retest tubes in that reaction come from the pooling
//! decoder for the playbook's stage-2 design ([`stage2`]), which the
//! storage layer replays as those tubes come back. [`decide`] says which decisions the playbook proposes and
//! who may confirm them; [`coverage`] rolls the roster up the grid;
//! [`report`] turns an incident's recorded events into the report (JSON,
//! HTML page, XLSX workbook). Keeping all of this pure is what lets one set
//! of rules run over SQLite and PostgreSQL alike, and be property-tested.
#![forbid(unsafe_code)]

pub mod coverage;
pub mod decide;
mod html;
pub mod live;
pub mod model;
pub mod playbook;
pub mod reaction;
pub mod report;
pub mod stage2;
pub mod time;
mod xlsx;

pub use model::*;
pub use playbook::{ConfirmRules, Playbook, PlaybookError};
pub use stage2::Stage2;
