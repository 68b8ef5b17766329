//! Operating characteristics of a design: expected tests, lab rounds,
//! pooling sensitivity/specificity, PPV, NPV.
//!
//! Model (Kim, Hudgens, Dreyfuss, Westreich & Pilcher, Biometrics 2007; the
//! model of binGroup2): people are positive independently with prevalence
//! p; a tube holding ≥ 1 positive reads positive with the stage's
//! sensitivity (times the dilution factor of its size), a tube with none
//! reads negative with the stage's specificity, tests independent given the
//! true statuses. Under this model the hierarchical (D2, D3) and array (A2,
//! A2M) designs have exact closed forms, implemented here; the others go
//! through [`crate::montecarlo::simulate`].

use serde::{Deserialize, Serialize};

use crate::accuracy::{Accuracy, validate_prevalence};
use crate::designs::{Design, d3_parts};
use crate::error::Result;
use crate::montecarlo::{McConfig, simulate};

/// How a figure was obtained, so readers know whether to expect noise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// Closed form under the model.
    Exact,
    /// Stratified Monte Carlo through the decoder.
    MonteCarlo {
        /// Blocks simulated.
        trials: u64,
        /// Seed used.
        seed: u64,
        /// Standard error of the expected tests per person.
        #[serde(default)]
        std_error: f64,
    },
}

/// Figures of one design at one prevalence and accuracy, per block and per person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Characteristics {
    /// People per block.
    pub block_size: usize,
    /// Expected tubes tested per block (all rounds).
    pub tests_per_block: f64,
    /// Expected tubes per person: the cost figure to compare designs by.
    pub tests_per_person: f64,
    /// Expected tubes per block in each round.
    pub tests_by_round: Vec<f64>,
    /// Probability a block needs round r+1 (entry 0 is 1). Exact for the
    /// hierarchical designs; for arrays exact with perfect tests, otherwise
    /// an approximation (one-positive case for the "no pool positive" term).
    pub round_probabilities: Vec<f64>,
    /// Worst-case lab rounds.
    pub max_rounds: u32,
    /// Expected lab rounds per block.
    pub expected_rounds: f64,
    /// Pooling sensitivity: P(flagged | positive).
    pub sensitivity: f64,
    /// Pooling specificity: P(cleared | negative).
    pub specificity: f64,
    /// P(positive | flagged).
    pub ppv: f64,
    /// P(negative | cleared).
    pub npv: f64,
    /// P(every member of a block classified correctly) — Monte Carlo only.
    pub exact_recovery: Option<f64>,
    /// Exact or simulated.
    pub method: Method,
}

/// Builds the record, deriving per-person cost, rounds, PPV and NPV.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble(
    design: &Design,
    p: f64,
    tests_by_round: Vec<f64>,
    round_probabilities: Vec<f64>,
    se: f64,
    sp: f64,
    exact_recovery: Option<f64>,
    method: Method,
) -> Characteristics {
    let clamp = |x: f64| x.clamp(0.0, 1.0);
    let (se, sp) = (clamp(se), clamp(sp));
    let q = 1.0 - p;
    let tests_per_block: f64 = tests_by_round.iter().sum();
    let n = design.block_size();
    let ppv_den = p * se + q * (1.0 - sp);
    let npv_den = q * sp + p * (1.0 - se);
    Characteristics {
        block_size: n,
        tests_per_block,
        tests_per_person: tests_per_block / n as f64,
        expected_rounds: round_probabilities.iter().sum(),
        round_probabilities: round_probabilities.into_iter().map(clamp).collect(),
        tests_by_round,
        max_rounds: design.max_rounds(),
        sensitivity: se,
        specificity: sp,
        ppv: if ppv_den > 0.0 {
            clamp(p * se / ppv_den)
        } else {
            0.0
        },
        npv: if npv_den > 0.0 {
            clamp(q * sp / npv_den)
        } else {
            0.0
        },
        exact_recovery: exact_recovery.map(clamp),
        method,
    }
}

/// Figures for any design: exact where a closed form exists, else Monte Carlo.
pub fn characteristics(
    design: &Design,
    p: f64,
    acc: &Accuracy,
    mc: &McConfig,
) -> Result<Characteristics> {
    match exact_characteristics(design, p, acc)? {
        Some(c) => Ok(c),
        None => simulate(design, p, acc, mc),
    }
}

/// Closed-form figures, or `None` for designs without one.
pub fn exact_characteristics(
    design: &Design,
    p: f64,
    acc: &Accuracy,
) -> Result<Option<Characteristics>> {
    design.validate()?;
    acc.validate()?;
    validate_prevalence(p)?;
    Ok(match *design {
        Design::Individual => Some(hierarchical(design, 1, &[], p, acc)),
        Design::Dorfman { pool } => Some(hierarchical(
            design,
            pool as usize,
            &[(1, pool as usize)],
            p,
            acc,
        )),
        Design::Hierarchical3 {
            pool,
            sub_pools,
            singles,
        } => Some(hierarchical(
            design,
            pool as usize,
            &group_sizes(&d3_parts(pool as usize, sub_pools, singles)),
            p,
            acc,
        )),
        Design::Array {
            rows,
            cols,
            master_pool,
        } => Some(array(
            design,
            rows as usize,
            cols as usize,
            master_pool,
            p,
            acc,
        )),
        _ => crate::exact_code::code_characteristics(design, p, acc)?,
    })
}

/// P(every test on a nested path of pools reads positive), for pools of
/// sizes `sizes[0] ⊃ sizes[1] ⊃ …` tested at stages 0, 1, …; with `minus`
/// = 1 the sizes exclude one person known to be negative.
///
/// Sum over j = the outermost pool on the path holding no positive:
/// P(A_{j-1} has a positive, A_j has none) · Π_{i<j} Se_i · Π_{i≥j} (1−Sp_i).
fn all_positive(sizes: &[usize], minus: usize, q: f64, acc: &Accuracy) -> f64 {
    if sizes.is_empty() {
        return 1.0;
    }
    let v = sizes.len();
    let none = |i: usize| q.powi((sizes[i] - minus) as i32);
    let mut total = 0.0;
    for j in 0..=v {
        let w = if j == 0 {
            none(0)
        } else if j == v {
            1.0 - none(v - 1)
        } else {
            none(j) - none(j - 1)
        };
        if w <= 0.0 {
            continue;
        }
        let mut prod = w;
        for (i, &s) in sizes.iter().enumerate() {
            let (se, sp) = acc.at(i, s);
            prod *= if i < j { se } else { 1.0 - sp };
        }
        total += prod;
    }
    total
}

#[derive(Default)]
struct HierSums {
    tests_by_round: Vec<f64>,
    se_sum: f64,
    fp_sum: f64,
    leaves: f64,
}

/// Run-length groups of sizes: (size, count), in first-seen order.
pub(crate) fn group_sizes(parts: &[usize]) -> Vec<(usize, usize)> {
    let mut v: Vec<(usize, usize)> = Vec::new();
    for &s in parts {
        match v.iter_mut().find(|(size, _)| *size == s) {
            Some((_, n)) => *n += 1,
            None => v.push((s, 1)),
        }
    }
    v
}

/// Children of a tube of `s` people at `depth`: the root's are `root`,
/// deeper pools split into singles.
fn children(depth: usize, s: usize, root: &[(usize, usize)]) -> Vec<(usize, usize)> {
    if depth == 0 {
        root.to_vec()
    } else {
        vec![(1, s)]
    }
}

fn walk(
    path: &mut Vec<usize>,
    weight: f64,
    root: &[(usize, usize)],
    q: f64,
    acc: &Accuracy,
    out: &mut HierSums,
) {
    let depth = path.len() - 1;
    let s = path[depth];
    if out.tests_by_round.len() <= depth {
        out.tests_by_round.resize(depth + 1, 0.0);
    }
    out.tests_by_round[depth] += weight * all_positive(&path[..depth], 0, q, acc);
    if s == 1 {
        let se: f64 = path
            .iter()
            .enumerate()
            .map(|(i, &a)| acc.at(i, a).0)
            .product();
        out.se_sum += weight * se;
        out.fp_sum += weight * all_positive(path, 1, q, acc);
        out.leaves += weight;
        return;
    }
    for (c, count) in children(depth, s, root) {
        path.push(c);
        walk(path, weight * count as f64, root, q, acc, out);
        path.pop();
    }
}

/// Exact individual/D2/D3 figures (Kim et al. 2007, hierarchical
/// algorithms): a pool of `k` whose round-2 tubes are `root` (size, count);
/// round-2 tubes of two or more are resolved by singles in round 3.
pub(crate) fn hierarchical(
    design: &Design,
    k: usize,
    root: &[(usize, usize)],
    p: f64,
    acc: &Accuracy,
) -> Characteristics {
    let q = 1.0 - p;
    let mut out = HierSums::default();
    let mut path = vec![k];
    walk(&mut path, 1.0, root, q, acc, &mut out);
    let mut rounds = vec![1.0];
    if k > 1 {
        // round 2 happens iff the top pool reads positive
        rounds.push(all_positive(&[k], 0, q, acc));
        if root.iter().any(|&(c, _)| c > 1) {
            // round 3 iff top positive and some sub-pool of size > 1 positive:
            // P(top+) − P(top+ ∧ all such sub-pools −)
            let (se0, sp0) = acc.at(0, k);
            let (mut any, mut all_neg) = (1.0, 1.0);
            for &(c, count) in root {
                let qc = q.powi(c as i32);
                let (b, s) = if c > 1 {
                    let (se1, sp1) = acc.at(1, c);
                    (qc * sp1 + (1.0 - qc) * (1.0 - se1), qc * sp1)
                } else {
                    (1.0, qc)
                };
                any *= b.powi(count as i32);
                all_neg *= s.powi(count as i32);
            }
            let top_pos_subs_neg = se0 * (any - all_neg) + (1.0 - sp0) * all_neg;
            rounds.push(rounds[1] - top_pos_subs_neg);
        }
    }
    let se = out.se_sum / out.leaves;
    let sp = 1.0 - out.fp_sum / out.leaves;
    let mut c = assemble(
        design,
        p,
        out.tests_by_round,
        rounds,
        se,
        sp,
        None,
        Method::Exact,
    );
    c.block_size = k;
    c.tests_per_person = c.tests_per_block / k as f64;
    c
}

/// Exact A2/A2M figures. A cell is tested singly when its row and column
/// are positive, or its row is positive and no column is, or its column is
/// positive and no row is (Kim et al. 2007). Conditioning on the cell's own
/// status makes its row and column independent, which gives closed forms.
fn array(
    design: &Design,
    r: usize,
    c: usize,
    master: bool,
    p: f64,
    acc: &Accuracy,
) -> Characteristics {
    let q = 1.0 - p;
    let st = master as usize;
    let (sr, pr) = acc.at(st, c); // a row holds c people
    let (sc, pc) = acc.at(st, r); // a column holds r people
    let (si, pi) = acc.at(st + 1, 1);
    let powi = |x: f64, e: usize| x.powi(e as i32);
    let (qc1, qr1, qc, qr) = (powi(q, c - 1), powi(q, r - 1), powi(q, c), powi(q, r));
    // unconditional P(a column / row test reads negative)
    let b_c = pc * qr + (1.0 - sc) * (1.0 - qr);
    let b_r = pr * qc + (1.0 - sr) * (1.0 - qc);
    // cell positive
    let t_pos = sr * sc + sr * (1.0 - sc) * powi(b_c, c - 1) + sc * (1.0 - sr) * powi(b_r, r - 1);
    // cell negative
    let rho = sr * (1.0 - qc1) + (1.0 - pr) * qc1;
    let kap = sc * (1.0 - qr1) + (1.0 - pc) * qr1;
    let a_c = pc * qr1 + (1.0 - sc) * (1.0 - qr1);
    let a_r = pr * qc1 + (1.0 - sr) * (1.0 - qc1);
    let e2 =
        a_c * (sr * (powi(b_c, c - 1) - powi(q * a_c, c - 1)) + (1.0 - pr) * powi(q * a_c, c - 1));
    let e3 =
        a_r * (sc * (powi(b_r, r - 1) - powi(q * a_r, r - 1)) + (1.0 - pc) * powi(q * a_r, r - 1));
    let t_neg = rho * kap + e2 + e3;
    let p_tested = p * t_pos + q * t_neg;
    let cells = (r * c) as f64;
    let lines = (r + c) as f64;
    // approximate P(no row/column test positive | ≥ 1 positive): one positive
    let miss_one = (1.0 - sr) * (1.0 - sc) * powi(pr, r - 1) * powi(pc, c - 1);
    let q_all = powi(q, r * c);
    let no_line_pos = q_all * powi(pr, r) * powi(pc, c) + (1.0 - q_all) * miss_one;
    if !master {
        let rounds = vec![1.0, 1.0 - no_line_pos];
        let tests = vec![lines, cells * p_tested];
        return assemble(
            design,
            p,
            tests,
            rounds,
            t_pos * si,
            1.0 - (1.0 - pi) * t_neg,
            None,
            Method::Exact,
        );
    }
    let (sm, pm) = acc.at(0, r * c);
    let e0 = (1.0 - pr) * (1.0 - pc) + (1.0 - pr) * powi(pc, c) + (1.0 - pc) * powi(pr, r);
    let p_master = sm * (1.0 - q_all) + (1.0 - pm) * q_all;
    let p_m_and_tested = sm * (p_tested - q_all * e0) + (1.0 - pm) * q_all * e0;
    let q_others = powi(q, r * c - 1);
    let fp = (1.0 - pi) * (sm * (t_neg - q_others * e0) + (1.0 - pm) * q_others * e0);
    let round3 = sm * (1.0 - q_all) * (1.0 - miss_one)
        + (1.0 - pm) * q_all * (1.0 - powi(pr, r) * powi(pc, c));
    let rounds = vec![1.0, p_master, round3];
    let tests = vec![1.0, lines * p_master, cells * p_m_and_tested];
    assemble(
        design,
        p,
        tests,
        rounds,
        sm * t_pos * si,
        1.0 - fp,
        None,
        Method::Exact,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn individual_testing_is_the_assay() {
        let c = exact_characteristics(&Design::Individual, 0.02, &Accuracy::uniform(0.95, 0.98))
            .unwrap()
            .unwrap();
        assert!((c.tests_per_person - 1.0).abs() < 1e-12);
        assert!((c.sensitivity - 0.95).abs() < 1e-12);
        assert!((c.specificity - 0.98).abs() < 1e-12);
    }

    #[test]
    fn perfect_dorfman_is_textbook() {
        let p: f64 = 0.01;
        let c = exact_characteristics(&Design::Dorfman { pool: 10 }, p, &Accuracy::perfect())
            .unwrap()
            .unwrap();
        let want = 1.0 / 10.0 + 1.0 - (1.0 - p).powi(10);
        assert!((c.tests_per_person - want).abs() < 1e-12);
        assert_eq!(c.sensitivity, 1.0);
        assert_eq!(c.specificity, 1.0);
    }

    #[test]
    fn perfect_array_counts() {
        // with perfect tests: r + c + rc·P(cell tested)
        let p: f64 = 0.02;
        let q = 1.0 - p;
        let (r, c) = (5usize, 5usize);
        let d = Design::Array {
            rows: 5,
            cols: 5,
            master_pool: false,
        };
        let ch = exact_characteristics(&d, p, &Accuracy::perfect())
            .unwrap()
            .unwrap();
        // P(tested) for a perfect array: row+ & col+ (others in row and col free)
        let row_other = 1.0 - q.powi(c as i32 - 1);
        let col_other = 1.0 - q.powi(r as i32 - 1);
        let t_neg = row_other * col_other;
        let want = (r + c) as f64 + (r * c) as f64 * (p + q * t_neg);
        assert!(
            (ch.tests_per_block - want).abs() < 1e-9,
            "{} vs {want}",
            ch.tests_per_block
        );
    }
}
