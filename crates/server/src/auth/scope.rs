//! The check that the thing a request is about (found where the route's
//! [`Scope`] says) lies inside the caller's scope: an area subtree for
//! people on the ground, the lab for lab accounts.
//!
//! The check fails closed: a target it cannot read, or that does not exist
//! (unless the route creates it), is refused before the handler runs; and
//! for the sampling pipeline the engine checks the same rule again inside
//! the transaction that applies each command.

use super::{MAX_SCOPED_BODY, Principal, forbidden};
use crate::extract::{DecodedJson, is_json_type, parse_json, unsupported_media_type};
use crate::route_table::Scope;
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use gridsweep_domain::pipeline::PipelineError;
use gridsweep_domain::{AreaId, AreaPath, Barcode, PersonId, Reach, Role};
use gridsweep_storage::Store;
use gridsweep_storage::UnitOfWork;
use gridsweep_storage::pipeline::{Command, DeviceEvent};
use serde_json::Value;
use std::collections::HashMap;

/// What the request was about, for the audit entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub label: Option<String>,
    pub body_summary: Option<Value>,
}

/// Where the caller may read and name things, for the check before the
/// handler: the engine's [`Reach`], except that the admin reaches every
/// place and tube here (never persons: the route table keeps the admin off
/// every person route), while the engine lets the admin apply no command
/// ([`Principal::reach`]).
fn reach(p: &Principal) -> Reach {
    match p.user.role {
        Role::Admin => Reach::Everywhere,
        _ => p.reach(),
    }
}

/// Memoised lookups for one request (a sync batch names a site or tube
/// many times). Only decisions are memoised; an error reading the store
/// goes straight back as a 5xx and is never remembered as "out of scope".
struct Checker<'a> {
    store: &'a dyn Store,
    reach: Reach,
    sites: HashMap<i64, bool>,
    tubes: HashMap<String, bool>,
}

type Checked = Result<(), ApiError>;

/// Whether a target must exist for the request to go on: on routes that
/// act on a thing it must; inside a device batch an earlier event may
/// create it, so the engine checks it when it applies the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exists {
    Required,
    MayBeCreated,
}

fn pipeline_refusal(e: PipelineError, field: &str) -> ApiError {
    ApiError::from(e).with_field(field)
}

/// The barcode exactly as the pipeline will read it.
fn normalised_barcode(raw: &str) -> Result<String, PipelineError> {
    Barcode::parse(raw)
        .map(|b| b.as_str().to_string())
        .map_err(|e| PipelineError::InvalidIdentifier(format!("barcode: {e}")))
}

impl Checker<'_> {
    fn area_path_ok(&self, path: &AreaPath) -> bool {
        match &self.reach {
            Reach::Everywhere => true,
            Reach::Area(s) => path.is_within(s),
            _ => false,
        }
    }

    fn area(&self, id: i64, field: &str) -> Checked {
        let id = AreaId::new(id).map_err(|e| ApiError::invalid(field, e.to_string()))?;
        match self.store.area(id)? {
            None => Err(ApiError::not_found(format!("area {id}")).with_field(field)),
            Some(a) if !self.area_path_ok(&a.path) => {
                Err(forbidden(format!("area {id} is outside your scope")))
            }
            Some(_) => Ok(()),
        }
    }

    fn site(&mut self, id: i64, exists: Exists, field: &str) -> Checked {
        let ok = match self.sites.get(&id) {
            Some(ok) => *ok,
            None => {
                let ok = match self.store.site(id)? {
                    None if exists == Exists::MayBeCreated => return Ok(()),
                    None => return Err(pipeline_refusal(PipelineError::SiteUnknown(id), field)),
                    // A site whose area cannot be found cannot be placed
                    // in anyone's scope: refused.
                    Some(site) => self
                        .store
                        .area(site.area)?
                        .is_some_and(|a| self.area_path_ok(&a.path)),
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

    fn tube(&mut self, raw: &str, exists: Exists, field: &str) -> Checked {
        let code = match normalised_barcode(raw) {
            Ok(c) => c,
            // In a batch the engine refuses the event itself, as the
            // device's answer for that sequence number.
            Err(_) if exists == Exists::MayBeCreated => return Ok(()),
            Err(e) => return Err(pipeline_refusal(e, field)),
        };
        if matches!(self.reach, Reach::Lab) {
            // Labs follow any barcode (and see nothing but barcodes).
            return Ok(());
        }
        let ok = match self.tubes.get(&code) {
            Some(ok) => *ok,
            None => {
                let ok = match self.store.tube(&code)? {
                    None if exists == Exists::MayBeCreated => return Ok(()),
                    None => {
                        return Err(pipeline_refusal(PipelineError::TubeUnknown(code), field));
                    }
                    Some(t) => match self.site(t.site, Exists::Required, field) {
                        Ok(()) => true,
                        Err(e) if e.status == StatusCode::FORBIDDEN => false,
                        Err(e) => return Err(e),
                    },
                };
                self.tubes.insert(code.clone(), ok);
                ok
            }
        };
        if ok {
            Ok(())
        } else {
            Err(forbidden(format!("tube {code} is outside your scope")))
        }
    }

    fn boxed(&mut self, raw: &str, exists: Exists, field: &str) -> Checked {
        let code = match normalised_barcode(raw) {
            Ok(c) => c,
            Err(_) if exists == Exists::MayBeCreated => return Ok(()),
            Err(e) => return Err(pipeline_refusal(e, field)),
        };
        if matches!(self.reach, Reach::Lab) {
            return Ok(());
        }
        // An empty or unknown box: the engine refuses an unknown one, and
        // an empty one carries nothing of anyone's.
        for t in self.store.box_tubes(&code)? {
            self.tube(&t, Exists::Required, field)?;
        }
        Ok(())
    }

    /// An incident is in scope when its area and the account's area
    /// overlap (a district account sees all; a community sees its own).
    fn incident(&self, id: i64) -> Checked {
        let unknown = || ApiError::from(gridsweep_response::ResponseError::IncidentUnknown(id));
        let Some(incident) = self.store.read(|tx| tx.incident(id))? else {
            return Err(unknown());
        };
        let scope = match &self.reach {
            Reach::Everywhere => return Ok(()),
            Reach::Area(s) => s,
            _ => return Err(forbidden("incidents are visible to area accounts only")),
        };
        match self.store.area(incident.area.id)? {
            Some(area) if area.path.overlaps(scope) => Ok(()),
            // An incident whose area cannot be found is in no one's scope.
            _ => Err(forbidden(format!("incident {id} is outside your scope"))),
        }
    }

    fn round(&self, id: i64) -> Checked {
        let Some(round) = self.store.round(id)? else {
            return Err(ApiError::from(PipelineError::RoundUnknown(id)));
        };
        let scope = match &self.reach {
            Reach::Everywhere => return Ok(()),
            Reach::Area(s) => s,
            _ => return Err(forbidden("rounds are visible to area accounts only")),
        };
        let overlaps = self
            .store
            .areas(&round.areas)?
            .iter()
            .any(|a| a.path.overlaps(scope));
        if overlaps {
            Ok(())
        } else {
            Err(forbidden(format!(
                "round {id} covers no area in your scope"
            )))
        }
    }

    fn person(&self, id: i64, field: &str) -> Checked {
        match self.store.person(PersonId(id))? {
            None => Err(ApiError::not_found(format!("person {id}")).with_field(field)),
            Some(p) if !self.area_path_ok(&p.household_path) => {
                Err(forbidden(format!("person {id} lives outside your scope")))
            }
            Some(_) => Ok(()),
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

    /// Each event of a device batch, typed exactly as the handler will
    /// read it: sampling events need the site or tube in the area scope;
    /// lab events need a lab account. A target the batch itself creates
    /// passes here; the engine checks every event again when it applies
    /// it, inside its transaction.
    fn events(&mut self, events: &[DeviceEvent]) -> Checked {
        let may = Exists::MayBeCreated;
        for e in events {
            match &e.command {
                Command::OpenTube { site, .. } => {
                    self.sampling()?;
                    self.site(*site, may, "events")?;
                }
                Command::AddPerson { tube, .. }
                | Command::AddPoint { tube, .. }
                | Command::SealTube { tube } => {
                    self.sampling()?;
                    self.tube(tube, may, "events")?;
                }
                Command::BoxTubes { box_barcode, tubes } => {
                    self.sampling()?;
                    self.boxed(box_barcode, may, "events")?;
                    for t in tubes {
                        self.tube(t, may, "events")?;
                    }
                }
                Command::HandOver { box_barcode } => {
                    self.sampling()?;
                    self.boxed(box_barcode, may, "events")?;
                }
                Command::Receive { .. } | Command::PostResult { .. } => self.lab()?,
            }
        }
        Ok(())
    }
}

/// Checks the scope of one request. When the scope lives in the body, the
/// body is read and decoded here, once: a body the check cannot read is
/// refused (415 for a type the handler would not read either, 400 for bad
/// JSON), and the decoded value travels on to the handler, which acts on
/// exactly what was checked.
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
    let mut json = None;
    let body = if scope.reads_body() || keep_body {
        let bytes = axum::body::to_bytes(body, MAX_SCOPED_BODY)
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    e.to_string(),
                )
            })?;
        let is_json = is_json_type(&parts.headers);
        if scope.reads_body() {
            if !is_json {
                return Err(unsupported_media_type());
            }
            let v = parse_json(&bytes)?;
            crate::extract::no_nul(&v)?;
            json = Some(v);
        } else if is_json {
            // Only for the audit entry: the handler refuses what is bad.
            json = parse_json(&bytes).ok();
        }
        Body::from(bytes)
    } else {
        body
    };
    let mut target = Target::default();
    if keep_body {
        target.body_summary = json.clone();
    }
    let query = query_pairs(&parts)?;
    let job = Job {
        scope,
        params,
        query,
        json,
        reach: reach(principal),
    };
    target.label = job.label();
    let json = state.blocking(move |s| job.run(s)).await?;
    if let Some(v) = json {
        parts.extensions.insert(DecodedJson(v));
    }
    Ok((Request::from_parts(parts, body), target))
}

/// The query string's pairs, decoded as the handlers' `Query` decodes them.
fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(parts.uri.query().unwrap_or(""))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))
}

/// The owned inputs of a scope check, moved to a blocking thread.
struct Job {
    scope: Scope,
    params: HashMap<String, String>,
    query: Vec<(String, String)>,
    json: Option<Value>,
    reach: Reach,
}

impl Job {
    /// An id in the path, read as the handler's `Path<i64>` reads it; a
    /// value it cannot read is refused here rather than passed on.
    fn int_param(&self, name: &str) -> Result<i64, ApiError> {
        self.params
            .get(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    format!("{name} must be a whole number"),
                )
                .with_field(name)
            })
    }

    fn str_param(&self, name: &str) -> Result<&str, ApiError> {
        self.params.get(name).map(String::as_str).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                format!("{name} is missing"),
            )
        })
    }

    /// A scoped query parameter: exactly once, a whole number. Given twice
    /// it is refused, so the check and the handler cannot read two values.
    fn int_query(&self, name: &str) -> Result<i64, ApiError> {
        let mut values = self.query.iter().filter(|(k, _)| k == name);
        let (Some((_, v)), None) = (values.next(), values.next()) else {
            return Err(ApiError::invalid(name, format!("{name} is required, once")));
        };
        v.parse().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("{name} must be a whole number"),
            )
            .with_field(name)
        })
    }

    fn body_field(&self, name: &str) -> Result<&Value, ApiError> {
        let v = self.json.as_ref().map(|j| &j[name]).unwrap_or(&Value::Null);
        if v.is_null() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("missing field `{name}`"),
            )
            .with_field(name));
        }
        Ok(v)
    }

    /// What the request is about, for the audit trail.
    fn label(&self) -> Option<String> {
        let field = |f: &str| self.json.as_ref().map(|j| j[f].clone());
        let query = |q: &str| self.query.iter().find(|(k, _)| k == q).map(|(_, v)| v);
        match self.scope {
            Scope::PersonPath(p) => self.params.get(p).map(|v| format!("person:{v}")),
            Scope::TubePath(p) => self.params.get(p).map(|v| format!("tube:{}", v.trim())),
            Scope::BoxPath(p) => self.params.get(p).map(|v| format!("box:{}", v.trim())),
            Scope::RoundPath(p) | Scope::RoundPathPersonBody(p, _) => {
                self.params.get(p).map(|v| format!("round:{v}"))
            }
            Scope::AreaPath(p) => self.params.get(p).map(|v| format!("area:{v}")),
            Scope::AreaQuery(q) => query(q).map(|v| format!("area:{v}")),
            Scope::TubesBody(f) => field(f).map(|v| format!("tube:{}", strings(&v).join(","))),
            Scope::Lab => field("tube").and_then(|v| v.as_str().map(|t| format!("tube:{t}"))),
            _ => None,
        }
    }

    /// Runs the check; gives the decoded body back for the handler.
    fn run(self, store: &dyn Store) -> Result<Option<Value>, ApiError> {
        let mut c = Checker {
            store,
            reach: self.reach.clone(),
            sites: HashMap::new(),
            tubes: HashMap::new(),
        };
        let required = Exists::Required;
        match self.scope {
            Scope::None => {}
            Scope::Lab => c.lab()?,
            Scope::AreaPath(p) => c.area(self.int_param(p)?, p)?,
            Scope::AreaQuery(q) => c.area(self.int_query(q)?, q)?,
            Scope::AreasBody(f) => {
                let ids = self.body_field(f)?.as_array().ok_or_else(|| {
                    ApiError::invalid(f, format!("{f} must be a list of area ids"))
                })?;
                for id in ids {
                    let id = id.as_i64().ok_or_else(|| {
                        ApiError::invalid(f, format!("{f} must be a list of area ids"))
                    })?;
                    c.area(id, f)?;
                }
            }
            Scope::RoundPath(p) => c.round(self.int_param(p)?)?,
            Scope::RoundPathPersonBody(p, f) => {
                c.round(self.int_param(p)?)?;
                let person = self
                    .body_field(f)?
                    .as_i64()
                    .ok_or_else(|| ApiError::invalid(f, format!("{f} must be a person id")))?;
                c.person(person, f)?;
            }
            Scope::IncidentPath(p) => c.incident(self.int_param(p)?)?,
            Scope::SiteBody(f) => {
                let site = self
                    .body_field(f)?
                    .as_i64()
                    .ok_or_else(|| ApiError::invalid(f, format!("{f} must be a site id")))?;
                c.site(site, required, f)?;
            }
            Scope::TubePath(p) => c.tube(self.str_param(p)?, required, p)?,
            Scope::TubesBody(f) => {
                let v = self.body_field(f)?;
                let list = match v {
                    Value::String(_) => vec![v],
                    Value::Array(a) => a.iter().collect(),
                    _ => Vec::new(),
                };
                for t in list {
                    let t = t.as_str().ok_or_else(|| {
                        ApiError::invalid(f, format!("{f} must be a list of barcodes"))
                    })?;
                    c.tube(t, required, f)?;
                }
            }
            Scope::BoxPath(p) => c.boxed(self.str_param(p)?, required, p)?,
            Scope::PersonPath(p) => c.person(self.int_param(p)?, p)?,
            Scope::SyncEvents => {
                // Typed straight from the decoded tree (no copy of it): the
                // events exactly as the handler will read them.
                use serde::Deserialize;
                let events =
                    Vec::<DeviceEvent>::deserialize(self.body_field("events")?).map_err(|e| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "invalid_body",
                            format!("failed to deserialize the JSON body: events: {e}"),
                        )
                        .with_field("events")
                    })?;
                c.events(&events)?;
            }
        }
        Ok(self.json)
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
