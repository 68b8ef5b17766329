//! Sampling → lab → results, written once for every backend.
//!
//! A backend exposes row-level primitives through [`PipelineTx`] inside one
//! of its transactions; [`apply`] turns a [`Command`] into those primitives,
//! asking the domain rules ([`gridsweep_domain::pipeline`]) before each
//! write. [`sync_batch`] adds the device protocol on top: per-device
//! sequence numbers, applied strictly in order, each exactly once.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use gridsweep_domain::pipeline::{
    CtCutoffs, CtValues, Outcome, PipelineError, ResultAction, TubeKind, TubeState, TubeStatus,
    check_new_result, check_pool_size,
};
use gridsweep_domain::{AreaId, AreaPath, Barcode, DocumentKind, PersonDocument, PersonId, Reach};
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
    /// A non-negative tube opened an incident (see [`crate::response`]).
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
    fn state(&self) -> TubeState {
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

fn barcode(raw: &str) -> Result<String, PipelineError> {
    Barcode::parse(raw)
        .map(|b| b.as_str().to_string())
        .map_err(|e| PipelineError::InvalidIdentifier(format!("barcode: {e}")))
}

fn load_tube(tx: &mut dyn PipelineTx, raw: &str) -> StoreResult<Result<TubeRow, PipelineError>> {
    let code = match barcode(raw) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(tx.tube(&code)?.ok_or(PipelineError::TubeUnknown(code)))
}

/// A health-code QR as our devices read it: `GSHC1|<document kind>|<number>`
/// (the kind as in storage, e.g. `resident_id`). Anything else is refused
/// rather than guessed at.
pub fn parse_health_code(payload: &str) -> Result<PersonDocument, PipelineError> {
    let bad = |why: &str| PipelineError::InvalidIdentifier(format!("health code: {why}"));
    let mut parts = payload.trim().split('|');
    if parts.next() != Some("GSHC1") {
        return Err(bad("not a GSHC1 code"));
    }
    let kind = parts
        .next()
        .and_then(DocumentKind::parse)
        .ok_or_else(|| bad("unknown document kind"))?;
    let number = parts.next().ok_or_else(|| bad("no document number"))?;
    PersonDocument::parse(kind, number).map_err(|e| bad(&e.to_string()))
}

/// Refuses a sampling step at a site outside the actor's reach (or by an
/// actor that does not sample at all). A site without an area row cannot
/// be placed, so it is refused too.
fn check_site_reach(
    tx: &mut dyn PipelineTx,
    site: i64,
    reach: &Reach,
) -> StoreResult<Result<(), PipelineError>> {
    if *reach == Reach::Everywhere {
        return Ok(Ok(()));
    }
    let ok = reach.samples()
        && tx
            .site_area_path(site)?
            .is_some_and(|p| reach.may_sample_at(&p));
    Ok(if ok {
        Ok(())
    } else {
        Err(PipelineError::OutOfScope(format!("site {site}")))
    })
}

fn check_tube_reach(
    tx: &mut dyn PipelineTx,
    t: &TubeRow,
    reach: &Reach,
) -> StoreResult<Result<(), PipelineError>> {
    Ok(check_site_reach(tx, t.site, reach)?
        .map_err(|_| PipelineError::OutOfScope(format!("tube {}", t.barcode))))
}

fn check_lab(reach: &Reach) -> Result<(), PipelineError> {
    if reach.is_lab() {
        Ok(())
    } else {
        Err(PipelineError::OutOfScope("lab work".into()))
    }
}

fn check_samples(reach: &Reach) -> Result<(), PipelineError> {
    if reach.samples() {
        Ok(())
    } else {
        Err(PipelineError::OutOfScope("sampling".into()))
    }
}

macro_rules! rule {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

/// Applies one command. The outer `Result` is a storage failure (roll
/// everything back); the inner one a refusal by the rules (nothing of this
/// command was written).
pub fn apply(
    tx: &mut dyn PipelineTx,
    cmd: &Command,
    ctx: &CommandContext,
) -> StoreResult<Result<Effects, PipelineError>> {
    if !cmd.writes_before_last_check() {
        // Every refusal comes before the first write: nothing to undo, and
        // the hot path (a scan) skips the savepoint's journal work.
        return apply_inner(tx, cmd, ctx);
    }
    tx.savepoint()?;
    let out = apply_inner(tx, cmd, ctx);
    match &out {
        Ok(Ok(_)) => tx.release()?,
        _ => {
            tx.rollback_to_savepoint()?;
            tx.release()?;
        }
    }
    out
}

/// Applies several commands as one unit (a lab's result file). Every
/// command is tried so every refusal can be reported; with
/// `all_or_nothing`, one refusal undoes all of them.
pub fn apply_all(
    tx: &mut dyn PipelineTx,
    cmds: &[Command],
    ctx: &CommandContext,
    all_or_nothing: bool,
) -> StoreResult<Vec<Result<Effects, PipelineError>>> {
    tx.savepoint()?;
    let mut out = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        match apply(tx, cmd, ctx) {
            Ok(r) => out.push(r),
            Err(e) => {
                tx.rollback_to_savepoint()?;
                tx.release()?;
                return Err(e);
            }
        }
    }
    if all_or_nothing && out.iter().any(|r| r.is_err()) {
        tx.rollback_to_savepoint()?;
    }
    tx.release()?;
    Ok(out)
}

fn apply_inner(
    tx: &mut dyn PipelineTx,
    cmd: &Command,
    ctx: &CommandContext,
) -> StoreResult<Result<Effects, PipelineError>> {
    match cmd {
        Command::OpenTube {
            tube,
            round,
            site,
            kind,
            capacity,
        } => {
            rule!(check_samples(&ctx.reach));
            let code = rule!(barcode(tube));
            let r = rule!(tx.round(*round)?.ok_or(PipelineError::RoundUnknown(*round)));
            if r.closed || ctx.at > r.ends_at {
                return Ok(Err(PipelineError::RoundClosed(r.id)));
            }
            rule!(tx.site(*site)?.ok_or(PipelineError::SiteUnknown(*site)));
            rule!(check_site_reach(tx, *site, &ctx.reach)?);
            rule!(check_pool_size(r.pool_size));
            let max = match kind {
                TubeKind::Human => r.pool_size,
                TubeKind::Environmental => ENV_TUBE_MAX,
            };
            let cap = capacity.unwrap_or(match kind {
                TubeKind::Human => r.pool_size,
                TubeKind::Environmental => ENV_TUBE_CAPACITY,
            });
            if cap == 0 || cap > max {
                return Ok(Err(PipelineError::BadCapacity { got: cap, max }));
            }
            if tx.tube(&code)?.is_some() {
                return Ok(Err(PipelineError::TubeExists(code)));
            }
            tx.insert_tube(&TubeRow {
                barcode: code.clone(),
                round: r.id,
                site: *site,
                kind: *kind,
                status: TubeStatus::Open,
                capacity: cap,
                samples: 0,
                opened_at: ctx.at,
                opened_by: ctx.actor.clone(),
                sealed_at: None,
                box_barcode: None,
                received_at: None,
                received_by: None,
                resulted_at: None,
            })?;
            Ok(Ok(vec![Effect::TubeOpened {
                tube: code,
                round: r.id,
                site: *site,
            }]))
        }
        Command::AddPerson {
            tube,
            document,
            document_kind,
            qr,
        } => {
            let doc = match (document, qr) {
                (Some(number), _) => rule!(
                    PersonDocument::parse(
                        document_kind.unwrap_or(DocumentKind::ResidentId),
                        number
                    )
                    .map_err(|e| PipelineError::InvalidIdentifier(format!("document: {e}")))
                ),
                (None, Some(q)) => rule!(parse_health_code(q)),
                (None, None) => {
                    return Ok(Err(PipelineError::InvalidIdentifier(
                        "document or qr is required".into(),
                    )));
                }
            };
            rule!(check_samples(&ctx.reach));
            let mut t = rule!(load_tube(tx, tube)?);
            rule!(check_tube_reach(tx, &t, &ctx.reach)?);
            rule!(t.state().check_accepts(TubeKind::Human));
            let person = rule!(
                tx.person_by_document(doc.kind(), doc.number())?
                    .ok_or(PipelineError::PersonUnknown)
            );
            if t.samples >= t.capacity && tx.has_sample(&t.barcode, Some(person), None)? {
                // "Already in this tube" tells the sampler more than "full".
                return Ok(Err(PipelineError::DuplicateSample(t.barcode)));
            }
            rule!(t.state().check_add(TubeKind::Human));
            let inserted = tx.insert_sample(&SampleRow {
                tube: t.barcode.clone(),
                round: t.round,
                person: Some(person),
                point: None,
                at: ctx.at,
                actor: ctx.actor.clone(),
            })?;
            if !inserted {
                return Ok(Err(PipelineError::DuplicateSample(t.barcode)));
            }
            t.samples += 1;
            tx.update_tube(&t)?;
            Ok(Ok(vec![Effect::SampleAdded {
                tube: t.barcode,
                samples: t.samples,
                capacity: t.capacity,
            }]))
        }
        Command::AddPoint { tube, point } => {
            let point = point.trim();
            if point.is_empty() || point.chars().count() > 100 {
                return Ok(Err(PipelineError::InvalidIdentifier(
                    "point must be 1 to 100 characters".into(),
                )));
            }
            rule!(check_samples(&ctx.reach));
            let mut t = rule!(load_tube(tx, tube)?);
            rule!(check_tube_reach(tx, &t, &ctx.reach)?);
            rule!(t.state().check_accepts(TubeKind::Environmental));
            if t.samples >= t.capacity && tx.has_sample(&t.barcode, None, Some(point))? {
                return Ok(Err(PipelineError::DuplicatePoint {
                    barcode: t.barcode,
                    point: point.to_string(),
                }));
            }
            rule!(t.state().check_add(TubeKind::Environmental));
            let inserted = tx.insert_sample(&SampleRow {
                tube: t.barcode.clone(),
                round: t.round,
                person: None,
                point: Some(point.to_string()),
                at: ctx.at,
                actor: ctx.actor.clone(),
            })?;
            if !inserted {
                return Ok(Err(PipelineError::DuplicatePoint {
                    barcode: t.barcode,
                    point: point.to_string(),
                }));
            }
            t.samples += 1;
            tx.update_tube(&t)?;
            Ok(Ok(vec![Effect::SampleAdded {
                tube: t.barcode,
                samples: t.samples,
                capacity: t.capacity,
            }]))
        }
        Command::SealTube { tube } => {
            rule!(check_samples(&ctx.reach));
            let mut t = rule!(load_tube(tx, tube)?);
            rule!(check_tube_reach(tx, &t, &ctx.reach)?);
            rule!(t.state().check_seal());
            t.status = TubeStatus::Sealed;
            t.sealed_at = Some(ctx.at);
            tx.update_tube(&t)?;
            Ok(Ok(vec![Effect::TubeSealed {
                tube: t.barcode,
                samples: t.samples,
            }]))
        }
        Command::BoxTubes { box_barcode, tubes } => {
            rule!(check_samples(&ctx.reach));
            let code = rule!(barcode(box_barcode));
            // A box already packing holds another team's tubes only if
            // that team's reach is also ours.
            for raw in tx.tubes_in_box(&code)? {
                if let Some(t) = tx.tube(&raw)? {
                    rule!(check_tube_reach(tx, &t, &ctx.reach)?);
                }
            }
            let b = match tx.box_row(&code)? {
                Some(b) if b.status != BoxStatus::Packing => {
                    return Ok(Err(PipelineError::BoxClosed(code)));
                }
                Some(b) => b,
                None => {
                    let b = BoxRow {
                        barcode: code.clone(),
                        status: BoxStatus::Packing,
                        created_at: ctx.at,
                        handed_over_at: None,
                    };
                    tx.upsert_box(&b)?;
                    b
                }
            };
            let mut effects = Vec::new();
            for raw in tubes {
                let mut t = rule!(load_tube(tx, raw)?);
                rule!(check_tube_reach(tx, &t, &ctx.reach)?);
                rule!(t.state().check_box());
                t.status = TubeStatus::Boxed;
                t.box_barcode = Some(b.barcode.clone());
                tx.update_tube(&t)?;
                effects.push(Effect::TubeBoxed {
                    tube: t.barcode,
                    box_barcode: b.barcode.clone(),
                });
            }
            Ok(Ok(effects))
        }
        Command::HandOver { box_barcode } => {
            rule!(check_samples(&ctx.reach));
            let code = rule!(barcode(box_barcode));
            let mut b = rule!(
                tx.box_row(&code)?
                    .ok_or(PipelineError::BoxUnknown(code.clone()))
            );
            if b.status != BoxStatus::Packing {
                return Ok(Err(PipelineError::BoxClosed(code)));
            }
            let tubes = tx.tubes_in_box(&code)?;
            for raw in &tubes {
                let mut t = rule!(load_tube(tx, raw)?);
                rule!(check_tube_reach(tx, &t, &ctx.reach)?);
                t.status = TubeStatus::InTransit;
                tx.update_tube(&t)?;
            }
            b.status = BoxStatus::InTransit;
            b.handed_over_at = Some(ctx.at);
            tx.upsert_box(&b)?;
            Ok(Ok(vec![Effect::BoxHandedOver {
                box_barcode: code,
                tubes: tubes.len() as u32,
            }]))
        }
        Command::Receive { tubes, boxes } => {
            rule!(check_lab(&ctx.reach));
            let mut all: Vec<String> = Vec::new();
            for raw in boxes {
                let code = rule!(barcode(raw));
                let mut b = rule!(
                    tx.box_row(&code)?
                        .ok_or(PipelineError::BoxUnknown(code.clone()))
                );
                if b.status == BoxStatus::Received {
                    return Ok(Err(PipelineError::AlreadyReceived(code)));
                }
                b.status = BoxStatus::Received;
                tx.upsert_box(&b)?;
                all.extend(tx.tubes_in_box(&code)?);
            }
            all.extend(tubes.iter().cloned());
            let mut effects = Vec::new();
            for raw in &all {
                let mut t = rule!(load_tube(tx, raw)?);
                rule!(t.state().check_receive());
                t.status = TubeStatus::Received;
                t.received_at = Some(ctx.at);
                t.received_by = Some(ctx.actor.clone());
                tx.update_tube(&t)?;
                effects.push(Effect::TubeReceived { tube: t.barcode });
            }
            Ok(Ok(effects))
        }
        Command::PostResult {
            tube,
            outcome,
            ct,
            correction,
        } => {
            rule!(check_lab(&ctx.reach));
            let mut t = rule!(load_tube(tx, tube)?);
            let direct = tx.site(t.site)?.is_some_and(|s| s.direct_results);
            rule!(t.state().check_result(direct));
            let persons = match t.kind {
                TubeKind::Human => t.samples,
                TubeKind::Environmental => 1,
            };
            let class = ctx.cutoffs.classify(*ct, persons);
            let outcome = outcome.unwrap_or(class.outcome);
            let existing = tx.current_result(&t.barcode)?;
            let action = rule!(check_new_result(
                &t.barcode,
                existing.as_ref().map(|r| (r.outcome, r.ct)),
                (outcome, *ct),
                *correction,
            ));
            if action == ResultAction::AlreadyRecorded {
                return Ok(Ok(vec![Effect::ResultUnchanged { tube: t.barcode }]));
            }
            tx.insert_result(&ResultRow {
                tube: t.barcode.clone(),
                outcome,
                ct: *ct,
                grey_zone: class.grey_zone,
                posted_at: ctx.at,
                posted_by: ctx.actor.clone(),
                correction: action == ResultAction::Correct,
                current: true,
            })?;
            t.status = TubeStatus::Resulted;
            t.resulted_at = Some(ctx.at);
            if t.received_at.is_none() {
                t.received_at = Some(ctx.at);
                t.received_by = Some(ctx.actor.clone());
            }
            tx.update_tube(&t)?;
            Ok(Ok(vec![Effect::TubeResulted {
                tube: t.barcode,
                round: t.round,
                site: t.site,
                outcome,
                grey_zone: class.grey_zone,
                correction: action == ResultAction::Correct,
            }]))
        }
    }
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

fn record(report: &mut SyncReport, seq: i64, state: &EventState) {
    match state {
        EventState::Pending => report.pending.push(seq),
        EventState::Applied => report.accepted.push(seq),
        EventState::Rejected { code, message } => report.rejected.push(Rejected {
            seq,
            code: code.clone(),
            message: message.clone(),
        }),
    }
}

/// A sequence number the device already used for another event: the
/// first one stands, and the device is told plainly that this one was not
/// applied (rather than "accepted" for an event that never happened).
fn reused(stored: &StoredEvent, sent: &DeviceEvent) -> Option<EventState> {
    if stored.command == sent.command && stored.at == sent.at {
        return None;
    }
    Some(EventState::Rejected {
        code: "sequence_reused".into(),
        message: format!(
            "sequence number {} was already used for another event; send new events with new numbers",
            sent.seq
        ),
    })
}

/// Applies a device's batch: each event exactly once, in sequence order,
/// whatever order and however often batches arrive.
pub fn sync_batch(
    tx: &mut dyn PipelineTx,
    device: &str,
    events: &[DeviceEvent],
    cutoffs: CtCutoffs,
    reach: &Reach,
) -> StoreResult<SyncReport> {
    let mut report = SyncReport::default();
    let mut next = tx.device_cursor(device)?;
    let mut has_pending = tx.has_pending(device)?;
    let mut events: Vec<&DeviceEvent> = events.iter().collect();
    events.sort_by_key(|e| e.seq);
    events.dedup_by_key(|e| e.seq);
    let mut answered = std::collections::BTreeMap::new();
    let run = |tx: &mut dyn PipelineTx, e: &DeviceEvent, report: &mut SyncReport| {
        // The account sending this batch is the device's account (the
        // device key names it), so events released from waiting are
        // checked against the same reach, as the rows are now.
        let ctx = CommandContext {
            actor: device.to_string(),
            at: e.at,
            cutoffs,
            reach: reach.clone(),
        };
        Ok::<_, crate::StoreError>(match apply(tx, &e.command, &ctx)? {
            Ok(effects) => {
                report.effects.extend(effects);
                EventState::Applied
            }
            Err(err) => EventState::Rejected {
                code: err.code().to_string(),
                message: err.to_string(),
            },
        })
    };
    for e in events {
        if e.seq < next {
            // Seen before: answer as then.
            if let Some(stored) = tx.device_event(device, e.seq)? {
                if let Some(conflict) = reused(&stored, e) {
                    answered.insert(e.seq, conflict);
                    continue;
                }
                // A lab resending a result it had no answer for: the caller
                // reacts to it again (the response engine is idempotent), in
                // case the server stopped before reacting the first time.
                if let (EventState::Applied, Command::PostResult { tube, .. }) =
                    (&stored.state, &stored.command)
                {
                    report
                        .effects
                        .push(Effect::ResultUnchanged { tube: tube.clone() });
                }
                answered.insert(e.seq, stored.state);
            }
            continue;
        }
        if e.seq == next {
            let state = run(tx, e, &mut report)?;
            tx.put_device_event(
                device,
                &StoredEvent {
                    seq: e.seq,
                    at: e.at,
                    command: e.command.clone(),
                    state: state.clone(),
                },
            )?;
            answered.insert(e.seq, state);
            next += 1;
            // Events that arrived early and waited for this one.
            let waiting = if has_pending {
                tx.pending_from(device, next)?
            } else {
                Vec::new()
            };
            for p in waiting {
                let ev = DeviceEvent {
                    seq: p.seq,
                    at: p.at,
                    command: p.command.clone(),
                };
                let state = run(tx, &ev, &mut report)?;
                tx.put_device_event(
                    device,
                    &StoredEvent {
                        state: state.clone(),
                        ..p
                    },
                )?;
                answered.insert(ev.seq, state);
                next += 1;
            }
        } else {
            let state = match tx.device_event(device, e.seq)? {
                Some(stored) => reused(&stored, e).unwrap_or(stored.state),
                None => {
                    tx.put_device_event(
                        device,
                        &StoredEvent {
                            seq: e.seq,
                            at: e.at,
                            command: e.command.clone(),
                            state: EventState::Pending,
                        },
                    )?;
                    has_pending = true;
                    EventState::Pending
                }
            };
            answered.insert(e.seq, state);
        }
    }
    tx.set_device_cursor(device, next)?;
    for (seq, state) in &answered {
        record(&mut report, *seq, state);
    }
    report.next_seq = next;
    Ok(report)
}
