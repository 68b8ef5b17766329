//! The grid tree: district → sub-district → community/village → grid cell →
//! compound/school/workplace → building → household.
//!
//! Every person, site, order and task hangs on an area, and every permission
//! is scoped to a subtree, so the tree carries a materialised path
//! (`/1/7/42/`) that makes "is X inside Y" a string-prefix test in any
//! database.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// A node of the grid tree. Positive; assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct AreaId(i64);

/// Why an area value was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AreaError {
    #[error("area id must be positive, got {0}")]
    NonPositiveId(i64),
    #[error("unknown area level {0:?}")]
    UnknownLevel(String),
    #[error("a {child} cannot be placed under a {parent}")]
    BadParent { parent: AreaLevel, child: AreaLevel },
    #[error("only a district may be a root of the tree, not a {0}")]
    BadRoot(AreaLevel),
    #[error("malformed area path {0:?}")]
    BadPath(String),
}

impl AreaId {
    /// Refuses zero and negatives, which no store hands out.
    pub fn new(id: i64) -> Result<Self, AreaError> {
        if id > 0 {
            Ok(Self(id))
        } else {
            Err(AreaError::NonPositiveId(id))
        }
    }

    /// The raw key, for storage.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for AreaId {
    type Error = AreaError;
    fn try_from(v: i64) -> Result<Self, AreaError> {
        Self::new(v)
    }
}

impl From<AreaId> for i64 {
    fn from(v: AreaId) -> i64 {
        v.0
    }
}

impl fmt::Display for AreaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The typed level of an area. Order matters: a child is always of a
/// deeper rank than its parent (a compound may sit directly under a
/// community when the community has no grid cells, but never the reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    District,
    SubDistrict,
    Community,
    Grid,
    Compound,
    School,
    Workplace,
    Building,
    Household,
}

impl AreaLevel {
    /// Every level, top down.
    pub const ALL: [AreaLevel; 9] = [
        AreaLevel::District,
        AreaLevel::SubDistrict,
        AreaLevel::Community,
        AreaLevel::Grid,
        AreaLevel::Compound,
        AreaLevel::School,
        AreaLevel::Workplace,
        AreaLevel::Building,
        AreaLevel::Household,
    ];

    /// Depth class used for the parent rule.
    pub fn rank(self) -> u8 {
        match self {
            AreaLevel::District => 0,
            AreaLevel::SubDistrict => 1,
            AreaLevel::Community => 2,
            AreaLevel::Grid => 3,
            AreaLevel::Compound | AreaLevel::School | AreaLevel::Workplace => 4,
            AreaLevel::Building => 5,
            AreaLevel::Household => 6,
        }
    }

    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::District => "district",
            AreaLevel::SubDistrict => "sub_district",
            AreaLevel::Community => "community",
            AreaLevel::Grid => "grid",
            AreaLevel::Compound => "compound",
            AreaLevel::School => "school",
            AreaLevel::Workplace => "workplace",
            AreaLevel::Building => "building",
            AreaLevel::Household => "household",
        }
    }

    /// The word staff use.
    pub fn label_zh(self) -> &'static str {
        match self {
            AreaLevel::District => "区",
            AreaLevel::SubDistrict => "街道",
            AreaLevel::Community => "社区/村",
            AreaLevel::Grid => "网格",
            AreaLevel::Compound => "小区",
            AreaLevel::School => "学校",
            AreaLevel::Workplace => "单位",
            AreaLevel::Building => "楼栋",
            AreaLevel::Household => "户",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Result<Self, AreaError> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| AreaError::UnknownLevel(s.to_string()))
    }

    /// Whether a node of this level may be created under `parent` (or as a
    /// root when `parent` is `None`). Keeps the tree shaped like the grid.
    pub fn check_parent(self, parent: Option<AreaLevel>) -> Result<(), AreaError> {
        match parent {
            None if self == AreaLevel::District => Ok(()),
            None => Err(AreaError::BadRoot(self)),
            Some(p) if p.rank() < self.rank() && self != AreaLevel::District => Ok(()),
            Some(p) => Err(AreaError::BadParent {
                parent: p,
                child: self,
            }),
        }
    }
}

impl fmt::Display for AreaLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The materialised path of an area: its ancestors' ids and its own,
/// `/1/7/42/`. Prefix of a descendant's path, which is what scope checks
/// and subtree counts use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AreaPath(String);

impl AreaPath {
    /// The path of a root area.
    pub fn root(id: AreaId) -> Self {
        Self(format!("/{id}/"))
    }

    /// The path of a child of this area.
    pub fn child(&self, id: AreaId) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    /// Checks the `/n/n/…/` shape.
    pub fn parse(s: &str) -> Result<Self, AreaError> {
        let ok = s.len() >= 3
            && s.starts_with('/')
            && s.ends_with('/')
            && s[1..s.len() - 1]
                .split('/')
                .all(|p| p.parse::<i64>().is_ok_and(|n| n > 0));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(AreaError::BadPath(s.to_string()))
        }
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Ids from the root down to this area.
    pub fn ids(&self) -> Vec<AreaId> {
        self.0[1..self.0.len() - 1]
            .split('/')
            .map(|p| AreaId(p.parse().expect("validated path")))
            .collect()
    }

    /// The exclusive upper bound of the string range holding this path and
    /// every path under it (`/1/7/` → `/1/70`): paths end in '/', and '0'
    /// is the byte after '/'. Lets a subtree be an index range scan in any
    /// database.
    pub fn range_end(&self) -> String {
        format!("{}0", &self.0[..self.0.len() - 1])
    }

    /// Whether `self` is `other` or lies under it.
    pub fn is_within(&self, other: &AreaPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// Whether one of the two lies under the other: an incident over a
    /// community concerns the grid worker of one of its grids, and the
    /// district's command.
    pub fn overlaps(&self, other: &AreaPath) -> bool {
        self.is_within(other) || other.is_within(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_rule() {
        use AreaLevel::*;
        assert!(District.check_parent(None).is_ok());
        assert!(Community.check_parent(None).is_err());
        assert!(Compound.check_parent(Some(Community)).is_ok());
        assert!(Building.check_parent(Some(School)).is_ok());
        assert!(Community.check_parent(Some(Building)).is_err());
        assert!(Compound.check_parent(Some(School)).is_err());
    }

    #[test]
    fn paths() {
        let a = AreaPath::root(AreaId::new(1).unwrap());
        let b = a.child(AreaId::new(42).unwrap());
        assert_eq!(b.as_str(), "/1/42/");
        assert!(b.is_within(&a));
        // The subtree is the half-open range [path, range_end).
        assert_eq!(b.range_end(), "/1/420");
        assert!("/1/42/7/" < b.range_end().as_str() && "/1/43/" > b.range_end().as_str());
        assert!(!a.is_within(&b));
        assert_eq!(b.ids().len(), 2);
        assert!(AreaPath::parse("/1/x/").is_err());
        assert!(AreaId::new(0).is_err());
    }
}
