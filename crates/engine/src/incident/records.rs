//! Lines the people on the ground add: notes, tasks done, persons marked.

use super::*;

/// Records a line on the timeline (a grid level in place, a note).
pub fn note(tx: &mut dyn IncidentTx, inc: i64, n: &NewNote) -> StoreResult<Refused<Effects>> {
    rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    entry(tx, inc, n.at, &n.by, n.kind, n.text.clone())?;
    Ok(Ok(vec![Effect::IncidentUpdated {
        incident: inc,
        what: n.kind.as_str().to_string(),
    }]))
}

/// Marks a task done. A done task may resolve a chain (an environmental
/// tube's disinfection), so the playbook looks again at what it would
/// propose.
pub fn complete_task(
    tx: &mut dyn IncidentTx,
    inc: i64,
    task: i64,
    by: &str,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Refused<TaskView>> {
    let info = rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    if at < info.opened_at {
        return Ok(Err(ResponseError::TimeBeforeIncident {
            at: at.to_rfc3339(),
            opened_at: info.opened_at.to_rfc3339(),
        }));
    }
    let mut t = rule!(
        tx.tasks(inc)?
            .into_iter()
            .find(|t| t.id == task)
            .ok_or(ResponseError::TaskUnknown(task))
    );
    if t.status != TaskStatus::Done {
        t.status = TaskStatus::Done;
        t.done_at = Some(at);
        t.done_by = Some(by.to_string());
        tx.update_task(&t)?;
        entry(
            tx,
            inc,
            at,
            by,
            TimelineKind::Task,
            format!("完成：{}", t.title),
        )?;
        propose_due(tx, inc, at, pb)?;
    }
    Ok(Ok(t))
}

/// Marks a person away / hospitalised / sampled elsewhere for a round;
/// when the round is an incident's, the playbook looks again at what it
/// would propose (the mark may complete a compound's coverage).
pub fn mark(tx: &mut dyn IncidentTx, m: &PersonMark, pb: &Playbook) -> StoreResult<Refused<()>> {
    rule!(
        tx.round(m.round)?
            .ok_or(ResponseError::RoundUnknown(m.round))
    );
    if tx.person_facts(&[m.person])?.is_empty() {
        return Ok(Err(ResponseError::PersonUnknown(m.person.0)));
    }
    tx.set_mark(m)?;
    if let Some((inc, _)) = tx.incident_for_round(m.round)?
        && tx
            .incident(inc)?
            .is_some_and(|i| i.status == IncidentStatus::Open)
    {
        propose_due(tx, inc, m.at, pb)?;
    }
    Ok(Ok(()))
}
