//! Rounds, sites, tubes, boxes, lab receipts and results: each write is
//! one [`Command`] applied by the store in its own transaction, and what it
//! changed goes out on the live stream.

use crate::auth::Principal;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gridsweep_domain::pipeline::{CtValues, Outcome, TubeKind, check_pool_size};
use gridsweep_domain::{AreaId, Barcode, DocumentKind};
use gridsweep_storage::SiteRecord;
use gridsweep_storage::pipeline::{Command, Effects, NewRound, ResultRow, RoundRow, TubeRow};
use serde::{Deserialize, Serialize};

/// Body of `POST /api/v1/rounds`.
#[derive(Debug, Deserialize)]
pub struct NewRoundBody {
    pub name: String,
    pub pool_size: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub areas: Vec<i64>,
}

/// `POST /api/v1/rounds`.
#[tracing::instrument(skip_all)]
pub async fn create_round(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewRoundBody>,
) -> Result<(StatusCode, Json<RoundRow>), ApiError> {
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 100 characters",
        ));
    }
    check_pool_size(body.pool_size).map_err(|e| ApiError::from(e).with_field("pool_size"))?;
    if body.ends_at <= body.starts_at {
        return Err(ApiError::invalid(
            "ends_at",
            "ends_at must be after starts_at",
        ));
    }
    if body.areas.is_empty() {
        return Err(ApiError::invalid(
            "areas",
            "a round covers at least one area",
        ));
    }
    let areas = body
        .areas
        .iter()
        .map(|a| AreaId::new(*a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::invalid("areas", e.to_string()))?;
    let round = state
        .blocking(move |s| {
            for a in &areas {
                if s.area(*a)?.is_none() {
                    return Err(ApiError::not_found(format!("area {a}")).with_field("areas"));
                }
            }
            Ok(s.create_round(NewRound {
                name,
                pool_size: body.pool_size,
                starts_at: body.starts_at,
                ends_at: body.ends_at,
                areas,
            })?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(round)))
}

/// `GET /api/v1/rounds`.
#[tracing::instrument(skip_all)]
pub async fn list_rounds(State(state): State<AppState>) -> Result<Json<Vec<RoundRow>>, ApiError> {
    Ok(Json(state.blocking(|s| Ok(s.rounds()?)).await?))
}

/// `GET /api/v1/rounds/{id}`.
#[tracing::instrument(skip(state))]
pub async fn get_round(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RoundRow>, ApiError> {
    let r = state
        .blocking(move |s| {
            s.round(id)?
                .ok_or_else(|| ApiError::not_found(format!("round {id}")))
        })
        .await?;
    Ok(Json(r))
}

/// Query of `GET /api/v1/sites`.
#[derive(Debug, Deserialize)]
pub struct SitesQuery {
    pub area: Option<i64>,
}

/// `GET /api/v1/sites?area=…`: sampling sites in an area's subtree.
#[tracing::instrument(skip_all)]
pub async fn list_sites(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SitesQuery>,
) -> Result<Json<Vec<SiteRecord>>, ApiError> {
    let area = q
        .area
        .ok_or_else(|| ApiError::invalid("area", "area is required"))?;
    let area = AreaId::new(area).map_err(|e| ApiError::invalid("area", e.to_string()))?;
    let sites = state
        .blocking(move |s| {
            let a = s
                .area(area)?
                .ok_or_else(|| ApiError::not_found(format!("area {area}")))?;
            Ok(s.sites(&a.path)?)
        })
        .await?;
    Ok(Json(sites))
}

/// What a write endpoint answers: the effects it had.
#[derive(Debug, Serialize)]
pub struct Applied {
    pub effects: Effects,
}

/// Body of `POST /api/v1/tubes`.
#[derive(Debug, Deserialize)]
pub struct OpenTubeBody {
    pub tube: String,
    pub round: i64,
    pub site: i64,
    #[serde(default)]
    pub kind: Option<TubeKind>,
    #[serde(default)]
    pub capacity: Option<u32>,
    /// The device's clock; defaults to the server's.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

fn barcode(field: &str, raw: &str) -> Result<String, ApiError> {
    Barcode::parse(raw)
        .map(|b| b.as_str().to_string())
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_identifier",
                e.to_string(),
            )
            .with_field(field)
        })
}

/// `POST /api/v1/tubes`: open a tube.
#[tracing::instrument(skip_all)]
pub async fn open_tube(
    State(state): State<AppState>,
    me: Principal,
    ApiJson(b): ApiJson<OpenTubeBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let tube = barcode("tube", &b.tube)?;
    let effects = state
        .run(
            &me,
            Command::OpenTube {
                tube,
                round: b.round,
                site: b.site,
                kind: b.kind.unwrap_or(TubeKind::Human),
                capacity: b.capacity,
            },
            b.at,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Applied { effects })))
}

/// A tube with its result history; never any person.
#[derive(Debug, Serialize)]
pub struct TubeView {
    #[serde(flatten)]
    pub tube: TubeRow,
    pub results: Vec<ResultRow>,
}

/// `GET /api/v1/tubes/{barcode}`.
#[tracing::instrument(skip(state))]
pub async fn get_tube(
    State(state): State<AppState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<TubeView>, ApiError> {
    let code = barcode("barcode", &raw)?;
    let view = state
        .blocking(move |s| {
            let tube = s.tube(&code)?.ok_or_else(|| {
                ApiError::from(gridsweep_domain::pipeline::PipelineError::TubeUnknown(
                    code.clone(),
                ))
            })?;
            let results = s.results(&code)?;
            Ok(TubeView { tube, results })
        })
        .await?;
    Ok(Json(view))
}

/// Body of `POST /api/v1/tubes/{barcode}/samples`: a person (document or
/// health-code QR) or an environmental point.
#[derive(Debug, Deserialize)]
pub struct SampleBody {
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub document_kind: Option<DocumentKind>,
    #[serde(default)]
    pub qr: Option<String>,
    #[serde(default)]
    pub point: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/tubes/{barcode}/samples`.
#[tracing::instrument(skip_all)]
pub async fn add_sample(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(raw): ApiPath<String>,
    ApiJson(b): ApiJson<SampleBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    let tube = barcode("barcode", &raw)?;
    let cmd = match (b.point, b.document.is_some() || b.qr.is_some()) {
        (Some(point), false) => Command::AddPoint { tube, point },
        (None, true) => Command::AddPerson {
            tube,
            document: b.document,
            document_kind: b.document_kind,
            qr: b.qr,
        },
        _ => {
            return Err(ApiError::invalid(
                "document",
                "give a document (or qr) for a person, or a point for an environmental tube",
            ));
        }
    };
    let effects = state.run(&me, cmd, b.at).await.map_err(|e| match e.code {
        "invalid_identifier" => e.with_field("document"),
        _ => e,
    })?;
    Ok((StatusCode::CREATED, Json(Applied { effects })))
}

/// Body carrying only an optional device time.
#[derive(Debug, Default, Deserialize)]
pub struct AtBody {
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// An optional JSON body `{ "at": … }`; empty means "now".
fn optional_at(body: &[u8]) -> Result<Option<DateTime<Utc>>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<AtBody>(body)
        .map(|b| b.at)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))
}

/// `POST /api/v1/tubes/{barcode}/seal`.
#[tracing::instrument(skip(state, me, body))]
pub async fn seal_tube(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(raw): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<Applied>, ApiError> {
    let tube = barcode("barcode", &raw)?;
    let at = optional_at(&body)?;
    let effects = state.run(&me, Command::SealTube { tube }, at).await?;
    Ok(Json(Applied { effects }))
}

/// Body of `POST /api/v1/boxes`.
#[derive(Debug, Deserialize)]
pub struct BoxBody {
    #[serde(rename = "box")]
    pub box_barcode: String,
    pub tubes: Vec<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/boxes`: pack sealed tubes into a transfer box.
#[tracing::instrument(skip_all)]
pub async fn pack_box(
    State(state): State<AppState>,
    me: Principal,
    ApiJson(b): ApiJson<BoxBody>,
) -> Result<Json<Applied>, ApiError> {
    let box_barcode = barcode("box", &b.box_barcode)?;
    if b.tubes.is_empty() {
        return Err(ApiError::invalid("tubes", "list at least one tube"));
    }
    let effects = state
        .run(
            &me,
            Command::BoxTubes {
                box_barcode,
                tubes: b.tubes,
            },
            b.at,
        )
        .await?;
    Ok(Json(Applied { effects }))
}

/// `POST /api/v1/boxes/{barcode}/handover`.
#[tracing::instrument(skip(state, me, body))]
pub async fn hand_over(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(raw): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<Applied>, ApiError> {
    let box_barcode = barcode("barcode", &raw)?;
    let at = optional_at(&body)?;
    let effects = state
        .run(&me, Command::HandOver { box_barcode }, at)
        .await?;
    Ok(Json(Applied { effects }))
}

/// Body of `POST /api/v1/lab/receipts`.
#[derive(Debug, Deserialize)]
pub struct ReceiptBody {
    #[serde(default)]
    pub tubes: Vec<String>,
    #[serde(default)]
    pub boxes: Vec<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/lab/receipts`: the lab takes tubes or whole boxes in.
#[tracing::instrument(skip_all)]
pub async fn receive(
    State(state): State<AppState>,
    me: Principal,
    ApiJson(b): ApiJson<ReceiptBody>,
) -> Result<Json<Applied>, ApiError> {
    if b.tubes.is_empty() && b.boxes.is_empty() {
        return Err(ApiError::invalid("tubes", "list tubes or boxes to receive"));
    }
    let effects = state
        .run(
            &me,
            Command::Receive {
                tubes: b.tubes,
                boxes: b.boxes,
            },
            b.at,
        )
        .await?;
    Ok(Json(Applied { effects }))
}

/// Body of `POST /api/v1/results`.
#[derive(Debug, Deserialize)]
pub struct ResultBody {
    pub tube: String,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub ct: CtValues,
    #[serde(default)]
    pub correction: bool,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// Refuses Ct values no instrument reports.
pub(crate) fn check_ct(ct: &CtValues) -> Result<(), ApiError> {
    for (field, v) in [("ct.orf1ab", ct.orf1ab), ("ct.n", ct.n)] {
        if let Some(v) = v
            && !(v.is_finite() && (0.0..=60.0).contains(&v))
        {
            return Err(ApiError::invalid(field, "Ct must be between 0 and 60"));
        }
    }
    Ok(())
}

/// `POST /api/v1/results`: one tube's result.
#[tracing::instrument(skip_all)]
pub async fn post_result(
    State(state): State<AppState>,
    me: Principal,
    ApiJson(b): ApiJson<ResultBody>,
) -> Result<Json<Applied>, ApiError> {
    let tube = barcode("tube", &b.tube)?;
    check_ct(&b.ct)?;
    let effects = state
        .run(
            &me,
            Command::PostResult {
                tube,
                outcome: b.outcome,
                ct: b.ct,
                correction: b.correction,
            },
            b.at,
        )
        .await?;
    Ok(Json(Applied { effects }))
}
