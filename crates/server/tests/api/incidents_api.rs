//! The response over HTTP: a suspect result opens an incident before the
//! lab's request returns; tasks, orders, decisions with roles, timeline,
//! coverage, marks and the report (JSON, HTML, XLSX), with their errors.

use crate::common;

use crate::common::{TestServer, blocking, error_code, stores};
use gridsweep_domain::Role;
use gridsweep_domain::pipeline::Outcome;
use gridsweep_engine::Engine;
use gridsweep_engine::testsuite::pipeline_fixture;
use serde_json::{Value, json};

/// POST as the first role the route table lists for the route.
async fn post(srv: &TestServer, path: &str, body: Value) -> (u16, Value) {
    send(srv.client_for("post", path), srv, path, body).await
}

/// POST as a given role.
async fn post_as(srv: &TestServer, role: Role, path: &str, body: Value) -> (u16, Value) {
    send(srv.client_as(role), srv, path, body).await
}

async fn send(client: reqwest::Client, srv: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let r = client
        .post(format!("{}{path}", srv.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspect_result_opens_incident_at_once() {
    for store in stores("incidents") {
        let (round, site, persons, f) = blocking(|| pipeline_fixture(&*store, 21));
        let srv = TestServer::start(store.clone()).await;
        let at = "2022-06-12T11:40:00Z";
        assert_eq!(
            post(
                &srv,
                "/api/v1/tubes",
                json!({ "tube": "WWL-1", "round": round, "site": site, "at": at })
            )
            .await
            .0,
            201
        );
        for p in &persons[..20] {
            let (s, b) = post(
                &srv,
                "/api/v1/tubes/WWL-1/samples",
                json!({ "document": p.document.number(), "at": at }),
            )
            .await;
            assert_eq!(s, 201, "{b}");
        }
        assert_eq!(
            post(&srv, "/api/v1/tubes/WWL-1/seal", json!({ "at": at }))
                .await
                .0,
            200
        );
        assert_eq!(
            post(
                &srv,
                "/api/v1/lab/receipts",
                json!({ "tubes": ["WWL-1"], "at": at })
            )
            .await
            .0,
            200
        );
        let (s, b) = post(
            &srv,
            "/api/v1/results",
            json!({ "tube": "WWL-1", "outcome": "suspected", "at": "2022-06-12T19:04:00Z" }),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        // No waiting: the incident is there when the result's answer is.
        let (s, list) = srv.get("/api/v1/incidents").await;
        assert_eq!(s, 200);
        let inc = &list.as_array().unwrap()[0];
        assert_eq!(inc["opened_at"], "2022-06-12T19:04:00Z");
        assert_eq!(inc["area"]["id"], f.community.get());
        let id = inc["id"].as_i64().unwrap();
        let (s, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        assert_eq!(s, 200);
        assert_eq!(d["members"].as_array().unwrap().len(), 21);
        assert!(!d["blockers"].as_array().unwrap().is_empty());
        let text = d.to_string();
        for p in &persons {
            assert!(!text.contains(p.document.number()), "full ID leaked");
        }
        let (s, tasks) = srv
            .get(&format!("/api/v1/incidents/{id}/tasks?status=open"))
            .await;
        assert_eq!(s, 200);
        let tasks = tasks.as_array().unwrap();
        assert_eq!(tasks.iter().filter(|t| t["kind"] == "retest").count(), 20);
        // The dashboard's line: 20 members, none retested yet, the trigger
        // resulted, every controlled compound with its coverage.
        let (s, live) = srv.get(&format!("/api/v1/incidents/{id}/live")).await;
        assert_eq!(s, 200, "{live}");
        assert_eq!(live["incident"]["id"], id);
        assert_eq!(live["retests"]["members"], 20);
        assert_eq!(live["retested"], 0);
        assert_eq!(live["tubes_awaiting"], 0);
        assert!(live["tasks_open"].as_u64().unwrap() > 0);
        assert_eq!(live["tasks_open"], live["tasks_total"]);
        let compounds = live["compounds"].as_array().unwrap();
        assert!(!compounds.is_empty(), "{live}");
        assert!(compounds.iter().all(|c| c["tally"]["sampled"] == 0));
        assert!(!live.to_string().contains(persons[0].document.number()));
        // The list holds what the caller's scope reaches: a community
        // worker of the other community does not see this incident.
        let st = store.clone();
        let (out, _) =
            blocking(move || common::role_accounts(&*st, Some(f.other_community), "-elsewhere"));
        let r = common::bearer_client(&out[&Role::Community])
            .get(format!("{}/api/v1/incidents", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let seen: Value = r.json().await.unwrap();
        assert!(
            !seen.as_array().unwrap().iter().any(|i| i["id"] == id),
            "{seen}"
        );
        let (s, orders) = srv.get(&format!("/api/v1/incidents/{id}/orders")).await;
        assert_eq!(s, 200);
        assert!(
            orders
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["kind"] == "static_control")
        );
        let task = tasks[0]["id"].as_i64().unwrap();
        let (s, t) = post(
            &srv,
            &format!("/api/v1/incidents/{id}/tasks/{task}/done"),
            json!({ "by": "网格员小王" }),
        )
        .await;
        assert_eq!((s, t["status"].as_str()), (200, Some("done")));
        // Timeline: a grid level in place; refusals name the field.
        let (s, _) = post(
            &srv,
            &format!("/api/v1/incidents/{id}/timeline"),
            json!({ "kind": "mobilised", "role": "community", "by": "书记" }),
        )
        .await;
        assert_eq!(s, 201);
        let (s, b) = post(
            &srv,
            &format!("/api/v1/incidents/{id}/timeline"),
            json!({ "kind": "mobilised", "by": "书记" }),
        )
        .await;
        assert_eq!((s, error_code(&b).as_str()), (400, "invalid_field"));
        // Decisions: the role is checked, the confirmer recorded.
        let member = d["members"][0]["person"]["id"].as_i64().unwrap();
        let (s, p) = post(
            &srv,
            &format!("/api/v1/incidents/{id}/decisions"),
            json!({ "kind": "home_isolation", "person": member, "reason": "研判", "by": "李医生" }),
        )
        .await;
        assert_eq!(s, 201, "{p}");
        let dec = p["effects"][0]["decision"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/decisions/{dec}/confirm");
        // District command may not confirm what the playbook gives the CDC.
        let (s, b) = post_as(&srv, Role::Command, &path, json!({ "by": "指挥长" })).await;
        assert_eq!((s, error_code(&b).as_str()), (403, "role_not_allowed"));
        // An account acts in its own role only.
        let (s, b) = post_as(&srv, Role::Cdc, &path, json!({ "role": "grid_worker" })).await;
        assert_eq!((s, error_code(&b).as_str()), (422, "role_mismatch"));
        // Times the server vouches for: not before the proposal (made now),
        // not after the server's clock beyond the stated skew.
        let (s, b) = post_as(
            &srv,
            Role::Cdc,
            &path,
            json!({ "by": "刘医生", "at": "2022-06-12T20:00:00Z" }),
        )
        .await;
        assert_eq!((s, error_code(&b).as_str()), (400, "time_before_proposal"));
        assert_eq!(b["error"]["field"], "at", "{b}");
        let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
        let (s, b) = post_as(
            &srv,
            Role::Cdc,
            &path,
            json!({ "by": "刘医生", "at": tomorrow }),
        )
        .await;
        assert_eq!(
            (s, error_code(&b).as_str()),
            (400, "time_after_server_clock")
        );
        let (s, _) = post_as(
            &srv,
            Role::Cdc,
            &path,
            json!({ "by": "刘医生", "role": "cdc" }),
        )
        .await;
        assert_eq!(s, 200);
        let (s, b) = post_as(&srv, Role::Cdc, &path, json!({ "by": "刘医生" })).await;
        assert_eq!((s, error_code(&b).as_str()), (409, "decision_not_pending"));
        let (s, ds) = srv.get(&format!("/api/v1/incidents/{id}/decisions")).await;
        assert_eq!(s, 200);
        assert!(
            ds[0]["decided_by"]
                .as_str()
                .unwrap()
                .starts_with("刘医生 ("),
            "{ds}"
        );
        assert_eq!(ds[0]["decided_role"], "cdc");
        let (s, b) = post_as(
            &srv,
            Role::Cdc,
            &format!("/api/v1/incidents/{id}/decisions/999/confirm"),
            json!({}),
        )
        .await;
        assert_eq!((s, error_code(&b).as_str()), (404, "decision_unknown"));
        // Coverage and marks.
        let (s, m) = post(
            &srv,
            &format!("/api/v1/rounds/{round}/marks"),
            json!({ "person": persons[20].id.0, "kind": "away", "by": "网格员" }),
        )
        .await;
        assert_eq!(s, 201, "{m}");
        let (s, c) = srv
            .get(&format!(
                "/api/v1/coverage?area={}&round={round}",
                f.community
            ))
            .await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["total"]["roster"], 21);
        assert_eq!(c["total"]["sampled"], 20);
        assert_eq!(c["total"]["explained"], 1);
        assert_eq!(c["total"]["missing"], 0);
        let (s, b) = srv
            .get(&format!("/api/v1/coverage?area={}", f.community))
            .await;
        assert_eq!((s, error_code(&b).as_str()), (400, "invalid_field"));
        let (s, b) = srv
            .get(&format!("/api/v1/coverage?area={}&round=777", f.community))
            .await;
        assert_eq!((s, error_code(&b).as_str()), (404, "round_unknown"));
        let (s, b) = srv.get("/api/v1/rounds/777/marks").await;
        assert_eq!((s, error_code(&b).as_str()), (404, "round_unknown"));
        // The report in three shapes.
        let (s, r) = srv.get(&format!("/api/v1/incidents/{id}/report")).await;
        assert_eq!(s, 200);
        assert_eq!(r["retests"]["members"], 20);
        let html = srv
            .client_as(Role::Command)
            .get(format!("{}/api/v1/incidents/{id}/report/html", srv.base))
            .send()
            .await
            .unwrap();
        assert!(
            html.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(html.text().await.unwrap().contains("事件报告"));
        let xlsx = srv
            .client_as(Role::Command)
            .get(format!("{}/api/v1/incidents/{id}/report/xlsx", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), 200);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
        let (s, b) = srv.get("/api/v1/incidents/999").await;
        assert_eq!((s, error_code(&b).as_str()), (404, "incident_unknown"));
        let (s, b) = srv.get("/api/v1/incidents/999/report").await;
        assert_eq!((s, error_code(&b).as_str()), (404, "incident_unknown"));
    }
}

/// What a server that stopped between the two transactions of a result
/// left behind: the result stored, the response engine never run.
fn store_without_reacting(
    store: &std::sync::Arc<dyn gridsweep_storage::Store>,
    tube: &str,
    outcome: Outcome,
) {
    use gridsweep_storage::pipeline::{Command, CommandContext};
    let (st, tube) = (store.clone(), tube.to_string());
    blocking(move || {
        gridsweep_engine::Engine::new(st)
            .execute(
                Command::PostResult {
                    tube,
                    outcome: Some(outcome),
                    ct: Default::default(),
                    correction: false,
                },
                CommandContext {
                    actor: "lab".into(),
                    at: chrono::Utc::now(),
                    cutoffs: Default::default(),
                    reach: gridsweep_domain::Reach::Everywhere,
                },
            )
            .unwrap()
            .unwrap()
    });
}

/// Opens, fills, seals and receives a tube over HTTP.
async fn tube_at_the_lab(srv: &TestServer, tube: &str, round: i64, site: i64, documents: &[&str]) {
    let (s, b) = post(
        srv,
        "/api/v1/tubes",
        json!({ "tube": tube, "round": round, "site": site }),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    for d in documents {
        let (s, b) = post(
            srv,
            &format!("/api/v1/tubes/{tube}/samples"),
            json!({ "document": d }),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    assert_eq!(
        post(srv, &format!("/api/v1/tubes/{tube}/seal"), json!({}))
            .await
            .0,
        200
    );
    let (s, b) = post(srv, "/api/v1/lab/receipts", json!({ "tubes": [tube] })).await;
    assert_eq!(s, 200, "{b}");
}

/// A result stored just before a stop and never resent is reacted to when
/// the server starts again: the incident opens, a retest is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_left_unanswered_is_answered_at_the_next_start() {
    for store in stores("incidents-sweep") {
        let (round, site, persons, _) = blocking(|| pipeline_fixture(&*store, 20));
        let srv = TestServer::start(store.clone()).await;
        let docs: Vec<&str> = persons.iter().map(|p| p.document.number()).collect();
        tube_at_the_lab(&srv, "SWEEP-1", round, site, &docs).await;
        store_without_reacting(&store, "SWEEP-1", Outcome::Suspected);
        assert_eq!(srv.get("/api/v1/incidents").await.1, json!([]));
        let pb = gridsweep_response::Playbook::default();
        let st = store.clone();
        let p = pb.clone();
        let n = blocking(move || {
            Engine::new(st)
                .with_playbook(p)
                .finish_interrupted_responses()
                .unwrap()
        });
        assert_eq!(n, 1);
        let (_, list) = srv.get("/api/v1/incidents").await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list[0]["trigger_tube"], "SWEEP-1");
        let id = list[0]["id"].as_i64().unwrap();
        // A member's retest, stored and left unanswered, the same way.
        let (_, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        let retest_round = d["retest_round"].as_i64().unwrap();
        tube_at_the_lab(&srv, "SWEEP-R1", retest_round, site, &[docs[0]]).await;
        store_without_reacting(&store, "SWEEP-R1", Outcome::Negative);
        let (st, p) = (store.clone(), pb.clone());
        let n = blocking(move || {
            Engine::new(st)
                .with_playbook(p)
                .finish_interrupted_responses()
                .unwrap()
        });
        assert_eq!(n, 1);
        let (_, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        let status = d["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["person"]["name"] == persons[0].name.as_str())
            .map(|m| m["status"].clone());
        assert_eq!(status, Some(json!("cleared")), "{d}");
        // Nothing left: a third start changes nothing.
        let st = store.clone();
        let n = blocking(move || {
            Engine::new(st)
                .with_playbook(pb)
                .finish_interrupted_responses()
                .unwrap()
        });
        assert_eq!(n, 0);
        assert_eq!(
            srv.get("/api/v1/incidents")
                .await
                .1
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

/// The server stores a result and responds to it in two transactions. If
/// it stops between them the lab gets no answer and sends the result again:
/// the retry must open the incident that the first attempt never did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_result_finishes_an_interrupted_response() {
    for store in stores("incidents-retry") {
        let (round, site, persons, _) = blocking(|| pipeline_fixture(&*store, 20));
        let srv = TestServer::start(store.clone()).await;
        let docs: Vec<&str> = persons.iter().map(|p| p.document.number()).collect();
        tube_at_the_lab(&srv, "RETRY-1", round, site, &docs).await;
        // What the first attempt got as far as: the result stored, the
        // response engine never run.
        store_without_reacting(&store, "RETRY-1", Outcome::Suspected);
        assert_eq!(srv.get("/api/v1/incidents").await.1, json!([]));
        // The retry: same result, nothing new to store, the incident opens.
        let (s, b) = post(
            &srv,
            "/api/v1/results",
            json!({ "tube": "RETRY-1", "outcome": "suspected" }),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let (_, list) = srv.get("/api/v1/incidents").await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["trigger_tube"], "RETRY-1");
        // A third send changes nothing more.
        let (s, _) = post(
            &srv,
            "/api/v1/results",
            json!({ "tube": "RETRY-1", "outcome": "suspected" }),
        )
        .await;
        assert_eq!(s, 200);
        let id = list[0]["id"].as_i64().unwrap();
        let (_, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        assert_eq!(d["members"].as_array().unwrap().len(), 20);
        assert_eq!(
            srv.get("/api/v1/incidents")
                .await
                .1
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // The same through a lab's device queue: a member's retest result
        // synced and stored, the server stopped before reacting; the resent
        // batch (answered as before) records the retest.
        let retest_round = d["retest_round"].as_i64().unwrap();
        let member = &persons[0];
        tube_at_the_lab(
            &srv,
            "RETRY-R1",
            retest_round,
            site,
            &[member.document.number()],
        )
        .await;
        let batch = json!({ "device": "lab-lis-1", "events": [
            { "seq": 1, "at": "2022-06-13T09:00:00Z", "type": "post_result", "tube": "RETRY-R1", "outcome": "negative" }
        ] });
        let events: Vec<gridsweep_storage::pipeline::DeviceEvent> =
            serde_json::from_value(batch["events"].clone()).unwrap();
        let st = store.clone();
        let first = blocking(move || {
            // As the server keys it: the account, then the device.
            Engine::new(st)
                .sync(
                    format!("{}/lab-lis-1", common::test_username(Role::Lab)),
                    events,
                    gridsweep_domain::Reach::Everywhere,
                )
                .unwrap()
        });
        assert!(!first.effects.is_empty());
        let name = member.name.as_str().to_string();
        let retest_status = move |d: &Value| {
            d["members"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["person"]["name"] == name.as_str())
                .map(|m| m["status"].clone())
                .unwrap()
        };
        let (_, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        assert_eq!(retest_status(&d), "pending_retest");
        let (s, b) = post_as(&srv, Role::Lab, "/api/v1/sync", batch.clone()).await;
        assert_eq!(s, 200, "{b}");
        let (_, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        assert_eq!(retest_status(&d), "cleared", "{d}");
        // And again: still once.
        let (s, _) = post_as(&srv, Role::Lab, "/api/v1/sync", batch).await;
        assert_eq!(s, 200);
        let (_, d) = srv.get(&format!("/api/v1/incidents/{id}")).await;
        let lines = d["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["text"].as_str().unwrap().contains("RETRY-R1"))
            .count();
        assert_eq!(lines, 1, "{d}");
    }
}
