//! The route table: every API path, written once, with its operations, who
//! may call each, and what is audited.
//!
//! The router (`crate::routes`), the authorisation middleware
//! (`crate::auth`), the OpenAPI document and the tests all read this one
//! table, so a route cannot be added without being authorised and
//! documented. It names handlers only through [`Endpoint`] and depends on
//! nothing in this crate but its own access types: the router and the
//! middleware both depend on it, and not on each other's internals.

mod access;

pub use access::{Access, Audit, Scope};

use gridsweep_domain::Role;
use gridsweep_domain::Role::{
    Admin, Cdc, Command, Community, GridWorker, Lab, Sampler, Subdistrict,
};

/// The HTTP methods the API uses, so the table can say which one an
/// operation answers without naming the router's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET` (the router answers `HEAD` with it too).
    Get,
    /// `POST`.
    Post,
}

impl Verb {
    /// The lower-case name the OpenAPI document keys operations by.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }
}

/// Which handler answers an operation. The table names the handler with
/// this instead of holding it, so the table needs no handler imports; the
/// router maps every variant to its handler in one exhaustive `match`, so
/// an endpoint without a handler does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Liveness probe.
    Healthz,
    /// The OpenAPI document.
    OpenApi,
    /// Password login.
    Login,
    /// Ends the session.
    Logout,
    /// The caller's own account.
    Me,
    /// Replaces the caller's password.
    ChangePassword,
    /// Every account.
    ListUsers,
    /// Creates an account.
    CreateUser,
    /// Disables an account.
    DisableUser,
    /// Enables an account again.
    EnableUser,
    /// Every API token.
    ListTokens,
    /// Issues an API token.
    CreateToken,
    /// Revokes an API token.
    RevokeToken,
    /// The audit trail.
    AuditTrail,
    /// The top-level areas.
    ListRootAreas,
    /// One area.
    GetArea,
    /// An area's children.
    GetAreaChildren,
    /// Searches residents.
    SearchPersons,
    /// One resident's record.
    GetPerson,
    /// Uploads a resident roster.
    ImportResidents,
    /// Sampling sites.
    ListSites,
    /// Screening rounds.
    ListRounds,
    /// Orders a screening round.
    CreateRound,
    /// One round.
    GetRound,
    /// Opens a tube at a site.
    OpenTube,
    /// Follows one tube.
    GetTube,
    /// Adds a sample to a tube.
    AddSample,
    /// Seals a tube.
    SealTube,
    /// Packs tubes into a box.
    PackBox,
    /// Hands a box over for transport.
    HandOver,
    /// The lab receives boxes.
    LabReceipt,
    /// The lab posts one result.
    PostResult,
    /// The lab uploads a results file.
    ImportResults,
    /// A device's batch of offline events.
    SyncBatch,
    /// The live event stream.
    Events,
    /// Every incident.
    ListIncidents,
    /// One incident.
    GetIncident,
    /// One incident's live stream.
    IncidentLive,
    /// An incident's tasks.
    IncidentTasks,
    /// Marks a task done.
    TaskDone,
    /// An incident's orders.
    IncidentOrders,
    /// An incident's decisions.
    IncidentDecisions,
    /// Proposes a decision.
    ProposeDecision,
    /// Confirms a proposed decision.
    ConfirmDecision,
    /// Rejects a proposed decision.
    RejectDecision,
    /// Adds a note to an incident's timeline.
    AddTimeline,
    /// An incident's report (JSON).
    IncidentReport,
    /// An incident's report (HTML).
    IncidentReportHtml,
    /// An incident's report (spreadsheet).
    IncidentReportXlsx,
    /// Screening coverage of an area.
    Coverage,
    /// A round's marks on residents.
    ListMarks,
    /// Marks a resident in a round.
    MarkPerson,
}

/// One operation on a path: its method, the handler that answers it, who
/// may call it, and what is audited.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The HTTP method.
    pub verb: Verb,
    /// The handler that answers.
    pub endpoint: Endpoint,
    /// Who may call it.
    pub access: Access,
    /// What a successful call records, if anything.
    pub audit: Option<Audit>,
}

impl Operation {
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

/// One API path with every operation on it: the unit the router mounts,
/// and the reason each path is written once.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath {
    /// The path as the OpenAPI document and the router name it.
    pub path: &'static str,
    /// Its operations, one per method.
    pub ops: &'static [Operation],
}

/// One API route (one operation on one path): method and path as the
/// OpenAPI document names them, who may call it, and what is audited. The
/// flat view of [`API_PATHS`] that the middleware looks requests up in.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    /// Lower-case method (`get`, `post`).
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What a successful call records, if anything.
    pub audit: Option<Audit>,
    /// The handler that answers.
    pub endpoint: Endpoint,
}

const fn path(path: &'static str, ops: &'static [Operation]) -> ApiPath {
    ApiPath { path, ops }
}

const fn get(endpoint: Endpoint, access: Access) -> Operation {
    Operation {
        verb: Verb::Get,
        endpoint,
        access,
        audit: None,
    }
}

const fn post(endpoint: Endpoint, access: Access) -> Operation {
    Operation {
        verb: Verb::Post,
        endpoint,
        access,
        audit: None,
    }
}

/// Only the admin, and nothing area-bound.
const ADMIN: Access = Access::Roles(&[Admin], Scope::None);
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
/// Who may write on an incident's timeline.
const NOTE_TAKERS: &[Role] = &[Command, Cdc, Subdistrict, Community];
/// People-facing roles, within the incident's area.
const INCIDENT: Access = Access::Roles(PEOPLE, Scope::IncidentPath("id"));

/// Every API path with its operations and their access rules: the single
/// list the router, the authorisation middleware, the OpenAPI document and
/// test, and the permission-matrix test all read.
pub const API_PATHS: &[ApiPath] = &[
    path("/healthz", &[get(Endpoint::Healthz, Access::Public)]),
    path(
        "/api/v1/openapi.json",
        &[get(Endpoint::OpenApi, Access::Public)],
    ),
    path(
        "/api/v1/auth/login",
        &[post(Endpoint::Login, Access::Public)],
    ),
    path(
        "/api/v1/auth/logout",
        &[post(Endpoint::Logout, Access::Signed)],
    ),
    path("/api/v1/auth/me", &[get(Endpoint::Me, Access::Signed)]),
    path(
        "/api/v1/auth/password",
        &[post(Endpoint::ChangePassword, Access::Signed)],
    ),
    path(
        "/api/v1/users",
        &[
            get(Endpoint::ListUsers, ADMIN),
            post(Endpoint::CreateUser, ADMIN),
        ],
    ),
    path(
        "/api/v1/users/{id}/disable",
        &[post(Endpoint::DisableUser, ADMIN)],
    ),
    path(
        "/api/v1/users/{id}/enable",
        &[post(Endpoint::EnableUser, ADMIN)],
    ),
    path(
        "/api/v1/tokens",
        &[
            get(Endpoint::ListTokens, ADMIN),
            post(Endpoint::CreateToken, ADMIN),
        ],
    ),
    path(
        "/api/v1/tokens/{id}/revoke",
        &[post(Endpoint::RevokeToken, ADMIN)],
    ),
    path("/api/v1/audit", &[get(Endpoint::AuditTrail, ADMIN)]),
    path(
        "/api/v1/areas",
        &[get(
            Endpoint::ListRootAreas,
            Access::Roles(STAFF, Scope::None),
        )],
    ),
    path(
        "/api/v1/areas/{id}",
        &[get(
            Endpoint::GetArea,
            Access::Roles(STAFF, Scope::AreaPath("id")),
        )],
    ),
    path(
        "/api/v1/areas/{id}/children",
        &[get(
            Endpoint::GetAreaChildren,
            Access::Roles(STAFF, Scope::AreaPath("id")),
        )],
    ),
    path(
        "/api/v1/persons",
        &[get(
            Endpoint::SearchPersons,
            Access::Roles(PEOPLE, Scope::AreaQuery("area")),
        )],
    ),
    path(
        "/api/v1/persons/{id}",
        &[get(
            Endpoint::GetPerson,
            Access::Roles(PEOPLE, Scope::PersonPath("id")),
        )
        .audited("person.read", true, false)],
    ),
    path(
        "/api/v1/residents/import",
        &[post(
            Endpoint::ImportResidents,
            Access::Roles(&[Admin, Command], Scope::None),
        )
        .audited("residents.import", false, false)],
    ),
    path(
        "/api/v1/sites",
        &[get(
            Endpoint::ListSites,
            Access::Roles(STAFF, Scope::AreaQuery("area")),
        )],
    ),
    path(
        "/api/v1/rounds",
        &[
            get(Endpoint::ListRounds, Access::Roles(STAFF, Scope::None)),
            post(
                Endpoint::CreateRound,
                Access::Roles(ORDERS, Scope::AreasBody("areas")),
            )
            .audited("round.create", false, true),
        ],
    ),
    path(
        "/api/v1/rounds/{id}",
        &[get(
            Endpoint::GetRound,
            Access::Roles(STAFF, Scope::RoundPath("id")),
        )],
    ),
    path(
        "/api/v1/tubes",
        &[post(
            Endpoint::OpenTube,
            Access::Roles(SAMPLING, Scope::SiteBody("site")),
        )],
    ),
    path(
        "/api/v1/tubes/{barcode}",
        &[get(
            Endpoint::GetTube,
            Access::Roles(TUBE_READERS, Scope::TubePath("barcode")),
        )],
    ),
    path(
        "/api/v1/tubes/{barcode}/samples",
        &[post(
            Endpoint::AddSample,
            Access::Roles(SAMPLING, Scope::TubePath("barcode")),
        )],
    ),
    path(
        "/api/v1/tubes/{barcode}/seal",
        &[post(
            Endpoint::SealTube,
            Access::Roles(SAMPLING, Scope::TubePath("barcode")),
        )],
    ),
    path(
        "/api/v1/boxes",
        &[post(
            Endpoint::PackBox,
            Access::Roles(SAMPLING, Scope::TubesBody("tubes")),
        )],
    ),
    path(
        "/api/v1/boxes/{barcode}/handover",
        &[post(
            Endpoint::HandOver,
            Access::Roles(SAMPLING, Scope::BoxPath("barcode")),
        )],
    ),
    path(
        "/api/v1/lab/receipts",
        &[post(
            Endpoint::LabReceipt,
            Access::Roles(&[Lab], Scope::Lab),
        )],
    ),
    path(
        "/api/v1/results",
        &[
            post(Endpoint::PostResult, Access::Roles(&[Lab], Scope::Lab)).audited(
                "result.post",
                false,
                true,
            ),
        ],
    ),
    path(
        "/api/v1/results/import",
        &[
            post(Endpoint::ImportResults, Access::Roles(&[Lab], Scope::Lab)).audited(
                "results.import",
                false,
                false,
            ),
        ],
    ),
    path(
        "/api/v1/sync",
        &[post(
            Endpoint::SyncBatch,
            Access::Roles(&[Sampler, Lab], Scope::SyncEvents),
        )],
    ),
    path(
        "/api/v1/events",
        &[get(
            Endpoint::Events,
            Access::Roles(&[Command, Cdc], Scope::None),
        )],
    ),
    path(
        "/api/v1/incidents",
        &[get(
            Endpoint::ListIncidents,
            Access::Roles(PEOPLE, Scope::None),
        )],
    ),
    path(
        "/api/v1/incidents/{id}",
        &[get(Endpoint::GetIncident, INCIDENT)],
    ),
    path(
        "/api/v1/incidents/{id}/live",
        &[get(Endpoint::IncidentLive, INCIDENT)],
    ),
    path(
        "/api/v1/incidents/{id}/tasks",
        &[get(Endpoint::IncidentTasks, INCIDENT)],
    ),
    path(
        "/api/v1/incidents/{id}/tasks/{task}/done",
        &[post(Endpoint::TaskDone, INCIDENT).audited("task.done", false, false)],
    ),
    path(
        "/api/v1/incidents/{id}/orders",
        &[get(Endpoint::IncidentOrders, INCIDENT)],
    ),
    path(
        "/api/v1/incidents/{id}/decisions",
        &[
            get(Endpoint::IncidentDecisions, INCIDENT),
            post(
                Endpoint::ProposeDecision,
                Access::Roles(DECIDERS, Scope::IncidentPath("id")),
            )
            .audited("decision.propose", false, true),
        ],
    ),
    path(
        "/api/v1/incidents/{id}/decisions/{decision}/confirm",
        &[post(
            Endpoint::ConfirmDecision,
            Access::Roles(DECIDERS, Scope::IncidentPath("id")),
        )
        .audited("decision.confirm", false, false)],
    ),
    path(
        "/api/v1/incidents/{id}/decisions/{decision}/reject",
        &[post(
            Endpoint::RejectDecision,
            Access::Roles(DECIDERS, Scope::IncidentPath("id")),
        )
        .audited("decision.reject", false, false)],
    ),
    path(
        "/api/v1/incidents/{id}/timeline",
        &[post(
            Endpoint::AddTimeline,
            Access::Roles(NOTE_TAKERS, Scope::IncidentPath("id")),
        )
        .audited("incident.note", false, true)],
    ),
    path(
        "/api/v1/incidents/{id}/report",
        &[get(Endpoint::IncidentReport, INCIDENT)],
    ),
    path(
        "/api/v1/incidents/{id}/report/html",
        &[get(Endpoint::IncidentReportHtml, INCIDENT)],
    ),
    path(
        "/api/v1/incidents/{id}/report/xlsx",
        &[get(Endpoint::IncidentReportXlsx, INCIDENT)],
    ),
    path(
        "/api/v1/coverage",
        &[get(
            Endpoint::Coverage,
            Access::Roles(PEOPLE, Scope::AreaQuery("area")),
        )],
    ),
    path(
        "/api/v1/rounds/{id}/marks",
        &[
            get(
                Endpoint::ListMarks,
                Access::Roles(PEOPLE, Scope::RoundPath("id")),
            ),
            post(
                Endpoint::MarkPerson,
                Access::Roles(PEOPLE, Scope::RoundPathPersonBody("id", "person")),
            )
            .audited("person.mark", false, true),
        ],
    ),
];

/// Every API route, one per operation, in the order of [`API_PATHS`]: the
/// flat list the middleware looks a request's method and path up in.
pub const API_ROUTES: &[ApiRoute] = &flatten::<{ count(API_PATHS) }>(API_PATHS);

/// How many operations the table holds.
const fn count(paths: &[ApiPath]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < paths.len() {
        n += paths[i].ops.len();
        i += 1;
    }
    n
}

const fn route(p: &ApiPath, op: &Operation) -> ApiRoute {
    ApiRoute {
        method: op.verb.as_str(),
        path: p.path,
        access: op.access,
        audit: op.audit,
        endpoint: op.endpoint,
    }
}

/// The operations of `paths` in order, each with its path (`N` is
/// [`count`] of them, so every slot is written).
const fn flatten<const N: usize>(paths: &[ApiPath]) -> [ApiRoute; N] {
    let mut out = [route(&paths[0], &paths[0].ops[0]); N];
    let (mut i, mut n) = (0, 0);
    while i < paths.len() {
        let mut j = 0;
        while j < paths[i].ops.len() {
            out[n] = route(&paths[i], &paths[i].ops[j]);
            n += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_path_is_listed_once_with_one_operation_per_method() {
        let mut paths = HashSet::new();
        for p in API_PATHS {
            assert!(paths.insert(p.path), "{} listed twice", p.path);
            assert!(!p.ops.is_empty(), "{} has no operation", p.path);
            let verbs: HashSet<Verb> = p.ops.iter().map(|o| o.verb).collect();
            assert_eq!(verbs.len(), p.ops.len(), "{}: a method twice", p.path);
        }
    }

    #[test]
    fn each_endpoint_answers_one_operation() {
        let mut seen = HashSet::new();
        for r in API_ROUTES {
            assert!(seen.insert(r.endpoint), "{:?} used twice", r.endpoint);
        }
    }

    #[test]
    fn the_flat_list_is_the_table_in_order() {
        let flat: Vec<_> = API_PATHS
            .iter()
            .flat_map(|p| {
                p.ops
                    .iter()
                    .map(move |o| (o.verb.as_str(), p.path, o.endpoint))
            })
            .collect();
        let routes: Vec<_> = API_ROUTES
            .iter()
            .map(|r| (r.method, r.path, r.endpoint))
            .collect();
        assert_eq!(flat, routes);
    }
}
