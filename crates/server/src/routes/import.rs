//! `POST /api/v1/residents/import`: a roster file as the raw body.

use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use gridsweep_import::{
    ImportError, ImportOptions, ImportReport, ImportStatus, RosterFormat, import_roster_within,
};

/// Largest roster accepted in one request (a large community's XLSX).
pub const MAX_ROSTER_BYTES: usize = 64 * 1024 * 1024;

fn import_error(e: ImportError) -> ApiError {
    let status = if !e.is_client_error() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else if matches!(e, ImportError::Storage(_)) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    ApiError::new(status, e.code(), e.to_string()).with_field("file")
}

/// Validates every row; writes all good rows in one transaction, or
/// nothing when a row is bad and `skip_bad_rows` is not set (422 with the
/// report of every bad row in `error.details`).
#[tracing::instrument(skip_all, fields(bytes = body.len()))]
pub async fn residents(
    State(state): State<AppState>,
    me: crate::auth::Principal,
    ApiQuery(opts): ApiQuery<ImportOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(RosterFormat::from_content_type)
        .unwrap_or_default();
    // Command imports within its own area; the admin, who manages the
    // system for the whole database, anywhere.
    let within = me.user.scope_path.clone();
    let report = state
        .blocking(move |s| {
            import_roster_within(s, &body, format, opts, within.as_ref()).map_err(import_error)
        })
        .await?;
    match report.status {
        ImportStatus::Rejected => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!(
                "{} of {} rows are bad; nothing was written (send skip_bad_rows=true to import the rest)",
                report.rows_bad, report.rows_total
            ),
        )
        .with_field("file")
        .with_details(serde_json::to_value(&report).unwrap_or_default())),
        ImportStatus::Imported => Ok((StatusCode::CREATED, Json(report))),
        ImportStatus::DryRun => Ok((StatusCode::OK, Json(report))),
    }
}

/// What a lab's result file did.
#[derive(Debug, serde::Serialize)]
pub struct ResultsReport {
    /// `imported` or `rejected` (nothing written).
    pub status: &'static str,
    pub rows_total: usize,
    pub rows_applied: usize,
    /// Rows with a problem, every one counted.
    pub rows_bad: usize,
    /// With `skip_bad_rows`, the rows left out.
    pub skipped_rows: Vec<u32>,
    /// The bad rows' problems — unreadable values, and refusals by the tube
    /// rules (an unknown tube, a tube the lab has not received, a
    /// contradiction) — the first `max_listed_errors` of them.
    pub errors: Vec<gridsweep_import::RowError>,
    /// How many problems a report lists at most.
    pub max_listed_errors: usize,
}

/// Query of the result upload.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ResultsQuery {
    pub skip_bad_rows: bool,
}

/// `POST /api/v1/results/import`: a lab's CSV/XLSX. Without
/// `skip_bad_rows`, one bad row means nothing is written.
#[tracing::instrument(skip_all, fields(bytes = body.len()))]
pub async fn results(
    State(state): State<AppState>,
    me: crate::auth::Principal,
    ApiQuery(q): ApiQuery<ResultsQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ResultsReport>, ApiError> {
    use gridsweep_storage::pipeline::Command;
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(RosterFormat::from_content_type)
        .unwrap_or_default();
    let sheet = gridsweep_import::results::parse_results(&body, format).map_err(import_error)?;
    let mut errors = sheet.errors.clone();
    let max = gridsweep_import::MAX_LISTED_ERRORS;
    let reject = |errors: Vec<gridsweep_import::RowError>, rows_bad: usize, total: usize| {
        let report = ResultsReport {
            status: "rejected",
            rows_total: total,
            rows_applied: 0,
            rows_bad,
            skipped_rows: Vec::new(),
            errors: errors.into_iter().take(max).collect(),
            max_listed_errors: max,
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!(
                "{rows_bad} of {total} rows are bad; nothing was written (send skip_bad_rows=true to apply the rest)"
            ),
        )
        .with_field("file")
        .with_details(serde_json::to_value(&report).unwrap_or_default())
    };
    if sheet.rows_bad > 0 && !q.skip_bad_rows {
        return Err(reject(errors, sheet.rows_bad, sheet.rows_total));
    }
    let cmds: Vec<Command> = sheet
        .lines
        .iter()
        .map(|l| Command::PostResult {
            tube: l.tube.clone(),
            outcome: l.outcome,
            ct: l.ct,
            correction: false,
        })
        .collect();
    let ctx = state
        .engine
        .context(me.actor(), chrono::Utc::now(), me.reach());
    let all_or_nothing = !q.skip_bad_rows;
    let outcomes = state
        .use_case(move |e| Ok(e.execute_all(cmds, ctx, all_or_nothing)?))
        .await?;
    let mut applied = 0;
    let mut refused = 0;
    let mut effects = Vec::new();
    for (line, outcome) in sheet.lines.iter().zip(outcomes) {
        match outcome {
            Ok(fx) => {
                applied += 1;
                effects.extend(fx);
            }
            Err(e) => {
                refused += 1;
                errors.push(gridsweep_import::RowError {
                    row: line.row,
                    column: sheet.tube_header.clone(),
                    value_masked: line.tube.clone(),
                    reason: format!("{} ({})", e, e.code()),
                });
            }
        }
    }
    errors.sort_by_key(|e| e.row);
    let rows_bad = sheet.rows_bad + refused;
    if rows_bad > 0 && !q.skip_bad_rows {
        return Err(reject(errors, rows_bad, sheet.rows_total));
    }
    state
        .use_case(move |e| Ok(e.settle(effects, chrono::Utc::now())?))
        .await?;
    let mut skipped: Vec<u32> = errors.iter().map(|e| e.row).collect();
    skipped.dedup();
    errors.truncate(max);
    Ok(Json(ResultsReport {
        status: "imported",
        rows_total: sheet.rows_total,
        rows_applied: applied,
        rows_bad,
        skipped_rows: skipped,
        errors,
        max_listed_errors: max,
    }))
}
