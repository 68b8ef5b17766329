//! Proposing and deciding: what the playbook proposes when its conditions
//! hold, a hand proposal, confirming or rejecting, and the cascade a lift
//! sets off.

use super::*;

/// Records the proposals the playbook would now make.
pub(crate) fn propose_due(
    tx: &mut dyn IncidentTx,
    inc: i64,
    at: DateTime<Utc>,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let Some(info) = tx.incident(inc)? else {
        return Ok(vec![]);
    };
    // A proposal never predates its incident, whatever clock a result
    // carried.
    let at = at.max(info.opened_at);
    let f = facts(tx, &info, false)?;
    let proposals = evaluate(pb, &f);
    if proposals.is_empty() {
        return Ok(vec![]);
    }
    let members: BTreeMap<PersonId, PersonBrief> = tx
        .members(inc)?
        .into_iter()
        .map(|(m, _)| (m.person.id, m.person))
        .collect();
    let mut fx = Vec::new();
    for p in proposals {
        let id = tx.next_id("decision")?;
        let person = p.person.and_then(|id| members.get(&id).cloned());
        tx.insert_decision(&DecisionView {
            id,
            incident: inc,
            kind: p.kind,
            person: person.clone(),
            status: DecisionStatus::Proposed,
            reason: p.reason.clone(),
            proposed_at: at,
            proposed_by: PLAYBOOK_ACTOR.to_string(),
            decided_at: None,
            decided_by: None,
            decided_role: None,
            note: None,
            override_reason: None,
        })?;
        entry(
            tx,
            inc,
            at,
            PLAYBOOK_ACTOR,
            TimelineKind::Proposed,
            format!(
                "建议 {}{}：{}（待 {} 确认）",
                p.kind.label_zh(),
                person.map(|p| format!(" {}", p.name)).unwrap_or_default(),
                p.reason,
                pb.confirm
                    .roles(p.kind)
                    .iter()
                    .map(|r| r.label_zh())
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        )?;
        fx.push(Effect::DecisionProposed {
            incident: inc,
            decision: id,
            kind: p.kind.as_str().to_string(),
        });
    }
    Ok(fx)
}

/// Proposes a decision by hand (a CDC epidemiologist's own call).
pub fn propose(
    tx: &mut dyn IncidentTx,
    inc: i64,
    p: &ManualProposal,
) -> StoreResult<Refused<Effects>> {
    let info = rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    if info.status != IncidentStatus::Open {
        return Ok(Err(ResponseError::IncidentClosed(inc)));
    }
    if let Some(clock) = &p.clock {
        rule!(clock.check(p.at));
    }
    if p.at < info.opened_at {
        return Ok(Err(ResponseError::TimeBeforeIncident {
            at: p.at.to_rfc3339(),
            opened_at: info.opened_at.to_rfc3339(),
        }));
    }
    let members = tx.members(inc)?;
    let person = match p.person {
        Some(id) => Some(rule!(
            members
                .iter()
                .find(|(m, _)| m.person.id == id)
                .map(|(m, _)| m.person.clone())
                .ok_or(ResponseError::PersonUnknown(id.0))
        )),
        None => None,
    };
    if p.kind != DecisionKind::LiftAndClose && person.is_none() {
        return Ok(Err(ResponseError::Invalid {
            field: "person".into(),
            reason: format!("a {} names the member it is about", p.kind),
        }));
    }
    let id = tx.next_id("decision")?;
    tx.insert_decision(&DecisionView {
        id,
        incident: inc,
        kind: p.kind,
        person: person.clone(),
        status: DecisionStatus::Proposed,
        reason: p.reason.clone(),
        proposed_at: p.at,
        proposed_by: p.by.clone(),
        decided_at: None,
        decided_by: None,
        decided_role: None,
        note: None,
        override_reason: None,
    })?;
    entry(
        tx,
        inc,
        p.at,
        &p.by,
        TimelineKind::Proposed,
        format!(
            "建议 {}{}：{}",
            p.kind.label_zh(),
            person.map(|p| format!(" {}", p.name)).unwrap_or_default(),
            p.reason
        ),
    )?;
    Ok(Ok(vec![Effect::DecisionProposed {
        incident: inc,
        decision: id,
        kind: p.kind.as_str().to_string(),
    }]))
}

/// Confirms or rejects a proposed decision, checking the role, and
/// carries it out when confirmed.
pub fn decide(
    tx: &mut dyn IncidentTx,
    inc: i64,
    v: &Verdict,
    pb: &Playbook,
) -> StoreResult<Refused<Effects>> {
    let mut info = rule!(tx.incident(inc)?.ok_or(ResponseError::IncidentUnknown(inc)));
    let mut d = rule!(
        tx.decisions(inc)?
            .into_iter()
            .find(|d| d.id == v.decision)
            .ok_or(ResponseError::DecisionUnknown(v.decision))
    );
    rule!(check_confirm(pb, d.id, d.kind, d.status, v.role));
    let override_reason = rule!(vouch(&info, &d, v));
    let mut fx = Vec::new();
    let mut overridden: Vec<String> = Vec::new();
    if v.confirm {
        if info.status != IncidentStatus::Open {
            return Ok(Err(ResponseError::IncidentClosed(inc)));
        }
        match d.kind {
            DecisionKind::LiftAndClose => {
                overridden = rule!(lift_and_close(
                    tx,
                    &mut info,
                    v,
                    pb,
                    override_reason.as_deref()
                )?);
                fx.push(Effect::IncidentClosed { incident: inc });
            }
            DecisionKind::HomeIsolation => {
                fx.extend(rule!(home_isolation(tx, inc, &d, v, pb)?));
            }
            DecisionKind::ConfirmCase => {
                let Some(person) = d.person.clone() else {
                    return Ok(Err(no_person()));
                };
                tx.set_member_status(inc, person.id, MemberStatus::Confirmed)?;
                fx.extend(cascade(tx, &info, &person, v, pb)?);
            }
        }
    }
    // Recorded only when it actually passed a coverage shortfall.
    let override_reason = if overridden.is_empty() {
        None
    } else {
        override_reason
    };
    fx.push(record_verdict(tx, inc, &mut d, v, override_reason)?);
    Ok(Ok(fx))
}

/// A decision about a person that names none.
fn no_person() -> ResponseError {
    ResponseError::Invalid {
        field: "person".into(),
        reason: "decision names no person".into(),
    }
}

/// Times the server can vouch for: a decision is never before its proposal
/// or its incident, nor (outside a replay) after the clock. Returns the
/// override reason, trimmed; an override given empty is refused.
fn vouch(
    info: &IncidentInfo,
    d: &DecisionView,
    v: &Verdict,
) -> Result<Option<String>, ResponseError> {
    if let Some(clock) = &v.clock {
        clock.check(v.at)?;
    }
    if v.at < d.proposed_at {
        return Err(ResponseError::TimeBeforeProposal {
            at: v.at.to_rfc3339(),
            proposed_at: d.proposed_at.to_rfc3339(),
        });
    }
    if v.at < info.opened_at {
        return Err(ResponseError::TimeBeforeIncident {
            at: v.at.to_rfc3339(),
            opened_at: info.opened_at.to_rfc3339(),
        });
    }
    let override_reason = v
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if v.override_reason.is_some() && override_reason.is_none() {
        return Err(ResponseError::Invalid {
            field: "override_reason".into(),
            reason: "an override names its reason".into(),
        });
    }
    Ok(override_reason)
}

/// Lifts every control and closes the incident, when nothing but a
/// coverage shortfall stands in the way and that one has a reason.
/// Returns the shortfalls the lift passed (empty when none).
fn lift_and_close(
    tx: &mut dyn IncidentTx,
    info: &mut IncidentInfo,
    v: &Verdict,
    pb: &Playbook,
    override_reason: Option<&str>,
) -> StoreResult<Refused<Vec<String>>> {
    let inc = info.id;
    let f = facts(tx, info, true)?;
    let all = blockers(&f, pb.lift_coverage_percent);
    let hard: Vec<&str> = all
        .iter()
        .filter(|b| !b.overridable)
        .map(|b| b.text.as_str())
        .collect();
    if !hard.is_empty() {
        return Ok(Err(ResponseError::ConditionsChanged(hard.join("；"))));
    }
    let overridden: Vec<String> = all.into_iter().map(|b| b.text).collect();
    if !overridden.is_empty() && override_reason.is_none() {
        return Ok(Err(ResponseError::CoverageBelowRequirement(
            overridden.join("；"),
        )));
    }
    let mut lifted = Vec::new();
    for mut o in tx.orders(inc)? {
        if o.kind == OrderKind::HomeIsolation || o.lifted_at.is_some() {
            continue;
        }
        o.lifted_at = Some(v.at);
        o.lifted_by = Some(v.by.clone());
        tx.update_order(&o)?;
        if let Some(a) = &o.area {
            lifted.push(a.name.clone());
        }
    }
    info.status = IncidentStatus::Closed;
    info.closed_at = Some(v.at);
    tx.update_incident(info)?;
    if let Some(reason) = override_reason.as_ref().filter(|_| !overridden.is_empty()) {
        entry(
            tx,
            inc,
            v.at,
            &v.by,
            TimelineKind::Note,
            format!(
                "覆盖率未达预案要求（{}），指挥部明确理由提前解除：{reason}",
                overridden.join("；")
            ),
        )?;
    }
    entry(
        tx,
        inc,
        v.at,
        &v.by,
        TimelineKind::Lifted,
        format!("解除全部管控：{}", lifted.join("、")),
    )?;
    entry(
        tx,
        inc,
        v.at,
        &v.by,
        TimelineKind::Closed,
        "事件结案".to_string(),
    )?;
    Ok(Ok(overridden))
}

/// The person and everyone living with them isolate at home; their
/// isolation pending retest ends.
fn home_isolation(
    tx: &mut dyn IncidentTx,
    inc: i64,
    d: &DecisionView,
    v: &Verdict,
    pb: &Playbook,
) -> StoreResult<Refused<Effects>> {
    let Some(person) = d.person.clone() else {
        return Ok(Err(ResponseError::Invalid {
            field: "person".into(),
            reason: "decision names no person".into(),
        }));
    };
    let members = tx.members(inc)?;
    let Some((_, household)) = members.iter().find(|(m, _)| m.person.id == person.id) else {
        return Ok(Err(ResponseError::PersonUnknown(person.id.0)));
    };
    let household = *household;
    let residents = tx.household_residents(household)?;
    let ends = v.at + Duration::days(i64::from(pb.home_isolation_days));
    let mut names = Vec::new();
    for r in &residents {
        let id = tx.next_id("order")?;
        tx.insert_order(&OrderView {
            id,
            incident: inc,
            kind: OrderKind::HomeIsolation,
            area: None,
            person: Some(r.brief.clone()),
            starts_at: v.at,
            ends_at: Some(ends),
            ordered_by: v.by.clone(),
            reason: if r.brief.id == person.id {
                format!("单管复核指标略高，居家隔离 {} 天", pb.home_isolation_days)
            } else {
                format!(
                    "{} 同住人员，居家隔离 {} 天",
                    person.name, pb.home_isolation_days
                )
            },
            lifted_at: None,
            lifted_by: None,
        })?;
        names.push(r.brief.name.clone());
        if members.iter().any(|(m, _)| m.person.id == r.brief.id) {
            tx.set_member_status(inc, r.brief.id, MemberStatus::HomeIsolated)?;
        }
    }
    for mut o in tx.orders(inc)? {
        if o.kind == OrderKind::IsolationPendingRetest
            && o.lifted_at.is_none()
            && o.person.as_ref().map(|p| p.id) == Some(person.id)
        {
            o.lifted_at = Some(v.at);
            o.lifted_by = Some(v.by.clone());
            tx.update_order(&o)?;
        }
    }
    entry(
        tx,
        inc,
        v.at,
        &v.by,
        TimelineKind::Order,
        format!(
            "{} 及同住人员居家隔离 {} 天：{}",
            person.name,
            pb.home_isolation_days,
            names.join("、")
        ),
    )?;
    Ok(Ok(vec![Effect::IncidentUpdated {
        incident: inc,
        what: "home isolation".into(),
    }]))
}

/// Records the verdict on the decision and the timeline.
fn record_verdict(
    tx: &mut dyn IncidentTx,
    inc: i64,
    d: &mut DecisionView,
    v: &Verdict,
    override_reason: Option<String>,
) -> StoreResult<Effect> {
    d.status = if v.confirm {
        DecisionStatus::Confirmed
    } else {
        DecisionStatus::Rejected
    };
    d.decided_at = Some(v.at);
    d.decided_by = Some(v.by.clone());
    d.decided_role = Some(v.role);
    d.note = v.note.clone();
    d.override_reason = override_reason;
    tx.update_decision(d)?;
    entry(
        tx,
        inc,
        v.at,
        &v.by,
        if v.confirm {
            TimelineKind::Confirmed
        } else {
            TimelineKind::Rejected
        },
        format!(
            "{}（{}）{} {}{}",
            v.by,
            v.role.label_zh(),
            d.status.label_zh(),
            d.kind.label_zh(),
            d.person
                .as_ref()
                .map(|p| format!(" {}", p.name))
                .unwrap_or_default()
        ),
    )?;
    Ok(Effect::DecisionDecided {
        incident: inc,
        decision: d.id,
        kind: d.kind.as_str().to_string(),
        confirmed: v.confirm,
        by: v.by.clone(),
    })
}

/// A confirmed case: a new incident over the case's contacts — the
/// household (close contacts) and the rest of the building.
pub(crate) fn cascade(
    tx: &mut dyn IncidentTx,
    parent: &IncidentInfo,
    case: &PersonBrief,
    v: &Verdict,
    pb: &Playbook,
) -> StoreResult<Effects> {
    let facts = tx.person_facts(&[case.id])?;
    let Some(me) = facts.first() else {
        return Ok(vec![]);
    };
    let ids = ids_of(&me.household_path);
    let building = path_of(&ids[..ids.len().saturating_sub(1)]);
    let mut contacts = tx.household_residents(me.household)?;
    let mut left_out = 0usize;
    let mut building_residents = 0usize;
    if let Some(b) = &building {
        let all = tx.residents_under(b, u32::MAX)?;
        building_residents = all.len();
        let cap = match pb.max_building_contacts {
            0 => usize::MAX,
            n => n as usize,
        };
        let mut taken = 0usize;
        for p in all {
            if contacts.iter().any(|c| c.brief.id == p.brief.id) {
                continue;
            }
            if taken >= cap {
                left_out += 1;
                continue;
            }
            taken += 1;
            contacts.push(p);
        }
    }
    contacts.retain(|c| c.brief.id != case.id);
    let areas = chains(tx, &[&me.household_path])?;
    let chain = chain_of(&me.household_path, &areas);
    let area = gridsweep_response::reaction::compound_of(&chain)
        .cloned()
        .unwrap_or_else(|| parent.area.clone());
    let title = format!("病例 {} 密接处置", case.name);
    let child = open_incident(
        tx,
        Some(parent.id),
        title,
        &area,
        None,
        Some(case.clone()),
        v.at,
        pb,
    )?;
    entry(
        tx,
        child,
        v.at,
        &v.by,
        TimelineKind::Opened,
        format!(
            "事件 #{} 确诊 {}：密接 {} 人隔离待单管复核",
            parent.id,
            case.name,
            contacts.len()
        ),
    )?;
    if left_out > 0 {
        // Nothing is cut silently: the playbook's cap and its effect.
        entry(
            tx,
            child,
            v.at,
            PLAYBOOK_ACTOR,
            TimelineKind::Note,
            format!(
                "同楼栋 {building_residents} 人，按预案上限 max_building_contacts = {} 纳入密接，{left_out} 人未纳入",
                pb.max_building_contacts
            ),
        )?;
    }
    let mut fx = vec![Effect::IncidentOpened {
        incident: child,
        area: area.id.get(),
        area_name: area.name.clone(),
        tube: String::new(),
    }];
    fx.extend(join_persons(
        tx,
        child,
        &format!("病例 {}", case.name),
        &contacts,
        MemberKind::Contact,
        v.at,
        pb,
    )?);
    entry(
        tx,
        parent.id,
        v.at,
        &v.by,
        TimelineKind::Cascade,
        format!(
            "确诊 {}，管控继续；启动关联事件 #{child}（密接 {} 人）",
            case.name,
            contacts.len()
        ),
    )?;
    Ok(fx)
}
