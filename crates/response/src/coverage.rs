//! "Full coverage, no blind spot" (全覆盖、无死角): for an area and a round,
//! who on the roster is sampled, who is explained (marked away,
//! hospitalised or sampled elsewhere) and who is still missing — by
//! building, for the grid worker at the door, and rolled up per grid level
//! for the command.

use crate::model::*;
use gridsweep_domain::{AreaId, AreaLevel, AreaPath};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One person on the roster of the area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub person: PersonBrief,
    pub household_path: AreaPath,
    pub household_name: String,
    /// Has a sample in the round.
    pub sampled: bool,
    /// Marked away / hospitalised / sampled elsewhere for the round.
    pub mark: Option<MarkKind>,
}

/// Counts that always add up: `roster = sampled + explained + missing`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub roster: u64,
    pub sampled: u64,
    pub explained: u64,
    pub missing: u64,
}

impl Tally {
    fn add(&mut self, e: &RosterEntry) {
        self.roster += 1;
        if e.sampled {
            self.sampled += 1;
        } else if e.mark.is_some() {
            self.explained += 1;
        } else {
            self.missing += 1;
        }
    }

    /// Share of the roster sampled or explained, 0–1 (1 for an empty roster).
    pub fn covered_share(&self) -> f64 {
        if self.roster == 0 {
            1.0
        } else {
            (self.sampled + self.explained) as f64 / self.roster as f64
        }
    }
}

/// An area and its tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaTally {
    pub area: AreaBrief,
    pub tally: Tally,
}

/// One grid level's areas under the asked-for area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRollup {
    pub level: AreaLevel,
    pub label: String,
    pub areas: Vec<AreaTally>,
}

/// A person the grid worker still has to find, ID masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingPerson {
    pub person: PersonBrief,
    pub household: String,
}

/// A person not sampled but accounted for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainedPerson {
    pub person: PersonBrief,
    pub household: String,
    pub mark: MarkKind,
    pub mark_label: String,
}

/// One building: counts and who is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildingCoverage {
    pub building: AreaBrief,
    /// The compound (or school) it stands in.
    pub place: Option<String>,
    pub tally: Tally,
    pub missing: Vec<MissingPerson>,
    pub explained: Vec<ExplainedPerson>,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub area: AreaBrief,
    pub round: i64,
    pub total: Tally,
    pub levels: Vec<LevelRollup>,
    pub buildings: Vec<BuildingCoverage>,
}

/// The grid levels rolled up, top down (compound covers schools and
/// workplaces too: they are what a grid worker's buildings stand in).
const ROLLUP: [AreaLevel; 4] = [
    AreaLevel::SubDistrict,
    AreaLevel::Community,
    AreaLevel::Grid,
    AreaLevel::Compound,
];

fn rollup_level(l: AreaLevel) -> AreaLevel {
    match l {
        AreaLevel::School | AreaLevel::Workplace => AreaLevel::Compound,
        other => other,
    }
}

/// Rolls `roster` up the tree. `areas` are the areas of the subtree above
/// household level (to name and rank them); persons whose household has no
/// building above it are counted under their nearest named area.
pub fn coverage(
    area: &AreaBrief,
    round: i64,
    areas: &[AreaBrief],
    roster: &[RosterEntry],
) -> Coverage {
    let by_id: HashMap<AreaId, &AreaBrief> = areas.iter().map(|a| (a.id, a)).collect();
    let mut total = Tally::default();
    let mut levels: BTreeMap<(u8, AreaId), Tally> = BTreeMap::new();
    let mut buildings: BTreeMap<AreaId, BuildingCoverage> = BTreeMap::new();
    for e in roster {
        total.add(e);
        let (bucket, place) = place_entry(area, &by_id, e, &mut levels);
        let bucket = bucket.unwrap_or(area);
        buildings
            .entry(bucket.id)
            .or_insert_with(|| BuildingCoverage {
                building: bucket.clone(),
                place: place.filter(|p| p.id != bucket.id).map(|p| p.name.clone()),
                tally: Tally::default(),
                missing: Vec::new(),
                explained: Vec::new(),
            })
            .add(e);
    }
    let mut buildings: Vec<BuildingCoverage> = buildings.into_values().collect();
    buildings.sort_by(|a, b| {
        (b.tally.missing, &a.place, &a.building.name).cmp(&(
            a.tally.missing,
            &b.place,
            &b.building.name,
        ))
    });
    Coverage {
        area: area.clone(),
        round,
        total,
        levels: level_rollups(area, &by_id, &levels),
        buildings,
    }
}

/// Walks one person's household path below `area`: counts them in every
/// rolled-up level they live under, and returns the lowest named area
/// above their household (their building, or what stands in for it) and
/// the compound, school or workplace they live in.
fn place_entry<'a>(
    area: &AreaBrief,
    by_id: &HashMap<AreaId, &'a AreaBrief>,
    e: &RosterEntry,
    levels: &mut BTreeMap<(u8, AreaId), Tally>,
) -> (Option<&'a AreaBrief>, Option<&'a AreaBrief>) {
    let mut below = false;
    let mut place: Option<&AreaBrief> = None;
    let mut bucket: Option<&AreaBrief> = None;
    for id in &e.household_path.ids() {
        if *id == area.id {
            below = true;
            continue;
        }
        let Some(a) = by_id.get(id).copied() else {
            continue;
        };
        if below && ROLLUP.contains(&rollup_level(a.level)) {
            levels
                .entry((rollup_level(a.level).rank(), a.id))
                .or_default()
                .add(e);
        }
        if matches!(
            a.level,
            AreaLevel::Compound | AreaLevel::School | AreaLevel::Workplace
        ) {
            place = Some(a);
        }
        if a.level != AreaLevel::Household {
            bucket = Some(a);
        }
    }
    (bucket, place)
}

impl BuildingCoverage {
    /// Counts a person of the building, listing them as missing or
    /// explained when they were not sampled.
    fn add(&mut self, e: &RosterEntry) {
        self.tally.add(e);
        if e.sampled {
            return;
        }
        match e.mark {
            None => self.missing.push(MissingPerson {
                person: e.person.clone(),
                household: e.household_name.clone(),
            }),
            Some(mark) => self.explained.push(ExplainedPerson {
                person: e.person.clone(),
                household: e.household_name.clone(),
                mark,
                mark_label: mark.label_zh().to_string(),
            }),
        }
    }
}

/// The tallies per rolled-up level below `area`, top down, leaving out
/// levels with no area.
fn level_rollups(
    area: &AreaBrief,
    by_id: &HashMap<AreaId, &AreaBrief>,
    levels: &BTreeMap<(u8, AreaId), Tally>,
) -> Vec<LevelRollup> {
    ROLLUP
        .iter()
        .filter(|l| l.rank() > area.level.rank())
        .map(|level| LevelRollup {
            level: *level,
            label: level.label_zh().to_string(),
            areas: levels
                .iter()
                .filter(|((rank, _), _)| *rank == level.rank())
                .filter_map(|((_, id), t)| {
                    by_id.get(id).map(|a| AreaTally {
                        area: (*a).clone(),
                        tally: *t,
                    })
                })
                .collect(),
        })
        .filter(|l| !l.areas.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridsweep_domain::PersonId;
    use proptest::prelude::*;

    fn tree() -> (AreaBrief, Vec<AreaBrief>, Vec<AreaPath>) {
        // /1/ district, /1/2/ community, grids 3,4; compounds 5 (grid 3),
        // 6 (grid 4); buildings 7,8 (in 5), 9 (in 6); households 100..
        let mk = |id: i64, level, name: &str| AreaBrief {
            id: AreaId::new(id).unwrap(),
            level,
            name: name.into(),
        };
        let areas = vec![
            mk(2, AreaLevel::Community, "瓦屋李社区"),
            mk(3, AreaLevel::Grid, "第1网格"),
            mk(4, AreaLevel::Grid, "第2网格"),
            mk(5, AreaLevel::Compound, "瓦屋李新居"),
            mk(6, AreaLevel::Compound, "翠园"),
            mk(7, AreaLevel::Building, "1号楼"),
            mk(8, AreaLevel::Building, "2号楼"),
            mk(9, AreaLevel::Building, "1号楼"),
        ];
        let households = vec![
            AreaPath::parse("/1/2/3/5/7/100/").unwrap(),
            AreaPath::parse("/1/2/3/5/7/101/").unwrap(),
            AreaPath::parse("/1/2/3/5/8/102/").unwrap(),
            AreaPath::parse("/1/2/4/6/9/103/").unwrap(),
        ];
        (areas[0].clone(), areas, households)
    }

    proptest! {
        /// Every level adds up to the total; every building's missing list
        /// is exactly its missing count; marks never count as missing.
        #[test]
        fn tallies_add_up(people in prop::collection::vec((0usize..4, any::<bool>(), 0usize..4), 0..200)) {
            let (area, areas, households) = tree();
            let roster: Vec<RosterEntry> = people.iter().enumerate().map(|(i, (h, sampled, m))| RosterEntry {
                person: PersonBrief { id: PersonId(i as i64), name: format!("居民{i}"), document_masked: "410105********0001".into() },
                household_path: households[*h].clone(),
                household_name: format!("户{h}"),
                sampled: *sampled,
                mark: MarkKind::ALL.get(*m).copied(),
            }).collect();
            let c = coverage(&area, 1, &areas, &roster);
            prop_assert_eq!(c.total.roster, roster.len() as u64);
            prop_assert_eq!(c.total.roster, c.total.sampled + c.total.explained + c.total.missing);
            for l in &c.levels {
                let sum: u64 = l.areas.iter().map(|a| a.tally.roster).sum();
                prop_assert_eq!(sum, c.total.roster);
                let missing: u64 = l.areas.iter().map(|a| a.tally.missing).sum();
                prop_assert_eq!(missing, c.total.missing);
            }
            let mut building_missing = 0;
            for b in &c.buildings {
                prop_assert_eq!(b.missing.len() as u64, b.tally.missing);
                prop_assert_eq!(b.explained.len() as u64, b.tally.explained);
                building_missing += b.tally.missing;
            }
            prop_assert_eq!(building_missing, c.total.missing);
            let marked_unsampled = people.iter().filter(|(_, s, m)| !s && *m < 3).count() as u64;
            prop_assert_eq!(c.total.explained, marked_unsampled);
        }
    }
}
