//! Monte Carlo evaluation for designs without closed forms (hypercube,
//! non-adaptive, pool+code), driven by the real decoder so that what is
//! simulated is exactly what the response engine will do.
//!
//! The generator is SplitMix64 (Steele, Lea & Flood 2014), written here so
//! results are reproducible bit-for-bit from a seed with no dependency.
//! [`simulate`] stratifies on the number of positives `m` in a block: each
//! stratum is simulated with `m` positives placed uniformly and weighted by
//! its exact binomial probability, which removes the sampling noise in how
//! many positives occur (the dominant noise at low prevalence). Half the
//! trials go to strata by probability, half by expected positives, so
//! sensitivity is estimated from many positive blocks even at p = 0.01 %.

use serde::{Deserialize, Serialize};

use crate::accuracy::{Accuracy, validate_prevalence};
use crate::characteristics::{Characteristics, Method, assemble};
use crate::decode::next_stage;
use crate::designs::Design;
use crate::error::{Result, invalid};

/// SplitMix64: tiny, fast, statistically good enough for simulation.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started from `seed` (any value, including 0).
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}

/// How much simulation to spend and from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McConfig {
    /// Trial budget per design: blocks of 20 people simulated (larger blocks
    /// get proportionally fewer, at least 500), spread over strata.
    pub trials: u32,
    /// Seed; the same seed gives the same figures.
    pub seed: u64,
}

impl Default for McConfig {
    fn default() -> Self {
        McConfig {
            trials: 20_000,
            seed: 0x0613_2022,
        }
    }
}

/// Outcome of one simulated block.
#[derive(Clone, Debug, Default)]
struct BlockOutcome {
    tests_by_round: Vec<usize>,
    true_pos: usize,
    false_pos: usize,
    false_neg: usize,
    rounds: usize,
}

fn run_block(
    design: &Design,
    truth: &[bool],
    acc: &Accuracy,
    rng: &mut SplitMix64,
    hist: &mut Vec<Vec<bool>>,
) -> Result<BlockOutcome> {
    hist.clear();
    let mut out = BlockOutcome::default();
    loop {
        let d = next_stage(design, truth.len(), hist)?;
        if d.complete {
            for &i in &d.flagged {
                if truth[i] {
                    out.true_pos += 1;
                } else {
                    out.false_pos += 1;
                }
            }
            out.false_neg = d.cleared.iter().filter(|&&i| truth[i]).count();
            out.rounds = hist.len();
            return Ok(out);
        }
        let round = hist.len();
        out.tests_by_round.push(d.retest_tubes.len());
        let res = d
            .retest_tubes
            .iter()
            .map(|t| {
                let (se, sp) = acc.at(round, t.len());
                if t.iter().any(|&i| truth[i]) {
                    rng.chance(se)
                } else {
                    !rng.chance(sp)
                }
            })
            .collect();
        hist.push(res);
    }
}

/// Binomial(n, p) probabilities of m = 0..=n, computed in log space.
pub(crate) fn binomial_pmf(n: usize, p: f64) -> Vec<f64> {
    let q = 1.0 - p;
    let ratio = (p / q).ln();
    let mut lp = n as f64 * q.ln();
    let mut out = Vec::with_capacity(n + 1);
    for m in 0..=n {
        out.push(lp.exp());
        if m < n {
            lp += ((n - m) as f64 / (m + 1) as f64).ln() + ratio;
        }
    }
    out
}

/// Operating characteristics of `design` at prevalence `p` by stratified
/// Monte Carlo through the real decoder.
pub fn simulate(
    design: &Design,
    p: f64,
    acc: &Accuracy,
    cfg: &McConfig,
) -> Result<Characteristics> {
    design.validate()?;
    acc.validate()?;
    validate_prevalence(p)?;
    if cfg.trials == 0 {
        return Err(invalid("mc_trials", "must be at least 1"));
    }
    let n = design.block_size();
    // budget in people rather than blocks: a block of n averages over n
    // people, so large blocks need proportionally fewer trials
    let budget = ((cfg.trials as u64 * 20) / n.max(1) as u64)
        .clamp(500.min(cfg.trials as u64), cfg.trials as u64) as f64;
    let pmf = binomial_pmf(n, p);
    let mean_pos = n as f64 * p;
    let mut rng = SplitMix64::new(cfg.seed ^ 0xD1B5_4A32_D192_ED03);
    let rounds_max = design.max_rounds() as usize;
    let mut tests_by_round = vec![0.0; rounds_max];
    let mut round_prob = vec![0.0; rounds_max];
    let (mut tp, mut fp, mut exact, mut mass, mut pos_mass, mut neg_mass) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut truth = vec![false; n];
    let mut hist = Vec::new();
    let mut trials_run: u64 = 0;
    let mut var = 0.0;
    for (m, &w) in pmf.iter().enumerate() {
        if w < 1e-12 {
            continue;
        }
        // half the budget by probability (cost figures), half by expected
        // positives (sensitivity figures: the m = 0 stratum says nothing about them)
        let share = 0.5 * w + 0.5 * w * m as f64 / mean_pos;
        let t = ((budget * share).round() as u64).max(16.min(cfg.trials as u64));
        let per = w / t as f64;
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..t {
            // Floyd's algorithm: a uniform m-subset
            let mut chosen = Vec::with_capacity(m);
            for j in n - m..n {
                let r = rng.below(j as u64 + 1) as usize;
                let pick = if truth[r] { j } else { r };
                truth[pick] = true;
                chosen.push(pick);
            }
            let o = run_block(design, &truth, acc, &mut rng, &mut hist)?;
            let used = o.tests_by_round.iter().sum::<usize>() as f64;
            sum += used;
            sum_sq += used * used;
            for (r, &k) in o.tests_by_round.iter().enumerate() {
                tests_by_round[r] += per * k as f64;
                round_prob[r] += per;
            }
            tp += per * o.true_pos as f64;
            fp += per * o.false_pos as f64;
            if o.false_pos == 0 && o.false_neg == 0 {
                exact += per;
            }
            for &c in &chosen {
                truth[c] = false;
            }
        }
        // stratified estimator: Var = Σ w² s²/t over strata
        let tf = t as f64;
        let s2 = if t > 1 {
            ((sum_sq - sum * sum / tf) / (tf - 1.0)).max(0.0)
        } else {
            0.0
        };
        var += w * w * s2 / tf;
        trials_run += t;
        mass += w;
        pos_mass += w * m as f64;
        neg_mass += w * (n - m) as f64;
    }
    for v in tests_by_round.iter_mut().chain(round_prob.iter_mut()) {
        *v /= mass;
    }
    let se = if pos_mass > 0.0 { tp / pos_mass } else { 1.0 };
    let sp = if neg_mass > 0.0 {
        1.0 - fp / neg_mass
    } else {
        1.0
    };
    Ok(assemble(
        design,
        p,
        tests_by_round,
        round_prob,
        se,
        sp,
        Some(exact / mass),
        Method::MonteCarlo {
            trials: trials_run,
            seed: cfg.seed,
            std_error: var.sqrt() / mass / n as f64,
        },
    ))
}

/// Plain (unstratified) simulation of many blocks: what a district would
/// see, with counts rather than rates, for the note's recovery figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockSimulation {
    /// Design label.
    pub design: String,
    /// Prevalence simulated.
    pub prevalence: f64,
    /// Blocks (first-stage pools) simulated.
    pub blocks: u64,
    /// People simulated.
    pub people: u64,
    /// True positives among them.
    pub positives: u64,
    /// Tubes tested in all rounds.
    pub tests: u64,
    /// `tests / people`.
    pub tests_per_person: f64,
    /// Blocks whose every member was classified correctly.
    pub exact_blocks: u64,
    /// Blocks holding at least one true positive.
    pub positive_blocks: u64,
    /// Positive blocks classified exactly.
    pub exact_positive_blocks: u64,
    /// Blocks that needed round r+1, r = 0..
    pub blocks_needing_round: Vec<u64>,
    /// Positives cleared (missed).
    pub false_negatives: u64,
    /// Negatives flagged.
    pub false_positives: u64,
}

impl BlockSimulation {
    /// Share of blocks classified exactly.
    pub fn exact_recovery(&self) -> f64 {
        self.exact_blocks as f64 / self.blocks.max(1) as f64
    }
    /// Share of positive blocks classified exactly.
    pub fn exact_recovery_positive_blocks(&self) -> f64 {
        self.exact_positive_blocks as f64 / self.positive_blocks.max(1) as f64
    }
}

/// Simulates `blocks` full blocks, each person positive with probability `p`.
pub fn simulate_blocks(
    design: &Design,
    p: f64,
    acc: &Accuracy,
    blocks: u64,
    seed: u64,
) -> Result<BlockSimulation> {
    design.validate()?;
    acc.validate()?;
    validate_prevalence(p)?;
    let n = design.block_size();
    let mut rng = SplitMix64::new(seed);
    let ln_q = (1.0 - p).ln();
    // geometric skipping over the concatenated population: O(positives)
    let gap = |rng: &mut SplitMix64| -> u64 {
        let u = 1.0 - rng.next_f64();
        (u.ln() / ln_q).floor().min(u64::MAX as f64 / 2.0) as u64
    };
    let mut next_pos = gap(&mut rng);
    let mut sim = BlockSimulation {
        design: design.label(),
        prevalence: p,
        blocks,
        people: blocks * n as u64,
        positives: 0,
        tests: 0,
        tests_per_person: 0.0,
        exact_blocks: 0,
        positive_blocks: 0,
        exact_positive_blocks: 0,
        blocks_needing_round: vec![0; design.max_rounds() as usize],
        false_negatives: 0,
        false_positives: 0,
    };
    let mut truth = vec![false; n];
    let mut hist = Vec::new();
    for b in 0..blocks {
        let start = b * n as u64;
        let end = start + n as u64;
        truth.iter_mut().for_each(|t| *t = false);
        let mut k = 0;
        while next_pos < end {
            truth[(next_pos - start) as usize] = true;
            k += 1;
            next_pos += 1 + gap(&mut rng);
        }
        let o = run_block(design, &truth, acc, &mut rng, &mut hist)?;
        sim.positives += k;
        sim.tests += o.tests_by_round.iter().sum::<usize>() as u64;
        for r in 0..o.rounds {
            sim.blocks_needing_round[r] += 1;
        }
        let exact = o.false_pos == 0 && o.false_neg == 0;
        sim.exact_blocks += exact as u64;
        if k > 0 {
            sim.positive_blocks += 1;
            sim.exact_positive_blocks += exact as u64;
        }
        sim.false_negatives += o.false_neg as u64;
        sim.false_positives += o.false_pos as u64;
    }
    sim.tests_per_person = sim.tests as f64 / sim.people.max(1) as f64;
    Ok(sim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_reproducible_and_roughly_uniform() {
        let mut a = SplitMix64::new(1);
        let mut b = SplitMix64::new(1);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut r = SplitMix64::new(7);
        let mean = (0..20_000).map(|_| r.next_f64()).sum::<f64>() / 20_000.0;
        assert!((mean - 0.5).abs() < 0.01);
        assert!((0..1000).all(|_| r.below(7) < 7));
    }

    #[test]
    fn pmf_sums_to_one() {
        let s: f64 = binomial_pmf(400, 0.05).iter().sum();
        assert!((s - 1.0).abs() < 1e-9);
    }
}
