//! How rows are encoded and decoded, once for both backends.
//!
//! SQLite and PostgreSQL store the same tables with the same column names
//! and the same column meanings (times as Unix milliseconds, enums as their
//! words, nested values as JSON text). What differs is only how a value is
//! fetched from a driver's row. So a backend implements [`Columns`] over its
//! row type (a few lines), and every decoder here reads columns by name
//! through it: a decoder cannot drift between backends, nor fall out of
//! step with the order of a column list. The column lists themselves live
//! here too, so the `SELECT` and the decoder cannot disagree.
//!
//! Nothing here knows a database crate; it is pure and testable alone.

use crate::incidents::{PersonFact, PersonMark, PoolBlock, RoundTube, mask_doc};
use crate::pipeline::{
    BoxRow, BoxStatus, EventState, ResultRow, RoundRow, SiteRow, StoredEvent, TubeRow,
};
use crate::stamp::from_ms;
use crate::{
    ApiTokenRow, AreaNode, AuditRow, NewAudit, PersonRecord, SessionRow, SiteRecord, StoreError,
    StoreResult, UserRow,
};
use chrono::{DateTime, Utc};
use gridsweep_domain::pipeline::{CtValues, Outcome, TubeKind, TubeStatus};
use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, AreaPath, DocumentKind, Gender,
    PersonDocument, PersonId, PersonName, Phone, SiteKind,
};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::decide::TubeTally;
use gridsweep_response::report::{
    DecisionView, EntryView, IncidentInfo, MemberView, OrderView, SampleFact, TaskView, TubeRole,
};
use gridsweep_response::{
    AreaBrief, DecisionKind, DecisionStatus, IncidentStatus, MarkKind, MemberKind, MemberStatus,
    OrderKind, PersonBrief, RoundRole, TaskKind, TaskStatus, TimelineKind,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

// ---------------------------------------------------------------------------
// Reading a row by column name
// ---------------------------------------------------------------------------

/// One driver row, read by column name.
///
/// The only thing a backend writes to decode a row: each method fetches
/// the named column as the type both schemas store it in, and reports a
/// missing column or a wrong type as the backend's own error.
pub trait Columns {
    /// A non-null integer column (`INTEGER`/`BIGINT`).
    fn int(&self, col: &str) -> StoreResult<i64>;
    /// A nullable integer column.
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    /// A non-null text column.
    fn text(&self, col: &str) -> StoreResult<String>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    /// A boolean column (SQLite stores 0/1).
    fn flag(&self, col: &str) -> StoreResult<bool>;
    /// A nullable floating-point column.
    fn opt_real(&self, col: &str) -> StoreResult<Option<f64>>;

    /// A non-null time column, stored as Unix milliseconds.
    fn at(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        from_ms(self.int(col)?)
    }

    /// A nullable time column, stored as Unix milliseconds.
    fn opt_at(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.opt_int(col)?.map(from_ms).transpose()
    }
}

// ---------------------------------------------------------------------------
// Value helpers
// ---------------------------------------------------------------------------

/// A stored value that no longer parses: a corrupt row, named by `what`.
pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A value as the JSON text it is stored as. Failing to encode is the
/// backend's fault, not the row's.
pub fn js<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

/// A stored JSON text back; text that does not parse is a corrupt row.
pub fn unjs<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("json: {e}")))
}

/// A nullable value as nullable JSON text.
pub fn opt_js<T: Serialize>(v: &Option<T>) -> StoreResult<Option<String>> {
    v.as_ref().map(js).transpose()
}

/// Nullable JSON text back.
pub fn opt_unjs<T: DeserializeOwned>(s: Option<String>) -> StoreResult<Option<T>> {
    s.as_deref().map(unjs).transpose()
}

/// An enum stored as its word, back; an unknown word is a corrupt row.
pub fn word<T>(parse: fn(&str) -> Option<T>, what: &str, s: &str) -> StoreResult<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("{what}: {s}")))
}

/// A nullable enum word back.
pub fn opt_word<T>(
    parse: fn(&str) -> Option<T>,
    what: &str,
    s: Option<&str>,
) -> StoreResult<Option<T>> {
    s.map(|s| word(parse, what, s)).transpose()
}

/// A stored area id back (ids are positive).
pub fn area_id(v: i64) -> StoreResult<AreaId> {
    AreaId::new(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A stored area path back.
pub fn area_path(s: &str) -> StoreResult<AreaPath> {
    AreaPath::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A stored area level back.
pub fn area_level(s: &str) -> StoreResult<AreaLevel> {
    AreaLevel::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A count or size stored in a signed column, back as the `u32` it was
/// written from (an impossible negative reads as 0).
pub fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// The word an incident tube's role is stored as.
pub fn tube_role_word(r: TubeRole) -> &'static str {
    match r {
        TubeRole::Trigger => "trigger",
        TubeRole::Expansion => "expansion",
        TubeRole::Retest => "retest",
    }
}

/// A stored tube role back.
pub fn tube_role(s: &str) -> StoreResult<TubeRole> {
    match s {
        "trigger" => Ok(TubeRole::Trigger),
        "expansion" => Ok(TubeRole::Expansion),
        "retest" => Ok(TubeRole::Retest),
        other => Err(StoreError::Corrupt(format!("tube role {other}"))),
    }
}

/// What a round is to the incident that owns it: an incident row names
/// its expansion and its retest round, and a round found through either
/// is the one it matches.
pub fn round_role(round: i64, expansion_round: Option<i64>) -> RoundRole {
    if expansion_round == Some(round) {
        RoundRole::Expansion
    } else {
        RoundRole::Retest
    }
}

// ---------------------------------------------------------------------------
// Population rows
// ---------------------------------------------------------------------------

/// An areas row (`id, parent_id, level, name, path, resident_count`).
pub fn area_node(r: &dyn Columns) -> StoreResult<AreaNode> {
    Ok(AreaNode {
        id: AreaId::new(r.int("id")?).map_err(|e| corrupt("area id", e))?,
        parent: r
            .opt_int("parent_id")?
            .map(AreaId::new)
            .transpose()
            .map_err(|e| corrupt("parent id", e))?,
        level: AreaLevel::parse(&r.text("level")?).map_err(|e| corrupt("level", e))?,
        name: r.text("name")?,
        path: AreaPath::parse(&r.text("path")?).map_err(|e| corrupt("path", e))?,
        resident_count: r.int("resident_count")?,
    })
}

/// A persons row (affiliations are filled in by [`affiliation`] rows).
pub fn person_record(r: &dyn Columns) -> StoreResult<PersonRecord> {
    let kind = r.text("doc_kind")?;
    let kind = DocumentKind::parse(&kind).ok_or_else(|| corrupt("doc kind", &kind))?;
    let name = r.text("name")?;
    let number = r.text("doc_number")?;
    Ok(PersonRecord {
        id: PersonId(r.int("id")?),
        name: PersonName::parse(&name).map_err(|e| corrupt("name", e))?,
        document: PersonDocument::parse(kind, &number).map_err(|e| corrupt("document", e))?,
        gender: r.opt_text("gender")?.as_deref().and_then(Gender::parse),
        birth_date: r.opt_text("birth_date")?,
        phone: r
            .opt_text("phone")?
            .as_deref()
            .map(Phone::parse)
            .transpose()
            .map_err(|e| corrupt("phone", e))?,
        household: AreaId::new(r.int("household_id")?).map_err(|e| corrupt("household", e))?,
        household_path: AreaPath::parse(&r.text("area_path")?).map_err(|e| corrupt("path", e))?,
        affiliations: Vec::new(),
    })
}

/// An affiliations row (`area_id, kind`).
pub fn affiliation(r: &dyn Columns) -> StoreResult<Affiliation> {
    let kind = r.text("kind")?;
    Ok(Affiliation {
        area: AreaId::new(r.int("area_id")?).map_err(|e| corrupt("affiliation", e))?,
        kind: AffiliationKind::parse(&kind).ok_or_else(|| corrupt("affiliation", &kind))?,
    })
}

/// A sites row (`id, area_id, kind, name`).
pub fn site_record(r: &dyn Columns) -> StoreResult<SiteRecord> {
    let kind = r.text("kind")?;
    Ok(SiteRecord {
        id: r.int("id")?,
        area: AreaId::new(r.int("area_id")?).map_err(|e| corrupt("site area", e))?,
        kind: SiteKind::parse(&kind).ok_or_else(|| corrupt("site kind", &kind))?,
        name: r.text("name")?,
    })
}

// ---------------------------------------------------------------------------
// Pipeline rows
// ---------------------------------------------------------------------------

/// The tubes columns [`tube`] reads (and inserts write, in this order).
pub const TUBE_COLS: &str = "barcode, round_id, site_id, kind, status, capacity, samples, \
     opened_at, opened_by, sealed_at, box_barcode, received_at, received_by, resulted_at";

/// A `TUBE_COLS` row.
pub fn tube(r: &dyn Columns) -> StoreResult<TubeRow> {
    let kind = r.text("kind")?;
    let status = r.text("status")?;
    Ok(TubeRow {
        barcode: r.text("barcode")?,
        round: r.int("round_id")?,
        site: r.int("site_id")?,
        kind: TubeKind::parse(&kind).ok_or_else(|| corrupt("tube kind", &kind))?,
        status: TubeStatus::parse(&status).ok_or_else(|| corrupt("tube status", &status))?,
        capacity: to_u32(r.int("capacity")?),
        samples: to_u32(r.int("samples")?),
        opened_at: r.at("opened_at")?,
        opened_by: r.text("opened_by")?,
        sealed_at: r.opt_at("sealed_at")?,
        box_barcode: r.opt_text("box_barcode")?,
        received_at: r.opt_at("received_at")?,
        received_by: r.opt_text("received_by")?,
        resulted_at: r.opt_at("resulted_at")?,
    })
}

/// The results columns [`result`] reads (and inserts write, in this order).
pub const RESULT_COLS: &str =
    "tube, outcome, ct_orf1ab, ct_n, grey_zone, posted_at, posted_by, correction, current";

/// A `RESULT_COLS` row.
pub fn result(r: &dyn Columns) -> StoreResult<ResultRow> {
    let outcome = r.text("outcome")?;
    Ok(ResultRow {
        tube: r.text("tube")?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        ct: CtValues {
            orf1ab: r.opt_real("ct_orf1ab")?,
            n: r.opt_real("ct_n")?,
        },
        grey_zone: r.flag("grey_zone")?,
        posted_at: r.at("posted_at")?,
        posted_by: r.text("posted_by")?,
        correction: r.flag("correction")?,
        current: r.flag("current")?,
    })
}

/// The rounds columns [`round`] reads.
pub const ROUND_COLS: &str = "id, name, pool_size, starts_at, ends_at, closed";

/// A `ROUND_COLS` row with its areas (from `round_areas`).
pub fn round(r: &dyn Columns, areas: Vec<AreaId>) -> StoreResult<RoundRow> {
    Ok(RoundRow {
        id: r.int("id")?,
        name: r.text("name")?,
        pool_size: to_u32(r.int("pool_size")?),
        starts_at: r.at("starts_at")?,
        ends_at: r.at("ends_at")?,
        closed: r.flag("closed")?,
        areas,
    })
}

/// A sites row as the pipeline sees it (`id, area_id, direct_results`).
pub fn site_row(r: &dyn Columns) -> StoreResult<SiteRow> {
    Ok(SiteRow {
        id: r.int("id")?,
        area: area_id(r.int("area_id")?)?,
        direct_results: r.flag("direct_results")?,
    })
}

/// A boxes row (`barcode, status, created_at, handed_over_at`).
pub fn box_row(r: &dyn Columns) -> StoreResult<BoxRow> {
    let status = r.text("status")?;
    Ok(BoxRow {
        barcode: r.text("barcode")?,
        status: BoxStatus::parse(&status).ok_or_else(|| corrupt("box", &status))?,
        created_at: r.at("created_at")?,
        handed_over_at: r.opt_at("handed_over_at")?,
    })
}

/// A device_events row (`seq, at, command, state`).
pub fn event(r: &dyn Columns) -> StoreResult<StoredEvent> {
    let command = r.text("command")?;
    let state = r.text("state")?;
    Ok(StoredEvent {
        seq: r.int("seq")?,
        at: r.at("at")?,
        command: serde_json::from_str(&command).map_err(|e| corrupt("command", e))?,
        state: serde_json::from_str(&state).map_err(|e| corrupt("state", e))?,
    })
}

/// The events a device may still replay from `from_seq`: the unbroken
/// run of pending events with consecutive numbers, read in `seq` order.
/// The first gap or settled event ends it, so a device never skips one.
pub fn pending_run(
    from_seq: i64,
    events: impl Iterator<Item = StoreResult<StoredEvent>>,
) -> StoreResult<Vec<StoredEvent>> {
    let mut out = Vec::new();
    for (expect, e) in (from_seq..).zip(events) {
        let e = e?;
        if e.seq != expect || e.state != EventState::Pending {
            break;
        }
        out.push(e);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Response rows
// ---------------------------------------------------------------------------

/// The persons columns [`person_fact`] reads.
pub const PERSON_FACT_COLS: &str = "id, name, doc_kind, doc_number, household_id, area_path";

/// A `PERSON_FACT_COLS` row with its affiliations, the document masked
/// (incident tables never hold a full ID number).
pub fn person_fact(
    r: &dyn Columns,
    affiliations: Vec<(AreaId, AffiliationKind)>,
) -> StoreResult<PersonFact> {
    Ok(PersonFact {
        brief: PersonBrief {
            id: PersonId(r.int("id")?),
            document_masked: mask_doc(&r.text("doc_kind")?, &r.text("doc_number")?),
            name: r.text("name")?,
        },
        household: area_id(r.int("household_id")?)?,
        household_path: area_path(&r.text("area_path")?)?,
        affiliations,
    })
}

/// An affiliations row as a person fact holds it (`area_id, kind`).
pub fn fact_affiliation(r: &dyn Columns) -> StoreResult<(AreaId, AffiliationKind)> {
    Ok((
        area_id(r.int("area_id")?)?,
        word(AffiliationKind::parse, "affiliation", &r.text("kind")?)?,
    ))
}

/// An areas row as a brief (`id, name`, and `level` unless given).
pub fn area_brief(r: &dyn Columns, level: Option<AreaLevel>) -> StoreResult<AreaBrief> {
    Ok(AreaBrief {
        id: area_id(r.int("id")?)?,
        level: match level {
            Some(l) => l,
            None => area_level(&r.text("level")?)?,
        },
        name: r.text("name")?,
    })
}

/// A sites row as a place (`name, area_path`).
pub fn site_place(r: &dyn Columns) -> StoreResult<(String, AreaPath)> {
    Ok((r.text("name")?, area_path(&r.text("area_path")?)?))
}

/// A round's tubes, each with its current result and its site's name and
/// path as `lookup` finds them; a tube whose site is gone is a corrupt row.
pub fn round_tubes(
    tubes: Vec<TubeRow>,
    mut lookup: impl FnMut(&TubeRow) -> StoreResult<(Option<ResultRow>, Option<(String, AreaPath)>)>,
) -> StoreResult<Vec<RoundTube>> {
    let mut out = Vec::with_capacity(tubes.len());
    for tube in tubes {
        let (result, place) = lookup(&tube)?;
        let (site_name, site_path) =
            place.ok_or_else(|| StoreError::Corrupt(format!("site {}", tube.site)))?;
        out.push(RoundTube {
            tube,
            result,
            site_name,
            site_path,
        });
    }
    Ok(out)
}

/// An incidents row found by round (`id, expansion_round`): the incident
/// and what the round is to it.
pub fn incident_round(round: i64, r: &dyn Columns) -> StoreResult<(i64, RoundRole)> {
    Ok((
        r.int("id")?,
        round_role(round, r.opt_int("expansion_round")?),
    ))
}

/// An incident_tubes row found by tube (`incident_id, role`).
pub fn tube_incident(r: &dyn Columns) -> StoreResult<(i64, TubeRole)> {
    Ok((r.int("incident_id")?, tube_role(&r.text("role")?)?))
}

/// The incidents columns [`incident`] reads (and inserts write, in this
/// order, followed by `area_id`).
pub const INCIDENT_COLS: &str = "id, parent_id, title, area, status, opened_at, closed_at, \
     trigger_tube, case_person, expansion_round, retest_round";

/// An `INCIDENT_COLS` row.
pub fn incident(r: &dyn Columns) -> StoreResult<IncidentInfo> {
    Ok(IncidentInfo {
        id: r.int("id")?,
        parent: r.opt_int("parent_id")?,
        title: r.text("title")?,
        area: unjs(&r.text("area")?)?,
        status: word(IncidentStatus::parse, "incident status", &r.text("status")?)?,
        opened_at: r.at("opened_at")?,
        closed_at: r.opt_at("closed_at")?,
        trigger_tube: r.opt_text("trigger_tube")?,
        case: opt_unjs(r.opt_text("case_person")?)?,
        expansion_round: r.opt_int("expansion_round")?,
        retest_round: r.opt_int("retest_round")?,
    })
}

/// An incident_tubes row (`tube, role`).
pub fn incident_tube(r: &dyn Columns) -> StoreResult<(String, TubeRole)> {
    Ok((r.text("tube")?, tube_role(&r.text("role")?)?))
}

/// The incident_members columns [`member`] reads.
pub const MEMBER_COLS: &str = "person, kind, status, source, address, affiliations, household_id";

/// A `MEMBER_COLS` row, with the member's household.
pub fn member(r: &dyn Columns) -> StoreResult<(MemberView, AreaId)> {
    Ok((
        MemberView {
            person: unjs(&r.text("person")?)?,
            kind: word(MemberKind::parse, "member kind", &r.text("kind")?)?,
            status: word(MemberStatus::parse, "member status", &r.text("status")?)?,
            source: r.text("source")?,
            address: r.text("address")?,
            affiliations: unjs(&r.text("affiliations")?)?,
        },
        area_id(r.int("household_id")?)?,
    ))
}

/// The control_orders columns [`order`] reads (and inserts write, in this
/// order, followed by `area_id, person_id`).
pub const ORDER_COLS: &str = "id, incident_id, kind, area, person, starts_at, ends_at, ordered_by, \
     reason, lifted_at, lifted_by";

/// An `ORDER_COLS` row.
pub fn order(r: &dyn Columns) -> StoreResult<OrderView> {
    Ok(OrderView {
        id: r.int("id")?,
        incident: r.int("incident_id")?,
        kind: word(OrderKind::parse, "order kind", &r.text("kind")?)?,
        area: opt_unjs(r.opt_text("area")?)?,
        person: opt_unjs(r.opt_text("person")?)?,
        starts_at: r.at("starts_at")?,
        ends_at: r.opt_at("ends_at")?,
        ordered_by: r.text("ordered_by")?,
        reason: r.text("reason")?,
        lifted_at: r.opt_at("lifted_at")?,
        lifted_by: r.opt_text("lifted_by")?,
    })
}

/// The tasks columns [`task`] reads (and inserts write, in this order,
/// followed by `area_id, person_id`).
pub const TASK_COLS: &str = "id, incident_id, kind, title, area, person, assignee, target, status, \
     created_at, done_at, done_by";

/// A `TASK_COLS` row.
pub fn task(r: &dyn Columns) -> StoreResult<TaskView> {
    Ok(TaskView {
        id: r.int("id")?,
        incident: r.int("incident_id")?,
        kind: word(TaskKind::parse, "task kind", &r.text("kind")?)?,
        title: r.text("title")?,
        area: opt_unjs(r.opt_text("area")?)?,
        person: opt_unjs(r.opt_text("person")?)?,
        assignee: unjs(&r.text("assignee")?)?,
        target: to_u32(r.int("target")?),
        status: word(TaskStatus::parse, "task status", &r.text("status")?)?,
        created_at: r.at("created_at")?,
        done_at: r.opt_at("done_at")?,
        done_by: r.opt_text("done_by")?,
    })
}

/// The decisions columns [`decision`] reads (and inserts write, in this
/// order, followed by `person_id`).
pub const DECISION_COLS: &str = "id, incident_id, kind, person, status, reason, proposed_at, \
     proposed_by, decided_at, decided_by, decided_role, note, override_reason";

/// A `DECISION_COLS` row.
pub fn decision(r: &dyn Columns) -> StoreResult<DecisionView> {
    Ok(DecisionView {
        id: r.int("id")?,
        incident: r.int("incident_id")?,
        kind: word(DecisionKind::parse, "decision kind", &r.text("kind")?)?,
        person: opt_unjs(r.opt_text("person")?)?,
        status: word(DecisionStatus::parse, "decision status", &r.text("status")?)?,
        reason: r.text("reason")?,
        proposed_at: r.at("proposed_at")?,
        proposed_by: r.text("proposed_by")?,
        decided_at: r.opt_at("decided_at")?,
        decided_by: r.opt_text("decided_by")?,
        decided_role: opt_word(
            gridsweep_response::Responder::parse,
            "role",
            r.opt_text("decided_role")?.as_deref(),
        )?,
        note: r.opt_text("note")?,
        override_reason: r.opt_text("override_reason")?,
    })
}

/// A timeline row of `incident` (`at, actor, kind, text`).
pub fn entry(incident: i64, r: &dyn Columns) -> StoreResult<EntryView> {
    Ok(EntryView {
        incident,
        at: r.at("at")?,
        actor: r.text("actor")?,
        kind: word(TimelineKind::parse, "timeline kind", &r.text("kind")?)?,
        text: r.text("text")?,
    })
}

/// A samples row as a fact (`tube, person_id, at`).
pub fn sample(r: &dyn Columns) -> StoreResult<SampleFact> {
    Ok(SampleFact {
        tube: r.text("tube")?,
        person: r.opt_int("person_id")?.map(PersonId),
        at: r.at("at")?,
    })
}

/// A round's tally row (`tubes, resulted, non_negative`).
pub fn tally(r: &dyn Columns) -> StoreResult<TubeTally> {
    let n = |col: &str| -> StoreResult<u32> { Ok(u32::try_from(r.int(col)?).unwrap_or(u32::MAX)) };
    Ok(TubeTally {
        tubes: n("tubes")?,
        resulted: n("resulted")?,
        non_negative: n("non_negative")?,
    })
}

/// A person_marks row of `round` (`person_id, kind, note, at, marked_by`).
pub fn mark(round: i64, r: &dyn Columns) -> StoreResult<PersonMark> {
    Ok(PersonMark {
        round,
        person: PersonId(r.int("person_id")?),
        kind: word(MarkKind::parse, "mark", &r.text("kind")?)?,
        note: r.text("note")?,
        at: r.at("at")?,
        by: r.text("marked_by")?,
    })
}

/// A roster row (`id, name, doc_kind, doc_number, area_path,
/// household_name, sampled, mark`).
pub fn roster_entry(r: &dyn Columns) -> StoreResult<RosterEntry> {
    Ok(RosterEntry {
        person: PersonBrief {
            id: PersonId(r.int("id")?),
            name: r.text("name")?,
            document_masked: mask_doc(&r.text("doc_kind")?, &r.text("doc_number")?),
        },
        household_path: area_path(&r.text("area_path")?)?,
        household_name: r.text("household_name")?,
        sampled: r.flag("sampled")?,
        mark: opt_word(MarkKind::parse, "mark", r.opt_text("mark")?.as_deref())?,
    })
}

/// A pool_blocks row of `incident` (`tube, design, members, tasks, complete`).
pub fn pool_block(incident: i64, r: &dyn Columns) -> StoreResult<PoolBlock> {
    Ok(PoolBlock {
        incident,
        tube: r.text("tube")?,
        block: gridsweep_response::stage2::Block {
            design: unjs(&r.text("design")?)?,
            members: unjs(&r.text("members")?)?,
        },
        tasks: unjs(&r.text("tasks")?)?,
        complete: r.flag("complete")?,
    })
}

// ---------------------------------------------------------------------------
// Accounts rows
// ---------------------------------------------------------------------------

/// The users query [`user`] reads: the account with its scope's path.
pub const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.role, u.scope_area, \
     a.path AS scope_path, u.lab, u.password_hash, u.disabled, u.created_at, \
     u.must_change_password
     FROM users u LEFT JOIN areas a ON a.id = u.scope_area";

/// A `USER_SELECT` row.
pub fn user(r: &dyn Columns) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: r.int("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: gridsweep_domain::Role::parse(&r.text("role")?).map_err(|e| corrupt("role", e))?,
        scope_area: r
            .opt_int("scope_area")?
            .map(AreaId::new)
            .transpose()
            .map_err(|e| corrupt("scope", e))?,
        scope_path: r
            .opt_text("scope_path")?
            .as_deref()
            .map(AreaPath::parse)
            .transpose()
            .map_err(|e| corrupt("scope path", e))?,
        lab: r.opt_text("lab")?,
        password_hash: r.opt_text("password_hash")?,
        disabled: r.flag("disabled")?,
        must_change_password: r.flag("must_change_password")?,
        created_at: r.at("created_at")?,
    })
}

/// An update of one user by id must have found the user: no row changed
/// means no such account, which callers answer with 404.
pub fn user_updated(rows_changed: u64, id: i64) -> StoreResult<()> {
    if rows_changed == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    Ok(())
}

/// The api_tokens columns [`api_token`] reads (never the digest).
pub const TOKEN_COLS: &str = "id, user_id, name, prefix, created_at, expires_at, revoked_at";

/// A `TOKEN_COLS` row.
pub fn api_token(r: &dyn Columns) -> StoreResult<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: r.int("id")?,
        user_id: r.int("user_id")?,
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        created_at: r.at("created_at")?,
        expires_at: r.at("expires_at")?,
        revoked_at: r.opt_at("revoked_at")?,
    })
}

/// The sessions columns [`session`] reads.
pub const SESSION_COLS: &str = "token_hash, user_id, csrf_token, created_at, expires_at, address";

/// A `SESSION_COLS` row.
pub fn session(r: &dyn Columns) -> StoreResult<SessionRow> {
    Ok(SessionRow {
        token_hash: r.text("token_hash")?,
        user_id: r.int("user_id")?,
        csrf_token: r.text("csrf_token")?,
        created_at: r.at("created_at")?,
        expires_at: r.at("expires_at")?,
        address: r.opt_text("address")?,
    })
}

/// The audit_log columns [`audit`] reads.
pub const AUDIT_COLS: &str = "id, at, actor_id, actor, role, action, target, detail, address";

/// An `AUDIT_COLS` row.
pub fn audit(r: &dyn Columns) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        id: r.int("id")?,
        entry: NewAudit {
            at: r.at("at")?,
            actor_id: r.opt_int("actor_id")?,
            actor: r.text("actor")?,
            role: r
                .opt_text("role")?
                .as_deref()
                .map(gridsweep_domain::Role::parse)
                .transpose()
                .map_err(|e| corrupt("role", e))?,
            action: r.text("action")?,
            target: r.opt_text("target")?,
            detail: r.opt_text("detail")?,
            address: r.opt_text("address")?,
        },
    })
}

// ---------------------------------------------------------------------------
// Migrations
// ---------------------------------------------------------------------------

/// Every migration of a backend, by version, with its SQL. Each backend
/// keeps its own SQL files but the same numbering; this macro lists them
/// once, so a migration added to one backend is added to both.
///
/// Invoked in a backend's `src/migrate.rs`; the paths are relative to it.
#[macro_export]
macro_rules! migrations {
    () => {
        &[
            (1, include_str!("../migrations/0001_init.sql")),
            (2, include_str!("../migrations/0002_pipeline.sql")),
            (3, include_str!("../migrations/0003_response.sql")),
            (4, include_str!("../migrations/0004_accounts.sql")),
            (5, include_str!("../migrations/0005_pool_blocks.sql")),
            (6, include_str!("../migrations/0006_pending_events.sql")),
            (7, include_str!("../migrations/0007_password_change.sql")),
            (
                8,
                include_str!("../migrations/0008_incident_round_areas.sql"),
            ),
            (9, include_str!("../migrations/0009_response_truth.sql")),
        ]
    };
}

/// Checks that migrations are numbered 1, 2, 3 … with no gap or repeat:
/// a database records only versions, so an out-of-order list would skip
/// or re-run a migration.
pub fn check_migrations(migrations: &[(i64, &str)]) -> StoreResult<()> {
    for (i, (version, _)) in migrations.iter().enumerate() {
        let expected = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if *version != expected {
            return Err(StoreError::Migration {
                version: *version,
                message: format!("out of order: expected version {expected}"),
            });
        }
    }
    Ok(())
}

/// Applies `migrations` in order through `apply_once`, which runs one
/// migration in its own transaction unless the database has it already,
/// and says whether it ran. The backend keeps only the SQL; the order, the
/// bookkeeping of what ran and the error a failure becomes are here.
pub fn run_migrations(
    migrations: &[(i64, &str)],
    mut apply_once: impl FnMut(i64, &str) -> StoreResult<bool>,
) -> StoreResult<Vec<i64>> {
    check_migrations(migrations)?;
    let mut applied = Vec::new();
    for (version, sql) in migrations {
        if apply_once(*version, sql)? {
            applied.push(*version);
        }
    }
    Ok(applied)
}

/// The error a failing migration's SQL becomes.
pub fn migration_failed(version: i64, e: impl std::fmt::Display) -> StoreError {
    StoreError::Migration {
        version,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A row as a map, standing in for a driver row.
    #[derive(Default)]
    struct Fake(HashMap<&'static str, Option<String>>);

    impl Fake {
        fn with(mut self, col: &'static str, v: Option<&str>) -> Self {
            self.0.insert(col, v.map(str::to_string));
            self
        }
        fn raw(&self, col: &str) -> StoreResult<Option<String>> {
            self.0
                .get(col)
                .cloned()
                .ok_or_else(|| StoreError::Backend(format!("no column {col}")))
        }
    }

    impl Columns for Fake {
        fn int(&self, col: &str) -> StoreResult<i64> {
            self.opt_int(col)?
                .ok_or_else(|| StoreError::Backend(format!("{col} is null")))
        }
        fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
            self.raw(col)?
                .map(|s| s.parse().map_err(|e| StoreError::Backend(format!("{e}"))))
                .transpose()
        }
        fn text(&self, col: &str) -> StoreResult<String> {
            self.opt_text(col)?
                .ok_or_else(|| StoreError::Backend(format!("{col} is null")))
        }
        fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
            self.raw(col)
        }
        fn flag(&self, col: &str) -> StoreResult<bool> {
            Ok(self.int(col)? != 0)
        }
        fn opt_real(&self, col: &str) -> StoreResult<Option<f64>> {
            self.raw(col)?
                .map(|s| s.parse().map_err(|e| StoreError::Backend(format!("{e}"))))
                .transpose()
        }
    }

    #[test]
    fn json_round_trips_and_bad_json_is_corrupt() {
        let v = vec![Some(1_i64), None];
        let s = js(&v).unwrap();
        assert_eq!(unjs::<Vec<Option<i64>>>(&s).unwrap(), v);
        assert_eq!(
            opt_unjs::<Vec<Option<i64>>>(opt_js(&Some(v.clone())).unwrap()).unwrap(),
            Some(v)
        );
        assert!(matches!(unjs::<i64>("{"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn unknown_words_are_corrupt() {
        assert!(matches!(
            word(MarkKind::parse, "mark", "nonsense"),
            Err(StoreError::Corrupt(m)) if m == "mark: nonsense"
        ));
        assert_eq!(opt_word(MarkKind::parse, "mark", None).unwrap(), None);
        assert!(matches!(tube_role("x"), Err(StoreError::Corrupt(_))));
        for r in [TubeRole::Trigger, TubeRole::Expansion, TubeRole::Retest] {
            assert_eq!(tube_role(tube_role_word(r)).unwrap(), r);
            // The word is the role's JSON form, which older rows were written with.
            assert_eq!(js(&r).unwrap(), format!("\"{}\"", tube_role_word(r)));
        }
    }

    #[test]
    fn rows_are_read_by_name_not_position() {
        let r = Fake::default()
            .with("id", Some("7"))
            .with("user_id", Some("3"))
            .with("name", Some("PDA 7"))
            .with("prefix", Some("gs_ab"))
            .with("created_at", Some("1000"))
            .with("expires_at", Some("2000"))
            .with("revoked_at", None);
        let t = api_token(&r).unwrap();
        assert_eq!((t.id, t.user_id, t.name.as_str()), (7, 3, "PDA 7"));
        assert_eq!(t.expires_at.timestamp_millis(), 2000);
        assert_eq!(t.revoked_at, None);
        assert!(matches!(
            api_token(&Fake::default()),
            Err(StoreError::Backend(_))
        ));
    }

    #[test]
    fn updating_no_user_is_not_found() {
        assert!(user_updated(1, 5).is_ok());
        assert!(matches!(user_updated(0, 5), Err(StoreError::NotFound(m)) if m == "user 5"));
    }

    #[test]
    fn round_role_follows_the_expansion_column() {
        assert_eq!(round_role(4, Some(4)), RoundRole::Expansion);
        assert_eq!(round_role(4, Some(3)), RoundRole::Retest);
        assert_eq!(round_role(4, None), RoundRole::Retest);
    }

    #[test]
    fn migrations_run_in_order_and_gaps_are_refused() {
        let list = [(1, "a"), (2, "b"), (3, "c")];
        let mut seen = Vec::new();
        let ran = run_migrations(&list, |v, _| {
            seen.push(v);
            Ok(v != 2)
        })
        .unwrap();
        assert_eq!(seen, vec![1, 2, 3]);
        assert_eq!(ran, vec![1, 3]);
        assert!(matches!(
            run_migrations(&[(1, "a"), (3, "c")], |_, _| Ok(true)),
            Err(StoreError::Migration { version: 3, .. })
        ));
    }
}
