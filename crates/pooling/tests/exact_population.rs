//! Issue 16: designs priced for the exact population, exact figures where
//! simulation used to decide, confirmations charged, unequal D3 sub-pools,
//! and recommendations that do not depend on the seed.

use gridsweep_pooling::optimise::{Evaluator, candidates};
use gridsweep_pooling::population::dorfman_partition_optimum;
use gridsweep_pooling::{
    Accuracy, Design, Family, McConfig, Method, PlanRequest, exact_characteristics, plan, simulate,
};
use proptest::prelude::*;

/// Every multiset of pool sizes summing to `n` (n small), cheapest by
/// the Dorfman cost with perfect tests: the reference of the reference.
fn brute_force_partition(n: usize, p: f64, cap: usize) -> f64 {
    fn go(n: usize, largest: usize, cost: &dyn Fn(usize) -> f64) -> f64 {
        if n == 0 {
            return 0.0;
        }
        (1..=largest.min(n))
            .map(|s| cost(s) + go(n - s, s, cost))
            .fold(f64::INFINITY, f64::min)
    }
    let q = 1.0 - p;
    let cost = move |s: usize| {
        if s == 1 {
            1.0
        } else {
            1.0 + s as f64 * (1.0 - q.powi(s as i32))
        }
    };
    go(n, cap, &cost)
}

/// The planner's cheapest Dorfman-family total (1:1 included) for `n`.
fn planner_dorfman_total(n: u64, p: f64, cap: u32) -> f64 {
    let mut ev = Evaluator::new(p, Accuracy::perfect(), McConfig::default());
    candidates(Some(cap), p, n)
        .into_iter()
        .filter(|d| matches!(d.family(), Family::Dorfman | Family::Individual))
        .map(|d| ev.price(&d, n).unwrap().overall.tests_per_block)
        .fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The dynamic programme is the optimum over every cut.
    #[test]
    fn dp_is_the_brute_force_optimum(n in 1usize..=14, p in 0.001f64..0.4, cap in 1usize..=14) {
        let (dp, cut) = dorfman_partition_optimum(n, p, cap);
        let bf = brute_force_partition(n, p, cap);
        prop_assert!((dp - bf).abs() < 1e-9, "n={n} p={p} cap={cap}: dp {dp} bf {bf}");
        prop_assert_eq!(cut.iter().map(|(s, c)| s * c).sum::<usize>(), n);
        prop_assert!(cut.iter().all(|&(s, _)| s <= cap.max(1)));
    }

    /// No price for the exact population beats the exact optimum, and no
    /// pool is larger than the people or the cap.
    #[test]
    fn exact_n_never_beats_the_exact_optimum(n in 1u64..=120, p in 0.0005f64..0.3, cap in 1u32..=150) {
        let planner = planner_dorfman_total(n, p, cap);
        let (opt, _) = dorfman_partition_optimum(n as usize, p, cap as usize);
        prop_assert!(planner >= opt - 1e-9 * opt, "n={n} p={p} cap={cap}: planner {planner} < optimum {opt}");
        for d in candidates(Some(cap), p, n) {
            prop_assert!(d.largest_pool() as u64 <= n.max(1) && d.largest_pool() <= cap.max(1) as usize, "{}", d.label());
        }
    }
}

/// The issue's cells: the planner's Dorfman equals the exact optimum.
#[test]
fn exact_n_meets_the_optimum_in_the_issue_cells() {
    for (n, p) in [(100u64, 0.001), (1000, 0.01), (10_000, 0.001)] {
        let planner = planner_dorfman_total(n, p, n as u32);
        let (opt, _) = dorfman_partition_optimum(n as usize, p, n as usize);
        assert!(
            (planner - opt).abs() <= 1e-9 * opt,
            "n={n} p={p}: {planner} vs {opt}"
        );
    }
    // 100 people at 0.1 %: the cut is 34 + 33 + 33, priced as such
    let mut ev = Evaluator::new(0.001, Accuracy::perfect(), McConfig::default());
    let priced = ev.price(&Design::Dorfman { pool: 34 }, 100).unwrap();
    let labels: Vec<(u64, String)> = priced
        .groups
        .iter()
        .map(|g| (g.count, g.label.clone()))
        .collect();
    assert_eq!(
        labels,
        vec![(1, "D2(34)".to_string()), (2, "D2(33)".to_string())]
    );
}

/// A plan for 100 people proposes no pool larger than 100, and a cap far
/// above the people is the people.
#[test]
fn plans_never_propose_pools_larger_than_the_people() {
    let pl = plan(&PlanRequest {
        people: 100,
        max_pool: None,
        max_rounds: 3,
        mc_trials: 500,
        ..PlanRequest::default()
    })
    .unwrap();
    for e in &pl.designs {
        assert!(e.design.largest_pool() <= 100, "{}", e.label);
        for g in &e.block_groups {
            assert!(g.members <= 100);
        }
    }
    let big_cap = plan(&PlanRequest {
        people: 1000,
        max_pool: Some(100_000),
        mc_trials: 500,
        ..PlanRequest::default()
    })
    .unwrap();
    assert_eq!(
        big_cap.dorfman_at_cap.design,
        Design::Dorfman { pool: 1000 }
    );
}

/// binGroup2 `OTC1(algorithm = "D3", p = 0.01, Se = 1, Sp = 1, group.sz = 3:10)`:
/// 10|4,3,3 at 0.1623 expected tests per person, chosen by the planner.
#[test]
fn planner_finds_bingroup2_d3() {
    let pl = plan(&PlanRequest {
        people: 1000,
        prevalence: 0.01,
        max_pool: Some(10),
        max_rounds: 3,
        se: 1.0,
        sp: 1.0,
        confirm_flagged: false,
        mc_trials: 500,
        ..PlanRequest::default()
    })
    .unwrap();
    let d3 = pl
        .designs
        .iter()
        .find(|e| e.family == Family::Hierarchical3)
        .unwrap();
    assert_eq!(d3.label, "D3(10|4,3,3)");
    let per_person = d3.total_expected_tests / 1000.0;
    assert_eq!((per_person * 1e4).round() / 1e4, 0.1623);
    // equal sub-pools cost more: 10|5,5 and 10|4,4,2 (as 4,4,1,1 would be) are worse
    for d in [
        Design::Hierarchical3 {
            pool: 10,
            sub_pools: 2,
            singles: 0,
        },
        Design::Hierarchical3 {
            pool: 10,
            sub_pools: 5,
            singles: 0,
        },
    ] {
        let c = exact_characteristics(&d, 0.01, &Accuracy::perfect())
            .unwrap()
            .unwrap();
        assert!(c.tests_per_person > per_person, "{}", d.label());
    }
}

/// Closed forms for pool + code and the hypercube agree with the
/// simulator (which drives the real decoder) within four standard errors.
#[test]
fn code_designs_exact_agree_with_monte_carlo() {
    let designs = [
        Design::PoolCode {
            pool: 20,
            third_round: false,
        },
        Design::PoolCode {
            pool: 20,
            third_round: true,
        },
        Design::PoolCode {
            pool: 32,
            third_round: true,
        },
        Design::Hypercube { side: 3, dims: 3 },
        Design::NonAdaptive {
            items: 16,
            tests: 8,
            tests_per_item: 2,
            decoder: gridsweep_pooling::Decoder::Scomp,
        },
    ];
    let mc = McConfig {
        trials: 40_000,
        seed: 99,
    };
    for p in [0.001, 0.02] {
        for acc in [Accuracy::perfect(), Accuracy::uniform(0.99, 0.99)] {
            for d in &designs {
                let ex = exact_characteristics(d, p, &acc).unwrap().unwrap();
                assert_eq!(ex.method, Method::Exact);
                let sim = simulate(d, p, &acc, &mc).unwrap();
                let Method::MonteCarlo { std_error, .. } = sim.method else {
                    panic!("simulate is Monte Carlo")
                };
                let diff = (sim.tests_per_person - ex.tests_per_person).abs();
                assert!(
                    diff <= 4.0 * std_error + 1e-12,
                    "{} p={p} {:?}: exact {} mc {} ± {std_error}",
                    d.label(),
                    acc.se,
                    ex.tests_per_person,
                    sim.tests_per_person
                );
                assert!(
                    (sim.sensitivity - ex.sensitivity).abs() < 0.01,
                    "{} Se {} vs {}",
                    d.label(),
                    sim.sensitivity,
                    ex.sensitivity
                );
                assert!(
                    (sim.specificity - ex.specificity).abs() < 0.001,
                    "{} Sp {} vs {}",
                    d.label(),
                    sim.specificity,
                    ex.specificity
                );
            }
        }
    }
}

/// The issue's figure: PC2(20) at p = 0.1 %, Se = Sp = 0.99 is 0.05882
/// tests per person exactly (the simulator said 0.05817).
#[test]
fn pc2_of_twenty_exact_figure() {
    let c = exact_characteristics(
        &Design::PoolCode {
            pool: 20,
            third_round: false,
        },
        0.001,
        &Accuracy::uniform(0.99, 0.99),
    )
    .unwrap()
    .unwrap();
    assert_eq!((c.tests_per_person * 1e5).round() / 1e5, 0.05882);
}

/// Different seeds, same recommendation (capped and uncapped).
#[test]
fn recommendation_does_not_depend_on_the_seed() {
    for (cap, p) in [(Some(20), 0.001), (None, 0.001), (None, 0.0001)] {
        let labels: Vec<String> = [1u64, 2, 3, 0x0613_2022]
            .into_iter()
            .map(|seed| {
                plan(&PlanRequest {
                    people: 10_000,
                    prevalence: p,
                    max_pool: cap,
                    max_rounds: 3,
                    mc_trials: 2000,
                    seed,
                    ..PlanRequest::default()
                })
                .unwrap()
                .recommended
                .label
            })
            .collect();
        assert!(
            labels.windows(2).all(|w| w[0] == w[1]),
            "{cap:?} {p}: {labels:?}"
        );
    }
}

/// Confirmation tubes are part of the cost: a design that flags many
/// negatives is charged for them, and the accuracy floor holds.
#[test]
fn confirmations_are_charged() {
    let req = PlanRequest {
        people: 10_000,
        prevalence: 0.001,
        max_pool: None,
        mc_trials: 1000,
        ..PlanRequest::default()
    };
    let pl = plan(&req).unwrap();
    let r = &pl.recommended;
    assert!(r.confirmation_tests > 0.0);
    assert!(
        (r.total_expected_tests - r.screening_tests - r.confirmation_tests).abs() < 1e-6,
        "{r:?}"
    );
    assert!(r.characteristics.specificity >= req.min_specificity - 1e-9);
    let free = plan(&PlanRequest {
        confirm_flagged: false,
        ..req
    })
    .unwrap();
    assert!(
        (free.recommended.total_expected_tests - free.recommended.screening_tests).abs() < 1e-9
    );
}
