//! The use cases of gridsweep, in one place: sync a device's batch, apply a
//! sampler's or a lab's command and respond to its results, propose and
//! decide, mark, report.
//!
//! Each use case is a unit of work on the store (`store.write(|tx| …)` /
//! `store.read(|tx| …)`) over the small transaction traits of
//! [`gridsweep_storage`]; the rules themselves are the pure crates'
//! ([`gridsweep_domain`], [`gridsweep_response`]). What a use case changed is
//! handed to a [`Publish`] (the server's live stream). The HTTP layer, the
//! CLI and the tests all call the same [`Engine`].
#![forbid(unsafe_code)]

pub mod incident;
pub mod pipeline;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use chrono::{DateTime, Utc};
use gridsweep_domain::pipeline::{CtCutoffs, PipelineError};
use gridsweep_domain::{AreaId, Reach};
use gridsweep_response::report::{IncidentInfo, Report, TaskView};
use gridsweep_response::{Playbook, ResponseError};
use gridsweep_storage::incidents::PersonMark;
use gridsweep_storage::pipeline::{
    Command, CommandContext, DeviceEvent, Effect, Effects, SyncReport,
};
use gridsweep_storage::{Store, StoreResult, UnitOfWork};
use incident::{IncidentDetail, ManualProposal, NewNote, Verdict};
use std::sync::Arc;

/// Where the effects of a use case go (the server's live stream); the
/// engine calls it after the unit of work has committed.
pub trait Publish: Send + Sync {
    /// Hands over what a committed unit of work changed.
    fn publish(&self, effects: Effects);
}

/// Publishes nowhere: the CLI's one-shot commands and the storage suite.
struct Nowhere;

impl Publish for Nowhere {
    fn publish(&self, _effects: Effects) {}
}

/// A refusal by the response rules, beside a storage failure.
type Refused<T> = Result<T, ResponseError>;

/// The use cases over one store, with the configuration the rules need.
/// Cheap to clone (the store is shared); every method blocks, so async
/// callers run them on a blocking thread.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    cutoffs: CtCutoffs,
    playbook: Playbook,
    publisher: Arc<dyn Publish>,
}

impl Engine {
    /// The engine over `store`, with default cut-offs and playbook, and no
    /// one listening to its effects.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cutoffs: CtCutoffs::default(),
            playbook: Playbook::default(),
            publisher: Arc::new(Nowhere),
        }
    }

    /// The same engine classifying results by other Ct cut-offs.
    pub fn with_cutoffs(mut self, cutoffs: CtCutoffs) -> Self {
        self.cutoffs = cutoffs;
        self
    }

    /// The same engine answering non-negative tubes by another playbook.
    pub fn with_playbook(mut self, playbook: Playbook) -> Self {
        self.playbook = playbook;
        self
    }

    /// The same engine handing its effects to `publisher`.
    pub fn with_publisher(mut self, publisher: Arc<dyn Publish>) -> Self {
        self.publisher = publisher;
        self
    }

    /// The store, for the plain reads and writes that are no use case
    /// (areas, accounts, the audit trail).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The Ct cut-offs results are classified by.
    pub fn cutoffs(&self) -> CtCutoffs {
        self.cutoffs
    }

    /// The playbook a non-negative tube sets in motion.
    pub fn playbook(&self) -> &Playbook {
        &self.playbook
    }

    /// The context a command runs in, with this engine's cut-offs.
    pub fn context(&self, actor: String, at: DateTime<Utc>, reach: Reach) -> CommandContext {
        CommandContext {
            actor,
            at,
            cutoffs: self.cutoffs,
            reach,
        }
    }

    fn publish(&self, effects: Effects) {
        if !effects.is_empty() {
            self.publisher.publish(effects);
        }
    }

    /// Looks up, on a reader, the persons these commands scan, so the
    /// single writer does not have to.
    fn known_persons<'c>(
        &self,
        cmds: impl IntoIterator<Item = &'c Command>,
    ) -> StoreResult<pipeline::Known> {
        let docs = pipeline::scanned_documents(cmds);
        let mut known = pipeline::Known::with_capacity(docs.len());
        if docs.is_empty() {
            return Ok(known);
        }
        self.store.read(|tx| {
            for d in docs {
                if let Some(id) = tx.person_by_document(d.kind(), d.number())? {
                    known.insert((d.kind(), d.number().to_string()), id);
                }
            }
            Ok(known)
        })
    }

    // ---- Sampling → lab → results

    /// Applies one step of a tube's life in its own unit of work (see
    /// [`pipeline::apply`]), without responding to it or publishing it.
    /// Outer error: storage failed; inner: the rules refused and nothing
    /// was written.
    pub fn execute(
        &self,
        cmd: Command,
        ctx: CommandContext,
    ) -> StoreResult<Result<Effects, PipelineError>> {
        let known = self.known_persons([&cmd])?;
        self.store
            .write(move |tx| pipeline::apply(tx, &cmd, &ctx, &known))
    }

    /// Applies several commands in one unit of work (see
    /// [`pipeline::apply_all`]); with `all_or_nothing`, any refusal leaves
    /// nothing written. Neither responds nor publishes.
    pub fn execute_all(
        &self,
        cmds: Vec<Command>,
        ctx: CommandContext,
        all_or_nothing: bool,
    ) -> StoreResult<Vec<Result<Effects, PipelineError>>> {
        self.store
            .write(move |tx| pipeline::apply_all(tx, &cmds, &ctx, all_or_nothing))
    }

    /// Applies one command, publishes what it changed, and responds to any
    /// result in it (see [`Engine::settle`]): what a sampler's or a lab's
    /// request does.
    pub fn run(
        &self,
        cmd: Command,
        ctx: CommandContext,
    ) -> StoreResult<Result<Effects, PipelineError>> {
        let at = ctx.at;
        let effects = match self.execute(cmd, ctx)? {
            Ok(effects) => effects,
            Err(refused) => return Ok(Err(refused)),
        };
        self.settle(effects.clone(), at)?;
        Ok(Ok(effects))
    }

    /// Applies a device's batch (see [`pipeline::sync_batch`]) as the
    /// device's account (`reach`), without responding; returns once
    /// everything it reports is durable.
    pub fn sync(
        &self,
        device: String,
        events: Vec<DeviceEvent>,
        reach: Reach,
    ) -> StoreResult<SyncReport> {
        let known = self.known_persons(events.iter().map(|e| &e.command))?;
        let cutoffs = self.cutoffs;
        self.store
            .write(move |tx| pipeline::sync_batch(tx, &device, &events, cutoffs, &reach, &known))
    }

    /// Applies a device's batch, then publishes and responds to what it
    /// changed: what `POST /api/v1/sync` does. The report's effects are
    /// taken out (they are not part of the device's answer).
    pub fn sync_and_settle(
        &self,
        device: String,
        events: Vec<DeviceEvent>,
        reach: Reach,
    ) -> StoreResult<SyncReport> {
        let mut report = self.sync(device, events, reach)?;
        self.settle(std::mem::take(&mut report.effects), Utc::now())?;
        Ok(report)
    }

    // ---- The response

    /// Publishes what a write changed, then reacts to every result in it —
    /// opening or joining an incident for a non-negative tube, recording
    /// retests, proposing decisions — and publishes that too. Returns what
    /// the reaction changed. Done before the caller hears back, so the
    /// incident exists (durably) when the poster of the result does.
    pub fn settle(&self, effects: Effects, at: DateTime<Utc>) -> StoreResult<Effects> {
        let tubes: Vec<String> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::TubeResulted { tube, .. } => Some(tube.clone()),
                // A retried result: if the server stopped between storing
                // it and responding to it, the retry finishes the response
                // (the engine is idempotent, so an answered one changes
                // nothing).
                Effect::ResultUnchanged { tube } => Some(tube.clone()),
                _ => None,
            })
            .collect();
        self.publish(effects);
        let mut more = Vec::new();
        for t in tubes {
            more.extend(self.respond_to_result(t, at)?);
        }
        for e in &more {
            if let Effect::IncidentOpened {
                incident,
                area_name,
                ..
            } = e
            {
                tracing::warn!(incident, area = %area_name, "incident opened");
            }
        }
        self.publish(more.clone());
        Ok(more)
    }

    /// Reacts to a tube's current result in one unit of work: opens or
    /// joins an incident, records a retest, proposes due decisions.
    /// Idempotent; returns what changed (not published).
    pub fn respond_to_result(&self, tube: String, at: DateTime<Utc>) -> StoreResult<Effects> {
        // Most results are negative tubes of no incident: a read says so
        // without taking the writer.
        if !self.store.read(|tx| incident::needs_response(tx, &tube))? {
            return Ok(vec![]);
        }
        let playbook = self.playbook.clone();
        self.store.write(move |tx| {
            tx.serialize_responses()?;
            incident::respond(tx, &tube, at, &playbook)
        })
    }

    /// Reacts to every result the response may have missed because the
    /// server stopped between storing it and reacting to it, and nobody
    /// resent it (see [`gridsweep_storage::IncidentStore::unanswered_results`]);
    /// run at start-up, before serving. Returns how many tubes changed
    /// something.
    pub fn finish_interrupted_responses(&self) -> StoreResult<usize> {
        let mut changed = 0;
        for tube in self.store.unanswered_results()? {
            if !self.respond_to_result(tube, Utc::now())?.is_empty() {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Every incident, newest first.
    pub fn incidents(&self) -> StoreResult<Vec<IncidentInfo>> {
        self.store.read(|tx| tx.incidents())
    }

    /// One incident with its members, orders, tasks, decisions, timeline,
    /// and what blocks its all-clear by this engine's playbook.
    pub fn incident_detail(&self, id: i64) -> StoreResult<Option<IncidentDetail>> {
        self.store
            .read(|tx| incident::detail(tx, id, &self.playbook))
    }

    /// The report of an incident and its cascades.
    pub fn incident_report(&self, id: i64) -> StoreResult<Option<Report>> {
        self.store
            .read(|tx| incident::report(tx, id, &self.playbook))
    }

    /// Coverage of an area in a round.
    pub fn coverage(
        &self,
        area: AreaId,
        round: i64,
    ) -> StoreResult<Refused<gridsweep_response::coverage::Coverage>> {
        self.store
            .read(|tx| incident::area_coverage(tx, area, round))
    }

    /// The marks of a round.
    pub fn person_marks(&self, round: i64) -> StoreResult<Vec<PersonMark>> {
        self.store.read(|tx| tx.marks(round))
    }

    /// Proposes a decision by hand, and publishes it.
    pub fn propose_decision(
        &self,
        incident: i64,
        proposal: ManualProposal,
    ) -> StoreResult<Refused<Effects>> {
        let out = self.store.write(move |tx| {
            tx.serialize_responses()?;
            incident::propose(tx, incident, &proposal)
        })?;
        self.published(out)
    }

    /// Confirms or rejects a proposed decision (the playbook says who may),
    /// and publishes what it set off.
    pub fn decide(&self, incident: i64, verdict: Verdict) -> StoreResult<Refused<Effects>> {
        let playbook = self.playbook.clone();
        let out = self.store.write(move |tx| {
            tx.serialize_responses()?;
            incident::decide(tx, incident, &verdict, &playbook)
        })?;
        self.published(out)
    }

    /// Adds a line to an incident's timeline, and publishes it.
    pub fn add_note(&self, incident: i64, note: NewNote) -> StoreResult<Refused<Effects>> {
        let out = self
            .store
            .write(move |tx| incident::note(tx, incident, &note))?;
        self.published(out)
    }

    /// Marks a task done, and tells the live stream.
    pub fn complete_task(
        &self,
        incident: i64,
        task: i64,
        by: String,
        at: DateTime<Utc>,
    ) -> StoreResult<Refused<TaskView>> {
        let playbook = self.playbook.clone();
        let out = self.store.write(move |tx| {
            tx.serialize_responses()?;
            incident::complete_task(tx, incident, task, &by, at, &playbook)
        })?;
        if out.is_ok() {
            self.publish(vec![Effect::IncidentUpdated {
                incident,
                what: format!("task {task} done"),
            }]);
        }
        Ok(out)
    }

    /// Marks a person away / hospitalised / sampled elsewhere for a round.
    /// A mark may complete a controlled compound's coverage, so the
    /// playbook looks again at what it would propose.
    pub fn mark_person(&self, mark: PersonMark) -> StoreResult<Refused<()>> {
        let playbook = self.playbook.clone();
        self.store.write(move |tx| {
            tx.serialize_responses()?;
            incident::mark(tx, &mark, &playbook)
        })
    }

    /// Publishes the effects of an accepted use case; hands the answer back.
    fn published(&self, out: Refused<Effects>) -> StoreResult<Refused<Effects>> {
        if let Ok(effects) = &out {
            self.publish(effects.clone());
        }
        Ok(out)
    }
}
