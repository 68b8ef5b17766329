//! `gridsweep serve`: the HTTP API on the configured database.

use crate::config::Config;
use anyhow::{Context, Result};
use gridsweep_engine::Engine;
use gridsweep_server::AppState;
use gridsweep_server::auth::AuthConfig;
use gridsweep_storage::Store;
use std::sync::Arc;

/// First start: an `admin` account, with `GRIDSWEEP_ADMIN_PASSWORD` or a
/// random password printed once here (stdout, never the log). With
/// `--demo`, the demo accounts of the README too.
pub fn accounts(store: &dyn Store, demo: bool) -> Result<()> {
    if demo {
        let n = gridsweep_server::create_demo_users(store)?;
        if n > 0 {
            println!(
                "created {n} demo accounts (password {}; see README)",
                gridsweep_server::DEMO_PASSWORD
            );
        }
    }
    let given = std::env::var("GRIDSWEEP_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let first = store.users()?.is_empty();
    if let Some(pw) = gridsweep_server::ensure_admin(store, given.as_deref())? {
        println!("first start: created account admin with one-time password {pw}");
        println!(
            "(shown once; sign in and choose a new one before anything else, or set GRIDSWEEP_ADMIN_PASSWORD to choose it now)"
        );
    } else if first {
        println!(
            "first start: created account admin with the password from GRIDSWEEP_ADMIN_PASSWORD"
        );
    }
    Ok(())
}

/// Reads and checks a playbook file; a bad one stops the start rather than
/// letting the server run on rules nobody wrote.
pub fn load_playbook(path: &std::path::Path) -> Result<gridsweep_response::Playbook> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading playbook {}", path.display()))?;
    gridsweep_response::Playbook::from_toml(&text)
        .with_context(|| format!("playbook {}", path.display()))
}

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
        let mut engine = Engine::new(store);
        if let Some(path) = &cfg.playbook {
            engine = engine.with_playbook(load_playbook(path)?);
            println!(
                "playbook {} (stage 2 after a non-negative pool: {})",
                path.display(),
                engine.playbook().stage2.label()
            );
        }
        let state = AppState::new(engine).with_auth(AuthConfig {
            secure_cookies: cfg.secure_cookies,
            ..AuthConfig::default()
        });
        // Results stored just before a stop, never reacted to nor resent.
        let engine = state.engine.clone();
        let finished =
            tokio::task::spawn_blocking(move || engine.finish_interrupted_responses()).await??;
        if finished > 0 {
            tracing::warn!(
                tubes = finished,
                "reacted to results left unanswered by the last stop"
            );
        }
        gridsweep_server::serve(listener, state, shutdown_signal()).await?;
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
