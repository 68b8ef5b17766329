//! `GET /api/v1/events`: the live stream as Server-Sent Events.

use crate::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

/// Streams every published effect; a client too slow to keep up is told
/// how many it missed (event `lagged`) rather than silently skipped.
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.subscribe();
    let s = stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(ev) => {
                let name = serde_json::to_value(&ev.effect)
                    .ok()
                    .and_then(|v| v["event"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "message".into());
                Event::default()
                    .id(ev.id.to_string())
                    .event(name)
                    .json_data(&ev)
                    .unwrap_or_else(|_| Event::default().comment("unserialisable"))
            }
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
