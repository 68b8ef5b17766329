//! A lab account walks sampling → lab → result and never receives a
//! person's name, ID number, phone or address — in any answer, refusals
//! included.

use crate::common::{TestServer, blocking, stores};
use gridsweep_domain::Role;
use gridsweep_engine::testsuite::pipeline_fixture;
use serde_json::{Value, json};

/// Keys that carry personal data in any answer shape.
const PERSONAL_KEYS: &[&str] = &[
    "name",
    "document",
    "document_masked",
    "phone",
    "phone_masked",
    "address",
    "birth_date",
    "birth_year",
    "household",
    "affiliations",
];

fn personal_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if PERSONAL_KEYS.contains(&k.as_str()) {
                    out.push(k.clone());
                }
                personal_keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| personal_keys(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_account_receives_barcodes_and_results_only() {
    for store in stores("privacy") {
        let (round, site, persons, f) = blocking(|| pipeline_fixture(&*store, 5));
        let srv = TestServer::start(store.clone()).await;
        let sampler = srv.client_as(Role::Sampler);
        let lab = srv.client_as(Role::Lab);
        let url = |p: &str| format!("{}{p}", srv.base);
        // The sampler's part (answers not checked here).
        sampler
            .post(url("/api/v1/tubes"))
            .json(&json!({ "tube": "PV-0001", "round": round, "site": site }))
            .send()
            .await
            .unwrap();
        for p in &persons[..4] {
            sampler
                .post(url("/api/v1/tubes/PV-0001/samples"))
                .json(&json!({ "document": p.document.number() }))
                .send()
                .await
                .unwrap();
        }
        sampler
            .post(url("/api/v1/tubes/PV-0001/seal"))
            .send()
            .await
            .unwrap();
        sampler
            .post(url("/api/v1/tubes"))
            .json(&json!({ "tube": "PV-0002", "round": round, "site": site }))
            .send()
            .await
            .unwrap();
        sampler
            .post(url("/api/v1/tubes/PV-0002/samples"))
            .json(&json!({ "document": persons[4].document.number() }))
            .send()
            .await
            .unwrap();
        sampler
            .post(url("/api/v1/tubes/PV-0002/seal"))
            .send()
            .await
            .unwrap();
        sampler
            .post(url("/api/v1/boxes"))
            .json(&json!({ "box": "PV-BOX1", "tubes": ["PV-0001"] }))
            .send()
            .await
            .unwrap();
        sampler
            .post(url("/api/v1/boxes/PV-BOX1/handover"))
            .send()
            .await
            .unwrap();

        // Everything the lab does, and everything it tries.
        let mut answers: Vec<(String, u16, String)> = Vec::new();
        let calls: Vec<(&str, String, Option<Value>)> = vec![
            ("get", "/api/v1/auth/me".into(), None),
            ("get", "/api/v1/tubes/PV-0001".into(), None),
            (
                "post",
                "/api/v1/lab/receipts".into(),
                Some(json!({ "boxes": ["PV-BOX1"] })),
            ),
            (
                "post",
                "/api/v1/results".into(),
                Some(json!({ "tube": "PV-0001", "ct": { "orf1ab": 36.2, "n": 37.0 } })),
            ),
            (
                "post",
                "/api/v1/results".into(),
                Some(json!({ "tube": "PV-0001", "outcome": "negative" })),
            ),
            (
                "post",
                "/api/v1/results".into(),
                Some(json!({ "tube": "PV-0001", "outcome": "negative", "correction": true })),
            ),
            (
                "post",
                "/api/v1/results".into(),
                Some(json!({ "tube": "PV-0002", "outcome": "negative" })),
            ),
            (
                "post",
                "/api/v1/sync".into(),
                Some(json!({ "device": "lims-1", "events": [
                { "seq": 1, "at": "2022-06-13T08:00:00Z", "type": "receive", "tubes": ["PV-0002"] },
                { "seq": 2, "at": "2022-06-13T08:01:00Z", "type": "post_result", "tube": "PV-0002", "outcome": "negative" },
                { "seq": 3, "at": "2022-06-13T08:02:00Z", "type": "post_result", "tube": "NOPE-1", "outcome": "negative" } ] })),
            ),
            ("get", "/api/v1/tubes/PV-0001".into(), None),
            ("get", "/api/v1/tubes/PV-0002".into(), None),
            // Refused, and the refusals must not leak either.
            ("get", format!("/api/v1/persons/{}", persons[0].id.0), None),
            (
                "get",
                format!(
                    "/api/v1/persons?area={}&q={}",
                    f.community,
                    persons[0].document.number()
                ),
                None,
            ),
            (
                "get",
                format!("/api/v1/areas/{}/children", f.community),
                None,
            ),
            ("get", format!("/api/v1/sites?area={}", f.community), None),
            (
                "post",
                "/api/v1/tubes/PV-0001/samples".into(),
                Some(json!({ "document": persons[0].document.number() })),
            ),
        ];
        for (method, path, body) in calls {
            let mut req = if method == "get" {
                lab.get(url(&path))
            } else {
                lab.post(url(&path))
            };
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            answers.push((path, status, r.text().await.unwrap()));
        }
        // The result sheet upload.
        let sheet = "管号,结果,ORF1ab,N\nPV-0002,阴性,未检出,未检出\nPV-9999,阴性,,\n";
        let r = lab
            .post(url("/api/v1/results/import?skip_bad_rows=true"))
            .header("content-type", "text/csv")
            .body(sheet)
            .send()
            .await
            .unwrap();
        answers.push((
            "/api/v1/results/import".into(),
            r.status().as_u16(),
            r.text().await.unwrap(),
        ));

        let ok = answers.iter().filter(|(_, s, _)| *s < 300).count();
        assert!(ok >= 9, "the lab's own work must succeed: {answers:#?}");
        assert_eq!(answers[1].1, 200, "{:?}", answers[1]);
        assert!(
            answers
                .iter()
                .any(|(p, s, _)| p.starts_with("/api/v1/persons/") && *s == 403)
        );
        for (path, status, text) in &answers {
            let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            let mut keys = Vec::new();
            personal_keys(&v, &mut keys);
            assert!(
                keys.is_empty(),
                "{path} ({status}) answered personal fields {keys:?}: {text}"
            );
            for p in &persons {
                let phone = p.phone.as_ref().unwrap().as_str();
                for value in [
                    p.name.as_str().to_string(),
                    p.document.number().to_string(),
                    p.document.masked(),
                    phone.to_string(),
                    gridsweep_domain::mask_phone(phone),
                    "瓦屋李新居".to_string(),
                    "1单元101".to_string(),
                ] {
                    assert!(
                        !text.contains(&value),
                        "{path} ({status}) answered {value}: {text}"
                    );
                }
            }
        }
    }
}
