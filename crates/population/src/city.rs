//! The rest of the city: districts added after the demo when more people
//! are asked for, with generated sub-district, community and compound
//! names, up to Zhengzhou's 12.6 million and beyond.
//!
//! A district is written top-down as it is filled, so nothing of it is
//! held in memory but the nodes on the current path.

use crate::GenError;
use crate::household::Affiliations;
use crate::ids::region_index;
use crate::layout::{Filler, community};
use crate::names::CITY_DISTRICTS;
use crate::rng::Rng;
use crate::words::{PlaceNames, stem};
use crate::writer::Writer;
use gridsweep_domain::{AreaId, AreaLevel, SiteKind};

/// One district to generate.
#[derive(Debug, Clone)]
pub(crate) struct DistrictPlan {
    pub(crate) name: String,
    /// Residents it holds when the run does not stop inside it.
    pub(crate) target: u64,
    /// Region code most of its residents' IDs carry.
    pub(crate) region: u32,
    /// A county or county-level city: towns (镇) and many villages.
    pub(crate) county: bool,
}

/// Approximate 2020 census populations and region codes of Zhengzhou's
/// districts, aligned with [`CITY_DISTRICTS`]; with the demo they add up
/// to about 12.6 million.
const DISTRICT_FACTS: [(u64, u32, bool); 15] = [
    (1_200_000, 410102, false),
    (950_000, 410103, false),
    (1_600_000, 410105, false),
    (800_000, 410104, false),
    (600_000, 410108, false),
    (150_000, 410106, false),
    (1_000_000, 410105, false),
    (600_000, 410104, false),
    (500_000, 410184, false),
    (1_100_000, 410122, true),
    (780_000, 410181, true),
    (700_000, 410182, true),
    (800_000, 410183, true),
    (1_100_000, 410184, true),
    (700_000, 410185, true),
];

/// The `k`-th district after the demo: Zhengzhou's own, then numbered
/// ones of a million each.
pub(crate) fn plan(k: usize) -> DistrictPlan {
    if let Some(&(target, region, county)) = DISTRICT_FACTS.get(k) {
        DistrictPlan {
            name: CITY_DISTRICTS[k].to_string(),
            target,
            region,
            county,
        }
    } else {
        let n = k - DISTRICT_FACTS.len() + 1;
        DistrictPlan {
            name: format!("扩展{n}区"),
            target: 1_000_000,
            region: DISTRICT_FACTS[n % DISTRICT_FACTS.len()].1,
            county: n.is_multiple_of(3),
        }
    }
}

/// Writes one district, filling it until its target or a budget runs out.
pub(crate) fn build(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    f: &mut Filler,
    plan: &DistrictPlan,
    university: AreaId,
) -> Result<(), GenError> {
    w.push_budget(plan.target, true);
    let result = build_inner(w, rng, f, plan, university);
    w.pop_budget();
    result
}

fn build_inner(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    f: &mut Filler,
    plan: &DistrictPlan,
    university: AreaId,
) -> Result<(), GenError> {
    use AreaLevel::*;
    let district = w.root(&plan.name)?;
    let mut sub_names = PlaceNames::default();
    while w.remaining() > 0 {
        let sub = w.child(
            &district,
            SubDistrict,
            &sub_names.sub_district(rng, plan.county),
        )?;
        f.places.clear();
        let street = stem(&sub.name).to_string();
        let primary_name = f.places.fixed(format!("{street}小学"));
        let primary = w.child(&sub, School, &primary_name)?;
        let middle_name = f.places.fixed(format!("{street}中学"));
        let middle = w.child(&sub, School, &middle_name)?;
        w.site(
            &middle,
            SiteKind::ClosedLoop,
            format!("{middle_name}闭环采样点"),
        );
        let mut workplaces = Vec::new();
        for _ in 0..rng.range(2, 4) {
            let name = f.places.workplace(rng, &street);
            workplaces.push(w.child(&sub, Workplace, &name)?.id);
        }
        let aff = Affiliations {
            primary: Some(primary.id),
            middle: Some(middle.id),
            university: Some(university),
            university_share: 0.15,
            workplaces,
            employ_share: 0.5,
            employer: None,
            home_region: region_index(plan.region),
        };
        let mut size = u64::from(rng.range(50_000, 130_000));
        if w.remaining() < size + 20_000 {
            size = w.remaining();
        }
        w.push_budget(size, false);
        let inner = fill_sub_district(w, rng, f, &sub, plan.county, &aff);
        w.pop_budget();
        inner?;
    }
    Ok(())
}

fn fill_sub_district(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    f: &mut Filler,
    sub: &crate::writer::Node,
    county: bool,
    aff: &Affiliations,
) -> Result<(), GenError> {
    while w.remaining() > 0 {
        let village = rng.chance(if county { 0.6 } else { 0.1 });
        let name = if village {
            f.places.village(rng)
        } else {
            f.places.community(rng)
        };
        let node = community(w, rng, sub, &name)?;
        let mut target = u64::from(rng.range(3_000, 9_000));
        if w.remaining() < target + 1_500 {
            target = w.remaining();
        }
        f.fill_community(w, rng, &node, 1, target, village, aff)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEMO_PEOPLE;

    #[test]
    fn zhengzhou_first_then_numbered() {
        assert_eq!(plan(0).name, "中原区");
        assert_eq!(plan(14).name, "登封市");
        assert_eq!(plan(15).name, "扩展1区");
        assert_eq!(plan(16).name, "扩展2区");
        // The whole of Zhengzhou (12.6 million) fits in its own districts.
        let city: u64 = DEMO_PEOPLE + (0..15).map(|k| plan(k).target).sum::<u64>();
        assert!((12_600_000..12_700_000).contains(&city), "{city}");
        for k in 0..40 {
            region_index(plan(k).region);
        }
    }
}
