//! The HTTP layer: axum routes over a [`Store`], one JSON error shape for
//! every failure, and the OpenAPI document.
//!
//! Handlers stay thin: parse and validate the request into domain types,
//! call the store on a blocking thread, shape the answer. Anything with a
//! decision in it lives in the domain crates.
#![forbid(unsafe_code)]

mod error;
pub mod extract;
pub mod openapi;
mod routes;
mod views;

pub use error::ApiError;
pub use routes::API_ROUTES;

use axum::Router;
use gridsweep_storage::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// State over a store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Runs a store call on a blocking thread, so a slow query never stalls
    /// the async workers that answer everyone else.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
    }
}

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
    tracing::info!(%addr, backend = state.store.backend(), "gridsweep listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
