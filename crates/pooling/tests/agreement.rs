//! Exact formulas and the Monte Carlo simulator (which drives the real
//! decoder) must agree wherever both exist.

use gridsweep_pooling::{Accuracy, Design, Dilution, McConfig, exact_characteristics, simulate};

fn close(a: f64, b: f64, abs: f64, rel: f64) -> bool {
    (a - b).abs() <= abs + rel * b.abs()
}

#[test]
fn exact_and_monte_carlo_agree() {
    let designs = [
        Design::Individual,
        Design::Dorfman { pool: 8 },
        Design::Hierarchical3 {
            pool: 12,
            sub_pools: 2,
            singles: 2,
        },
        Design::Array {
            rows: 4,
            cols: 5,
            master_pool: false,
        },
        Design::Array {
            rows: 4,
            cols: 4,
            master_pool: true,
        },
    ];
    let accs = [
        Accuracy::perfect(),
        Accuracy {
            se: vec![0.9, 0.95, 0.97],
            sp: vec![0.96, 0.98, 0.99],
            dilution: Dilution::LogLinear {
                loss_per_doubling: 0.02,
            },
        },
    ];
    let mc = McConfig {
        trials: 12_000,
        seed: 42,
    };
    for p in [0.02, 0.08] {
        for acc in &accs {
            for d in &designs {
                let ex = exact_characteristics(d, p, acc).unwrap().unwrap();
                let sim = simulate(d, p, acc, &mc).unwrap();
                let ctx = format!("{} p={p} acc={:?}", d.label(), acc.se);
                assert!(
                    close(sim.tests_per_block, ex.tests_per_block, 0.02, 0.02),
                    "tests {ctx}: mc {} exact {}",
                    sim.tests_per_block,
                    ex.tests_per_block
                );
                for (r, (a, b)) in sim
                    .tests_by_round
                    .iter()
                    .zip(&ex.tests_by_round)
                    .enumerate()
                {
                    assert!(
                        close(*a, *b, 0.02, 0.03),
                        "round {r} tests {ctx}: mc {a} exact {b}"
                    );
                }
                assert!(
                    close(sim.sensitivity, ex.sensitivity, 0.015, 0.0),
                    "Se {ctx}: mc {} exact {}",
                    sim.sensitivity,
                    ex.sensitivity
                );
                assert!(
                    close(sim.specificity, ex.specificity, 0.003, 0.0),
                    "Sp {ctx}: mc {} exact {}",
                    sim.specificity,
                    ex.specificity
                );
                let exact_rounds = matches!(
                    d,
                    Design::Individual | Design::Dorfman { .. } | Design::Hierarchical3 { .. }
                ) || acc.se[0] == 1.0;
                if exact_rounds {
                    for (a, b) in sim.round_probabilities.iter().zip(&ex.round_probabilities) {
                        assert!(
                            close(*a, *b, 0.01, 0.02),
                            "round prob {ctx}: mc {a} exact {b}"
                        );
                    }
                }
            }
        }
    }
}
