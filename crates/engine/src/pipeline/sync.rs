//! The device protocol: a device's offline queue arrives in batches, in
//! any order and any number of times; each event is applied exactly once,
//! strictly in sequence order, and a resend gets the answer it had.

use super::{Known, apply};
use gridsweep_domain::Reach;
use gridsweep_domain::pipeline::CtCutoffs;
use gridsweep_storage::pipeline::{
    Command, CommandContext, DeviceEvent, Effect, EventState, PipelineTx, Rejected, StoredEvent,
    SyncReport,
};
use gridsweep_storage::{StoreError, StoreResult};

/// Files an event's fate under the answer's right list.
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
    known: &Known,
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
        Ok::<_, StoreError>(match apply(tx, &e.command, &ctx, known)? {
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
