//! Shapes of housing and how they are filled: apartment blocks (units ×
//! floors × flats, "2单元301"), self-built houses with rooms to let
//! ("301"), grid cells of compounds, and communities with their sampling
//! sites.
//!
//! Filling stops the moment a budget runs out, and every area is created
//! only when the first household beneath it is, so a truncated run leaves
//! no empty buildings behind.

use crate::GenError;
use crate::household::{Affiliations, HouseholdGen};
use crate::rng::Rng;
use crate::words::{PlaceNames, stem};
use crate::writer::{Node, Writer};
use gridsweep_domain::{AreaLevel, SiteKind};
use std::fmt::Write;

/// The shape of the buildings of one compound.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    /// Apartment blocks named "N号楼": `units` × `floors` × `flats` a floor.
    Blocks { units: u32, floors: u32, flats: u32 },
    /// Self-built houses named "N号院" of 2–7 floors, `rooms` let per floor.
    Houses {
        floors: (u32, u32),
        rooms: (u32, u32),
    },
}

/// How much housing to build in one place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Buildings to build (numbered from `first`).
    pub(crate) buildings: u32,
    /// Number of the first building, so a second call continues the count.
    pub(crate) first: u32,
    pub(crate) style: Style,
    /// Share of flats with someone living in them.
    pub(crate) occupancy: f64,
}

impl Plan {
    /// Blocks numbered from 1.
    pub(crate) fn blocks(buildings: u32, units: u32, floors: u32, flats: u32, occ: f64) -> Self {
        Self {
            buildings,
            first: 1,
            style: Style::Blocks {
                units,
                floors,
                flats,
            },
            occupancy: occ,
        }
    }

    /// Self-built houses numbered from 1.
    pub(crate) fn houses(buildings: u32, floors: (u32, u32), rooms: (u32, u32), occ: f64) -> Self {
        Self {
            buildings,
            first: 1,
            style: Style::Houses { floors, rooms },
            occupancy: occ,
        }
    }
}

/// The state carried while filling: scratch buffers and place names.
pub(crate) struct Filler {
    pub(crate) households: HouseholdGen,
    pub(crate) places: PlaceNames,
    building_name: String,
    household_name: String,
}

impl Filler {
    /// Fresh scratch.
    pub(crate) fn new() -> Self {
        Self {
            households: HouseholdGen::new(),
            places: PlaceNames::default(),
            building_name: String::new(),
            household_name: String::new(),
        }
    }

    /// Builds `plan`'s buildings under `parent` (a compound, school or
    /// grid) and fills their flats until the plan or a budget runs out.
    pub(crate) fn fill(
        &mut self,
        w: &mut Writer<'_>,
        rng: &mut Rng,
        parent: &Node,
        plan: &Plan,
        aff: &Affiliations,
    ) -> Result<(), GenError> {
        for b in plan.first..plan.first + plan.buildings {
            if w.remaining() == 0 {
                return Ok(());
            }
            self.building_name.clear();
            match plan.style {
                Style::Blocks { .. } => write!(self.building_name, "{b}号楼"),
                Style::Houses { .. } => write!(self.building_name, "{b}号院"),
            }
            .expect("write to string");
            let name = std::mem::take(&mut self.building_name);
            let result = self.fill_building(w, rng, parent, None, &name, plan, aff);
            self.building_name = name;
            result?;
        }
        Ok(())
    }

    /// Fills the flats of one building: `existing` if it was created
    /// beforehand (a school's staff block), else a new `name` under
    /// `parent`, created with its first household.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fill_building(
        &mut self,
        w: &mut Writer<'_>,
        rng: &mut Rng,
        parent: &Node,
        existing: Option<&Node>,
        name: &str,
        plan: &Plan,
        aff: &Affiliations,
    ) -> Result<(), GenError> {
        let (units, floors, flats, blocks) = match plan.style {
            Style::Blocks {
                units,
                floors,
                flats,
            } => (units, floors, flats, true),
            Style::Houses { floors, rooms } => (
                1,
                rng.range(floors.0, floors.1),
                rng.range(rooms.0, rooms.1),
                false,
            ),
        };
        let mut created: Option<Node> = None;
        for unit in 1..=units {
            for floor in 1..=floors {
                for flat in 1..=flats {
                    if !rng.chance(plan.occupancy) {
                        continue;
                    }
                    if w.remaining() == 0 {
                        return Ok(());
                    }
                    let building = match (existing, &created) {
                        (Some(b), _) => b,
                        (None, Some(b)) => b,
                        (None, None) => {
                            created = Some(w.child(parent, AreaLevel::Building, name)?);
                            created.as_ref().expect("just created")
                        }
                    };
                    self.household_name.clear();
                    if blocks {
                        write!(self.household_name, "{unit}单元{floor}{flat:02}")
                    } else {
                        write!(self.household_name, "{floor}{flat:02}")
                    }
                    .expect("write to string");
                    self.households
                        .generate(w, rng, building, &self.household_name, aff)?;
                }
            }
        }
        Ok(())
    }

    /// Adds grid cells "{community}第k网格" (from `first_grid`) of generated
    /// compounds — or, in a village, of self-built houses — until the
    /// community holds `target` more residents or a budget runs out.
    /// Returns the next free grid number.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fill_community(
        &mut self,
        w: &mut Writer<'_>,
        rng: &mut Rng,
        community: &Node,
        first_grid: u32,
        target: u64,
        village: bool,
        aff: &Affiliations,
    ) -> Result<u32, GenError> {
        let mut k = first_grid;
        w.push_budget(target, false);
        let result = self.grids(w, rng, community, &mut k, village, aff);
        w.pop_budget();
        result.map(|()| k)
    }

    /// The loop of [`Self::fill_community`], inside its budget.
    fn grids(
        &mut self,
        w: &mut Writer<'_>,
        rng: &mut Rng,
        community: &Node,
        k: &mut u32,
        village: bool,
        aff: &Affiliations,
    ) -> Result<(), GenError> {
        while w.remaining() > 0 {
            let name = format!("{}第{k}网格", community.name);
            let grid = w.child(community, AreaLevel::Grid, &name)?;
            *k += 1;
            // A grid cell holds 900–2,400 residents; a remainder too small
            // for a grid of its own goes into this one.
            let mut size = u64::from(rng.range(900, 2_400));
            if w.remaining() < size + 600 {
                size = w.remaining();
            }
            w.push_budget(size, false);
            let inner = self.fill_grid(w, rng, &grid, village, aff);
            w.pop_budget();
            inner?;
        }
        Ok(())
    }

    /// Fills one grid cell until its budget runs out.
    fn fill_grid(
        &mut self,
        w: &mut Writer<'_>,
        rng: &mut Rng,
        grid: &Node,
        village: bool,
        aff: &Affiliations,
    ) -> Result<(), GenError> {
        let mut next_house = 1;
        while w.remaining() > 0 {
            // A compound for 400–3,000 residents, or for all that is left
            // when the rest would make a tiny one; a tenth more flats than
            // needed so that vacancy does not leave a sliver for another.
            let mut want = u64::from(rng.range(400, 3_000));
            if w.remaining() < want + 400 {
                want = w.remaining();
            }
            let households = (want as f64 / 2.6 * 1.1).ceil();
            if village {
                // Village houses sit straight in the grid cell.
                let occ = 0.8 + rng.unit() * 0.15;
                let per_house = 4.0 * 2.5 * occ;
                let n = (households / per_house).ceil().max(1.0) as u32;
                let mut plan = Plan::houses(n, (2, 6), (1, 4), occ);
                plan.first = next_house;
                next_house += n;
                self.fill(w, rng, grid, &plan, aff)?;
            } else {
                let name = self.places.compound(rng);
                let compound = w.child(grid, AreaLevel::Compound, &name)?;
                let plan = random_blocks(rng, households);
                self.fill(w, rng, &compound, &plan, aff)?;
            }
        }
        Ok(())
    }
}

/// A compound of blocks sized for about `households` households.
fn random_blocks(rng: &mut Rng, households: f64) -> Plan {
    let (units, floors, flats, occ) = match rng.below(10) {
        // Old walk-ups.
        0..=2 => (rng.range(2, 4), rng.range(5, 7), 2, 0.85 + rng.unit() * 0.1),
        // Mid-rise.
        3..=4 => (
            rng.range(2, 3),
            rng.range(8, 12),
            2,
            0.88 + rng.unit() * 0.08,
        ),
        // High-rise towers.
        _ => (
            rng.range(1, 3),
            rng.range(11, 33),
            rng.range(2, 4),
            0.75 + rng.unit() * 0.17,
        ),
    };
    let per_building = f64::from(units * floors * flats) * occ;
    let buildings = (households / per_building).ceil().max(1.0) as u32;
    Plan::blocks(buildings, units, floors, flats, occ)
}

/// Creates a community (or village) with its sampling sites: a hut named
/// after the community (瓦屋李核酸采样小屋) and one or two door-to-door teams.
pub(crate) fn community(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    parent: &Node,
    name: &str,
) -> Result<Node, GenError> {
    let node = w.child(parent, AreaLevel::Community, name)?;
    w.site(&node, SiteKind::Hut, format!("{}核酸采样小屋", stem(name)));
    w.site(&node, SiteKind::DoorToDoor, format!("{name}上门采样一队"));
    if rng.chance(0.5) {
        w.site(&node, SiteKind::DoorToDoor, format!("{name}上门采样二队"));
    }
    Ok(node)
}
