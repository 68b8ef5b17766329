//! The access types the route table is written in: who may call a route
//! ([`Access`]), where a request names the thing whose area decides the
//! scope ([`Scope`]), and what a successful call leaves in the audit trail
//! ([`Audit`]).
//!
//! They are plain data, kept apart from the check that enforces them
//! (`crate::auth`), so the table can be read by the router, the middleware
//! and the OpenAPI document without any of them depending on another.

use gridsweep_domain::Role;

/// Who may call a route: the one rule the authorisation middleware
/// enforces for it, so no handler checks roles itself.
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

/// What the middleware records after a successful call, so that reads of
/// personal data and decisive writes leave a trace without each handler
/// writing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    /// e.g. `person.read`, `result.post`.
    pub action: &'static str,
    /// Records whether the answer carried identifiers in full or masked.
    pub identifiers: bool,
    /// Records the JSON request body (only for bodies without personal data).
    pub body: bool,
}

/// Where a request names the thing whose area decides the scope, so the
/// middleware can refuse a target outside the caller's area before the
/// handler runs.
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
    /// A round id in the path (as `RoundPath`) and a person id in this body
    /// field, who must live in the caller's scope (a mark on a resident).
    RoundPathPersonBody(&'static str, &'static str),
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
    /// Whether the target is named in the JSON body, so the middleware
    /// must read and decode the body before the handler does.
    pub(crate) fn reads_body(self) -> bool {
        matches!(
            self,
            Scope::AreasBody(_)
                | Scope::SiteBody(_)
                | Scope::TubesBody(_)
                | Scope::SyncEvents
                | Scope::RoundPathPersonBody(..)
        )
    }
}
