//! The pooling designs the district can run, as plain data.
//!
//! A design works on a *block* of people (one top-level pool, one array, one
//! hypercube…); a round screens many blocks side by side. Every design is
//! decoded by [`crate::decode::next_stage`] and evaluated by
//! [`crate::characteristics::characteristics`].

use serde::{Deserialize, Serialize};

use crate::error::{PoolingError, Result};
use crate::montecarlo::SplitMix64;

/// Decoding rule of a one-round non-adaptive design (Aldridge, Johnson &
/// Scarlett, "Group testing: an information theory perspective", 2019).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoder {
    /// Combinatorial orthogonal matching pursuit: everyone not in a negative
    /// test is flagged. Never misses a positive when tests are perfect.
    Comp,
    /// Definite defectives: flag only those who are the sole possible
    /// positive of some positive test. Never flags a negative when tests are perfect.
    Dd,
    /// Sequential COMP: DD, then greedily add whoever explains most
    /// still-unexplained positive tests.
    Scomp,
}

/// One pooling design. Sizes are numbers of people (samples) per tube.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Design {
    /// One tube per person (1:1): the baseline every saving is measured against.
    Individual,
    /// Dorfman two-stage (D2): a pool of `pool`; if positive, everyone singly.
    Dorfman {
        /// People per pool.
        pool: u32,
    },
    /// Three-stage hierarchical (D3): pool → sub-pools → individuals.
    /// Round 2 tests `singles` members alone and splits the others as
    /// evenly as possible into `sub_pools` sub-pools (larger ones first):
    /// `{pool: 10, sub_pools: 3, singles: 0}` is binGroup2's 10|4,3,3.
    /// Even splits plus singles hold every cost-optimal configuration
    /// (a sub-pool's cost is convex in its size), so searching them is
    /// searching binGroup2's unequal configurations.
    Hierarchical3 {
        /// People per top-level pool.
        pool: u32,
        /// Sub-pools of two or more people in round 2.
        sub_pools: u32,
        /// Members tested alone in round 2.
        #[serde(default)]
        singles: u32,
    },
    /// Square/rectangular array (A2 / A2M, Phatarfod & Sudbury 1994; Kim et
    /// al. 2007): row and column pools, then the intersections singly.
    Array {
        /// Rows (each row pool holds `cols` people).
        rows: u32,
        /// Columns (each column pool holds `rows` people).
        cols: u32,
        /// Test the whole array in one master pool first (A2M).
        master_pool: bool,
    },
    /// Hypercube (Mutesa et al., Nature 2020): `side^dims` people, a whole-
    /// group test first, then the `dims·side` slices; a single positive is
    /// read off the slices, several are resolved by testing the candidates.
    Hypercube {
        /// Side length L (Mutesa's optimum is 3).
        side: u32,
        /// Dimension D.
        dims: u32,
    },
    /// One-round non-adaptive design for small batches: each of `items`
    /// people goes into `tests_per_item` of `tests` tubes, decoded by `decoder`.
    NonAdaptive {
        /// People in the batch.
        items: u32,
        /// Tubes tested.
        tests: u32,
        /// Tubes each person is placed in.
        tests_per_item: u32,
        /// Decoding rule.
        decoder: Decoder,
    },
    /// Our design for the 20:1 cap ("pool then code"): a pool of `pool`; if
    /// positive, the members are placed by a constant-weight code in a few
    /// sub-pools (6 tubes for 20 people) which identifies a single positive
    /// in round 2. An ambiguous pool (≥ 2 positives, or a test error) is
    /// resolved by single tubes in a third round, or, when `third_round` is
    /// false, its candidates are flagged for confirmatory testing.
    PoolCode {
        /// People per first-stage pool.
        pool: u32,
        /// Whether ambiguous pools get a third (single-tube) round.
        third_round: bool,
    },
}

/// Design families, for tables ("best design of each kind").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// [`Design::Individual`].
    Individual,
    /// [`Design::Dorfman`].
    Dorfman,
    /// [`Design::Hierarchical3`].
    Hierarchical3,
    /// [`Design::Array`] without master pool.
    Array,
    /// [`Design::Array`] with master pool.
    ArrayMaster,
    /// [`Design::Hypercube`].
    Hypercube,
    /// [`Design::NonAdaptive`] with COMP.
    NonAdaptiveComp,
    /// [`Design::NonAdaptive`] with DD.
    NonAdaptiveDd,
    /// [`Design::NonAdaptive`] with SCOMP.
    NonAdaptiveScomp,
    /// [`Design::PoolCode`], ambiguous pools flagged after round 2.
    PoolCodeTwoRound,
    /// [`Design::PoolCode`] with a third round for ambiguous pools.
    PoolCodeThreeRound,
}

impl Family {
    /// Every family, in table order.
    pub const ALL: [Family; 11] = [
        Family::Individual,
        Family::Dorfman,
        Family::Hierarchical3,
        Family::Array,
        Family::ArrayMaster,
        Family::Hypercube,
        Family::NonAdaptiveComp,
        Family::NonAdaptiveDd,
        Family::NonAdaptiveScomp,
        Family::PoolCodeTwoRound,
        Family::PoolCodeThreeRound,
    ];

    /// Short human name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Individual => "individual",
            Family::Dorfman => "Dorfman D2",
            Family::Hierarchical3 => "hierarchical D3",
            Family::Array => "array A2",
            Family::ArrayMaster => "array A2M",
            Family::Hypercube => "hypercube",
            Family::NonAdaptiveComp => "non-adaptive COMP",
            Family::NonAdaptiveDd => "non-adaptive DD",
            Family::NonAdaptiveScomp => "non-adaptive SCOMP",
            Family::PoolCodeTwoRound => "pool+code, 2 rounds",
            Family::PoolCodeThreeRound => "pool+code, 3rd round",
        }
    }
}

fn checked_pow(side: u32, dims: u32) -> Option<u64> {
    let mut n: u64 = 1;
    for _ in 0..dims {
        n = n.checked_mul(side as u64)?;
        if n > MAX_BLOCK as u64 {
            return None;
        }
    }
    Some(n)
}

/// Largest block any design may hold: keeps decoding and simulation bounded.
pub const MAX_BLOCK: usize = 1 << 16;

impl Design {
    /// The family this design belongs to.
    pub fn family(&self) -> Family {
        match *self {
            Design::Individual => Family::Individual,
            Design::Dorfman { .. } => Family::Dorfman,
            Design::Hierarchical3 { .. } => Family::Hierarchical3,
            Design::Array {
                master_pool: false, ..
            } => Family::Array,
            Design::Array {
                master_pool: true, ..
            } => Family::ArrayMaster,
            Design::Hypercube { .. } => Family::Hypercube,
            Design::NonAdaptive { decoder, .. } => match decoder {
                Decoder::Comp => Family::NonAdaptiveComp,
                Decoder::Dd => Family::NonAdaptiveDd,
                Decoder::Scomp => Family::NonAdaptiveScomp,
            },
            Design::PoolCode {
                third_round: false, ..
            } => Family::PoolCodeTwoRound,
            Design::PoolCode {
                third_round: true, ..
            } => Family::PoolCodeThreeRound,
        }
    }

    /// Compact label for tables and logs, e.g. `D2(20)`, `A2M(4x5)`, `PC2(20)`.
    pub fn label(&self) -> String {
        match *self {
            Design::Individual => "1:1".to_string(),
            Design::Dorfman { pool } => format!("D2({pool})"),
            Design::Hierarchical3 {
                pool,
                sub_pools,
                singles,
            } => format!(
                "D3({pool}|{})",
                parts_label(&d3_parts(pool as usize, sub_pools, singles))
            ),
            Design::Array {
                rows,
                cols,
                master_pool,
            } => format!("{}({rows}x{cols})", if master_pool { "A2M" } else { "A2" }),
            Design::Hypercube { side, dims } => format!("HC({side}^{dims})"),
            Design::NonAdaptive {
                items,
                tests,
                tests_per_item,
                decoder,
            } => {
                let d = match decoder {
                    Decoder::Comp => "COMP",
                    Decoder::Dd => "DD",
                    Decoder::Scomp => "SCOMP",
                };
                format!("NA-{d}({items};{tests}t,w{tests_per_item})")
            }
            Design::PoolCode { pool, third_round } => {
                let (t, w) = code_shape(pool as usize);
                format!("PC{}({pool};{t}C{w})", if third_round { "3" } else { "2" })
            }
        }
    }

    /// People in one block of the design.
    pub fn block_size(&self) -> usize {
        match *self {
            Design::Individual => 1,
            Design::Dorfman { pool } => pool as usize,
            Design::Hierarchical3 { pool, .. } => pool as usize,
            Design::Array { rows, cols, .. } => rows as usize * cols as usize,
            Design::Hypercube { side, dims } => {
                checked_pow(side, dims).unwrap_or(MAX_BLOCK as u64 + 1) as usize
            }
            Design::NonAdaptive { items, .. } => items as usize,
            Design::PoolCode { pool, .. } => pool as usize,
        }
    }

    /// Worst-case number of lab rounds (the `max rounds` constraint applies to this).
    pub fn max_rounds(&self) -> u32 {
        match *self {
            Design::Individual => 1,
            Design::Dorfman { .. } => 2,
            Design::Hierarchical3 { .. } => 3,
            Design::Array { master_pool, .. } => 2 + master_pool as u32,
            Design::Hypercube { .. } => 3,
            Design::NonAdaptive { .. } => 1,
            Design::PoolCode { third_round, .. } => 2 + third_round as u32,
        }
    }

    /// Most samples any one tube of the design holds (the pool-cap constraint).
    pub fn largest_pool(&self) -> usize {
        match *self {
            Design::Array {
                rows,
                cols,
                master_pool,
            } => {
                if master_pool {
                    (rows * cols) as usize
                } else {
                    rows.max(cols) as usize
                }
            }
            Design::NonAdaptive {
                items,
                tests,
                tests_per_item,
                ..
            } => non_adaptive_matrix(items as usize, tests as usize, tests_per_item as usize)
                .map(|m| {
                    (0..tests as usize)
                        .map(|t| m.iter().filter(|&&c| c >> t & 1 == 1).count())
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(usize::MAX),
            _ => self.block_size(),
        }
    }

    /// Refuses parameters that make no sense, before anyone decodes with them.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(PoolingError::InvalidDesign {
                design: self.label(),
                reason: reason.to_string(),
            })
        };
        match *self {
            Design::Individual => {}
            Design::Dorfman { pool } => {
                if pool < 2 {
                    return bad("pool must hold at least 2 people");
                }
            }
            Design::Hierarchical3 {
                pool,
                sub_pools,
                singles,
            } => {
                if sub_pools < 1 || singles as u64 + 2 * sub_pools as u64 > pool as u64 {
                    return bad("need at least one sub-pool of two or more, within the pool");
                }
                if sub_pools == 1 && singles == 0 {
                    return bad("a single sub-pool of the whole pool repeats the pool");
                }
            }
            Design::Array { rows, cols, .. } => {
                if rows < 2 || cols < 2 {
                    return bad("need at least 2 rows and 2 columns");
                }
            }
            Design::Hypercube { side, dims } => {
                if side < 2 || dims < 1 {
                    return bad("need side >= 2 and dims >= 1");
                }
                if checked_pow(side, dims).is_none() {
                    return bad("hypercube too large");
                }
            }
            Design::NonAdaptive {
                items,
                tests,
                tests_per_item,
                ..
            } => {
                if items < 1 || !(1..=64).contains(&tests) {
                    return bad("need items >= 1 and 1 <= tests <= 64");
                }
                if tests_per_item < 1 || tests_per_item > tests {
                    return bad("need 1 <= tests_per_item <= tests");
                }
            }
            Design::PoolCode { pool, .. } => {
                if pool < 2 {
                    return bad("pool must hold at least 2 people");
                }
            }
        }
        if self.block_size() > MAX_BLOCK {
            return bad("block too large");
        }
        Ok(())
    }
}

impl std::str::FromStr for Design {
    type Err = PoolingError;

    /// Reads a design spec (`gridsweep plan --design SPEC`):
    ///
    /// | spec | design |
    /// |---|---|
    /// | `1:1` | one tube per person |
    /// | `D2:20` | Dorfman, pools of 20 |
    /// | `D3:10:4,3,3` | D3, pools of 10, round 2 sub-pools of 4, 3, 3 (sizes of 1 are singles; the sub-pools of two or more must differ by at most one) |
    /// | `A2:4x5`, `A2M:4x5` | array of 4 rows × 5 columns, without / with a master pool |
    /// | `HC:3^4` | hypercube of side 3 in 4 dimensions |
    /// | `PC2:20`, `PC3:20` | pool + code, ambiguous pools flagged / tested alone in round 3 |
    /// | `NA-COMP:16:8:2` (also `NA-DD`, `NA-SCOMP`) | non-adaptive: 16 people, 8 tubes, 2 tubes each |
    fn from_str(spec: &str) -> Result<Design> {
        let bad = |reason: &str| PoolingError::InvalidParameter {
            field: "design",
            reason: format!("`{spec}`: {reason}"),
        };
        let num = |t: &str| -> Result<u32> {
            t.trim()
                .parse::<u32>()
                .map_err(|_| bad(&format!("`{t}` is not a whole number")))
        };
        let t = spec.trim();
        let upper = t.to_ascii_uppercase();
        let (kind, rest) = upper.split_once(':').unwrap_or((upper.as_str(), ""));
        let d = match kind {
            "1" if rest == "1" => Design::Individual,
            "I" | "1:1" | "INDIVIDUAL" if rest.is_empty() => Design::Individual,
            "D2" => Design::Dorfman { pool: num(rest)? },
            "D3" => {
                let (pool, parts) = rest
                    .split_once(':')
                    .ok_or_else(|| bad("D3 needs the pool and its sub-pools, e.g. D3:10:4,3,3"))?;
                let pool = num(pool)?;
                let parts = parts.split(',').map(num).collect::<Result<Vec<u32>>>()?;
                if parts.iter().map(|&x| x as u64).sum::<u64>() != pool as u64 {
                    return Err(bad("the sub-pools must add up to the pool"));
                }
                if parts.contains(&0) {
                    return Err(bad("a sub-pool holds at least one person"));
                }
                let big: Vec<u32> = parts.iter().copied().filter(|&x| x > 1).collect();
                let (lo, hi) = (big.iter().min(), big.iter().max());
                if let (Some(lo), Some(hi)) = (lo, hi)
                    && hi - lo > 1
                {
                    return Err(bad(
                        "sub-pools of two or more must differ by at most one (an even split never costs more)",
                    ));
                }
                Design::Hierarchical3 {
                    pool,
                    sub_pools: big.len() as u32,
                    singles: (parts.len() - big.len()) as u32,
                }
            }
            "A2" | "A2M" => {
                let (r, c) = rest
                    .split_once('X')
                    .ok_or_else(|| bad("an array is ROWSxCOLS, e.g. A2:4x5"))?;
                Design::Array {
                    rows: num(r)?,
                    cols: num(c)?,
                    master_pool: kind == "A2M",
                }
            }
            "HC" => {
                let (l, d) = rest
                    .split_once('^')
                    .ok_or_else(|| bad("a hypercube is SIDE^DIMS, e.g. HC:3^4"))?;
                Design::Hypercube {
                    side: num(l)?,
                    dims: num(d)?,
                }
            }
            "PC2" | "PC3" => Design::PoolCode {
                pool: num(rest)?,
                third_round: kind == "PC3",
            },
            "NA-COMP" | "NA-DD" | "NA-SCOMP" => {
                let f: Vec<&str> = rest.split(':').collect();
                let [items, tests, w] = f.as_slice() else {
                    return Err(bad("non-adaptive is NA-COMP:ITEMS:TESTS:PER_ITEM"));
                };
                Design::NonAdaptive {
                    items: num(items)?,
                    tests: num(tests)?,
                    tests_per_item: num(w)?,
                    decoder: match kind {
                        "NA-COMP" => Decoder::Comp,
                        "NA-DD" => Decoder::Dd,
                        _ => Decoder::Scomp,
                    },
                }
            }
            _ => {
                return Err(bad(
                    "unknown design; use 1:1, D2:K, D3:K:S1,S2,…, A2:RxC, A2M:RxC, HC:L^D, PC2:K, PC3:K or NA-COMP:N:T:W",
                ));
            }
        };
        d.validate()?;
        Ok(d)
    }
}

/// Round-2 sizes of a D3 block holding `members` people (larger sub-pools
/// first, then the singles). A short block keeps its singles and takes
/// people from the largest sub-pools first; when fewer than two sub-pools
/// (or one and a single) remain, everyone is tested alone, as in Dorfman.
pub fn d3_parts(members: usize, sub_pools: u32, singles: u32) -> Vec<usize> {
    let c = (singles as usize).min(members);
    let rest = members - c;
    let j = (sub_pools as usize).min(rest / 2);
    if j == 0 || (j == 1 && c == 0) {
        return vec![1; members];
    }
    let (base, extra) = (rest / j, rest % j);
    let mut v = vec![base + 1; extra];
    v.extend(std::iter::repeat_n(base, j - extra));
    v.extend(std::iter::repeat_n(1, c));
    v
}

/// `4,3,3` for short lists, `12×40,11×2,1×3` for long ones.
pub fn parts_label(parts: &[usize]) -> String {
    if parts.len() <= 8 {
        return parts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",");
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &s in parts {
        match runs.last_mut() {
            Some((size, n)) if *size == s => *n += 1,
            _ => runs.push((s, 1)),
        }
    }
    runs.iter()
        .map(|(s, n)| format!("{s}×{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Binomial coefficient as u64 (saturating), for code sizes.
pub fn binomial(n: u32, k: u32) -> u64 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut r: u64 = 1;
    for i in 0..k {
        r = r.saturating_mul((n - i) as u64) / (i as u64 + 1);
    }
    r
}

/// (tests T, weight w) of the constant-weight code used for `members`
/// people: the fewest tubes T with C(T, ⌊T/2⌋) ≥ members, so that every
/// member gets a distinct codeword of weight w = ⌊T/2⌋. For 20 people: 6
/// tubes of 10, each person in 3.
pub fn code_shape(members: usize) -> (u32, u32) {
    if members <= 1 {
        return (members as u32, members as u32);
    }
    let mut t = 1u32;
    while binomial(t, t / 2) < members as u64 {
        t += 1;
    }
    (t, t / 2)
}

/// The codewords (bit masks over T tubes) of the first `members` people,
/// taken in increasing numeric order among the weight-w masks.
pub fn codewords(members: usize) -> Vec<u64> {
    let (t, w) = code_shape(members);
    if members == 0 || w == 0 {
        return vec![1; members.min(1)];
    }
    let mut out = Vec::with_capacity(members);
    let mut v: u64 = (1u64 << w) - 1;
    let limit = 1u64 << t;
    while out.len() < members && v < limit {
        out.push(v);
        // Gosper's hack: next integer with the same popcount.
        let c = v & v.wrapping_neg();
        let r = v + c;
        v = (((r ^ v) >> 2) / c) | r;
    }
    out
}

/// The incidence of a non-adaptive design: for each person, a bit mask of
/// the tubes they go in. Built deterministically (seeded by the shape) so
/// the lab and the decoder always agree: each person is put in the
/// `per_item` least-loaded tubes (random tie-break), avoiding repeated
/// columns where possible.
pub fn non_adaptive_matrix(items: usize, tests: usize, per_item: usize) -> Result<Vec<u64>> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<(usize, usize, usize), Vec<u64>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    let key = (items, tests, per_item);
    if let Some(m) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(m);
    }
    let m = build_non_adaptive(items, tests, per_item)?;
    CACHE.with(|c| c.borrow_mut().insert(key, m.clone()));
    Ok(m)
}

fn build_non_adaptive(items: usize, tests: usize, per_item: usize) -> Result<Vec<u64>> {
    if tests == 0 || tests > 64 || per_item == 0 || per_item > tests {
        return Err(PoolingError::InvalidDesign {
            design: format!("NA({items};{tests}t,w{per_item})"),
            reason: "need 1 <= tests_per_item <= tests <= 64".into(),
        });
    }
    let mut rng = SplitMix64::new(
        0x6772_6964_7377_6570 ^ ((items as u64) << 32) ^ ((tests as u64) << 16) ^ per_item as u64,
    );
    let mut load = vec![0usize; tests];
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(items);
    for _ in 0..items {
        let mut chosen = 0u64;
        for attempt in 0..32 {
            chosen = 0;
            for _ in 0..per_item {
                let free: Vec<usize> = (0..tests).filter(|&t| chosen >> t & 1 == 0).collect();
                // least-loaded tubes, relaxing by one unit of load every 8 attempts
                let min = free.iter().map(|&t| load[t]).min().unwrap_or(0);
                let slack = attempt / 8;
                let best: Vec<usize> = free
                    .iter()
                    .copied()
                    .filter(|&t| load[t] <= min + slack)
                    .collect();
                let pick = best[rng.below(best.len() as u64) as usize];
                chosen |= 1 << pick;
            }
            if !seen.contains(&chosen) {
                break;
            }
        }
        seen.insert(chosen);
        for (t, l) in load.iter_mut().enumerate() {
            if chosen >> t & 1 == 1 {
                *l += 1;
            }
        }
        out.push(chosen);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_for_twenty_is_six_choose_three() {
        assert_eq!(code_shape(20), (6, 3));
        let c = codewords(20);
        assert_eq!(c.len(), 20);
        let set: std::collections::HashSet<_> = c.iter().collect();
        assert_eq!(set.len(), 20);
        assert!(c.iter().all(|w| w.count_ones() == 3 && *w < 64));
        // each tube holds 10 of the 20
        for t in 0..6 {
            assert_eq!(c.iter().filter(|&&w| w >> t & 1 == 1).count(), 10);
        }
    }

    #[test]
    fn d3_parts_split_evenly_and_shrink_from_the_largest() {
        assert_eq!(d3_parts(10, 3, 0), vec![4, 3, 3]);
        assert_eq!(d3_parts(9, 3, 0), vec![3, 3, 3]);
        assert_eq!(d3_parts(10, 2, 2), vec![4, 4, 1, 1]);
        assert_eq!(d3_parts(3, 2, 2), vec![1, 1, 1]);
        assert_eq!(d3_parts(4, 1, 1), vec![3, 1]);
        let d = Design::Hierarchical3 {
            pool: 10,
            sub_pools: 3,
            singles: 0,
        };
        assert_eq!(d.label(), "D3(10|4,3,3)");
        let long = d3_parts(100, 9, 2);
        assert_eq!(long.iter().sum::<usize>(), 100);
        assert_eq!(parts_label(&long), "11×8,10×1,1×2");
    }

    #[test]
    fn specs_parse() {
        let cases = [
            ("1:1", Design::Individual),
            ("d2:20", Design::Dorfman { pool: 20 }),
            (
                "D3:10:4,3,3",
                Design::Hierarchical3 {
                    pool: 10,
                    sub_pools: 3,
                    singles: 0,
                },
            ),
            (
                "D3:10:1,4,4,1",
                Design::Hierarchical3 {
                    pool: 10,
                    sub_pools: 2,
                    singles: 2,
                },
            ),
            (
                "A2M:4x5",
                Design::Array {
                    rows: 4,
                    cols: 5,
                    master_pool: true,
                },
            ),
            ("HC:3^4", Design::Hypercube { side: 3, dims: 4 }),
            (
                "PC2:20",
                Design::PoolCode {
                    pool: 20,
                    third_round: false,
                },
            ),
            (
                "NA-DD:16:8:2",
                Design::NonAdaptive {
                    items: 16,
                    tests: 8,
                    tests_per_item: 2,
                    decoder: Decoder::Dd,
                },
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(spec.parse::<Design>().unwrap(), want, "{spec}");
        }
        for bad in [
            "D3:10:5,3,2",
            "D3:10:4,3",
            "D2:x",
            "D2:1",
            "Q:3",
            "HC:3",
            "D3:10",
        ] {
            let e = bad.parse::<Design>().unwrap_err().to_string();
            assert!(e.contains("design"), "{bad}: {e}");
        }
    }

    #[test]
    fn non_adaptive_is_deterministic_and_balanced() {
        let a = non_adaptive_matrix(16, 8, 2).unwrap();
        let b = non_adaptive_matrix(16, 8, 2).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().all(|m| m.count_ones() == 2));
        let d = Design::NonAdaptive {
            items: 16,
            tests: 8,
            tests_per_item: 2,
            decoder: Decoder::Comp,
        };
        assert_eq!(d.largest_pool(), 4);
    }

    #[test]
    fn validation_refuses_nonsense() {
        assert!(Design::Dorfman { pool: 1 }.validate().is_err());
        assert!(
            Design::Hierarchical3 {
                pool: 10,
                sub_pools: 1,
                singles: 0
            }
            .validate()
            .is_err()
        );
        assert!(
            Design::Hierarchical3 {
                pool: 10,
                sub_pools: 5,
                singles: 1
            }
            .validate()
            .is_err()
        );
        assert!(Design::Hypercube { side: 3, dims: 40 }.validate().is_err());
        assert!(
            Design::PoolCode {
                pool: 20,
                third_round: false
            }
            .validate()
            .is_ok()
        );
    }
}
