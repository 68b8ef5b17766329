//! `POST /api/v1/residents/import`: a roster file as the raw body.

use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use gridsweep_import::{
    ImportError, ImportOptions, ImportReport, ImportStatus, RosterFormat, import_roster,
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
    ApiQuery(opts): ApiQuery<ImportOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(RosterFormat::from_content_type)
        .unwrap_or_default();
    let report = state
        .blocking(move |s| import_roster(s, &body, format, opts).map_err(import_error))
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
