//! What a route demands ([`Access`]), where it finds the thing a request
//! is about ([`Scope`]), and the check that the thing lies inside the
//! caller's scope: an area subtree for people on the ground, the lab for
//! lab accounts.
//!
//! A target that does not exist passes the scope check: the handler then
//! answers 404 (or its own refusal), and nothing is read or written.

use super::{MAX_SCOPED_BODY, Principal, forbidden};
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use gridsweep_domain::{AreaId, AreaPath, PersonId, Role};
use gridsweep_storage::Store;
use serde_json::Value;
use std::collections::HashMap;

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// Any signed-in account (its own session, its own account).
    Signed,
    /// These roles, and only for targets within their scope.
    Roles(&'static [Role], Scope),
}

impl Access {
    /// The roles allowed (all for `Signed`, none listed for `Public`).
    pub fn roles(&self) -> Option<&'static [Role]> {
        match self {
            Access::Roles(r, _) => Some(r),
            Access::Signed => Some(&gridsweep_domain::ROLES),
            Access::Public => None,
        }
    }

    /// The scope rule (`Scope::None` unless `Roles`).
    pub fn scope(&self) -> Scope {
        match self {
            Access::Roles(_, s) => *s,
            _ => Scope::None,
        }
    }
}

/// What the middleware records after a successful call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    /// e.g. `person.read`, `result.post`.
    pub action: &'static str,
    /// Records whether the answer carried identifiers in full or masked.
    pub identifiers: bool,
    /// Records the JSON request body (only for bodies without personal data).
    pub body: bool,
}

/// Where a request names the thing whose area decides the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The role is enough (nothing area-bound, or district-wide lists).
    None,
    /// An area id in this path parameter.
    AreaPath(&'static str),
    /// An area id in this query parameter.
    AreaQuery(&'static str),
    /// A JSON array of area ids in this body field: all must be in scope.
    AreasBody(&'static str),
    /// A round id in this path parameter: one of its areas must overlap.
    RoundPath(&'static str),
    /// A site id in this body field: the site's area.
    SiteBody(&'static str),
    /// A tube barcode in this path parameter: the area of its site.
    TubePath(&'static str),
    /// A tube barcode (or an array of them) in this body field.
    TubesBody(&'static str),
    /// A box barcode in this path parameter: every tube in it.
    BoxPath(&'static str),
    /// A person id in this path parameter: their household.
    PersonPath(&'static str),
    /// An incident id in this path parameter: its area must overlap.
    IncidentPath(&'static str),
    /// The caller must be a lab account (scope: its lab).
    Lab,
    /// A device batch: each event's site or tube, by event type.
    SyncEvents,
}

impl Scope {
    fn reads_body(self) -> bool {
        matches!(
            self,
            Scope::AreasBody(_) | Scope::SiteBody(_) | Scope::TubesBody(_) | Scope::SyncEvents
        )
    }
}

/// What the request was about, for the audit entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub label: Option<String>,
    pub body_summary: Option<Value>,
}

/// Where the caller may act.
#[derive(Debug, Clone)]
enum Reach {
    /// The admin: places and tubes anywhere (never persons: the route
    /// table keeps the admin off every person route).
    All,
    Area(AreaPath),
    Lab,
    Nowhere,
}

fn reach(p: &Principal) -> Reach {
    match (&p.user.scope_path, p.user.role, &p.user.lab) {
        (_, Role::Lab, Some(_)) => Reach::Lab,
        (_, Role::Lab, None) => Reach::Nowhere,
        (_, Role::Admin, _) => Reach::All,
        (Some(path), _, _) => Reach::Area(path.clone()),
        (None, _, _) => Reach::Nowhere,
    }
}

/// Memoised lookups for one request (a sync batch names a site or tube
/// many times).
struct Checker<'a> {
    store: &'a dyn Store,
    reach: Reach,
    sites: HashMap<i64, bool>,
    tubes: HashMap<String, bool>,
}

type Checked = Result<(), ApiError>;

impl Checker<'_> {
    fn area_path_ok(&self, path: &AreaPath) -> bool {
        match &self.reach {
            Reach::All => true,
            Reach::Area(s) => path.is_within(s),
            _ => false,
        }
    }

    fn area(&self, id: i64) -> Checked {
        let Ok(id) = AreaId::new(id) else {
            return Ok(());
        };
        match self.store.area(id)? {
            Some(a) if !self.area_path_ok(&a.path) => {
                Err(forbidden(format!("area {id} is outside your scope")))
            }
            _ => Ok(()),
        }
    }

    fn site(&mut self, id: i64) -> Checked {
        let ok = match self.sites.get(&id) {
            Some(ok) => *ok,
            None => {
                let ok = match self.store.site(id)? {
                    None => true,
                    Some(site) => match self.store.area(site.area)? {
                        Some(a) => self.area_path_ok(&a.path),
                        None => false,
                    },
                };
                self.sites.insert(id, ok);
                ok
            }
        };
        if ok {
            Ok(())
        } else {
            Err(forbidden(format!("site {id} is outside your scope")))
        }
    }

    fn tube(&mut self, barcode: &str) -> Checked {
        if matches!(self.reach, Reach::Lab) {
            return Ok(());
        }
        let ok = match self.tubes.get(barcode) {
            Some(ok) => *ok,
            None => {
                let ok = match self.store.tube(barcode)? {
                    None => true,
                    Some(t) => self.site(t.site).is_ok(),
                };
                self.tubes.insert(barcode.to_string(), ok);
                ok
            }
        };
        if ok {
            Ok(())
        } else {
            Err(forbidden(format!("tube {barcode} is outside your scope")))
        }
    }

    fn boxed(&mut self, barcode: &str) -> Checked {
        if matches!(self.reach, Reach::Lab) {
            return Ok(());
        }
        for t in self.store.box_tubes(barcode)? {
            self.tube(&t)?;
        }
        Ok(())
    }

    /// An incident is in scope when its area and the account's area
    /// overlap (a district account sees all; a community sees its own).
    fn incident(&self, id: i64) -> Checked {
        let Some(incident) = self.store.incidents()?.into_iter().find(|i| i.id == id) else {
            return Ok(());
        };
        let scope = match &self.reach {
            Reach::All => return Ok(()),
            Reach::Area(s) => s,
            _ => return Err(forbidden("incidents are visible to area accounts only")),
        };
        let Some(area) = self.store.area(incident.area.id)? else {
            return Ok(());
        };
        if area.path.overlaps(scope) {
            Ok(())
        } else {
            Err(forbidden(format!("incident {id} is outside your scope")))
        }
    }

    fn round(&self, id: i64) -> Checked {
        let Some(round) = self.store.round(id)? else {
            return Ok(());
        };
        let scope = match &self.reach {
            Reach::All => return Ok(()),
            Reach::Area(s) => s,
            _ => return Err(forbidden("rounds are visible to area accounts only")),
        };
        let overlaps = self
            .store
            .areas(&round.areas)?
            .iter()
            .any(|a| a.path.is_within(scope) || scope.is_within(&a.path));
        if overlaps {
            Ok(())
        } else {
            Err(forbidden(format!(
                "round {id} covers no area in your scope"
            )))
        }
    }

    fn person(&self, id: i64) -> Checked {
        match self.store.person(PersonId(id))? {
            Some(p) if !self.area_path_ok(&p.household_path) => {
                Err(forbidden(format!("person {id} lives outside your scope")))
            }
            _ => Ok(()),
        }
    }

    fn lab(&self) -> Checked {
        match self.reach {
            Reach::Lab => Ok(()),
            _ => Err(forbidden("only lab accounts may do this")),
        }
    }

    fn sampling(&self) -> Checked {
        match self.reach {
            Reach::Area(_) => Ok(()),
            _ => Err(forbidden("only accounts with an area scope may sample")),
        }
    }

    /// Each event by its type: sampling events need the site or tube in
    /// the area scope; lab events need a lab account.
    fn events(&mut self, events: &[Value]) -> Checked {
        for e in events {
            let tube = e["tube"].as_str();
            match e["type"].as_str().unwrap_or("") {
                "open_tube" => {
                    self.sampling()?;
                    if let Some(site) = e["site"].as_i64() {
                        self.site(site)?;
                    }
                }
                "add_person" | "add_point" | "seal_tube" => {
                    self.sampling()?;
                    if let Some(t) = tube {
                        self.tube(t)?;
                    }
                }
                "box_tubes" => {
                    self.sampling()?;
                    for t in strings(&e["tubes"]) {
                        self.tube(&t)?;
                    }
                }
                "hand_over" => {
                    self.sampling()?;
                    if let Some(b) = e["box"].as_str() {
                        self.boxed(b)?;
                    }
                }
                "receive" | "post_result" => self.lab()?,
                // Unknown types are refused by the handler's parser.
                _ => {}
            }
        }
        Ok(())
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks the scope of one request, reading its body when the scope lives
/// there (and putting the body back for the handler).
pub(crate) async fn check(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    keep_body: bool,
    req: Request,
) -> Result<(Request, Target), ApiError> {
    let (mut parts, body) = req.into_parts();
    let params: HashMap<String, String> =
        match RawPathParams::from_request_parts(&mut parts, &()).await {
            Ok(p) => p
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Err(_) => HashMap::new(),
        };
    let is_json = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (body, json) = if scope.reads_body() || keep_body {
        let bytes = axum::body::to_bytes(body, MAX_SCOPED_BODY)
            .await
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    e.to_string(),
                )
            })?;
        let json = if is_json {
            serde_json::from_slice::<Value>(&bytes).ok()
        } else {
            None
        };
        (Body::from(bytes), json)
    } else {
        (body, None)
    };
    let mut target = Target::default();
    if keep_body {
        target.body_summary = json.clone();
    }
    let query = query_params(&parts);
    let job = Job {
        scope,
        params,
        query,
        json,
        reach: reach(principal),
    };
    target.label = job.label();
    let reads_body = scope.reads_body();
    if reads_body && job.json.is_none() {
        // Unreadable JSON: the handler refuses it, before writing anything.
        return Ok((Request::from_parts(parts, body), target));
    }
    state.blocking(move |s| job.run(s)).await?;
    Ok((Request::from_parts(parts, body), target))
}

fn query_params(parts: &Parts) -> HashMap<String, String> {
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// The owned inputs of a scope check, moved to a blocking thread.
struct Job {
    scope: Scope,
    params: HashMap<String, String>,
    query: HashMap<String, String>,
    json: Option<Value>,
    reach: Reach,
}

impl Job {
    fn int_param(&self, name: &str) -> Option<i64> {
        self.params.get(name).and_then(|v| v.parse().ok())
    }

    /// What the request is about, for the audit trail.
    fn label(&self) -> Option<String> {
        let field = |f: &str| self.json.as_ref().map(|j| j[f].clone());
        match self.scope {
            Scope::PersonPath(p) => self.params.get(p).map(|v| format!("person:{v}")),
            Scope::TubePath(p) => self.params.get(p).map(|v| format!("tube:{v}")),
            Scope::BoxPath(p) => self.params.get(p).map(|v| format!("box:{v}")),
            Scope::RoundPath(p) => self.params.get(p).map(|v| format!("round:{v}")),
            Scope::AreaPath(p) => self.params.get(p).map(|v| format!("area:{v}")),
            Scope::AreaQuery(q) => self.query.get(q).map(|v| format!("area:{v}")),
            Scope::TubesBody(f) => field(f).map(|v| format!("tube:{}", strings(&v).join(","))),
            Scope::Lab => field("tube").and_then(|v| v.as_str().map(|t| format!("tube:{t}"))),
            _ => None,
        }
    }

    fn run(self, store: &dyn Store) -> Result<(), ApiError> {
        let mut c = Checker {
            store,
            reach: self.reach.clone(),
            sites: HashMap::new(),
            tubes: HashMap::new(),
        };
        let json = self.json.as_ref();
        match self.scope {
            Scope::None => Ok(()),
            Scope::Lab => c.lab(),
            Scope::AreaPath(p) => match self.int_param(p) {
                Some(id) => c.area(id),
                None => Ok(()),
            },
            Scope::AreaQuery(q) => match self.query.get(q).and_then(|v| v.parse().ok()) {
                Some(id) => c.area(id),
                None => Ok(()),
            },
            Scope::AreasBody(f) => {
                // A missing or mistyped field: the handler's typed body
                // refuses it before anything is read or written.
                let Some(ids) = json.and_then(|j| j[f].as_array()) else {
                    return Ok(());
                };
                for id in ids.iter().filter_map(Value::as_i64) {
                    c.area(id)?;
                }
                Ok(())
            }
            Scope::RoundPath(p) => match self.int_param(p) {
                Some(id) => c.round(id),
                None => Ok(()),
            },
            Scope::IncidentPath(p) => match self.int_param(p) {
                Some(id) => c.incident(id),
                None => Ok(()),
            },
            Scope::SiteBody(f) => match json.and_then(|j| j[f].as_i64()) {
                Some(site) => c.site(site),
                None => Ok(()),
            },
            Scope::TubePath(p) => match self.params.get(p) {
                Some(t) => c.tube(t),
                None => Ok(()),
            },
            Scope::TubesBody(f) => {
                let Some(v) = json.map(|j| &j[f]) else {
                    return Ok(());
                };
                for t in strings(v) {
                    c.tube(&t)?;
                }
                Ok(())
            }
            Scope::BoxPath(p) => match self.params.get(p) {
                Some(b) => c.boxed(b),
                None => Ok(()),
            },
            Scope::PersonPath(p) => match self.int_param(p) {
                Some(id) => c.person(id),
                None => Ok(()),
            },
            Scope::SyncEvents => match json.and_then(|j| j["events"].as_array()) {
                Some(events) => c.events(events),
                None => Ok(()),
            },
        }
    }
}
