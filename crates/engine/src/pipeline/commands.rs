//! One function per pipeline command: each asks the domain rules before it
//! writes, and refuses (inner `Err`) before its first write wherever it can
//! (see [`Command::writes_before_last_check`] for those that cannot).

use super::reach::{check_lab, check_samples, check_site_reach, check_tube_reach};
use super::{Known, barcode, load_tube, parse_health_code, rule};
use gridsweep_domain::pipeline::{
    CtValues, Outcome, PipelineError, ResultAction, TubeKind, TubeStatus, check_new_result,
    check_pool_size,
};
use gridsweep_domain::{DocumentKind, PersonDocument};
use gridsweep_storage::StoreResult;
use gridsweep_storage::pipeline::{
    BoxRow, BoxStatus, CommandContext, ENV_TUBE_CAPACITY, ENV_TUBE_MAX, Effect, Effects,
    PipelineTx, ResultRow, SampleRow, TubeRow,
};

#[cfg(doc)]
use gridsweep_storage::pipeline::Command;

/// What a command answers: outer `Err` a storage failure, inner a refusal.
type Answer = StoreResult<Result<Effects, PipelineError>>;

/// Opens a tube at a site for a round, within the round's window.
pub(super) fn open_tube(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    tube: &str,
    round: i64,
    site: i64,
    kind: TubeKind,
    capacity: Option<u32>,
) -> Answer {
    rule!(check_samples(&ctx.reach));
    let code = rule!(barcode(tube));
    let r = rule!(tx.round(round)?.ok_or(PipelineError::RoundUnknown(round)));
    if r.closed || ctx.at > r.ends_at {
        return Ok(Err(PipelineError::RoundClosed(r.id)));
    }
    rule!(tx.site(site)?.ok_or(PipelineError::SiteUnknown(site)));
    rule!(check_site_reach(tx, site, &ctx.reach)?);
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
        site,
        kind,
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
        site,
    }]))
}

/// The document a scan names: a number typed or read from the card, or a
/// health-code QR.
pub(super) fn scanned_document(
    document: Option<&str>,
    document_kind: Option<DocumentKind>,
    qr: Option<&str>,
) -> Result<PersonDocument, PipelineError> {
    match (document, qr) {
        (Some(number), _) => {
            PersonDocument::parse(document_kind.unwrap_or(DocumentKind::ResidentId), number)
                .map_err(|e| PipelineError::InvalidIdentifier(format!("document: {e}")))
        }
        (None, Some(q)) => parse_health_code(q),
        (None, None) => Err(PipelineError::InvalidIdentifier(
            "document or qr is required".into(),
        )),
    }
}

/// Scans a person into a human tube.
pub(super) fn add_person(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    known: &Known,
    tube: &str,
    doc: Result<PersonDocument, PipelineError>,
) -> Answer {
    let doc = rule!(doc);
    rule!(check_samples(&ctx.reach));
    let mut t = rule!(load_tube(tx, tube)?);
    rule!(check_tube_reach(tx, &t, &ctx.reach)?);
    rule!(t.state().check_accepts(TubeKind::Human));
    let found = match known.get(&(doc.kind(), doc.number().to_string())) {
        Some(id) => Some(*id),
        None => tx.person_by_document(doc.kind(), doc.number())?,
    };
    let person = rule!(found.ok_or(PipelineError::PersonUnknown));
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

/// Swabs a named point into an environmental tube.
pub(super) fn add_point(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    tube: &str,
    point: &str,
) -> Answer {
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
    let duplicate = |barcode: String| PipelineError::DuplicatePoint {
        barcode,
        point: point.to_string(),
    };
    if t.samples >= t.capacity && tx.has_sample(&t.barcode, None, Some(point))? {
        return Ok(Err(duplicate(t.barcode)));
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
        return Ok(Err(duplicate(t.barcode)));
    }
    t.samples += 1;
    tx.update_tube(&t)?;
    Ok(Ok(vec![Effect::SampleAdded {
        tube: t.barcode,
        samples: t.samples,
        capacity: t.capacity,
    }]))
}

/// Closes a tube: no more samples.
pub(super) fn seal_tube(tx: &mut dyn PipelineTx, ctx: &CommandContext, tube: &str) -> Answer {
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

/// Packs sealed tubes into a transfer box, creating the box on first use.
pub(super) fn box_tubes(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    box_barcode: &str,
    tubes: &[String],
) -> Answer {
    rule!(check_samples(&ctx.reach));
    let code = rule!(barcode(box_barcode));
    // A box already packing holds another team's tubes only if that team's
    // reach is also ours.
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

/// The box leaves with the courier, and every tube in it is in transit.
pub(super) fn hand_over(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    box_barcode: &str,
) -> Answer {
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

/// A lab takes tubes in: the ones listed, and every tube of the boxes listed.
pub(super) fn receive(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    tubes: &[String],
    boxes: &[String],
) -> Answer {
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

/// A lab's result for a tube, classified by the configured Ct cut-offs; a
/// different earlier result is replaced only by an explicit correction.
pub(super) fn post_result(
    tx: &mut dyn PipelineTx,
    ctx: &CommandContext,
    tube: &str,
    outcome: Option<Outcome>,
    ct: CtValues,
    correction: bool,
) -> Answer {
    rule!(check_lab(&ctx.reach));
    let mut t = rule!(load_tube(tx, tube)?);
    let direct = tx.site(t.site)?.is_some_and(|s| s.direct_results);
    rule!(t.state().check_result(direct));
    let persons = match t.kind {
        TubeKind::Human => t.samples,
        TubeKind::Environmental => 1,
    };
    let class = ctx.cutoffs.classify(ct, persons);
    let outcome = outcome.unwrap_or(class.outcome);
    let existing = tx.current_result(&t.barcode)?;
    let action = rule!(check_new_result(
        &t.barcode,
        existing.as_ref().map(|r| (r.outcome, r.ct)),
        (outcome, ct),
        correction,
    ));
    if action == ResultAction::AlreadyRecorded {
        return Ok(Ok(vec![Effect::ResultUnchanged { tube: t.barcode }]));
    }
    tx.insert_result(&ResultRow {
        tube: t.barcode.clone(),
        outcome,
        ct,
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
