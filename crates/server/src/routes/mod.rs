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

mod accounts;

pub use accounts::{DEMO_PASSWORD, DEMO_USERS, create_demo_users, ensure_admin};

use crate::auth::{Access, Audit, Scope};
use crate::{ApiError, AppState, openapi};
use axum::Router;
use axum::routing::{MethodRouter, get, post};
use gridsweep_domain::Role;

/// One API route: method and path as the OpenAPI document names them,
/// who may call it, and what is audited.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub audit: Option<Audit>,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> ApiRoute {
    ApiRoute {
        method,
        path,
        access,
        audit: None,
    }
}

impl ApiRoute {
    /// Records every successful call in the audit trail.
    const fn audited(mut self, action: &'static str, identifiers: bool, body: bool) -> Self {
        self.audit = Some(Audit {
            action,
            identifiers,
            body,
        });
        self
    }
}

use Role::{Admin, Cdc, Command, Community, GridWorker, Lab, Sampler, Subdistrict};

/// Every role but the lab (which sees barcodes and results only).
const STAFF: &[Role] = &[
    Command,
    Cdc,
    Subdistrict,
    Community,
    GridWorker,
    Sampler,
    Admin,
];
/// Roles that see residents (masked, or in full for CDC).
const PEOPLE: &[Role] = &[Command, Cdc, Subdistrict, Community, GridWorker];
/// Roles that run sampling on the ground.
const SAMPLING: &[Role] = &[Sampler, Community, Subdistrict];
/// Who may follow a tube.
const TUBE_READERS: &[Role] = &[Sampler, Community, Subdistrict, Command, Cdc, Lab];
/// Who proposes, confirms and rejects an incident's decisions (the
/// playbook then checks the specific role each decision needs).
const DECIDERS: &[Role] = &[Command, Cdc];
/// Who orders a screening round.
const ORDERS: &[Role] = &[Command, Cdc, Subdistrict];

/// Every API route with its access rule. The router, the authorisation
/// middleware, the OpenAPI document and test, and the permission-matrix
/// test all read this one table.
pub const API_ROUTES: &[ApiRoute] = &[
    r("get", "/healthz", Access::Public),
    r("get", "/api/v1/openapi.json", Access::Public),
    r("post", "/api/v1/auth/login", Access::Public),
    r("post", "/api/v1/auth/logout", Access::Signed),
    r("get", "/api/v1/auth/me", Access::Signed),
    r("post", "/api/v1/auth/password", Access::Signed),
    r("get", "/api/v1/users", Access::Roles(&[Admin], Scope::None)),
    r(
        "post",
        "/api/v1/users",
        Access::Roles(&[Admin], Scope::None),
    ),
    r(
        "post",
        "/api/v1/users/{id}/disable",
        Access::Roles(&[Admin], Scope::None),
    ),
    r(
        "post",
        "/api/v1/users/{id}/enable",
        Access::Roles(&[Admin], Scope::None),
    ),
    r(
        "get",
        "/api/v1/tokens",
        Access::Roles(&[Admin], Scope::None),
    ),
    r(
        "post",
        "/api/v1/tokens",
        Access::Roles(&[Admin], Scope::None),
    ),
    r(
        "post",
        "/api/v1/tokens/{id}/revoke",
        Access::Roles(&[Admin], Scope::None),
    ),
    r("get", "/api/v1/audit", Access::Roles(&[Admin], Scope::None)),
    r("get", "/api/v1/areas", Access::Roles(STAFF, Scope::None)),
    r(
        "get",
        "/api/v1/areas/{id}",
        Access::Roles(STAFF, Scope::AreaPath("id")),
    ),
    r(
        "get",
        "/api/v1/areas/{id}/children",
        Access::Roles(STAFF, Scope::AreaPath("id")),
    ),
    r(
        "get",
        "/api/v1/persons",
        Access::Roles(PEOPLE, Scope::AreaQuery("area")),
    ),
    r(
        "get",
        "/api/v1/persons/{id}",
        Access::Roles(PEOPLE, Scope::PersonPath("id")),
    )
    .audited("person.read", true, false),
    r(
        "post",
        "/api/v1/residents/import",
        Access::Roles(&[Admin, Command], Scope::None),
    )
    .audited("residents.import", false, false),
    r(
        "get",
        "/api/v1/sites",
        Access::Roles(STAFF, Scope::AreaQuery("area")),
    ),
    r("get", "/api/v1/rounds", Access::Roles(STAFF, Scope::None)),
    r(
        "post",
        "/api/v1/rounds",
        Access::Roles(ORDERS, Scope::AreasBody("areas")),
    )
    .audited("round.create", false, true),
    r(
        "get",
        "/api/v1/rounds/{id}",
        Access::Roles(STAFF, Scope::RoundPath("id")),
    ),
    r(
        "post",
        "/api/v1/tubes",
        Access::Roles(SAMPLING, Scope::SiteBody("site")),
    ),
    r(
        "get",
        "/api/v1/tubes/{barcode}",
        Access::Roles(TUBE_READERS, Scope::TubePath("barcode")),
    ),
    r(
        "post",
        "/api/v1/tubes/{barcode}/samples",
        Access::Roles(SAMPLING, Scope::TubePath("barcode")),
    ),
    r(
        "post",
        "/api/v1/tubes/{barcode}/seal",
        Access::Roles(SAMPLING, Scope::TubePath("barcode")),
    ),
    r(
        "post",
        "/api/v1/boxes",
        Access::Roles(SAMPLING, Scope::TubesBody("tubes")),
    ),
    r(
        "post",
        "/api/v1/boxes/{barcode}/handover",
        Access::Roles(SAMPLING, Scope::BoxPath("barcode")),
    ),
    r(
        "post",
        "/api/v1/lab/receipts",
        Access::Roles(&[Lab], Scope::Lab),
    ),
    r("post", "/api/v1/results", Access::Roles(&[Lab], Scope::Lab)).audited(
        "result.post",
        false,
        true,
    ),
    r(
        "post",
        "/api/v1/results/import",
        Access::Roles(&[Lab], Scope::Lab),
    )
    .audited("results.import", false, false),
    r(
        "post",
        "/api/v1/sync",
        Access::Roles(&[Sampler, Lab], Scope::SyncEvents),
    ),
    r(
        "get",
        "/api/v1/events",
        Access::Roles(&[Command, Cdc], Scope::None),
    ),
    r(
        "get",
        "/api/v1/incidents",
        Access::Roles(PEOPLE, Scope::None),
    ),
    r(
        "get",
        "/api/v1/incidents/{id}",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "get",
        "/api/v1/incidents/{id}/live",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "get",
        "/api/v1/incidents/{id}/tasks",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "post",
        "/api/v1/incidents/{id}/tasks/{task}/done",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    )
    .audited("task.done", false, false),
    r(
        "get",
        "/api/v1/incidents/{id}/orders",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "get",
        "/api/v1/incidents/{id}/decisions",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "post",
        "/api/v1/incidents/{id}/decisions",
        Access::Roles(DECIDERS, Scope::IncidentPath("id")),
    )
    .audited("decision.propose", false, true),
    r(
        "post",
        "/api/v1/incidents/{id}/decisions/{decision}/confirm",
        Access::Roles(DECIDERS, Scope::IncidentPath("id")),
    )
    .audited("decision.confirm", false, false),
    r(
        "post",
        "/api/v1/incidents/{id}/decisions/{decision}/reject",
        Access::Roles(DECIDERS, Scope::IncidentPath("id")),
    )
    .audited("decision.reject", false, false),
    r(
        "post",
        "/api/v1/incidents/{id}/timeline",
        Access::Roles(
            &[Command, Cdc, Subdistrict, Community],
            Scope::IncidentPath("id"),
        ),
    )
    .audited("incident.note", false, true),
    r(
        "get",
        "/api/v1/incidents/{id}/report",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "get",
        "/api/v1/incidents/{id}/report/html",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "get",
        "/api/v1/incidents/{id}/report/xlsx",
        Access::Roles(PEOPLE, Scope::IncidentPath("id")),
    ),
    r(
        "get",
        "/api/v1/coverage",
        Access::Roles(PEOPLE, Scope::AreaQuery("area")),
    ),
    r(
        "get",
        "/api/v1/rounds/{id}/marks",
        Access::Roles(PEOPLE, Scope::RoundPath("id")),
    ),
    r(
        "post",
        "/api/v1/rounds/{id}/marks",
        Access::Roles(PEOPLE, Scope::RoundPathPersonBody("id", "person")),
    )
    .audited("person.mark", false, true),
];

fn route(path: &str) -> MethodRouter<AppState> {
    match path {
        "/healthz" => get(health::healthz),
        "/api/v1/openapi.json" => get(openapi::serve),
        "/api/v1/auth/login" => post(accounts::login),
        "/api/v1/auth/logout" => post(accounts::logout),
        "/api/v1/auth/me" => get(accounts::me),
        "/api/v1/auth/password" => post(accounts::change_password),
        "/api/v1/users" => get(accounts::list_users).post(accounts::create_user),
        "/api/v1/users/{id}/disable" => post(accounts::disable_user),
        "/api/v1/users/{id}/enable" => post(accounts::enable_user),
        "/api/v1/tokens" => get(accounts::list_tokens).post(accounts::create_token),
        "/api/v1/tokens/{id}/revoke" => post(accounts::revoke_token),
        "/api/v1/audit" => get(accounts::audit),
        "/api/v1/areas" => get(areas::roots),
        "/api/v1/areas/{id}" => get(areas::one),
        "/api/v1/areas/{id}/children" => get(areas::children),
        "/api/v1/persons" => get(persons::search),
        "/api/v1/persons/{id}" => get(persons::one),
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
        "/api/v1/incidents/{id}/live" => get(incidents::live),
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
    let mut paths: Vec<&str> = API_ROUTES.iter().map(|r| r.path).collect();
    paths.dedup();
    let mut r = Router::new();
    for p in paths {
        // Every route, public or not, passes the one authorisation check.
        let authz = axum::middleware::from_fn_with_state(state.clone(), crate::auth::authorize);
        r = r.route(p, route(p).fallback(method_not_allowed).route_layer(authz));
    }
    r.merge(ui::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::hygiene::hygiene))
        .with_state(state)
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
