//! Runs the sampling → lab → result flow, person searches by full ID
//! number and CDC's full reads against `gridsweep serve --log debug`, and
//! finds no full ID number or phone anywhere in what it logged.

use gridsweep_domain::Role;
use gridsweep_engine::testsuite::pipeline_fixture;
use gridsweep_storage::{NewPerson, NewUser, Store};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn tokens(
    store: &dyn Store,
    community: gridsweep_domain::AreaId,
) -> HashMap<Role, reqwest::Client> {
    let mut out = HashMap::new();
    for role in [Role::Community, Role::Cdc, Role::Sampler, Role::Lab] {
        let u = store
            .create_user(NewUser {
                username: format!("log-{role}"),
                display_name: "log".into(),
                role,
                scope_area: (!role.is_lab()).then_some(community),
                lab: role.is_lab().then(|| "日志实验室".into()),
                password_hash: None,
                created_at: chrono::Utc::now(),
            })
            .unwrap();
        let (t, _) =
            gridsweep_server::auth::issue_api_token(store, u.id, "log", chrono::Duration::hours(1))
                .unwrap();
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {t}").parse().unwrap(),
        );
        out.insert(role, reqwest::blocking_client(h));
    }
    out
}

mod reqwest {
    pub use ::reqwest::*;
    /// An async client with default headers (the test drives it on a runtime).
    pub fn blocking_client(h: header::HeaderMap) -> Client {
        Client::builder().default_headers(h).build().unwrap()
    }
}

async fn flow(
    base: &str,
    c: &HashMap<Role, reqwest::Client>,
    round: i64,
    site: i64,
    persons: &[NewPerson],
    community: i64,
) {
    let url = |p: &str| format!("{base}{p}");
    let doc = |i: usize| persons[i].document.number().to_string();
    let community_c = &c[&Role::Community];
    for p in &persons[..2] {
        let number = p.document.number();
        let r = community_c
            .get(url(&format!("/api/v1/persons?area={community}&q={number}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = c[&Role::Cdc]
            .get(url(&format!("/api/v1/persons/{}", p.id.0)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        assert!(body.contains(number), "cdc reads in full");
    }
    let s = &c[&Role::Sampler];
    s.post(url("/api/v1/tubes"))
        .json(&json!({ "tube": "LG-0001", "round": round, "site": site }))
        .send()
        .await
        .unwrap();
    for i in 0..4 {
        let r = s
            .post(url("/api/v1/tubes/LG-0001/samples"))
            .json(&json!({ "document": doc(i) }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // A duplicate and a malformed scan: refusals carry the number back, the log must not.
    s.post(url("/api/v1/tubes/LG-0001/samples"))
        .json(&json!({ "document": doc(0) }))
        .send()
        .await
        .unwrap();
    s.post(url("/api/v1/tubes/LG-0001/samples"))
        .json(&json!({ "document": format!("{}X", &doc(1)[..17]) }))
        .send()
        .await
        .unwrap();
    s.post(url("/api/v1/tubes/LG-0001/seal"))
        .send()
        .await
        .unwrap();
    let events: Vec<_> =
        gridsweep_engine::testsuite::device_queue(round, site, "LG-0002", &persons[4..8], 1);
    let r = s
        .post(url("/api/v1/sync"))
        .json(&json!({ "device": "pda-log", "events": events }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.post(url("/api/v1/boxes"))
        .json(&json!({ "box": "LG-BOX", "tubes": ["LG-0001", "LG-0002"] }))
        .send()
        .await
        .unwrap();
    s.post(url("/api/v1/boxes/LG-BOX/handover"))
        .send()
        .await
        .unwrap();
    let lab = &c[&Role::Lab];
    let r = lab
        .post(url("/api/v1/lab/receipts"))
        .json(&json!({ "boxes": ["LG-BOX"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for t in ["LG-0001", "LG-0002"] {
        let r = lab
            .post(url("/api/v1/results"))
            .json(&json!({ "tube": t, "ct": { "orf1ab": 36.5, "n": null } }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // Password login of the first-start admin, and a failed one.
    let anon = reqwest::Client::new();
    for pw in ["log-test-admin-pw", "wrong"] {
        anon.post(url("/api/v1/auth/login"))
            .json(&json!({ "username": "admin", "password": pw }))
            .send()
            .await
            .unwrap();
    }
}

fn run(url: &str, store: &dyn Store, tag: &str) {
    let (round, site, persons, f) = pipeline_fixture(store, 8);
    let clients = tokens(store, f.community);
    let log = std::env::temp_dir().join(format!(
        "gridsweep-debug-log-{tag}-{}.txt",
        std::process::id()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridsweep"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
        .env("GRIDSWEEP_LOG", "debug")
        .env("GRIDSWEEP_ADMIN_PASSWORD", "log-test-admin-pw")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("http://") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "server ended early");
    }
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(flow(
        &base,
        &clients,
        round,
        site,
        &persons,
        f.community.get(),
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("DEBUG"),
        "nothing logged at debug level:\n{text}"
    );
    assert!(
        text.contains("authorized"),
        "requests were not logged:\n{text}"
    );
    for p in &persons {
        let id = p.document.number();
        assert!(!text.contains(id), "full ID number {id} in the log");
        let phone = p.phone.as_ref().unwrap().as_str();
        assert!(!text.contains(phone), "full phone {phone} in the log");
    }
    let _ = std::fs::remove_file(&log);
}

#[test]
fn debug_log_holds_no_full_id_number_or_phone() {
    let dir = std::env::temp_dir().join(format!("gridsweep-debug-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = dir.join("log.db");
    {
        let store = gridsweep_storage_sqlite::SqliteStore::open(&db).unwrap();
        run(&format!("sqlite://{}", db.display()), &store, "sqlite");
    }
    if let Ok(base) = std::env::var("GRIDSWEEP_TEST_DATABASE_URL") {
        let url = gridsweep_storage_postgres::create_scratch_database(
            &base,
            &format!("gs_debug_log_{}", std::process::id()),
        )
        .unwrap();
        let store = gridsweep_storage_postgres::PgStore::connect(&url).unwrap();
        run(&url, &store, "postgres");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
