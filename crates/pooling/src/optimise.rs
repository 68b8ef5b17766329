//! Choosing a design: enumerate candidates under the pool cap, evaluate
//! them (cached), predict hours to all-clear with a simple resource model,
//! and pick the best feasible one by the objective.

use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::accuracy::Accuracy;
use crate::characteristics::{Characteristics, characteristics};
use crate::designs::{Decoder, Design};
use crate::error::{PoolingError, Result, invalid};
use crate::montecarlo::McConfig;

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

/// Every design configuration searched under the pool cap at prevalence
/// `p`. Simulated families are pruned to blocks expected to hold ≤ 2
/// positives (larger blocks are never competitive and cost simulation time).
pub fn candidates(max_pool: Option<u32>, p: f64) -> Vec<Design> {
    let cap = max_pool
        .unwrap_or(UNCAPPED_SEARCH_LIMIT)
        .min(UNCAPPED_SEARCH_LIMIT);
    let sensible = |n: u32| n as f64 * p <= 2.0;
    // a top pool expected to hold > 10 positives is positive anyway: never optimal
    let useful = |n: u32| n as f64 * p <= 10.0;
    let mut v = vec![Design::Individual];
    for k in 2..=cap {
        if useful(k) || k == cap {
            v.push(Design::Dorfman { pool: k });
        }
    }
    // every top-pool size up to 128, then a coarser grid (flat optimum there)
    let top_sizes = (3..=cap.min(128))
        .chain((132..=cap.min(512)).step_by(4))
        .chain((528..=cap).step_by(16))
        .filter(|&k| useful(k));
    for k1 in top_sizes {
        for k2 in 2..k1.min(65) {
            v.push(Design::Hierarchical3 {
                pool: k1,
                sub_pool: k2,
            });
        }
    }
    for r in 2..=cap.min(128) {
        for c in [r, r + 1] {
            if c <= cap && (r * c) as f64 * p <= 25.0 {
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
            if !sensible(items) || base.largest_pool() > cap as usize {
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

/// Evaluates designs at one prevalence and accuracy, caching results so
/// tables over several caps and round limits cost one evaluation each.
#[derive(Clone, Debug)]
pub struct Evaluator {
    p: f64,
    acc: Accuracy,
    mc: McConfig,
    cache: HashMap<Design, Characteristics>,
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

    /// Figures of `d` (cached).
    pub fn evaluate(&mut self, d: &Design) -> Result<Characteristics> {
        if let Some(c) = self.cache.get(d) {
            return Ok(c.clone());
        }
        let c = characteristics(d, self.p, &self.acc, &self.mc)?;
        self.cache.insert(*d, c.clone());
        Ok(c)
    }
}

/// One design scored against the constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// The design.
    pub design: Design,
    /// Its figures.
    pub characteristics: Characteristics,
    /// Its hours.
    pub hours: HoursBreakdown,
    /// Human-readable reasons it breaks a constraint (empty: feasible).
    pub violations: Vec<String>,
    /// Objective value (smaller is better).
    pub objective: f64,
}

/// Scores `design`: figures, hours, objective and constraint violations.
pub fn score(
    ev: &mut Evaluator,
    design: &Design,
    cons: &Constraints,
    res: &Resources,
    objective: Objective,
) -> Result<Scored> {
    let ch = ev.evaluate(design)?;
    let hours = hours_to_all_clear(&ch, res);
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
    let objective = match objective {
        Objective::ExpectedTests => ch.tests_per_person,
        Objective::HoursToAllClear => hours.total,
    };
    Ok(Scored {
        design: *design,
        characteristics: ch,
        hours,
        violations,
        objective,
    })
}

/// Ordering used everywhere: fewer violations, then objective, then fewer
/// rounds, then tests, then label (so ties are deterministic).
pub fn better(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    a.violations
        .len()
        .cmp(&b.violations.len())
        .then(a.objective.total_cmp(&b.objective))
        .then(a.design.max_rounds().cmp(&b.design.max_rounds()))
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
        for d in candidates(Some(20), 0.001) {
            assert!(d.largest_pool() <= 20, "{}", d.label());
            assert!(d.validate().is_ok(), "{}", d.label());
        }
    }

    #[test]
    fn tiny_caps_still_have_candidates() {
        for cap in [1, 2, 3] {
            let c = candidates(Some(cap), 0.01);
            assert!(c.contains(&Design::Individual));
            assert!(
                c.iter()
                    .all(|d| d.validate().is_ok() && d.largest_pool() <= cap as usize)
            );
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
