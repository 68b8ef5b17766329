//! Sampling → lab → results, written once for every backend: [`apply`]
//! turns a [`Command`] into the backend's [`PipelineTx`] primitives,
//! asking the domain rules ([`gridsweep_domain::pipeline`]) before each
//! write; [`sync_batch`] adds the device protocol on top (per-device
//! sequence numbers, applied strictly in order, each exactly once).

mod commands;
mod reach;
mod sync;

pub use sync::sync_batch;

use gridsweep_domain::pipeline::PipelineError;
use gridsweep_domain::{Barcode, DocumentKind, PersonDocument, PersonId};
use gridsweep_storage::StoreResult;
use gridsweep_storage::pipeline::{Command, CommandContext, Effects, PipelineTx, TubeRow};
use std::collections::HashMap;

/// Persons already looked up by document, before the unit of work began
/// (on a reader, off the single writer); a document not here is looked up
/// inside the transaction.
pub type Known = HashMap<(DocumentKind, String), PersonId>;

/// Returns early with the refusal when a rule says no.
macro_rules! rule {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}
pub(crate) use rule;

/// A barcode as stored (trimmed, checked), or why not.
fn barcode(raw: &str) -> Result<String, PipelineError> {
    Barcode::parse(raw)
        .map(|b| b.as_str().to_string())
        .map_err(|e| PipelineError::InvalidIdentifier(format!("barcode: {e}")))
}

/// The tube a command names, or why it cannot be used.
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

/// The documents these commands scan, well-formed ones only (the rules
/// report the others in order); what the engine looks up before a write.
pub fn scanned_documents<'c>(cmds: impl IntoIterator<Item = &'c Command>) -> Vec<PersonDocument> {
    cmds.into_iter()
        .filter_map(|c| match c {
            Command::AddPerson {
                document,
                document_kind,
                qr,
                ..
            } => {
                commands::scanned_document(document.as_deref(), *document_kind, qr.as_deref()).ok()
            }
            _ => None,
        })
        .collect()
}

/// Applies one command. The outer `Result` is a storage failure (roll
/// everything back); the inner one a refusal by the rules (nothing of this
/// command was written).
pub fn apply(
    tx: &mut dyn PipelineTx,
    cmd: &Command,
    ctx: &CommandContext,
    known: &Known,
) -> StoreResult<Result<Effects, PipelineError>> {
    if !cmd.writes_before_last_check() {
        // Every refusal comes before the first write: nothing to undo, and
        // the hot path (a scan) skips the savepoint's journal work.
        return dispatch(tx, cmd, ctx, known);
    }
    tx.savepoint()?;
    let out = dispatch(tx, cmd, ctx, known);
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
    let known = Known::new();
    for cmd in cmds {
        match apply(tx, cmd, ctx, &known) {
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

/// Hands a command to its own function.
fn dispatch(
    tx: &mut dyn PipelineTx,
    cmd: &Command,
    ctx: &CommandContext,
    known: &Known,
) -> StoreResult<Result<Effects, PipelineError>> {
    match cmd {
        Command::OpenTube {
            tube,
            round,
            site,
            kind,
            capacity,
        } => commands::open_tube(tx, ctx, tube, *round, *site, *kind, *capacity),
        Command::AddPerson {
            tube,
            document,
            document_kind,
            qr,
        } => {
            let doc =
                commands::scanned_document(document.as_deref(), *document_kind, qr.as_deref());
            commands::add_person(tx, ctx, known, tube, doc)
        }
        Command::AddPoint { tube, point } => commands::add_point(tx, ctx, tube, point),
        Command::SealTube { tube } => commands::seal_tube(tx, ctx, tube),
        Command::BoxTubes { box_barcode, tubes } => {
            commands::box_tubes(tx, ctx, box_barcode, tubes)
        }
        Command::HandOver { box_barcode } => commands::hand_over(tx, ctx, box_barcode),
        Command::Receive { tubes, boxes } => commands::receive(tx, ctx, tubes, boxes),
        Command::PostResult {
            tube,
            outcome,
            ct,
            correction,
        } => commands::post_result(tx, ctx, tube, *outcome, *ct, *correction),
    }
}
