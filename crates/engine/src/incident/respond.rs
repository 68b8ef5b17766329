//! What a result sets off: opening or joining an incident for a non-negative
//! tube, recording a member's retest, an environmental tube's own chain.

use super::*;

/// Reacts to a tube's current result: opens or joins an incident for a
/// non-negative tube, records a member's retest, and proposes whatever
/// the playbook would now decide. Idempotent: a second call for the same
/// result changes nothing.
pub fn respond(
    tx: &mut dyn IncidentTx,
    tube: &str,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let Some(t) = tx.tube(tube)? else {
        return Ok(vec![]);
    };
    let Some(res) = tx.current_result(tube)? else {
        return Ok(vec![]);
    };
    // The lab's clock, not the server's: a replayed or synced result
    // opens the incident at the time it was posted.
    let at = if res.posted_at > at {
        at
    } else {
        res.posted_at
    };
    match tx.incident_for_round(t.round)? {
        Some((inc, RoundRole::Retest)) => retest_result(tx, inc, tube, &res, at, pb),
        Some((inc, RoundRole::Expansion)) => expansion_result(tx, inc, &t, &res, at, pb),
        None => routine_result(tx, &t, &res, at, pb),
    }
}

/// A tube of an incident's retest round: a single tube clears or flags its
/// member; a pooled one is read by the decoder with the rest of its round.
fn retest_result(
    tx: &mut dyn IncidentTx,
    inc: i64,
    tube: &str,
    res: &ResultRow,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let mut fx = Vec::new();
    if tx.incident_of_tube(tube)?.is_some() {
        return Ok(fx);
    }
    tx.insert_incident_tube(inc, tube, TubeRole::Retest, at)?;
    let in_tube = tx.tube_persons(tube)?;
    if in_tube.len() > 1 {
        // A pooled retest tube: it decides nobody by itself; the
        // decoder reads it with the rest of its round below.
        let names: Vec<String> = tx
            .members(inc)?
            .into_iter()
            .filter(|(m, _)| in_tube.contains(&m.person.id))
            .map(|(m, _)| m.person.name)
            .collect();
        entry(
            tx,
            inc,
            at,
            &res.posted_by,
            TimelineKind::Result,
            format!(
                "混管复核 {tube}（{} 人：{}）：{}",
                in_tube.len(),
                names.join("、"),
                gridsweep_response::report::outcome_zh(res.outcome)
            ),
        )?;
        fx.push(Effect::IncidentUpdated {
            incident: inc,
            what: format!("pooled retest {}", res.outcome.as_str()),
        });
        fx.extend(advance_blocks(tx, inc, at, &res.posted_by)?);
        fx.extend(propose_due(tx, inc, at, pb)?);
        return Ok(fx);
    }
    let status = retest_status(res.outcome, res.grey_zone);
    let persons: BTreeSet<PersonId> = in_tube.into_iter().collect();
    let members = tx.members(inc)?;
    let mut tasks = tx.tasks(inc)?;
    for (m, _) in members
        .iter()
        .filter(|(m, _)| persons.contains(&m.person.id))
    {
        tx.set_member_status(inc, m.person.id, status)?;
        for task in tasks.iter_mut().filter(|k| {
            k.kind == TaskKind::Retest
                && k.status == TaskStatus::Open
                && k.person.as_ref().map(|p| p.id) == Some(m.person.id)
        }) {
            task.status = TaskStatus::Done;
            task.done_at = Some(at);
            task.done_by = Some(res.posted_by.clone());
            tx.update_task(task)?;
        }
        let ct = [res.ct.orf1ab, res.ct.n]
            .iter()
            .flatten()
            .map(|v| format!("{v:.1}"))
            .collect::<Vec<_>>()
            .join("/");
        entry(
            tx,
            inc,
            at,
            &res.posted_by,
            TimelineKind::Result,
            format!(
                "{} 单管复核 {}：{}{}",
                m.person.name,
                tube,
                status.label_zh(),
                if ct.is_empty() {
                    String::new()
                } else {
                    format!("（Ct {ct}）")
                }
            ),
        )?;
    }
    fx.push(Effect::IncidentUpdated {
        incident: inc,
        what: format!("retest {}", status.as_str()),
    });
    fx.extend(advance_blocks(tx, inc, at, &res.posted_by)?);
    fx.extend(propose_due(tx, inc, at, pb)?);
    Ok(fx)
}

/// A tube of an incident's expansion round: a reactive one gets its own
/// chain; an environmental resample that reads negative closes its chain.
fn expansion_result(
    tx: &mut dyn IncidentTx,
    inc: i64,
    t: &TubeRow,
    res: &ResultRow,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let tube = t.barcode.as_str();
    let mut fx = Vec::new();
    if res.outcome.is_alarm() && tx.incident_of_tube(tube)?.is_none() {
        // A reactive expansion tube has its own chain: linked as an
        // expansion tube (so every figure keeps counting it), its
        // members retested as the playbook's stage 2 says, or —
        // for an environmental tube — its points disinfected and
        // swabbed again.
        let (site_name, site_path) = tx
            .site_place(t.site)?
            .ok_or_else(|| StoreError::Corrupt(format!("tube {tube} site")))?;
        match t.kind {
            TubeKind::Human => {
                entry(
                    tx,
                    inc,
                    at,
                    &res.posted_by,
                    TimelineKind::Result,
                    format!(
                        "扩面筛查 {site_name} 采样管 {tube}（{}混1，{} 人）{}：成员隔离待复核",
                        t.capacity,
                        t.samples,
                        gridsweep_response::report::outcome_zh(res.outcome)
                    ),
                )?;
                fx.extend(join(
                    tx,
                    inc,
                    t,
                    TubeRole::Expansion,
                    MemberKind::PoolMember,
                    at,
                    pb,
                )?);
            }
            TubeKind::Environmental => {
                tx.insert_incident_tube(inc, tube, TubeRole::Expansion, at)?;
                fx.extend(environmental_chain(
                    tx,
                    inc,
                    t,
                    &site_name,
                    &site_path,
                    &res.posted_by,
                    at,
                    res.outcome,
                )?);
            }
        }
    } else if !res.outcome.is_alarm() && t.kind == TubeKind::Environmental {
        fx.extend(resample_done(tx, inc, t, &res.posted_by, at)?);
    }
    fx.extend(propose_due(tx, inc, at, pb)?);
    Ok(fx)
}

/// A non-negative tube of no incident's round: it opens an incident for its
/// community, or joins the one already open there.
fn routine_result(
    tx: &mut dyn IncidentTx,
    t: &TubeRow,
    res: &ResultRow,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let tube = t.barcode.as_str();
    let mut fx = Vec::new();
    if !res.outcome.is_alarm() || tx.incident_of_tube(tube)?.is_some() {
        return Ok(fx);
    }
    let Some((site_name, site_path)) = tx.site_place(t.site)? else {
        return Err(StoreError::Corrupt(format!("tube {tube} site")));
    };
    let areas = chains(tx, &[&site_path])?;
    let site_chain = chain_of(&site_path, &areas);
    let Some(area) = incident_area(&site_chain).cloned() else {
        return Err(StoreError::Corrupt(format!("site {} area", t.site)));
    };
    let inc = match tx.open_incident_for_area(area.id)? {
        Some(inc) => {
            entry(
                tx,
                inc,
                at,
                &res.posted_by,
                TimelineKind::Joined,
                format!(
                    "{site_name} 采样管 {tube}（{}混1，{} 人）{}，并入本事件",
                    t.capacity,
                    t.samples,
                    gridsweep_response::report::outcome_zh(res.outcome)
                ),
            )?;
            inc
        }
        None => {
            let title = format!(
                "{} {}混1 {}",
                site_name,
                t.capacity,
                gridsweep_response::report::outcome_zh(res.outcome)
            );
            let inc = open_incident(tx, None, title, &area, Some(tube), None, at, pb)?;
            entry(
                tx,
                inc,
                at,
                &res.posted_by,
                TimelineKind::Opened,
                format!(
                    "{site_name} 采样管 {tube}（{}混1，{} 人）{}，事件开启",
                    t.capacity,
                    t.samples,
                    gridsweep_response::report::outcome_zh(res.outcome)
                ),
            )?;
            let levels = grid_levels(&site_chain);
            entry(
                tx,
                inc,
                at,
                PLAYBOOK_ACTOR,
                TimelineKind::Notified,
                format!("推送 {}", levels_zh(&levels)),
            )?;
            if pb.expand_site_community {
                let round = tx.incident(inc)?.and_then(|i| i.expansion_round);
                if let Some(round) = round {
                    tx.add_round_area(round, area.id)?;
                }
            }
            fx.push(Effect::IncidentOpened {
                incident: inc,
                area: area.id.get(),
                area_name: area.name.clone(),
                tube: tube.to_string(),
            });
            inc
        }
    };
    fx.extend(join(
        tx,
        inc,
        t,
        TubeRole::Trigger,
        MemberKind::PoolMember,
        at,
        pb,
    )?);
    Ok(fx)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn open_incident(
    tx: &mut dyn IncidentTx,
    parent: Option<i64>,
    title: String,
    area: &AreaBrief,
    tube: Option<&str>,
    case: Option<PersonBrief>,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<i64> {
    let id = tx.next_id("incident")?;
    let ends_at = at + Duration::hours(i64::from(pb.expansion_hours));
    let expansion = tx.insert_round(&NewRound {
        name: format!("事件#{id} 扩面筛查"),
        pool_size: pb.expansion_pool,
        starts_at: at,
        ends_at,
        areas: vec![],
    })?;
    // Single tubes for Dorfman, as on 6·13; a decoding design's pooled
    // tubes need room for their members.
    let retest_pool = pb.stage2.retest_pool_size();
    let retest = tx.insert_round(&NewRound {
        name: if retest_pool == 1 {
            format!("事件#{id} 单管复核")
        } else {
            format!("事件#{id} 复核")
        },
        pool_size: retest_pool,
        starts_at: at,
        ends_at,
        // The incident's own area, so its people can read the round.
        areas: vec![area.id],
    })?;
    tx.insert_incident(&IncidentInfo {
        id,
        parent,
        title,
        area: area.clone(),
        status: IncidentStatus::Open,
        opened_at: at,
        closed_at: None,
        trigger_tube: tube.map(str::to_string),
        case,
        expansion_round: Some(expansion),
        retest_round: Some(retest),
    })?;
    entry(
        tx,
        id,
        at,
        PLAYBOOK_ACTOR,
        TimelineKind::Order,
        if retest_pool == 1 {
            format!(
                "建立扩面筛查轮次 #{expansion}（{}混1）与单管复核轮次 #{retest}",
                pb.expansion_pool
            )
        } else {
            format!(
                "建立扩面筛查轮次 #{expansion}（{}混1）与复核轮次 #{retest}（{} 设计，每管至多 {retest_pool} 人）",
                pb.expansion_pool,
                pb.stage2.label()
            )
        },
    )?;
    Ok(id)
}

pub(crate) fn member_inputs(
    tx: &mut dyn IncidentTx,
    persons: &[PersonFact],
    with_households: bool,
) -> StoreResult<(Vec<MemberInput>, BTreeMap<AreaId, AreaPath>)> {
    let paths: Vec<&AreaPath> = persons.iter().map(|p| &p.household_path).collect();
    let mut areas = chains(tx, &paths)?;
    let orgs: Vec<AreaId> = persons
        .iter()
        .flat_map(|p| p.affiliations.iter().map(|a| a.0))
        .collect();
    for (a, _) in tx.area_briefs(&orgs)? {
        areas.insert(a.id, a);
    }
    let mut compound_paths = BTreeMap::new();
    let mut out = Vec::new();
    for p in persons {
        let chain = chain_of(&p.household_path, &areas);
        if let Some(c) = gridsweep_response::reaction::compound_of(&chain) {
            let ids: Vec<AreaId> = ids_of(&p.household_path)
                .into_iter()
                .take_while(|id| *id != c.id)
                .chain(std::iter::once(c.id))
                .collect();
            if let Some(path) = path_of(&ids) {
                compound_paths.insert(c.id, path);
            }
        }
        let household = if with_households {
            tx.household_residents(p.household)?
                .into_iter()
                .filter(|h| h.brief.id != p.brief.id)
                .map(|h| h.brief)
                .collect()
        } else {
            vec![]
        };
        out.push(MemberInput {
            person: p.brief.clone(),
            chain,
            affiliations: p
                .affiliations
                .iter()
                .filter_map(|(id, k)| areas.get(id).map(|a| (a.clone(), *k)))
                .collect(),
            household,
        });
    }
    Ok((out, compound_paths))
}

pub(crate) fn join(
    tx: &mut dyn IncidentTx,
    inc: i64,
    tube: &TubeRow,
    role: TubeRole,
    kind: MemberKind,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let ids = tx.tube_persons(&tube.barcode)?;
    let persons = tx.person_facts(&ids)?;
    tx.insert_incident_tube(inc, &tube.barcode, role, at)?;
    join_persons(tx, inc, &tube.barcode, &persons, kind, at, pb)
}

/// The title prefix tying a chain's tasks to its tube.
pub(crate) fn chain_prefix(tube: &str) -> String {
    format!("{tube} ")
}

/// A non-negative environmental tube: its points are disinfected and
/// swabbed again, as tasks of the grid worker (or community staff)
/// responsible for the site; the chain resolves when the disinfection is
/// done and a later environmental tube of the site comes back negative.
#[allow(clippy::too_many_arguments)]
pub(crate) fn environmental_chain(
    tx: &mut dyn IncidentTx,
    inc: i64,
    t: &TubeRow,
    site_name: &str,
    site_path: &AreaPath,
    actor: &str,
    at: DateTime<Utc>,
    outcome: Outcome,
) -> StoreResult<Effects> {
    let areas = chains(tx, &[site_path])?;
    let chain = chain_of(site_path, &areas);
    let Some(assignee) = responsible_for(&chain) else {
        return Err(StoreError::Corrupt(format!("site of tube {}", t.barcode)));
    };
    let place = chain.last().cloned();
    let prefix = chain_prefix(&t.barcode);
    for (kind, title) in [
        (
            TaskKind::Disinfection,
            format!("{prefix}阳性环境样本：{site_name} {} 个点位消杀", t.samples),
        ),
        (
            TaskKind::EnvResample,
            format!("{prefix}消杀后复采：{site_name} {} 个点位", t.samples),
        ),
    ] {
        write_task(
            tx,
            inc,
            &NewTask {
                kind,
                title,
                area: place.clone(),
                person: None,
                assignee: assignee.clone(),
                target: t.samples,
            },
            at,
        )?;
    }
    entry(
        tx,
        inc,
        at,
        actor,
        TimelineKind::Result,
        format!(
            "扩面筛查 环境 {site_name} 采样管 {}（{} 个点位）{}：消杀与复采任务下发 {}",
            t.barcode,
            t.samples,
            gridsweep_response::report::outcome_zh(outcome),
            assignee.label()
        ),
    )?;
    Ok(vec![Effect::IncidentUpdated {
        incident: inc,
        what: format!("environmental chain {}", t.barcode),
    }])
}

pub(crate) fn join_persons(
    tx: &mut dyn IncidentTx,
    inc: i64,
    source: &str,
    persons: &[PersonFact],
    kind: MemberKind,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let Some(info) = tx.incident(inc)? else {
        return Err(StoreError::NotFound(format!("incident {inc}")));
    };
    let (members, compound_paths) = member_inputs(tx, persons, kind == MemberKind::PoolMember)?;
    let existing = tx.members(inc)?;
    let in_tube: BTreeSet<PersonId> = persons.iter().map(|p| p.brief.id).collect();
    let input = join_input(
        tx,
        &info,
        source,
        kind,
        at,
        &members,
        &compound_paths,
        &existing,
        &in_tube,
    )?;
    let plan = reaction_for(tx, &info, pb, &input)?;
    let task_ids = write_reaction(tx, &info, &plan, &members, &existing, at)?;
    notify_member_levels(tx, inc, &members, &plan, at)?;
    let mut fx = Vec::new();
    if let Some(b) = &plan.block {
        tx.insert_pool_block(&PoolBlock {
            incident: inc,
            tube: source.to_string(),
            block: b.block.clone(),
            tasks: vec![
                b.tasks
                    .iter()
                    .map(|t| t.and_then(|i| task_ids.get(i).copied()))
                    .collect(),
            ],
            complete: false,
        })?;
        // A block the pool alone decides (a one-person pool) is settled now.
        fx.extend(advance_blocks(tx, inc, at, PLAYBOOK_ACTOR)?);
    }
    fx.insert(
        0,
        Effect::IncidentUpdated {
            incident: inc,
            what: format!(
                "joined {source}: {} members, {} orders, {} tasks",
                plan.members.len(),
                plan.orders.len(),
                plan.tasks.len()
            ),
        },
    );
    Ok(fx)
}

/// What the playbook needs to know to answer new members: who and which
/// compounds, tasks and buildings the incident already holds.
#[allow(clippy::too_many_arguments)]
fn join_input(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
    source: &str,
    kind: MemberKind,
    at: DateTime<Utc>,
    members: &[MemberInput],
    compound_paths: &BTreeMap<AreaId, AreaPath>,
    existing: &[(MemberView, AreaId)],
    in_tube: &BTreeSet<PersonId>,
) -> StoreResult<JoinInput> {
    let inc = info.id;
    let orders = tx.orders(inc)?;
    let tasks = tx.tasks(inc)?;
    let known_compounds: BTreeSet<AreaId> = orders
        .iter()
        .filter(|o| o.kind == OrderKind::StaticControl)
        .filter_map(|o| o.area.as_ref().map(|a| a.id))
        .collect();
    let mut buildings = BTreeMap::new();
    for (id, path) in compound_paths {
        if !known_compounds.contains(id) {
            buildings.insert(*id, tx.areas_under(path, AreaLevel::Building)?);
        }
    }
    Ok(JoinInput {
        incident: inc,
        source: source.to_string(),
        at,
        kind,
        members: members.to_vec(),
        // A person of this tube the incident already holds but who awaits
        // nothing — a traced household member, or a member whose earlier
        // retest cleared them — is planned again: isolated pending a
        // retest like any member, and counted as such (one person may hold
        // two roles). Everyone else already known gets nothing new.
        known_persons: existing
            .iter()
            .filter(|(m, _)| {
                kind != MemberKind::PoolMember
                    || !in_tube.contains(&m.person.id)
                    || !matches!(m.status, MemberStatus::Traced | MemberStatus::Cleared)
            })
            .map(|(m, _)| m.person.id)
            .collect(),
        known_compounds,
        known_affiliations: tasks
            .iter()
            .filter(|t| t.kind == TaskKind::TraceAffiliation)
            .filter_map(|t| t.area.as_ref().map(|a| a.id))
            .collect(),
        buildings,
    })
}

/// The playbook's answer. An incident opened under single tubes has a 1:1
/// retest round: its later pools are retested singly too, whatever the
/// playbook now says.
fn reaction_for(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
    pb: &Playbook,
    input: &JoinInput,
) -> StoreResult<Reaction> {
    let retest_pool = match info.retest_round {
        Some(r) => tx.round(r)?.map_or(1, |r| r.pool_size),
        None => 1,
    };
    Ok(if retest_pool < pb.stage2.retest_pool_size() {
        react(
            &Playbook {
                stage2: Stage2::Dorfman,
                ..pb.clone()
            },
            input,
        )
    } else {
        react(pb, input)
    })
}

/// Writes the playbook's answer: new members (a known one is only ever
/// re-isolated), orders, tasks, the expansion round's areas, the timeline.
/// Returns the new tasks' ids, in the answer's order.
fn write_reaction(
    tx: &mut dyn IncidentTx,
    info: &IncidentInfo,
    plan: &Reaction,
    members: &[MemberInput],
    existing: &[(MemberView, AreaId)],
    at: DateTime<Utc>,
) -> StoreResult<Vec<i64>> {
    let inc = info.id;
    let affiliation_names: BTreeMap<PersonId, Vec<String>> = members
        .iter()
        .map(|m| {
            (
                m.person.id,
                m.affiliations
                    .iter()
                    .map(|(a, k)| {
                        format!(
                            "{} {}",
                            a.name,
                            match k {
                                AffiliationKind::Student => "学生",
                                AffiliationKind::Employee => "职工",
                            }
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let already: BTreeSet<PersonId> = existing.iter().map(|(m, _)| m.person.id).collect();
    for m in &plan.members {
        if already.contains(&m.person.id) {
            // Only ever re-isolated: a known person is never set back to
            // "traced" by someone else's household.
            if m.status == MemberStatus::PendingRetest {
                tx.set_member_status(inc, m.person.id, m.status)?;
            }
            continue;
        }
        tx.insert_member(
            inc,
            &MemberView {
                person: m.person.clone(),
                kind: m.kind,
                status: m.status,
                source: m.source.clone(),
                address: m.address.clone(),
                affiliations: affiliation_names
                    .get(&m.person.id)
                    .cloned()
                    .unwrap_or_default(),
            },
            m.household,
        )?;
    }
    for o in &plan.orders {
        let id = tx.next_id("order")?;
        tx.insert_order(&OrderView {
            id,
            incident: inc,
            kind: o.kind,
            area: o.area.clone(),
            person: o.person.clone(),
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            ordered_by: PLAYBOOK_ACTOR.to_string(),
            reason: o.reason.clone(),
            lifted_at: None,
            lifted_by: None,
        })?;
    }
    let mut task_ids = Vec::with_capacity(plan.tasks.len());
    for t in &plan.tasks {
        task_ids.push(write_task(tx, inc, t, at)?);
    }
    if let Some(round) = info.expansion_round {
        for a in &plan.round_areas {
            tx.add_round_area(round, *a)?;
        }
    }
    for e in &plan.timeline {
        tx.insert_entry(&EntryView {
            incident: inc,
            at: e.at,
            actor: e.actor.clone(),
            kind: e.kind,
            text: e.text.clone(),
        })?;
    }
    Ok(task_ids)
}

/// The alert reaches every sub-district and community whose residents are
/// new members, not only the chain of the hut the tube came from.
fn notify_member_levels(
    tx: &mut dyn IncidentTx,
    inc: i64,
    members: &[MemberInput],
    plan: &Reaction,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let notified: Vec<String> = tx
        .timeline(inc)?
        .into_iter()
        .filter(|e| e.kind == TimelineKind::Notified)
        .map(|e| e.text)
        .collect();
    let mut levels: Vec<Assignee> = Vec::new();
    for m in members {
        if !plan.members.iter().any(|n| n.person.id == m.person.id) {
            continue;
        }
        for l in grid_levels(&m.chain) {
            let label = format!("{}（{}）", l.role.label_zh(), l.area_name);
            if l.role != Responder::DistrictCommand
                && !notified.iter().any(|t| t.contains(&label))
                && !levels.iter().any(|x| x.area == l.area)
            {
                levels.push(l);
            }
        }
    }
    if !levels.is_empty() {
        entry(
            tx,
            inc,
            at,
            PLAYBOOK_ACTOR,
            TimelineKind::Notified,
            format!("推送 成员所在 {}", levels_zh(&levels)),
        )?;
    }
    Ok(())
}

/// Whether [`respond`] would do anything for this tube: its result is
/// non-negative, or it belongs to an incident's round. Lets a backend
/// answer the common case (a negative routine tube) with one read.
pub fn needs_response(tx: &mut dyn IncidentTx, tube: &str) -> StoreResult<bool> {
    let Some(t) = tx.tube(tube)? else {
        return Ok(false);
    };
    let alarm = tx
        .current_result(tube)?
        .is_some_and(|r| Outcome::is_alarm(r.outcome));
    Ok(alarm || tx.incident_for_round(t.round)?.is_some())
}

/// The grid levels an alert reaches, as the timeline names them.
fn levels_zh(levels: &[Assignee]) -> String {
    levels
        .iter()
        .map(|l| format!("{}（{}）", l.role.label_zh(), l.area_name))
        .collect::<Vec<_>>()
        .join("、")
}
