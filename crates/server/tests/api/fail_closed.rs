//! The authorisation layer fails closed: one test per finding of the
//! independent probe (content types, padded barcodes, waiting sync events,
//! marks, streams after disable, incident rounds, unbounded error reports,
//! refusals on a kept-alive connection, tokens, sequence reuse, password
//! change, attribution, security headers, members outside a scope).

use crate::auth::{World, world};
use crate::common::{TestServer, bearer_client, blocking, error_code, role_accounts, stores};
use gridsweep_domain::pipeline::TubeStatus;
use gridsweep_domain::{AreaId, Role};
use gridsweep_storage::pipeline::NewRound;
use gridsweep_storage::{NewUser, Store};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A server over the matrix world, with accounts of every role scoped to
/// 瓦屋李社区 (`inside`) and to 翡翠华庭社区 (`outside`).
struct Setup {
    srv: TestServer,
    w: World,
    inside: HashMap<Role, String>,
    outside: HashMap<Role, String>,
    ids: HashMap<Role, i64>,
}

async fn setup(store: Arc<dyn Store>) -> Setup {
    let w = blocking(|| world(&store));
    let srv = TestServer::start(store.clone()).await;
    let (inside, ids) = blocking(|| role_accounts(&*store, Some(w.f.community), "-in"));
    let (outside, _) = blocking(|| role_accounts(&*store, Some(w.f.other_community), "-out"));
    Setup {
        srv,
        w,
        inside,
        outside,
        ids,
    }
}

impl Setup {
    fn as_in(&self, role: Role) -> reqwest::Client {
        bearer_client(&self.inside[&role])
    }
    fn as_out(&self, role: Role) -> reqwest::Client {
        bearer_client(&self.outside[&role])
    }
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.srv.base)
    }
    fn tube(&self, code: &str) -> Option<gridsweep_storage::pipeline::TubeRow> {
        let st = self.srv.store.clone();
        let code = code.to_string();
        blocking(move || st.tube(&code).unwrap())
    }
    fn document(&self, person: i64) -> String {
        let st = self.srv.store.clone();
        blocking(move || {
            st.person(gridsweep_domain::PersonId(person))
                .unwrap()
                .unwrap()
                .document
                .number()
                .to_string()
        })
    }
}

async fn send_raw(
    client: &reqwest::Client,
    url: &str,
    content_type: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut req = client.post(url).body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    send_raw(client, url, Some("application/json"), &body).await
}

/// Content types the handler reads as JSON, and some it does not.
const JSON_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.x+json",
    "APPLICATION/JSON",
    "Application/Json; charset=utf-8",
    "application/merge-patch+JSON",
    " application/json ",
];
const OTHER_TYPES: &[&str] = &["text/plain", "application/x-www-form-urlencoded", "json"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_type_never_skips_the_scope_check() {
    for store in stores("fc-ctype") {
        let t = setup(store).await;
        let w = &t.w;
        let incidents_before = blocking(|| t.srv.engine.incidents().unwrap().len());
        for (n, ct) in JSON_TYPES
            .iter()
            .map(|c| Some(*c))
            .chain(OTHER_TYPES.iter().map(|c| Some(*c)))
            .chain([None])
            .enumerate()
        {
            let is_json = ct.is_some_and(|c| JSON_TYPES.contains(&c));
            let expect = if is_json { 403 } else { 415 };
            let tube = format!("FC-CT{n}");
            // A sampler opening a tube at another community's site.
            let body = json!({ "tube": tube, "round": w.round[1], "site": w.site[1] });
            let (s, b) =
                send_raw(&t.as_in(Role::Sampler), &t.url("/api/v1/tubes"), ct, &body).await;
            assert_eq!(s, expect, "{ct:?}: {b}");
            assert!(t.tube(&tube).is_none(), "{ct:?} opened {tube}");
            // A sampler's device posting lab steps; a lab's device sampling.
            let batch = json!({ "device": "ct", "events": [
                { "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "receive", "tubes": [w.tube[0]] },
                { "seq": 2, "at": "2022-06-13T04:00:00Z", "type": "post_result", "tube": w.tube[0], "outcome": "positive" } ] });
            let (s, b) =
                send_raw(&t.as_in(Role::Sampler), &t.url("/api/v1/sync"), ct, &batch).await;
            assert_eq!(s, expect, "{ct:?}: {b}");
            let batch = json!({ "device": "ct", "events": [
                { "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "open_tube", "tube": tube, "round": w.round[0], "site": w.site[0] } ] });
            let (s, b) = send_raw(&t.as_in(Role::Lab), &t.url("/api/v1/sync"), ct, &batch).await;
            assert_eq!(s, expect, "{ct:?}: {b}");
            assert!(t.tube(&tube).is_none(), "{ct:?}: lab opened {tube}");
            // Boxing another community's tube; ordering a round elsewhere.
            let body = json!({ "box": format!("FC-BX{n}"), "tubes": [w.tube[1]] });
            let (s, b) =
                send_raw(&t.as_in(Role::Sampler), &t.url("/api/v1/boxes"), ct, &body).await;
            assert_eq!(s, expect, "{ct:?}: {b}");
            let body = json!({ "name": "elsewhere", "pool_size": 20, "starts_at": "2022-06-13T00:00:00Z",
                               "ends_at": "2022-06-14T00:00:00Z", "areas": [w.f.other_community.get()] });
            let (s, b) = send_raw(
                &t.as_in(Role::Subdistrict),
                &t.url("/api/v1/rounds"),
                ct,
                &body,
            )
            .await;
            assert_eq!(s, expect, "{ct:?}: {b}");
        }
        assert_eq!(
            blocking(|| t.srv.engine.incidents().unwrap().len()),
            incidents_before,
            "no incident opened by a refused result"
        );
        assert_eq!(
            t.tube(&w.tube[1]).unwrap().box_barcode.as_deref(),
            Some("MX-B1")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_padded_or_unknown_barcode_is_checked_as_the_pipeline_reads_it() {
    for store in stores("fc-pad") {
        let t = setup(store).await;
        let w = &t.w;
        // Another community opens a tube at its own site.
        let (s, b) = post(
            &t.as_out(Role::Sampler),
            &t.url("/api/v1/tubes"),
            json!({ "tube": "FC-OPEN", "round": w.round[1], "site": w.site[1] }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let me = t.as_in(Role::Sampler);
        for padded in ["%20FC-OPEN", "FC-OPEN%20", "%09FC-OPEN", "%20%20FC-OPEN%09"] {
            let r = me
                .get(t.url(&format!("/api/v1/tubes/{padded}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "GET {padded}");
            let (s, b) = post(
                &me,
                &t.url(&format!("/api/v1/tubes/{padded}/samples")),
                json!({ "document": t.document(w.person[0]) }),
            )
            .await;
            assert_eq!(s, 403, "samples {padded}: {b}");
            let (s, b) = post(
                &me,
                &t.url(&format!("/api/v1/tubes/{padded}/seal")),
                json!({}),
            )
            .await;
            assert_eq!(s, 403, "seal {padded}: {b}");
        }
        let (s, b) = post(
            &me,
            &t.url("/api/v1/sync"),
            json!({ "device": "pad", "events": [
                { "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "seal_tube", "tube": " FC-OPEN" } ] }),
        )
        .await;
        assert_eq!(s, 403, "{b}");
        let tube = t.tube("FC-OPEN").unwrap();
        assert_eq!((tube.status, tube.samples), (TubeStatus::Open, 0));
        // The own tube, padded, is the own tube.
        let r = me
            .get(t.url(&format!("/api/v1/tubes/%20{}", w.tube[0])))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // A tube no one opened: refused, not passed through.
        let r = me
            .get(t.url("/api/v1/tubes/NOBODY-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let (s, b) = post(&me, &t.url("/api/v1/tubes/NOBODY-1/seal"), json!({})).await;
        assert_eq!((s, error_code(&b).as_str()), (404, "tube_unknown"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_event_is_checked_when_it_is_applied() {
    for store in stores("fc-wait") {
        let t = setup(store).await;
        let w = &t.w;
        let me = t.as_in(Role::Sampler);
        let doc = t.document(w.person[0]);
        // Seq 2 arrives first: a scan into a tube that does not exist yet.
        let (s, b) = post(
            &me,
            &t.url("/api/v1/sync"),
            json!({ "device": "pda", "events": [
                { "seq": 2, "at": "2022-06-13T04:01:00Z", "type": "add_person", "tube": "FC-W", "document": doc } ] }),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["pending"], json!([2]), "{b}");
        // Meanwhile another community opens that barcode at its site.
        let (s, b) = post(
            &t.as_out(Role::Sampler),
            &t.url("/api/v1/tubes"),
            json!({ "tube": "FC-W", "round": w.round[1], "site": w.site[1] }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        // Seq 1 fills the gap; seq 2 is applied now, and checked now.
        let (s, b) = post(
            &me,
            &t.url("/api/v1/sync"),
            json!({ "device": "pda", "events": [
                { "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "open_tube", "tube": "FC-MINE", "round": w.round[0], "site": w.site[0] } ] }),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["accepted"], json!([1]), "{b}");
        assert_eq!(b["rejected"][0]["seq"], 2, "{b}");
        assert_eq!(b["rejected"][0]["code"], "forbidden", "{b}");
        assert_eq!(t.tube("FC-W").unwrap().samples, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_reach_only_the_residents_in_scope() {
    for store in stores("fc-marks") {
        let t = setup(store).await;
        let w = &t.w;
        let st = t.srv.store.clone();
        let district = w.f.district;
        let round = blocking(move || {
            st.create_round(NewRound {
                name: "全区".into(),
                pool_size: 10,
                starts_at: chrono::Utc::now() - chrono::Duration::hours(1),
                ends_at: chrono::Utc::now() + chrono::Duration::days(1),
                areas: vec![district],
            })
            .unwrap()
            .id
        });
        let url = t.url(&format!("/api/v1/rounds/{round}/marks"));
        let (s, b) = post(
            &t.as_in(Role::Community),
            &url,
            json!({ "person": w.person[1], "kind": "away" }),
        )
        .await;
        assert_eq!(s, 403, "a resident of another community: {b}");
        let (s, b) = post(
            &t.as_in(Role::Community),
            &url,
            json!({ "person": w.person[0], "kind": "away" }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = post(
            &t.as_out(Role::Community),
            &url,
            json!({ "person": w.person[1], "kind": "hospitalised", "note": "住院 3 床" }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let seen = get_json(&t.as_in(Role::Community), &url).await;
        let people: Vec<i64> = seen
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["person"].as_i64().unwrap())
            .collect();
        assert_eq!(people, vec![w.person[0]], "{seen}");
        // The mark names the account that made it.
        assert!(seen[0]["by"].as_str().unwrap().contains("-in"), "{seen}");
    }
}

/// Reads what a stream sends until it ends or `limit` passes; returns the
/// text and whether the server ended it.
async fn drain(mut r: reqwest::Response, limit: std::time::Duration) -> (String, bool) {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, r.chunk()).await {
            Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
            Ok(Ok(None)) | Ok(Err(_)) => return (text, true),
            Err(_) => return (text, false),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_ends_with_its_account_or_session() {
    for store in stores("fc-stream") {
        let t = setup(store).await;
        let w = &t.w;
        let events = t.url("/api/v1/events");
        let open = t.as_in(Role::Command).get(&events).send().await.unwrap();
        assert_eq!(open.status(), 200);
        let reader = tokio::spawn(drain(open, std::time::Duration::from_secs(20)));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (s, b) = post(
            &t.srv.client_as(Role::Admin),
            &t.url(&format!("/api/v1/users/{}/disable", t.ids[&Role::Command])),
            json!({}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        for i in 0..11 {
            let (s, b) = post(
                &t.as_in(Role::Sampler),
                &t.url("/api/v1/tubes"),
                json!({ "tube": format!("FC-EV{i}"), "round": w.round[0], "site": w.site[0] }),
            )
            .await;
            assert_eq!(s, 201, "{b}");
        }
        let (text, ended) = reader.await.unwrap();
        assert!(ended, "the stream outlived the disabled account");
        assert!(
            !text.contains("FC-EV"),
            "events reached a disabled account: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incidents_retest_round_is_readable_by_its_people() {
    for store in stores("fc-retest") {
        let t = setup(store).await;
        let (_, inc) = t
            .srv
            .get(&format!("/api/v1/incidents/{}", t.w.incident[0]))
            .await;
        let retest = inc["retest_round"].as_i64().expect("retest round");
        for role in [Role::Command, Role::Cdc, Role::Community] {
            let r = t
                .as_in(role)
                .get(t.url(&format!("/api/v1/rounds/{retest}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{role}");
            let r = t
                .as_in(role)
                .get(t.url(&format!("/api/v1/rounds/{retest}/marks")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{role} marks");
        }
        let r = t
            .as_out(Role::Community)
            .get(t.url(&format!("/api/v1/rounds/{retest}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "another community");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sheet_of_bad_rows_gets_a_bounded_answer() {
    for store in stores("fc-sheet") {
        let t = setup(store).await;
        let mut csv = String::from("管号,结果\n");
        for i in 0..100_000 {
            csv.push_str(&format!("BAD TUBE {i},大概\n"));
        }
        let r = t
            .as_in(Role::Lab)
            .post(t.url("/api/v1/results/import"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let text = r.text().await.unwrap();
        assert!(text.len() < 200_000, "answer of {} bytes", text.len());
        let b: Value = serde_json::from_str(&text).unwrap();
        let d = &b["error"]["details"];
        assert_eq!(d["rows_bad"], 100_000, "{d}");
        let max = d["max_listed_errors"].as_u64().unwrap();
        assert!(max > 0 && d["errors"].as_array().unwrap().len() as u64 <= max);
    }
}

/// One HTTP/1.1 answer read off a raw connection: status, headers (lower
/// case), body; `None` when the connection ended instead.
async fn read_answer(
    r: &mut tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> Option<(u16, HashMap<String, String>, Vec<u8>)> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut line = String::new();
    if r.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.ok()?;
    Some((status, headers, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_leaves_a_reused_connection_usable() {
    use tokio::io::AsyncWriteExt;
    for store in stores("fc-keepalive") {
        let t = setup(store).await;
        let addr = t.srv.base.trim_start_matches("http://").to_string();
        let token = t.inside[&Role::Sampler].clone();
        let mut kept = 0;
        for size in [64 * 1024, 1024 * 1024, 16 * 1024 * 1024] {
            for (path, auth) in [
                // Refused by role before the body is read (a sampler is no lab).
                (
                    "/api/v1/lab/receipts",
                    format!("authorization: Bearer {token}\r\n"),
                ),
                // Refused for want of credentials.
                ("/api/v1/tubes", String::new()),
            ] {
                for _ in 0..3 {
                    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
                    let (rd, mut wr) = stream.into_split();
                    let mut rd = tokio::io::BufReader::new(rd);
                    let head = format!(
                        "POST {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {size}\r\n\r\n"
                    );
                    let writer = tokio::spawn(async move {
                        let body = vec![b' '; size];
                        let _ = wr.write_all(head.as_bytes()).await;
                        let _ = wr.write_all(&body).await;
                        wr
                    });
                    let (status, headers, _) = read_answer(&mut rd).await.expect("an answer");
                    assert!(status == 401 || status == 403, "{path}: {status}");
                    let mut wr = writer.await.unwrap();
                    let closing = headers
                        .get("connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    if closing {
                        // Announced: the client opens a new connection.
                        assert!(
                            size > 1024 * 1024,
                            "a {size}-byte body should be drained, not closed"
                        );
                        continue;
                    }
                    // Not announced: the same connection must serve the next request.
                    wr.write_all(
                        format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes(),
                    )
                    .await
                    .expect("the connection is still open");
                    let next = read_answer(&mut rd).await;
                    assert_eq!(
                        next.map(|a| a.0),
                        Some(200),
                        "{path} with {size} bytes: the next request failed"
                    );
                    kept += 1;
                }
            }
        }
        assert!(kept >= 12, "only {kept} connections kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_issues_tokens_only_for_service_accounts_and_itself() {
    for store in stores("fc-tokens") {
        let t = setup(store).await;
        let admin = t.srv.client_as(Role::Admin);
        let url = t.url("/api/v1/tokens");
        for role in [Role::Cdc, Role::Command, Role::Community, Role::GridWorker] {
            let (s, b) = post(&admin, &url, json!({ "user": t.ids[&role], "name": "x" })).await;
            assert_eq!(
                (s, error_code(&b).as_str()),
                (403, "token_not_allowed"),
                "{role}"
            );
        }
        for id in [
            t.ids[&Role::Sampler],
            t.ids[&Role::Lab],
            t.srv.users[&Role::Admin],
        ] {
            let (s, b) = post(&admin, &url, json!({ "user": id, "name": "device" })).await;
            assert_eq!(s, 201, "{b}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_sequence_number_is_refused_with_its_own_code() {
    for store in stores("fc-seq") {
        let t = setup(store).await;
        let w = &t.w;
        let me = t.as_in(Role::Sampler);
        let ev = |tube: &str| {
            json!({ "device": "pda", "events": [
                { "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "open_tube", "tube": tube, "round": w.round[0], "site": w.site[0] } ] })
        };
        let (s, b) = post(&me, &t.url("/api/v1/sync"), ev("FC-S1")).await;
        assert_eq!((s, b["accepted"].clone()), (200, json!([1])), "{b}");
        let (s, b) = post(&me, &t.url("/api/v1/sync"), ev("FC-S1")).await;
        assert_eq!(
            (s, b["accepted"].clone()),
            (200, json!([1])),
            "the same resend: {b}"
        );
        let (s, b) = post(&me, &t.url("/api/v1/sync"), ev("FC-S2")).await;
        assert_eq!(s, 200);
        assert_eq!(b["rejected"][0]["code"], "sequence_reused", "{b}");
        assert!(t.tube("FC-S2").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_accounts_tokens() {
    for store in stores("fc-pw") {
        let t = setup(store).await;
        let st = t.srv.store.clone();
        let community = t.w.f.community;
        let token = blocking(move || {
            let hash = gridsweep_server::auth::hash_password("old-password-1").unwrap();
            let u = st
                .create_user(NewUser {
                    username: "pwuser".into(),
                    display_name: "pw".into(),
                    role: Role::Sampler,
                    scope_area: Some(community),
                    lab: None,
                    password_hash: Some(hash),
                    created_at: chrono::Utc::now(),
                })
                .unwrap();
            gridsweep_server::auth::issue_api_token(&*st, u.id, "pda", chrono::Duration::days(1))
                .unwrap()
                .0
        });
        let me = t.url("/api/v1/auth/me");
        assert_eq!(
            bearer_client(&token)
                .get(&me)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let r = t
            .srv
            .client
            .post(t.url("/api/v1/auth/login"))
            .json(&json!({ "username": "pwuser", "password": "old-password-1" }))
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let b: Value = r.json().await.unwrap();
        let r = t
            .srv
            .client
            .post(t.url("/api/v1/auth/password"))
            .header("cookie", &cookie)
            .header("x-csrf-token", b["csrf_token"].as_str().unwrap())
            .json(
                &json!({ "current_password": "old-password-1", "new_password": "new-password-22" }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            bearer_client(&token)
                .get(&me)
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribution_is_the_account_and_free_text_only_a_title() {
    for store in stores("fc-by") {
        let t = setup(store).await;
        let inc = t.w.incident[0];
        let (s, b) = post(
            &t.as_in(Role::Command),
            &t.url(&format!("/api/v1/incidents/{inc}/timeline")),
            json!({ "kind": "note", "text": "到场", "by": "区疫情指挥部 指挥长" }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = post(
            &t.as_in(Role::Command),
            &t.url(&format!("/api/v1/incidents/{inc}/timeline")),
            json!({ "kind": "note", "text": "无署名" }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let d = get_json(
            &t.as_in(Role::Command),
            &t.url(&format!("/api/v1/incidents/{inc}")),
        )
        .await;
        let actors: Vec<&str> = d["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "note")
            .map(|e| e["actor"].as_str().unwrap())
            .collect();
        assert_eq!(
            actors,
            ["区疫情指挥部 指挥长 (test-command-in)", "test-command-in"],
            "{d}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_reports_carry_security_headers_and_openapi_lists_415() {
    for store in stores("fc-headers") {
        let t = setup(store).await;
        for path in ["/", "/ui/app.js", "/api/v1/openapi.json", "/healthz"] {
            let r = t.srv.client.get(t.url(path)).send().await.unwrap();
            let h = r.headers();
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
            assert!(
                h["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("frame-ancestors 'none'"),
                "{path}"
            );
        }
        let r = t
            .as_in(Role::Command)
            .get(t.url(&format!(
                "/api/v1/incidents/{}/report/html",
                t.w.incident[0]
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'self'"),
            "{csp}"
        );
        let (_, doc) = t.srv.get("/api/v1/openapi.json").await;
        for (path, method) in [
            ("/api/v1/tubes", "post"),
            ("/api/v1/sync", "post"),
            ("/api/v1/rounds", "post"),
        ] {
            assert!(
                doc["paths"][path][method]["responses"]["415"].is_object(),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_outside_a_grid_workers_scope_show_by_family_name_only() {
    for store in stores("fc-members") {
        let t = setup(store).await;
        let st = t.srv.store.clone();
        // A grid worker whose scope holds the incident's community only in
        // part: the second household, not the member's.
        let other_home: AreaId = t.w.f.households[1];
        let (tokens, _) = blocking(move || role_accounts(&*st, Some(other_home), "-gw"));
        let d = get_json(
            &bearer_client(&tokens[&Role::GridWorker]),
            &t.url(&format!("/api/v1/incidents/{}", t.w.incident[0])),
        )
        .await;
        let members = d["members"].as_array().expect("members");
        assert!(!members.is_empty(), "{d}");
        for m in members {
            let name = m["person"]["name"].as_str().unwrap();
            assert!(name.ends_with('*'), "{name} shown in full");
            assert_eq!(m["address"], "", "{m}");
        }
        // Command, whose scope holds them, sees them in full.
        let d = get_json(
            &t.as_in(Role::Command),
            &t.url(&format!("/api/v1/incidents/{}", t.w.incident[0])),
        )
        .await;
        assert!(
            d["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| !m["person"]["name"].as_str().unwrap().ends_with('*'))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_character_is_refused_at_the_edge_on_every_backend() {
    for store in stores("fc-nul") {
        let t = setup(store).await;
        let (s, b) = post(
            &t.srv.client,
            &t.url("/api/v1/auth/login"),
            json!({ "username": "admin\u{0}", "password": "x" }),
        )
        .await;
        assert_eq!((s, error_code(&b).as_str()), (422, "invalid_text"), "{b}");
        assert_eq!(b["error"]["field"], "username");
        let (s, b) = post(
            &t.as_in(Role::Sampler),
            &t.url("/api/v1/sync"),
            json!({ "device": "nul", "events": [
                { "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "add_point", "tube": "FC-N1", "point": "门把手\u{0}" } ] }),
        )
        .await;
        assert_eq!((s, error_code(&b).as_str()), (422, "invalid_text"), "{b}");
        assert_eq!(b["error"]["field"], "events.0.point");
        let r = t
            .as_in(Role::Command)
            .get(t.url(&format!("/api/v1/persons?area={}&q=%00", t.w.f.community)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_ends_its_event_streams() {
    for store in stores("fc-stop") {
        let mut t = setup(store).await;
        let open = t
            .as_in(Role::Command)
            .get(t.url("/api/v1/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(open.status(), 200);
        let reader = tokio::spawn(drain(open, std::time::Duration::from_secs(20)));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let asked = std::time::Instant::now();
        t.srv.stop();
        let (_, ended) = reader.await.unwrap();
        assert!(ended, "the stream outlived the server's stop");
        println!("stream ended {:?} after the stop", asked.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_adds_residents_only_within_the_importers_scope() {
    use gridsweep_engine::testsuite::resident_id;
    for store in stores("fc-roster") {
        let t = setup(store).await;
        let persons = || blocking(|| t.srv.store.stats().unwrap().persons);
        let before = persons();
        let csv = format!(
            "姓名,身份证号,手机号,性别,街道,社区,网格,小区,楼栋,单元,房号\r\n\
             王新,{},13812345678,,梧桐街办事处,瓦屋李社区,,瓦屋李新居,1号楼,1单元,103\r\n\
             李外,{},13812345679,,梧桐街办事处,翡翠华庭社区,,,8号楼,2单元,302\r\n",
            resident_id(777).as_str(),
            resident_id(779).as_str()
        );
        let send = |skip: bool| {
            t.as_in(Role::Command)
                .post(t.url(&format!("/api/v1/residents/import?skip_bad_rows={skip}")))
                .header("content-type", "text/csv")
                .body(csv.clone())
                .send()
        };
        let r = send(false).await.unwrap();
        assert_eq!(r.status(), 422);
        let b: Value = r.json().await.unwrap();
        let errors = b["error"]["details"]["errors"].as_array().unwrap().clone();
        assert_eq!(errors.len(), 1, "{b}");
        assert_eq!(errors[0]["row"], 3);
        assert!(
            errors[0]["reason"]
                .as_str()
                .unwrap()
                .contains("outside your scope")
        );
        assert_eq!(persons(), before, "nothing written");
        let r = send(true).await.unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(persons(), before + 1, "only the row in scope");
    }
}
