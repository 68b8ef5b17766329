//! Every route is documented, and every documented route exists.

mod common;

use common::{TestServer, stores};
use gridsweep_server::API_ROUTES;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_route() {
    let store = stores("openapi").remove(0);
    let srv = TestServer::start(store).await;
    let (s, doc) = srv.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in API_ROUTES {
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from OpenAPI"))[*method];
        assert!(op.is_object(), "{method} {path} missing from OpenAPI");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{path}: no 2xx"
        );
        let has_params = path.contains('{') || op.get("parameters").is_some_and(|p| !p.is_null());
        if has_params || *method != "get" {
            assert!(
                responses.keys().any(|k| k.starts_with('4')),
                "{method} {path}: takes input but documents no 4xx"
            );
        }
    }
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                API_ROUTES.contains(&(method.as_str(), path.as_str())),
                "documented but not routed: {method} {path}"
            );
        }
    }
}
