//! Row types passed to and from a [`crate::Store`].

use gridsweep_domain::{
    Affiliation, AreaError, AreaId, AreaLevel, AreaPath, Gender, PersonDocument, PersonId,
    PersonName, Phone, SiteKind,
};
use serde::Serialize;

/// The id sequences a store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Area,
    Person,
    Site,
    Round,
}

impl IdKind {
    /// Key in the counters table.
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Area => "area",
            IdKind::Person => "person",
            IdKind::Site => "site",
            IdKind::Round => "round",
        }
    }
}

/// An area about to be inserted, with its id already allocated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArea {
    pub id: AreaId,
    pub parent: Option<AreaId>,
    pub level: AreaLevel,
    pub name: String,
    pub path: AreaPath,
}

impl NewArea {
    /// A district (the only kind of root).
    pub fn root(id: AreaId, name: &str) -> Self {
        Self {
            id,
            parent: None,
            level: AreaLevel::District,
            name: name.to_string(),
            path: AreaPath::root(id),
        }
    }

    /// A child of `parent`, checked against the grid's parent rule.
    pub fn child(
        parent_id: AreaId,
        parent_level: AreaLevel,
        parent_path: &AreaPath,
        id: AreaId,
        level: AreaLevel,
        name: &str,
    ) -> Result<Self, AreaError> {
        level.check_parent(Some(parent_level))?;
        Ok(Self {
            id,
            parent: Some(parent_id),
            level,
            name: name.to_string(),
            path: parent_path.child(id),
        })
    }
}

/// A person about to be inserted.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPerson {
    pub id: PersonId,
    pub name: PersonName,
    pub document: PersonDocument,
    pub gender: Option<Gender>,
    /// `YYYY-MM-DD`; from the ID number when there is one.
    pub birth_date: Option<String>,
    pub phone: Option<Phone>,
    /// The household area they live in.
    pub household: AreaId,
    /// The household's path (so subtree queries need no join).
    pub household_path: AreaPath,
    pub affiliations: Vec<Affiliation>,
}

/// A sampling site about to be inserted.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSite {
    pub id: i64,
    pub area: AreaId,
    pub area_path: AreaPath,
    pub kind: SiteKind,
    pub name: String,
}

/// One transaction's worth of population: areas first (parents before
/// children), then sites and persons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PopulationBatch {
    pub areas: Vec<NewArea>,
    pub sites: Vec<NewSite>,
    pub persons: Vec<NewPerson>,
}

impl PopulationBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty() && self.sites.is_empty() && self.persons.is_empty()
    }

    /// How many residents each area gains from this batch: every ancestor
    /// of every person's household, and the household itself. Backends
    /// apply these so counts stay exact without a full scan.
    pub fn resident_deltas(&self) -> Vec<(AreaId, i64)> {
        let mut deltas: std::collections::BTreeMap<AreaId, i64> = Default::default();
        for p in &self.persons {
            for id in p.household_path.ids() {
                *deltas.entry(id).or_default() += 1;
            }
        }
        deltas.into_iter().collect()
    }
}

/// An area as read back, with the number of residents in its subtree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaNode {
    pub id: AreaId,
    pub parent: Option<AreaId>,
    pub level: AreaLevel,
    pub name: String,
    pub path: AreaPath,
    pub resident_count: i64,
}

/// A person as read back. Holds full identifiers: whoever turns it into an
/// answer decides what to mask.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub id: PersonId,
    pub name: PersonName,
    pub document: PersonDocument,
    pub gender: Option<Gender>,
    pub birth_date: Option<String>,
    pub phone: Option<Phone>,
    pub household: AreaId,
    pub household_path: AreaPath,
    pub affiliations: Vec<Affiliation>,
}

/// A sampling site as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteRecord {
    pub id: i64,
    pub area: AreaId,
    pub kind: SiteKind,
    pub name: String,
}

/// Row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    pub areas: i64,
    pub persons: i64,
    pub sites: i64,
}
