//! Pooled-testing maths for gridsweep: designs, their operating
//! characteristics, the optimiser, the decoder and the plan the CLI prints.
//!
//! Pure library: no I/O, no clock, no printing except the `render_*`
//! functions, which return `String`s.
//!
//! * [`designs`] — individual, Dorfman D2, hierarchical D3, arrays A2/A2M,
//!   hypercube, non-adaptive COMP/DD/SCOMP, and our "pool + code" design.
//! * [`characteristics`](mod@characteristics) — exact formulas (Kim et al. 2007) and dispatch to
//!   [`montecarlo`] where none exist.
//! * [`decode`] — `next_stage`: cleared / retest tubes / flagged.
//! * [`optimise`] — best design under pool cap, rounds, accuracy, deadline.
//! * [`plan`](mod@plan) — the `gridsweep plan` request/response, the note table and
//!   the 6·13 planning check.
//! * [`population`] — pricing for the exact population at hand.
//! * [`exact_code`] — exact figures of the code designs by enumeration.
//! * [`in_loop`] — the next round's proposal from earlier rounds' positivity.
//!
//! The response engine's call when a 20:1 pool comes back non-negative:
//!
//! ```
//! use gridsweep_pooling::{Design, next_stage};
//! let design = Design::PoolCode { pool: 20, third_round: true };
//! // round 1 was the pool of 20, and it read positive
//! let d = next_stage(&design, 20, &[vec![true]]).unwrap();
//! assert_eq!(d.retest_tubes.len(), 6); // six sub-pools of 10 instead of 20 single tubes
//! // the sub-pools holding codeword bits {0, 1, 2} came back positive: member 0
//! let r2 = vec![true, true, true, false, false, false];
//! let done = next_stage(&design, 20, &[vec![true], r2]).unwrap();
//! assert!(done.complete);
//! assert_eq!(done.flagged, vec![0]);
//! assert_eq!(done.cleared.len(), 19);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accuracy;
pub mod characteristics;
pub mod decode;
pub mod designs;
pub mod error;
pub mod exact_code;
pub mod in_loop;
pub mod montecarlo;
pub mod optimise;
pub mod plan;
pub mod population;

pub use accuracy::{Accuracy, Dilution, binary_entropy};
pub use characteristics::{Characteristics, Method, characteristics, exact_characteristics};
pub use decode::{Decision, Savings, block_savings, next_stage, tests_saved};
pub use designs::{Decoder, Design, Family};
pub use error::PoolingError;
pub use montecarlo::{BlockSimulation, McConfig, SplitMix64, simulate, simulate_blocks};
pub use optimise::{Constraints, Evaluator, HoursBreakdown, Objective, Resources};
pub use plan::{
    DesignEvaluation, DrillCheck, NoteRow, Plan, PlanRequest, drill_613, note_table, plan,
    render_design_text, render_drill_text, render_groups, render_note_table, render_plan_text,
    score_design,
};
