//! The demo district, 高新区, laid out with the real names of the 6·13
//! story (SPEC §1).
//!
//! Its skeleton — sub-districts, communities with their sampling sites,
//! the story's compounds, schools and employers — is always written, even
//! when fewer people are asked for than the demo holds, so the drill can
//! always find its places. Residents are then filled story-first: the five
//! places of the 04:00 full-coverage order, then the rest of 瓦屋李社区,
//! then every other community, until the district holds [`DEMO_PEOPLE`].

use crate::GenError;
use crate::household::Affiliations;
use crate::ids::region_index;
use crate::layout::{Filler, Plan, community};
use crate::names::*;
use crate::rng::Rng;
use crate::writer::{Node, Writer};
use gridsweep_domain::{AreaId, AreaLevel, SiteKind};

/// Residents of the demo district: `GenSpec::demo()` asks for this many.
pub const DEMO_PEOPLE: u64 = 60_000;

/// Residents of 瓦屋李社区 in a full demo: comfortably more than the 5,293
/// person-times sampled there on the day.
pub const WAWULI_RESIDENTS: u64 = 5_500;

/// Region code most demo residents' IDs were issued under.
const DEMO_REGION: u32 = 410102;

/// What the rest of the city needs from the demo district.
pub(crate) struct Demo {
    /// 郑州大学南校区, where students from every district study.
    pub(crate) university: AreaId,
}

/// A community of the demo district that is filled by the generic filler
/// after its key compound (if any).
struct DemoCommunity {
    node: Node,
    /// Residents it should hold in total.
    target: u64,
    village: bool,
    /// Next free grid number.
    next_grid: u32,
    /// Residents placed in it so far.
    filled: u64,
}

fn grid(w: &mut Writer<'_>, c: &mut DemoCommunity) -> Result<Node, GenError> {
    let name = format!("{}第{}网格", c.node.name, c.next_grid);
    c.next_grid += 1;
    w.child(&c.node, AreaLevel::Grid, &name)
}

/// Writes the demo district and fills it (up to the budgets in force).
pub(crate) fn build(w: &mut Writer<'_>, rng: &mut Rng, f: &mut Filler) -> Result<Demo, GenError> {
    w.push_budget(DEMO_PEOPLE, true);
    let result = build_inner(w, rng, f);
    w.pop_budget();
    result
}

fn build_inner(w: &mut Writer<'_>, rng: &mut Rng, f: &mut Filler) -> Result<Demo, GenError> {
    use AreaLevel::*;
    f.places.clear();
    let district = w.root(DISTRICT)?;
    let wutong = w.child(&district, SubDistrict, WUTONG_SUBDISTRICT)?;
    let dongqing = w.child(&district, SubDistrict, DONGQING_SUBDISTRICT)?;
    let yulan = w.child(&district, SubDistrict, YULAN_SUBDISTRICT)?;
    let shifo = w.child(&district, SubDistrict, SHIFO_SUBDISTRICT)?;

    // Schools and employers: the targets of affiliations.
    let primary = w.child(&wutong, School, PRIMARY_SCHOOL)?;
    let hospital = w.child(&wutong, Workplace, HOSPITAL)?;
    let software = w.child(&wutong, Workplace, SOFTWARE_COMPANY)?;
    let gas_company = w.child(&dongqing, Workplace, GAS_COMPANY)?;
    let pharma = w.child(&yulan, Workplace, PHARMA_FACTORY)?;
    let park = w.child(&shifo, Workplace, SCIENCE_PARK)?;
    let logistics = w.child(&shifo, Workplace, LOGISTICS_PARK)?;
    let zzu = w.child(&shifo, School, ZZU_SOUTH)?;
    for b in ["教学楼", "图书馆", "学生公寓1号楼", "学生公寓2号楼"] {
        w.child(&zzu, Building, b)?;
    }
    w.site(&zzu, SiteKind::ClosedLoop, format!("{ZZU_SOUTH}闭环采样点"));

    // Communities, each with its hut and door-to-door teams.
    let mut make = |w: &mut Writer<'_>, parent: &Node, name: &str, target: u64, village: bool| {
        community(w, rng, parent, name).map(|node| DemoCommunity {
            node,
            target,
            village,
            next_grid: 1,
            filled: 0,
        })
    };
    let mut wawuli = make(w, &wutong, WAWULI_COMMUNITY, WAWULI_RESIDENTS, false)?;
    let mut feicui = make(w, &wutong, FEICUI_COMMUNITY, 4_600, false)?;
    let mut xixi = make(w, &wutong, XIXI_COMMUNITY, 4_400, false)?;
    let mut ruida = make(w, &dongqing, RUIDA_COMMUNITY, 3_800, false)?;
    let chunteng = make(w, &dongqing, CHUNTENG_COMMUNITY, 4_600, false)?;
    let zijin = make(w, &dongqing, ZIJIN_COMMUNITY, 4_300, false)?;
    let mut yulan_c = make(w, &yulan, YULAN_COMMUNITY, 3_600, false)?;
    let mut kaixuan = make(w, &yulan, KAIXUAN_COMMUNITY, 3_200, false)?;
    let tonghe = make(w, &yulan, TONGHE_COMMUNITY, 4_500, false)?;
    let zizhu = make(w, &yulan, ZIZHU_COMMUNITY, 4_200, false)?;
    let dali = make(w, &shifo, DALI_VILLAGE, 3_600, true)?;
    let gouzhao = make(w, &shifo, GOUZHAO_VILLAGE, 3_100, true)?;
    let waliu = make(w, &shifo, WALIU_VILLAGE, 2_900, true)?;
    // The last community takes whatever the district has left.
    let guanyue = make(w, &shifo, GUANYUE_COMMUNITY, u64::MAX, false)?;

    // The story's compounds and the school, in their grid cells.
    let wawuli_grid = grid(w, &mut wawuli)?;
    debug_assert_eq!(wawuli_grid.name, WAWULI_GRID_1);
    let wawuli_compound = w.child(&wawuli_grid, Compound, WAWULI_COMPOUND)?;
    let ruida_grid = grid(w, &mut ruida)?;
    let gas_compound = w.child(&ruida_grid, Compound, GAS_COMPOUND)?;
    let school = w.child(&ruida.node, School, SCHOOL_37)?;
    let mut staff_block = None;
    for b in ["教学楼", "实验楼", "宿舍楼", "教工楼"] {
        staff_block = Some(w.child(&school, Building, b)?);
    }
    let staff_block = staff_block.expect("four buildings");
    w.site(
        &school,
        SiteKind::ClosedLoop,
        format!("{SCHOOL_37}闭环采样点"),
    );
    let yulan_grid = grid(w, &mut yulan_c)?;
    let yulan_compound = w.child(&yulan_grid, Compound, YULAN_COMPOUND)?;
    let kaixuan_grid = grid(w, &mut kaixuan)?;
    let pharma_compound = w.child(&kaixuan_grid, Compound, PHARMA_FAMILY_COMPOUND)?;
    let self_built = w.child(&kaixuan_grid, Compound, KAIXUAN_SELF_BUILT)?;
    let feicui_grid = grid(w, &mut feicui)?;
    let feicui_compound = w.child(&feicui_grid, Compound, FEICUI_COMPOUND)?;
    let xixi_grid = grid(w, &mut xixi)?;
    let xixi_compound = w.child(&xixi_grid, Compound, XIXI_COMPOUND)?;

    let aff = Affiliations {
        primary: Some(primary.id),
        middle: Some(school.id),
        university: Some(zzu.id),
        university_share: 0.4,
        workplaces: vec![
            hospital.id,
            software.id,
            gas_company.id,
            pharma.id,
            park.id,
            logistics.id,
        ],
        employ_share: 0.55,
        employer: None,
        home_region: region_index(DEMO_REGION),
    };
    let with_employer = |id: AreaId, share: f64| Affiliations {
        employer: Some((id, share)),
        ..aff.clone()
    };

    // Story first: the five places of the 04:00 order.
    let counted = |w: &mut Writer<'_>,
                   c: &mut DemoCommunity,
                   fill: &mut dyn FnMut(&mut Writer<'_>) -> Result<(), GenError>|
     -> Result<(), GenError> {
        let before = w.produced();
        fill(w)?;
        c.filled += w.produced() - before;
        Ok(())
    };
    counted(w, &mut wawuli, &mut |w| {
        f.fill(
            w,
            rng,
            &wawuli_compound,
            &Plan::blocks(20, 3, 11, 2, 0.95),
            &aff,
        )
    })?;
    let gas_aff = with_employer(gas_company.id, 0.6);
    counted(w, &mut ruida, &mut |w| {
        f.fill(
            w,
            rng,
            &gas_compound,
            &Plan::blocks(7, 2, 6, 2, 0.95),
            &gas_aff,
        )
    })?;
    let staff_aff = with_employer(school.id, 0.9);
    counted(w, &mut ruida, &mut |w| {
        let plan = Plan::blocks(1, 2, 6, 2, 0.9);
        f.fill_building(
            w,
            rng,
            &school,
            Some(&staff_block),
            "教工楼",
            &plan,
            &staff_aff,
        )
    })?;
    counted(w, &mut yulan_c, &mut |w| {
        f.fill(
            w,
            rng,
            &yulan_compound,
            &Plan::blocks(5, 2, 10, 2, 0.96),
            &aff,
        )
    })?;
    counted(w, &mut kaixuan, &mut |w| {
        let plan = Plan::houses(30, (3, 5), (1, 2), 0.85);
        f.fill(w, rng, &self_built, &plan, &aff)
    })?;

    // Then the key compounds of the other communities.
    let pharma_aff = with_employer(pharma.id, 0.6);
    counted(w, &mut kaixuan, &mut |w| {
        f.fill(
            w,
            rng,
            &pharma_compound,
            &Plan::blocks(6, 2, 6, 2, 0.93),
            &pharma_aff,
        )
    })?;
    counted(w, &mut feicui, &mut |w| {
        f.fill(
            w,
            rng,
            &feicui_compound,
            &Plan::blocks(12, 2, 18, 2, 0.9),
            &aff,
        )
    })?;
    counted(w, &mut xixi, &mut |w| {
        f.fill(
            w,
            rng,
            &xixi_compound,
            &Plan::blocks(16, 2, 9, 2, 0.92),
            &aff,
        )
    })?;

    // Then every community up to its target, Wawuli first.
    for c in [
        wawuli, feicui, xixi, ruida, chunteng, zijin, yulan_c, kaixuan, tonghe, zizhu, dali,
        gouzhao, waliu, guanyue,
    ] {
        if w.remaining() == 0 {
            break;
        }
        let left = c.target.saturating_sub(c.filled);
        f.fill_community(w, rng, &c.node, c.next_grid, left, c.village, &aff)?;
    }
    Ok(Demo { university: zzu.id })
}
