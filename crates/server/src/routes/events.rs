//! `GET /api/v1/events`: the live stream as Server-Sent Events.

use crate::auth::{Principal, still_valid};
use crate::{AppState, LiveEvent};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// How often an idle stream asks whether its credentials still stand.
const RECHECK: Duration = Duration::from_secs(5);

/// Most events sent between two checks of the credentials.
const BURST: usize = 256;

struct Follow {
    rx: Receiver<LiveEvent>,
    state: AppState,
    me: Principal,
    ready: VecDeque<Event>,
}

fn to_sse(ev: &LiveEvent) -> Event {
    let name = serde_json::to_value(&ev.effect)
        .ok()
        .and_then(|v| v["event"].as_str().map(str::to_string))
        .unwrap_or_else(|| "message".into());
    Event::default()
        .id(ev.id.to_string())
        .event(name)
        .json_data(ev)
        .unwrap_or_else(|_| Event::default().comment("unserialisable"))
}

fn lagged(n: u64) -> Event {
    Event::default().event("lagged").data(n.to_string())
}

impl Follow {
    /// Whether the session or token behind the stream still stands; an
    /// error reading it ends the stream too (the client reconnects and
    /// signs in again).
    async fn valid(&self) -> bool {
        let me = self.me.clone();
        self.state
            .blocking(move |s| Ok(still_valid(s, &me)?))
            .await
            .unwrap_or(false)
    }

    /// The next events to send, checked against the credentials first;
    /// `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Some(e);
            }
            let first = tokio::select! {
                _ = self.state.stopped() => return None,
                r = self.rx.recv() => r,
                _ = tokio::time::sleep(RECHECK) => {
                    if !self.valid().await {
                        return None;
                    }
                    continue;
                }
            };
            match first {
                Ok(ev) => self.ready.push_back(to_sse(&ev)),
                Err(RecvError::Lagged(n)) => self.ready.push_back(lagged(n)),
                Err(RecvError::Closed) => return None,
            }
            while self.ready.len() < BURST {
                match self.rx.try_recv() {
                    Ok(ev) => self.ready.push_back(to_sse(&ev)),
                    Err(TryRecvError::Lagged(n)) => self.ready.push_back(lagged(n)),
                    Err(_) => break,
                }
            }
            // Nothing goes out to a disabled account or an ended session.
            if !self.valid().await {
                return None;
            }
        }
    }
}

/// Streams every published effect; a client too slow to keep up is told
/// how many it missed (event `lagged`) rather than silently skipped. The
/// stream ends when the caller's session or token ends, the account is
/// disabled, or the server stops (so the client reconnects to the next one).
pub async fn stream(
    State(state): State<AppState>,
    me: Principal,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let follow = Follow {
        rx: state.subscribe(),
        state,
        me,
        ready: VecDeque::new(),
    };
    let s = stream::unfold(follow, |mut f| async move {
        let e = f.next().await?;
        Some((Ok(e), f))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
