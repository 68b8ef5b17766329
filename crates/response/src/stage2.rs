//! The stage after a non-negative pool: which design resolves its
//! members, and how the decoder's answer becomes retest tubes.
//!
//! The 6·13 practice is Dorfman (D2): every member of the pool in a single
//! tube. The playbook may instead name the project's pool + code design
//! (PC2/PC3), which puts the members of a 20:1 pool into 6 tubes of 10 and
//! reads a single positive off them, with a third round of single tubes
//! only for the rare ambiguous pool. Either way the tubes come from
//! [`gridsweep_pooling::next_stage`], so what the response engine asks the
//! grid to sample is exactly what the decoder will read back.

use gridsweep_domain::PersonId;
use gridsweep_domain::pipeline::POOL_SIZES;
use gridsweep_pooling::{Decision, Design, PoolingError, next_stage};
use serde::{Deserialize, Serialize};

/// Which design resolves a non-negative pool's members (the playbook's
/// `[stage2]` table). Districts choose: single tubes need no explaining on
/// the ground; the code design needs a third of the tubes when positives
/// are rare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "design", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stage2 {
    /// Dorfman D2: every member in a single tube (what 6·13 did).
    #[default]
    Dorfman,
    /// Pool + code: the members in a constant-weight code (a pool of 20 →
    /// 6 tubes of 10, each person in 3); one positive is read off the
    /// tubes that light up. An ambiguous pool gets single tubes for its
    /// candidates in a third round (`third_round = true`, PC3), or its
    /// candidates are flagged straight for single-tube confirmation (PC2).
    PoolCode {
        /// Whether ambiguous pools get a third, single-tube round.
        #[serde(default = "yes")]
        third_round: bool,
    },
}

fn yes() -> bool {
    true
}

/// Members in the largest pool a round may use: the bound the retest
/// round's tube size is computed over.
const LARGEST_POOL: usize = 20;

impl Stage2 {
    /// The decoder's design for a pool of `members` people. Round 0 of
    /// every offered design is the pool itself, so the caller passes the
    /// non-negative pool as `[vec![true]]`.
    pub fn design_for(&self, members: usize) -> Design {
        // A design needs room for two; a one-person pool decodes the same
        // (its member is flagged for a single tube).
        let pool = members.max(2) as u32;
        match *self {
            Stage2::Dorfman => Design::Dorfman { pool },
            Stage2::PoolCode { third_round } => Design::PoolCode { pool, third_round },
        }
    }

    /// Whether the stage after the pool is anything but single tubes: only
    /// then is there a block for the engine to keep and replay.
    pub fn decodes(&self) -> bool {
        !matches!(self, Stage2::Dorfman)
    }

    /// Short name for timelines and documents, e.g. `D2`, `PC3`.
    pub fn label(&self) -> &'static str {
        match self {
            Stage2::Dorfman => "D2",
            Stage2::PoolCode { third_round: true } => "PC3",
            Stage2::PoolCode { third_round: false } => "PC2",
        }
    }

    /// Persons per tube of the incident's retest round: the smallest pool
    /// size a round may have that holds every tube this design asks for
    /// after any pool of up to 20. 1 for Dorfman (single tubes, as on
    /// 6·13); 10 for pool + code.
    pub fn retest_pool_size(&self) -> u32 {
        let largest = (1..=LARGEST_POOL)
            .filter_map(|n| next_stage(&self.design_for(n), n, &[vec![true]]).ok())
            .flat_map(|d| d.retest_tubes.into_iter().map(|t| t.len()))
            .max()
            .unwrap_or(1);
        POOL_SIZES
            .iter()
            .copied()
            .find(|&p| p as usize >= largest)
            .unwrap_or(POOL_SIZES[POOL_SIZES.len() - 1])
    }

    /// The decision right after the pool of `members` came back
    /// non-negative: the stage-2 tubes (and, for a one-person pool, the
    /// member flagged for a single tube).
    pub fn after_pool(&self, members: usize) -> Result<Decision, PoolingError> {
        next_stage(&self.design_for(members), members, &[vec![true]])
    }
}

/// One non-negative pool being decoded: what the engine keeps so it can
/// replay the decoder as the later tubes come back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The decoder's design, fixed when the block was planned (a later
    /// change of playbook does not change how a block already sampled is read).
    pub design: Design,
    /// The members, in decoder order (the order they were scanned into the pool).
    pub members: Vec<PersonId>,
}

/// One round the decoder asked for after the pool: its tubes (member
/// indices) and each tube's result, if in.
pub type AskedRound = (Vec<Vec<usize>>, Vec<Option<bool>>);

/// The decoder replayed over the results at hand.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Where the block stands: who is cleared and flagged so far, and,
    /// unless complete, the tubes of the round still waiting for results.
    pub decision: Decision,
    /// Every round asked after the pool (index 0 = stage 2): its tubes
    /// (member indices) and each tube's result, if in.
    pub rounds: Vec<AskedRound>,
}

/// Replays the decoder over a block whose pool (round 0) was non-negative.
/// `result` answers for a tube (member indices): `Some(true)` non-negative,
/// `Some(false)` negative, `None` not resulted yet. A round is fed to the
/// decoder only once all its tubes are in, as the decoder needs.
pub fn replay(
    block: &Block,
    mut result: impl FnMut(&[usize]) -> Option<bool>,
) -> Result<Replay, PoolingError> {
    let n = block.members.len();
    let mut hist: Vec<Vec<bool>> = vec![vec![true]];
    let mut rounds = Vec::new();
    loop {
        let decision = next_stage(&block.design, n, &hist)?;
        if decision.complete {
            return Ok(Replay { decision, rounds });
        }
        let got: Vec<Option<bool>> = decision.retest_tubes.iter().map(|t| result(t)).collect();
        rounds.push((decision.retest_tubes.clone(), got.clone()));
        match got.into_iter().collect::<Option<Vec<bool>>>() {
            Some(all) => hist.push(all),
            None => return Ok(Replay { decision, rounds }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(stage: Stage2, n: usize) -> Block {
        Block {
            design: stage.design_for(n),
            members: (1..=n as i64).map(PersonId).collect(),
        }
    }

    /// Perfect tubes over a truth vector.
    fn truth(pos: &[usize]) -> impl Fn(&[usize]) -> Option<bool> + '_ {
        move |t: &[usize]| Some(t.iter().any(|i| pos.contains(i)))
    }

    #[test]
    fn retest_round_sizes() {
        assert_eq!(Stage2::Dorfman.retest_pool_size(), 1);
        assert_eq!(
            Stage2::PoolCode { third_round: true }.retest_pool_size(),
            10
        );
        assert_eq!(
            Stage2::PoolCode { third_round: false }.retest_pool_size(),
            10
        );
    }

    #[test]
    fn dorfman_asks_single_tubes_in_scan_order() {
        let d = Stage2::Dorfman.after_pool(20).unwrap();
        assert_eq!(d.retest_tubes, (0..20).map(|i| vec![i]).collect::<Vec<_>>());
        // A one-person pool: flagged for its single tube, nothing pooled.
        let d = Stage2::Dorfman.after_pool(1).unwrap();
        assert_eq!((d.flagged, d.retest_tubes.len()), (vec![0], 0));
    }

    #[test]
    fn pool_code_reads_one_positive_in_six_tubes() {
        let pc = Stage2::PoolCode { third_round: true };
        let d = pc.after_pool(20).unwrap();
        assert_eq!(d.retest_tubes.len(), 6);
        assert!(d.retest_tubes.iter().all(|t| t.len() == 10));
        let r = replay(&block(pc, 20), truth(&[13])).unwrap();
        assert!(r.decision.complete);
        assert_eq!(r.decision.flagged, vec![13]);
        assert_eq!(r.decision.cleared.len(), 19);
        assert_eq!(r.rounds.len(), 1);
    }

    #[test]
    fn replay_waits_for_a_whole_round_and_asks_a_third() {
        let pc = Stage2::PoolCode { third_round: true };
        let b = block(pc, 20);
        // Nothing back yet: stage 2 asked, nothing decided.
        let r = replay(&b, |_| None).unwrap();
        assert!(!r.decision.complete);
        assert_eq!(r.decision.round, 1);
        assert!(r.decision.cleared.is_empty());
        // Five of six back: still waiting, the five recorded.
        let mut seen = 0;
        let r = replay(&b, |t| {
            seen += 1;
            (seen != 3).then(|| t.contains(&2))
        })
        .unwrap();
        assert_eq!(r.decision.round, 1);
        assert_eq!(r.rounds[0].1.iter().filter(|x| x.is_some()).count(), 5);
        // Two positives (codewords 000111 and 001011): ambiguous, the four
        // codewords inside their union get single tubes in a third round.
        let r = replay(&b, |t| {
            if t.len() == 1 {
                None
            } else {
                Some(t.contains(&0) || t.contains(&1))
            }
        })
        .unwrap();
        assert_eq!(r.decision.round, 2);
        assert_eq!(
            r.decision.retest_tubes,
            vec![vec![0], vec![1], vec![2], vec![3]]
        );
        assert_eq!(r.decision.cleared.len(), 16);
        let r = replay(&b, truth(&[0, 1])).unwrap();
        assert_eq!(r.decision.flagged, vec![0, 1]);
        assert!(r.decision.complete);
        let tubes: usize = r.rounds.iter().map(|(t, _)| t.len()).sum();
        assert_eq!(tubes, 6 + 4);
        // PC2 flags the candidates for single-tube confirmation instead.
        let pc2 = block(Stage2::PoolCode { third_round: false }, 20);
        let r = replay(&pc2, truth(&[0, 1])).unwrap();
        assert!(r.decision.complete);
        assert_eq!(r.decision.flagged, vec![0, 1, 2, 3]);
        assert_eq!(r.rounds.len(), 1);
    }

    #[test]
    fn playbook_words() {
        #[derive(Deserialize)]
        struct W {
            stage2: Stage2,
        }
        let w: W = toml::from_str("[stage2]\ndesign = \"pool_code\"\n").unwrap();
        assert_eq!(w.stage2, Stage2::PoolCode { third_round: true });
        let w: W =
            toml::from_str("[stage2]\ndesign = \"pool_code\"\nthird_round = false\n").unwrap();
        assert_eq!(w.stage2.label(), "PC2");
        let w: W = toml::from_str("[stage2]\ndesign = \"dorfman\"\n").unwrap();
        assert_eq!(w.stage2, Stage2::Dorfman);
        assert!(toml::from_str::<W>("[stage2]\ndesign = \"hypercube\"\n").is_err());
        assert!(toml::from_str::<W>("[stage2]\ndesign = \"pool_code\"\nthird = true\n").is_err());
    }
}
