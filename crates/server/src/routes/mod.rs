//! The route table. [`API_ROUTES`] lists every API route once; the router
//! and the OpenAPI test both read it, so a route cannot be added without
//! being documented.

mod areas;
mod health;
mod persons;

use crate::{ApiError, AppState, openapi};
use axum::Router;
use axum::routing::{MethodRouter, get};

/// `(method, path)` of every API route, as the OpenAPI document names them.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/areas"),
    ("get", "/api/v1/areas/{id}"),
    ("get", "/api/v1/areas/{id}/children"),
    ("get", "/api/v1/persons"),
];

fn route(path: &str) -> MethodRouter<AppState> {
    match path {
        "/healthz" => get(health::healthz),
        "/api/v1/openapi.json" => get(openapi::serve),
        "/api/v1/areas" => get(areas::roots),
        "/api/v1/areas/{id}" => get(areas::one),
        "/api/v1/areas/{id}/children" => get(areas::children),
        "/api/v1/persons" => get(persons::search),
        other => unreachable!("route {other} listed but not wired"),
    }
}

/// Builds the router from [`API_ROUTES`].
pub fn router(state: AppState) -> Router {
    let mut paths: Vec<&str> = API_ROUTES.iter().map(|(_, p)| *p).collect();
    paths.dedup();
    let mut r = Router::new();
    for p in paths {
        r = r.route(p, route(p).fallback(method_not_allowed));
    }
    r.fallback(not_found).with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed here"),
    )
}
