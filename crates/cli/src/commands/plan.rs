//! `gridsweep plan`: choose a pooling design and predict hours to all-clear,
//! or score one given design (`--design`).

use anyhow::Result;
use clap::Args;
use gridsweep_pooling::{
    Design, Objective, PlanRequest, plan, render_design_text, render_plan_text, score_design,
};

/// Flags of `gridsweep plan`; anything not given takes the planner's
/// documented default. Numbers are checked as they are read, so a bad
/// value is refused with the flag's name (negative numbers are read as
/// values, not flags).
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PlanArgs {
    /// Persons to screen (at least 1).
    #[arg(long, value_parser = at_least_one_u64)]
    people: u64,
    /// Expected prevalence, e.g. 0.001 for 0.1 %; in (0, 1).
    #[arg(long, value_parser = probability_open)]
    prevalence: f64,
    /// Largest pool allowed (20 for the 20:1 rule); 0 for no cap.
    #[arg(long, default_value_t = 20)]
    max_pool: u32,
    /// Most lab rounds allowed (at least 1).
    #[arg(long, default_value_t = 2, value_parser = at_least_one_u32)]
    max_rounds: u32,
    /// Test sensitivity, in [0, 1].
    #[arg(long, value_parser = probability)]
    se: Option<f64>,
    /// Test specificity, in [0, 1].
    #[arg(long, value_parser = probability)]
    sp: Option<f64>,
    /// Least pooling sensitivity a design may have, in [0, 1] (default 0.95).
    #[arg(long, value_parser = probability)]
    min_se: Option<f64>,
    /// Least pooling specificity a design may have, in [0, 1] (default 0.99).
    #[arg(long, value_parser = probability)]
    min_sp: Option<f64>,
    /// Do not charge one confirmation tube per flagged person.
    #[arg(long)]
    no_confirm: bool,
    /// Lab capacity in tubes per hour (> 0).
    #[arg(long, alias = "labs-tubes-per-hour", value_parser = positive)]
    lab_tubes_per_hour: Option<f64>,
    /// Hours from receipt to result, per round (>= 0).
    #[arg(long, value_parser = non_negative)]
    turnaround_hours: Option<f64>,
    /// Samplers on duty (at least 1).
    #[arg(long, value_parser = at_least_one_u32)]
    samplers: Option<u32>,
    /// Persons one sampler swabs per hour (> 0).
    #[arg(long, value_parser = positive)]
    persons_per_sampler_hour: Option<f64>,
    /// Hours between transport runs to the lab (>= 0).
    #[arg(long, value_parser = non_negative)]
    transport_interval_hours: Option<f64>,
    /// Deadline for the all-clear, in hours from the alert (> 0).
    #[arg(long, value_parser = positive)]
    deadline_hours: Option<f64>,
    /// What to minimise: tests or hours.
    #[arg(long, default_value = "tests")]
    objective: String,
    /// Score this one design instead of searching: 1:1, D2:K, D3:K:S1,S2,…
    /// (e.g. D3:10:4,3,3; sizes of 1 are singles), A2:RxC, A2M:RxC, HC:L^D,
    /// PC2:K, PC3:K, NA-COMP:N:T:W (also NA-DD, NA-SCOMP).
    #[arg(long, value_parser = design_spec)]
    design: Option<Design>,
    /// Seed of the simulation used where no exact figure exists.
    #[arg(long)]
    seed: Option<u64>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// A finite number, with the reason named (clap adds the flag).
fn finite(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("must be a finite number, got {v}"));
    }
    Ok(v)
}

fn probability(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("must be between 0 and 1, got {v}"));
    }
    Ok(v)
}

fn probability_open(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if !(v > 0.0 && v < 1.0) {
        return Err(format!(
            "must be greater than 0 and less than 1 (0.001 is 0.1 %), got {v}"
        ));
    }
    Ok(v)
}

fn positive(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v <= 0.0 {
        return Err(format!("must be greater than 0, got {v}"));
    }
    Ok(v)
}

fn non_negative(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if v < 0.0 {
        return Err(format!("must be 0 or more, got {v}"));
    }
    Ok(v)
}

fn at_least_one_u64(s: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(v) if v >= 1 && v <= u64::MAX as i128 => Ok(v as u64),
        Ok(v) => Err(format!("must be a whole number of at least 1, got {v}")),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

fn at_least_one_u32(s: &str) -> Result<u32, String> {
    let v = at_least_one_u64(s)?;
    u32::try_from(v).map_err(|_| format!("must be at most {}, got {v}", u32::MAX))
}

fn design_spec(s: &str) -> Result<Design, String> {
    s.parse::<Design>().map_err(|e| e.to_string())
}

/// Builds the request, plans (or scores the given design), prints.
pub fn run(a: PlanArgs) -> Result<()> {
    let d = PlanRequest::default();
    let req = PlanRequest {
        people: a.people,
        prevalence: a.prevalence,
        max_pool: (a.max_pool > 0).then_some(a.max_pool),
        max_rounds: a.max_rounds,
        se: a.se.unwrap_or(d.se),
        sp: a.sp.unwrap_or(d.sp),
        min_sensitivity: a.min_se.unwrap_or(d.min_sensitivity),
        min_specificity: a.min_sp.unwrap_or(d.min_specificity),
        confirm_flagged: !a.no_confirm,
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
        seed: a.seed.unwrap_or(d.seed),
        ..d
    };
    if let Some(design) = a.design {
        let e = score_design(&req, &design)?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&e)?);
        } else {
            print!("{}", render_design_text(&req, &e));
        }
        return Ok(());
    }
    let p = plan(&req)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render_plan_text(&p));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        plan: PlanArgs,
    }

    fn parse(args: &[&str]) -> Result<PlanArgs, String> {
        let mut v = vec!["plan"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v)
            .map(|c| c.plan)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn negative_and_non_finite_numbers_name_the_flag() {
        let e = parse(&["--people", "100", "--prevalence", "-0.1"]).unwrap_err();
        assert!(
            e.contains("--prevalence") && e.contains("greater than 0"),
            "{e}"
        );
        let e = parse(&["--people", "-5", "--prevalence", "0.01"]).unwrap_err();
        assert!(e.contains("--people") && e.contains("at least 1"), "{e}");
        for bad in ["inf", "0", "-3", "NaN"] {
            let e = parse(&[
                "--people",
                "100",
                "--prevalence",
                "0.01",
                "--lab-tubes-per-hour",
                bad,
            ])
            .unwrap_err();
            assert!(e.contains("--lab-tubes-per-hour"), "{bad}: {e}");
            assert!(!e.contains("inf must be"), "{bad}: {e}");
        }
        let e = parse(&["--people", "100", "--prevalence", "0.01", "--min-sp", "1.5"]).unwrap_err();
        assert!(e.contains("--min-sp"), "{e}");
    }

    #[test]
    fn old_lab_rate_spelling_still_works() {
        let a = parse(&[
            "--people",
            "100",
            "--prevalence",
            "0.01",
            "--labs-tubes-per-hour",
            "60",
        ])
        .unwrap();
        assert_eq!(a.lab_tubes_per_hour, Some(60.0));
    }

    #[test]
    fn design_spec_is_read() {
        let a = parse(&[
            "--people",
            "100",
            "--prevalence",
            "0.01",
            "--design",
            "D3:10:4,3,3",
        ])
        .unwrap();
        assert_eq!(
            a.design,
            Some(Design::Hierarchical3 {
                pool: 10,
                sub_pools: 3,
                singles: 0
            })
        );
        let e = parse(&[
            "--people",
            "100",
            "--prevalence",
            "0.01",
            "--design",
            "D3:10:5,3,2",
        ])
        .unwrap_err();
        assert!(e.contains("--design"), "{e}");
    }
}
