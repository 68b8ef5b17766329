//! `gridsweep bench alert`: on a district of (by default) 1,000,000
//! residents, the time from posting a suspect result to the incident with
//! its tasks being readable over HTTP, p50/p99 over many alarms. Prints
//! figures only.
//!
//! Each alarm is a 20-person tube from a community hut, received and then
//! resulted `suspected`; the clock runs from sending the result to the
//! moment `GET /api/v1/incidents/{id}/tasks` answers with the retest tasks.
//! A community holds one open incident at a time (a second alarm joins
//! it), so the first alarm of each community opens an incident and later
//! ones join; both are timed and reported apart.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use gridsweep_domain::SiteKind;
use gridsweep_engine::Engine;
use gridsweep_population::GenSpec;
use gridsweep_server::AppState;
use gridsweep_storage::prelude::*;
use gridsweep_storage::{SiteRecord, Store};
use gridsweep_storage_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Flags of `gridsweep bench alert`.
#[derive(Debug, Args)]
pub struct AlertArgs {
    /// Residents on the roster (generated once into --db, then reused).
    #[arg(long, default_value_t = 1_000_000)]
    residents: u64,
    /// Alarms to time.
    #[arg(long, default_value_t = 1_000)]
    alarms: usize,
    /// The SQLite file (default: a temp file named after the size).
    #[arg(long)]
    db: Option<PathBuf>,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Runs the benchmark.
pub fn run(args: AlertArgs) -> Result<()> {
    let path = args.db.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("gridsweep-bench-alert-{}.db", args.residents))
    });
    let store = Arc::new(SqliteStore::open(&path)?);
    if store.roots()?.is_empty() {
        eprintln!(
            "generating {} residents into {}",
            args.residents,
            path.display()
        );
        crate::commands::generate::run(
            &*store,
            GenSpec {
                seed: 613,
                people: args.residents,
            },
        )?;
    } else {
        eprintln!("reusing {}", path.display());
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(bench(store, args))
}

async fn bench(store: Arc<SqliteStore>, args: AlertArgs) -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dynstore: Arc<dyn Store> = store.clone();
    let state = AppState::new(Engine::new(dynstore));
    let server = tokio::spawn(async move {
        gridsweep_server::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
    });
    // Act as the people of the flow: a sampler's device, the lab, command.
    let tokens = std::sync::Arc::new(super::demo::drill_tokens(&*store)?);
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let http = http.clone();
        let base = base.clone();
        let tokens = tokens.clone();
        async move {
            let token = if path.starts_with("/api/v1/sync") {
                &tokens.sampler
            } else if path.starts_with("/api/v1/lab/") || path.starts_with("/api/v1/results") {
                &tokens.lab
            } else {
                &tokens.command
            };
            let r = http
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?;
            let status = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                bail!("POST {path}: {status} {v}");
            }
            Ok::<Value, anyhow::Error>(v)
        }
    };
    // The demo district (the first root): the drill's accounts are scoped
    // to it; the other districts make the roster city-sized.
    let roots: Vec<_> = store.roots()?.into_iter().take(1).collect();
    let mut huts: Vec<SiteRecord> = Vec::new();
    for r in &roots {
        huts.extend(
            store
                .sites(&r.path)?
                .into_iter()
                .filter(|s| s.kind == SiteKind::Hut),
        );
    }
    if huts.is_empty() {
        bail!("no sampling huts on the roster");
    }
    let now = chrono::Utc::now();
    let round = post(
        "/api/v1/rounds".into(),
        json!({ "name": format!("bench alert {}", now.timestamp()), "pool_size": 20,
                "starts_at": now - chrono::Duration::hours(1), "ends_at": now + chrono::Duration::hours(24),
                "areas": roots.iter().map(|r| r.id.get()).collect::<Vec<_>>() }),
    )
    .await?;
    let round = round["id"].as_i64().ok_or_else(|| anyhow!("round id"))?;
    let mut open_times = Vec::new();
    let mut join_times = Vec::new();
    let mut offsets = vec![0usize; huts.len()];
    let stamp = now.timestamp() % 100_000;
    for i in 0..args.alarms {
        let h = i % huts.len();
        let hut = &huts[h];
        let area = store.area(hut.area)?.ok_or_else(|| anyhow!("hut area"))?;
        let people = store.residents_of(&area.path, (offsets[h] + 20) as u32)?;
        let take: Vec<String> = people
            .iter()
            .skip(offsets[h])
            .take(20)
            .map(|p| p.document.number().to_string())
            .collect();
        offsets[h] += 20;
        if take.is_empty() {
            continue;
        }
        let tube = format!("BA{stamp}-{i:05}");
        let mut events = vec![
            json!({ "seq": 1, "at": now, "type": "open_tube", "tube": tube, "round": round, "site": hut.id }),
        ];
        for (k, d) in take.iter().enumerate() {
            events.push(json!({ "seq": k as i64 + 2, "at": now, "type": "add_person", "tube": tube, "document": d }));
        }
        events.push(
            json!({ "seq": take.len() as i64 + 2, "at": now, "type": "seal_tube", "tube": tube }),
        );
        post(
            "/api/v1/sync".into(),
            json!({ "device": format!("bench-alert-{stamp}-{i}"), "events": events }),
        )
        .await?;
        post("/api/v1/lab/receipts".into(), json!({ "tubes": [tube] })).await?;
        let start = Instant::now();
        post(
            "/api/v1/results".into(),
            json!({ "tube": tube, "outcome": "suspected", "ct": { "orf1ab": 31.0, "n": 32.5 } }),
        )
        .await?;
        let incidents: Value = http
            .get(format!("{base}/api/v1/incidents"))
            .bearer_auth(&tokens.command)
            .send()
            .await?
            .json()
            .await?;
        let inc = incidents
            .as_array()
            .and_then(|a| {
                a.iter().find(|x| {
                    x["area"]["id"].as_i64() == Some(area.id.get()) && x["status"] == "open"
                })
            })
            .and_then(|x| x["id"].as_i64())
            .context("incident not readable after the result returned")?;
        let tasks: Value = http
            .get(format!("{base}/api/v1/incidents/{inc}/tasks"))
            .bearer_auth(&tokens.command)
            .send()
            .await?
            .json()
            .await?;
        let n = tasks.as_array().map_or(0, |t| t.len());
        if n == 0 {
            bail!("incident {inc} has no tasks");
        }
        let took = start.elapsed();
        if offsets[h] == 20 {
            open_times.push(took);
        } else {
            join_times.push(took);
        }
    }
    let _ = stop.send(());
    let _ = server.await;
    let mut all: Vec<Duration> = open_times.iter().chain(&join_times).copied().collect();
    all.sort();
    open_times.sort();
    join_times.sort();
    println!(
        "bench alert: {} residents, {} alarms over {} huts",
        args.residents,
        all.len(),
        huts.len()
    );
    println!(
        "  result posted → incident + tasks readable: p50 {}  p99 {}  max {}",
        ms(pct(&all, 0.5)),
        ms(pct(&all, 0.99)),
        ms(all.last().copied().unwrap_or_default())
    );
    println!(
        "  opening an incident ({}): p50 {}  p99 {}",
        open_times.len(),
        ms(pct(&open_times, 0.5)),
        ms(pct(&open_times, 0.99))
    );
    println!(
        "  joining an open incident ({}): p50 {}  p99 {}",
        join_times.len(),
        ms(pct(&join_times, 0.5)),
        ms(pct(&join_times, 0.99))
    );
    Ok(())
}
