//! `gridsweep gen`: a synthetic district (or city) into the database.

use anyhow::Result;
use gridsweep_population::{GenSpec, GenSummary, generate};
use gridsweep_storage::Store;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// Generates with a progress bar on stderr and prints the summary.
pub fn run(store: &dyn Store, spec: GenSpec) -> Result<GenSummary> {
    run_to(store, spec, &mut std::io::stdout())
}

/// [`run`], printing the summary to `out` (the demo sends it to stderr so
/// `--json` prints nothing but the report on stdout).
pub fn run_to(
    store: &dyn Store,
    spec: GenSpec,
    out: &mut dyn std::io::Write,
) -> Result<GenSummary> {
    let bar = ProgressBar::new(spec.people);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} persons ({per_sec}, eta {eta}) {msg}",
        )?
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let summary = generate(store, &spec, &mut |p| {
        bar.set_position(p.persons_written);
        bar.set_message(format!("{} areas", p.areas_written));
    })?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "generated {} persons in {} households, {} areas ({} districts), {} sites in {:.1} s ({:.0} persons/s), seed {}",
        summary.persons,
        summary.households,
        summary.areas,
        summary.districts,
        summary.sites,
        secs,
        summary.persons as f64 / secs.max(1e-9),
        spec.seed
    )?;
    Ok(summary)
}
