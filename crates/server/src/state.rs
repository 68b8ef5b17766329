//! What every handler can reach: the engine (and through it the store),
//! the live stream's hub, and the HTTP layer's own settings. Everything a
//! handler asks of `AppState` is here, in one file.

use crate::ApiError;
use crate::auth::{self, Principal};
use chrono::{DateTime, Utc};
use gridsweep_engine::incident::ServerClock;
use gridsweep_engine::{Engine, Publish};
use gridsweep_storage::Store;
use gridsweep_storage::pipeline::{Command, Effect, Effects};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// How far after the server's clock a client's `at` may lie: devices'
/// clocks drift a little (SPEC §8, "times are the server's").
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// One message on the live stream (`GET /api/v1/events`).
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    /// Increasing per server run; the SSE `id`.
    pub id: u64,
    /// When the server published it.
    pub at: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub effect: Effect,
}

/// The live stream's hub: what the engine publishes goes to every
/// subscriber of `GET /api/v1/events`.
pub struct LiveHub {
    events: broadcast::Sender<LiveEvent>,
    next_event: AtomicU64,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self {
            events: broadcast::channel(4096).0,
            next_event: AtomicU64::new(1),
        }
    }
}

impl Publish for LiveHub {
    fn publish(&self, effects: Effects) {
        let at = chrono::Utc::now();
        for effect in effects {
            if matches!(effect, Effect::SampleAdded { .. }) && self.events.receiver_count() == 0 {
                continue;
            }
            let id = self.next_event.fetch_add(1, Ordering::Relaxed);
            // No subscribers is fine: the stream is live-only.
            let _ = self.events.send(LiveEvent { id, at, effect });
        }
    }
}

/// What every handler can reach: the engine (and through it the store),
/// and the HTTP layer's own concerns.
#[derive(Clone)]
pub struct AppState {
    /// The use cases, over the database; publishes to [`AppState::subscribe`].
    pub engine: Engine,
    /// Session and cookie settings.
    pub auth: auth::AuthConfig,
    /// Failed-login counts (in memory, per process).
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Times in requests follow a replayed drill's clock (`gridsweep demo`
    /// sets it on the server it starts for the replay, and nothing else):
    /// a decision's time is then not checked against the server's clock.
    pub replayed_clock: bool,
    hub: Arc<LiveHub>,
    /// Set when the server stops: open event streams end at once, so their
    /// clients reconnect to the next process instead of hanging on to a
    /// dying one that sends only keep-alives.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// State over an engine, whose effects it streams to subscribers.
    pub fn new(engine: Engine) -> Self {
        let hub = Arc::new(LiveHub::default());
        Self {
            engine: engine.with_publisher(hub.clone()),
            auth: auth::AuthConfig::default(),
            login_limiter: Arc::default(),
            replayed_clock: false,
            hub,
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// The database.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }

    /// Tells every open event stream that the server is stopping.
    pub(crate) fn begin_stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once the server has begun to stop.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        // An error means the sender is gone: stopping too.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// The same state with other session settings.
    pub fn with_auth(mut self, auth: auth::AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// A new subscription to the live stream.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.hub.events.subscribe()
    }

    /// Runs a store call on a blocking thread, so a slow query never stalls
    /// the async workers that answer everyone else.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store().clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
    }

    /// Runs a use case on a blocking thread (see [`AppState::blocking`]).
    pub async fn use_case<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T, ApiError> + Send + 'static,
    {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
    }

    /// Applies one command as `by`; the engine publishes its effects and
    /// responds to any result in it before this returns.
    pub async fn run(
        &self,
        by: &Principal,
        cmd: Command,
        at: Option<DateTime<Utc>>,
    ) -> Result<Effects, ApiError> {
        let ctx = self
            .engine
            .context(by.actor(), at.unwrap_or_else(Utc::now), by.reach());
        self.use_case(move |e| Ok(e.run(cmd, ctx)??)).await
    }

    /// The clock a decision's time is checked against; none when this
    /// server replays a drill on the drill's own clock.
    pub fn server_clock(&self) -> Option<ServerClock> {
        (!self.replayed_clock).then(|| ServerClock {
            now: Utc::now(),
            skew_seconds: CLOCK_SKEW_SECONDS,
        })
    }

    /// A client's `at` (default now), refused when after the server's clock
    /// plus the skew — unless this server replays a drill.
    pub fn vouched_time(&self, at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, ApiError> {
        let at = at.unwrap_or_else(Utc::now);
        if let Some(clock) = self.server_clock() {
            clock.check(at).map_err(ApiError::from)?;
        }
        Ok(at)
    }
}
