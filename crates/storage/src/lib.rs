//! What every backend implements: small store traits by area
//! ([`PopulationStore`], [`RoundStore`], [`IncidentStore`],
//! [`AccountStore`], [`AuditStore`]), joined by [`Store`], plus a unit of
//! work ([`UnitOfWork::write`] / [`UnitOfWork::read`]) over the row-level
//! transaction traits [`pipeline::PipelineTx`] and [`incidents::IncidentTx`]
//! that the engine's use cases run on.
//!
//! The traits are synchronous on purpose: both backends do blocking I/O
//! (SQLite is a library call; the PostgreSQL client blocks on its socket),
//! and the HTTP layer moves each call onto a blocking thread. The test
//! suite every backend runs lives with the use cases, in the engine crate.
#![forbid(unsafe_code)]

mod accounts;
pub mod codec;
pub mod incidents;
pub mod pipeline;
mod rows;
pub mod stamp;

pub use accounts::*;
pub use rows::*;

use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, DocumentKind, PersonId};
use incidents::IncidentTx;
use pipeline::{NewRound, ResultRow, RoundRow, TubeRow};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// What can go wrong in a backend. Callers map `Conflict` and `NotFound`
/// to 4xx answers; the rest are 5xx.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique key or invariant the write would break (the message names it).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database URL could not be used.
    #[error("cannot open database: {0}")]
    Open(String),
    /// A migration failed at start-up.
    #[error("migration {version} failed: {message}")]
    Migration { version: i64, message: String },
    /// Anything the database itself reported.
    #[error("database error: {0}")]
    Backend(String),
    /// A stored value no longer parses (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database aborted the transaction to resolve contention (a
    /// deadlock or a serialization failure). Nothing of it was written, so
    /// the whole unit of work may run again; a backend retries it a few
    /// times before it answers this.
    #[error("database busy: {0}")]
    Contention(String),
}

/// Shorthand used across backends.
pub type StoreResult<T> = Result<T, StoreError>;

/// A unit of work that writes: run on the backend's writer, inside one
/// transaction committed (durably) before the caller hears back; an `Err`
/// rolls all of it back. `'static` because the SQLite backend runs it on
/// its writer thread.
/// `FnMut` so that a backend can run it again after [`StoreError::Contention`].
pub type WriteJob = Box<dyn FnMut(&mut dyn IncidentTx) -> StoreResult<()> + Send + 'static>;

/// A unit of work that only reads, on a reader connection.
pub type ReadJob<'a> = Box<dyn FnOnce(&mut dyn IncidentTx) -> StoreResult<()> + 'a>;

/// The database behind gridsweep: every area's trait, and the unit of work
/// the engine's use cases run in.
///
/// Writes are whole: a method either applies everything it was given in one
/// transaction or nothing, so an import or a generator batch can never be
/// half-written.
pub trait Store:
    PopulationStore + RoundStore + IncidentStore + AccountStore + AuditStore + Send + Sync
{
    /// "sqlite" or "postgres", for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// Runs `job` in one write transaction (see [`WriteJob`]). Callers use
    /// [`UnitOfWork::write`], which carries a value out.
    fn write_job(&self, job: WriteJob) -> StoreResult<()>;

    /// Runs `job` on a reader (see [`ReadJob`]). Callers use
    /// [`UnitOfWork::read`].
    fn read_job(&self, job: ReadJob<'_>) -> StoreResult<()>;
}

/// `store.write(|tx| …)` / `store.read(|tx| …)`: the unit of work with a
/// result, over the object-safe [`Store::write_job`] and
/// [`Store::read_job`]. Implemented for every store, `dyn Store` included.
pub trait UnitOfWork {
    /// Runs `f` in one write transaction and returns what it returned,
    /// once committed. `f` may run more than once (see [`WriteJob`]): all
    /// it does goes through `tx`, which a retry starts afresh.
    fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn IncidentTx) -> StoreResult<T> + Send + 'static;

    /// Runs `f` on a reader and returns what it returned.
    fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut dyn IncidentTx) -> StoreResult<T>;
}

impl<S: Store + ?Sized> UnitOfWork for S {
    fn write<T, F>(&self, mut f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn IncidentTx) -> StoreResult<T> + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let out = slot.clone();
        self.write_job(Box::new(move |tx| {
            let value = f(tx)?;
            *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
            Ok(())
        }))?;
        let value = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        value.ok_or_else(|| StoreError::Backend("a committed unit of work left no result".into()))
    }

    fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut dyn IncidentTx) -> StoreResult<T>,
    {
        let mut slot = None;
        self.read_job(Box::new(|tx| {
            slot = Some(f(tx)?);
            Ok(())
        }))?;
        slot.ok_or_else(|| StoreError::Backend("a read left no result".into()))
    }
}

/// The district as the roster knows it: areas, sites, persons.
pub trait PopulationStore {
    /// Reserves `n` consecutive ids of `kind` and returns the first. Bulk
    /// writers (the generator, the importer) assign ids themselves so that
    /// a batch can reference rows it is about to create.
    fn allocate_ids(&self, kind: IdKind, n: u64) -> StoreResult<i64>;

    /// Inserts areas, sites, persons and their affiliations in one
    /// transaction, and adds each new person to the resident count of every
    /// area above them.
    fn write_population(&self, batch: &PopulationBatch) -> StoreResult<()>;

    /// One area with its counts.
    fn area(&self, id: AreaId) -> StoreResult<Option<AreaNode>>;

    /// Several areas by id (order not guaranteed); used to print addresses.
    fn areas(&self, ids: &[AreaId]) -> StoreResult<Vec<AreaNode>>;

    /// The direct children of an area, by name.
    fn children(&self, id: AreaId) -> StoreResult<Vec<AreaNode>>;

    /// The areas without parent (the districts).
    fn roots(&self) -> StoreResult<Vec<AreaNode>>;

    /// Areas named `name` of one of `levels` inside `within` (or anywhere
    /// when `None`); how a roster's address columns find their nodes.
    fn find_areas(
        &self,
        within: Option<&AreaPath>,
        name: &str,
        levels: &[AreaLevel],
    ) -> StoreResult<Vec<AreaNode>>;

    /// The direct child of `parent` called `name`, if any.
    fn child_by_name(&self, parent: AreaId, name: &str) -> StoreResult<Option<AreaNode>>;

    /// Persons inside `within` whose name starts with `query`, or whose
    /// document number equals it; at most `limit`, by name.
    fn search_persons(
        &self,
        within: &AreaPath,
        query: &str,
        limit: u32,
    ) -> StoreResult<Vec<PersonRecord>>;

    /// The person holding a document, if on the roster.
    fn person_by_document(
        &self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonRecord>>;

    /// Which of these document numbers are already on the roster; lets an
    /// importer report duplicates row by row before writing anything.
    fn existing_documents(&self, docs: &[(DocumentKind, String)]) -> StoreResult<Vec<String>>;

    /// One person by id, with full identifiers (the caller masks).
    fn person(&self, id: PersonId) -> StoreResult<Option<PersonRecord>>;

    /// Residents whose household lies under `within`, by id, at most
    /// `limit`; full identifiers (a drill replays scans of real ID cards).
    fn residents_of(&self, within: &AreaPath, limit: u32) -> StoreResult<Vec<PersonRecord>>;

    /// Persons affiliated with a school or workplace, by id, at most `limit`.
    fn affiliates_of(&self, area: AreaId, limit: u32) -> StoreResult<Vec<PersonRecord>>;

    /// Sites inside an area's subtree.
    fn sites(&self, within: &AreaPath) -> StoreResult<Vec<SiteRecord>>;

    /// One sampling site by id.
    fn site(&self, id: i64) -> StoreResult<Option<SiteRecord>>;

    /// Lets a site's own lab post results for tubes not formally received.
    fn set_direct_results(&self, site: i64, allowed: bool) -> StoreResult<()>;

    /// Row counts, for `/healthz` and the generator's summary.
    fn stats(&self) -> StoreResult<StoreStats>;
}

/// Screening rounds and what their tubes became (reads; the pipeline's
/// writes go through the engine's unit of work).
pub trait RoundStore {
    /// Creates a screening round over some areas.
    fn create_round(&self, round: NewRound) -> StoreResult<RoundRow>;

    /// One round.
    fn round(&self, id: i64) -> StoreResult<Option<RoundRow>>;

    /// Every round, newest first.
    fn rounds(&self) -> StoreResult<Vec<RoundRow>>;

    /// A tube by barcode.
    fn tube(&self, barcode: &str) -> StoreResult<Option<TubeRow>>;

    /// Every result a tube has had, oldest first (corrections keep history).
    fn results(&self, tube: &str) -> StoreResult<Vec<ResultRow>>;

    /// The barcodes of the tubes packed in a box.
    fn box_tubes(&self, box_barcode: &str) -> StoreResult<Vec<String>>;
}

/// What the response engine asks of storage outside a unit of work.
pub trait IncidentStore {
    /// Tubes whose current result the response engine may not have reacted
    /// to (the server stopped between storing a result and reacting, and
    /// nobody resent it): non-negative results no incident holds, results
    /// in an open incident's retest round it does not hold, and the latest
    /// result of each open incident's expansion round (whose reaction is to
    /// propose the lift). Reacting is idempotent, so the start-up sweep
    /// may include some already answered.
    fn unanswered_results(&self) -> StoreResult<Vec<String>>;
}

/// Accounts, sessions and API tokens (migration 0004).
pub trait AccountStore {
    /// Creates an account; a taken username is a `Conflict`.
    fn create_user(&self, user: NewUser) -> StoreResult<UserRow>;

    /// One account by id.
    fn user(&self, id: i64) -> StoreResult<Option<UserRow>>;

    /// One account by username.
    fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>>;

    /// Every account, by id.
    fn users(&self) -> StoreResult<Vec<UserRow>>;

    /// Disables (or re-enables) an account; a disabled account's sessions
    /// and tokens stop working at once.
    fn set_user_disabled(&self, id: i64, disabled: bool) -> StoreResult<()>;

    /// Replaces an account's password hash and sets whether it must be
    /// changed at next use; ends every session of the account but
    /// `keep_session` (the one that changed it) and revokes its API tokens,
    /// so a leaked password stops working everywhere at once.
    fn set_password(
        &self,
        id: i64,
        password_hash: String,
        must_change: bool,
        keep_session: Option<String>,
    ) -> StoreResult<()>;

    /// Stores a new session.
    fn create_session(&self, session: SessionRow) -> StoreResult<()>;

    /// A session by the digest of its cookie value, if not expired at `now`.
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRow>>;

    /// Ends a session (logout); unknown is fine.
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    /// Stores a new API token.
    fn create_api_token(&self, token: NewApiToken) -> StoreResult<ApiTokenRow>;

    /// A live token by digest: not revoked, not expired at `now`.
    fn api_token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ApiTokenRow>>;

    /// Every API token (live or not), by id.
    fn api_tokens(&self) -> StoreResult<Vec<ApiTokenRow>>;

    /// Revokes a token; revoking twice keeps the first time.
    fn revoke_api_token(&self, id: i64, at: DateTime<Utc>) -> StoreResult<ApiTokenRow>;
}

/// The audit trail: appended to, read, never changed.
pub trait AuditStore {
    /// Appends to the audit trail (which no method changes or deletes).
    fn append_audit(&self, entry: NewAudit) -> StoreResult<i64>;

    /// Audit entries matching `filter`, newest first.
    fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>>;
}

/// Every store trait at once, for callers that use several:
/// `use gridsweep_storage::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AccountStore, AuditStore, IncidentStore, PopulationStore, RoundStore, Store, UnitOfWork,
    };
}
