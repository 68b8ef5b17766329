//! The web UI: hand-written HTML, CSS and ES modules under `crates/server/ui/`,
//! embedded in the binary at compile time (nothing to build or install to
//! run the system). `/` is the single page; `/ui/...` are its assets.
//!
//! These are not API routes: they are not in [`crate::API_ROUTES`] nor in
//! the OpenAPI document.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file.
struct Asset {
    /// Path under `/ui/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $ct:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $ct,
            body: include_bytes!(concat!("../../ui/", $path)),
        }),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const HTML: &str = "text/html; charset=utf-8";

/// Every file of the UI. A file missing here is a compile error, not a 404.
const ASSETS: &[Asset] = assets![
    "index.html" => HTML,
    "app.css" => CSS,
    "app.js" => JS,
    "i18n.js" => JS,
    "api.js" => JS,
    "dom.js" => JS,
    "icon.svg" => SVG,
    "lib/idcheck.js" => JS,
    "lib/feedback.js" => JS,
    "lib/queue.js" => JS,
    "lib/live.js" => JS,
    "pages/home.js" => JS,
    "pages/sampler.js" => JS,
    "pages/lab.js" => JS,
    "pages/login.js" => JS,
    "pages/dashboard.js" => JS,
    "pages/incident.js" => JS,
    "pages/grid.js" => JS,
    "pages/reports.js" => JS,
    "pages/report.js" => JS,
    "pages/password.js" => JS,
    "sw.js" => JS,
];

fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn respond(a: &'static Asset) -> Response {
    let mut res = a.body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    // Embedded files change only with the binary; revalidate each load so
    // an upgraded server is picked up at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if a.path == "sw.js" {
        // The service worker lives under /ui/ but serves the whole page.
        h.insert(
            header::HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static("/"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn index() -> Response {
    match asset("index.html") {
        Some(a) => respond(a),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn file(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    match asset(&path) {
        Some(a) if a.path != "index.html" => respond(a),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The UI's routes, merged beside the API router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{*path}", get(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_import_is_embedded() {
        // Each `from './x.js'` / `import('./x.js')` in a module names a file
        // in the table, so the browser never meets a 404 for a module.
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(a.body).expect("utf-8");
            let dir = a.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            for spec in text
                .split(['\'', '"'])
                .filter(|s| (s.starts_with("./") || s.starts_with("../")) && s.ends_with(".js"))
            {
                let mut parts: Vec<&str> = if dir.is_empty() {
                    Vec::new()
                } else {
                    dir.split('/').collect()
                };
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let resolved = parts.join("/");
                assert!(
                    asset(&resolved).is_some(),
                    "{} imports {spec} ({resolved}), which is not embedded",
                    a.path
                );
            }
        }
    }

    #[test]
    fn service_worker_caches_every_asset() {
        let sw = std::str::from_utf8(asset("sw.js").unwrap().body).unwrap();
        for a in ASSETS.iter().filter(|a| a.path != "sw.js") {
            let url = if a.path == "index.html" {
                "'/'".to_string()
            } else {
                format!("'/ui/{}'", a.path)
            };
            assert!(sw.contains(&url), "sw.js does not cache {url}");
        }
    }

    #[test]
    fn index_links_only_embedded_assets() {
        let html = std::str::from_utf8(asset("index.html").unwrap().body).unwrap();
        for part in html.split("/ui/").skip(1) {
            let path: String = part
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | '?' | '#'))
                .collect();
            assert!(asset(&path).is_some(), "index.html links /ui/{path}");
        }
    }
}
