//! Reading an incident: its detail page, its report, an area's coverage.

use super::*;

/// One incident with everything on it.
pub fn detail(
    tx: &mut dyn IncidentTx,
    inc: i64,
    pb: &Playbook,
) -> StoreResult<Option<IncidentDetail>> {
    let Some(info) = tx.incident(inc)? else {
        return Ok(None);
    };
    let f = facts(tx, &info, true)?;
    Ok(Some(IncidentDetail {
        members: tx.members(inc)?.into_iter().map(|(m, _)| m).collect(),
        orders: tx.orders(inc)?,
        tasks: tx.tasks(inc)?,
        decisions: tx.decisions(inc)?,
        timeline: tx.timeline(inc)?,
        tubes: tx.incident_tubes(inc)?,
        children: tx.children_of(inc)?,
        blockers: blockers(&f, pb.lift_coverage_percent)
            .into_iter()
            .map(|b| b.text)
            .collect(),
        info,
    }))
}

pub(crate) fn community_name(path: &AreaPath, areas: &BTreeMap<AreaId, AreaBrief>) -> String {
    let chain = chain_of(path, areas);
    chain
        .iter()
        .find(|a| a.level == AreaLevel::Community)
        .or(chain.last())
        .map(|a| a.name.clone())
        .unwrap_or_default()
}

pub(crate) fn incident_data(
    tx: &mut dyn IncidentTx,
    inc: i64,
    pb: &Playbook,
) -> StoreResult<Option<IncidentData>> {
    let Some(info) = tx.incident(inc)? else {
        return Ok(None);
    };
    let f = facts(tx, &info, true)?;
    let blockers: Vec<String> = blockers(&f, pb.lift_coverage_percent)
        .into_iter()
        .map(|b| b.text)
        .collect();
    let alerted = member_levels(tx, inc)?;
    let mut round_tubes: Vec<(RoundTube, TubeRole)> = Vec::new();
    let linked = tx.incident_tubes(inc)?;
    for (code, role) in &linked {
        if *role != TubeRole::Trigger {
            continue;
        }
        if let Some(t) = tx.peek_tube(code)? {
            let result = tx.current_result(code)?;
            let (site_name, site_path) = tx
                .site_place(t.site)?
                .ok_or_else(|| StoreError::Corrupt(format!("site {}", t.site)))?;
            round_tubes.push((
                RoundTube {
                    tube: t,
                    result,
                    site_name,
                    site_path,
                },
                TubeRole::Trigger,
            ));
        }
    }
    let triggers: BTreeSet<String> = round_tubes
        .iter()
        .map(|(t, _)| t.tube.barcode.clone())
        .collect();
    for (round, role) in [
        (info.expansion_round, TubeRole::Expansion),
        (info.retest_round, TubeRole::Retest),
    ] {
        if let Some(r) = round {
            for t in tx.round_tubes(r)? {
                if !triggers.contains(&t.tube.barcode) {
                    round_tubes.push((t, role));
                }
            }
        }
    }
    let paths: Vec<&AreaPath> = round_tubes.iter().map(|(t, _)| &t.site_path).collect();
    let areas = chains(tx, &paths)?;
    let tubes: Vec<TubeFact> = round_tubes
        .iter()
        .map(|(t, role)| TubeFact {
            barcode: t.tube.barcode.clone(),
            role: *role,
            kind: t.tube.kind,
            capacity: t.tube.capacity,
            samples: t.tube.samples,
            site: t.site_name.clone(),
            community: community_name(&t.site_path, &areas),
            outcome: t.result.as_ref().map(|r| r.outcome),
            grey_zone: t.result.as_ref().is_some_and(|r| r.grey_zone),
            resulted_at: t.tube.resulted_at,
        })
        .collect();
    let mut samples = Vec::new();
    if let Some(r) = info.expansion_round {
        samples.extend(tx.round_samples(r)?);
    }
    let trigger_codes: Vec<String> = triggers.into_iter().collect();
    samples.extend(tx.tube_samples(&trigger_codes)?);
    Ok(Some(IncidentData {
        chains: f.chains,
        coverage: f.coverage.unwrap_or_default(),
        blockers,
        alerted,
        members: tx.members(inc)?.into_iter().map(|(m, _)| m).collect(),
        orders: tx.orders(inc)?,
        tasks: tx.tasks(inc)?,
        decisions: tx.decisions(inc)?,
        timeline: tx.timeline(inc)?,
        tubes,
        samples,
        info,
    }))
}

/// The sub-districts and communities where the incident's members live,
/// in the order first met.
pub(crate) fn member_levels(tx: &mut dyn IncidentTx, inc: i64) -> StoreResult<Vec<AreaBrief>> {
    let households: BTreeSet<AreaId> = tx.members(inc)?.into_iter().map(|(_, h)| h).collect();
    let households: Vec<AreaId> = households.into_iter().collect();
    let paths: Vec<AreaPath> = tx
        .area_briefs(&households)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let refs: Vec<&AreaPath> = paths.iter().collect();
    let areas = chains(tx, &refs)?;
    let mut out: Vec<AreaBrief> = Vec::new();
    for p in &paths {
        for a in chain_of(p, &areas) {
            if matches!(a.level, AreaLevel::SubDistrict | AreaLevel::Community)
                && !out.iter().any(|x| x.id == a.id)
            {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// The report of an incident and every incident it cascaded into.
pub fn report(tx: &mut dyn IncidentTx, inc: i64, pb: &Playbook) -> StoreResult<Option<Report>> {
    let Some(root) = incident_data(tx, inc, pb)? else {
        return Ok(None);
    };
    let mut cascades = Vec::new();
    let mut queue = tx.children_of(inc)?;
    while let Some(c) = queue.pop() {
        if let Some(d) = incident_data(tx, c, pb)? {
            cascades.push(d);
        }
        queue.extend(tx.children_of(c)?);
    }
    cascades.sort_by_key(|c| c.info.id);
    Ok(Some(gridsweep_response::report::build(&root, &cascades)))
}

/// Coverage of an area in a round.
pub fn area_coverage(
    tx: &mut dyn IncidentTx,
    area: AreaId,
    round: i64,
) -> StoreResult<Refused<Coverage>> {
    rule!(tx.round(round)?.ok_or(ResponseError::RoundUnknown(round)));
    let Some((brief, path)) = tx.area_briefs(&[area])?.into_iter().next() else {
        return Ok(Err(ResponseError::Invalid {
            field: "area".into(),
            reason: format!("no area {area}"),
        }));
    };
    let areas = tx.grid_areas_under(&path)?;
    let roster = tx.roster_coverage(&path, round)?;
    Ok(Ok(coverage(&brief, round, &areas, &roster)))
}
