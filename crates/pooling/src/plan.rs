//! The plan the CLI prints (`gridsweep plan`), the table for the design
//! note, and the 6·13 planning check.
//!
//! # Resource model (see [`crate::optimise::hours_to_all_clear`])
//! Hours to all-clear = mobilisation + round 1 (sampling or lab loading,
//! whichever is slower, + the last transport batch + lab turnaround) +
//! expected later rounds (re-collection, transport, turnaround, loading) +
//! the decision. Total expected tests are priced for the exact population
//! ([`crate::population`]): the people are cut into blocks as evenly as the
//! cap allows, each priced for its own size, and one confirmation tube per
//! flagged person is added unless `confirm_flagged` is off.
//!
//! # The 6·13 day ([`drill_613`])
//! Facts from the district report: alert 03:04, sampling teams in place
//! 04:00 (mobilisation 56 min), sampling finished 12:00 (8 h), 6,799 people
//! in 20:1 tubes, all results negative in the afternoon, controls lifted
//! 16:54 (13 h 50 m after the alert). Not reported, so assumed: 34 samplers
//! at 25 people/hour door to door (= the 850 people/hour the 8 h window
//! implies); one lab at 120 tubes/hour with 3.5 h turnaround (extraction,
//! RT-PCR, review); tubes shipped hourly; 0.5 h from last result to the
//! lift decision; 1 h to re-collect swabs of a positive pool's members;
//! Se 0.99, Sp 0.999 per tube; prevalence 1/6,799 (one expected case among
//! the people covered). The design is the day's: Dorfman 20:1.

use serde::{Deserialize, Serialize};

use crate::accuracy::{Accuracy, Dilution, binary_entropy, validate_prevalence};
use crate::characteristics::{Characteristics, Method};
use crate::designs::{Design, Family};
use crate::error::{Result, invalid};
use crate::montecarlo::McConfig;
use crate::optimise::{
    Constraints, Evaluator, HoursBreakdown, Objective, Resources, Scored, best_per_family, better,
    candidates, d3_candidates, hours_to_all_clear, score, search_cap,
};
use crate::population::BlockGroup;

/// What `gridsweep plan` asks. Every field has a default (see `Default`),
/// so a JSON body or a CLI may give only what it knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanRequest {
    /// People to screen. Default 6,799 (the 6·13 day).
    pub people: u64,
    /// Expected prevalence among them. Default 0.001 (0.1 %).
    pub prevalence: f64,
    /// Most samples per tube; `None` = no cap. Default 20 (the 20:1 rule).
    pub max_pool: Option<u32>,
    /// Most lab rounds. Default 2 (pool, then retest).
    pub max_rounds: u32,
    /// Per-tube sensitivity at every stage. Default 0.99.
    pub se: f64,
    /// Per-tube specificity at every stage. Default 0.99.
    pub sp: f64,
    /// Per-stage sensitivities (stage 1 first); overrides `se` when non-empty.
    pub stage_se: Vec<f64>,
    /// Per-stage specificities; overrides `sp` when non-empty.
    pub stage_sp: Vec<f64>,
    /// Sensitivity lost per doubling of pool size (dilution). Default 0.
    pub dilution_loss_per_doubling: f64,
    /// Lab throughput, tubes per hour. Default 120.
    pub lab_tubes_per_hour: f64,
    /// Lab turnaround per round, hours. Default 3.5.
    pub turnaround_hours: f64,
    /// Samplers working at once. Default 34.
    pub samplers: u32,
    /// People one sampler swabs per hour. Default 25 (door to door).
    pub persons_per_sampler_hour: f64,
    /// Hours between transport runs to the lab. Default 1.
    pub transport_interval_hours: f64,
    /// Alert to first swab, hours. Default 1.
    pub mobilisation_hours: f64,
    /// Re-collecting a positive pool's members for a later round, hours. Default 1.
    pub retest_collection_hours: f64,
    /// Last result to all-clear decision, hours. Default 0.5.
    pub decision_hours: f64,
    /// Expected hours to all-clear not to exceed; `None` = none. Default none.
    pub deadline_hours: Option<f64>,
    /// Fewest tests or fewest hours. Default fewest tests.
    pub objective: Objective,
    /// Least pooling sensitivity accepted. Default 0.95.
    pub min_sensitivity: f64,
    /// Least pooling specificity accepted. Default 0.99 (a single tube's).
    pub min_specificity: f64,
    /// Charge one single confirmation tube per flagged person. Default on.
    pub confirm_flagged: bool,
    /// Monte Carlo budget per simulated design (blocks of 20). Default 10,000.
    pub mc_trials: u32,
    /// Monte Carlo seed (same seed, same plan). Default 0x06132022.
    pub seed: u64,
}

impl Default for PlanRequest {
    fn default() -> Self {
        PlanRequest {
            people: 6799,
            prevalence: 0.001,
            max_pool: Some(20),
            max_rounds: 2,
            se: 0.99,
            sp: 0.99,
            stage_se: Vec::new(),
            stage_sp: Vec::new(),
            dilution_loss_per_doubling: 0.0,
            lab_tubes_per_hour: 120.0,
            turnaround_hours: 3.5,
            samplers: 34,
            persons_per_sampler_hour: 25.0,
            transport_interval_hours: 1.0,
            mobilisation_hours: 1.0,
            retest_collection_hours: 1.0,
            decision_hours: 0.5,
            deadline_hours: None,
            objective: Objective::ExpectedTests,
            min_sensitivity: 0.95,
            min_specificity: 0.99,
            confirm_flagged: true,
            mc_trials: 10_000,
            seed: McConfig::default().seed,
        }
    }
}

impl PlanRequest {
    /// The accuracy model the request describes.
    pub fn accuracy(&self) -> Accuracy {
        Accuracy {
            se: if self.stage_se.is_empty() {
                vec![self.se]
            } else {
                self.stage_se.clone()
            },
            sp: if self.stage_sp.is_empty() {
                vec![self.sp]
            } else {
                self.stage_sp.clone()
            },
            dilution: if self.dilution_loss_per_doubling > 0.0 {
                Dilution::LogLinear {
                    loss_per_doubling: self.dilution_loss_per_doubling,
                }
            } else {
                Dilution::None
            },
        }
    }

    /// The resource model the request describes.
    pub fn resources(&self) -> Resources {
        Resources {
            people: self.people,
            lab_tubes_per_hour: self.lab_tubes_per_hour,
            turnaround_hours: self.turnaround_hours,
            samplers: self.samplers,
            persons_per_sampler_hour: self.persons_per_sampler_hour,
            transport_interval_hours: self.transport_interval_hours,
            mobilisation_hours: self.mobilisation_hours,
            retest_collection_hours: self.retest_collection_hours,
            decision_hours: self.decision_hours,
            confirm_flagged: self.confirm_flagged,
        }
    }

    /// The constraints the request describes.
    pub fn constraints(&self) -> Constraints {
        Constraints {
            max_pool: self.max_pool,
            max_rounds: self.max_rounds,
            min_sensitivity: self.min_sensitivity,
            min_specificity: self.min_specificity,
            deadline_hours: self.deadline_hours,
        }
    }

    /// Refuses values that would make the plan meaningless, naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.people == 0 {
            return Err(invalid("people", "must be at least 1"));
        }
        validate_prevalence(self.prevalence)?;
        if self.max_pool == Some(0) {
            return Err(invalid("max_pool", "must be at least 1"));
        }
        if self.max_rounds == 0 {
            return Err(invalid("max_rounds", "must be at least 1"));
        }
        self.accuracy().validate()?;
        let positive = [
            ("lab_tubes_per_hour", self.lab_tubes_per_hour),
            ("persons_per_sampler_hour", self.persons_per_sampler_hour),
        ];
        for (f, v) in positive {
            if !(v > 0.0 && v.is_finite()) {
                return Err(invalid(
                    f,
                    format!("must be a finite number greater than 0, got {v}"),
                ));
            }
        }
        if self.samplers == 0 {
            return Err(invalid("samplers", "must be at least 1"));
        }
        let non_negative = [
            ("turnaround_hours", self.turnaround_hours),
            ("transport_interval_hours", self.transport_interval_hours),
            ("mobilisation_hours", self.mobilisation_hours),
            ("retest_collection_hours", self.retest_collection_hours),
            ("decision_hours", self.decision_hours),
        ];
        for (f, v) in non_negative {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(invalid(f, format!("must be a finite number >= 0, got {v}")));
            }
        }
        if let Some(d) = self.deadline_hours
            && !(d > 0.0 && d.is_finite())
        {
            return Err(invalid(
                "deadline_hours",
                format!("must be a finite number greater than 0, got {d}"),
            ));
        }
        for (f, v) in [
            ("min_sensitivity", self.min_sensitivity),
            ("min_specificity", self.min_specificity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid(f, format!("{v} is not in [0, 1]")));
            }
        }
        if self.mc_trials == 0 {
            return Err(invalid("mc_trials", "must be at least 1"));
        }
        Ok(())
    }
}

/// One design with its figures for this population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DesignEvaluation {
    /// Family.
    pub family: Family,
    /// Family name for humans.
    pub family_name: String,
    /// The configuration.
    pub design: Design,
    /// Its label, e.g. `D2(20)`.
    pub label: String,
    /// Figures per block and per person.
    pub characteristics: Characteristics,
    /// Blocks needed for the people.
    pub blocks: u64,
    /// How the people are cut into blocks and what each block runs.
    pub block_groups: Vec<BlockGroup>,
    /// Expected screening tubes for everyone.
    pub screening_tests: f64,
    /// Expected confirmation tubes (one per flagged person).
    pub confirmation_tests: f64,
    /// Expected tubes charged: screening, plus confirmations when counted.
    pub total_expected_tests: f64,
    /// Hours to all-clear.
    pub hours: HoursBreakdown,
    /// Tests per person ÷ H(p): how far above the information bound.
    pub ratio_to_bound: f64,
    /// Meets every constraint.
    pub feasible: bool,
    /// Constraints it breaks.
    pub violations: Vec<String>,
}

impl DesignEvaluation {
    fn from_scored(s: Scored, people: u64, p: f64) -> Self {
        let ch = s.characteristics;
        DesignEvaluation {
            family: s.design.family(),
            family_name: s.design.family().name().to_string(),
            label: s.design.label(),
            design: s.design,
            blocks: s.groups.iter().map(|g| g.count).sum(),
            block_groups: s.groups,
            screening_tests: s.screening_tests,
            confirmation_tests: s.confirmation_tests,
            total_expected_tests: s.cost_tests,
            ratio_to_bound: s.cost_tests / people as f64 / binary_entropy(p),
            characteristics: ch,
            hours: s.hours,
            feasible: s.violations.is_empty(),
            violations: s.violations,
        }
    }
}

/// The planner's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The request, defaults filled in.
    pub request: PlanRequest,
    /// The design to run.
    pub recommended: DesignEvaluation,
    /// Dorfman at the cap (or Dorfman's optimum when uncapped): today's practice.
    pub dorfman_at_cap: DesignEvaluation,
    /// H(p), bits per person.
    pub entropy_bits_per_person: f64,
    /// n·H(p): no design with perfect tests can average fewer tests.
    pub information_bound_tests: f64,
    /// Expected tests the recommendation saves against Dorfman at the cap.
    pub tests_saved_vs_dorfman: f64,
    /// Best design of every family (infeasible ones marked).
    pub designs: Vec<DesignEvaluation>,
    /// Whether the recommendation meets the deadline (if any).
    pub deadline_met: bool,
    /// Remarks for the reader.
    pub notes: Vec<String>,
}

/// Chooses the design for `req` and evaluates every family for comparison.
pub fn plan(req: &PlanRequest) -> Result<Plan> {
    req.validate()?;
    let p = req.prevalence;
    let mc = McConfig {
        trials: req.mc_trials,
        seed: req.seed,
    };
    let mut ev = Evaluator::new(p, req.accuracy(), mc);
    let cons = req.constraints();
    let res = req.resources();
    let mut designs = candidates(req.max_pool, p, req.people);
    designs.extend(d3_candidates(
        &mut ev,
        req.max_pool,
        req.people,
        &cons,
        req.confirm_flagged,
    )?);
    let best = best_per_family(&mut ev, &designs, &cons, &res, req.objective)?;
    let mut notes = Vec::new();
    // recommended: best feasible; if only the deadline fails, the fastest
    let mut rec = best
        .iter()
        .filter(|s| s.violations.is_empty())
        .min_by(|a, b| better(a, b))
        .cloned();
    let mut deadline_met = true;
    if rec.is_none() {
        let relaxed = Constraints {
            deadline_hours: None,
            ..cons
        };
        let mut fastest: Option<Scored> = None;
        for d in &designs {
            let s = score(&mut ev, d, &relaxed, &res, Objective::HoursToAllClear)?;
            if s.violations.is_empty() && fastest.as_ref().is_none_or(|f| better(&s, f).is_lt()) {
                fastest = Some(s);
            }
        }
        if let Some(mut f) = fastest {
            deadline_met = false;
            notes.push(format!(
                "No design meets the deadline of {} h; the fastest is shown.",
                req.deadline_hours.unwrap_or_default()
            ));
            f.violations = score(&mut ev, &f.design, &cons, &res, req.objective)?.violations;
            rec = Some(f);
        }
    }
    let rec = match rec {
        Some(r) => r,
        None => {
            notes.push("No design meets the accuracy constraints; single tubes shown.".into());
            score(&mut ev, &Design::Individual, &cons, &res, req.objective)?
        }
    };
    let dorfman = match req.max_pool {
        Some(cap) if search_cap(Some(cap), req.people) >= 2 => score(
            &mut ev,
            &Design::Dorfman {
                pool: search_cap(Some(cap), req.people),
            },
            &cons,
            &res,
            req.objective,
        )?,
        Some(_) => score(&mut ev, &Design::Individual, &cons, &res, req.objective)?,
        None => {
            let mut b: Option<Scored> = None;
            for d in designs.iter().filter(|d| d.family() == Family::Dorfman) {
                let s = score(&mut ev, d, &cons, &res, Objective::ExpectedTests)?;
                if b.as_ref().is_none_or(|x| better(&s, x).is_lt()) {
                    b = Some(s);
                }
            }
            b.unwrap_or(rec.clone())
        }
    };
    let h = binary_entropy(p);
    let people = req.people;
    let recommended = DesignEvaluation::from_scored(rec, people, p);
    let dorfman_at_cap = DesignEvaluation::from_scored(dorfman, people, p);
    if let Method::MonteCarlo {
        trials, std_error, ..
    } = recommended.characteristics.method
    {
        notes.push(format!(
            "{} figures are Monte Carlo ({trials} blocks, seed {:#x}): ±{std_error:.5} tests per person (1 s.e.); designs within 2 s.e. rank as ties, simpler first.",
            recommended.label, req.seed
        ));
    }
    Ok(Plan {
        tests_saved_vs_dorfman: dorfman_at_cap.total_expected_tests
            - recommended.total_expected_tests,
        request: req.clone(),
        entropy_bits_per_person: h,
        information_bound_tests: people as f64 * h,
        designs: best
            .into_iter()
            .map(|s| DesignEvaluation::from_scored(s, people, p))
            .collect(),
        recommended,
        dorfman_at_cap,
        deadline_met,
        notes,
    })
}

/// One given design scored for the request (`gridsweep plan --design`):
/// its figures for the exact population, hours, and the constraints it breaks.
pub fn score_design(req: &PlanRequest, design: &Design) -> Result<DesignEvaluation> {
    req.validate()?;
    design.validate()?;
    let mut ev = Evaluator::new(
        req.prevalence,
        req.accuracy(),
        McConfig {
            trials: req.mc_trials,
            seed: req.seed,
        },
    );
    let s = score(
        &mut ev,
        design,
        &req.constraints(),
        &req.resources(),
        req.objective,
    )?;
    Ok(DesignEvaluation::from_scored(s, req.people, req.prevalence))
}

/// A scored design as text.
pub fn render_design_text(req: &PlanRequest, e: &DesignEvaluation) -> String {
    use std::fmt::Write;
    let c = &e.characteristics;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}) for {} people, prevalence {}",
        e.label,
        e.family_name,
        req.people,
        pct(req.prevalence)
    );
    let _ = writeln!(s, "  blocks: {}", render_groups(&e.block_groups));
    let _ = writeln!(
        s,
        "  expected tubes: {:.4} ({:.5} per person) = {:.4} screening + {:.4} confirmation{}",
        e.total_expected_tests,
        e.total_expected_tests / req.people as f64,
        e.screening_tests,
        e.confirmation_tests,
        if req.confirm_flagged {
            ""
        } else {
            " (confirmation not counted)"
        }
    );
    let by_round: Vec<String> = c.tests_by_round.iter().map(|t| format!("{t:.2}")).collect();
    let _ = writeln!(
        s,
        "  tubes by round: {}; rounds: {} worst case, {:.3} expected",
        by_round.join(" / "),
        c.max_rounds,
        c.expected_rounds
    );
    let _ = writeln!(
        s,
        "  accuracy: Se {:.4}  Sp {:.5}  PPV {:.4}  NPV {:.5}",
        c.sensitivity, c.specificity, c.ppv, c.npv
    );
    let _ = writeln!(
        s,
        "  hours to all-clear: {:.1} expected, {:.1} if every first-round tube is negative",
        e.hours.total, e.hours.total_if_round_one_negative
    );
    let _ = writeln!(
        s,
        "  figures: {}",
        match c.method {
            Method::Exact => "exact".to_string(),
            Method::MonteCarlo {
                trials,
                seed,
                std_error,
            } =>
                format!("Monte Carlo, {trials} blocks, seed {seed:#x}, ±{std_error:.5} per person"),
        }
    );
    let _ = writeln!(
        s,
        "  constraints: {}",
        if e.feasible {
            "all met".to_string()
        } else {
            e.violations.join("; ")
        }
    );
    s
}

fn pct(p: f64) -> String {
    let s = format!("{:.4}", p * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} %")
}

/// The plan as text: the recommendation, the comparison lines and the table.
pub fn render_plan_text(plan: &Plan) -> String {
    use std::fmt::Write;
    let r = &plan.request;
    let rec = &plan.recommended;
    let d2 = &plan.dorfman_at_cap;
    let mut s = String::new();
    let cap = r.max_pool.map_or("none".to_string(), |c| c.to_string());
    let _ = writeln!(
        s,
        "Pooling plan: {} people, prevalence {}, max pool {cap}, max rounds {}, objective {}",
        r.people,
        pct(r.prevalence),
        r.max_rounds,
        match r.objective {
            Objective::ExpectedTests => "fewest tests",
            Objective::HoursToAllClear => "fewest hours",
        }
    );
    let acc = r.accuracy();
    let _ = writeln!(
        s,
        "Assay: Se {:?}, Sp {:?}, dilution {:?}",
        acc.se, acc.sp, acc.dilution
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Recommended: {} ({}) — {:.1} expected tests, {:.4} per person, {} round(s) worst case",
        rec.label,
        rec.family_name,
        rec.total_expected_tests,
        rec.total_expected_tests / r.people as f64,
        rec.characteristics.max_rounds
    );
    let _ = writeln!(s, "  blocks: {}", render_groups(&rec.block_groups));
    let _ = writeln!(
        s,
        "  tubes: {:.1} screening + {:.1} confirmation of flagged people{}",
        rec.screening_tests,
        rec.confirmation_tests,
        if r.confirm_flagged {
            ""
        } else {
            " (not counted: --no-confirm)"
        }
    );
    let _ = writeln!(
        s,
        "  accuracy: Se {:.4}  Sp {:.5}  PPV {:.4}  NPV {:.5}",
        rec.characteristics.sensitivity,
        rec.characteristics.specificity,
        rec.characteristics.ppv,
        rec.characteristics.npv
    );
    let _ = writeln!(
        s,
        "  hours to all-clear: {:.1} expected, {:.1} if every first-round tube is negative ({} bound)",
        rec.hours.total, rec.hours.total_if_round_one_negative, rec.hours.bottleneck
    );
    let _ = writeln!(
        s,
        "  vs Dorfman {}: {:.1} tests ({:.4}/person) → saves {:.1} tests ({:.1} %)",
        d2.label,
        d2.total_expected_tests,
        d2.total_expected_tests / r.people as f64,
        plan.tests_saved_vs_dorfman,
        100.0 * plan.tests_saved_vs_dorfman / d2.total_expected_tests
    );
    let _ = writeln!(
        s,
        "  vs information bound n·H(p) = {:.1} tests ({:.4}/person): {:.2}×",
        plan.information_bound_tests, plan.entropy_bits_per_person, rec.ratio_to_bound
    );
    if !plan.deadline_met {
        let _ = writeln!(s, "  DEADLINE NOT MET");
    }
    for n in &plan.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<22} {:<22} {:>9} {:>9} {:>6} {:>7} {:>8} {:>7} {:>8} {:>6} {:>7}  status",
        "family",
        "design",
        "cost/pers",
        "tests",
        "rounds",
        "Se",
        "Sp",
        "PPV",
        "NPV",
        "hours",
        "×nH(p)",
    );
    for e in &plan.designs {
        let c = &e.characteristics;
        let _ = writeln!(
            s,
            "{:<22} {:<22} {:>9.4} {:>9.1} {:>6} {:>7.4} {:>8.5} {:>7.4} {:>8.5} {:>6.1} {:>7.2}  {}{}",
            e.family_name,
            e.label,
            e.total_expected_tests / r.people as f64,
            e.total_expected_tests,
            c.max_rounds,
            c.sensitivity,
            c.specificity,
            c.ppv,
            c.npv,
            e.hours.total,
            e.ratio_to_bound,
            if e.feasible {
                "ok".to_string()
            } else {
                e.violations.join("; ")
            },
            match c.method {
                Method::MonteCarlo { std_error, .. } => format!(" (MC ±{std_error:.5})"),
                Method::Exact => String::new(),
            }
        );
    }
    s
}

/// `3 × D2(34), 2 × D2(33)`: how the people are cut into blocks.
pub fn render_groups(groups: &[BlockGroup]) -> String {
    groups
        .iter()
        .map(|g| format!("{} × {}", g.count, g.label))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of the design note's table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteRow {
    /// Prevalence.
    pub prevalence: f64,
    /// Pool cap (None: uncapped).
    pub cap: Option<u32>,
    /// Round limit.
    pub max_rounds: u32,
    /// Best design's label.
    pub best: String,
    /// Its tests per person.
    pub tests_per_person: f64,
    /// Its ratio to H(p).
    pub ratio_to_bound: f64,
    /// Its pooling specificity (< 1 only through design ambiguity with perfect tests).
    pub specificity: f64,
    /// Dorfman at the cap (best Dorfman if uncapped), tests per person.
    pub dorfman_tests_per_person: f64,
    /// Best pool+code design under the same limits, tests per person.
    pub pool_code_tests_per_person: Option<f64>,
}

/// People the note's table prices for: large enough that the split hardly matters.
pub const NOTE_PEOPLE: u64 = 1_000_000;

/// The note's table: p ∈ {0.01, 0.1, 1, 5 %} × cap ∈ {10, 20, none} ×
/// rounds ∈ {2, 3}, best design by expected tests. Use perfect tests to
/// compare designs with the bound; `min_accuracy` is the least pooling
/// Se and Sp accepted (e.g. 0.999: at most 0.1 % misclassified by design).
pub fn note_table(acc: &Accuracy, mc: &McConfig, min_accuracy: f64) -> Result<Vec<NoteRow>> {
    let mut rows = Vec::new();
    for p in [0.0001, 0.001, 0.01, 0.05] {
        let mut ev = Evaluator::new(p, acc.clone(), *mc);
        for cap in [Some(10), Some(20), None] {
            for rounds in [2, 3] {
                let cons = Constraints {
                    max_pool: cap,
                    max_rounds: rounds,
                    min_sensitivity: min_accuracy,
                    min_specificity: min_accuracy,
                    deadline_hours: None,
                };
                let res = Resources {
                    people: NOTE_PEOPLE,
                    ..PlanRequest::default().resources()
                };
                let mut designs = candidates(cap, p, NOTE_PEOPLE);
                designs.extend(d3_candidates(
                    &mut ev,
                    cap,
                    NOTE_PEOPLE,
                    &cons,
                    res.confirm_flagged,
                )?);
                let best =
                    best_per_family(&mut ev, &designs, &cons, &res, Objective::ExpectedTests)?;
                let winner = best
                    .iter()
                    .filter(|s| s.violations.is_empty())
                    .min_by(|a, b| better(a, b))
                    .ok_or_else(|| invalid("table", "no feasible design"))?;
                let fam = |f: Family| best.iter().find(|s| s.design.family() == f);
                let dorfman = match cap {
                    Some(c) => {
                        score(
                            &mut ev,
                            &Design::Dorfman { pool: c },
                            &cons,
                            &res,
                            Objective::ExpectedTests,
                        )?
                        .objective
                    }
                    None => fam(Family::Dorfman).map_or(f64::NAN, |s| s.objective),
                };
                let pc = [Family::PoolCodeTwoRound, Family::PoolCodeThreeRound]
                    .into_iter()
                    .filter_map(fam)
                    .filter(|s| s.violations.is_empty())
                    .map(|s| s.objective)
                    .min_by(f64::total_cmp);
                rows.push(NoteRow {
                    prevalence: p,
                    cap,
                    max_rounds: rounds,
                    best: winner.design.label(),
                    tests_per_person: winner.objective,
                    ratio_to_bound: winner.objective / binary_entropy(p),
                    specificity: winner.characteristics.specificity,
                    dorfman_tests_per_person: dorfman,
                    pool_code_tests_per_person: pc,
                });
            }
        }
    }
    Ok(rows)
}

/// The note's table as aligned text.
pub fn render_note_table(rows: &[NoteRow]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>7} {:>5} {:>6}  {:<18} {:>9} {:>7} {:>9} {:>9} {:>9}",
        "p", "cap", "rounds", "best design", "cost/pers", "×nH(p)", "Sp", "D2@cap", "pool+code"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:>7} {:>5} {:>6}  {:<18} {:>9.4} {:>7.2} {:>9.6} {:>9.4} {:>9}",
            pct(r.prevalence),
            r.cap.map_or("none".into(), |c| c.to_string()),
            r.max_rounds,
            r.best,
            r.tests_per_person,
            r.ratio_to_bound,
            r.specificity,
            r.dorfman_tests_per_person,
            r.pool_code_tests_per_person
                .map_or("-".into(), |v| format!("{v:.4}")),
        );
    }
    s
}

/// The 6·13 day replayed through the planner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrillCheck {
    /// The request modelling the day (see the module docs for which values are facts).
    pub request: PlanRequest,
    /// The design the day used.
    pub design: String,
    /// Expected first-round tubes under that design.
    pub round_one_tubes: f64,
    /// Hour-by-hour model.
    pub hours: HoursBreakdown,
    /// Alert to all-clear as it happened: 13 h 50 m (03:04 → 16:54).
    pub actual_hours: f64,
    /// Model, when every first-round tube is negative (as on the day).
    pub predicted_hours_all_negative: f64,
    /// Model, expected before the day (a retest round may be needed).
    pub predicted_hours_expected: f64,
    /// What-if lines: (change, predicted hours if all negative, expected hours).
    pub what_if: Vec<(String, f64, f64)>,
}

/// The 6·13 day's request: facts plus the documented assumptions.
pub fn drill_613_request() -> PlanRequest {
    PlanRequest {
        people: 6799,
        prevalence: 1.0 / 6799.0,
        max_pool: Some(20),
        max_rounds: 2,
        se: 0.99,
        sp: 0.999,
        mobilisation_hours: 56.0 / 60.0,
        samplers: 34,
        persons_per_sampler_hour: 25.0,
        lab_tubes_per_hour: 120.0,
        turnaround_hours: 3.5,
        transport_interval_hours: 1.0,
        retest_collection_hours: 1.0,
        decision_hours: 0.5,
        ..PlanRequest::default()
    }
}

/// Predicted hours from alert to all-clear for the 6·13 day, to set against
/// the 13 h 50 m it took, plus what would have shortened it.
pub fn drill_613() -> Result<DrillCheck> {
    let req = drill_613_request();
    req.validate()?;
    let mut ev = Evaluator::new(
        req.prevalence,
        req.accuracy(),
        McConfig {
            trials: req.mc_trials,
            seed: req.seed,
        },
    );
    let design = Design::Dorfman { pool: 20 };
    let ch = ev.evaluate(&design)?;
    let hours = hours_to_all_clear(&ch, &req.resources());
    let blocks = req.people.div_ceil(20) as f64;
    let mut what_if = Vec::new();
    let variants: [(&str, PlanRequest, Design); 4] = [
        ("same day, planner's 2-round design", req.clone(), {
            let p = plan(&req)?;
            p.recommended.design
        }),
        (
            "twice the samplers (68)",
            PlanRequest {
                samplers: 68,
                ..req.clone()
            },
            design,
        ),
        (
            "twice the samplers, transport every 30 min",
            PlanRequest {
                samplers: 68,
                transport_interval_hours: 0.5,
                ..req.clone()
            },
            design,
        ),
        (
            "lab keeps aliquots (no re-collection for retests)",
            PlanRequest {
                retest_collection_hours: 0.0,
                ..req.clone()
            },
            design,
        ),
    ];
    for (name, r, d) in variants {
        let c = ev.evaluate(&d)?;
        let h = hours_to_all_clear(&c, &r.resources());
        what_if.push((
            format!("{name}: {}", d.label()),
            h.total_if_round_one_negative,
            h.total,
        ));
    }
    Ok(DrillCheck {
        design: design.label(),
        round_one_tubes: blocks * ch.tests_by_round[0],
        predicted_hours_all_negative: hours.total_if_round_one_negative,
        predicted_hours_expected: hours.total,
        actual_hours: 13.0 + 50.0 / 60.0,
        hours,
        request: req,
        what_if,
    })
}

fn hm(h: f64) -> String {
    let m = (h * 60.0).round() as i64;
    format!("{} h {:02} m", m / 60, m % 60)
}

/// The drill check as text.
pub fn render_drill_text(d: &DrillCheck) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let r = &d.request;
    let h = &d.hours;
    let _ = writeln!(
        s,
        "6·13 planning check ({} people, design {}, {:.0} first-round tubes)",
        r.people, d.design, d.round_one_tubes
    );
    let _ = writeln!(
        s,
        "  model: mobilisation {} + sampling {} ({} samplers × {}/h; {} bound) + last transport {} + turnaround {} + decision {}",
        hm(h.mobilisation),
        hm(h.sampling),
        r.samplers,
        r.persons_per_sampler_hour,
        h.bottleneck,
        hm(r.transport_interval_hours),
        hm(r.turnaround_hours),
        hm(h.decision)
    );
    let _ = writeln!(
        s,
        "  predicted, all first-round tubes negative (as on the day): {}",
        hm(d.predicted_hours_all_negative)
    );
    let _ = writeln!(
        s,
        "  predicted, expected beforehand (retest round possible):     {}",
        hm(d.predicted_hours_expected)
    );
    let _ = writeln!(
        s,
        "  actual (03:04 alert → 16:54 lift):                          {}",
        hm(d.actual_hours)
    );
    let _ = writeln!(
        s,
        "  difference (all-negative prediction − actual): {:+.0} min",
        (d.predicted_hours_all_negative - d.actual_hours) * 60.0
    );
    for (name, neg, exp) in &d.what_if {
        let _ = writeln!(
            s,
            "  what if {name}: {} if all negative, {} expected",
            hm(*neg),
            hm(*exp)
        );
    }
    s
}
