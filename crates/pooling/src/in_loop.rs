//! The planner in the loop of the next round: the positivity of the last
//! rounds of the same areas gives a prevalence, and the proposal for the
//! new round is set beside the fixed 20:1 rule, so command opens a round
//! with its figures in view instead of the habit. Pure: the server passes
//! the observed rounds and stores the answer with the round.

use serde::{Deserialize, Serialize};

use crate::designs::Design;
use crate::error::{Result, invalid};
use crate::plan::{DesignEvaluation, PlanRequest, plan, score_design};

/// First-round tubes of one earlier round: how many, how big, how many non-negative.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObservedRound {
    /// People per first-round tube (1 for single tubes).
    pub pool_size: u32,
    /// First-round tubes resulted.
    pub tubes: u64,
    /// Of them, non-negative.
    pub positive_tubes: u64,
}

/// Prevalence read off earlier rounds (maximum likelihood under the
/// pooled-test model, with the assay's Se and Sp).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceEstimate {
    /// Maximum-likelihood prevalence (at least [`PREVALENCE_FLOOR`]).
    pub prevalence: f64,
    /// Upper end of the 95 % likelihood interval.
    pub upper_95: f64,
    /// People behind the estimate.
    pub people: u64,
}

/// Lowest prevalence planned for: rounds with no positive say "rare", not "never".
pub const PREVALENCE_FLOOR: f64 = 1e-5;

fn pool_positive(p: f64, k: u32, se: f64, sp: f64) -> f64 {
    let none = (1.0 - p).powi(k as i32);
    (se * (1.0 - none) + (1.0 - sp) * none).clamp(1e-300, 1.0 - 1e-16)
}

fn log_likelihood(p: f64, obs: &[ObservedRound], se: f64, sp: f64) -> f64 {
    obs.iter()
        .map(|o| {
            let pi = pool_positive(p, o.pool_size, se, sp);
            o.positive_tubes as f64 * pi.ln() + (o.tubes - o.positive_tubes) as f64 * (-pi).ln_1p()
        })
        .sum()
}

/// Estimates prevalence from earlier rounds' first-round tubes; `None`
/// when nothing was resulted.
pub fn estimate_prevalence(
    observed: &[ObservedRound],
    se: f64,
    sp: f64,
) -> Result<Option<PrevalenceEstimate>> {
    for o in observed {
        if o.pool_size == 0 {
            return Err(invalid("pool_size", "must be at least 1"));
        }
        if o.positive_tubes > o.tubes {
            return Err(invalid(
                "positive_tubes",
                format!("{} positive of {} tubes", o.positive_tubes, o.tubes),
            ));
        }
    }
    let obs: Vec<ObservedRound> = observed.iter().copied().filter(|o| o.tubes > 0).collect();
    if obs.is_empty() {
        return Ok(None);
    }
    // the log-likelihood is unimodal in p: golden-section search on log p
    let (lo, hi) = (PREVALENCE_FLOOR.ln(), 0.5f64.ln());
    let f = |x: f64| log_likelihood(x.exp(), &obs, se, sp);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    for _ in 0..200 {
        let c = b - g * (b - a);
        let d = a + g * (b - a);
        if f(c) >= f(d) {
            b = d;
        } else {
            a = c;
        }
    }
    let best = if f(lo) >= f((a + b) / 2.0) {
        lo
    } else {
        (a + b) / 2.0
    };
    let top = f(best);
    // 95 % likelihood interval: drop of χ²₁(0.95)/2 = 1.92 from the top
    let (mut u0, mut u1) = (best, hi);
    if f(hi) >= top - 1.92 {
        u0 = hi;
    } else {
        for _ in 0..200 {
            let m = (u0 + u1) / 2.0;
            if f(m) >= top - 1.92 {
                u0 = m;
            } else {
                u1 = m;
            }
        }
    }
    Ok(Some(PrevalenceEstimate {
        prevalence: if best <= lo {
            PREVALENCE_FLOOR
        } else {
            best.exp().max(PREVALENCE_FLOOR)
        },
        upper_95: u0.exp(),
        people: obs.iter().map(|o| o.tubes * o.pool_size as u64).sum(),
    }))
}

/// The proposal for a new round beside the fixed 20:1 rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundProposal {
    /// Prevalence planned for, and where it came from.
    pub prevalence: f64,
    /// The estimate from earlier rounds, if any were resulted.
    pub estimate: Option<PrevalenceEstimate>,
    /// The planner's design for the round.
    pub proposed: DesignEvaluation,
    /// Dorfman 20:1 for the same people, the fixed rule.
    pub fixed_rule: DesignEvaluation,
    /// Expected tubes after round 1 (retests) of the proposal.
    pub proposed_retests: f64,
    /// Expected retest tubes under the fixed rule.
    pub fixed_rule_retests: f64,
    /// Expected tubes the proposal saves against the rule (negative: costs more).
    pub tests_saved: f64,
    /// Expected hours to all-clear the proposal saves against the rule.
    pub hours_saved: f64,
}

fn retests(e: &DesignEvaluation) -> f64 {
    e.screening_tests
        - e.characteristics
            .tests_by_round
            .first()
            .copied()
            .unwrap_or(0.0)
}

/// Plans the next round of `base.people` people: prevalence from
/// `observed` when it holds any result (else `base.prevalence`), the
/// labs' capacity and every other setting from `base`.
pub fn propose_round(base: &PlanRequest, observed: &[ObservedRound]) -> Result<RoundProposal> {
    let estimate = estimate_prevalence(observed, base.se, base.sp)?;
    let prevalence = estimate.map_or(base.prevalence, |e| e.prevalence);
    let req = PlanRequest {
        prevalence,
        ..base.clone()
    };
    let proposed = plan(&req)?.recommended;
    let fixed_rule = score_design(&req, &Design::Dorfman { pool: 20 })?;
    Ok(RoundProposal {
        prevalence,
        estimate,
        proposed_retests: retests(&proposed),
        fixed_rule_retests: retests(&fixed_rule),
        tests_saved: fixed_rule.total_expected_tests - proposed.total_expected_tests,
        hours_saved: fixed_rule.hours.total - proposed.hours.total,
        proposed,
        fixed_rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_the_prevalence_of_its_data() {
        // 5,000 tubes of 20 at p = 0.2 %, Se 0.99, Sp 0.999: expected positives
        let (p, se, sp) = (0.002, 0.99, 0.999);
        let pi = pool_positive(p, 20, se, sp);
        let obs = [ObservedRound {
            pool_size: 20,
            tubes: 5000,
            positive_tubes: (5000.0 * pi).round() as u64,
        }];
        let e = estimate_prevalence(&obs, se, sp).unwrap().unwrap();
        assert!((e.prevalence - p).abs() < 0.0001, "{e:?}");
        assert!(e.upper_95 > e.prevalence);
        assert_eq!(e.people, 100_000);
    }

    #[test]
    fn no_positive_is_rare_not_never() {
        let obs = [ObservedRound {
            pool_size: 20,
            tubes: 340,
            positive_tubes: 0,
        }];
        let e = estimate_prevalence(&obs, 1.0, 1.0).unwrap().unwrap();
        assert_eq!(e.prevalence, PREVALENCE_FLOOR);
        // about 3 / 6,800 people: the rule of three
        assert!(e.upper_95 > 2e-4 && e.upper_95 < 6e-4, "{e:?}");
        assert!(estimate_prevalence(&[], 1.0, 1.0).unwrap().is_none());
        let bad = ObservedRound {
            pool_size: 20,
            tubes: 3,
            positive_tubes: 4,
        };
        assert!(estimate_prevalence(&[bad], 1.0, 1.0).is_err());
    }

    #[test]
    fn proposal_sits_beside_the_fixed_rule() {
        let base = PlanRequest {
            people: 6799,
            mc_trials: 500,
            ..PlanRequest::default()
        };
        let pi = pool_positive(0.001, 20, base.se, base.sp);
        let obs = [ObservedRound {
            pool_size: 20,
            tubes: 10_000,
            positive_tubes: (10_000.0 * pi).round() as u64,
        }];
        let r = propose_round(&base, &obs).unwrap();
        assert!((r.prevalence - 0.001).abs() < 0.0002, "{}", r.prevalence);
        assert_eq!(r.fixed_rule.design, Design::Dorfman { pool: 20 });
        assert!(r.proposed.feasible);
        assert!(r.tests_saved >= 0.0, "{r:?}");
        assert!(r.proposed_retests > 0.0 && r.fixed_rule_retests > 0.0);
    }
}
