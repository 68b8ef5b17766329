//! Incidents, their tasks, orders, decisions and timeline; coverage; person
//! marks; the report as JSON, an HTML page and an XLSX workbook.
//!
//! Who did a thing is the signed-in account: a `by` in a body is only the
//! title the report prints beside the account's name ("刘医生 (cdc)"), so
//! free text can never forge the attribution. The playbook checks the role.

use crate::auth::Principal;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, PersonId, mask_name};
use gridsweep_engine::incident::{IncidentDetail, ManualProposal, NewNote, Verdict};
use gridsweep_response::AreaBrief;
use gridsweep_response::coverage::{Coverage, Tally};
use gridsweep_response::live::LiveStatus;
use gridsweep_response::report::{DecisionView, IncidentInfo, OrderView, Report, TaskView};
use gridsweep_response::{
    DecisionKind, MarkKind, Responder, ResponseError, TaskStatus, TimelineKind,
};
use gridsweep_storage::incidents::PersonMark;
use gridsweep_storage::pipeline::Effects;
use serde::{Deserialize, Serialize};

impl From<ResponseError> for ApiError {
    fn from(e: ResponseError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::CONFLICT);
        let field = match &e {
            ResponseError::Invalid { field, .. } => Some(field.clone()),
            ResponseError::RoleNotAllowed { .. } => Some("role".to_string()),
            ResponseError::TimeBeforeProposal { .. }
            | ResponseError::TimeBeforeIncident { .. }
            | ResponseError::TimeAfterServerClock { .. } => Some("at".to_string()),
            _ => None,
        };
        let err = ApiError::new(status, e.code(), e.to_string());
        match field {
            Some(f) => err.with_field(&f),
            None => err,
        }
    }
}

fn unknown(id: i64) -> ApiError {
    ApiError::from(ResponseError::IncidentUnknown(id))
}

fn who(by: &str) -> Result<String, ApiError> {
    let by = by.trim();
    if by.is_empty() || by.chars().count() > 64 {
        return Err(ApiError::invalid("by", "by must be 1 to 64 characters"));
    }
    Ok(by.to_string())
}

/// The name a row records: the account, with the title the caller gave
/// (if any) in front of it.
fn attribution(me: &Principal, title: Option<&str>) -> Result<String, ApiError> {
    Ok(match title {
        Some(t) => format!("{} ({})", who(t)?, me.actor()),
        None => me.actor(),
    })
}

/// `GET /api/v1/incidents`: the incidents whose area overlaps the
/// caller's scope (the same rule as opening one), newest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    me: Principal,
) -> Result<Json<Vec<IncidentInfo>>, ApiError> {
    let scope = me.user.scope_path.clone();
    let list = state
        .use_case(move |e| {
            let s = e.store();
            let all = e.incidents()?;
            let Some(scope) = scope else {
                return Ok(all);
            };
            let mut mine = Vec::with_capacity(all.len());
            for i in all {
                if s.area(i.area.id)?.is_some_and(|a| a.path.overlaps(&scope)) {
                    mine.push(i);
                }
            }
            Ok(mine)
        })
        .await?;
    Ok(Json(list))
}

/// `GET /api/v1/incidents/{id}`. Members and ordered persons who live
/// outside the caller's scope (a grid worker sees an incident that touches
/// its grid, not every member's home) are shown by family name only,
/// without address or affiliations: the same reach as their own records.
#[tracing::instrument(skip(state, me))]
pub async fn one(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let scope = me.user.scope_path.clone();
    let d = state
        .use_case(move |e| {
            let s = e.store();
            let mut d = e.incident_detail(id)?.ok_or_else(|| unknown(id))?;
            let mut reach: std::collections::HashMap<PersonId, bool> = Default::default();
            let mut within = |p: PersonId| -> Result<bool, ApiError> {
                if let Some(r) = reach.get(&p) {
                    return Ok(*r);
                }
                let r = match (&scope, s.person(p)?) {
                    (Some(scope), Some(person)) => person.household_path.is_within(scope),
                    // Not on the roster any more, or no scope: shown as
                    // outside (fail closed).
                    _ => false,
                };
                reach.insert(p, r);
                Ok(r)
            };
            for m in &mut d.members {
                if !within(m.person.id)? {
                    m.person.name = mask_name(&m.person.name);
                    m.address.clear();
                    m.affiliations.clear();
                }
            }
            for o in &mut d.orders {
                if let Some(p) = &mut o.person
                    && !within(p.id)?
                {
                    p.name = mask_name(&p.name);
                }
            }
            Ok(d)
        })
        .await?;
    Ok(Json(d))
}

/// `GET /api/v1/incidents/{id}/live`: what the command dashboard shows of
/// an incident, in one request (it refetches on every event that concerns
/// the incident).
#[tracing::instrument(skip(state))]
pub async fn live(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LiveStatus>, ApiError> {
    let l = state
        .use_case(move |e| {
            let d = e.incident_detail(id)?.ok_or_else(|| unknown(id))?;
            let r = e.incident_report(id)?.ok_or_else(|| unknown(id))?;
            // Coverage over the incident's rounds, as the report and the
            // lift rule count it: a retested member is covered, an
            // isolated or marked resident accounted for.
            let compounds: Vec<(AreaBrief, Tally)> = r
                .coverage
                .iter()
                .filter(|c| c.incident == id)
                .map(|c| {
                    (
                        c.area.clone(),
                        Tally {
                            roster: c.roster,
                            sampled: c.sampled,
                            explained: c.accounted,
                            missing: c.missing,
                        },
                    )
                })
                .collect();
            Ok(gridsweep_response::live::live(
                &r,
                &d.tasks,
                &d.decisions,
                d.blockers,
                compounds,
            ))
        })
        .await?;
    Ok(Json(l))
}

/// Query of the task list.
#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    #[serde(default)]
    pub status: Option<TaskStatus>,
}

/// `GET /api/v1/incidents/{id}/tasks?status=open`.
#[tracing::instrument(skip(state))]
pub async fn tasks(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> Result<Json<Vec<TaskView>>, ApiError> {
    let d = state
        .use_case(move |e| e.incident_detail(id)?.ok_or_else(|| unknown(id)))
        .await?;
    Ok(Json(
        d.tasks
            .into_iter()
            .filter(|t| q.status.is_none_or(|s| s == t.status))
            .collect(),
    ))
}

/// Body of marking a task done.
#[derive(Debug, Deserialize)]
pub struct DoneBody {
    /// A title to print beside the account's name.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/incidents/{id}/tasks/{task}/done`.
#[tracing::instrument(skip(state, me, b))]
pub async fn task_done(
    State(state): State<AppState>,
    me: Principal,
    ApiPath((id, task)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<DoneBody>,
) -> Result<Json<TaskView>, ApiError> {
    let by = attribution(&me, b.by.as_deref())?;
    let at = state.vouched_time(b.at)?;
    let t = state
        .use_case(move |e| Ok(e.complete_task(id, task, by, at)??))
        .await?;
    Ok(Json(t))
}

/// `GET /api/v1/incidents/{id}/orders`.
#[tracing::instrument(skip(state))]
pub async fn orders(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let d = state
        .use_case(move |e| e.incident_detail(id)?.ok_or_else(|| unknown(id)))
        .await?;
    Ok(Json(d.orders))
}

/// `GET /api/v1/incidents/{id}/decisions`.
#[tracing::instrument(skip(state))]
pub async fn decisions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<DecisionView>>, ApiError> {
    let d = state
        .use_case(move |e| e.incident_detail(id)?.ok_or_else(|| unknown(id)))
        .await?;
    Ok(Json(d.decisions))
}

/// Body of `POST /api/v1/incidents/{id}/decisions`: a proposal by hand.
#[derive(Debug, Deserialize)]
pub struct ProposeBody {
    pub kind: DecisionKind,
    #[serde(default)]
    pub person: Option<i64>,
    pub reason: String,
    /// A title to print beside the account's name.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// What a write on an incident answers.
#[derive(Debug, Serialize)]
pub struct Changed {
    pub effects: Effects,
}

/// `POST /api/v1/incidents/{id}/decisions`.
#[tracing::instrument(skip(state, me, b))]
pub async fn propose(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ProposeBody>,
) -> Result<(StatusCode, Json<Changed>), ApiError> {
    let by = attribution(&me, b.by.as_deref())?;
    let reason = b.reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::invalid("reason", "say why"));
    }
    let p = ManualProposal {
        kind: b.kind,
        person: b.person.map(PersonId),
        reason,
        by,
        at: b.at.unwrap_or_else(Utc::now),
        clock: state.server_clock(),
    };
    let effects = state
        .use_case(move |e| Ok(e.propose_decision(id, p)??))
        .await?;
    Ok((StatusCode::CREATED, Json(Changed { effects })))
}

/// Body of confirming or rejecting a decision. Who decides is the signed-in
/// account; `by` only adds the title the report prints.
#[derive(Debug, Deserialize)]
pub struct VerdictBody {
    /// How the report names the decider (e.g. 高新区疫情指挥部 指挥长);
    /// default: the account's user name.
    #[serde(default)]
    pub by: Option<String>,
    /// The grid role the decider acts in; must be the account's own.
    #[serde(default)]
    pub role: Option<Responder>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub note: Option<String>,
    /// Lifting below the playbook's coverage requirement: why command
    /// lifts anyway. Recorded with the decision and shown in the report.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// The playbook role an account acts in.
fn acting_role(me: &Principal) -> Result<Responder, ApiError> {
    use gridsweep_domain::Role as Account;
    Ok(match me.role() {
        Account::Command => Responder::DistrictCommand,
        Account::Cdc => Responder::Cdc,
        Account::Subdistrict => Responder::SubDistrict,
        Account::Community => Responder::Community,
        Account::GridWorker => Responder::GridWorker,
        Account::Sampler => Responder::Sampler,
        Account::Lab => Responder::Lab,
        Account::Admin => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "an admin account takes no part in incident decisions",
            ));
        }
    })
}

async fn verdict(
    state: AppState,
    me: Principal,
    id: i64,
    decision: i64,
    b: VerdictBody,
    confirm: bool,
) -> Result<Json<Changed>, ApiError> {
    let role = acting_role(&me)?;
    if let Some(claimed) = b.role
        && claimed != role
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "role_mismatch",
            format!(
                "this account acts as {}, not {}",
                role.as_str(),
                claimed.as_str()
            ),
        )
        .with_field("role"));
    }
    let by = attribution(&me, b.by.as_deref())?;
    let v = Verdict {
        decision,
        confirm,
        by,
        role,
        at: b.at.unwrap_or_else(Utc::now),
        note: b.note,
        override_reason: b.override_reason,
        clock: state.server_clock(),
    };
    let effects = state.use_case(move |e| Ok(e.decide(id, v)??)).await?;
    Ok(Json(Changed { effects }))
}

/// `POST /api/v1/incidents/{id}/decisions/{decision}/confirm`.
#[tracing::instrument(skip(state, me, b))]
pub async fn confirm(
    State(state): State<AppState>,
    me: Principal,
    ApiPath((id, decision)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<VerdictBody>,
) -> Result<Json<Changed>, ApiError> {
    verdict(state, me, id, decision, b, true).await
}

/// `POST /api/v1/incidents/{id}/decisions/{decision}/reject`.
#[tracing::instrument(skip(state, me, b))]
pub async fn reject(
    State(state): State<AppState>,
    me: Principal,
    ApiPath((id, decision)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<VerdictBody>,
) -> Result<Json<Changed>, ApiError> {
    verdict(state, me, id, decision, b, false).await
}

/// Body of `POST /api/v1/incidents/{id}/timeline`.
#[derive(Debug, Deserialize)]
pub struct NoteBody {
    /// `mobilised` (a grid level reports in place; give `role`) or `note`.
    pub kind: TimelineKind,
    #[serde(default)]
    pub role: Option<Responder>,
    #[serde(default)]
    pub text: String,
    /// A title to print beside the account's name.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/incidents/{id}/timeline`.
#[tracing::instrument(skip(state, me, b))]
pub async fn add_note(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<Changed>), ApiError> {
    let by = attribution(&me, b.by.as_deref())?;
    let text = match (b.kind, b.role) {
        (TimelineKind::Mobilised, Some(role)) => {
            format!("{}到位 {}", role.label_zh(), b.text.trim())
                .trim()
                .to_string()
        }
        (TimelineKind::Mobilised, None) => {
            return Err(ApiError::invalid(
                "role",
                "say which grid level is in place",
            ));
        }
        (TimelineKind::Note, _) if !b.text.trim().is_empty() => b.text.trim().to_string(),
        (TimelineKind::Note, _) => return Err(ApiError::invalid("text", "a note needs text")),
        _ => {
            return Err(ApiError::invalid(
                "kind",
                "only mobilised and note are written by hand",
            ));
        }
    };
    let n = NewNote {
        kind: b.kind,
        text,
        by,
        at: state.vouched_time(b.at)?,
    };
    let effects = state.use_case(move |e| Ok(e.add_note(id, n)??)).await?;
    Ok((StatusCode::CREATED, Json(Changed { effects })))
}

async fn load_report(state: &AppState, id: i64) -> Result<Report, ApiError> {
    state
        .use_case(move |e| e.incident_report(id)?.ok_or_else(|| unknown(id)))
        .await
}

/// `GET /api/v1/incidents/{id}/report`: the report as JSON.
#[tracing::instrument(skip(state))]
pub async fn report(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(load_report(&state, id).await?))
}

/// `GET /api/v1/incidents/{id}/report/html`: a readable page.
#[tracing::instrument(skip(state))]
pub async fn report_html(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let r = load_report(&state, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, crate::hygiene::REPORT_CSP),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        ],
        r.to_html(),
    )
        .into_response())
}

/// `GET /api/v1/incidents/{id}/report/xlsx`: an Excel workbook.
#[tracing::instrument(skip(state))]
pub async fn report_xlsx(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let r = load_report(&state, id).await?;
    let bytes = r
        .to_xlsx()
        .map_err(|e| ApiError::internal(format!("xlsx: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"incident-{id}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Query of `GET /api/v1/coverage`.
#[derive(Debug, Deserialize)]
pub struct CoverageQuery {
    pub area: Option<i64>,
    pub round: Option<i64>,
}

/// `GET /api/v1/coverage?area=&round=`: on roster, sampled, explained,
/// missing — by building, rolled up per grid level; IDs masked.
#[tracing::instrument(skip_all)]
pub async fn coverage(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<Coverage>, ApiError> {
    let area = q
        .area
        .ok_or_else(|| ApiError::invalid("area", "area is required"))?;
    let area = AreaId::new(area).map_err(|e| ApiError::invalid("area", e.to_string()))?;
    let round = q
        .round
        .ok_or_else(|| ApiError::invalid("round", "round is required"))?;
    let c = state
        .use_case(move |e| {
            let s = e.store();
            if s.area(area)?.is_none() {
                return Err(ApiError::not_found(format!("area {area}")).with_field("area"));
            }
            Ok(e.coverage(area, round)??)
        })
        .await?;
    Ok(Json(c))
}

/// Body of `POST /api/v1/rounds/{id}/marks`.
#[derive(Debug, Deserialize)]
pub struct MarkBody {
    pub person: i64,
    pub kind: MarkKind,
    #[serde(default)]
    pub note: String,
    /// A title to print beside the account's name.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/rounds/{id}/marks`: a person is away, in hospital or
/// sampled elsewhere — explained, not missing.
#[tracing::instrument(skip(state, me, b))]
pub async fn mark(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(round): ApiPath<i64>,
    ApiJson(b): ApiJson<MarkBody>,
) -> Result<(StatusCode, Json<PersonMark>), ApiError> {
    let m = PersonMark {
        round,
        person: PersonId(b.person),
        kind: b.kind,
        note: b.note.trim().chars().take(200).collect(),
        at: state.vouched_time(b.at)?,
        by: attribution(&me, b.by.as_deref())?,
    };
    let out = m.clone();
    state.use_case(move |e| Ok(e.mark_person(m)??)).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /api/v1/rounds/{id}/marks`: the marks on residents within the
/// caller's scope (a district-wide round holds every community's marks;
/// each community sees its own).
#[tracing::instrument(skip(state, me))]
pub async fn marks(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(round): ApiPath<i64>,
) -> Result<Json<Vec<PersonMark>>, ApiError> {
    let scope = me.user.scope_path.clone();
    let m = state
        .use_case(move |e| {
            let s = e.store();
            if s.round(round)?.is_none() {
                return Err(ApiError::from(ResponseError::RoundUnknown(round)));
            }
            let mut mine = Vec::new();
            for m in e.person_marks(round)? {
                // Fail closed: a person who cannot be found is not shown.
                let within = match (&scope, s.person(m.person)?) {
                    (Some(scope), Some(p)) => p.household_path.is_within(scope),
                    _ => false,
                };
                if within {
                    mine.push(m);
                }
            }
            Ok(mine)
        })
        .await?;
    Ok(Json(m))
}
