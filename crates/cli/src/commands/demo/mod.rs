//! `gridsweep demo`: builds the demo district (if the database is empty)
//! and replays a drill scenario — by default the 6·13 drill — through the
//! same HTTP API devices and labs use, on the drill's clock, then prints the
//! incident report. The scenario holds only inputs (who was sampled in
//! which tube when, each tube's result, who decided what when); every
//! figure in the report is computed by the server from the replayed events.
//! Format: docs/scenario-format.md.
//!
//! The parts: `scenario` (the file format) and `validate` (checking it
//! without a database); `resolve` (its places and people on the roster);
//! `accounts` (the tokens the replay acts with) and `api` (its HTTP
//! client); `events` (what devices and the lab send), `driver` (the
//! replay, step by step) and `followup` (the chains of reactive tubes);
//! `swap` (replaying into a scratch copy, swapped in only on success).

mod accounts;
mod api;
mod driver;
mod events;
mod followup;
mod resolve;
mod scenario;
mod swap;
mod validate;

pub(crate) use accounts::drill_tokens;

use anyhow::{Context, Result, bail};
use clap::Args;
use gridsweep_response::report::Report;
use gridsweep_storage::Store;
use scenario::Scenario;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// The 6·13 scenario, built in so `gridsweep demo` needs no file.
pub const SCENARIO_613: &str = include_str!("../../../../../scenarios/613.toml");

/// Flags of `gridsweep demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scenario file (default: the built-in 6·13 drill, scenarios/613.toml).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the report page here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the report workbook here.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Write every answer the lab account received during the replay here
    /// (a JSON array), so what a lab gets to see can be checked.
    #[arg(long, value_name = "FILE")]
    pub lab_answers: Option<PathBuf>,
}

/// Runs `gridsweep demo` on the database `url` names.
///
/// The scenario is checked in full before anything is written (see
/// [`Scenario::parse`] and [`resolve::resolve`]). A replay that fails midway leaves
/// the database as it was: on SQLite the replay runs in a scratch copy of
/// the file beside it, swapped in (renamed over the original) only when
/// the whole replay succeeded, and removed otherwise; on PostgreSQL the
/// replay runs in a scratch database cloned from the original
/// (`CREATE DATABASE … TEMPLATE`), swapped in by renaming only on success
/// (this needs no other session on the database and the right to create
/// databases — otherwise the demo refuses before writing anything).
pub fn run(url: &str, args: DemoArgs) -> Result<()> {
    let text = match &args.scenario {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => SCENARIO_613.to_string(),
    };
    let scenario = Scenario::parse(&text)?;
    let (report, lab_answers) = if url.starts_with("sqlite:") {
        swap::sqlite(url, |store| replay_checked(store, &scenario, &args))?
    } else {
        swap::postgres(url, |store| replay_checked(store, &scenario, &args))?
    };
    if let Some(p) = &args.lab_answers {
        std::fs::write(p, serde_json::to_vec(&lab_answers)?)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", scenario.name);
        print!("{}", report.to_text());
    }
    if let Some(p) = &args.html {
        std::fs::write(p, report.to_html())?;
        eprintln!("report page written to {}", p.display());
    }
    if let Some(p) = &args.xlsx {
        std::fs::write(p, report.to_xlsx()?)?;
        eprintln!("report workbook written to {}", p.display());
    }
    Ok(())
}

/// Prepares the database, resolves the scenario against the roster (reads
/// only), then replays it.
fn replay_checked(
    store: Arc<dyn Store>,
    scenario: &Scenario,
    args: &DemoArgs,
) -> Result<(Report, Vec<Value>)> {
    prepare(&*store, scenario)?;
    let plan = resolve::resolve(&*store, scenario)?;
    // The documented demo accounts (README), so the UI can be tried after.
    gridsweep_server::create_demo_users(&*store)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(driver::replay(
        store,
        scenario,
        &plan,
        args.lab_answers.is_some(),
    ))
}

/// Builds the demo district into an empty database; reuses a database
/// that already holds it, unless this scenario was already replayed there.
fn prepare(store: &dyn Store, s: &Scenario) -> Result<()> {
    let roots = store.roots()?;
    if roots.is_empty() {
        eprintln!("empty database: generating the demo district (高新区, seed 613)");
        // The summary goes to stderr: `--json` prints only the report.
        crate::commands::generate::run_to(
            store,
            gridsweep_population::GenSpec::demo(),
            &mut std::io::stderr(),
        )?;
    } else if !roots
        .iter()
        .any(|r| r.name == gridsweep_population::names::DISTRICT)
    {
        bail!(
            "the database holds another population ({}); run the demo on an empty database",
            roots
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if store.tube(&s.trigger.tube)?.is_some() {
        bail!(
            "this database already holds a replay of this scenario (tube {} exists); \
             use a fresh --database-url",
            s.trigger.tube
        );
    }
    Ok(())
}
