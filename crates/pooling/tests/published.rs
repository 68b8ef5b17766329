//! Published values the maths must reproduce, and the targets of issue 7.

use gridsweep_pooling::optimise::candidates;
use gridsweep_pooling::{
    Accuracy, Design, Family, McConfig, PlanRequest, characteristics, drill_613,
    exact_characteristics, plan, simulate,
};

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// binGroup2 vignette (Hitt, Bilder, Tebbs et al.): `opChar1(algorithm = "D2",
/// p = 0.01, Se = 0.99, Sp = 0.99, hier.config = matrix(c(1,1,…), 10 people))`.
#[test]
fn bingroup2_dorfman_vignette() {
    let c = exact_characteristics(
        &Design::Dorfman { pool: 10 },
        0.01,
        &Accuracy::uniform(0.99, 0.99),
    )
    .unwrap()
    .unwrap();
    assert_eq!(round_to(c.tests_per_block, 4), 2.0371);
    assert_eq!(round_to(c.sensitivity, 4), 0.9801);
    assert_eq!(round_to(c.specificity, 5), 0.99905);
    assert_eq!(round_to(c.ppv, 4), 0.9127);
    assert_eq!(round_to(c.npv, 5), 0.99980);
    assert_eq!(c.max_rounds, 2);
}

/// binGroup2 `OTC1(algorithm = "D2", p = 0.05, Se = 0.99, Sp = 0.99,
/// group.sz = 2:100)`: optimal pool 5, 0.4317 expected tests per person.
#[test]
fn bingroup2_dorfman_optimum_at_five_percent() {
    let acc = Accuracy::uniform(0.99, 0.99);
    let (best, tpp) = candidates(Some(100), 0.05, 100_000)
        .into_iter()
        .filter(|d| d.family() == Family::Dorfman)
        .map(|d| {
            let c = exact_characteristics(&d, 0.05, &acc).unwrap().unwrap();
            (d, c.tests_per_person)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert_eq!(best, Design::Dorfman { pool: 5 });
    assert_eq!(round_to(tpp, 4), 0.4317);
}

/// Mutesa et al. (Nature 2020): with the optimal hypercube (L = 3) the cost
/// per person is ≈ e·p·ln(0.734/p). Checked within 10 % at the best D.
#[test]
fn mutesa_hypercube_cost() {
    let mc = McConfig {
        trials: 1500,
        seed: 11,
    };
    for p in [0.002f64, 0.01] {
        let best = (2..=7u32)
            .filter(|&d| 3f64.powi(d as i32) * p <= 2.0)
            .map(|dims| {
                characteristics(
                    &Design::Hypercube { side: 3, dims },
                    p,
                    &Accuracy::perfect(),
                    &mc,
                )
                .unwrap()
                .tests_per_person
            })
            .fold(f64::INFINITY, f64::min);
        let mutesa = std::f64::consts::E * p * (0.734 / p).ln();
        let rel = (best - mutesa).abs() / mutesa;
        assert!(
            rel < 0.10,
            "p={p}: hypercube {best:.5} vs Mutesa {mutesa:.5} ({rel:.3})"
        );
    }
}

/// Issue 7 target: our two-round 20:1 design costs ≤ 0.85 × Dorfman at 20
/// at p = 0.1 %, and recovers ≥ 99.9 % of pools exactly.
#[test]
fn pool_code_beats_dorfman_at_the_cap() {
    let mc = McConfig {
        trials: 4000,
        seed: 5,
    };
    let pc = Design::PoolCode {
        pool: 20,
        third_round: false,
    };
    for acc in [Accuracy::perfect(), Accuracy::uniform(0.99, 0.99)] {
        let ours = characteristics(&pc, 0.001, &acc, &mc).unwrap();
        let d2 = characteristics(&Design::Dorfman { pool: 20 }, 0.001, &acc, &mc).unwrap();
        assert!(
            ours.tests_per_person <= 0.85 * d2.tests_per_person,
            "{} vs {}",
            ours.tests_per_person,
            d2.tests_per_person
        );
    }
    let perfect = characteristics(&pc, 0.001, &Accuracy::perfect(), &mc).unwrap();
    // exact recovery is a per-block simulated figure
    let sim = simulate(&pc, 0.001, &Accuracy::perfect(), &mc).unwrap();
    assert!(sim.exact_recovery.unwrap() >= 0.999);
    assert!((perfect.sensitivity - 1.0).abs() < 1e-9);
    // at 0.01 % no design with pools ≤ 20 beats 1/20; we come within 2 %
    let low = characteristics(&pc, 0.0001, &Accuracy::perfect(), &mc).unwrap();
    assert!(low.tests_per_person >= 1.0 / 20.0);
    assert!(low.tests_per_person <= 1.02 / 20.0);
}

#[test]
fn default_plan_recommends_a_feasible_two_round_design() {
    let req = PlanRequest {
        mc_trials: 2000,
        ..PlanRequest::default()
    };
    let p = plan(&req).unwrap();
    assert!(p.recommended.feasible);
    assert!(p.recommended.characteristics.max_rounds <= 2);
    assert!(p.recommended.design.largest_pool() <= 20);
    assert_eq!(p.dorfman_at_cap.design, Design::Dorfman { pool: 20 });
    assert!(p.recommended.total_expected_tests <= p.dorfman_at_cap.total_expected_tests);
    assert!(p.recommended.total_expected_tests >= p.information_bound_tests);
    assert_eq!(p.designs.len(), Family::ALL.len());
    let text = gridsweep_pooling::render_plan_text(&p);
    for e in &p.designs {
        assert!(text.contains(&e.label), "{} missing", e.label);
    }
    let json = serde_json::to_string(&p).unwrap();
    let back: gridsweep_pooling::Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back.recommended.label, p.recommended.label);
    // a partial JSON request gets the documented defaults
    let r: PlanRequest = serde_json::from_str(r#"{"people": 100, "max_pool": null}"#).unwrap();
    assert_eq!(r.people, 100);
    assert_eq!(r.max_pool, None);
    assert_eq!(r.max_rounds, PlanRequest::default().max_rounds);
}

#[test]
fn hours_objective_and_deadline() {
    let base = PlanRequest {
        mc_trials: 1000,
        max_pool: Some(10),
        ..PlanRequest::default()
    };
    let fast = plan(&PlanRequest {
        objective: gridsweep_pooling::Objective::HoursToAllClear,
        ..base.clone()
    })
    .unwrap();
    let cheap = plan(&base).unwrap();
    assert!(fast.recommended.hours.total <= cheap.recommended.hours.total + 1e-9);
    let impossible = plan(&PlanRequest {
        deadline_hours: Some(1.0),
        ..base
    })
    .unwrap();
    assert!(!impossible.deadline_met);
}

#[test]
fn one_round_or_single_tube_caps_fall_back_sensibly() {
    let one_round = plan(&PlanRequest {
        max_rounds: 1,
        mc_trials: 500,
        ..PlanRequest::default()
    })
    .unwrap();
    assert_eq!(one_round.recommended.characteristics.max_rounds, 1);
    let cap_one = plan(&PlanRequest {
        max_pool: Some(1),
        mc_trials: 500,
        ..PlanRequest::default()
    })
    .unwrap();
    assert_eq!(cap_one.recommended.design, Design::Individual);
}

#[test]
fn bad_requests_name_the_field() {
    for (req, field) in [
        (
            PlanRequest {
                prevalence: 0.0,
                ..PlanRequest::default()
            },
            "prevalence",
        ),
        (
            PlanRequest {
                people: 0,
                ..PlanRequest::default()
            },
            "people",
        ),
        (
            PlanRequest {
                se: 1.5,
                ..PlanRequest::default()
            },
            "se",
        ),
        (
            PlanRequest {
                samplers: 0,
                ..PlanRequest::default()
            },
            "samplers",
        ),
    ] {
        let e = plan(&req).unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
    }
}

/// The 6·13 day: the documented resource model predicts alert → all-clear
/// close to the 13 h 50 m it took when every first-round tube is negative.
#[test]
fn drill_613_planning_check() {
    let d = drill_613().unwrap();
    assert!((d.actual_hours - (13.0 + 50.0 / 60.0)).abs() < 1e-9);
    let rel = (d.predicted_hours_all_negative - d.actual_hours).abs() / d.actual_hours;
    assert!(rel < 0.15, "predicted {} h", d.predicted_hours_all_negative);
    assert!(d.predicted_hours_expected >= d.predicted_hours_all_negative);
    assert_eq!(d.hours.bottleneck, "sampling");
    // doubling samplers must help a sampling-bound day
    assert!(
        d.what_if
            .iter()
            .any(|(_, neg, _)| *neg < d.predicted_hours_all_negative - 1.0)
    );
}
