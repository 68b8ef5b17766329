//! `gridsweep plan`: choose a pooling design and predict hours to all-clear.

use anyhow::Result;
use clap::Args;
use gridsweep_pooling::{Objective, PlanRequest, plan, render_plan_text};

/// Flags of `gridsweep plan`; anything not given takes the planner's
/// documented default.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Persons to screen.
    #[arg(long)]
    people: u64,
    /// Expected prevalence, e.g. 0.001 for 0.1 %.
    #[arg(long)]
    prevalence: f64,
    /// Largest pool allowed (20 for the 20:1 rule); 0 for no cap.
    #[arg(long, default_value_t = 20)]
    max_pool: u32,
    /// Most lab rounds allowed.
    #[arg(long, default_value_t = 2)]
    max_rounds: u32,
    /// Test sensitivity.
    #[arg(long)]
    se: Option<f64>,
    /// Test specificity.
    #[arg(long)]
    sp: Option<f64>,
    /// Lab capacity in tubes per hour.
    #[arg(long = "labs-tubes-per-hour")]
    lab_tubes_per_hour: Option<f64>,
    /// Hours from receipt to result, per round.
    #[arg(long)]
    turnaround_hours: Option<f64>,
    /// Samplers on duty.
    #[arg(long)]
    samplers: Option<u32>,
    /// Persons one sampler swabs per hour.
    #[arg(long)]
    persons_per_sampler_hour: Option<f64>,
    /// Hours between transport runs to the lab.
    #[arg(long)]
    transport_interval_hours: Option<f64>,
    /// Deadline for the all-clear, in hours from the alert.
    #[arg(long)]
    deadline_hours: Option<f64>,
    /// What to minimise: tests or hours.
    #[arg(long, default_value = "tests")]
    objective: String,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// Builds the request, plans, prints.
pub fn run(a: PlanArgs) -> Result<()> {
    let d = PlanRequest::default();
    let req = PlanRequest {
        people: a.people,
        prevalence: a.prevalence,
        max_pool: (a.max_pool > 0).then_some(a.max_pool),
        max_rounds: a.max_rounds,
        se: a.se.unwrap_or(d.se),
        sp: a.sp.unwrap_or(d.sp),
        lab_tubes_per_hour: a.lab_tubes_per_hour.unwrap_or(d.lab_tubes_per_hour),
        turnaround_hours: a.turnaround_hours.unwrap_or(d.turnaround_hours),
        samplers: a.samplers.unwrap_or(d.samplers),
        persons_per_sampler_hour: a
            .persons_per_sampler_hour
            .unwrap_or(d.persons_per_sampler_hour),
        transport_interval_hours: a
            .transport_interval_hours
            .unwrap_or(d.transport_interval_hours),
        deadline_hours: a.deadline_hours.or(d.deadline_hours),
        objective: a.objective.parse::<Objective>()?,
        ..d
    };
    let p = plan(&req)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render_plan_text(&p));
    }
    Ok(())
}
