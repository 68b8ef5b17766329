//! The read endpoints over a real server on port 0.

use crate::common;

use crate::common::{TestServer, blocking, error_code, stores};
use gridsweep_engine::testsuite::{fixture, person};
use gridsweep_storage::PopulationBatch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_areas_children_and_counts() {
    for store in stores("areas") {
        let f = blocking(|| {
            let f = fixture(&*store);
            let h1 = store.area(f.households[0]).unwrap().unwrap();
            let persons = vec![
                person(&*store, "李华", 1, &h1),
                person(&*store, "买买提·艾力", 3, &h1),
            ];
            store
                .write_population(&PopulationBatch {
                    persons,
                    ..Default::default()
                })
                .unwrap();
            f
        });
        let srv = TestServer::start(store.clone()).await;

        let (s, body) = srv.get("/healthz").await;
        assert_eq!(s, 200);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["backend"], store.backend());

        let (s, roots) = srv.get("/api/v1/areas").await;
        assert_eq!(s, 200);
        assert_eq!(roots[0]["name"], "高新区");

        let (s, c) = srv.get(&format!("/api/v1/areas/{}", f.community)).await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["name"], "瓦屋李社区");
        assert_eq!(c["level"], "community");
        assert_eq!(c["resident_count"], 2);
        let crumbs: Vec<_> = c["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(crumbs, ["高新区", "梧桐街办事处", "瓦屋李社区"]);

        let (s, kids) = srv
            .get(&format!("/api/v1/areas/{}/children", f.community))
            .await;
        assert_eq!(s, 200);
        let compound = kids
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "瓦屋李新居")
            .expect("compound listed");
        assert_eq!(compound["resident_count"], 2);
        assert_eq!(compound["level_label"], "小区");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_the_json_shape() {
    for store in stores("errors") {
        // A district, so that every role has an account to ask with.
        common::blocking(|| gridsweep_engine::testsuite::fixture(&*store));
        let srv = TestServer::start(store).await;
        let (s, b) = srv.get("/api/v1/areas/999999").await;
        assert_eq!((s, error_code(&b).as_str()), (404, "not_found"));
        let (s, b) = srv.get("/api/v1/areas/abc").await;
        assert_eq!((s, error_code(&b).as_str()), (400, "invalid_path"));
        let (s, b) = srv.get("/api/v1/areas/0/children").await;
        assert_eq!((s, error_code(&b).as_str()), (400, "invalid_field"));
        assert_eq!(b["error"]["field"], "id");
        let (s, b) = srv.get("/api/v1/nowhere").await;
        assert_eq!((s, error_code(&b).as_str()), (404, "not_found"));
        let r = srv
            .client
            .delete(format!("{}/api/v1/areas", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405);
        let b: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&b), "method_not_allowed");
        let (s, b) = srv.get("/api/v1/persons?area=x&q=a").await;
        assert_eq!((s, error_code(&b).as_str()), (400, "invalid_query"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_search_is_scoped_and_masked() {
    for store in stores("persons") {
        let (f, inside, outside) = blocking(|| {
            let f = fixture(&*store);
            let h1 = store.area(f.households[0]).unwrap().unwrap();
            let h3 = store.area(f.other_household).unwrap().unwrap();
            let inside = person(&*store, "欧阳娜娜", 5, &h1);
            let outside = person(&*store, "欧阳修", 7, &h3);
            store
                .write_population(&PopulationBatch {
                    persons: vec![inside.clone(), outside.clone()],
                    ..Default::default()
                })
                .unwrap();
            (f, inside, outside)
        });
        let srv = TestServer::start(store.clone()).await;

        let (s, found) = srv
            .get(&format!("/api/v1/persons?area={}&q=欧阳", f.community))
            .await;
        assert_eq!(s, 200, "{found}");
        let found = found.as_array().unwrap();
        assert_eq!(found.len(), 1);
        let p = &found[0];
        assert_eq!(p["name"], "欧阳娜娜");
        let full = inside.document.number();
        assert_eq!(
            p["document_masked"],
            format!("{}********{}", &full[..6], &full[14..])
        );
        assert_eq!(p["phone_masked"], "138****0005");
        assert_eq!(
            p["address"],
            "梧桐街办事处 瓦屋李社区 瓦屋李新居 1号楼 1单元101"
        );
        let text = serde_json::to_string(&found).unwrap();
        assert!(!text.contains(full), "full ID number leaked: {text}");
        assert!(!text.contains("13800000005"), "full phone leaked");

        let (_, by_id) = srv
            .get(&format!(
                "/api/v1/persons?area={}&q={}",
                f.district,
                outside.document.number()
            ))
            .await;
        assert_eq!(by_id.as_array().unwrap().len(), 1);
        let (_, none) = srv
            .get(&format!(
                "/api/v1/persons?area={}&q={}",
                f.community,
                outside.document.number()
            ))
            .await;
        assert!(none.as_array().unwrap().is_empty());

        let (s, b) = srv.get("/api/v1/persons?q=欧阳").await;
        assert_eq!((s, b["error"]["field"].as_str()), (400, Some("area")));
        let (s, b) = srv
            .get(&format!("/api/v1/persons?area={}&q=%20", f.community))
            .await;
        assert_eq!((s, b["error"]["field"].as_str()), (400, Some("q")));
        let (s, b) = srv
            .get(&format!("/api/v1/persons?area={}&q=a&limit=0", f.community))
            .await;
        assert_eq!((s, b["error"]["field"].as_str()), (400, Some("limit")));
        let (s, _) = srv.get("/api/v1/persons?area=424242&q=a").await;
        assert_eq!(s, 404);
    }
}
