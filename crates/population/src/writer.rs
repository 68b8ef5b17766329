//! The streaming batch writer: collects areas, sites and persons into a
//! [`PopulationBatch`], writes it when it is full, and forgets it.
//!
//! This is what keeps a 12.6-million-person city in bounded memory: the
//! generator only ever holds one batch plus the handful of nodes it is
//! currently filling. Area ids are reserved from the store in blocks (a
//! child's path needs its id before the batch is written); person and site
//! ids are reserved exactly, once per batch.

use crate::ids::{IdMint, PhoneMint};
use crate::words::NameGen;
use crate::{GenError, GenProgress, GenSummary};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, PersonId, SiteKind};
use gridsweep_storage::{IdKind, NewArea, NewPerson, NewSite, PopulationBatch, Store};

/// Persons per written batch: big enough that a transaction's fixed cost
/// vanishes, small enough (a few MB) that memory stays flat.
pub const BATCH_PERSONS: usize = 25_000;
/// Area ids reserved per call to the store.
const AREA_BLOCK: u64 = 8_192;
/// A batch is also written when this many areas are waiting, so a run of
/// empty skeleton never grows without bound.
const BATCH_AREAS: usize = 60_000;

/// An area the generator has created and may hang children on.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) id: AreaId,
    pub(crate) level: AreaLevel,
    pub(crate) path: AreaPath,
    pub(crate) name: String,
}

/// A limit on how many more persons a part of the tree may receive.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Absolute: the value of `produced` at which the budget is spent.
    limit: u64,
    /// A hard budget may cut a household short (the requested total);
    /// a soft one (a community's target) only stops the next household.
    hard: bool,
}

/// Builds and writes batches; see the module docs.
pub(crate) struct Writer<'a> {
    store: &'a dyn Store,
    progress: &'a mut dyn FnMut(GenProgress),
    batch: PopulationBatch,
    next_area: i64,
    areas_left: u64,
    budgets: Vec<Budget>,
    produced: u64,
    total: u64,
    persons_written: u64,
    areas_written: u64,
    pub(crate) summary: GenSummary,
    pub(crate) ids: IdMint,
    pub(crate) phones: PhoneMint,
    pub(crate) names: NameGen,
}

impl<'a> Writer<'a> {
    /// A writer that will produce exactly `total` persons at most.
    pub(crate) fn new(
        store: &'a dyn Store,
        progress: &'a mut dyn FnMut(GenProgress),
        seed: u64,
        total: u64,
    ) -> Self {
        Self {
            store,
            progress,
            batch: PopulationBatch::default(),
            next_area: 0,
            areas_left: 0,
            budgets: vec![Budget {
                limit: total,
                hard: true,
            }],
            produced: 0,
            total,
            persons_written: 0,
            areas_written: 0,
            summary: GenSummary::default(),
            ids: IdMint::new(),
            phones: PhoneMint::new(seed),
            names: NameGen::new(),
        }
    }

    /// Persons created so far (written or waiting in the batch).
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }

    /// How many more persons the innermost budgets allow.
    pub(crate) fn remaining(&self) -> u64 {
        self.budgets
            .iter()
            .map(|b| b.limit.saturating_sub(self.produced))
            .min()
            .unwrap_or(0)
    }

    /// How many more persons may be created before a hard limit; a
    /// household larger than this is cut short.
    pub(crate) fn hard_remaining(&self) -> u64 {
        self.budgets
            .iter()
            .filter(|b| b.hard)
            .map(|b| b.limit.saturating_sub(self.produced))
            .min()
            .unwrap_or(0)
    }

    /// Limits the next `n` persons to the part of the tree being filled.
    pub(crate) fn push_budget(&mut self, n: u64, hard: bool) {
        self.budgets.push(Budget {
            limit: self.produced.saturating_add(n),
            hard,
        });
    }

    /// Ends the innermost budget.
    pub(crate) fn pop_budget(&mut self) {
        debug_assert!(self.budgets.len() > 1, "the total budget stays");
        self.budgets.pop();
    }

    fn area_id(&mut self) -> Result<AreaId, GenError> {
        if self.areas_left == 0 {
            self.next_area = self.store.allocate_ids(IdKind::Area, AREA_BLOCK)?;
            self.areas_left = AREA_BLOCK;
        }
        let id = AreaId::new(self.next_area)?;
        self.next_area += 1;
        self.areas_left -= 1;
        Ok(id)
    }

    fn push_area(&mut self, area: NewArea) -> Node {
        let node = Node {
            id: area.id,
            level: area.level,
            path: area.path.clone(),
            name: area.name.clone(),
        };
        self.summary.areas += 1;
        match area.level {
            AreaLevel::District => self.summary.districts += 1,
            AreaLevel::Household => self.summary.households += 1,
            _ => {}
        }
        self.batch.areas.push(area);
        node
    }

    /// Creates a district (a root of the tree).
    pub(crate) fn root(&mut self, name: &str) -> Result<Node, GenError> {
        let id = self.area_id()?;
        Ok(self.push_area(NewArea::root(id, name)))
    }

    /// Creates a child area, checked against the grid's parent rule.
    pub(crate) fn child(
        &mut self,
        parent: &Node,
        level: AreaLevel,
        name: &str,
    ) -> Result<Node, GenError> {
        let id = self.area_id()?;
        let area = NewArea::child(parent.id, parent.level, &parent.path, id, level, name)?;
        Ok(self.push_area(area))
    }

    /// Adds a sampling site on an area (its id is assigned when written).
    pub(crate) fn site(&mut self, area: &Node, kind: SiteKind, name: String) {
        self.summary.sites += 1;
        self.batch.sites.push(NewSite {
            id: 0,
            area: area.id,
            area_path: area.path.clone(),
            kind,
            name,
        });
    }

    /// Queues a person (its id is assigned when written).
    pub(crate) fn person(&mut self, person: NewPerson) {
        self.produced += 1;
        self.summary.persons += 1;
        self.batch.persons.push(person);
    }

    /// Called between households: writes the batch once it is full.
    pub(crate) fn checkpoint(&mut self) -> Result<(), GenError> {
        if self.batch.persons.len() >= BATCH_PERSONS || self.batch.areas.len() >= BATCH_AREAS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes whatever is queued in one transaction and reports progress.
    pub(crate) fn flush(&mut self) -> Result<(), GenError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let n = self.batch.persons.len() as u64;
        if n > 0 {
            let first = self.store.allocate_ids(IdKind::Person, n)?;
            for (i, p) in self.batch.persons.iter_mut().enumerate() {
                p.id = PersonId(first + i as i64);
            }
        }
        let s = self.batch.sites.len() as u64;
        if s > 0 {
            let first = self.store.allocate_ids(IdKind::Site, s)?;
            for (i, site) in self.batch.sites.iter_mut().enumerate() {
                site.id = first + i as i64;
            }
        }
        self.store.write_population(&self.batch)?;
        self.persons_written += n;
        self.areas_written += self.batch.areas.len() as u64;
        self.batch.areas.clear();
        self.batch.sites.clear();
        self.batch.persons.clear();
        (self.progress)(GenProgress {
            persons_written: self.persons_written,
            persons_total: self.total,
            areas_written: self.areas_written,
        });
        Ok(())
    }

    /// Writes the last batch and hands back the counts.
    pub(crate) fn finish(mut self) -> Result<GenSummary, GenError> {
        self.flush()?;
        Ok(self.summary)
    }
}
