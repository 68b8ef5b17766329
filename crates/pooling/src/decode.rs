//! Decoding: from the tube results so far, who is cleared, who needs which
//! retest tube next, who is flagged.
//!
//! The decoder is *stateless*: the caller keeps the list of result vectors,
//! one per completed round, in the order of the tubes the decoder asked for,
//! and [`next_stage`] replays them. Call it with no results to get the first
//! round's tubes. The response engine calls it when a 20:1 pool comes back
//! non-negative: `next_stage(&design, 20, &[vec![true]])` yields the round-2
//! tubes. Member indices are positions `0..members` in the block (the order
//! the people were scanned into the first tube).

use serde::{Deserialize, Serialize};

use crate::designs::{Decoder, Design, codewords, d3_parts, non_adaptive_matrix};
use crate::error::{PoolingError, Result};

/// What to do next with a block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Zero-based index of the round `retest_tubes` belong to (= rounds done).
    pub round: usize,
    /// Members finally classified negative so far (sorted).
    pub cleared: Vec<usize>,
    /// Members finally classified (presumptive) positive so far (sorted):
    /// isolate and confirm with a single tube.
    pub flagged: Vec<usize>,
    /// Tubes to test in the next round, each a list of member indices.
    pub retest_tubes: Vec<Vec<usize>>,
    /// True once every member is cleared or flagged.
    pub complete: bool,
}

impl Decision {
    /// Members not yet classified (in some retest tube).
    pub fn pending(&self, members: usize) -> Vec<usize> {
        let mut done = vec![false; members];
        for &i in self.cleared.iter().chain(&self.flagged) {
            if i < members {
                done[i] = true;
            }
        }
        (0..members).filter(|&i| !done[i]).collect()
    }
}

/// Tests a round's design saved against single tubes, for the incident report.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Savings {
    /// People screened.
    pub people: u64,
    /// Tubes actually tested (all rounds).
    pub tests_used: u64,
    /// Tubes single-tube (1:1) screening would have tested.
    pub single_tube_tests: u64,
    /// `single_tube_tests − tests_used` (negative if pooling cost more).
    pub tests_saved: i64,
    /// `tests_saved / single_tube_tests`.
    pub fraction_saved: f64,
}

/// Savings of a completed round: `people` screened with `tests_used` tubes.
pub fn tests_saved(people: u64, tests_used: u64) -> Savings {
    let saved = people as i64 - tests_used as i64;
    Savings {
        people,
        tests_used,
        single_tube_tests: people,
        tests_saved: saved,
        fraction_saved: if people == 0 {
            0.0
        } else {
            saved as f64 / people as f64
        },
    }
}

/// Savings of one decoded block: the tubes used are the results supplied.
pub fn block_savings(
    design: &Design,
    members: usize,
    results_so_far: &[Vec<bool>],
) -> Result<Savings> {
    next_stage(design, members, results_so_far)?;
    let used: usize = results_so_far.iter().map(Vec::len).sum();
    Ok(tests_saved(members as u64, used as u64))
}

/// The decision after the rounds in `results_so_far` for a block of
/// `members` people (≤ the design's block size) screened with `design`.
pub fn next_stage(
    design: &Design,
    members: usize,
    results_so_far: &[Vec<bool>],
) -> Result<Decision> {
    design.validate()?;
    let capacity = design.block_size();
    if members > capacity {
        return Err(PoolingError::TooManyMembers {
            design: design.label(),
            members,
            capacity,
        });
    }
    let st = Replay {
        hist: results_so_far,
        cleared: Vec::new(),
        flagged: Vec::new(),
    };
    if members == 0 {
        return st.finish(0);
    }
    match *design {
        Design::Individual => st.hierarchical(&[1], members),
        Design::Dorfman { pool } => st.hierarchical(&[pool as usize], members),
        Design::Hierarchical3 {
            sub_pools, singles, ..
        } => st.hierarchical3(&d3_parts(members, sub_pools, singles), members),
        Design::Array {
            rows: _,
            cols,
            master_pool,
        } => st.array(cols as usize, master_pool, members),
        Design::Hypercube { side, dims } => st.hypercube(side as usize, dims as usize, members),
        Design::NonAdaptive {
            items,
            tests,
            tests_per_item,
            decoder,
        } => {
            let m = non_adaptive_matrix(items as usize, tests as usize, tests_per_item as usize)?;
            st.non_adaptive(&m[..members], tests as usize, decoder)
        }
        Design::PoolCode { third_round, .. } => st.pool_code(members, third_round),
    }
}

struct Replay<'a> {
    hist: &'a [Vec<bool>],
    cleared: Vec<usize>,
    flagged: Vec<usize>,
}

impl<'a> Replay<'a> {
    /// Results of `round` if supplied (checked against the tubes asked for).
    fn results(&self, round: usize, tubes: &[Vec<usize>]) -> Result<Option<&'a [bool]>> {
        let hist: &'a [Vec<bool>] = self.hist;
        match hist.get(round) {
            None => Ok(None),
            Some(r) if r.len() == tubes.len() => Ok(Some(r)),
            Some(r) => Err(PoolingError::ResultCountMismatch {
                round,
                expected: tubes.len(),
                got: r.len(),
            }),
        }
    }

    fn ask(mut self, round: usize, tubes: Vec<Vec<usize>>) -> Result<Decision> {
        self.cleared.sort_unstable();
        self.flagged.sort_unstable();
        Ok(Decision {
            round,
            cleared: self.cleared,
            flagged: self.flagged,
            retest_tubes: tubes,
            complete: false,
        })
    }

    fn finish(mut self, rounds_done: usize) -> Result<Decision> {
        if self.hist.len() > rounds_done {
            return Err(PoolingError::TooManyRounds { round: rounds_done });
        }
        self.cleared.sort_unstable();
        self.flagged.sort_unstable();
        Ok(Decision {
            round: rounds_done,
            cleared: self.cleared,
            flagged: self.flagged,
            retest_tubes: Vec::new(),
            complete: true,
        })
    }

    /// Singles round for `cands`: flags the positives, clears the rest.
    fn singles(mut self, round: usize, cands: Vec<usize>) -> Result<Decision> {
        if cands.is_empty() {
            return self.finish(round);
        }
        let tubes: Vec<Vec<usize>> = cands.iter().map(|&i| vec![i]).collect();
        let Some(res) = self.results(round, &tubes)? else {
            return self.ask(round, tubes);
        };
        for (&i, &pos) in cands.iter().zip(res) {
            if pos {
                self.flagged.push(i);
            } else {
                self.cleared.push(i);
            }
        }
        self.finish(round + 1)
    }

    /// Nested pools: level 0 chunks of `sizes[0]`, positive pools split into
    /// chunks of `sizes[1]`, …, then singles.
    fn hierarchical(mut self, sizes: &[usize], members: usize) -> Result<Decision> {
        let all: Vec<usize> = (0..members).collect();
        let mut active: Vec<Vec<usize>> =
            all.chunks(sizes[0].max(1)).map(<[usize]>::to_vec).collect();
        let mut round = 0;
        loop {
            let Some(res) = self.results(round, &active)? else {
                return self.ask(round, active);
            };
            let child = sizes.get(round + 1).copied().unwrap_or(1).max(1);
            let mut next = Vec::new();
            for (tube, &pos) in active.iter().zip(res) {
                if !pos {
                    self.cleared.extend_from_slice(tube);
                } else if tube.len() == 1 {
                    self.flagged.push(tube[0]);
                } else {
                    next.extend(tube.chunks(child).map(<[usize]>::to_vec));
                }
            }
            round += 1;
            if next.is_empty() {
                return self.finish(round);
            }
            active = next;
        }
    }

    /// D3: the block's pool, then round-2 tubes of consecutive members with
    /// sizes `parts`, then singles of the positive round-2 tubes of two or more.
    fn hierarchical3(mut self, parts: &[usize], members: usize) -> Result<Decision> {
        match self.master(members)? {
            None => return self.ask(0, vec![(0..members).collect()]),
            Some(false) => return self.finish(1),
            Some(true) if members == 1 => {
                self.flagged.push(0);
                return self.finish(1);
            }
            Some(true) => {}
        }
        let mut tubes = Vec::with_capacity(parts.len());
        let mut start = 0;
        for &s in parts {
            tubes.push((start..start + s).collect::<Vec<_>>());
            start += s;
        }
        let Some(res) = self.results(1, &tubes)? else {
            return self.ask(1, tubes);
        };
        let mut cands = Vec::new();
        for (tube, &pos) in tubes.iter().zip(res) {
            match (pos, tube.len()) {
                (false, _) => self.cleared.extend_from_slice(tube),
                (true, 1) => self.flagged.push(tube[0]),
                (true, _) => cands.extend_from_slice(tube),
            }
        }
        self.singles(2, cands)
    }

    /// Whole-block pool (round 0); returns false (and clears all) if negative.
    fn master(&mut self, members: usize) -> Result<Option<bool>> {
        let tube = vec![(0..members).collect::<Vec<_>>()];
        Ok(self.results(0, &tube)?.map(|r| {
            if !r[0] {
                self.cleared.extend(0..members);
            }
            r[0]
        }))
    }

    fn array(mut self, cols: usize, master_pool: bool, members: usize) -> Result<Decision> {
        let mut round = 0;
        if master_pool {
            match self.master(members)? {
                None => return self.ask(0, vec![(0..members).collect()]),
                Some(false) => return self.finish(1),
                Some(true) => round = 1,
            }
        }
        let nrows = members.div_ceil(cols);
        let ncols = cols.min(members);
        let mut tubes: Vec<Vec<usize>> = (0..nrows)
            .map(|i| (i * cols..((i + 1) * cols).min(members)).collect())
            .collect();
        tubes.extend((0..ncols).map(|j| (j..members).step_by(cols).collect()));
        let Some(res) = self.results(round, &tubes)? else {
            return self.ask(round, tubes);
        };
        let (pr, pc) = res.split_at(nrows);
        let any_r = pr.iter().any(|&b| b);
        let any_c = pc.iter().any(|&b| b);
        let mut cands = Vec::new();
        for x in 0..members {
            let (i, j) = (x / cols, x % cols);
            let cand = match (any_r, any_c) {
                (true, true) => pr[i] && pc[j],
                (true, false) => pr[i],
                (false, true) => pc[j],
                (false, false) => false,
            };
            if cand {
                cands.push(x);
            } else {
                self.cleared.push(x);
            }
        }
        self.singles(round + 1, cands)
    }

    fn hypercube(mut self, side: usize, dims: usize, members: usize) -> Result<Decision> {
        match self.master(members)? {
            None => return self.ask(0, vec![(0..members).collect()]),
            Some(false) => return self.finish(1),
            Some(true) if members == 1 => {
                self.flagged.push(0);
                return self.finish(1);
            }
            Some(true) => {}
        }
        // digits of each member in base `side`, one pass
        let mut digits = vec![0usize; members * dims];
        for x in 0..members {
            let mut y = x;
            for d in 0..dims {
                digits[x * dims + d] = y % side;
                y /= side;
            }
        }
        let digit = |x: usize, d: usize| digits[x * dims + d];
        let mut slices: Vec<Vec<usize>> = vec![Vec::new(); dims * side];
        for x in 0..members {
            for d in 0..dims {
                slices[d * side + digit(x, d)].push(x);
            }
        }
        let mut tubes = Vec::new();
        let mut slice_of = Vec::new(); // (dim, value) per tube
        for (i, t) in slices.into_iter().enumerate() {
            if !t.is_empty() {
                tubes.push(t);
                slice_of.push((i / side, i % side));
            }
        }
        let Some(res) = self.results(1, &tubes)? else {
            return self.ask(1, tubes);
        };
        let mut pos = vec![vec![false; side]; dims];
        for (&(d, v), &r) in slice_of.iter().zip(res) {
            pos[d][v] = r;
        }
        let counts: Vec<usize> = pos
            .iter()
            .map(|p| p.iter().filter(|&&b| b).count())
            .collect();
        let mut cands = Vec::new();
        for x in 0..members {
            if (0..dims).all(|d| pos[d][digit(x, d)]) {
                cands.push(x);
            } else {
                self.cleared.push(x);
            }
        }
        if cands.len() <= 1 || counts.iter().all(|&c| c == 1) {
            // a single positive read off the slices (or nothing consistent)
            self.flagged.extend(cands);
            return self.finish(2);
        }
        self.singles(2, cands)
    }

    fn non_adaptive(mut self, cols: &[u64], tests: usize, decoder: Decoder) -> Result<Decision> {
        let members = cols.len();
        let mut tube_ids = Vec::new();
        let mut tubes = Vec::new();
        for t in 0..tests {
            let tube: Vec<usize> = (0..members).filter(|&x| cols[x] >> t & 1 == 1).collect();
            if !tube.is_empty() {
                tube_ids.push(t);
                tubes.push(tube);
            }
        }
        let Some(res) = self.results(0, &tubes)? else {
            return self.ask(0, tubes);
        };
        let mut positive_tests = 0u64;
        for (&t, &r) in tube_ids.iter().zip(res) {
            if r {
                positive_tests |= 1 << t;
            }
        }
        // COMP: possible = every tube of x was positive
        let possible: Vec<bool> = cols.iter().map(|&c| c & !positive_tests == 0).collect();
        let mut flag = vec![false; members];
        match decoder {
            Decoder::Comp => flag.clone_from(&possible),
            Decoder::Dd | Decoder::Scomp => {
                for t in 0..tests {
                    if positive_tests >> t & 1 == 0 {
                        continue;
                    }
                    let mut only = None;
                    let mut n = 0;
                    for x in 0..members {
                        if possible[x] && cols[x] >> t & 1 == 1 {
                            n += 1;
                            only = Some(x);
                        }
                    }
                    if n == 1 {
                        flag[only.unwrap_or(0)] = true;
                    }
                }
                if decoder == Decoder::Scomp {
                    let explained = |flag: &[bool]| {
                        (0..members)
                            .filter(|&x| flag[x])
                            .fold(0u64, |acc, x| acc | cols[x])
                    };
                    loop {
                        let unexplained = positive_tests & !explained(&flag);
                        if unexplained == 0 {
                            break;
                        }
                        let best = (0..members)
                            .filter(|&x| possible[x] && !flag[x])
                            .map(|x| ((cols[x] & unexplained).count_ones(), x))
                            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                        match best {
                            Some((gain, x)) if gain > 0 => flag[x] = true,
                            _ => break,
                        }
                    }
                }
            }
        }
        for (x, &f) in flag.iter().enumerate() {
            if f {
                self.flagged.push(x);
            } else {
                self.cleared.push(x);
            }
        }
        self.finish(1)
    }

    fn pool_code(mut self, members: usize, third_round: bool) -> Result<Decision> {
        match self.master(members)? {
            None => return self.ask(0, vec![(0..members).collect()]),
            Some(false) => return self.finish(1),
            Some(true) if members == 1 => {
                self.flagged.push(0);
                return self.finish(1);
            }
            Some(true) => {}
        }
        let code = codewords(members);
        let bits = 64 - code.iter().fold(0u64, |a, &c| a | c).leading_zeros() as usize;
        let mut tube_bits = Vec::new();
        let mut tubes = Vec::new();
        for b in 0..bits {
            let t: Vec<usize> = (0..members).filter(|&x| code[x] >> b & 1 == 1).collect();
            if !t.is_empty() {
                tube_bits.push(b);
                tubes.push(t);
            }
        }
        let Some(res) = self.results(1, &tubes)? else {
            return self.ask(1, tubes);
        };
        let mut pattern = 0u64;
        for (&b, &r) in tube_bits.iter().zip(res) {
            if r {
                pattern |= 1 << b;
            }
        }
        if pattern == 0 {
            // the pool was a false positive (or every code tube missed)
            self.cleared.extend(0..members);
            return self.finish(2);
        }
        let mut cands: Vec<usize> = (0..members).filter(|&x| code[x] & !pattern == 0).collect();
        if cands.len() == 1 {
            let x = cands[0];
            self.flagged.push(x);
            self.cleared.extend((0..members).filter(|&y| y != x));
            return self.finish(2);
        }
        let mut definite = Vec::new();
        if cands.is_empty() {
            // No codeword fits. One missed code tube leaves w − 1 of a
            // positive's bits: keep the codewords that close. Fewer bits
            // than that is far likelier a false-positive pool plus a stray
            // false-positive code tube than two misses: clear everyone.
            let w = code[0].count_ones();
            let best = (0..members)
                .map(|x| (code[x] & pattern).count_ones())
                .max()
                .unwrap_or(0);
            if best + 1 < w {
                self.cleared.extend(0..members);
                return self.finish(2);
            }
            cands = (0..members)
                .filter(|&x| (code[x] & pattern).count_ones() == best)
                .collect();
        } else {
            // DD: sole candidate of some positive tube is a definite positive
            for b in 0..bits {
                if pattern >> b & 1 == 0 {
                    continue;
                }
                let holders: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&x| code[x] >> b & 1 == 1)
                    .collect();
                if holders.len() == 1 && !definite.contains(&holders[0]) {
                    definite.push(holders[0]);
                }
            }
        }
        let is_cand = {
            let mut v = vec![false; members];
            for &x in &cands {
                v[x] = true;
            }
            v
        };
        self.cleared.extend((0..members).filter(|&x| !is_cand[x]));
        if !third_round {
            self.flagged.extend(cands);
            return self.finish(2);
        }
        self.flagged.extend(definite.iter().copied());
        let rest: Vec<usize> = cands
            .into_iter()
            .filter(|x| !definite.contains(x))
            .collect();
        self.singles(2, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_perfect(design: &Design, truth: &[bool]) -> (Decision, usize, usize) {
        let mut hist: Vec<Vec<bool>> = Vec::new();
        let mut tests = 0;
        loop {
            let d = next_stage(design, truth.len(), &hist).unwrap();
            if d.complete {
                return (d, tests, hist.len());
            }
            tests += d.retest_tubes.len();
            hist.push(
                d.retest_tubes
                    .iter()
                    .map(|t| t.iter().any(|&i| truth[i]))
                    .collect(),
            );
        }
    }

    #[test]
    fn dorfman_negative_pool_clears_everyone_in_one_test() {
        let d = Design::Dorfman { pool: 20 };
        let first = next_stage(&d, 20, &[]).unwrap();
        assert_eq!(first.retest_tubes, vec![(0..20).collect::<Vec<_>>()]);
        let done = next_stage(&d, 20, &[vec![false]]).unwrap();
        assert!(done.complete);
        assert_eq!(done.cleared.len(), 20);
        assert!(next_stage(&d, 20, &[vec![false], vec![true]]).is_err());
    }

    #[test]
    fn pool_code_finds_single_positive_in_six_tubes() {
        let d = Design::PoolCode {
            pool: 20,
            third_round: true,
        };
        let r2 = next_stage(&d, 20, &[vec![true]]).unwrap();
        assert_eq!(r2.retest_tubes.len(), 6);
        assert!(r2.retest_tubes.iter().all(|t| t.len() == 10));
        for pos in 0..20 {
            let mut truth = vec![false; 20];
            truth[pos] = true;
            let (dec, tests, rounds) = run_perfect(&d, &truth);
            assert_eq!(dec.flagged, vec![pos]);
            assert_eq!(tests, 7);
            assert_eq!(rounds, 2);
        }
    }

    #[test]
    fn pool_code_resolves_two_positives_with_a_third_round() {
        let d = Design::PoolCode {
            pool: 20,
            third_round: true,
        };
        for a in 0..20 {
            for b in a + 1..20 {
                let mut truth = vec![false; 20];
                truth[a] = true;
                truth[b] = true;
                let (dec, _, rounds) = run_perfect(&d, &truth);
                assert_eq!(dec.flagged, vec![a, b]);
                assert_eq!(rounds, 3);
            }
        }
    }

    #[test]
    fn array_and_hypercube_find_positives() {
        let designs = [
            Design::Array {
                rows: 4,
                cols: 5,
                master_pool: false,
            },
            Design::Array {
                rows: 4,
                cols: 5,
                master_pool: true,
            },
            Design::Hypercube { side: 3, dims: 2 },
            Design::Hierarchical3 {
                pool: 20,
                sub_pools: 3,
                singles: 2,
            },
        ];
        for d in designs {
            let n = d.block_size();
            for a in 0..n {
                let mut truth = vec![false; n];
                truth[a] = true;
                truth[(a * 7 + 3) % n] = true;
                let (dec, _, _) = run_perfect(&d, &truth);
                let want: Vec<usize> = (0..n).filter(|&i| truth[i]).collect();
                assert_eq!(dec.flagged, want, "{}", d.label());
                assert_eq!(dec.cleared.len() + dec.flagged.len(), n);
            }
        }
    }

    #[test]
    fn partial_blocks_decode() {
        let d = Design::Array {
            rows: 5,
            cols: 5,
            master_pool: false,
        };
        let mut truth = vec![false; 12];
        truth[11] = true;
        let (dec, _, _) = run_perfect(&d, &truth);
        assert_eq!(dec.flagged, vec![11]);
        assert!(next_stage(&d, 26, &[]).is_err());
    }

    #[test]
    fn mismatched_results_are_refused() {
        let d = Design::Dorfman { pool: 5 };
        let e = next_stage(&d, 5, &[vec![true], vec![true]]).unwrap_err();
        assert!(matches!(
            e,
            PoolingError::ResultCountMismatch { round: 1, .. }
        ));
    }

    #[test]
    fn savings_counts_tubes() {
        let d = Design::Dorfman { pool: 20 };
        let s = block_savings(&d, 20, &[vec![false]]).unwrap();
        assert_eq!(s.tests_saved, 19);
        assert_eq!(tests_saved(6799, 360).tests_saved, 6439);
    }
}
