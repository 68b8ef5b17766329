//! Exact figures for the designs whose later rounds are decided by a
//! pattern of code tubes: pool + code (PC2/PC3), the hypercube and the
//! non-adaptive designs. Simulation noise was deciding rankings between
//! designs that are the same procedure (PC2(2) and D2(2)); enumeration
//! removes it.
//!
//! Method. Person x sits in the code tubes of a bit mask `c_x` (T tubes).
//! The set U of tubes that truly hold a positive has
//! `P(U ⊆ S) = q^(people with c_x ⊄ S)`, so `P(U = S)` is the Möbius
//! inverse over subsets. Given U, each code tube reads positive
//! independently (Se if in U, 1 − Sp if not), a per-bit channel applied
//! in `T·2^T` steps, which gives `P(pattern X, pool positive)` for every
//! pattern. The *real decoder* is run once per pattern to learn who is
//! cleared, flagged or tested alone next, so the figures are of exactly
//! what the response engine does. Sensitivity and specificity repeat this
//! with one person's status fixed. Cost: `T·2^T` per person, so it is used
//! up to [`MAX_PATTERN_WORK`]; larger codes are simulated.

use crate::accuracy::Accuracy;
use crate::characteristics::{Characteristics, Method, assemble};
use crate::decode::next_stage;
use crate::designs::Design;
use crate::error::Result;

/// Largest enumeration: `2^T × (people decoded + people followed × T)`
/// (beyond it, the Monte Carlo path); at most 2^20 patterns.
pub const MAX_PATTERN_WORK: u64 = 1 << 26;

/// How a design is read: code tubes after an optional whole-block pool.
struct Shape {
    /// Round 0 is one pool of everyone; code tubes are round 1.
    master: bool,
    /// The code tubes, in the decoder's order.
    tubes: Vec<Vec<usize>>,
    /// Code mask of each person.
    codes: Vec<u64>,
    /// People whose figures stand for everyone (weight each).
    reps: Vec<(usize, f64)>,
}

fn shape(design: &Design, members: usize) -> Result<Option<Shape>> {
    let (master, tubes) = match design {
        Design::PoolCode { .. } | Design::Hypercube { .. } => (
            true,
            next_stage(design, members, &[vec![true]])?.retest_tubes,
        ),
        Design::NonAdaptive { .. } => (false, next_stage(design, members, &[])?.retest_tubes),
        _ => return Ok(None),
    };
    let t = tubes.len();
    // a full hypercube looks the same from every cell: one person stands for all
    let symmetric = matches!(design, Design::Hypercube { .. }) && members == design.block_size();
    let followed = if symmetric { 1 } else { members } as u64;
    // a full hypercube's verdict is read off the slice counts, not decoded per person
    let decoded = if symmetric { t } else { members } as u64;
    let work = decoded.saturating_add(followed.saturating_mul(t as u64));
    if t > 20 || (1u64 << t).saturating_mul(work) > MAX_PATTERN_WORK {
        return Ok(None);
    }
    let mut codes = vec![0u64; members];
    for (i, tube) in tubes.iter().enumerate() {
        for &x in tube {
            codes[x] |= 1 << i;
        }
    }
    let reps = if symmetric {
        vec![(0, members as f64)]
    } else {
        (0..members).map(|x| (x, 1.0)).collect()
    };
    Ok(Some(Shape {
        master,
        tubes,
        codes,
        reps,
    }))
}

/// Subsets S ↦ Σ_{R ⊆ S} f(R), in place.
fn zeta(f: &mut [f64], t: usize) {
    for b in 0..t {
        let bit = 1 << b;
        for s in 0..f.len() {
            if s & bit != 0 {
                f[s] += f[s ^ bit];
            }
        }
    }
}

/// Inverse of [`zeta`]: from P(U ⊆ S) to P(U = S).
fn mobius(f: &mut [f64], t: usize) {
    for b in 0..t {
        let bit = 1 << b;
        for s in 0..f.len() {
            if s & bit != 0 {
                f[s] -= f[s ^ bit];
            }
        }
    }
}

/// From P(U) to P(observed pattern X): tube b reads positive with
/// `pos[b]` if it holds a positive and `fp[b]` if not, independently.
fn channel(f: &mut [f64], pos: &[f64], fp: &[f64]) {
    for (b, (&se, &fpr)) in pos.iter().zip(fp).enumerate() {
        let bit = 1 << b;
        for s in 0..f.len() {
            if s & bit == 0 {
                let (u0, u1) = (f[s], f[s | bit]);
                f[s] = u0 * (1.0 - fpr) + u1 * (1.0 - se);
                f[s | bit] = u0 * fpr + u1 * se;
            }
        }
    }
}

/// The real decoder's verdict on every pattern: per followed person
/// (0 cleared, 1 flagged, 2 tested alone) and the singles it asks for.
fn decode_verdicts(
    design: &Design,
    m: usize,
    sh: &Shape,
    status: &mut [u8],
    singles: &mut [usize],
) -> Result<()> {
    let t = sh.tubes.len();
    for x in 0..1usize << t {
        let pattern: Vec<bool> = (0..t).map(|b| x >> b & 1 == 1).collect();
        let hist = if sh.master {
            vec![vec![true], pattern]
        } else {
            vec![pattern]
        };
        let d = next_stage(design, m, &hist)?;
        singles[x] = d.retest_tubes.len();
        let mut st = vec![0u8; m];
        for &i in &d.flagged {
            st[i] = 1;
        }
        for tube in &d.retest_tubes {
            for &i in tube {
                st[i] = 2;
            }
        }
        for (r, &(i, _)) in sh.reps.iter().enumerate() {
            status[x * sh.reps.len() + r] = st[i];
        }
    }
    Ok(())
}

/// The hypercube decoder's verdict on every slice pattern of a full cube
/// (slice of dimension d, value v is bit d·side + v), for the cell whose
/// digits are all 0: the candidates are the cells whose every slice is
/// positive; one positive slice per dimension (or at most one candidate)
/// is read off directly, otherwise the candidates are tested alone.
/// `decode.rs` does the same per cell; a test checks they agree.
fn hypercube_verdicts(side: usize, dims: usize, status: &mut [u8], singles: &mut [usize]) {
    let t = side * dims;
    for x in 0..1usize << t {
        let mut cands: usize = 1;
        let mut all_one = true;
        let mut zero_in = true;
        for d in 0..dims {
            let row = (x >> (d * side)) & ((1 << side) - 1);
            let c = row.count_ones() as usize;
            cands *= c;
            all_one &= c == 1;
            zero_in &= row & 1 == 1;
        }
        let read_off = cands <= 1 || all_one;
        singles[x] = if read_off { 0 } else { cands };
        status[x] = match (zero_in, read_off) {
            (false, _) => 0,
            (true, true) => 1,
            (true, false) => 2,
        };
    }
}

/// Exact figures for pool + code, hypercube or non-adaptive `design` on a
/// block of its full size; `None` where the enumeration would be too large.
pub fn code_characteristics(
    design: &Design,
    p: f64,
    acc: &Accuracy,
) -> Result<Option<Characteristics>> {
    let m = design.block_size();
    let Some(sh) = shape(design, m)? else {
        return Ok(None);
    };
    let q = 1.0 - p;
    let t = sh.tubes.len();
    let n = 1usize << t;
    let stage = sh.master as usize;
    let (pos, fp): (Vec<f64>, Vec<f64>) = sh
        .tubes
        .iter()
        .map(|tube| {
            let (se, sp) = acc.at(stage, tube.len());
            (se, 1.0 - sp)
        })
        .unzip();
    let (se0, sp0) = acc.at(0, m);
    let (se_single, sp_single) = acc.at(stage + 1, 1);
    // g(S): people whose code lies inside S
    let mut g = vec![0.0; n];
    for &c in &sh.codes {
        g[c as usize] += 1.0;
    }
    zeta(&mut g, t);
    let master_factor = |u: usize| {
        if !sh.master {
            1.0
        } else if u == 0 {
            1.0 - sp0
        } else {
            se0
        }
    };
    let ln_q = q.ln();
    let mut all: Vec<f64> = g.iter().map(|&gs| ((m as f64 - gs) * ln_q).exp()).collect();
    mobius(&mut all, t);
    for (u, v) in all.iter_mut().enumerate() {
        *v *= master_factor(u);
    }
    channel(&mut all, &pos, &fp);
    // the decoder's verdict on each pattern: 0 cleared, 1 flagged, 2 tested alone
    let mut status = vec![0u8; n * sh.reps.len()];
    let mut singles = vec![0usize; n];
    if let (Design::Hypercube { side, dims }, [(0, _)]) = (design, sh.reps.as_slice()) {
        hypercube_verdicts(*side as usize, *dims as usize, &mut status, &mut singles);
    } else {
        decode_verdicts(design, m, &sh, &mut status, &mut singles)?;
    }
    let (mut flag_pos, mut flag_neg, mut weight) = (0.0, 0.0, 0.0);
    let mut work = vec![0.0; n];
    for (r, &(i, w)) in sh.reps.iter().enumerate() {
        let ci = sh.codes[i] as usize;
        for positive in [true, false] {
            for (s, v) in work.iter_mut().enumerate() {
                let inside = s & ci == ci;
                let others = (m as f64 - 1.0) - (g[s] - inside as u8 as f64);
                *v = if positive {
                    if inside {
                        p * (others * ln_q).exp()
                    } else {
                        0.0
                    }
                } else {
                    q * (others * ln_q).exp()
                };
            }
            mobius(&mut work, t);
            for (u, v) in work.iter_mut().enumerate() {
                *v *= master_factor(u);
            }
            channel(&mut work, &pos, &fp);
            let mut acc_flag = 0.0;
            for (x, &px) in work.iter().enumerate() {
                acc_flag += px
                    * match status[x * sh.reps.len() + r] {
                        1 => 1.0,
                        2 if positive => se_single,
                        2 => 1.0 - sp_single,
                        _ => 0.0,
                    };
            }
            if positive {
                flag_pos += w * acc_flag;
            } else {
                flag_neg += w * acc_flag;
            }
        }
        weight += w;
    }
    let se = flag_pos / (weight * p);
    let sp = 1.0 - flag_neg / (weight * q);
    let p_master = if sh.master {
        se0 * (1.0 - q.powi(m as i32)) + (1.0 - sp0) * q.powi(m as i32)
    } else {
        1.0
    };
    let later: f64 = all
        .iter()
        .zip(&singles)
        .map(|(&px, &k)| px * k as f64)
        .sum();
    let p_later: f64 = all
        .iter()
        .zip(&singles)
        .filter(|(_, k)| **k > 0)
        .map(|(&px, _)| px)
        .sum();
    let rounds = design.max_rounds() as usize;
    let mut tests = Vec::with_capacity(rounds);
    let mut probs = Vec::with_capacity(rounds);
    if sh.master {
        tests.extend([1.0, t as f64 * p_master]);
        probs.extend([1.0, p_master]);
    } else {
        tests.push(t as f64);
        probs.push(1.0);
    }
    if tests.len() < rounds {
        tests.push(later);
        probs.push(p_later);
    }
    Ok(Some(assemble(
        design,
        p,
        tests,
        probs,
        se,
        sp,
        None,
        Method::Exact,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_pool_code_counts_by_hand() {
        // PC3(3): codes 3C1 are single tubes: 1 + 3·P(pool+), never a third round
        let p: f64 = 0.05;
        let q = 1.0 - p;
        let d = Design::PoolCode {
            pool: 3,
            third_round: true,
        };
        let c = code_characteristics(&d, p, &Accuracy::perfect())
            .unwrap()
            .unwrap();
        let want = 1.0 + 3.0 * (1.0 - q.powi(3));
        assert!((c.tests_per_block - want).abs() < 1e-12, "{c:?}");
        assert!((c.sensitivity - 1.0).abs() < 1e-12);
        assert!((c.specificity - 1.0).abs() < 1e-12);
    }

    #[test]
    fn hypercube_shortcut_matches_the_decoder() {
        for (side, dims) in [(2usize, 3usize), (3, 2), (3, 3)] {
            let d = Design::Hypercube {
                side: side as u32,
                dims: dims as u32,
            };
            let m = d.block_size();
            let sh = shape(&d, m).unwrap().unwrap();
            let n = 1usize << sh.tubes.len();
            let (mut st_a, mut si_a) = (vec![0u8; n], vec![0usize; n]);
            hypercube_verdicts(side, dims, &mut st_a, &mut si_a);
            let full = Shape {
                reps: vec![(0, 1.0)],
                ..sh
            };
            let (mut st_b, mut si_b) = (vec![0u8; n], vec![0usize; n]);
            decode_verdicts(&d, m, &full, &mut st_b, &mut si_b).unwrap();
            assert_eq!(st_a, st_b, "{}", d.label());
            assert_eq!(si_a, si_b, "{}", d.label());
        }
    }

    #[test]
    fn pc2_of_two_is_dorfman_of_two() {
        let acc = Accuracy::uniform(0.99, 0.99);
        let pc = code_characteristics(
            &Design::PoolCode {
                pool: 2,
                third_round: false,
            },
            0.001,
            &acc,
        )
        .unwrap()
        .unwrap();
        let d2 = crate::exact_characteristics(&Design::Dorfman { pool: 2 }, 0.001, &acc)
            .unwrap()
            .unwrap();
        assert!((pc.tests_per_block - d2.tests_per_block).abs() < 1e-12);
        assert!((pc.sensitivity - d2.sensitivity).abs() < 1e-12);
        assert!((pc.specificity - d2.specificity).abs() < 1e-12);
    }
}
