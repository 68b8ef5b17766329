//! `POST /api/v1/sync`: a device's offline queue, applied exactly once.

use crate::auth::Principal;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use gridsweep_storage::pipeline::{DeviceEvent, SyncReport};
use serde::Deserialize;

/// Most events one request may carry.
pub const MAX_EVENTS: usize = 5000;

/// Body of a sync request.
#[derive(Debug, Deserialize)]
pub struct SyncBody {
    /// The device's stable id (1–64 of letters, digits, '-', '_').
    pub device: String,
    pub events: Vec<DeviceEvent>,
}

/// The device as the store knows it: `account/device`. Each account has its
/// own sequence of each device id, so two accounts can never step on each
/// other's cursor, and every row the batch writes names the account as
/// well as the device that did it.
pub fn device_key(me: &Principal, device: &str) -> String {
    format!("{}/{device}", me.user.username)
}

/// Applies the batch; the answer is sent only after it is on disk.
#[tracing::instrument(skip_all, fields(device = %body.device, events = body.events.len()))]
pub async fn sync(
    State(state): State<AppState>,
    me: Principal,
    ApiJson(body): ApiJson<SyncBody>,
) -> Result<Json<SyncReport>, ApiError> {
    let device = body.device.trim().to_string();
    let ok = !device.is_empty()
        && device.len() <= 64
        && device
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(ApiError::invalid(
            "device",
            "device must be 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    if body.events.len() > MAX_EVENTS {
        return Err(ApiError::invalid(
            "events",
            format!("at most {MAX_EVENTS} events per request"),
        ));
    }
    if let Some(e) = body.events.iter().find(|e| e.seq < 1) {
        return Err(ApiError::invalid(
            "events",
            format!("sequence numbers start at 1, got {}", e.seq),
        ));
    }
    let events = body.events;
    let key = device_key(&me, &device);
    let reach = me.reach();
    let report = state
        .use_case(move |e| Ok(e.sync_and_settle(key, events, reach)?))
        .await?;
    Ok(Json(report))
}
