//! The storage trait every backend implements.
//!
//! The trait is synchronous on purpose: both backends do blocking I/O
//! (SQLite is a library call; the PostgreSQL client blocks on its socket),
//! and the HTTP layer moves each call onto a blocking thread. One trait,
//! one set of row types, and one test suite ([`testsuite`]) that every
//! backend runs, so SQLite and PostgreSQL cannot drift apart.
#![forbid(unsafe_code)]

mod accounts;
pub mod codec;
pub mod pipeline;
pub mod response;
mod rows;
pub mod stamp;
#[cfg(feature = "testsuite")]
pub mod testsuite;

pub use accounts::*;
pub use rows::*;

use chrono::{DateTime, Utc};
use gridsweep_domain::pipeline::{CtCutoffs, PipelineError};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, DocumentKind, PersonId};
use pipeline::{
    Command, CommandContext, DeviceEvent, Effects, NewRound, ResultRow, RoundRow, SyncReport,
    TubeRow,
};
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
}

/// Shorthand used across backends.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database behind gridsweep.
///
/// Writes are whole: a method either applies everything it was given in one
/// transaction or nothing, so an import or a generator batch can never be
/// half-written.
pub trait Store: Send + Sync {
    /// "sqlite" or "postgres", for logs and `/healthz`.
    fn backend(&self) -> &'static str;

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

    /// Sites inside an area's subtree.
    fn sites(&self, within: &AreaPath) -> StoreResult<Vec<SiteRecord>>;

    /// Row counts, for `/healthz` and the generator's summary.
    fn stats(&self) -> StoreResult<StoreStats>;

    /// Lets a site's own lab post results for tubes not formally received.
    fn set_direct_results(&self, site: i64, allowed: bool) -> StoreResult<()>;

    /// Creates a screening round over some areas.
    fn create_round(&self, round: NewRound) -> StoreResult<RoundRow>;

    /// One round.
    fn round(&self, id: i64) -> StoreResult<Option<RoundRow>>;

    /// Every round, newest first.
    fn rounds(&self) -> StoreResult<Vec<RoundRow>>;

    /// Applies one step of a tube's life in its own transaction (see
    /// [`pipeline::apply`]). Outer error: storage failed; inner: the rules
    /// refused and nothing was written.
    fn execute(
        &self,
        cmd: Command,
        ctx: CommandContext,
    ) -> StoreResult<Result<Effects, PipelineError>>;

    /// Applies several commands in one transaction (see
    /// [`pipeline::apply_all`]); with `all_or_nothing`, any refusal
    /// leaves nothing written.
    fn execute_all(
        &self,
        cmds: Vec<Command>,
        ctx: CommandContext,
        all_or_nothing: bool,
    ) -> StoreResult<Vec<Result<Effects, PipelineError>>>;

    /// Applies a device's batch (see [`pipeline::sync_batch`]); returns
    /// only once everything it reports is durable.
    fn sync(
        &self,
        device: String,
        events: Vec<DeviceEvent>,
        cutoffs: CtCutoffs,
        reach: gridsweep_domain::Reach,
    ) -> StoreResult<SyncReport>;

    /// A tube by barcode.
    fn tube(&self, barcode: &str) -> StoreResult<Option<TubeRow>>;

    /// Every result a tube has had, oldest first (corrections keep history).
    fn results(&self, tube: &str) -> StoreResult<Vec<ResultRow>>;

    // ---- Outbreak response (see [`response`]); appended here so the
    // methods above stay as they are.

    /// Reacts to a tube's current result in one transaction: opens or
    /// joins an incident, records a retest, proposes due decisions.
    /// Idempotent; returns what changed for the live stream.
    fn respond_to_result(
        &self,
        tube: String,
        at: chrono::DateTime<chrono::Utc>,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Effects>;

    /// Tubes whose current result the response engine may not have reacted
    /// to (the server stopped between storing a result and reacting, and
    /// nobody resent it): non-negative results no incident holds, results
    /// in an open incident's retest round it does not hold, and the latest
    /// result of each open incident's expansion round (whose reaction is to
    /// propose the lift). Reacting is idempotent, so the start-up sweep
    /// may include some already answered.
    fn unanswered_results(&self) -> StoreResult<Vec<String>>;

    /// Every incident, newest first.
    fn incidents(&self) -> StoreResult<Vec<gridsweep_response::report::IncidentInfo>>;

    /// One incident with its members, orders, tasks, decisions, timeline.
    /// What blocks the all-clear is judged by `playbook` (its coverage
    /// requirement).
    fn incident_detail(
        &self,
        id: i64,
        playbook: &gridsweep_response::Playbook,
    ) -> StoreResult<Option<response::IncidentDetail>>;

    /// Proposes a decision by hand.
    fn propose_decision(
        &self,
        incident: i64,
        proposal: response::ManualProposal,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>>;

    /// Confirms or rejects a proposed decision (role checked by the playbook).
    fn decide(
        &self,
        incident: i64,
        verdict: response::Verdict,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>>;

    /// Adds a line to an incident's timeline.
    fn add_note(
        &self,
        incident: i64,
        note: response::NewNote,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>>;

    /// Marks a task done.
    fn complete_task(
        &self,
        incident: i64,
        task: i64,
        by: String,
        at: chrono::DateTime<chrono::Utc>,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<gridsweep_response::report::TaskView, gridsweep_response::ResponseError>>;

    /// The report of an incident and its cascades.
    fn incident_report(
        &self,
        id: i64,
        playbook: &gridsweep_response::Playbook,
    ) -> StoreResult<Option<gridsweep_response::report::Report>>;

    /// Coverage of an area in a round.
    fn coverage(
        &self,
        area: AreaId,
        round: i64,
    ) -> StoreResult<
        Result<gridsweep_response::coverage::Coverage, gridsweep_response::ResponseError>,
    >;

    /// Marks a person away / hospitalised / sampled elsewhere for a round.
    /// A mark may complete a controlled compound's coverage, so the
    /// playbook looks again at what it would propose.
    fn mark_person(
        &self,
        mark: response::PersonMark,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<(), gridsweep_response::ResponseError>>;

    /// The marks of a round.
    fn person_marks(&self, round: i64) -> StoreResult<Vec<response::PersonMark>>;

    /// Residents whose household lies under `within`, by id, at most
    /// `limit`; full identifiers (a drill replays scans of real ID cards).
    fn residents_of(&self, within: &AreaPath, limit: u32) -> StoreResult<Vec<PersonRecord>>;

    /// Persons affiliated with a school or workplace, by id, at most `limit`.
    fn affiliates_of(&self, area: AreaId, limit: u32) -> StoreResult<Vec<PersonRecord>>;

    // Accounts, sessions, API tokens and the audit trail (migration 0004).

    /// One person by id, with full identifiers (the caller masks).
    fn person(&self, id: PersonId) -> StoreResult<Option<PersonRecord>>;

    /// One sampling site by id.
    fn site(&self, id: i64) -> StoreResult<Option<SiteRecord>>;

    /// The barcodes of the tubes packed in a box.
    fn box_tubes(&self, box_barcode: &str) -> StoreResult<Vec<String>>;

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

    /// Appends to the audit trail (which no method changes or deletes).
    fn append_audit(&self, entry: NewAudit) -> StoreResult<i64>;

    /// Audit entries matching `filter`, newest first.
    fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>>;
}
