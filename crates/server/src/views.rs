//! The JSON shapes of answers. Personal identifiers leave the server
//! masked unless a role that needs them asks (CDC: [`PersonFull`]).

use gridsweep_domain::{AreaId, AreaLevel};
use gridsweep_storage::{AreaNode, PersonRecord};
use serde::Serialize;
use std::collections::HashMap;

/// An area with its subtree's resident count.
#[derive(Debug, Serialize)]
pub struct AreaView {
    pub id: AreaId,
    pub parent: Option<AreaId>,
    pub level: AreaLevel,
    /// The level in the words staff use (社区/村, 楼栋 …).
    pub level_label: &'static str,
    pub name: String,
    pub resident_count: i64,
    /// Root first, this area last; for breadcrumbs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<AreaRef>,
}

/// A link to an area.
#[derive(Debug, Serialize)]
pub struct AreaRef {
    pub id: AreaId,
    pub level: AreaLevel,
    pub name: String,
}

impl AreaView {
    /// Without ancestors (lists of children).
    pub fn of(a: AreaNode) -> Self {
        Self {
            id: a.id,
            parent: a.parent,
            level: a.level,
            level_label: a.level.label_zh(),
            name: a.name,
            resident_count: a.resident_count,
            ancestors: Vec::new(),
        }
    }
}

/// A person as most roles see them: ID number and phone masked.
#[derive(Debug, Serialize)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
    pub document_kind: &'static str,
    /// e.g. `410105********1234`.
    pub document_masked: String,
    pub gender: Option<&'static str>,
    pub birth_year: Option<String>,
    /// e.g. `138****5678`.
    pub phone_masked: Option<String>,
    pub household: AreaId,
    /// Sub-district down to the household, for the door to knock on.
    pub address: String,
}

impl PersonView {
    /// Masks and resolves the address from `names` (ancestor id → area).
    pub fn of(p: &PersonRecord, names: &HashMap<AreaId, AreaNode>) -> Self {
        let address = p
            .household_path
            .ids()
            .iter()
            .filter_map(|id| names.get(id))
            .filter(|a| a.level != AreaLevel::District)
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            id: p.id.0,
            name: p.name.as_str().to_string(),
            document_kind: p.document.kind().as_str(),
            document_masked: p.document.masked(),
            gender: p.gender.map(|g| g.as_str()),
            birth_year: p.birth_date.as_ref().map(|d| d.chars().take(4).collect()),
            phone_masked: p
                .phone
                .as_ref()
                .map(|ph| gridsweep_domain::mask_phone(ph.as_str())),
            household: p.household,
            address,
        }
    }
}

/// A person in full, for roles that need the identifiers (CDC tracing).
#[derive(Debug, Serialize)]
pub struct PersonFull {
    #[serde(flatten)]
    pub view: PersonView,
    /// The whole document number.
    pub document: String,
    pub birth_date: Option<String>,
    /// The whole phone number.
    pub phone: Option<String>,
    /// Schools and workplaces, by name.
    pub affiliations: Vec<String>,
}

impl PersonFull {
    /// Unmasked; only for roles whose `sees_full_identifiers` is true.
    pub fn of(p: &PersonRecord, names: &HashMap<AreaId, AreaNode>) -> Self {
        Self {
            view: PersonView::of(p, names),
            document: p.document.number().to_string(),
            birth_date: p.birth_date.clone(),
            phone: p.phone.as_ref().map(|ph| ph.as_str().to_string()),
            affiliations: p
                .affiliations
                .iter()
                .filter_map(|a| names.get(&a.area).map(|n| n.name.clone()))
                .collect(),
        }
    }
}
