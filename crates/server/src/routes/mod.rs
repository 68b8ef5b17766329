//! The route table. [`API_ROUTES`] lists every API route once; the router
//! and the OpenAPI test both read it, so a route cannot be added without
//! being documented.

mod areas;
mod events;
mod health;
mod import;
mod incidents;
mod persons;
pub(crate) mod pipeline;
mod sync;
mod ui;

use crate::{ApiError, AppState, openapi};
use axum::Router;
use axum::routing::{MethodRouter, get, post};

/// `(method, path)` of every API route, as the OpenAPI document names them.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/areas"),
    ("get", "/api/v1/areas/{id}"),
    ("get", "/api/v1/areas/{id}/children"),
    ("get", "/api/v1/persons"),
    ("post", "/api/v1/residents/import"),
    ("get", "/api/v1/sites"),
    ("get", "/api/v1/rounds"),
    ("post", "/api/v1/rounds"),
    ("get", "/api/v1/rounds/{id}"),
    ("post", "/api/v1/tubes"),
    ("get", "/api/v1/tubes/{barcode}"),
    ("post", "/api/v1/tubes/{barcode}/samples"),
    ("post", "/api/v1/tubes/{barcode}/seal"),
    ("post", "/api/v1/boxes"),
    ("post", "/api/v1/boxes/{barcode}/handover"),
    ("post", "/api/v1/lab/receipts"),
    ("post", "/api/v1/results"),
    ("post", "/api/v1/results/import"),
    ("post", "/api/v1/sync"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("get", "/api/v1/incidents/{id}/tasks"),
    ("post", "/api/v1/incidents/{id}/tasks/{task}/done"),
    ("get", "/api/v1/incidents/{id}/orders"),
    ("get", "/api/v1/incidents/{id}/decisions"),
    ("post", "/api/v1/incidents/{id}/decisions"),
    (
        "post",
        "/api/v1/incidents/{id}/decisions/{decision}/confirm",
    ),
    ("post", "/api/v1/incidents/{id}/decisions/{decision}/reject"),
    ("post", "/api/v1/incidents/{id}/timeline"),
    ("get", "/api/v1/incidents/{id}/report"),
    ("get", "/api/v1/incidents/{id}/report/html"),
    ("get", "/api/v1/incidents/{id}/report/xlsx"),
    ("get", "/api/v1/coverage"),
    ("get", "/api/v1/rounds/{id}/marks"),
    ("post", "/api/v1/rounds/{id}/marks"),
];

fn route(path: &str) -> MethodRouter<AppState> {
    match path {
        "/healthz" => get(health::healthz),
        "/api/v1/openapi.json" => get(openapi::serve),
        "/api/v1/areas" => get(areas::roots),
        "/api/v1/areas/{id}" => get(areas::one),
        "/api/v1/areas/{id}/children" => get(areas::children),
        "/api/v1/persons" => get(persons::search),
        "/api/v1/residents/import" => post(import::residents).layer(
            axum::extract::DefaultBodyLimit::max(import::MAX_ROSTER_BYTES),
        ),
        "/api/v1/sites" => get(pipeline::list_sites),
        "/api/v1/rounds" => get(pipeline::list_rounds).post(pipeline::create_round),
        "/api/v1/rounds/{id}" => get(pipeline::get_round),
        "/api/v1/tubes" => post(pipeline::open_tube),
        "/api/v1/tubes/{barcode}" => get(pipeline::get_tube),
        "/api/v1/tubes/{barcode}/samples" => post(pipeline::add_sample),
        "/api/v1/tubes/{barcode}/seal" => post(pipeline::seal_tube),
        "/api/v1/boxes" => post(pipeline::pack_box),
        "/api/v1/boxes/{barcode}/handover" => post(pipeline::hand_over),
        "/api/v1/lab/receipts" => post(pipeline::receive),
        "/api/v1/results" => post(pipeline::post_result),
        "/api/v1/results/import" => post(import::results).layer(
            axum::extract::DefaultBodyLimit::max(import::MAX_ROSTER_BYTES),
        ),
        "/api/v1/sync" => post(sync::sync),
        "/api/v1/events" => get(events::stream),
        "/api/v1/incidents" => get(incidents::list),
        "/api/v1/incidents/{id}" => get(incidents::one),
        "/api/v1/incidents/{id}/tasks" => get(incidents::tasks),
        "/api/v1/incidents/{id}/tasks/{task}/done" => post(incidents::task_done),
        "/api/v1/incidents/{id}/orders" => get(incidents::orders),
        "/api/v1/incidents/{id}/decisions" => get(incidents::decisions).post(incidents::propose),
        "/api/v1/incidents/{id}/decisions/{decision}/confirm" => post(incidents::confirm),
        "/api/v1/incidents/{id}/decisions/{decision}/reject" => post(incidents::reject),
        "/api/v1/incidents/{id}/timeline" => post(incidents::add_note),
        "/api/v1/incidents/{id}/report" => get(incidents::report),
        "/api/v1/incidents/{id}/report/html" => get(incidents::report_html),
        "/api/v1/incidents/{id}/report/xlsx" => get(incidents::report_xlsx),
        "/api/v1/coverage" => get(incidents::coverage),
        "/api/v1/rounds/{id}/marks" => get(incidents::marks).post(incidents::mark),
        other => unreachable!("route {other} listed but not wired"),
    }
}

/// Builds the router from [`API_ROUTES`], plus the web UI (`/` and
/// `/ui/...`), which is not part of the API.
pub fn router(state: AppState) -> Router {
    let mut paths: Vec<&str> = API_ROUTES.iter().map(|(_, p)| *p).collect();
    paths.dedup();
    let mut r = Router::new();
    for p in paths {
        r = r.route(p, route(p).fallback(method_not_allowed));
    }
    r.merge(ui::router()).fallback(not_found).with_state(state)
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
