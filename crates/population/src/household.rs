//! Households: how many live together, how they are related, and who they
//! are (name, ID, phone, school or employer).
//!
//! Sizes follow China's 2020 census (mean ≈ 2.6). Members are built as a
//! family — a couple of similar age, children 22–36 years younger than
//! their mother, sometimes a grandparent — because tracing a pool's
//! members to their households is what the response does first, and a
//! roster of strangers would not exercise it.

use crate::GenError;
use crate::ids::{ZHENGZHOU_REGIONS, birth_day_for_age, civil_from_days};
use crate::rng::Rng;
use crate::words::Era;
use crate::writer::{Node, Writer};
use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, Gender, PersonDocument, PersonId, PersonName,
};
use gridsweep_storage::NewPerson;
use std::fmt::Write;

/// Household sizes 1–7 in percent (2020 census, 6+ split 3/1).
const SIZE_WEIGHTS: [u32; 7] = [25, 30, 21, 13, 7, 3, 1];

/// Where the members of the households being filled study and work.
#[derive(Debug, Clone, Default)]
pub(crate) struct Affiliations {
    /// Primary school for ages 6–11.
    pub(crate) primary: Option<AreaId>,
    /// Middle school for ages 12–18.
    pub(crate) middle: Option<AreaId>,
    /// University for some of ages 18–22.
    pub(crate) university: Option<AreaId>,
    /// Share of 18–22-year-olds studying there.
    pub(crate) university_share: f64,
    /// Employers of the neighbourhood.
    pub(crate) workplaces: Vec<AreaId>,
    /// Share of working-age adults employed by one of them.
    pub(crate) employ_share: f64,
    /// A compound's own employer (a factory's family compound) and the
    /// share of working adults employed there.
    pub(crate) employer: Option<(AreaId, f64)>,
    /// The district's own region code (index into the region table).
    pub(crate) home_region: usize,
}

/// One member before they get a name and an ID.
#[derive(Debug, Clone, Copy)]
struct Member {
    age: u32,
    male: bool,
    surname: u16,
    /// Uyghur given name and father's name (used when the household is).
    own: u16,
    father: u16,
}

/// Reusable scratch space, so a household costs no allocation of its own.
pub(crate) struct HouseholdGen {
    members: Vec<Member>,
    name: String,
}

impl HouseholdGen {
    /// Empty scratch.
    pub(crate) fn new() -> Self {
        Self {
            members: Vec::with_capacity(8),
            name: String::with_capacity(32),
        }
    }

    /// Creates the household `name` under `building` and its members,
    /// cut short if the requested total is reached mid-household.
    pub(crate) fn generate(
        &mut self,
        w: &mut Writer<'_>,
        rng: &mut Rng,
        building: &Node,
        name: &str,
        aff: &Affiliations,
    ) -> Result<(), GenError> {
        let cap = w.hard_remaining();
        if cap == 0 {
            return Ok(());
        }
        let size = rng.weighted(&SIZE_WEIGHTS) + 1;
        let uyghur = rng.chance(0.012);
        self.compose(w, rng, size, uyghur);
        let household = w.child(building, AreaLevel::Household, name)?;
        let region_home = if rng.chance(0.55) {
            aff.home_region
        } else {
            rng.below(ZHENGZHOU_REGIONS.len() as u64) as usize
        };
        let take = self.members.len().min(cap as usize);
        for i in 0..take {
            let m = self.members[i];
            let region = if rng.chance(0.8) {
                region_home
            } else {
                rng.below(ZHENGZHOU_REGIONS.len() as u64) as usize
            };
            let day = birth_day_for_age(m.age, rng.below(365) as u32);
            let (id, day) = w.ids.issue(region, day, m.male)?;
            let (y, mo, d) = civil_from_days(day);
            self.name.clear();
            if uyghur {
                w.names.uyghur(m.own, m.male, m.father, &mut self.name);
            } else {
                w.names.han(
                    rng,
                    m.surname,
                    m.male,
                    Era::of_birth_year(y),
                    &mut self.name,
                );
            }
            let phone_p = match m.age {
                0..=11 => 0.0,
                12..=17 => 0.4,
                18..=64 => 0.97,
                65..=74 => 0.88,
                _ => 0.6,
            };
            let phone = if rng.chance(phone_p) {
                Some(w.phones.issue(rng.next_u64())?)
            } else {
                None
            };
            let affiliations = affiliations_for(rng, m.age, aff);
            let mut birth = String::with_capacity(10);
            write!(birth, "{y:04}-{mo:02}-{d:02}").expect("write to string");
            w.person(NewPerson {
                id: PersonId(0),
                name: PersonName::parse(&self.name)?,
                document: PersonDocument::resident(&id),
                gender: Some(if m.male { Gender::Male } else { Gender::Female }),
                birth_date: Some(birth),
                phone,
                household: household.id,
                household_path: household.path.clone(),
                affiliations,
            });
        }
        w.checkpoint()
    }

    /// Fills `self.members` with a plausible family of `size`, head first.
    fn compose(&mut self, w: &Writer<'_>, rng: &mut Rng, size: usize, uyghur: bool) {
        self.members.clear();
        let names = &w.names;
        let hs = names.surname(rng);
        let ws = names.surname(rng);
        let husband_own = names.uyghur_given(rng, true);
        let person = |rng: &mut Rng, age: u32, male: bool, surname: u16, father: Option<u16>| {
            let own = if uyghur {
                names.uyghur_given(rng, male)
            } else {
                0
            };
            let father = father.unwrap_or_else(|| names.uyghur_given(rng, true));
            Member {
                age,
                male,
                surname,
                own,
                father,
            }
        };
        match size {
            1 => {
                let age = match rng.below(100) {
                    0..=39 => rng.range(20, 34),
                    40..=64 => rng.range(35, 59),
                    _ => 55 + rng.range(0, 15) + rng.range(0, 15),
                };
                let male = rng.chance(if age >= 65 { 0.4 } else { 0.55 });
                let m = person(rng, age, male, hs, None);
                self.members.push(m);
            }
            2 => match rng.below(100) {
                0..=67 => {
                    let h = match rng.below(100) {
                        0..=29 => rng.range(23, 35),
                        30..=49 => rng.range(36, 54),
                        _ => 50 + rng.range(0, 13) + rng.range(0, 13),
                    };
                    let mut hm = person(rng, h, true, hs, None);
                    hm.own = if uyghur { husband_own } else { 0 };
                    self.members.push(hm);
                    let wife = wife_age(rng, h);
                    let wm = person(rng, wife, false, ws, None);
                    self.members.push(wm);
                }
                68..=85 => {
                    let male = rng.chance(0.3);
                    let p = rng.range(40, 75);
                    let mut pm = person(rng, p, male, if male { hs } else { ws }, None);
                    if male && uyghur {
                        pm.own = husband_own;
                    }
                    self.members.push(pm);
                    let c = p.saturating_sub(rng.range(22, 36)).max(8);
                    let child_surname = if male || rng.chance(0.6) { hs } else { ws };
                    let male = rng.chance(0.52);
                    let cm = person(rng, c, male, child_surname, Some(husband_own));
                    self.members.push(cm);
                }
                _ => {
                    let male = rng.chance(0.5);
                    let h = rng.range(25, 55);
                    let hm = person(rng, h, male, hs, None);
                    self.members.push(hm);
                    let g = (h + rng.range(22, 34)).min(99);
                    let male = rng.chance(0.35);
                    let gm = person(rng, g, male, hs, None);
                    self.members.push(gm);
                }
            },
            _ => {
                // (children, grandparents, single parent)
                let (children, grandparents, single) = match (size, rng.below(100)) {
                    (3, 0..=79) => (1, 0, false),
                    (3, 80..=91) => (0, 1, false),
                    (3, _) => (2, 0, true),
                    (4, 0..=59) => (2, 0, false),
                    (4, _) => (1, 1, false),
                    (5, 0..=44) => (1, 2, false),
                    (5, 45..=84) => (2, 1, false),
                    (5, _) => (3, 0, false),
                    (6, 0..=69) => (2, 2, false),
                    (6, _) => (3, 1, false),
                    (n, _) => (n - 4, 2, false),
                };
                // The mother's age anchors the family; the eldest child is
                // 22–36 years younger, and old enough that siblings can be
                // at least a year apart.
                let later = children.saturating_sub(1) as u32;
                let mut mother = rng.range(24, 58);
                let eldest = mother.saturating_sub(rng.range(22, 36)).max(2 * later);
                mother = mother.max(eldest + 20);
                let father_age = (mother + rng.range(0, 5)).saturating_sub(1).max(22);
                let father_present = !single || rng.chance(0.3);
                if father_present {
                    let mut hm = person(rng, father_age, true, hs, None);
                    hm.own = if uyghur { husband_own } else { 0 };
                    self.members.push(hm);
                }
                if !single || !father_present {
                    let wm = person(rng, mother, false, ws, None);
                    self.members.push(wm);
                }
                let mut age = eldest;
                for k in 0..children as u32 {
                    if k > 0 {
                        // Leave room for the younger ones still to come.
                        let room = age - 2 * (later - k);
                        age -= rng.range(1, 6).min(room);
                    }
                    let surname = if rng.chance(0.95) { hs } else { ws };
                    let male = rng.chance(0.52);
                    let cm = person(rng, age, male, surname, Some(husband_own));
                    self.members.push(cm);
                }
                // Grandparents: the husband's parents mostly.
                let paternal = rng.chance(0.7);
                let base = if paternal { father_age } else { mother };
                let g1 = (base + rng.range(22, 34)).min(99);
                match grandparents {
                    0 => {}
                    1 => {
                        let male = rng.chance(0.35);
                        let surname = match (male, paternal) {
                            (true, true) => hs,
                            (true, false) => ws,
                            _ => names.surname(rng),
                        };
                        let gm = person(rng, g1, male, surname, None);
                        self.members.push(gm);
                    }
                    _ => {
                        let gf = person(rng, g1, true, if paternal { hs } else { ws }, None);
                        self.members.push(gf);
                        let g2 = wife_age(rng, g1).min(99);
                        let surname = names.surname(rng);
                        let gmo = person(rng, g2, false, surname, None);
                        self.members.push(gmo);
                    }
                }
            }
        }
        // A size drawn above always yields exactly `size` members except for
        // the single-parent variants, which are one short: add a relative.
        while self.members.len() < size {
            let age = rng.range(18, 70);
            let male = rng.chance(0.5);
            let m = person(rng, age, male, hs, None);
            self.members.push(m);
        }
        self.members.truncate(size);
    }
}

/// A wife's age given her husband's: usually 0–4 years younger.
fn wife_age(rng: &mut Rng, husband: u32) -> u32 {
    let delta = rng.range(0, 7) as i64 - 2;
    (i64::from(husband) - delta).clamp(20, 99) as u32
}

/// The school or employer links of a member of `age`.
fn affiliations_for(rng: &mut Rng, age: u32, aff: &Affiliations) -> Vec<Affiliation> {
    let link = |area: AreaId, kind: AffiliationKind| vec![Affiliation { area, kind }];
    if let (6..=11, Some(school)) = (age, aff.primary) {
        if rng.chance(0.95) {
            return link(school, AffiliationKind::Student);
        }
        return Vec::new();
    }
    if let Some(school) = aff.middle
        && ((12..=17).contains(&age) || (age == 18 && rng.chance(0.5)))
    {
        return link(school, AffiliationKind::Student);
    }
    if let (18..=22, Some(uni)) = (age, aff.university)
        && rng.chance(aff.university_share)
    {
        return link(uni, AffiliationKind::Student);
    }
    if (22..=59).contains(&age) {
        if let Some((employer, share)) = aff.employer
            && rng.chance(share)
        {
            return link(employer, AffiliationKind::Employee);
        }
        if !aff.workplaces.is_empty() && rng.chance(aff.employ_share) {
            return link(*rng.pick(&aff.workplaces), AffiliationKind::Employee);
        }
    }
    Vec::new()
}
