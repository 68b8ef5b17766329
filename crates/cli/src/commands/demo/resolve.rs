//! Finding the scenario's places and people on the roster, before
//! anything is sent: every name resolved to exactly one area or site, every
//! person picked (deterministically, from the scenario's seed). Reads only,
//! so a scenario that fails here has written nothing.

use super::scenario::{ExpansionSite, MemberGroup, Scenario};
use anyhow::{Result, bail};
use gridsweep_domain::AreaLevel;
use gridsweep_storage::{PersonRecord, Store};
use std::collections::{BTreeMap, BTreeSet};

/// Everything the replay needs from the roster, looked up before anything
/// is sent: every name resolved to exactly one area or site, every person
/// picked. A scenario that fails here has written nothing.
pub struct Resolved {
    /// The area the routine round covers.
    pub(super) routine_area: gridsweep_domain::AreaId,
    /// The site the triggering tube was sampled at.
    pub(super) hut: i64,
    /// The site the members' retests are sampled at.
    pub(super) retest_site: i64,
    /// The triggering tube's persons, each with its group's tag.
    pub(super) members: Vec<(Option<String>, PersonRecord)>,
    /// Each expansion site with the persons sampled there.
    pub(super) expansion: Vec<(i64, Vec<PersonRecord>)>,
    /// Each environmental sampling's site.
    pub(super) environment: Vec<i64>,
    /// Each `[[marks]]` entry's persons.
    pub(super) marks: Vec<Vec<PersonRecord>>,
    /// Every picked person's document, by id (follow-up retests scan them).
    pub(super) documents: BTreeMap<i64, String>,
}

/// Resolves the scenario against the roster (reads only).
pub fn resolve(store: &dyn Store, s: &Scenario) -> Result<Resolved> {
    let mut picker = Picker {
        seed: s.seed,
        taken: BTreeSet::new(),
    };
    let routine_area = area_named(store, &s.routine.area)?.id;
    let members = resolve_members(store, &mut picker, &s.trigger.members)?;
    let hut = site_id(store, &s.trigger.site)?;
    let retest_site = site_id(store, &s.retests.site)?;
    let mut expansion = Vec::new();
    for e in &s.expansion {
        expansion.push(resolve_expansion_site(store, &mut picker, e)?);
    }
    let mut environment = Vec::new();
    for env in &s.environment {
        environment.push(site_id(store, &env.site)?);
        area_named(store, &env.place)?;
    }
    let mut marks = Vec::new();
    for m in &s.marks {
        let pool = residents(store, &m.from)?;
        marks.push(picker.pick(pool, m.count, &m.from)?);
    }
    let documents = members
        .iter()
        .map(|(_, p)| p)
        .chain(expansion.iter().flat_map(|(_, ps)| ps.iter()))
        .map(|p| (p.id.0, p.document.number().to_string()))
        .collect();
    Ok(Resolved {
        routine_area,
        hut,
        retest_site,
        members,
        expansion,
        environment,
        marks,
        documents,
    })
}

/// The triggering tube's persons, group by group, each with its tag.
fn resolve_members(
    store: &dyn Store,
    picker: &mut Picker,
    groups: &[MemberGroup],
) -> Result<Vec<(Option<String>, PersonRecord)>> {
    let mut members = Vec::new();
    for g in groups {
        let mut pool = residents(store, &g.place)?;
        if let Some(org) = &g.affiliated {
            let org = area_named(store, org)?;
            pool.retain(|p| p.affiliations.iter().any(|a| a.area == org.id));
        }
        for p in picker.pick(pool, g.count, &g.place)? {
            members.push((g.tag.clone(), p));
        }
    }
    Ok(members)
}

/// One expansion site and the persons sampled there: residents of its
/// places and affiliates of its organisations, each person once.
fn resolve_expansion_site(
    store: &dyn Store,
    picker: &mut Picker,
    e: &ExpansionSite,
) -> Result<(i64, Vec<PersonRecord>)> {
    let site = site_id(store, &e.site)?;
    let mut pool = Vec::new();
    for place in &e.from {
        pool.extend(residents(store, place)?);
    }
    for org in &e.affiliates_of {
        let a = area_named(store, org)?;
        pool.extend(store.affiliates_of(a.id, 1_000_000)?);
    }
    let mut seen = BTreeSet::new();
    pool.retain(|p| seen.insert(p.id.0));
    Ok((site, picker.pick(pool, e.people, &e.site)?))
}

/// Picks persons for one scenario entry after another: each entry gets
/// the next seed, and nobody is picked twice.
struct Picker {
    seed: u64,
    taken: BTreeSet<i64>,
}

impl Picker {
    /// Picks `n` persons from `pool` with the next seed.
    fn pick(&mut self, pool: Vec<PersonRecord>, n: usize, what: &str) -> Result<Vec<PersonRecord>> {
        self.seed += 1;
        pick(pool, n, self.seed, &mut self.taken, what)
    }
}

/// A tiny deterministic shuffle (xorshift), so a seed picks the same
/// persons every run.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// The one area named `name`: a name that is on the roster more than once
/// (47 buildings are called 1号楼) is an error listing the candidates, so
/// a scenario never silently picks one of them.
fn area_named(store: &dyn Store, name: &str) -> Result<gridsweep_storage::AreaNode> {
    let mut found: Vec<gridsweep_storage::AreaNode> = store
        .find_areas(None, name, &AreaLevel::ALL)?
        .into_iter()
        .filter(|a| a.name == name)
        .collect();
    match found.len() {
        0 => bail!("scenario names {name:?}, which is not on the roster"),
        1 => Ok(found.remove(0)),
        n => {
            let parents: Vec<gridsweep_domain::AreaId> =
                found.iter().filter_map(|a| a.parent).collect();
            let names: std::collections::BTreeMap<_, _> = store
                .areas(&parents)?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect();
            let list: Vec<String> = found
                .iter()
                .take(20)
                .map(|a| {
                    format!(
                        "#{} {} in {}",
                        a.id,
                        a.name,
                        a.parent
                            .and_then(|p| names.get(&p).cloned())
                            .unwrap_or_default()
                    )
                })
                .collect();
            bail!(
                "scenario names {name:?}, which is ambiguous: {n} areas carry that name ({}{})",
                list.join("; "),
                if n > 20 { "; …" } else { "" }
            )
        }
    }
}

/// The one site named `name` (an ambiguous name lists the candidates).
fn site_id(store: &dyn Store, name: &str) -> Result<i64> {
    let mut found = Vec::new();
    for root in store.roots()? {
        found.extend(
            store
                .sites(&root.path)?
                .into_iter()
                .filter(|s| s.name == name),
        );
    }
    match found.as_slice() {
        [] => bail!("scenario names site {name:?}, which does not exist"),
        [one] => Ok(one.id),
        many => bail!(
            "scenario names site {name:?}, which is ambiguous: {} sites carry that name (ids {})",
            many.len(),
            many.iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn residents(store: &dyn Store, place: &str) -> Result<Vec<PersonRecord>> {
    let a = area_named(store, place)?;
    Ok(store.residents_of(&a.path, 1_000_000)?)
}

/// Picks `n` persons from `pool` not yet `taken`, deterministically.
fn pick(
    mut pool: Vec<PersonRecord>,
    n: usize,
    seed: u64,
    taken: &mut BTreeSet<i64>,
    what: &str,
) -> Result<Vec<PersonRecord>> {
    pool.retain(|p| !taken.contains(&p.id.0));
    shuffle(&mut pool, seed);
    if pool.len() < n {
        bail!(
            "{what}: wants {n} persons, the roster has {} left",
            pool.len()
        );
    }
    pool.truncate(n);
    for p in &pool {
        taken.insert(p.id.0);
    }
    Ok(pool)
}
