//! Generates a population into an SQLite file and prints what it wrote:
//! `cargo run --release -p gridsweep-population --example gen -- PEOPLE DB [SEED]`.
//! (The `gridsweep gen` command is the real interface; this is for
//! measuring the generator on its own.)

use gridsweep_population::{GenSpec, generate};
use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let people: u64 = args
        .next()
        .map_or(GenSpec::demo().people, |s| s.parse().expect("PEOPLE"));
    let path = args.next().unwrap_or_else(|| "gen.db".into());
    let seed: u64 = args
        .next()
        .map_or(GenSpec::demo().seed, |s| s.parse().expect("SEED"));
    let store = SqliteStore::open(&path).expect("open store");
    let start = Instant::now();
    let summary = generate(&store, &GenSpec { seed, people }, &mut |p| {
        eprintln!(
            "{:>10}/{} persons, {} areas, {:.1}s",
            p.persons_written,
            p.persons_total,
            p.areas_written,
            start.elapsed().as_secs_f64()
        );
    })
    .expect("generate");
    println!(
        "{} in {:.1}s; store holds {:?}",
        serde_json::to_string(&summary).expect("json"),
        start.elapsed().as_secs_f64(),
        store.stats().expect("stats")
    );
}
