//! Pricing a design for the exact population at hand, because a district
//! screens a finite number of people: 100 people in pools of at most 32
//! are three pools of 34, 33 and 33 (as even as the cap allows), not three
//! full pools of 32 and a twelfth of a fourth priced as if it were full.
//!
//! Designs whose block can shrink (1:1, D2, D3, pool + code) split the
//! people into `⌈n / k⌉` blocks as evenly as possible, each priced as the
//! design for its own size. Fixed-shape designs (arrays, hypercubes,
//! non-adaptive) run full blocks; the remainder is run as the cheaper of
//! single tubes and Dorfman over the remainder (single tubes for a
//! one-round design), which is what the plan prints for it.

use serde::{Deserialize, Serialize};

use crate::characteristics::{Characteristics, Method};
use crate::designs::{Design, d3_parts};

/// The design a block of `members` people actually runs when `design`'s
/// block is cut short, where it has a closed form; `None` for fixed shapes.
pub fn for_members(design: &Design, members: usize) -> Option<Design> {
    let small = |d: Design| {
        if members >= 2 { d } else { Design::Individual }
    };
    match *design {
        Design::Individual => Some(Design::Individual),
        Design::Dorfman { .. } => Some(small(Design::Dorfman {
            pool: members as u32,
        })),
        Design::Hierarchical3 {
            sub_pools, singles, ..
        } => {
            let parts = d3_parts(members, sub_pools, singles);
            let j = parts.iter().filter(|&&s| s > 1).count() as u32;
            if j == 0 {
                return Some(small(Design::Dorfman {
                    pool: members as u32,
                }));
            }
            Some(Design::Hierarchical3 {
                pool: members as u32,
                sub_pools: j,
                singles: (parts.len() as u32) - j,
            })
        }
        Design::PoolCode { third_round, .. } => Some(small(Design::PoolCode {
            pool: members as u32,
            third_round,
        })),
        _ if members == design.block_size() => Some(*design),
        _ => None,
    }
}

/// Blocks of one size in a population split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockGroup {
    /// People in each of these blocks.
    pub members: usize,
    /// How many such blocks.
    pub count: u64,
    /// The design each of them runs.
    pub design: Design,
    /// Its label.
    pub label: String,
    /// Expected tubes per block (all rounds, before confirmation).
    pub tests_per_block: f64,
}

/// How `people` are cut into blocks for `design`: (members, count), the
/// larger blocks first. Resizable designs use the fewest blocks of at
/// most `k`, as evenly as possible (100 people, pools ≤ 34: 34+33+33).
pub fn split(design: &Design, people: u64) -> Vec<(usize, u64)> {
    let k = design.block_size().max(1) as u64;
    if people == 0 {
        return Vec::new();
    }
    if for_members(design, 1).is_some() {
        return even(people, people.div_ceil(k));
    }
    let mut v = Vec::new();
    if people / k > 0 {
        v.push((k as usize, people / k));
    }
    if !people.is_multiple_of(k) {
        v.push(((people % k) as usize, 1));
    }
    v
}

/// The cuts a resizable design is priced on: [`split`], and the most blocks
/// whose largest is still `k` (sizes k and k − 1). Every count of blocks in
/// between mixes the same two sizes, so its cost lies on the line between
/// these two: the cheaper end is the cheapest even cut with pools ≤ k.
pub fn splits(design: &Design, people: u64) -> Vec<Vec<(usize, u64)>> {
    let first = split(design, people);
    let k = design.block_size() as u64;
    if people == 0 || k < 2 || for_members(design, 1).is_none() {
        return vec![first];
    }
    let most = people.div_ceil(k - 1) - 1;
    if most <= people.div_ceil(k) {
        return vec![first];
    }
    vec![first, even(people, most)]
}

/// `people` in `b` blocks as evenly as possible.
fn even(people: u64, b: u64) -> Vec<(usize, u64)> {
    let (s, r) = (people / b, people % b);
    let mut v = Vec::new();
    if r > 0 {
        v.push((s as usize + 1, r));
    }
    v.push((s as usize, b - r));
    v
}

/// Sums block figures into figures for the whole population (one "block"
/// of everyone), so rounds, tubes per round and hours read directly: the
/// probability of round r is the probability it is needed anywhere.
pub(crate) fn aggregate(
    design: &Design,
    p: f64,
    people: u64,
    groups: &[(u64, Characteristics)],
) -> Characteristics {
    let rounds = groups
        .iter()
        .map(|(_, c)| c.tests_by_round.len().max(c.round_probabilities.len()))
        .max()
        .unwrap_or(1);
    let mut tests_by_round = vec![0.0; rounds];
    let mut log_none = vec![0.0f64; rounds];
    let (mut se_w, mut sp_w, mut members) = (0.0, 0.0, 0.0);
    let mut recovery: Option<f64> = Some(1.0);
    let mut var = 0.0;
    let mut mc: Option<(u64, u64)> = None;
    for (count, c) in groups {
        let n = *count as f64;
        for (r, t) in c.tests_by_round.iter().enumerate() {
            tests_by_round[r] += n * t;
        }
        for (r, pr) in c.round_probabilities.iter().enumerate() {
            log_none[r] += n * (-pr.clamp(0.0, 1.0)).ln_1p();
        }
        let m = n * c.block_size as f64;
        se_w += m * c.sensitivity;
        sp_w += m * c.specificity;
        members += m;
        recovery = match (recovery, c.exact_recovery) {
            (Some(a), Some(b)) => Some(a * b.powf(n)),
            _ => None,
        };
        if let Method::MonteCarlo {
            trials,
            seed,
            std_error,
        } = c.method
        {
            // blocks are simulated once and reused: errors add linearly
            var += (n * c.block_size as f64 * std_error).powi(2);
            mc = Some((mc.map_or(0, |x| x.0) + trials, seed));
        }
    }
    let total: f64 = tests_by_round.iter().sum();
    let q = 1.0 - p;
    let (se, sp) = (se_w / members, sp_w / members);
    let ppv_den = p * se + q * (1.0 - sp);
    let npv_den = q * sp + p * (1.0 - se);
    let round_probabilities: Vec<f64> = log_none
        .iter()
        .enumerate()
        .map(|(r, l)| if r == 0 { 1.0 } else { -l.exp_m1() })
        .collect();
    Characteristics {
        block_size: people as usize,
        tests_per_block: total,
        tests_per_person: total / people as f64,
        expected_rounds: round_probabilities.iter().sum(),
        round_probabilities,
        tests_by_round,
        max_rounds: design.max_rounds(),
        sensitivity: se,
        specificity: sp,
        ppv: if ppv_den > 0.0 {
            (p * se / ppv_den).clamp(0.0, 1.0)
        } else {
            0.0
        },
        npv: if npv_den > 0.0 {
            (q * sp / npv_den).clamp(0.0, 1.0)
        } else {
            0.0
        },
        exact_recovery: recovery.filter(|_| mc.is_some()),
        method: match mc {
            Some((trials, seed)) => Method::MonteCarlo {
                trials,
                seed,
                std_error: var.sqrt() / people as f64,
            },
            None => Method::Exact,
        },
    }
}

/// The exact optimum of Dorfman testing for `people` people with perfect
/// tests: the cheapest cut into pools of any sizes up to `max_pool` (a
/// pool of one is a single tube; a pool of s ≥ 2 costs 1 + s·(1 − q^s)),
/// by dynamic programming over the people, as symgt computes it for an
/// i.i.d. population. The planner does not use it: it is the independent
/// reference its totals are checked against. Returns the expected tests
/// and the pool sizes with their counts (largest first).
pub fn dorfman_partition_optimum(
    people: usize,
    p: f64,
    max_pool: usize,
) -> (f64, Vec<(usize, usize)>) {
    let q = 1.0 - p;
    let cost = |s: usize| {
        if s == 1 {
            1.0
        } else {
            1.0 + s as f64 * (1.0 - q.powi(s as i32))
        }
    };
    let cap = max_pool.clamp(1, people.max(1));
    let costs: Vec<f64> = (0..=cap)
        .map(|s| if s == 0 { 0.0 } else { cost(s) })
        .collect();
    let mut best = vec![0.0f64; people + 1];
    let mut choice = vec![0usize; people + 1];
    for n in 1..=people {
        let (mut b, mut c) = (f64::INFINITY, 1);
        for (s, &cs) in costs.iter().enumerate().take(cap.min(n) + 1).skip(1) {
            let v = best[n - s] + cs;
            if v < b {
                b = v;
                c = s;
            }
        }
        best[n] = b;
        choice[n] = c;
    }
    let mut sizes = Vec::new();
    let mut n = people;
    while n > 0 {
        sizes.push(choice[n]);
        n -= choice[n];
    }
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for s in sizes {
        match groups.last_mut() {
            Some((size, k)) if *size == s => *k += 1,
            _ => groups.push((s, 1)),
        }
    }
    (best[people], groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_evenly_as_the_cap_allows() {
        assert_eq!(
            split(&Design::Dorfman { pool: 34 }, 100),
            vec![(34, 1), (33, 2)]
        );
        // a cap of 32 needs four pools for 100 people: four of 25, not 32+32+32+4
        assert_eq!(split(&Design::Dorfman { pool: 32 }, 100), vec![(25, 4)]);
        assert_eq!(split(&Design::Dorfman { pool: 20 }, 100), vec![(20, 5)]);
        assert_eq!(
            split(&Design::Dorfman { pool: 20 }, 6799),
            vec![(20, 339), (19, 1)]
        );
        let arr = Design::Array {
            rows: 4,
            cols: 5,
            master_pool: false,
        };
        assert_eq!(split(&arr, 45), vec![(20, 2), (5, 1)]);
        assert_eq!(split(&Design::Individual, 7), vec![(1, 7)]);
        // 10,000 people in pools ≤ 33: 304 blocks, or as many as 312 of 33 and 32
        assert_eq!(
            splits(&Design::Dorfman { pool: 33 }, 10_000),
            vec![vec![(33, 272), (32, 32)], vec![(33, 16), (32, 296)]]
        );
    }

    #[test]
    fn short_blocks_run_the_same_rule() {
        let d3 = Design::Hierarchical3 {
            pool: 10,
            sub_pools: 3,
            singles: 0,
        };
        assert_eq!(
            for_members(&d3, 9),
            Some(Design::Hierarchical3 {
                pool: 9,
                sub_pools: 3,
                singles: 0
            })
        );
        assert_eq!(for_members(&d3, 3), Some(Design::Dorfman { pool: 3 }));
        assert_eq!(for_members(&d3, 1), Some(Design::Individual));
        let hc = Design::Hypercube { side: 3, dims: 2 };
        assert_eq!(for_members(&hc, 9), Some(hc));
        assert_eq!(for_members(&hc, 8), None);
    }
}
