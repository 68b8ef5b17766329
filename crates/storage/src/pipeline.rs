//! Sampling → lab → results: the commands devices and labs send, what they
//! change, the rows they are stored as, and the row-level operations a
//! backend provides inside one transaction ([`PipelineTx`]). The engine
//! crate applies the commands over these primitives.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use gridsweep_domain::pipeline::{CtCutoffs, CtValues, Outcome, TubeKind, TubeState, TubeStatus};
use gridsweep_domain::{AreaId, AreaPath, DocumentKind, PersonId, Reach};
use serde::{Deserialize, Serialize};

/// Default capacity of an environmental tube (points per tube).
pub const ENV_TUBE_CAPACITY: u32 = 10;
/// Most points an environmental tube may be opened for.
pub const ENV_TUBE_MAX: u32 = 50;

/// One step of a tube's life, as a device or a lab sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Open a tube at a site for a round.
    OpenTube {
        tube: String,
        round: i64,
        site: i64,
        #[serde(default = "human")]
        kind: TubeKind,
        /// Defaults to the round's pool size (human) or 10 (environmental).
        #[serde(default)]
        capacity: Option<u32>,
    },
    /// Scan a person into a tube, by document number or health-code QR.
    AddPerson {
        tube: String,
        #[serde(default)]
        document: Option<String>,
        #[serde(default)]
        document_kind: Option<DocumentKind>,
        #[serde(default)]
        qr: Option<String>,
    },
    /// Swab a named point into an environmental tube.
    AddPoint { tube: String, point: String },
    /// Close the tube: no more samples.
    SealTube { tube: String },
    /// Put sealed tubes in a transfer box (created on first use).
    BoxTubes {
        #[serde(rename = "box")]
        box_barcode: String,
        tubes: Vec<String>,
    },
    /// The box leaves with the courier.
    HandOver {
        #[serde(rename = "box")]
        box_barcode: String,
    },
    /// A lab takes tubes in (listed, or every tube of a listed box).
    Receive {
        #[serde(default)]
        tubes: Vec<String>,
        #[serde(default)]
        boxes: Vec<String>,
    },
    /// A lab's result for a tube.
    PostResult {
        tube: String,
        /// Omitted: derived from the Ct values by the configured cut-offs.
        #[serde(default)]
        outcome: Option<Outcome>,
        #[serde(default)]
        ct: CtValues,
        /// Must be set to replace a different earlier result.
        #[serde(default)]
        correction: bool,
    },
}

impl Command {
    /// Whether a refusal can come after this command has already written
    /// something (boxing or receiving several tubes, one of which is
    /// refused; a scan refused as "full" after its row went in). Only such
    /// commands need a savepoint around them.
    pub fn writes_before_last_check(&self) -> bool {
        matches!(
            self,
            Command::BoxTubes { .. } | Command::HandOver { .. } | Command::Receive { .. }
        )
    }
}

fn human() -> TubeKind {
    TubeKind::Human
}

/// Who is acting, and when; plus the configuration the rules need.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// A user, device or lab name, kept on every row written.
    pub actor: String,
    /// When it happened (the device's own clock for synced events).
    pub at: DateTime<Utc>,
    pub cutoffs: CtCutoffs,
    /// Where the actor may act; every command is checked against it inside
    /// the transaction that applies it.
    pub reach: Reach,
}

/// What a command changed, for the live event stream and the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Effect {
    TubeOpened {
        tube: String,
        round: i64,
        site: i64,
    },
    SampleAdded {
        tube: String,
        samples: u32,
        capacity: u32,
    },
    TubeSealed {
        tube: String,
        samples: u32,
    },
    TubeBoxed {
        tube: String,
        #[serde(rename = "box")]
        box_barcode: String,
    },
    BoxHandedOver {
        #[serde(rename = "box")]
        box_barcode: String,
        tubes: u32,
    },
    TubeReceived {
        tube: String,
    },
    TubeResulted {
        tube: String,
        round: i64,
        site: i64,
        outcome: Outcome,
        grey_zone: bool,
        correction: bool,
    },
    /// A retried result identical to the current one: nothing changed.
    ResultUnchanged {
        tube: String,
    },
    /// A non-negative tube opened an incident (see the engine's `incident` module).
    IncidentOpened {
        incident: i64,
        area: i64,
        area_name: String,
        tube: String,
    },
    /// Members, orders, tasks or statuses of an incident changed.
    IncidentUpdated {
        incident: i64,
        what: String,
    },
    /// The playbook (or a person) proposed a decision.
    DecisionProposed {
        incident: i64,
        decision: i64,
        kind: String,
    },
    /// A person confirmed or rejected a decision.
    DecisionDecided {
        incident: i64,
        decision: i64,
        kind: String,
        confirmed: bool,
        by: String,
    },
    /// Every control lifted; the incident is closed.
    IncidentClosed {
        incident: i64,
    },
}

/// Everything a command changed.
pub type Effects = Vec<Effect>;

/// A round as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundRow {
    pub id: i64,
    pub name: String,
    pub pool_size: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub closed: bool,
    pub areas: Vec<AreaId>,
}

/// A round to create.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NewRound {
    pub name: String,
    pub pool_size: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub areas: Vec<AreaId>,
}

/// A site with what the rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow {
    pub id: i64,
    pub area: AreaId,
    /// A lab at the site itself may post results without a receipt.
    pub direct_results: bool,
}

/// A tube as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TubeRow {
    pub barcode: String,
    pub round: i64,
    pub site: i64,
    pub kind: TubeKind,
    pub status: TubeStatus,
    pub capacity: u32,
    pub samples: u32,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub sealed_at: Option<DateTime<Utc>>,
    pub box_barcode: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    pub resulted_at: Option<DateTime<Utc>>,
}

impl TubeRow {
    /// The part of the row the domain's life-cycle rules judge.
    pub fn state(&self) -> TubeState {
        TubeState {
            barcode: self.barcode.clone(),
            kind: self.kind,
            status: self.status,
            capacity: self.capacity,
            samples: self.samples,
        }
    }
}

/// One swab in a tube: a person, or an environmental point.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    pub tube: String,
    pub round: i64,
    pub person: Option<PersonId>,
    pub point: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: String,
}

/// A transfer box's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxStatus {
    Packing,
    InTransit,
    Received,
}

impl BoxStatus {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            BoxStatus::Packing => "packing",
            BoxStatus::InTransit => "in_transit",
            BoxStatus::Received => "received",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "packing" => Some(Self::Packing),
            "in_transit" => Some(Self::InTransit),
            "received" => Some(Self::Received),
            _ => None,
        }
    }
}

/// A transfer box as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxRow {
    pub barcode: String,
    pub status: BoxStatus,
    pub created_at: DateTime<Utc>,
    pub handed_over_at: Option<DateTime<Utc>>,
}

/// A result as stored; corrections keep the superseded rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    pub tube: String,
    pub outcome: Outcome,
    pub ct: CtValues,
    pub grey_zone: bool,
    pub posted_at: DateTime<Utc>,
    pub posted_by: String,
    pub correction: bool,
    /// False once a correction replaced it.
    pub current: bool,
}

/// The row-level operations a backend provides inside one transaction.
pub trait PipelineTx {
    fn round(&mut self, id: i64) -> StoreResult<Option<RoundRow>>;
    fn site(&mut self, id: i64) -> StoreResult<Option<SiteRow>>;
    /// The area path of a site's area, for the scope check.
    fn site_area_path(&mut self, site: i64) -> StoreResult<Option<AreaPath>>;
    fn tube(&mut self, barcode: &str) -> StoreResult<Option<TubeRow>>;
    fn insert_tube(&mut self, t: &TubeRow) -> StoreResult<()>;
    fn update_tube(&mut self, t: &TubeRow) -> StoreResult<()>;
    fn person_by_document(
        &mut self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonId>>;
    /// Whether the person (or point) is already in the tube.
    fn has_sample(
        &mut self,
        tube: &str,
        person: Option<PersonId>,
        point: Option<&str>,
    ) -> StoreResult<bool>;
    /// Whether the device has events stored as pending (sent ahead of a gap).
    fn has_pending(&mut self, device: &str) -> StoreResult<bool>;
    /// Inserts unless the person (or point) is already in the tube;
    /// returns whether it inserted.
    fn insert_sample(&mut self, s: &SampleRow) -> StoreResult<bool>;
    fn box_row(&mut self, barcode: &str) -> StoreResult<Option<BoxRow>>;
    fn upsert_box(&mut self, b: &BoxRow) -> StoreResult<()>;
    fn tubes_in_box(&mut self, barcode: &str) -> StoreResult<Vec<String>>;
    fn current_result(&mut self, tube: &str) -> StoreResult<Option<ResultRow>>;
    /// Marks the current result superseded, then inserts `r` as current.
    fn insert_result(&mut self, r: &ResultRow) -> StoreResult<()>;
    fn device_cursor(&mut self, device: &str) -> StoreResult<i64>;
    fn set_device_cursor(&mut self, device: &str, next_seq: i64) -> StoreResult<()>;
    fn device_event(&mut self, device: &str, seq: i64) -> StoreResult<Option<StoredEvent>>;
    fn put_device_event(&mut self, device: &str, e: &StoredEvent) -> StoreResult<()>;
    /// Pending events of a device from `from_seq` on, in order, contiguous.
    fn pending_from(&mut self, device: &str, from_seq: i64) -> StoreResult<Vec<StoredEvent>>;
    /// Starts a savepoint so one command's failure undoes only its writes.
    fn savepoint(&mut self) -> StoreResult<()>;
    fn release(&mut self) -> StoreResult<()>;
    fn rollback_to_savepoint(&mut self) -> StoreResult<()>;
}

/// One event from a device's offline queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEvent {
    /// Per-device sequence number, from 1, without gaps.
    pub seq: i64,
    /// The device's own clock when the scan happened.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub command: Command,
}

/// What became of a device event; stored so a resend gets the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub command: Command,
    pub state: EventState,
}

/// The fate of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EventState {
    /// Stored durably; waits for an earlier sequence number to arrive.
    Pending,
    Applied,
    Rejected {
        code: String,
        message: String,
    },
}

/// The answer to a sync batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Applied, now or by an earlier send of the same event.
    pub accepted: Vec<i64>,
    /// Stored; applied once the gap before them is filled.
    pub pending: Vec<i64>,
    pub rejected: Vec<Rejected>,
    /// The first sequence number the server has not seen in order: resend
    /// from here if anything is pending.
    pub next_seq: i64,
    /// What changed, for the live stream (not part of the answer).
    #[serde(skip)]
    pub effects: Effects,
}

/// A refused event and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub seq: i64,
    pub code: String,
    pub message: String,
}
