//! The router: mounts every path of the route table
//! ([`crate::route_table`]) with its handlers behind the one authorisation
//! middleware. The table itself lives apart, so the middleware can read it
//! without depending on the handlers.

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

use crate::route_table::{API_PATHS, Endpoint, Operation, Verb};
use crate::{ApiError, AppState, openapi};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodFilter, MethodRouter, on};

/// The handler of one operation, answering the operation's method. The one
/// place a handler is tied to the table; the `match` is exhaustive, so
/// every [`Endpoint`] has a handler.
fn operation(op: &Operation) -> MethodRouter<AppState> {
    let m = match op.verb {
        Verb::Get => MethodFilter::GET,
        Verb::Post => MethodFilter::POST,
    };
    match op.endpoint {
        Endpoint::Healthz => on(m, health::healthz),
        Endpoint::OpenApi => on(m, openapi::serve),
        Endpoint::Login => on(m, accounts::login),
        Endpoint::Logout => on(m, accounts::logout),
        Endpoint::Me => on(m, accounts::me),
        Endpoint::ChangePassword => on(m, accounts::change_password),
        Endpoint::ListUsers => on(m, accounts::list_users),
        Endpoint::CreateUser => on(m, accounts::create_user),
        Endpoint::DisableUser => on(m, accounts::disable_user),
        Endpoint::EnableUser => on(m, accounts::enable_user),
        Endpoint::ListTokens => on(m, accounts::list_tokens),
        Endpoint::CreateToken => on(m, accounts::create_token),
        Endpoint::RevokeToken => on(m, accounts::revoke_token),
        Endpoint::AuditTrail => on(m, accounts::audit),
        Endpoint::ListRootAreas => on(m, areas::roots),
        Endpoint::GetArea => on(m, areas::one),
        Endpoint::GetAreaChildren => on(m, areas::children),
        Endpoint::SearchPersons => on(m, persons::search),
        Endpoint::GetPerson => on(m, persons::one),
        Endpoint::ImportResidents => {
            on(m, import::residents).layer(DefaultBodyLimit::max(import::MAX_ROSTER_BYTES))
        }
        Endpoint::ListSites => on(m, pipeline::list_sites),
        Endpoint::ListRounds => on(m, pipeline::list_rounds),
        Endpoint::CreateRound => on(m, pipeline::create_round),
        Endpoint::GetRound => on(m, pipeline::get_round),
        Endpoint::OpenTube => on(m, pipeline::open_tube),
        Endpoint::GetTube => on(m, pipeline::get_tube),
        Endpoint::AddSample => on(m, pipeline::add_sample),
        Endpoint::SealTube => on(m, pipeline::seal_tube),
        Endpoint::PackBox => on(m, pipeline::pack_box),
        Endpoint::HandOver => on(m, pipeline::hand_over),
        Endpoint::LabReceipt => on(m, pipeline::receive),
        Endpoint::PostResult => on(m, pipeline::post_result),
        Endpoint::ImportResults => {
            on(m, import::results).layer(DefaultBodyLimit::max(import::MAX_ROSTER_BYTES))
        }
        Endpoint::SyncBatch => on(m, sync::sync),
        Endpoint::Events => on(m, events::stream),
        Endpoint::ListIncidents => on(m, incidents::list),
        Endpoint::GetIncident => on(m, incidents::one),
        Endpoint::IncidentLive => on(m, incidents::live),
        Endpoint::IncidentTasks => on(m, incidents::tasks),
        Endpoint::TaskDone => on(m, incidents::task_done),
        Endpoint::IncidentOrders => on(m, incidents::orders),
        Endpoint::IncidentDecisions => on(m, incidents::decisions),
        Endpoint::ProposeDecision => on(m, incidents::propose),
        Endpoint::ConfirmDecision => on(m, incidents::confirm),
        Endpoint::RejectDecision => on(m, incidents::reject),
        Endpoint::AddTimeline => on(m, incidents::add_note),
        Endpoint::IncidentReport => on(m, incidents::report),
        Endpoint::IncidentReportHtml => on(m, incidents::report_html),
        Endpoint::IncidentReportXlsx => on(m, incidents::report_xlsx),
        Endpoint::Coverage => on(m, incidents::coverage),
        Endpoint::ListMarks => on(m, incidents::marks),
        Endpoint::MarkPerson => on(m, incidents::mark),
    }
}

/// Builds the router from [`API_PATHS`] (one route per path, its
/// operations merged), plus the web UI (`/` and `/ui/...`), which is not
/// part of the API.
pub fn router(state: AppState) -> Router {
    let mut r = Router::new();
    for p in API_PATHS {
        let methods = p
            .ops
            .iter()
            .fold(MethodRouter::new(), |m, op| m.merge(operation(op)));
        // Every route, public or not, passes the one authorisation check.
        let authz = axum::middleware::from_fn_with_state(state.clone(), crate::auth::authorize);
        r = r.route(
            p.path,
            methods.fallback(method_not_allowed).route_layer(authz),
        );
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
