//! Pools resolved by a stage-2 design other than single tubes: the decoder
//! replayed over the retest round as its tubes come back.

use super::*;

/// Each retest tube's latest reading (when, positive), keyed by the sorted
/// persons in it.
type Readings = BTreeMap<Vec<PersonId>, (DateTime<Utc>, bool)>;

/// Whether a retest tube came back non-negative, as the decoder reads it:
/// a grey-zone Ct counts, an invalid run is no answer (a new tube is taken).
pub(crate) fn reads_positive(outcome: Outcome) -> Option<bool> {
    match outcome {
        Outcome::Negative => Some(false),
        Outcome::Suspected | Outcome::Positive => Some(true),
        Outcome::Invalid => None,
    }
}

/// Replays the decoder over each open block of the incident with the
/// retest round's results so far, and carries out what it now says:
/// pooled tasks whose tube is back are done; members it clears are
/// cleared (as a negative single tube would); members it flags from a
/// pooled tube get a single-tube retest to confirm (a single tube's own
/// result already stands); the next round's tubes become tasks. A retest
/// tube answers for the decoder's tube with exactly its persons; if two
/// do, the later result counts.
pub(crate) fn advance_blocks(
    tx: &mut dyn IncidentTx,
    inc: i64,
    at: DateTime<Utc>,
    actor: &str,
) -> StoreResult<Effects> {
    let mut blocks: Vec<PoolBlock> = tx
        .pool_blocks(inc)?
        .into_iter()
        .filter(|b| !b.complete)
        .collect();
    if blocks.is_empty() {
        return Ok(vec![]);
    }
    let Some(round) = tx.incident(inc)?.and_then(|i| i.retest_round) else {
        return Ok(vec![]);
    };
    let results = retest_results(tx, round)?;
    let mut fx = Vec::new();
    for b in &mut blocks {
        fx.extend(advance_block(tx, inc, b, &results, at, actor)?);
    }
    Ok(fx)
}

/// The latest reading of each tube of the retest round, keyed by the
/// persons in it (a retest tube counts for the decoder's tube with exactly
/// the same persons).
fn retest_results(tx: &mut dyn IncidentTx, round: i64) -> StoreResult<Readings> {
    let mut results: Readings = BTreeMap::new();
    for t in tx.round_tubes(round)? {
        let Some(r) = &t.result else { continue };
        let Some(pos) = reads_positive(r.outcome) else {
            continue;
        };
        let mut key = tx.tube_persons(&t.tube.barcode)?;
        key.sort_unstable();
        let newer = results
            .get(&key)
            .is_none_or(|(when, _)| r.posted_at >= *when);
        if newer {
            results.insert(key, (r.posted_at, pos));
        }
    }
    Ok(results)
}

/// Replays one block's decoder over the results so far: clears, asks for
/// single-tube confirmations and the next round's tubes, once each.
fn advance_block(
    tx: &mut dyn IncidentTx,
    inc: i64,
    b: &mut PoolBlock,
    results: &Readings,
    at: DateTime<Utc>,
    actor: &str,
) -> StoreResult<Option<Effect>> {
    let rep = replay(&b.block, |tube| {
        let mut key: Vec<PersonId> = tube.iter().map(|&i| b.block.members[i]).collect();
        key.sort_unstable();
        results.get(&key).map(|r| r.1)
    })
    .map_err(|e| StoreError::Corrupt(format!("pool block {}: {e}", b.tube)))?;
    let members: BTreeMap<PersonId, MemberView> = tx
        .members(inc)?
        .into_iter()
        .map(|(m, _)| (m.person.id, m))
        .collect();
    let mut tasks = tx.tasks(inc)?;
    close_pooled_tasks(tx, b, &rep, &mut tasks, at, actor)?;
    let person = |i: usize| b.block.members[i];
    let pending = |p: &PersonId| {
        members
            .get(p)
            .is_some_and(|m| m.status == MemberStatus::PendingRetest)
    };
    let mut cleared = Vec::new();
    for p in rep.decision.cleared.iter().map(|&i| person(i)) {
        if pending(&p) {
            tx.set_member_status(inc, p, MemberStatus::Cleared)?;
            cleared.push(members[&p].person.name.clone());
        }
    }
    // Flagged from a pooled tube: confirm with a single tube.
    let to_confirm: Vec<PersonId> = rep
        .decision
        .flagged
        .iter()
        .map(|&i| person(i))
        .filter(|p| {
            pending(p)
                && !tasks.iter().any(|t| {
                    t.kind == TaskKind::Retest
                        && t.status == TaskStatus::Open
                        && t.person.as_ref().map(|x| x.id) == Some(*p)
                })
        })
        .collect();
    // The next round, once, when the decoder first asks for it.
    let next_round = rep.decision.round;
    let asks_new_round = !rep.decision.complete && next_round > b.tasks.len();
    let mut need: Vec<PersonId> = to_confirm.clone();
    if asks_new_round {
        need.extend(
            rep.decision
                .retest_tubes
                .iter()
                .flatten()
                .map(|&i| person(i)),
        );
    }
    need.sort_unstable();
    need.dedup();
    let facts = tx.person_facts(&need)?;
    let (inputs, _) = member_inputs(tx, &facts, false)?;
    let input_of: BTreeMap<PersonId, &MemberInput> =
        inputs.iter().map(|m| (m.person.id, m)).collect();
    let mut new_tasks = Vec::new();
    for p in &to_confirm {
        if let Some(t) = input_of.get(p).and_then(|m| single_retest_task(m)) {
            new_tasks.push(t);
        }
    }
    let confirm_names: Vec<String> = to_confirm
        .iter()
        .filter_map(|p| members.get(p).map(|m| m.person.name.clone()))
        .collect();
    let mut created = 0;
    for t in new_tasks {
        write_task(tx, inc, &t, at)?;
        created += 1;
    }
    if asks_new_round {
        let (ids, n) = retest_tube_tasks(tx, inc, b, &rep, &input_of, &tasks, at)?;
        b.tasks.push(ids);
        created += n;
    }
    b.complete = rep.decision.complete;
    let said = summary(
        &cleared,
        &confirm_names,
        asks_new_round.then_some((next_round + 1, rep.decision.retest_tubes.len())),
    );
    if said.is_empty() && !b.complete {
        return Ok(None);
    }
    tx.update_pool_block(b)?;
    if said.is_empty() {
        return Ok(None);
    }
    entry(
        tx,
        inc,
        at,
        PLAYBOOK_ACTOR,
        TimelineKind::Result,
        format!(
            "{} 混管复核判读（{}）：{}",
            b.tube,
            b.block.design.label(),
            said.join("；")
        ),
    )?;
    Ok(Some(Effect::IncidentUpdated {
        incident: inc,
        what: format!(
            "pool {} decoded: {} cleared, {} to confirm, {created} new tasks",
            b.tube,
            cleared.len(),
            confirm_names.len(),
        ),
    }))
}

/// Pooled tubes back: their tasks are done.
fn close_pooled_tasks(
    tx: &mut dyn IncidentTx,
    b: &PoolBlock,
    rep: &gridsweep_response::stage2::Replay,
    tasks: &mut [TaskView],
    at: DateTime<Utc>,
    actor: &str,
) -> StoreResult<()> {
    for (r, (tubes, got)) in rep.rounds.iter().enumerate() {
        for (k, (tube, res)) in tubes.iter().zip(got).enumerate() {
            let id = b.tasks.get(r).and_then(|ts| ts.get(k)).copied().flatten();
            if tube.len() < 2 || res.is_none() {
                continue;
            }
            if let Some(task) = tasks
                .iter_mut()
                .find(|t| Some(t.id) == id && t.status == TaskStatus::Open)
            {
                task.status = TaskStatus::Done;
                task.done_at = Some(at);
                task.done_by = Some(actor.to_string());
                tx.update_task(task)?;
            }
        }
    }
    Ok(())
}

/// The tasks for the next round's tubes the decoder asks for. Returns each
/// tube's task id (a member already holding an open single-tube task keeps
/// it) and how many tasks were written.
#[allow(clippy::too_many_arguments)]
fn retest_tube_tasks(
    tx: &mut dyn IncidentTx,
    inc: i64,
    b: &PoolBlock,
    rep: &gridsweep_response::stage2::Replay,
    input_of: &BTreeMap<PersonId, &MemberInput>,
    tasks: &[TaskView],
    at: DateTime<Utc>,
) -> StoreResult<(Vec<Option<i64>>, usize)> {
    let person = |i: usize| b.block.members[i];
    let next_round = rep.decision.round;
    let mut created = 0;
    let mut round_ids = Vec::new();
    let total = rep.decision.retest_tubes.len();
    for (k, tube) in rep.decision.retest_tubes.iter().enumerate() {
        let ms: Vec<&MemberInput> = tube
            .iter()
            .filter_map(|&i| input_of.get(&person(i)).copied())
            .collect();
        // A member already holding an open single-tube task keeps it.
        let open_single = match ms.as_slice() {
            [one] => tasks.iter().find(|t| {
                t.kind == TaskKind::Retest
                    && t.status == TaskStatus::Open
                    && t.person.as_ref().map(|x| x.id) == Some(one.person.id)
            }),
            _ => None,
        };
        let id = match open_single {
            Some(t) => Some(t.id),
            None if ms.len() == tube.len() => {
                match retest_tube_task(&b.tube, next_round + 1, k + 1, total, &ms) {
                    Some(t) => {
                        created += 1;
                        Some(write_task(tx, inc, &t, at)?)
                    }
                    None => None,
                }
            }
            None => None,
        };
        round_ids.push(id);
    }
    Ok((round_ids, created))
}

/// What the timeline says of a step of the decoder.
fn summary(
    cleared: &[String],
    confirm_names: &[String],
    next_round: Option<(usize, usize)>,
) -> Vec<String> {
    let mut said = Vec::new();
    if !cleared.is_empty() {
        said.push(format!(
            "{} 人复核阴性（{}）",
            cleared.len(),
            cleared.join("、")
        ));
    }
    if !confirm_names.is_empty() {
        said.push(format!(
            "{} 人疑似阳性，单管确认任务已下发（{}）",
            confirm_names.len(),
            confirm_names.join("、")
        ));
    }
    if let Some((n, tubes)) = next_round {
        said.push(format!("第{n}轮复核 {tubes} 管"));
    }
    said
}

pub(crate) fn write_task(
    tx: &mut dyn IncidentTx,
    inc: i64,
    t: &gridsweep_response::reaction::NewTask,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    let id = tx.next_id("task")?;
    tx.insert_task(&TaskView {
        id,
        incident: inc,
        kind: t.kind,
        title: t.title.clone(),
        area: t.area.clone(),
        person: t.person.clone(),
        assignee: t.assignee.clone(),
        target: t.target,
        status: TaskStatus::Open,
        created_at: at,
        done_at: None,
        done_by: None,
    })?;
    Ok(id)
}
