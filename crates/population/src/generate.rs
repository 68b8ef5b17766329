//! The entry point: [`generate`] and its spec, progress, summary and error.

use crate::layout::Filler;
use crate::rng::Rng;
use crate::writer::Writer;
use crate::{DEMO_PEOPLE, city, demo, names};
use gridsweep_domain::{AreaError, IdError};
use gridsweep_storage::{Store, StoreError};
use serde::Serialize;
use thiserror::Error;

/// What to generate. The same spec always gives the same roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenSpec {
    /// Fixes every random choice.
    pub seed: u64,
    /// Exactly this many persons are written (at least 1).
    pub people: u64,
}

impl GenSpec {
    /// The demo: seed 613 (the day of the story) and the demo district's
    /// [`DEMO_PEOPLE`] residents.
    pub fn demo() -> Self {
        Self {
            seed: 613,
            people: DEMO_PEOPLE,
        }
    }
}

impl Default for GenSpec {
    fn default() -> Self {
        Self::demo()
    }
}

/// Reported after each written batch, so a CLI can draw a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenProgress {
    /// Persons committed to the store so far.
    pub persons_written: u64,
    /// Persons the run will write in all.
    pub persons_total: u64,
    /// Areas committed to the store so far.
    pub areas_written: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GenSummary {
    /// Districts (roots of the tree).
    pub districts: u64,
    /// Areas of every level, households included.
    pub areas: u64,
    /// Persons.
    pub persons: u64,
    /// Household areas.
    pub households: u64,
    /// Sampling sites.
    pub sites: u64,
}

/// Why a run stopped. Everything written before the error stays written
/// (each batch is its own transaction); a run into a store that already
/// holds the demo district is refused before anything is written.
#[derive(Debug, Error)]
pub enum GenError {
    /// The spec cannot be generated (e.g. zero people).
    #[error("invalid generator spec: {0}")]
    InvalidSpec(String),
    /// The store already holds a generated population.
    #[error("the database already holds district {0}; generate into a fresh database")]
    AlreadyGenerated(String),
    /// The store refused a batch or an id allocation.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A generated area broke the grid's parent rule (a generator bug).
    #[error("generated area is invalid: {0}")]
    Area(#[from] AreaError),
    /// A generated identifier did not validate (a generator bug).
    #[error("generated identifier is invalid: {0}")]
    Id(#[from] IdError),
}

/// Generates `spec.people` persons into `store`: the demo district first,
/// then further districts, in batches; `progress` is called after each.
pub fn generate(
    store: &dyn Store,
    spec: &GenSpec,
    progress: &mut dyn FnMut(GenProgress),
) -> Result<GenSummary, GenError> {
    if spec.people == 0 {
        return Err(GenError::InvalidSpec("people must be at least 1".into()));
    }
    if store.roots()?.iter().any(|r| r.name == names::DISTRICT) {
        return Err(GenError::AlreadyGenerated(names::DISTRICT.into()));
    }
    let mut w = Writer::new(store, progress, spec.seed, spec.people);
    let mut filler = Filler::new();
    let mut rng = Rng::stream(spec.seed, 0);
    let demo = demo::build(&mut w, &mut rng, &mut filler)?;
    let mut k = 0;
    while w.remaining() > 0 {
        let plan = city::plan(k);
        let mut rng = Rng::stream(spec.seed, k as u64 + 1);
        city::build(&mut w, &mut rng, &mut filler, &plan, demo.university)?;
        k += 1;
    }
    w.finish()
}
