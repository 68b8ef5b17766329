//! The HTTP layer: axum routes over the [`gridsweep_engine::Engine`], one JSON error shape for
//! every failure, and the OpenAPI document.
//!
//! Handlers stay thin: parse and validate the request into domain types,
//! call the engine (or, for plain reads, the store) on a blocking thread,
//! shape the answer. Anything with a decision in it lives in the engine and
//! the domain crates.
#![forbid(unsafe_code)]

pub mod auth;
mod error;
pub mod extract;
pub mod hygiene;
pub mod openapi;
mod openapi_incidents;
pub mod route_table;
mod routes;
mod state;
mod views;

pub use error::ApiError;
pub use route_table::{API_ROUTES, ApiRoute};
pub use routes::{DEMO_PASSWORD, DEMO_USERS, create_demo_users, ensure_admin};
pub use state::{AppState, CLOCK_SKEW_SECONDS, LiveEvent, LiveHub};

use axum::Router;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves the application on a bound listener until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, backend = state.store().backend(), "gridsweep listening");
    // With the peer address, for the audit trail and login throttling.
    let stopping = state.clone();
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Graceful shutdown waits for open connections: end the event
            // streams so it does not wait for ever.
            stopping.begin_stop();
        })
        .await
}
