//! Choosing a design: enumerate candidates under the pool cap, evaluate
//! them (cached), predict hours to all-clear with a simple resource model,
//! and pick the best feasible one by the objective.

use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::accuracy::Accuracy;
use crate::characteristics::{Characteristics, Method, characteristics};
use crate::designs::{Decoder, Design};
use crate::error::{PoolingError, Result, invalid};
use crate::montecarlo::McConfig;
use crate::population::{BlockGroup, aggregate, for_members, splits};

/// Largest pool searched when the request sets no cap: far past any optimum
/// at prevalences ≥ 0.01 %, and it keeps the search bounded.
pub const UNCAPPED_SEARCH_LIMIT: u32 = 1024;

/// What "best" means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Fewest expected tubes (reagent and lab time are the scarce resource).
    #[default]
    ExpectedTests,
    /// Fewest expected hours from alert to all-clear (the outbreak case).
    HoursToAllClear,
}

impl FromStr for Objective {
    type Err = PoolingError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "tests" | "expected_tests" => Ok(Objective::ExpectedTests),
            "hours" | "time" | "hours_to_all_clear" => Ok(Objective::HoursToAllClear),
            other => Err(invalid(
                "objective",
                format!("`{other}`: use `tests` or `hours`"),
            )),
        }
    }
}

/// Hard limits a design must respect to be recommended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// Most samples in one tube (None: uncapped).
    pub max_pool: Option<u32>,
    /// Most lab rounds in the worst case.
    pub max_rounds: u32,
    /// Least acceptable pooling sensitivity.
    pub min_sensitivity: f64,
    /// Least acceptable pooling specificity.
    pub min_specificity: f64,
    /// Latest acceptable expected hours to all-clear (None: no deadline).
    pub deadline_hours: Option<f64>,
}

/// The people and capacities that turn tubes into hours. See
/// [`hours_to_all_clear`] for how they combine.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// People to screen.
    pub people: u64,
    /// Lab throughput, tubes per hour.
    pub lab_tubes_per_hour: f64,
    /// Hours from loading a tube to its result (extraction, PCR, review).
    pub turnaround_hours: f64,
    /// Samplers working at once.
    pub samplers: u32,
    /// People one sampler swabs per hour.
    pub persons_per_sampler_hour: f64,
    /// Tubes leave a site every this many hours (the last batch waits this long).
    pub transport_interval_hours: f64,
    /// Alert to first swab: calling teams, setting up sites.
    pub mobilisation_hours: f64,
    /// Re-collecting swabs from the members of a positive pool for a later
    /// round, door to door (0 when the lab keeps individual aliquots).
    pub retest_collection_hours: f64,
    /// Final results to the all-clear decision (CDC review, order to lift).
    pub decision_hours: f64,
    /// Count one single confirmation tube per flagged person in a design's
    /// cost (the response confirms everyone flagged anyway, so a design
    /// that flags many negatives is not cheap).
    #[serde(default = "yes")]
    pub confirm_flagged: bool,
}

fn yes() -> bool {
    true
}

/// Where the hours go, for the table and the drill check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoursBreakdown {
    /// Alert to sampling start.
    pub mobilisation: f64,
    /// Sampling everyone.
    pub sampling: f64,
    /// Lab loading time for round 1 (tubes ÷ throughput).
    pub lab_round_one: f64,
    /// Sampling start to the last round-1 result.
    pub round_one: f64,
    /// Expected extra hours of later rounds.
    pub later_rounds: f64,
    /// Result to decision.
    pub decision: f64,
    /// Expected hours from alert to all-clear.
    pub total: f64,
    /// Hours if every round-1 tube is negative (no later round anywhere).
    pub total_if_round_one_negative: f64,
    /// "sampling" or "lab": which one sets the pace of round 1.
    pub bottleneck: String,
}

/// Expected hours from alert to all-clear for a design with figures `ch`.
///
/// Round 1: tubes are collected over `sampling = people ÷ (samplers ×
/// persons/h)` hours and reach the lab in batches, the last one
/// `transport_interval` after the last swab; the lab loads at
/// `lab_tubes_per_hour`, so loading ends at `max(sampling, tubes₁ ÷ rate) +
/// transport_interval` and results follow `turnaround` later. Round r ≥ 2
/// happens somewhere with probability `1 − (1 − P_r)^blocks` and then costs
/// re-collection + transport + turnaround, plus its expected tubes ÷ rate.
/// Rounds are taken as sequential (conservative: in practice an early
/// positive pool's retest overlaps round 1). Then `decision` hours.
pub fn hours_to_all_clear(ch: &Characteristics, res: &Resources) -> HoursBreakdown {
    let people = res.people as f64;
    let blocks = res.people.div_ceil(ch.block_size as u64) as f64;
    let sampling = people / (res.samplers as f64 * res.persons_per_sampler_hour);
    let rate = res.lab_tubes_per_hour;
    let lab_one = blocks * ch.tests_by_round.first().copied().unwrap_or(0.0) / rate;
    let round_one = sampling.max(lab_one) + res.transport_interval_hours + res.turnaround_hours;
    let mut later = 0.0;
    for (r, &pr) in ch.round_probabilities.iter().enumerate().skip(1) {
        let any = 1.0 - (1.0 - pr.clamp(0.0, 1.0)).powf(blocks);
        let tubes = blocks * ch.tests_by_round.get(r).copied().unwrap_or(0.0);
        later += any
            * (res.retest_collection_hours + res.transport_interval_hours + res.turnaround_hours)
            + tubes / rate;
    }
    let base = res.mobilisation_hours + round_one + res.decision_hours;
    HoursBreakdown {
        mobilisation: res.mobilisation_hours,
        sampling,
        lab_round_one: lab_one,
        round_one,
        later_rounds: later,
        decision: res.decision_hours,
        total: base + later,
        total_if_round_one_negative: base,
        bottleneck: if sampling >= lab_one {
            "sampling"
        } else {
            "lab"
        }
        .to_string(),
    }
}

fn pool_code_sizes(cap: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (2..=20).collect();
    v.extend([24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256]);
    v.push(cap.min(256));
    v.retain(|&k| (2..=cap).contains(&k));
    v.sort_unstable();
    v.dedup();
    v
}

/// Largest pool worth searching: the cap, never more than the people.
pub fn search_cap(max_pool: Option<u32>, people: u64) -> u32 {
    max_pool
        .unwrap_or(UNCAPPED_SEARCH_LIMIT)
        .min(UNCAPPED_SEARCH_LIMIT)
        .min(people.min(u32::MAX as u64) as u32)
        .max(1)
}

/// Top-pool sizes searched for D3: every size up to 128, then a coarser
/// grid (the optimum is flat there), always including the cap.
fn d3_top_sizes(cap: u32, p: f64) -> Vec<u32> {
    let useful = |n: u32| n as f64 * p <= 10.0;
    let mut v: Vec<u32> = (3..=cap.min(128))
        .chain((132..=cap.min(512)).step_by(4))
        .chain((528..=cap).step_by(16))
        .filter(|&k| useful(k))
        .collect();
    if cap >= 3 && !v.contains(&cap) && useful(cap) {
        v.push(cap);
    }
    v
}

/// Every design configuration searched under the pool cap at prevalence
/// `p` for `people` people (no pool larger than the people), except D3,
/// whose sub-pool split is searched per top pool by [`best_d3`].
/// Fixed-shape families are pruned to blocks expected to hold ≤ 2
/// positives (larger blocks are never competitive).
pub fn candidates(max_pool: Option<u32>, p: f64, people: u64) -> Vec<Design> {
    let cap = search_cap(max_pool, people);
    let sensible = |n: u32| n as f64 * p <= 2.0;
    // a top pool expected to hold > 10 positives is positive anyway: never optimal
    let useful = |n: u32| n as f64 * p <= 10.0;
    let mut v = vec![Design::Individual];
    for k in 2..=cap {
        if useful(k) || k == cap {
            v.push(Design::Dorfman { pool: k });
        }
    }
    for r in 2..=cap.min(128) {
        for c in [r, r + 1] {
            if c <= cap && (r * c) as f64 * p <= 25.0 && (r * c) as u64 <= people {
                v.push(Design::Array {
                    rows: r,
                    cols: c,
                    master_pool: false,
                });
            }
        }
        for c in (r..=cap / r).filter(|&c| useful(r * c)) {
            v.push(Design::Array {
                rows: r,
                cols: c,
                master_pool: true,
            });
        }
    }
    for side in 2..=5u32 {
        let mut n = side * side;
        let mut dims = 2;
        while n <= cap && sensible(n) {
            v.push(Design::Hypercube { side, dims });
            n *= side;
            dims += 1;
        }
    }
    for items in [8u32, 16, 24] {
        for tests in [items / 2, items * 3 / 4] {
            let base = Design::NonAdaptive {
                items,
                tests,
                tests_per_item: 2,
                decoder: Decoder::Comp,
            };
            if !sensible(items) || base.largest_pool() > cap as usize || items as u64 > people {
                continue;
            }
            for decoder in [Decoder::Comp, Decoder::Dd, Decoder::Scomp] {
                v.push(Design::NonAdaptive {
                    items,
                    tests,
                    tests_per_item: 2,
                    decoder,
                });
            }
        }
    }
    for k in pool_code_sizes(cap) {
        if sensible(k) {
            for third_round in [false, true] {
                v.push(Design::PoolCode {
                    pool: k,
                    third_round,
                });
            }
        }
    }
    v
}

/// The D3 configurations searched: for each top pool, the split into
/// sub-pools and singles that is best by [`best_d3`].
pub fn d3_candidates(
    ev: &mut Evaluator,
    max_pool: Option<u32>,
    people: u64,
    cons: &Constraints,
    confirm: bool,
) -> Result<Vec<Design>> {
    let cap = search_cap(max_pool, people);
    let mut v = Vec::new();
    for k in d3_top_sizes(cap, ev.p) {
        if let Some(d) = best_d3(ev, k, cons, confirm)? {
            v.push(d);
        }
    }
    Ok(v)
}

/// The best round-2 split of a D3 pool of `k`: `sub_pools` even sub-pools
/// plus `singles` members alone, as binGroup2 searches unequal sub-pools.
/// Cost per person (plus confirmations when `confirm`), among the splits
/// meeting the accuracy floor when any does. For each number of singles
/// the number of sub-pools is scanned upward until the cost has risen
/// three times in a row (it is unimodal in practice).
pub fn best_d3(
    ev: &mut Evaluator,
    k: u32,
    cons: &Constraints,
    confirm: bool,
) -> Result<Option<Design>> {
    let mut best: Option<(bool, f64, Design)> = None;
    for singles in 0..=k.saturating_sub(2).min(16) {
        let mut last = f64::INFINITY;
        let mut rising = 0;
        for sub_pools in 1..=(k - singles) / 2 {
            let d = Design::Hierarchical3 {
                pool: k,
                sub_pools,
                singles,
            };
            if d.validate().is_err() {
                continue;
            }
            let c = crate::characteristics::exact_characteristics(&d, ev.p, &ev.acc)?
                .ok_or_else(|| invalid("design", "D3 has a closed form"))?;
            let cost = c.tests_per_person
                + if confirm {
                    flagged_per_person(&c, ev.p)
                } else {
                    0.0
                };
            let ok = c.sensitivity >= cons.min_sensitivity - 1e-9
                && c.specificity >= cons.min_specificity - 1e-9;
            let wins = best.as_ref().is_none_or(|(bok, bcost, _)| {
                (ok && !*bok) || (ok == *bok && cost < *bcost - 1e-12)
            });
            if wins {
                best = Some((ok, cost, d));
            }
            if cost > last {
                rising += 1;
                if rising >= 3 {
                    break;
                }
            } else {
                rising = 0;
            }
            last = cost;
        }
    }
    Ok(best.map(|b| b.2))
}

/// Expected people flagged per person screened: each gets a confirmation tube.
pub fn flagged_per_person(c: &Characteristics, p: f64) -> f64 {
    p * c.sensitivity + (1.0 - p) * (1.0 - c.specificity)
}

/// Evaluates designs at one prevalence and accuracy, caching results so
/// tables over several caps and round limits cost one evaluation each.
#[derive(Clone, Debug)]
pub struct Evaluator {
    p: f64,
    acc: Accuracy,
    mc: McConfig,
    cache: HashMap<Design, Characteristics>,
}

/// One way of cutting the people: expected tubes, blocks, their figures.
type Cut = (f64, Vec<BlockGroup>, Vec<(u64, Characteristics)>);

/// A design priced for a whole population.
#[derive(Clone, Debug, PartialEq)]
pub struct Priced {
    /// The blocks the people are cut into.
    pub groups: Vec<BlockGroup>,
    /// Figures for everyone as one block (see [`crate::population`]).
    pub overall: Characteristics,
    /// Expected confirmation tubes: one per flagged person.
    pub confirmation_tests: f64,
}

impl Evaluator {
    /// An evaluator for prevalence `p`, accuracy `acc`, simulation budget `mc`.
    pub fn new(p: f64, acc: Accuracy, mc: McConfig) -> Self {
        Evaluator {
            p,
            acc,
            mc,
            cache: HashMap::new(),
        }
    }

    /// Prevalence this evaluator works at.
    pub fn prevalence(&self) -> f64 {
        self.p
    }

    /// Figures of a full block of `d` (cached): exact where a closed form
    /// or enumeration exists, else Monte Carlo.
    pub fn evaluate(&mut self, d: &Design) -> Result<Characteristics> {
        if let Some(c) = self.cache.get(d) {
            return Ok(c.clone());
        }
        let c = characteristics(d, self.p, &self.acc, &self.mc)?;
        self.cache.insert(*d, c.clone());
        Ok(c)
    }

    /// The design a block of `members` runs, and its figures: the design
    /// cut to size, or (fixed shapes) the cheaper of single tubes and
    /// Dorfman over the block, single tubes for a one-round design.
    fn block(&mut self, d: &Design, members: usize) -> Result<(Design, Characteristics)> {
        if let Some(small) = for_members(d, members) {
            return Ok((small, self.evaluate(&small)?));
        }
        let single = (Design::Individual, {
            let mut c = self.evaluate(&Design::Individual)?;
            c.block_size = members;
            c.tests_per_block *= members as f64;
            c.tests_by_round = c
                .tests_by_round
                .iter()
                .map(|t| t * members as f64)
                .collect();
            c
        });
        if d.max_rounds() < 2 || members < 2 {
            return Ok(single);
        }
        let d2 = Design::Dorfman {
            pool: members as u32,
        };
        let c2 = self.evaluate(&d2)?;
        Ok(if c2.tests_per_block < single.1.tests_per_block {
            (d2, c2)
        } else {
            single
        })
    }

    /// `d` priced for `people`: blocks as even as the design allows, each
    /// priced for its own size, summed; confirmations counted separately.
    pub fn price(&mut self, d: &Design, people: u64) -> Result<Priced> {
        d.validate()?;
        if people == 0 {
            return Err(invalid("people", "must be at least 1"));
        }
        let mut cheapest: Option<Cut> = None;
        for cut in splits(d, people) {
            let mut groups = Vec::new();
            let mut figures = Vec::new();
            let mut tests = 0.0;
            for (members, count) in cut {
                let (run, c) = self.block(d, members)?;
                tests += count as f64 * c.tests_per_block;
                groups.push(BlockGroup {
                    members,
                    count,
                    design: run,
                    label: if run == Design::Individual && members > 1 {
                        format!("1:1 ×{members}")
                    } else {
                        run.label()
                    },
                    tests_per_block: c.tests_per_block,
                });
                figures.push((count, c));
            }
            if cheapest.as_ref().is_none_or(|c| tests < c.0 - 1e-9 * c.0) {
                cheapest = Some((tests, groups, figures));
            }
        }
        let (_, groups, figures) =
            cheapest.ok_or_else(|| invalid("people", "must be at least 1"))?;
        let overall = aggregate(d, self.p, people, &figures);
        let confirmation_tests = people as f64 * flagged_per_person(&overall, self.p);
        Ok(Priced {
            groups,
            overall,
            confirmation_tests,
        })
    }
}

/// One design scored against the constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// The design.
    pub design: Design,
    /// Its figures for the whole population (see [`Evaluator::price`]).
    pub characteristics: Characteristics,
    /// The blocks the people are cut into.
    pub groups: Vec<BlockGroup>,
    /// Expected screening tubes for everyone.
    pub screening_tests: f64,
    /// Expected confirmation tubes (one per flagged person).
    pub confirmation_tests: f64,
    /// Tubes the design is charged: screening, plus confirmations when counted.
    pub cost_tests: f64,
    /// Its hours.
    pub hours: HoursBreakdown,
    /// Human-readable reasons it breaks a constraint (empty: feasible).
    pub violations: Vec<String>,
    /// Objective value (smaller is better).
    pub objective: f64,
    /// Standard error of the objective (0 when the figures are exact).
    pub objective_error: f64,
}

/// Scores `design`: figures, hours, objective and constraint violations.
pub fn score(
    ev: &mut Evaluator,
    design: &Design,
    cons: &Constraints,
    res: &Resources,
    objective: Objective,
) -> Result<Scored> {
    let priced = ev.price(design, res.people)?;
    let ch = priced.overall;
    let hours = hours_to_all_clear(&ch, res);
    let screening_tests = ch.tests_per_block;
    let cost_tests = screening_tests
        + if res.confirm_flagged {
            priced.confirmation_tests
        } else {
            0.0
        };
    let mut violations = Vec::new();
    if let Some(cap) = cons.max_pool
        && design.largest_pool() > cap as usize
    {
        violations.push(format!("pools of {} > cap {cap}", design.largest_pool()));
    }
    if design.max_rounds() > cons.max_rounds {
        violations.push(format!("needs {} rounds", design.max_rounds()));
    }
    if ch.sensitivity < cons.min_sensitivity - 1e-9 {
        violations.push(format!(
            "Se {:.4} < {}",
            ch.sensitivity, cons.min_sensitivity
        ));
    }
    if ch.specificity < cons.min_specificity - 1e-9 {
        violations.push(format!(
            "Sp {:.4} < {}",
            ch.specificity, cons.min_specificity
        ));
    }
    if let Some(d) = cons.deadline_hours
        && hours.total > d
    {
        violations.push(format!("{:.1} h > deadline {d} h", hours.total));
    }
    let tests_error = match ch.method {
        Method::MonteCarlo { std_error, .. } => std_error,
        Method::Exact => 0.0,
    };
    let (objective, objective_error) = match objective {
        Objective::ExpectedTests => (cost_tests / res.people as f64, tests_error),
        Objective::HoursToAllClear => (
            hours.total,
            tests_error * res.people as f64 / res.lab_tubes_per_hour,
        ),
    };
    Ok(Scored {
        design: *design,
        characteristics: ch,
        groups: priced.groups,
        screening_tests,
        confirmation_tests: priced.confirmation_tests,
        cost_tests,
        hours,
        violations,
        objective,
        objective_error,
    })
}

/// Ordering used everywhere: fewer violations, then objective — values
/// within two standard errors of simulation (or 1e-9 relative) are a tie —
/// then fewer rounds, then the simpler family, then tests, then label, so
/// the choice does not depend on the simulation seed.
pub fn better(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    let tol = 1e-9 * a.objective.abs().max(b.objective.abs())
        + 2.0 * a.objective_error.hypot(b.objective_error);
    let by_objective = if (a.objective - b.objective).abs() <= tol {
        std::cmp::Ordering::Equal
    } else {
        a.objective.total_cmp(&b.objective)
    };
    a.violations
        .len()
        .cmp(&b.violations.len())
        .then(by_objective)
        .then(a.design.max_rounds().cmp(&b.design.max_rounds()))
        .then(a.design.family().cmp(&b.design.family()))
        .then(
            a.characteristics
                .tests_per_person
                .total_cmp(&b.characteristics.tests_per_person),
        )
        .then(a.design.label().cmp(&b.design.label()))
}

/// Best design of each family among `designs` (ranked by [`better`]).
pub fn best_per_family(
    ev: &mut Evaluator,
    designs: &[Design],
    cons: &Constraints,
    res: &Resources,
    objective: Objective,
) -> Result<Vec<Scored>> {
    let mut best: Vec<Scored> = Vec::new();
    for d in designs {
        let s = score(ev, d, cons, res, objective)?;
        match best.iter_mut().find(|b| b.design.family() == d.family()) {
            Some(b) => {
                if better(&s, b).is_lt() {
                    *b = s;
                }
            }
            None => best.push(s),
        }
    }
    best.sort_by_key(|s| s.design.family());
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_respect_the_cap() {
        for d in candidates(Some(20), 0.001, 6799) {
            assert!(d.largest_pool() <= 20, "{}", d.label());
            assert!(d.validate().is_ok(), "{}", d.label());
        }
    }

    #[test]
    fn tiny_caps_still_have_candidates() {
        for cap in [1, 2, 3] {
            let c = candidates(Some(cap), 0.01, 100);
            assert!(c.contains(&Design::Individual));
            assert!(
                c.iter()
                    .all(|d| d.validate().is_ok() && d.largest_pool() <= cap as usize)
            );
        }
    }

    #[test]
    fn no_pool_larger_than_the_people() {
        for d in candidates(None, 0.001, 100) {
            assert!(d.block_size() <= 100, "{}", d.label());
        }
        assert_eq!(search_cap(Some(100_000), 1000), 1000);
        assert_eq!(search_cap(None, 10_000), UNCAPPED_SEARCH_LIMIT);
    }

    #[test]
    fn bingroup2_d3_at_cap_ten() {
        // binGroup2 OTC1(algorithm = "D3", p = 0.01, Se = Sp = 1, group.sz = 3:10): 10|4,3,3, 0.1623
        let mut ev = Evaluator::new(0.01, Accuracy::perfect(), McConfig::default());
        let cons = Constraints {
            max_pool: Some(10),
            max_rounds: 3,
            min_sensitivity: 0.0,
            min_specificity: 0.0,
            deadline_hours: None,
        };
        let best = d3_candidates(&mut ev, Some(10), 1000, &cons, false)
            .unwrap()
            .into_iter()
            .map(|d| (ev.evaluate(&d).unwrap().tests_per_person, d))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap();
        assert_eq!(best.1.label(), "D3(10|4,3,3)");
        assert_eq!((best.0 * 1e4).round() / 1e4, 0.1623);
    }

    /// Every integer partition of `k` into round-2 tubes, by brute force.
    fn partitions(k: usize, largest: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k == 0 {
            out.push(cur.clone());
            return;
        }
        for s in (1..=largest.min(k)).rev() {
            cur.push(s);
            partitions(k - s, s, cur, out);
            cur.pop();
        }
    }

    /// The D3 search over even sub-pools plus singles finds the cheapest of
    /// *all* round-2 splits (binGroup2's search), perfect and 0.99 tests.
    #[test]
    fn d3_search_matches_every_partition() {
        use crate::characteristics::{group_sizes, hierarchical};
        let cons = Constraints {
            max_pool: None,
            max_rounds: 3,
            min_sensitivity: 0.0,
            min_specificity: 0.0,
            deadline_hours: None,
        };
        for acc in [Accuracy::perfect(), Accuracy::uniform(0.99, 0.99)] {
            for p in [0.002, 0.01, 0.05, 0.12] {
                let mut ev = Evaluator::new(p, acc.clone(), McConfig::default());
                for k in 3..=24usize {
                    let mut all = Vec::new();
                    partitions(k, k - 1, &mut Vec::new(), &mut all);
                    let placeholder = Design::Hierarchical3 {
                        pool: k as u32,
                        sub_pools: 1,
                        singles: 1,
                    };
                    let brute = all
                        .iter()
                        .filter(|parts| parts.iter().any(|&s| s > 1))
                        .map(|parts| {
                            hierarchical(&placeholder, k, &group_sizes(parts), p, &acc)
                                .tests_per_person
                        })
                        .fold(f64::INFINITY, f64::min);
                    let found = best_d3(&mut ev, k as u32, &cons, false).unwrap().unwrap();
                    let got = ev.evaluate(&found).unwrap().tests_per_person;
                    assert!(
                        (got - brute).abs() < 1e-12,
                        "k={k} p={p} {:?}: {} {got} vs brute {brute}",
                        acc.se,
                        found.label()
                    );
                }
            }
        }
    }

    #[test]
    fn objective_parses() {
        assert_eq!(
            "hours".parse::<Objective>().unwrap(),
            Objective::HoursToAllClear
        );
        assert_eq!(
            "tests".parse::<Objective>().unwrap(),
            Objective::ExpectedTests
        );
        assert!("speed".parse::<Objective>().is_err());
    }
}
