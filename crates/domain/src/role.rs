//! Account roles and what they may see.
//!
//! A role says what kind of work an account does; its scope (an area
//! subtree, or a lab) says where. The HTTP layer's route table decides
//! which roles may call which endpoint; the rules about personal data that
//! do not depend on the endpoint live here.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The one role of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages accounts and tokens, reads the audit trail; no personal data.
    Admin,
    /// District command (区指挥部): incidents, coverage, orders.
    Command,
    /// CDC epidemiologist (疾控): confirms, traces; sees identifiers in full.
    Cdc,
    /// Sub-district office (办事处).
    Subdistrict,
    /// Community staff (社区).
    Community,
    /// Grid worker (网格员).
    GridWorker,
    /// Sampler (采样员): opens, fills and seals tubes.
    Sampler,
    /// Lab (检测机构): receives tubes and posts results; barcodes only.
    Lab,
}

/// Every role, in the order the README lists them.
pub const ROLES: [Role; 8] = [
    Role::Admin,
    Role::Command,
    Role::Cdc,
    Role::Subdistrict,
    Role::Community,
    Role::GridWorker,
    Role::Sampler,
    Role::Lab,
];

/// A role name that is not one of [`ROLES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?} (admin, command, cdc, subdistrict, community, grid_worker, sampler, lab)"
)]
pub struct UnknownRole(pub String);

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Command => "command",
            Role::Cdc => "cdc",
            Role::Subdistrict => "subdistrict",
            Role::Community => "community",
            Role::GridWorker => "grid_worker",
            Role::Sampler => "sampler",
            Role::Lab => "lab",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Result<Self, UnknownRole> {
        ROLES
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }

    /// Whether this role receives ID numbers and phones unmasked: only CDC,
    /// which traces contacts by phone and reports by ID number.
    pub fn sees_full_identifiers(self) -> bool {
        self == Role::Cdc
    }

    /// Whether this role's scope is a lab rather than an area.
    pub fn is_lab(self) -> bool {
        self == Role::Lab
    }

    /// Whether accounts of this role carry an area scope (everyone but the
    /// lab and the admin, whose work is not tied to a place).
    pub fn needs_area(self) -> bool {
        !matches!(self, Role::Lab | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in ROLES {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Cdc.sees_full_identifiers() && !Role::Community.sees_full_identifiers());
    }
}
