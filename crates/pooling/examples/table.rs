//! Prints the design note's table, the simulation figures of our 20:1
//! "pool + code" design, a sample plan and the 6·13 planning check.
//!
//! `cargo run --release -p gridsweep-pooling --example table`
//! (a debug build works too, just slower).

use gridsweep_pooling::montecarlo::simulate_blocks;
use gridsweep_pooling::{
    Accuracy, Design, McConfig, PlanRequest, binary_entropy, characteristics, drill_613,
    note_table, plan, render_drill_text, render_note_table, render_plan_text, simulate,
};

fn main() -> Result<(), gridsweep_pooling::PoolingError> {
    let mc = McConfig {
        trials: 20_000,
        ..McConfig::default()
    };
    println!("== Best design by expected tests (perfect tests; design may misclassify ≤ 0.1 %) ==");
    let rows = note_table(&Accuracy::perfect(), &mc, 0.999)?;
    print!("{}", render_note_table(&rows));

    println!();
    println!("== Our 20:1 design: pool of 20, then a 6-tube constant-weight code (6C3) ==");
    let d2 = Design::Dorfman { pool: 20 };
    for (name, acc) in [
        ("perfect tests", Accuracy::perfect()),
        ("Se = Sp = 0.99", Accuracy::uniform(0.99, 0.99)),
    ] {
        for p in [0.001, 0.0001] {
            for third_round in [false, true] {
                let pc = Design::PoolCode {
                    pool: 20,
                    third_round,
                };
                let c = characteristics(&pc, p, &acc, &mc)?;
                let sim_c = simulate(&pc, p, &acc, &mc)?;
                let base = characteristics(&d2, p, &acc, &mc)?;
                let blocks = 200_000;
                let sim = simulate_blocks(&pc, p, &acc, blocks, 0x6132)?;
                let dsim = simulate_blocks(&d2, p, &acc, blocks, 0x6132)?;
                println!(
                    "{name:<15} p = {:<6} {:<14} {:.5} tests/person = {:.3} × D2(20) ({:.5}); {:.4} × the 1/20 floor; {:.2} × H(p)",
                    p,
                    pc.label(),
                    c.tests_per_person,
                    c.tests_per_person / base.tests_per_person,
                    base.tests_per_person,
                    c.tests_per_person * 20.0,
                    c.tests_per_person / binary_entropy(p),
                );
                println!(
                    "    exact: Se {:.5} Sp {:.7}; stratified MC: {:.5} tests/person, Se {:.5} Sp {:.7}, exact recovery per pool {:.6} ({:?})",
                    c.sensitivity,
                    c.specificity,
                    sim_c.tests_per_person,
                    sim_c.sensitivity,
                    sim_c.specificity,
                    sim_c.exact_recovery.unwrap_or(f64::NAN),
                    sim_c.method
                );
                println!(
                    "    simulation of {} pools ({} people, {} positives, {} positive pools): {:.5} tests/person; exact recovery {:.5} of pools ({} / {}), {:.4} of positive pools ({} / {}); third round in {} pools; FN {} FP {}",
                    sim.blocks,
                    sim.people,
                    sim.positives,
                    sim.positive_blocks,
                    sim.tests_per_person,
                    sim.exact_recovery(),
                    sim.exact_blocks,
                    sim.blocks,
                    sim.exact_recovery_positive_blocks(),
                    sim.exact_positive_blocks,
                    sim.positive_blocks,
                    sim.blocks_needing_round.get(2).copied().unwrap_or(0),
                    sim.false_negatives,
                    sim.false_positives
                );
                println!(
                    "    same pools with D2(20): {:.5} tests/person, exact recovery {:.5} of pools, {:.4} of positive pools",
                    dsim.tests_per_person,
                    dsim.exact_recovery(),
                    dsim.exact_recovery_positive_blocks()
                );
            }
        }
    }

    println!();
    println!("== gridsweep plan --people 6799 --prevalence 0.001 --max-pool 20 --max-rounds 2 ==");
    print!("{}", render_plan_text(&plan(&PlanRequest::default())?));

    println!();
    print!("{}", render_drill_text(&drill_613()?));
    Ok(())
}
