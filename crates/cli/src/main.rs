//! `gridsweep`: the command line. Thin on purpose — each subcommand parses
//! its flags, opens the store and hands over to a library crate.

mod commands;
mod config;
mod store;

use anyhow::Result;
use clap::{Parser, Subcommand};
use config::{Config, Layer};
use std::path::PathBuf;

/// Mass pooled nucleic-acid screening and outbreak response for a district.
#[derive(Debug, Parser)]
#[command(name = "gridsweep", version, about)]
struct Cli {
    /// TOML settings file (default: ./gridsweep.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [env: GRIDSWEEP_DATABASE_URL] [default: sqlite://gridsweep.db]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Log filter, e.g. info or gridsweep_server=debug [env: GRIDSWEEP_LOG]
    #[arg(long, global = true, value_name = "FILTER")]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (and web UI) on the database.
    Serve {
        /// HOST:PORT to listen on [env: GRIDSWEEP_ADDR] [default: 127.0.0.1:8080]
        #[arg(long)]
        addr: Option<String>,
        /// On an empty database, first generate the demo district (高新区,
        /// about 60,000 residents, seed 613); and create the demo accounts.
        #[arg(long)]
        demo: bool,
        /// Mark the session cookie Secure (behind TLS) [env: GRIDSWEEP_SECURE_COOKIES]
        #[arg(long)]
        secure_cookies: bool,
        /// The response playbook, TOML (docs/playbook.md) [env: GRIDSWEEP_PLAYBOOK]
        #[arg(long)]
        playbook: Option<PathBuf>,
    },
    /// Import data files into the database.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Choose a pooling design and predict hours to all-clear.
    Plan(commands::plan::PlanArgs),
    /// Generate a synthetic population deterministically from a seed: the
    /// demo district first, then more districts up to --people.
    Gen {
        /// Persons in all (the demo district alone holds about 60,000;
        /// Zhengzhou is 12,600,000).
        #[arg(long, default_value_t = gridsweep_population::GenSpec::demo().people)]
        people: u64,
        /// Seed: the same seed and size give the same population.
        #[arg(long, default_value_t = gridsweep_population::GenSpec::demo().seed)]
        seed: u64,
    },
    /// Build the demo district (into an empty database) and replay the 6·13
    /// drill through the HTTP API, then print the incident report.
    Demo(commands::demo::DemoArgs),
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Debug, Subcommand)]
enum BenchWhat {
    /// Devices syncing 20-person tubes over HTTP vs. raw SQLite inserts.
    Ingest(commands::bench_ingest::IngestArgs),
    /// Time from posting a suspect result to the incident and its tasks
    /// being readable over HTTP, on a district of 1,000,000 residents.
    Alert(commands::bench_alert::AlertArgs),
}

#[derive(Debug, Subcommand)]
enum ImportWhat {
    /// A residents roster (CSV in UTF-8 or GBK, or XLSX); see docs/roster-format.md.
    Residents {
        /// The roster file.
        file: PathBuf,
        /// Import the good rows even when some are bad (and list the skipped).
        #[arg(long)]
        skip_bad_rows: bool,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let (addr, secure_cookies, playbook) = match &cli.command {
        Command::Serve {
            addr,
            secure_cookies,
            playbook,
            ..
        } => (
            addr.clone(),
            secure_cookies.then_some(true),
            playbook.clone(),
        ),
        _ => (None, None, None),
    };
    let cfg = Config::resolve(
        cli.config.as_ref(),
        Layer {
            database_url: cli.database_url.clone(),
            addr,
            log: cli.log.clone(),
            secure_cookies,
            playbook,
        },
    )?;
    init_tracing(&cfg.log);
    match cli.command {
        Command::Serve { demo, .. } => {
            let store = store::open(&cfg.database_url)?;
            if demo && store.roots()?.is_empty() {
                println!("empty database: generating the demo district first");
                commands::generate::run(&*store, gridsweep_population::GenSpec::demo())?;
            }
            commands::serve::accounts(&*store, demo)?;
            commands::serve::run(&cfg, store)
        }
        Command::Import {
            what:
                ImportWhat::Residents {
                    file,
                    skip_bad_rows,
                    dry_run,
                },
        } => {
            let store = store::open(&cfg.database_url)?;
            commands::import::residents(
                &*store,
                &file,
                gridsweep_import::ImportOptions {
                    skip_bad_rows,
                    dry_run,
                },
            )
        }
        Command::Plan(args) => commands::plan::run(args),
        Command::Gen { people, seed } => {
            let store = store::open(&cfg.database_url)?;
            commands::generate::run(&*store, gridsweep_population::GenSpec { seed, people })?;
            Ok(())
        }
        Command::Bench {
            what: BenchWhat::Ingest(args),
        } => commands::bench_ingest::run(args),
        Command::Bench {
            what: BenchWhat::Alert(args),
        } => commands::bench_alert::run(args),
        Command::Demo(args) => {
            if !cfg.database_url.starts_with("sqlite:")
                && !cfg.database_url.starts_with("postgres://")
                && !cfg.database_url.starts_with("postgresql://")
            {
                anyhow::bail!(
                    "database URL must start with sqlite:// or postgres://, got {:?}",
                    cfg.database_url
                );
            }
            commands::demo::run(&cfg.database_url, args)
        }
    }
}

/// The PostgreSQL client logs every query's parameters at debug level,
/// and those include ID numbers and phones: unless a filter names it
/// explicitly, it is held at info so `--log debug` never writes them.
fn init_tracing(filter: &str) {
    let filter = if filter.contains("postgres") {
        filter.to_string()
    } else {
        format!("{filter},tokio_postgres=info,postgres=info")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
