//! The chains an incident must resolve and the compounds' coverage: the
//! facts the all-clear is judged on.

use super::*;

/// A negative environmental tube: any open resampling of a reactive
/// environmental tube of the same site, resulted before this one was
/// opened, is done.
pub(crate) fn resample_done(
    tx: &mut dyn IncidentTx,
    inc: i64,
    t: &TubeRow,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<Effects> {
    let mut fx = Vec::new();
    let reactive: Vec<(String, TubeRole)> = tx
        .incident_tubes(inc)?
        .into_iter()
        .filter(|(_, r)| *r == TubeRole::Expansion)
        .collect();
    let mut tasks = tx.tasks(inc)?;
    for (code, _) in reactive {
        if code == t.barcode {
            continue;
        }
        let Some(r) = tx.peek_tube(&code)? else {
            continue;
        };
        let before = r.resulted_at.is_some_and(|done| done <= t.opened_at);
        if r.kind != TubeKind::Environmental || r.site != t.site || !before {
            continue;
        }
        let prefix = chain_prefix(&code);
        for task in tasks.iter_mut().filter(|k| {
            k.kind == TaskKind::EnvResample
                && k.status == TaskStatus::Open
                && k.title.starts_with(&prefix)
        }) {
            task.status = TaskStatus::Done;
            task.done_at = Some(at);
            task.done_by = Some(actor.to_string());
            tx.update_task(task)?;
            entry(
                tx,
                inc,
                at,
                actor,
                TimelineKind::Result,
                format!("环境复采 {} 阴性：{code} 复采完成", t.barcode),
            )?;
            fx.push(Effect::IncidentUpdated {
                incident: inc,
                what: format!("resampled {code}"),
            });
        }
    }
    Ok(fx)
}

/// Every non-negative tube of the incident — its trigger tubes, and each
/// tube of its expansion round resulted non-negative — with the state of
/// its chain of follow-ups.
pub(crate) fn incident_chains(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
) -> StoreResult<Vec<Chain>> {
    let status: BTreeMap<PersonId, MemberStatus> = tx
        .members(info.id)?
        .into_iter()
        .map(|(m, _)| (m.person.id, m.status))
        .collect();
    let tasks = tx.tasks(info.id)?;
    let mut candidates: Vec<(String, TubeRole)> = tx
        .incident_tubes(info.id)?
        .into_iter()
        .filter(|(_, r)| *r != TubeRole::Retest)
        .collect();
    let expansion = match info.expansion_round {
        Some(r) => tx.round_tubes(r)?,
        None => vec![],
    };
    for t in &expansion {
        let alarm = t.result.as_ref().is_some_and(|r| r.outcome.is_alarm());
        if alarm && !candidates.iter().any(|(c, _)| *c == t.tube.barcode) {
            candidates.push((t.tube.barcode.clone(), TubeRole::Expansion));
        }
    }
    let mut out = Vec::new();
    for (code, role) in candidates {
        let Some(tube) = tx.peek_tube(&code)? else {
            continue;
        };
        let Some(result) = tx.current_result(&code)? else {
            continue;
        };
        if !result.outcome.is_alarm() {
            continue;
        }
        let site = tx.site_place(tube.site)?.map(|s| s.0).unwrap_or_default();
        let mut c = Chain {
            tube: code.clone(),
            role,
            kind: tube.kind,
            outcome: Some(result.outcome),
            site,
            resulted_at: tube.resulted_at,
            persons: 0,
            awaiting: 0,
            cases: 0,
            disinfected: false,
            resampled: false,
            resolved: false,
        };
        match tube.kind {
            TubeKind::Human => {
                for p in tx.tube_persons(&code)? {
                    c.persons += 1;
                    match status.get(&p) {
                        Some(MemberStatus::PendingRetest) => c.awaiting += 1,
                        Some(MemberStatus::Positive | MemberStatus::Confirmed) => c.cases += 1,
                        _ => {}
                    }
                }
                c.resolved = c.awaiting == 0 && c.cases == 0;
            }
            TubeKind::Environmental => {
                let prefix = chain_prefix(&code);
                let mine: Vec<&TaskView> = tasks
                    .iter()
                    .filter(|k| k.kind == TaskKind::Disinfection && k.title.starts_with(&prefix))
                    .collect();
                c.disinfected =
                    !mine.is_empty() && mine.iter().all(|k| k.status == TaskStatus::Done);
                c.resampled = expansion.iter().any(|o| {
                    o.tube.barcode != code
                        && o.tube.kind == TubeKind::Environmental
                        && o.tube.site == tube.site
                        && tube.resulted_at.is_some_and(|r| r <= o.tube.opened_at)
                        && o.result
                            .as_ref()
                            .is_some_and(|r| r.outcome == Outcome::Negative)
                });
                c.resolved = c.disinfected && c.resampled;
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// Coverage of each compound the incident put under static control, over
/// the incident's rounds: a resident counts as sampled with a sample in
/// the expansion or the retest round (a retested trigger member is
/// covered), as accounted for with a mark in either round or an isolation
/// order of the incident, else as missing.
pub(crate) fn compound_coverage(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
) -> StoreResult<Vec<CompoundCoverage>> {
    let orders = tx.orders(info.id)?;
    let isolated: BTreeSet<PersonId> = orders
        .iter()
        .filter(|o| {
            matches!(
                o.kind,
                OrderKind::HomeIsolation | OrderKind::IsolationPendingRetest
            )
        })
        .filter_map(|o| o.person.as_ref().map(|p| p.id))
        .collect();
    let rounds: Vec<i64> = [info.expansion_round, info.retest_round]
        .into_iter()
        .flatten()
        .collect();
    let mut out: Vec<CompoundCoverage> = Vec::new();
    for o in orders.iter().filter(|o| o.kind == OrderKind::StaticControl) {
        let Some(area) = &o.area else { continue };
        if out.iter().any(|c| c.area.id == area.id) {
            continue;
        }
        let Some((brief, path)) = tx.area_briefs(&[area.id])?.into_iter().next() else {
            continue;
        };
        let mut people: BTreeMap<PersonId, (bool, bool)> = BTreeMap::new();
        for r in &rounds {
            for e in tx.roster_coverage(&path, *r)? {
                let v = people.entry(e.person.id).or_default();
                v.0 |= e.sampled;
                v.1 |= e.mark.is_some() || isolated.contains(&e.person.id);
            }
        }
        let mut c = CompoundCoverage {
            incident: info.id,
            area: brief,
            roster: people.len() as u64,
            sampled: 0,
            accounted: 0,
            missing: 0,
            lifted: o.lifted_at.is_some(),
        };
        for (sampled, accounted) in people.values() {
            if *sampled {
                c.sampled += 1;
            } else if *accounted {
                c.accounted += 1;
            } else {
                c.missing += 1;
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// The facts the rules read. Coverage is the costly part (the roster of
/// every controlled compound): with `coverage` false it is computed only
/// when nothing else blocks, i.e. only when it can decide a proposal.
pub(crate) fn facts(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
    coverage: bool,
) -> StoreResult<Facts> {
    let mut f = facts_without_coverage(tx, info)?;
    if coverage || hard_blockers(&f).is_empty() {
        f.coverage = Some(compound_coverage(tx, info)?);
    }
    Ok(f)
}

pub(crate) fn facts_without_coverage(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
) -> StoreResult<Facts> {
    let members = tx.members(info.id)?;
    let decisions = tx.decisions(info.id)?;
    let expansion = match info.expansion_round {
        Some(r) => tx.round_tally(r)?,
        None => TubeTally::default(),
    };
    Ok(Facts {
        status: info.status,
        members: members
            .iter()
            .map(|(m, _)| MemberFact {
                person: m.person.id,
                kind: m.kind,
                status: m.status,
            })
            .collect(),
        expansion,
        decisions: decisions
            .iter()
            .map(|d| DecisionFact {
                kind: d.kind,
                person: d.person.as_ref().map(|p| p.id),
                status: d.status,
            })
            .collect(),
        chains: incident_chains(tx, info)?,
        coverage: None,
    })
}
