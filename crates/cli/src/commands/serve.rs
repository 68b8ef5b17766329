//! `gridsweep serve`: the HTTP API on the configured database.

use crate::config::Config;
use anyhow::{Context, Result};
use gridsweep_server::AppState;
use gridsweep_storage::Store;
use std::sync::Arc;

/// Binds, prints where, and serves until Ctrl-C or SIGTERM.
pub fn run(cfg: &Config, store: Arc<dyn Store>) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&cfg.addr)
            .await
            .with_context(|| format!("binding {}", cfg.addr))?;
        let addr = listener.local_addr()?;
        println!("gridsweep serving on http://{addr}/ ({})", store.backend());
        gridsweep_server::serve(listener, AppState::new(store), shutdown_signal()).await?;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
