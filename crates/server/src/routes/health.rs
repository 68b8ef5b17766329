//! Liveness and readiness in one: answers only when the database does.

use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// `GET /healthz`.
#[tracing::instrument(skip_all)]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let backend = state.store().backend();
    state.blocking(|s| Ok(s.roots()?.len())).await?;
    Ok(Json(json!({
        "status": "ok",
        "backend": backend,
        "version": env!("CARGO_PKG_VERSION"),
    })))
}
