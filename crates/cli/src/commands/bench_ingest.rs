//! `gridsweep bench ingest`: simulated devices sync 20-person tubes over
//! HTTP to a server on an SQLite file with a city-sized roster; prints
//! person-scans per second, batch latency, and — in the same run — the raw
//! SQLite insert rate of the same rows with no server (the ceiling).

use anyhow::{Context, Result, bail};
use clap::Args;
use gridsweep_engine::Engine;
use gridsweep_population::GenSpec;
use gridsweep_server::AppState;
use gridsweep_storage::pipeline::{Command, DeviceEvent, NewRound};
use gridsweep_storage::prelude::*;
use gridsweep_storage::{IdKind, NewSite, PopulationBatch, Store};
use gridsweep_storage_sqlite::SqliteStore;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Flags of `gridsweep bench ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Residents on the roster (generated once into --db, then reused).
    #[arg(long, default_value_t = 1_000_000)]
    residents: u64,
    /// Concurrent simulated devices.
    #[arg(long, default_value_t = 64)]
    devices: usize,
    /// 20-person tubes in all (spread over the devices).
    #[arg(long, default_value_t = 6_400)]
    tubes: usize,
    /// Tubes per sync request (a device that was offline sends several).
    #[arg(long, default_value_t = 1)]
    tubes_per_batch: usize,
    /// The SQLite file (default: `gridsweep-bench-<residents>.db` in the temp dir).
    #[arg(long)]
    db: Option<PathBuf>,
}

const PER_TUBE: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the benchmark and prints its figures.
pub fn run(a: IngestArgs) -> Result<()> {
    let db = a.db.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("gridsweep-bench-{}.db", a.residents))
    });
    let store = Arc::new(SqliteStore::open(&db)?);
    let have = store.stats()?.persons as u64;
    if have == 0 {
        println!(
            "generating {} residents into {} (once; reused next time)",
            a.residents,
            db.display()
        );
        super::generate::run(
            &*store,
            GenSpec {
                seed: 613,
                people: a.residents,
            },
        )?;
    } else if have < a.residents {
        bail!(
            "{} holds {have} residents, fewer than {}; pass a fresh --db",
            db.display(),
            a.residents
        );
    }
    let scans = a.tubes * PER_TUBE;
    let docs = store.sample_documents(scans * 2)?;
    let (server_docs, raw_docs) = docs.split_at(scans);

    // A round and a site for this run; barcodes unique per run.
    let run_id = chrono::Utc::now().format("%H%M%S").to_string();
    let root = store
        .roots()?
        .into_iter()
        .next()
        .context("no district in the database")?;
    let site = store.allocate_ids(IdKind::Site, 1)?;
    store.write_population(&PopulationBatch {
        sites: vec![NewSite {
            id: site,
            area: root.id,
            area_path: root.path.clone(),
            kind: gridsweep_domain::SiteKind::Hut,
            name: format!("bench {run_id}"),
        }],
        ..Default::default()
    })?;
    let now = chrono::Utc::now();
    let round = store.create_round(NewRound {
        name: format!("bench {run_id}"),
        pool_size: 20,
        starts_at: now - chrono::Duration::hours(1),
        ends_at: now + chrono::Duration::days(1),
        areas: vec![root.id],
    })?;

    // The devices sync as a sampler account scoped to the district.
    let sampler = store.create_user(gridsweep_storage::NewUser {
        username: format!("bench-sampler-{run_id}"),
        display_name: "bench".into(),
        role: gridsweep_domain::Role::Sampler,
        scope_area: Some(root.id),
        lab: None,
        password_hash: None,
        created_at: now,
    })?;
    let (token, _) = gridsweep_server::auth::issue_api_token(
        &*store,
        sampler.id,
        "bench",
        chrono::Duration::hours(12),
    )?;
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );

    // Each device's queue: per tube, open + 20 scans + seal.
    let mut queues: Vec<Vec<DeviceEvent>> = vec![Vec::new(); a.devices];
    for (t, persons) in server_docs.chunks(PER_TUBE).enumerate() {
        let q = &mut queues[t % a.devices];
        let code = format!("B{run_id}-{t:06}");
        let mut push = |command| {
            let seq = q.len() as i64 + 1;
            q.push(DeviceEvent {
                seq,
                at: now,
                command,
            });
        };
        push(Command::OpenTube {
            tube: code.clone(),
            round: round.id,
            site,
            kind: gridsweep_domain::pipeline::TubeKind::Human,
            capacity: None,
        });
        for d in persons {
            push(Command::AddPerson {
                tube: code.clone(),
                document: Some(d.clone()),
                document_kind: None,
                qr: None,
            });
        }
        push(Command::SealTube { tube: code.clone() });
    }
    let batch_events = a.tubes_per_batch.max(1) * (PER_TUBE + 2);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let run_ref = &run_id;
    let server_store = store.clone() as Arc<dyn Store>;
    let (elapsed, mut latencies, accepted, rejected) = rt.block_on(async move {
        let run_id = run_ref;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = AppState::new(Engine::new(server_store));
        tokio::spawn(async move {
            let _ = gridsweep_server::serve(listener, state, std::future::pending()).await;
        });
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(a.devices)
            .default_headers(auth)
            .build()?;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (d, q) in queues.into_iter().enumerate() {
            let (client, base) = (client.clone(), base.clone());
            let device = format!("bench-{run_id}-{d}");
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let (mut acc, mut rej) = (0usize, 0usize);
                for batch in q.chunks(batch_events) {
                    let t0 = Instant::now();
                    let r: serde_json::Value = client
                        .post(format!("{base}/api/v1/sync"))
                        .json(&json!({ "device": device, "events": batch }))
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    lat.push(t0.elapsed());
                    acc += r["accepted"].as_array().map_or(0, Vec::len);
                    rej += r["rejected"].as_array().map_or(0, Vec::len);
                }
                Ok::<_, anyhow::Error>((lat, acc, rej))
            }));
        }
        let mut lat = Vec::new();
        let (mut acc, mut rej) = (0, 0);
        for t in tasks {
            let (l, a, r) = t.await??;
            lat.extend(l);
            acc += a;
            rej += r;
        }
        Ok::<_, anyhow::Error>((started.elapsed(), lat, acc, rej))
    })?;
    drop(rt);
    if rejected > 0 {
        bail!("{rejected} events were rejected; the benchmark data is inconsistent");
    }
    latencies.sort();
    let scans_per_s = scans as f64 / elapsed.as_secs_f64();

    let raw = store.insert_ceiling(
        round.id,
        site,
        &format!("R{run_id}-"),
        raw_docs,
        PER_TUBE,
        a.devices,
    )?;
    let raw_per_s = scans as f64 / raw.as_secs_f64();

    println!(
        "bench ingest: {} residents, {} devices, {} tubes x {PER_TUBE} = {scans} person-scans, {} tube(s) per request",
        have.max(a.residents),
        a.devices,
        a.tubes,
        a.tubes_per_batch
    );
    println!("  database           {}", db.display());
    println!("  events accepted    {accepted}");
    println!("  wall time          {:.2} s", elapsed.as_secs_f64());
    println!(
        "  person-scans/s     {scans_per_s:.0}  (over HTTP, server and devices in this process)"
    );
    println!(
        "  batch latency      p50 {:.1} ms, p99 {:.1} ms ({} requests)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
    println!(
        "  ceiling (raw SQLite insert of the same rows, {} tubes per transaction): {raw_per_s:.0} person-scans/s",
        a.devices
    );
    println!("  ratio to ceiling   {:.2}", scans_per_s / raw_per_s);
    Ok(())
}
