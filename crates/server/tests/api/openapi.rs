//! Every route is documented, and every documented route exists.

use crate::common::{TestServer, stores};
use gridsweep_server::API_ROUTES;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_route() {
    let store = stores("openapi").remove(0);
    let srv = TestServer::start(store).await;
    let (s, doc) = srv.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    for route in API_ROUTES {
        let (method, path) = (&route.method, &route.path);
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
        if route.access.roles().is_some() {
            for status in ["401", "403"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: protected but documents no {status}"
                );
            }
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no security"
            );
        }
    }
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                API_ROUTES
                    .iter()
                    .any(|r| r.method == method.as_str() && r.path == path.as_str()),
                "documented but not routed: {method} {path}"
            );
        }
    }
}
