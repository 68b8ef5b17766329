//! Address columns to existing areas of the grid tree, and school/employer
//! names to School/Workplace areas. A roster has thousands of rows over a
//! handful of buildings, so every lookup is cached, failures included.

use crate::header::Field;
use crate::row::AddressKey;
use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, AreaPath};
use gridsweep_storage::{AreaNode, Store, StoreResult};
use std::collections::HashMap;

/// Why an address or affiliation could not be resolved, and which column
/// to blame.
#[derive(Debug, Clone)]
pub(crate) struct Miss {
    pub field: Field,
    pub value: String,
    pub reason: String,
}

/// A lookup's outcome: the area, or a row error to report.
pub(crate) type Found = Result<AreaNode, Miss>;

/// The store plus caches for one import.
pub(crate) struct Resolver<'s> {
    store: &'s dyn Store,
    sub_districts: HashMap<String, Found>,
    communities: HashMap<(Option<AreaId>, String), Found>,
    buildings: HashMap<AddressKey, Found>,
    households: HashMap<AreaId, HashMap<String, AreaNode>>,
    affiliations: HashMap<(AffiliationKind, String), Found>,
}

/// The only node in `found`, or a miss saying there was none or several.
fn unique(
    found: Vec<AreaNode>,
    field: Field,
    value: &str,
    none: impl FnOnce() -> String,
    several: impl FnOnce(usize) -> String,
) -> Found {
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(Miss {
            field,
            value: value.to_string(),
            reason: none(),
        }),
        n => Err(Miss {
            field,
            value: value.to_string(),
            reason: several(n),
        }),
    }
}

/// Names to try for what staff typed: as written, then the usual suffix
/// (`1` → `1号楼`, `瓦屋李` → `瓦屋李社区`) when it was left off.
fn variants(name: &str, field: Field) -> Vec<String> {
    let mut out = vec![name.to_string()];
    match field {
        Field::Building if name.chars().all(|c| c.is_ascii_digit()) => {
            out.push(format!("{name}号楼"));
        }
        Field::Community if !name.ends_with("社区") && !name.ends_with('村') => {
            out.push(format!("{name}社区"));
        }
        _ => {}
    }
    out
}

impl<'s> Resolver<'s> {
    pub fn new(store: &'s dyn Store) -> Self {
        Self {
            store,
            sub_districts: HashMap::new(),
            communities: HashMap::new(),
            buildings: HashMap::new(),
            households: HashMap::new(),
            affiliations: HashMap::new(),
        }
    }

    /// Areas of `levels` named like `name` (first spelling that matches).
    fn find(
        &self,
        within: Option<&AreaPath>,
        name: &str,
        field: Field,
        levels: &[AreaLevel],
    ) -> StoreResult<Vec<AreaNode>> {
        for candidate in variants(name, field) {
            let found = self.store.find_areas(within, &candidate, levels)?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    fn sub_district(&mut self, name: &str) -> StoreResult<Found> {
        if let Some(f) = self.sub_districts.get(name) {
            return Ok(f.clone());
        }
        let found = self.find(None, name, Field::SubDistrict, &[AreaLevel::SubDistrict])?;
        let f = unique(
            found,
            Field::SubDistrict,
            name,
            || format!("找不到街道「{name}」 (unknown sub-district {name})"),
            |n| format!("有{n}个街道叫「{name}」 (ambiguous: {n} sub-districts are named {name})"),
        );
        self.sub_districts.insert(name.to_string(), f.clone());
        Ok(f)
    }

    fn community(&mut self, sub: Option<&AreaNode>, name: &str) -> StoreResult<Found> {
        let key = (sub.map(|s| s.id), name.to_string());
        if let Some(f) = self.communities.get(&key) {
            return Ok(f.clone());
        }
        let found = self.find(
            sub.map(|s| &s.path),
            name,
            Field::Community,
            &[AreaLevel::Community],
        )?;
        let place = sub.map_or(String::new(), |s| format!("（{}内）", s.name));
        let place_en = sub.map_or(String::new(), |s| format!(" in {}", s.name));
        let f = unique(
            found,
            Field::Community,
            name,
            || format!("找不到社区「{name}」{place} (unknown community {name}{place_en})"),
            |n| {
                format!(
                    "有{n}个社区叫「{name}」，请填写街道列 (ambiguous: {n} communities are named {name}; fill in the 街道 column)"
                )
            },
        );
        self.communities.insert(key, f.clone());
        Ok(f)
    }

    /// The building an address names; the address must already exist.
    pub fn building(&mut self, addr: &AddressKey) -> StoreResult<Found> {
        if let Some(f) = self.buildings.get(addr) {
            return Ok(f.clone());
        }
        let f = self.lookup_building(addr)?;
        self.buildings.insert(addr.clone(), f.clone());
        Ok(f)
    }

    fn lookup_building(&mut self, addr: &AddressKey) -> StoreResult<Found> {
        let sub = match &addr.sub_district {
            Some(name) => match self.sub_district(name)? {
                Ok(s) => Some(s),
                Err(m) => return Ok(Err(m)),
            },
            None => None,
        };
        let community = match self.community(sub.as_ref(), &addr.community)? {
            Ok(c) => c,
            Err(m) => return Ok(Err(m)),
        };
        let container = match &addr.grid {
            Some(grid) => match self
                .store
                .child_by_name(community.id, grid)?
                .filter(|g| g.level == AreaLevel::Grid)
            {
                Some(g) => g,
                None => {
                    return Ok(Err(Miss {
                        field: Field::Grid,
                        value: grid.clone(),
                        reason: format!(
                            "{}没有网格「{grid}」 (unknown grid {grid} in {})",
                            community.name, community.name
                        ),
                    }));
                }
            },
            None => community,
        };
        let unknown = |addr: &AddressKey| Miss {
            field: Field::Building,
            value: addr.building.clone(),
            reason: format!(
                "找不到楼栋：{} (unknown building: this address is not in the grid)",
                addr.describe()
            ),
        };
        let building_levels = [AreaLevel::Building];
        if let Some(compound) = &addr.compound {
            let found = self.find(
                Some(&container.path),
                compound,
                Field::Compound,
                &[AreaLevel::Compound, AreaLevel::School, AreaLevel::Workplace],
            )?;
            let parent = match unique(
                found,
                Field::Compound,
                compound,
                || {
                    format!(
                        "{}内找不到小区「{compound}」 (unknown compound {compound} in {})",
                        container.name, container.name
                    )
                },
                |n| {
                    format!(
                        "{}内有{n}处叫「{compound}」，请填写网格列 (ambiguous: {n} places named {compound}; fill in the 网格 column)",
                        container.name
                    )
                },
            ) {
                Ok(p) => p,
                Err(m) => return Ok(Err(m)),
            };
            for name in variants(&addr.building, Field::Building) {
                if let Some(b) = self
                    .store
                    .child_by_name(parent.id, &name)?
                    .filter(|b| b.level == AreaLevel::Building)
                {
                    return Ok(Ok(b));
                }
            }
            return Ok(Err(unknown(addr)));
        }
        // No compound column: the building hangs directly under the
        // community (or grid), or is the only one of that name inside it.
        for name in variants(&addr.building, Field::Building) {
            if let Some(b) = self
                .store
                .child_by_name(container.id, &name)?
                .filter(|b| b.level == AreaLevel::Building)
            {
                return Ok(Ok(b));
            }
        }
        let found = self.find(
            Some(&container.path),
            &addr.building,
            Field::Building,
            &building_levels,
        )?;
        Ok(unique(
            found,
            Field::Building,
            &addr.building,
            || unknown(addr).reason,
            |n| {
                format!(
                    "{}内有{n}栋楼叫「{}」，请填写小区列 (ambiguous: {n} buildings named {} in {}; fill in the 小区 column)",
                    container.name, addr.building, addr.building, container.name
                )
            },
        ))
    }

    /// The existing household of that name under `building`, if any (all
    /// of a building's households are read once, on first use).
    pub fn household(&mut self, building: &AreaNode, name: &str) -> StoreResult<Option<AreaNode>> {
        if !self.households.contains_key(&building.id) {
            let map = self
                .store
                .children(building.id)?
                .into_iter()
                .filter(|a| a.level == AreaLevel::Household)
                .map(|a| (a.name.clone(), a))
                .collect();
            self.households.insert(building.id, map);
        }
        Ok(self.households[&building.id].get(name).cloned())
    }

    /// The school (for a student) or school/workplace (for an employee)
    /// of that name anywhere in the tree; it must be unique.
    pub fn affiliation(&mut self, kind: AffiliationKind, name: &str) -> StoreResult<Found> {
        let key = (kind, name.to_string());
        if let Some(f) = self.affiliations.get(&key) {
            return Ok(f.clone());
        }
        let (field, levels, zh, en): (_, &[AreaLevel], _, _) = match kind {
            AffiliationKind::Student => (Field::School, &[AreaLevel::School], "学校", "school"),
            AffiliationKind::Employee => (
                Field::Employer,
                &[AreaLevel::Workplace, AreaLevel::School],
                "工作单位",
                "employer",
            ),
        };
        let found = self.store.find_areas(None, name, levels)?;
        let f = unique(
            found,
            field,
            name,
            || {
                format!(
                    "系统中没有{zh}「{name}」，辖区外的请留空 (no {en} named {name} in the grid; leave the cell empty for one outside the district)"
                )
            },
            |n| format!("有{n}个{zh}叫「{name}」 (ambiguous: {n} places are named {name})"),
        );
        self.affiliations.insert(key, f.clone());
        Ok(f)
    }
}
