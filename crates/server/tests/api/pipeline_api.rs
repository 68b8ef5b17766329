//! Sampling → lab → results over HTTP: every step, every refusal with its
//! status and code, device sync, the live stream, roster import.

use crate::common::{TestServer, blocking, error_code, stores};
use gridsweep_engine::testsuite::{device_queue, pipeline_fixture};
use serde_json::{Value, json};

impl TestServer {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client_for("post", path)
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

/// Asserts a refusal: status and stable code.
fn refused(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(
        (got.0, error_code(&got.1).as_str()),
        (status, code),
        "{}",
        got.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_life_cycle_and_every_refusal() {
    for store in stores("life") {
        let (round, site, persons, _) = blocking(|| pipeline_fixture(&*store, 21));
        let srv = TestServer::start(store.clone()).await;
        let doc = |i: usize| json!({ "document": persons[i].document.number() });

        let (s, b) = srv
            .post(
                "/api/v1/tubes",
                json!({ "tube": "GS-0001", "round": round, "site": site }),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        refused(
            srv.post(
                "/api/v1/tubes",
                json!({ "tube": "GS-0001", "round": round, "site": site }),
            )
            .await,
            409,
            "tube_exists",
        );
        refused(
            srv.post(
                "/api/v1/tubes",
                json!({ "tube": "GS 1", "round": round, "site": site }),
            )
            .await,
            422,
            "invalid_identifier",
        );
        refused(
            srv.post(
                "/api/v1/tubes",
                json!({ "tube": "GS-0002", "round": 777, "site": site }),
            )
            .await,
            404,
            "round_unknown",
        );
        refused(
            srv.post(
                "/api/v1/tubes",
                json!({ "tube": "GS-0002", "round": round, "site": 777 }),
            )
            .await,
            404,
            "site_unknown",
        );
        refused(
            srv.post(
                "/api/v1/tubes",
                json!({ "tube": "GS-0002", "round": round, "site": site, "capacity": 30 }),
            )
            .await,
            422,
            "bad_capacity",
        );
        refused(
            srv.post("/api/v1/tubes", json!({ "round": round })).await,
            400,
            "invalid_body",
        );

        for i in 0..20 {
            let (s, b) = srv.post("/api/v1/tubes/GS-0001/samples", doc(i)).await;
            assert_eq!(s, 201, "{b}");
            assert_eq!(b["effects"][0]["samples"], i + 1);
        }
        refused(
            srv.post("/api/v1/tubes/GS-0001/samples", doc(3)).await,
            409,
            "duplicate_sample",
        );
        refused(
            srv.post("/api/v1/tubes/GS-0001/samples", doc(20)).await,
            409,
            "tube_full",
        );
        refused(
            srv.post("/api/v1/tubes/GS-9999/samples", doc(20)).await,
            404,
            "tube_unknown",
        );
        let mut wrong = persons[20].document.number().to_string();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '3' { '4' } else { '3' });
        let got = srv
            .post(
                "/api/v1/tubes/GS-0001/samples",
                json!({ "document": wrong }),
            )
            .await;
        refused(got.clone(), 422, "invalid_identifier");
        assert_eq!(got.1["error"]["field"], "document");
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("check"),
            "{}",
            got.1
        );
        refused(
            srv.post("/api/v1/tubes/GS-0001/samples", json!({})).await,
            400,
            "invalid_field",
        );
        refused(
            srv.post(
                "/api/v1/tubes/GS-0001/samples",
                json!({ "document": gridsweep_engine::testsuite::resident_id(999).as_str() }),
            )
            .await,
            404,
            "person_unknown",
        );

        // A result for a tube no one opened; for one the lab has not received.
        refused(
            srv.post(
                "/api/v1/results",
                json!({ "tube": "NOPE-1", "outcome": "negative" }),
            )
            .await,
            404,
            "tube_unknown",
        );
        refused(
            srv.post(
                "/api/v1/results",
                json!({ "tube": "GS-0001", "outcome": "negative" }),
            )
            .await,
            409,
            "tube_not_received",
        );
        refused(
            srv.post("/api/v1/lab/receipts", json!({ "tubes": ["GS-0001"] }))
                .await,
            409,
            "tube_not_sealed",
        );
        refused(
            srv.post(
                "/api/v1/boxes",
                json!({ "box": "BX-01", "tubes": ["GS-0001"] }),
            )
            .await,
            409,
            "tube_not_sealed",
        );

        let (s, b) = srv.post("/api/v1/tubes/GS-0001/seal", json!({})).await;
        assert_eq!(s, 200, "{b}");
        refused(
            srv.post("/api/v1/tubes/GS-0001/seal", json!({})).await,
            409,
            "tube_not_open",
        );
        refused(
            srv.post("/api/v1/tubes/GS-0001/samples", doc(20)).await,
            409,
            "tube_not_open",
        );

        assert_eq!(
            srv.post(
                "/api/v1/boxes",
                json!({ "box": "BX-01", "tubes": ["GS-0001"] })
            )
            .await
            .0,
            200
        );
        refused(
            srv.post("/api/v1/boxes/BX-99/handover", json!({})).await,
            404,
            "box_unknown",
        );
        assert_eq!(
            srv.post("/api/v1/boxes/BX-01/handover", json!({})).await.0,
            200
        );
        refused(
            srv.post("/api/v1/boxes/BX-01/handover", json!({})).await,
            409,
            "box_closed",
        );
        let (s, b) = srv
            .post("/api/v1/lab/receipts", json!({ "boxes": ["BX-01"] }))
            .await;
        assert_eq!(s, 200, "{b}");
        refused(
            srv.post("/api/v1/lab/receipts", json!({ "tubes": ["GS-0001"] }))
                .await,
            409,
            "already_received",
        );

        refused(
            srv.post(
                "/api/v1/results",
                json!({ "tube": "GS-0001", "ct": { "orf1ab": 99 } }),
            )
            .await,
            400,
            "invalid_field",
        );
        let (s, b) = srv
            .post(
                "/api/v1/results",
                json!({ "tube": "GS-0001", "ct": { "orf1ab": 36.5, "n": 37.0 } }),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["effects"][0]["outcome"], "suspected");
        assert_eq!(b["effects"][0]["grey_zone"], true);
        // The same result again is a retry, not a contradiction.
        let (s, b) = srv
            .post(
                "/api/v1/results",
                json!({ "tube": "GS-0001", "ct": { "orf1ab": 36.5, "n": 37.0 } }),
            )
            .await;
        assert_eq!(
            (s, b["effects"][0]["event"].as_str()),
            (200, Some("result_unchanged"))
        );
        refused(
            srv.post(
                "/api/v1/results",
                json!({ "tube": "GS-0001", "outcome": "negative" }),
            )
            .await,
            409,
            "result_conflict",
        );
        let (s, _) = srv
            .post(
                "/api/v1/results",
                json!({ "tube": "GS-0001", "outcome": "negative", "correction": true }),
            )
            .await;
        assert_eq!(s, 200);

        let (s, t) = srv.get("/api/v1/tubes/GS-0001").await;
        assert_eq!(s, 200);
        assert_eq!(t["status"], "resulted");
        assert_eq!(t["samples"], 20);
        assert_eq!(t["results"].as_array().unwrap().len(), 2);
        let text = t.to_string();
        assert!(
            !text.contains(persons[0].document.number()),
            "a tube view must not name persons"
        );
        refused(srv.get("/api/v1/tubes/GS-4040").await, 404, "tube_unknown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_are_validated() {
    for store in stores("rounds") {
        let (_, _, _, f) = blocking(|| pipeline_fixture(&*store, 1));
        let srv = TestServer::start(store.clone()).await;
        let body = |pool: u32, areas: Value| {
            json!({ "name": "扩面筛查", "pool_size": pool, "starts_at": "2022-06-13T04:00:00+08:00",
                    "ends_at": "2022-06-13T20:00:00+08:00", "areas": areas })
        };
        let (s, r) = srv
            .post("/api/v1/rounds", body(20, json!([f.community])))
            .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["pool_size"], 20);
        let (s, list) = srv.get("/api/v1/rounds").await;
        assert_eq!((s, list.as_array().unwrap().len()), (200, 2));
        refused(
            srv.post("/api/v1/rounds", body(7, json!([f.community])))
                .await,
            422,
            "bad_pool_size",
        );
        refused(
            srv.post("/api/v1/rounds", body(20, json!([]))).await,
            400,
            "invalid_field",
        );
        refused(
            srv.post("/api/v1/rounds", body(20, json!([987654]))).await,
            404,
            "not_found",
        );
        let (s, sites) = srv.get(&format!("/api/v1/sites?area={}", f.district)).await;
        assert_eq!((s, sites.as_array().unwrap().len()), (200, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_is_idempotent_over_http() {
    for store in stores("sync") {
        let (round, site, persons, _) = blocking(|| pipeline_fixture(&*store, 40));
        let srv = TestServer::start(store.clone()).await;
        let mut all = device_queue(round, site, "SY-0001", &persons[..20], 1);
        all.extend(device_queue(round, site, "SY-0002", &persons[20..], 23));
        let batch = |lo: i64, hi: i64| json!({ "device": "pda-07", "events": all.iter().filter(|e| (lo..=hi).contains(&e.seq)).collect::<Vec<_>>() });
        for _ in 0..3 {
            let (s, r) = srv.post("/api/v1/sync", batch(1, 12)).await;
            assert_eq!(s, 200, "{r}");
            assert_eq!(r["accepted"].as_array().unwrap().len(), 12);
            assert_eq!(r["next_seq"], 13);
        }
        let (_, r) = srv.post("/api/v1/sync", batch(30, 44)).await;
        assert_eq!(r["pending"].as_array().unwrap().len(), 15, "{r}");
        let (_, r) = srv.post("/api/v1/sync", batch(10, 31)).await;
        assert_eq!(r["accepted"].as_array().unwrap().len(), 35, "{r}");
        assert_eq!(r["next_seq"], 45);
        let (_, r) = srv.post("/api/v1/sync", batch(1, 44)).await;
        assert_eq!(r["accepted"].as_array().unwrap().len(), 44);
        assert!(r["rejected"].as_array().unwrap().is_empty());
        let (_, t1) = srv.get("/api/v1/tubes/SY-0001").await;
        let (_, t2) = srv.get("/api/v1/tubes/SY-0002").await;
        assert_eq!(
            (t1["samples"].as_u64(), t2["samples"].as_u64()),
            (Some(20), Some(20))
        );
        assert_eq!(t2["status"], "sealed");

        refused(
            srv.post("/api/v1/sync", json!({ "device": "bad id!", "events": [] }))
                .await,
            400,
            "invalid_field",
        );
        refused(srv.post("/api/v1/sync", json!({ "device": "pda-08", "events": [{ "seq": 0, "at": "2022-06-13T04:00:00Z", "type": "seal_tube", "tube": "SY-0001" }] })).await, 400, "invalid_field");
        refused(
            srv.post(
                "/api/v1/sync",
                json!({ "device": "pda-08", "events": [{ "seq": 1, "type": "seal_tube" }] }),
            )
            .await,
            400,
            "invalid_body",
        );
        // A bad event is rejected with its reason; the rest of the batch applies.
        let (s, r) = srv
            .post("/api/v1/sync", json!({ "device": "pda-09", "events": [
                { "seq": 1, "at": "2022-06-13T05:00:00Z", "type": "open_tube", "tube": "SY-0003", "round": round, "site": site },
                { "seq": 2, "at": "2022-06-13T05:00:05Z", "type": "add_person", "tube": "SY-0003", "document": "410105199001011230" },
                { "seq": 3, "at": "2022-06-13T05:00:09Z", "type": "add_person", "tube": "SY-0003", "document": persons[0].document.number() },
            ]}))
            .await;
        assert_eq!(s, 200);
        assert_eq!(r["accepted"], json!([1, 3]));
        assert_eq!(r["rejected"][0]["seq"], 2);
        assert_eq!(r["rejected"][0]["code"], "invalid_identifier");

        // Another sampler account with a device of the same name has a
        // sequence of its own: its event 1 is new, not "seen before"; rows
        // name account and device.
        let st = store.clone();
        let (two, _) = blocking(move || {
            let root = st.roots().unwrap()[0].id;
            crate::common::role_accounts(&*st, Some(root), "-two")
        });
        let r = crate::common::bearer_client(&two[&gridsweep_domain::Role::Sampler])
            .post(format!("{}/api/v1/sync", srv.base))
            .json(&json!({ "device": "pda-07", "events": [
                { "seq": 1, "at": "2022-06-13T06:00:00Z", "type": "open_tube", "tube": "SY-0004", "round": round, "site": site }
            ]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let r: Value = r.json().await.unwrap();
        assert_eq!(r["accepted"], json!([1]), "{r}");
        let (s, t4) = srv.get("/api/v1/tubes/SY-0004").await;
        assert_eq!(s, 200, "{t4}");
        assert_eq!(t4["opened_by"], "test-sampler-two/pda-07");
        assert_eq!(t1["opened_by"], "test-sampler/pda-07");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stream_carries_tube_events() {
    let store = stores("sse").remove(0);
    let (round, site, persons, _) = blocking(|| pipeline_fixture(&*store, 2));
    let srv = TestServer::start(store.clone()).await;
    let mut stream = srv
        .client_for("get", "/api/v1/events")
        .get(format!("{}/api/v1/events", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    srv.post(
        "/api/v1/tubes",
        json!({ "tube": "EV-0001", "round": round, "site": site }),
    )
    .await;
    srv.post(
        "/api/v1/tubes/EV-0001/samples",
        json!({ "document": persons[0].document.number() }),
    )
    .await;
    srv.post("/api/v1/tubes/EV-0001/seal", json!({})).await;
    srv.post("/api/v1/lab/receipts", json!({ "tubes": ["EV-0001"] }))
        .await;
    srv.post(
        "/api/v1/results",
        json!({ "tube": "EV-0001", "outcome": "negative" }),
    )
    .await;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text.contains("event: tube_resulted") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("events within 10 s")
            .unwrap()
            .expect("stream open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    for name in [
        "tube_opened",
        "sample_added",
        "tube_sealed",
        "tube_received",
        "tube_resulted",
    ] {
        assert!(
            text.contains(&format!("event: {name}")),
            "{name} missing in {text}"
        );
    }
    assert!(!text.contains(persons[0].document.number()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_import_over_http_is_all_or_nothing() {
    for store in stores("import") {
        blocking(|| gridsweep_engine::testsuite::fixture(&*store));
        let srv = TestServer::start(store.clone()).await;
        let id = |seq: u32| {
            gridsweep_engine::testsuite::resident_id(seq)
                .as_str()
                .to_string()
        };
        let csv = format!(
            "姓名,身份证号,手机号,街道,社区,小区,楼栋,单元,房号\n\
             买买提·艾力,{},13800001111,梧桐街办事处,瓦屋李社区,瓦屋李新居,1号楼,1单元,101\n\
             ,{},,梧桐街办事处,瓦屋李社区,瓦屋李新居,1号楼,1单元,102\n",
            id(201),
            id(203)
        );
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        let post = |body: Vec<u8>, q: &'static str| {
            srv.client_for("post", "/api/v1/residents/import")
                .post(format!("{}/api/v1/residents/import{q}", srv.base))
                .header("content-type", "text/csv")
                .body(body)
                .send()
        };
        let r = post(gbk.to_vec(), "").await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let b: Value = r.json().await.unwrap();
        assert_eq!(error_code(&b), "import_rejected");
        assert_eq!(b["error"]["details"]["errors"][0]["row"], 3);
        assert_eq!(blocking(|| store.stats().unwrap().persons), 0);
        let r = post(gbk.to_vec(), "?skip_bad_rows=true").await.unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["rows_imported"], 1);
        assert_eq!(b["skipped_rows"], json!([3]));
        assert_eq!(blocking(|| store.stats().unwrap().persons), 1);
        let r = post(Vec::new(), "").await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_result_sheet_is_all_or_nothing() {
    for store in stores("results") {
        let (round, site, persons, _) = blocking(|| pipeline_fixture(&*store, 2));
        let srv = TestServer::start(store.clone()).await;
        for (i, tube) in ["LR-0001", "LR-0002"].iter().enumerate() {
            srv.post(
                "/api/v1/tubes",
                json!({ "tube": tube, "round": round, "site": site }),
            )
            .await;
            srv.post(
                &format!("/api/v1/tubes/{tube}/samples"),
                json!({ "document": persons[i].document.number() }),
            )
            .await;
            srv.post(&format!("/api/v1/tubes/{tube}/seal"), json!({}))
                .await;
        }
        srv.post("/api/v1/lab/receipts", json!({ "tubes": ["LR-0001"] }))
            .await;
        let sheet =
            "管号,结果,ORF1ab,N\nLR-0001,阴性,未检出,未检出\nLR-0002,阴性,,\nNOBODY-1,阴性,,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(sheet);
        let send = |q: &'static str| {
            srv.client_for("post", "/api/v1/results/import")
                .post(format!("{}/api/v1/results/import{q}", srv.base))
                .header("content-type", "text/csv")
                .body(gbk.to_vec())
                .send()
        };
        let r = send("").await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let b: Value = r.json().await.unwrap();
        let errors = b["error"]["details"]["errors"].as_array().unwrap().clone();
        assert_eq!(errors.len(), 2, "{b}");
        assert!(
            errors[0]["reason"]
                .as_str()
                .unwrap()
                .contains("tube_not_received")
        );
        assert!(
            errors[1]["reason"]
                .as_str()
                .unwrap()
                .contains("tube_unknown")
        );
        let (_, t) = srv.get("/api/v1/tubes/LR-0001").await;
        assert_eq!(t["status"], "received", "nothing may be written");
        let r = send("?skip_bad_rows=true").await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let b: Value = r.json().await.unwrap();
        assert_eq!(
            (b["rows_applied"].as_u64(), b["skipped_rows"].clone()),
            (Some(1), json!([3, 4]))
        );
        let (_, t) = srv.get("/api/v1/tubes/LR-0001").await;
        assert_eq!(t["status"], "resulted");
    }
}
