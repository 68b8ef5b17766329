//! SIGKILL the server in the middle of a stream of device sync batches,
//! restart it on the same database, and find every acknowledged event
//! applied exactly once.

use gridsweep_engine::testsuite::{device_queue, pipeline_fixture};
use gridsweep_storage::pipeline::DeviceEvent;
use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const DEVICES: usize = 6;
const TUBES_PER_DEVICE: usize = 12;
const BATCH: usize = 11;

/// Starts `gridsweep serve` on port 0 and returns it with its base URL.
fn start_server(db: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridsweep"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--log",
            "warn",
            "--database-url",
        ])
        .arg(format!("sqlite://{}", db.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start gridsweep serve");
    // First-start messages may come before the address line.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("http://") {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
    }
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    (child, base)
}

fn batches(events: &[DeviceEvent]) -> Vec<Vec<DeviceEvent>> {
    events.chunks(BATCH).map(|c| c.to_vec()).collect()
}

#[test]
fn acknowledged_sync_events_survive_sigkill_exactly_once() {
    let dir = std::env::temp_dir().join(format!("gridsweep-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = dir.join("crash.db");
    let people = DEVICES * TUBES_PER_DEVICE * 20;
    let (queues, token): (Vec<(String, Vec<DeviceEvent>)>, String) = {
        let store = SqliteStore::open(&db).unwrap();
        let (round, site, persons, f) = pipeline_fixture(&store, people as u32);
        // The devices sync as a sampler with an API token.
        let sampler = store
            .create_user(gridsweep_storage::NewUser {
                username: "pda".into(),
                display_name: "PDA".into(),
                role: gridsweep_domain::Role::Sampler,
                scope_area: Some(f.community),
                lab: None,
                password_hash: None,
                created_at: chrono::Utc::now(),
            })
            .unwrap();
        let (token, _) = gridsweep_server::auth::issue_api_token(
            &store,
            sampler.id,
            "crash test",
            chrono::Duration::hours(1),
        )
        .unwrap();
        let queues = (0..DEVICES)
            .map(|d| {
                let mut events = Vec::new();
                for t in 0..TUBES_PER_DEVICE {
                    let first = (d * TUBES_PER_DEVICE + t) * 20;
                    let seq = events.len() as i64 + 1;
                    events.extend(device_queue(
                        round,
                        site,
                        &format!("K{d:02}-{t:04}"),
                        &persons[first..first + 20],
                        seq,
                    ));
                }
                (format!("pda-{d}"), events)
            })
            .collect();
        (queues, token)
    };
    let client = || {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        reqwest::Client::builder()
            .default_headers(h)
            .build()
            .unwrap()
    };

    let (mut server, base) = start_server(&db);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let acked: Arc<Mutex<HashMap<String, Vec<i64>>>> = Arc::default();
    let acked_batches = Arc::new(AtomicUsize::new(0));
    let total_batches: usize = queues.iter().map(|(_, q)| batches(q).len()).sum();
    let kill_after = total_batches / 3;
    rt.block_on(async {
        let client = client();
        let mut tasks = Vec::new();
        for (device, events) in queues.clone() {
            let (client, base, acked, count) = (
                client.clone(),
                base.clone(),
                acked.clone(),
                acked_batches.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for batch in batches(&events) {
                    let r = client
                        .post(format!("{base}/api/v1/sync"))
                        .json(&json!({ "device": device, "events": batch }))
                        .send()
                        .await;
                    let Ok(r) = r else { return };
                    let Ok(report) = r.json::<Value>().await else {
                        return;
                    };
                    let accepted: Vec<i64> = report["accepted"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_i64().unwrap())
                        .collect();
                    assert_eq!(accepted.len(), batch.len(), "{report}");
                    acked
                        .lock()
                        .unwrap()
                        .entry(device.clone())
                        .or_default()
                        .extend(accepted);
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        while acked_batches.load(Ordering::SeqCst) < kill_after {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        // SIGKILL while other batches are in flight.
        server.kill().unwrap();
        server.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let acked = acked.lock().unwrap().clone();
    let acked_total: usize = acked.values().map(Vec::len).sum();
    let all_events: usize = queues.iter().map(|(_, q)| q.len()).sum();
    eprintln!("killed after {acked_total} of {all_events} events were acknowledged");
    assert!(acked_total > 0 && acked_total < all_events);

    let (mut server, base) = start_server(&db);
    rt.block_on(async {
        let client = client();
        let post = |body: Value| {
            let client = client.clone();
            let base = base.clone();
            async move {
                client
                    .post(format!("{base}/api/v1/sync"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        let tube = |code: String| {
            let client = client.clone();
            let base = base.clone();
            async move {
                client
                    .get(format!("{base}/api/v1/tubes/{code}"))
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        for (device, events) in &queues {
            let mine = acked.get(device).cloned().unwrap_or_default();
            // Every acknowledged event is known, as applied, after the crash.
            let resent: Vec<&DeviceEvent> =
                events.iter().filter(|e| mine.contains(&e.seq)).collect();
            let r = post(json!({ "device": device, "events": resent })).await;
            let accepted: Vec<i64> = serde_json::from_value(r["accepted"].clone()).unwrap();
            assert_eq!(accepted, mine, "{device}: acknowledged events lost");
            let next = r["next_seq"].as_i64().unwrap();
            // And exactly once: each tube holds as many samples as scans applied.
            for t in 0..TUBES_PER_DEVICE {
                let code = format!("K{}-{t:04}", &device[4..].parse::<usize>().map(|d| format!("{d:02}")).unwrap());
                let applied_scans = events
                    .iter()
                    .filter(|e| e.seq < next)
                    .filter(|e| matches!(&e.command, gridsweep_storage::pipeline::Command::AddPerson { tube, .. } if *tube == code))
                    .count();
                let got = tube(code.clone()).await;
                let samples = got["samples"].as_u64().unwrap_or(0) as usize;
                assert_eq!(samples, applied_scans, "{code}: {got}");
            }
            // The device resends its whole queue: everything applies, nothing doubles.
            let r = post(json!({ "device": device, "events": events })).await;
            assert_eq!(r["accepted"].as_array().unwrap().len(), events.len(), "{r}");
        }
        for (device, _) in &queues {
            let d: usize = device[4..].parse().unwrap();
            for t in 0..TUBES_PER_DEVICE {
                let got = tube(format!("K{d:02}-{t:04}")).await;
                assert_eq!(got["samples"], 20);
                assert_eq!(got["status"], "sealed");
            }
        }
    });
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
