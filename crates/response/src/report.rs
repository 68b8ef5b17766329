//! The incident report: it writes itself from what was recorded — the
//! tubes, samples, results, orders, decisions and timeline of an incident
//! and of the incidents it cascaded into. Nothing in it is typed in by
//! hand: change the events and the report changes. Rendered as JSON (the
//! struct), a readable page ([`Report::to_html`]), an Excel workbook
//! ([`Report::to_xlsx`]) and plain text for the terminal.

use crate::model::*;
use crate::time::{duration_hm, hm, ymd_hm};
use chrono::{DateTime, Utc};
use gridsweep_domain::PersonId;
use gridsweep_domain::pipeline::{Outcome, TubeKind};
use gridsweep_pooling::{Savings, tests_saved};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// An incident's own row, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentInfo {
    pub id: i64,
    pub parent: Option<i64>,
    pub title: String,
    pub area: AreaBrief,
    pub status: IncidentStatus,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The tube that opened it (none for a cascade).
    pub trigger_tube: Option<String>,
    /// The confirmed case a cascade is about.
    pub case: Option<PersonBrief>,
    pub expansion_round: Option<i64>,
    pub retest_round: Option<i64>,
}

/// What a tube was for, in this incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeRole {
    /// Opened (or joined) the incident.
    Trigger,
    /// Full-coverage sampling.
    Expansion,
    /// A member's single-tube retest.
    Retest,
}

/// One tube and its current result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TubeFact {
    pub barcode: String,
    pub role: TubeRole,
    pub kind: TubeKind,
    pub capacity: u32,
    pub samples: u32,
    pub site: String,
    /// The community the site belongs to.
    pub community: String,
    pub outcome: Option<Outcome>,
    pub grey_zone: bool,
    pub resulted_at: Option<DateTime<Utc>>,
}

/// One swab: a person (or an environmental point) into a tube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleFact {
    pub tube: String,
    pub person: Option<PersonId>,
    pub at: DateTime<Utc>,
}

/// A member as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub person: PersonBrief,
    pub kind: MemberKind,
    pub status: MemberStatus,
    pub source: String,
    pub address: String,
    /// Schools and employers, by name (for the report's "affiliated with").
    pub affiliations: Vec<String>,
}

/// A control order as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: i64,
    pub incident: i64,
    pub kind: OrderKind,
    pub area: Option<AreaBrief>,
    pub person: Option<PersonBrief>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ordered_by: String,
    pub reason: String,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<String>,
}

/// A decision as recorded: who proposed, who confirmed, in which role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionView {
    pub id: i64,
    pub incident: i64,
    pub kind: DecisionKind,
    pub person: Option<PersonBrief>,
    pub status: DecisionStatus,
    pub reason: String,
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decided_role: Option<Responder>,
    pub note: Option<String>,
    /// A lift confirmed while a controlled compound was below the
    /// playbook's coverage requirement: the reason command gave.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// A task as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: i64,
    pub incident: i64,
    pub kind: TaskKind,
    pub title: String,
    pub area: Option<AreaBrief>,
    pub person: Option<PersonBrief>,
    pub assignee: Assignee,
    pub target: u32,
    pub status: TaskStatus,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

/// A timeline line as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryView {
    pub incident: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: TimelineKind,
    pub text: String,
}

/// Everything recorded about one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentData {
    pub info: IncidentInfo,
    pub members: Vec<MemberView>,
    pub orders: Vec<OrderView>,
    pub tasks: Vec<TaskView>,
    pub decisions: Vec<DecisionView>,
    pub timeline: Vec<EntryView>,
    pub tubes: Vec<TubeFact>,
    pub samples: Vec<SampleFact>,
    /// Every non-negative tube's chain of follow-ups.
    #[serde(default)]
    pub chains: Vec<crate::decide::Chain>,
    /// Each compound put under static control, with its coverage over the
    /// incident's rounds.
    #[serde(default)]
    pub coverage: Vec<crate::decide::CompoundCoverage>,
    /// What still stands between the incident and the all-clear.
    #[serde(default)]
    pub blockers: Vec<String>,
    /// The sub-districts and communities alerted because members live there.
    #[serde(default)]
    pub alerted: Vec<AreaBrief>,
}

/// Sampling counts for a community, a site or the whole incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Swabs of persons (a person sampled twice counts twice).
    pub person_times: u64,
    /// Distinct persons sampled.
    pub people: u64,
    /// Human tubes.
    pub tubes: u64,
    /// Environmental tubes.
    pub env_tubes: u64,
    /// Environmental points swabbed.
    pub env_points: u64,
    /// Tubes with a result.
    pub resulted: u64,
    /// Tubes whose result is not negative.
    pub non_negative: u64,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

/// Counts for one community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityCounts {
    pub community: String,
    /// The sites that sampled there.
    pub sites: Vec<String>,
    pub counts: Counts,
}

/// Single-tube retests of the members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetestCounts {
    pub members: u64,
    pub negative: u64,
    pub grey_zone: u64,
    pub positive: u64,
    pub pending: u64,
}

/// A person on isolation, with the order that put them there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Isolation {
    pub person: PersonBrief,
    pub kind: OrderKind,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub days: Option<i64>,
    pub lifted_at: Option<DateTime<Utc>>,
    /// e.g. "郑州大学南校区 学生" for the grey-zone student.
    pub affiliations: Vec<String>,
}

/// A cascade incident in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CascadeSummary {
    pub id: i64,
    pub title: String,
    pub case: Option<PersonBrief>,
    pub contacts: u64,
    pub status: IncidentStatus,
    pub opened_at: DateTime<Utc>,
}

/// When each of the three grid levels reported in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mobilisation {
    pub role: Responder,
    pub label: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub incident: IncidentInfo,
    /// Where the triggering tube was sampled, its pool size and outcome.
    pub trigger: Option<TubeFact>,
    /// The moment every control of the incident was lifted.
    pub all_clear_at: Option<DateTime<Utc>>,
    pub time_to_all_clear_minutes: Option<i64>,
    /// "13 h 50 m".
    pub time_to_all_clear: Option<String>,
    pub mobilisation: Vec<Mobilisation>,
    /// Static controls, in order of issue.
    pub controls: Vec<OrderView>,
    /// The expansion round in total.
    pub expansion: Counts,
    /// Per community, the story's order (first sampled first).
    pub communities: Vec<CommunityCounts>,
    /// Pool size of the expansion tubes (largest capacity seen).
    pub pool: u32,
    pub all_negative: bool,
    pub retests: RetestCounts,
    pub members_by_kind: Vec<(MemberKind, u64)>,
    pub tasks_by_kind: Vec<(TaskKind, u64, u64)>,
    pub decisions: Vec<DecisionView>,
    pub isolations: Vec<Isolation>,
    pub confirmed_cases: Vec<PersonBrief>,
    pub cascades: Vec<CascadeSummary>,
    /// Tests the pooled design saved against 1:1 sampling.
    pub savings: Savings,
    /// Tubes of the incident (trigger, expansion, retest) that hold samples
    /// and have no result yet: what the lab still owes the command.
    pub tubes_awaiting: u64,
    pub timeline: Vec<EntryView>,
    /// Every non-negative tube (trigger, reactive expansion, environmental)
    /// and whether its chain of follow-ups is resolved.
    pub chains: Vec<crate::decide::Chain>,
    /// Coverage of each controlled compound over the incident's rounds.
    pub coverage: Vec<crate::decide::CompoundCoverage>,
    /// What still blocks the all-clear, per incident ("#2: …").
    pub blockers: Vec<String>,
    /// Sub-districts and communities alerted because members live there.
    pub alerted: Vec<AreaBrief>,
    /// Lifts confirmed below the coverage requirement, with their reasons.
    pub overrides: Vec<DecisionView>,
    /// The incident's events span more than one calendar day (China
    /// clock): times are shown with their date.
    pub spans_days: bool,
    /// One sentence: how it ended, or why controls stay.
    pub conclusion: String,
}

fn tally(tubes: &[&TubeFact], samples: &[&SampleFact]) -> Counts {
    let mut c = Counts::default();
    let kinds: BTreeMap<&str, TubeKind> =
        tubes.iter().map(|t| (t.barcode.as_str(), t.kind)).collect();
    let mut people = BTreeSet::new();
    for t in tubes {
        match t.kind {
            TubeKind::Human => c.tubes += 1,
            TubeKind::Environmental => c.env_tubes += 1,
        }
        if let Some(o) = t.outcome {
            c.resulted += 1;
            if o.is_alarm() {
                c.non_negative += 1;
            }
        }
    }
    for s in samples {
        match (kinds.get(s.tube.as_str()), s.person) {
            (Some(TubeKind::Human), Some(p)) => {
                c.person_times += 1;
                people.insert(p);
            }
            (Some(TubeKind::Environmental), _) => c.env_points += 1,
            _ => continue,
        }
        c.first_at = Some(c.first_at.map_or(s.at, |f| f.min(s.at)));
        c.last_at = Some(c.last_at.map_or(s.at, |l| l.max(s.at)));
    }
    c.people = people.len() as u64;
    c
}

/// Builds the report of `root` and the incidents it cascaded into.
pub fn build(root: &IncidentData, cascades: &[IncidentData]) -> Report {
    let all: Vec<&IncidentData> = std::iter::once(root).chain(cascades).collect();
    let round = ExpansionRound::of(root);
    let recorded = Recorded::gather(&all);
    let isolations = isolations(&all, &recorded.affiliations);
    let Recorded {
        members_by_kind,
        tasks_by_kind,
        mut decisions,
        mut timeline,
        mobilisation,
        confirmed_cases,
        affiliations: _,
    } = recorded;
    timeline.sort_by_key(|e| e.at);
    decisions.sort_by_key(|d| (d.proposed_at, d.id));
    let controls = static_controls(&all);
    let all_clear_at = all_clear_at(&all, &controls);
    // A duration is never negative: an all-clear recorded before the
    // opening (possible only in data older than the server's time checks)
    // gives no duration rather than a wrong one.
    let minutes = all_clear_at
        .map(|t| (t - root.info.opened_at).num_minutes())
        .filter(|m| *m >= 0);
    let expansion = round.total;
    let all_negative = expansion.all_negative();
    let savings = tests_saved(expansion.people, expansion.tubes);
    let overrides = overrides(&decisions);
    let spans_days = spans_days(&timeline, root.info.opened_at, all_clear_at);
    let mut report = Report {
        incident: root.info.clone(),
        trigger: root
            .tubes
            .iter()
            .find(|t| t.role == TubeRole::Trigger)
            .cloned(),
        all_clear_at,
        time_to_all_clear_minutes: minutes,
        time_to_all_clear: minutes.map(duration_hm),
        mobilisation,
        controls,
        expansion,
        communities: round.communities,
        pool: round.pool,
        all_negative,
        retests: retest_counts(root),
        members_by_kind: members_by_kind.into_iter().collect(),
        tasks_by_kind: tasks_by_kind
            .into_iter()
            .map(|(k, (n, d))| (k, n, d))
            .collect(),
        decisions,
        isolations,
        confirmed_cases,
        cascades: cascade_summaries(cascades),
        savings,
        tubes_awaiting: root
            .tubes
            .iter()
            .filter(|t| t.samples > 0 && t.outcome.is_none())
            .count() as u64,
        timeline,
        chains: all.iter().flat_map(|i| i.chains.iter().cloned()).collect(),
        coverage: all
            .iter()
            .flat_map(|i| i.coverage.iter().cloned())
            .collect(),
        blockers: blockers(&all),
        alerted: alerted(&all),
        overrides,
        spans_days,
        conclusion: String::new(),
    };
    report.conclusion = conclusion(&report);
    report
}

impl Counts {
    /// Every tube has a result and none is non-negative (and there was at
    /// least one).
    fn all_negative(&self) -> bool {
        self.resulted == self.tubes + self.env_tubes && self.non_negative == 0 && self.resulted > 0
    }
}

/// The static controls of every incident, in order of issue.
fn static_controls(all: &[&IncidentData]) -> Vec<OrderView> {
    all.iter()
        .flat_map(|i| i.orders.iter())
        .filter(|o| o.kind == OrderKind::StaticControl)
        .cloned()
        .collect()
}

/// The lifts confirmed below the coverage requirement.
fn overrides(decisions: &[DecisionView]) -> Vec<DecisionView> {
    decisions
        .iter()
        .filter(|d| d.override_reason.is_some())
        .cloned()
        .collect()
}

/// The root incident's expansion round: its total, per community (the
/// story's order: most sampled first) and its pool size.
struct ExpansionRound {
    total: Counts,
    communities: Vec<CommunityCounts>,
    /// Largest capacity of its human tubes.
    pool: u32,
}

impl ExpansionRound {
    fn of(root: &IncidentData) -> Self {
        let tubes: Vec<&TubeFact> = root
            .tubes
            .iter()
            .filter(|t| t.role == TubeRole::Expansion)
            .collect();
        let codes: BTreeSet<&str> = tubes.iter().map(|t| t.barcode.as_str()).collect();
        let samples: Vec<&SampleFact> = root
            .samples
            .iter()
            .filter(|s| codes.contains(s.tube.as_str()))
            .collect();
        let pool = tubes
            .iter()
            .filter(|t| t.kind == TubeKind::Human)
            .map(|t| t.capacity)
            .max()
            .unwrap_or(0);
        ExpansionRound {
            total: tally(&tubes, &samples),
            communities: by_community(&tubes, &samples),
            pool,
        }
    }
}

/// The expansion tubes' counts per community, most person-times first
/// (ties: the community sampled first).
fn by_community(tubes: &[&TubeFact], samples: &[&SampleFact]) -> Vec<CommunityCounts> {
    let mut grouped: BTreeMap<&str, (Vec<&TubeFact>, BTreeSet<&str>)> = BTreeMap::new();
    for t in tubes {
        let e = grouped.entry(t.community.as_str()).or_default();
        e.0.push(t);
        e.1.insert(t.site.as_str());
    }
    let mut communities: Vec<CommunityCounts> = grouped
        .into_iter()
        .map(|(community, (tubes, sites))| {
            let codes: BTreeSet<&str> = tubes.iter().map(|t| t.barcode.as_str()).collect();
            let samples: Vec<&SampleFact> = samples
                .iter()
                .filter(|s| codes.contains(s.tube.as_str()))
                .copied()
                .collect();
            CommunityCounts {
                community: community.to_string(),
                sites: sites.into_iter().map(str::to_string).collect(),
                counts: tally(&tubes, &samples),
            }
        })
        .collect();
    communities.sort_by_key(|c| (std::cmp::Reverse(c.counts.person_times), c.counts.first_at));
    communities
}

/// The single-tube retests of the root incident's members.
fn retest_counts(root: &IncidentData) -> RetestCounts {
    let mut retests = RetestCounts::default();
    // Everyone retested counts, whatever else they are: a household member
    // found in a reactive tube of their own has a retest task too.
    let retested: BTreeSet<PersonId> = root
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Retest)
        .filter_map(|t| t.person.as_ref().map(|p| p.id))
        .collect();
    for m in &root.members {
        if m.kind != MemberKind::PoolMember && !retested.contains(&m.person.id) {
            continue;
        }
        retests.members += 1;
        match m.status {
            MemberStatus::PendingRetest => retests.pending += 1,
            MemberStatus::Cleared => retests.negative += 1,
            MemberStatus::GreyZone | MemberStatus::HomeIsolated => retests.grey_zone += 1,
            MemberStatus::Positive | MemberStatus::Confirmed => retests.positive += 1,
            MemberStatus::Traced => {}
        }
    }
    retests
}

/// What the report gathers from every incident (root first, then its
/// cascades), before sorting.
#[derive(Default)]
struct Recorded {
    members_by_kind: BTreeMap<MemberKind, u64>,
    /// Handed out and done, per kind.
    tasks_by_kind: BTreeMap<TaskKind, (u64, u64)>,
    decisions: Vec<DecisionView>,
    timeline: Vec<EntryView>,
    mobilisation: Vec<Mobilisation>,
    confirmed_cases: Vec<PersonBrief>,
    /// Each member's schools and employers, for the isolation list.
    affiliations: BTreeMap<PersonId, Vec<String>>,
}

impl Recorded {
    fn gather(all: &[&IncidentData]) -> Self {
        let mut r = Recorded::default();
        for inc in all {
            for m in &inc.members {
                *r.members_by_kind.entry(m.kind).or_default() += 1;
                if !m.affiliations.is_empty() {
                    r.affiliations.insert(m.person.id, m.affiliations.clone());
                }
                if m.status == MemberStatus::Confirmed {
                    r.confirmed_cases.push(m.person.clone());
                }
            }
            for t in &inc.tasks {
                let e = r.tasks_by_kind.entry(t.kind).or_default();
                e.0 += 1;
                if t.status == TaskStatus::Done {
                    e.1 += 1;
                }
            }
            r.decisions.extend(inc.decisions.iter().cloned());
            r.timeline.extend(inc.timeline.iter().cloned());
            // Every line is kept: several sub-districts report in place.
            r.mobilisation
                .extend(inc.timeline.iter().filter_map(mobilised));
        }
        r
    }
}

/// A grid level reporting in place, read from its timeline line (which
/// starts with the level's name).
fn mobilised(e: &EntryView) -> Option<Mobilisation> {
    if e.kind != TimelineKind::Mobilised {
        return None;
    }
    let role = Responder::ALL
        .iter()
        .copied()
        .find(|r| e.text.starts_with(r.label_zh()))?;
    Some(Mobilisation {
        role,
        label: role.label_zh().to_string(),
        at: e.at,
        by: e.actor.clone(),
    })
}

/// Everyone put on home isolation, with their schools and employers.
fn isolations(
    all: &[&IncidentData],
    affiliations: &BTreeMap<PersonId, Vec<String>>,
) -> Vec<Isolation> {
    all.iter()
        .flat_map(|inc| inc.orders.iter())
        .filter(|o| o.kind == OrderKind::HomeIsolation)
        .filter_map(|o| {
            let p = o.person.as_ref()?;
            Some(Isolation {
                person: p.clone(),
                kind: o.kind,
                reason: o.reason.clone(),
                starts_at: o.starts_at,
                ends_at: o.ends_at,
                days: o.ends_at.map(|e| (e - o.starts_at).num_days()),
                lifted_at: o.lifted_at,
                affiliations: affiliations.get(&p.id).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// Each cascade in brief: its case and how many contacts it traced.
fn cascade_summaries(cascades: &[IncidentData]) -> Vec<CascadeSummary> {
    cascades
        .iter()
        .map(|c| CascadeSummary {
            id: c.info.id,
            title: c.info.title.clone(),
            case: c.info.case.clone(),
            contacts: c
                .members
                .iter()
                .filter(|m| m.kind == MemberKind::Contact)
                .count() as u64,
            status: c.info.status,
            opened_at: c.info.opened_at,
        })
        .collect()
}

/// The all-clear: once every incident is closed, the last lift of a
/// static control (none while one still stands), or the last closing when
/// no control was ever issued.
fn all_clear_at(all: &[&IncidentData], controls: &[OrderView]) -> Option<DateTime<Utc>> {
    let everything_closed = all.iter().all(|i| i.info.status == IncidentStatus::Closed);
    if everything_closed && !controls.is_empty() {
        controls
            .iter()
            .map(|o| o.lifted_at)
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().max())
    } else if everything_closed {
        all.iter().filter_map(|i| i.info.closed_at).max()
    } else {
        None
    }
}

/// What blocks the all-clear, for each incident still open.
fn blockers(all: &[&IncidentData]) -> Vec<String> {
    all.iter()
        .filter(|i| i.info.status == IncidentStatus::Open)
        .flat_map(|i| {
            i.blockers
                .iter()
                .map(move |b| format!("#{}：{b}", i.info.id))
        })
        .collect()
}

/// The areas alerted, each once, in order of first alert.
fn alerted(all: &[&IncidentData]) -> Vec<AreaBrief> {
    let mut alerted: Vec<AreaBrief> = Vec::new();
    for a in all.iter().flat_map(|i| i.alerted.iter()) {
        if !alerted.iter().any(|x| x.id == a.id) {
            alerted.push(a.clone());
        }
    }
    alerted
}

/// Whether the story runs over more than one calendar day (China clock),
/// so that its times need their date.
fn spans_days(
    timeline: &[EntryView],
    opened_at: DateTime<Utc>,
    all_clear_at: Option<DateTime<Utc>>,
) -> bool {
    let mut instants: Vec<DateTime<Utc>> = timeline.iter().map(|e| e.at).collect();
    instants.push(opened_at);
    instants.extend(all_clear_at);
    let day = |t: &DateTime<Utc>| crate::time::local(*t).date_naive();
    instants.iter().map(day).min() != instants.iter().map(day).max()
}

/// The report's one sentence: how it ended, or why controls stay.
fn conclusion(r: &Report) -> String {
    match (r.all_clear_at, r.confirmed_cases.is_empty()) {
        (Some(t), true) => all_clear_sentence(r, t),
        (_, false) => cases_sentence(r),
        (None, true) if r.blockers.is_empty() => "处置中，管控继续：待指挥部确认解除。".to_string(),
        (None, true) => format!("处置中，管控继续：{}。", r.blockers.join("；")),
    }
}

/// Ended with no case: how the expansion came out, when and how fast, and
/// any lift confirmed below the coverage requirement.
fn all_clear_sentence(r: &Report, t: DateTime<Utc>) -> String {
    let reactive = r
        .chains
        .iter()
        .filter(|c| c.role != TubeRole::Trigger)
        .count();
    format!(
        "扩面筛查{}，{} 解除全部管控并结案，用时 {}。{}",
        if r.all_negative {
            "全部阴性".to_string()
        } else if reactive > 0 {
            format!("非阴性 {reactive} 管，处置链均已闭环")
        } else {
            "完成".to_string()
        },
        r.clock(t),
        r.time_to_all_clear_minutes
            .map_or_else(|| "—".to_string(), duration_hm),
        if r.overrides.is_empty() {
            String::new()
        } else {
            format!(
                "覆盖率未达预案要求，经指挥部明确理由提前解除：{}。",
                r.overrides
                    .iter()
                    .filter_map(|d| d.override_reason.as_deref())
                    .collect::<Vec<_>>()
                    .join("；")
            )
        }
    )
}

/// Confirmed cases: who, the cascades they started, and what blocks.
fn cases_sentence(r: &Report) -> String {
    format!(
        "确诊 {} 例（{}），管控继续；已启动关联事件 {}。",
        r.confirmed_cases.len(),
        r.confirmed_cases
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        r.cascades
            .iter()
            .map(|c| format!("#{}（密接 {} 人）", c.id, c.contacts))
            .collect::<Vec<_>>()
            .join("、")
    ) + &if r.blockers.is_empty() {
        String::new()
    } else {
        format!("未解除原因：{}。", r.blockers.join("；"))
    }
}

impl Report {
    /// The report for a terminal: the story's figures, one per line.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.text_opening(&mut s);
        self.text_sampling(&mut s);
        self.text_results(&mut s);
        self.text_coverage(&mut s);
        self.text_isolations(&mut s);
        self.text_decisions(&mut s);
        self.text_notes(&mut s);
        self.text_ending(&mut s);
        s
    }

    /// Title, opening, trigger, grid levels in place and the controls.
    fn text_opening(&self, s: &mut String) {
        let i = &self.incident;
        let _ = writeln!(s, "事件报告 #{} {}", i.id, i.title);
        let _ = writeln!(
            s,
            "开启 {}  状态 {}  区域 {}",
            ymd_hm(i.opened_at),
            i.status.label_zh(),
            i.area.name
        );
        if let Some(t) = &self.trigger {
            let _ = writeln!(
                s,
                "触发 {} 采样管 {}（{}混1，{} 人）{}",
                t.site,
                t.barcode,
                t.capacity,
                t.samples,
                t.outcome.map(outcome_zh).unwrap_or("—")
            );
        }
        for m in &self.mobilisation {
            let _ = writeln!(s, "网格到位 {} {}（{}）", self.clock(m.at), m.label, m.by);
        }
        for o in &self.controls {
            let _ = writeln!(
                s,
                "静态化管控 {} {} → 解除 {}",
                o.area.as_ref().map(|a| a.name.as_str()).unwrap_or("—"),
                self.clock(o.starts_at),
                self.opt_clock(o.lifted_at)
            );
        }
    }

    /// The expansion round in total and per community.
    fn text_sampling(&self, s: &mut String) {
        let e = &self.expansion;
        let _ = writeln!(
            s,
            "扩面筛查 {}–{}：{} 管 {}混1，覆盖 {} 人（{} 人次）；环境 {} 管 {} 个点位；非阴性 {} 管",
            self.opt_clock(e.first_at),
            self.opt_clock(e.last_at),
            e.tubes,
            self.pool,
            fmt_n(e.people),
            fmt_n(e.person_times),
            e.env_tubes,
            e.env_points,
            e.non_negative
        );
        for c in &self.communities {
            let _ = writeln!(
                s,
                "  {}：{} 人次，{} 管，环境 {} 管 {} 点，{}–{} 完成（{}）",
                c.community,
                fmt_n(c.counts.person_times),
                c.counts.tubes,
                c.counts.env_tubes,
                c.counts.env_points,
                self.opt_clock(c.counts.first_at),
                self.opt_clock(c.counts.last_at),
                c.sites.join("、")
            );
        }
    }

    /// The non-negative tubes' chains, the round's result and the retests.
    fn text_results(&self, s: &mut String) {
        for c in &self.chains {
            let _ = writeln!(
                s,
                "非阴性管 {} {} {}（{}）：{}",
                c.label(),
                c.site,
                c.outcome.map(outcome_zh).unwrap_or("—"),
                if c.persons > 0 {
                    format!("{} 人", c.persons)
                } else {
                    "环境点位".to_string()
                },
                if c.resolved {
                    "处置链已闭环".to_string()
                } else {
                    c.waiting_for()
                }
            );
        }
        let _ = writeln!(
            s,
            "结果 {}",
            if self.all_negative {
                "全部阴性"
            } else {
                "非全部阴性"
            }
        );
        let r = &self.retests;
        let _ = writeln!(
            s,
            "单管复核 {} 人：阴性 {}，灰区 {}，阳性 {}，待出 {}",
            r.members, r.negative, r.grey_zone, r.positive, r.pending
        );
    }

    /// Coverage of each controlled compound and the areas alerted.
    fn text_coverage(&self, s: &mut String) {
        for c in &self.coverage {
            let _ = writeln!(
                s,
                "覆盖 {}{}：应检 {} 人，已采 {}，已说明 {}，缺 {}，覆盖 {}%{}",
                if c.incident == self.incident.id {
                    String::new()
                } else {
                    format!("#{} ", c.incident)
                },
                c.area.name,
                fmt_n(c.roster),
                fmt_n(c.sampled),
                fmt_n(c.accounted),
                fmt_n(c.missing),
                c.percent(),
                if c.lifted { "（已解除）" } else { "" }
            );
        }
        if !self.alerted.is_empty() {
            let _ = writeln!(
                s,
                "推送 成员所在：{}",
                self.alerted
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            );
        }
    }

    /// Everyone on home isolation.
    fn text_isolations(&self, s: &mut String) {
        for iso in &self.isolations {
            let _ = writeln!(
                s,
                "居家隔离 {} {} {} 天（{}）{}",
                iso.person.name,
                iso.person.document_masked,
                iso.days.unwrap_or(0),
                iso.reason,
                if iso.affiliations.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", iso.affiliations.join("、"))
                }
            );
        }
    }

    /// The decisions, then the lifts confirmed below the requirement.
    fn text_decisions(&self, s: &mut String) {
        for d in &self.decisions {
            let _ = writeln!(
                s,
                "决定 #{} {} {}：提出 {} {}，{} {} {}",
                d.id,
                d.kind.label_zh(),
                d.person.as_ref().map(|p| p.name.as_str()).unwrap_or(""),
                self.clock(d.proposed_at),
                d.proposed_by,
                d.status.label_zh(),
                self.opt_clock(d.decided_at),
                match (&d.decided_by, d.decided_role) {
                    (Some(b), Some(r)) => format!("{}（{}）", b, r.label_zh()),
                    _ => String::new(),
                }
            );
        }
        for d in &self.overrides {
            let _ = writeln!(
                s,
                "覆盖率未达标提前解除 决定 #{}：{}（{}）",
                d.id,
                d.override_reason.as_deref().unwrap_or(""),
                d.decided_by.as_deref().unwrap_or("")
            );
        }
    }

    /// Notes on record, what blocks the all-clear, and the cascades.
    fn text_notes(&self, s: &mut String) {
        // Notes the playbook or command put on record (a contact cap that
        // left residents out, an override and the shortfall it passed).
        for e in self
            .timeline
            .iter()
            .filter(|e| e.kind == TimelineKind::Note)
        {
            let _ = writeln!(s, "记录 {} {}：{}", self.clock(e.at), e.actor, e.text);
        }
        for b in &self.blockers {
            let _ = writeln!(s, "未解除原因 {b}");
        }
        for c in &self.cascades {
            let _ = writeln!(
                s,
                "关联事件 #{} {}：病例 {}，密接 {} 人，{}",
                c.id,
                c.title,
                c.case.as_ref().map(|p| p.name.as_str()).unwrap_or("—"),
                c.contacts,
                c.status.label_zh()
            );
        }
    }

    /// What pooling saved, the all-clear and the conclusion.
    fn text_ending(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "混采节省检测 {} 管（{} 人 / {} 管，节省 {:.1}%）",
            fmt_n(self.savings.tests_saved.max(0) as u64),
            fmt_n(self.savings.people),
            fmt_n(self.savings.tests_used),
            self.savings.fraction_saved * 100.0
        );
        match (&self.all_clear_at, &self.time_to_all_clear) {
            (Some(t), Some(d)) => {
                let _ = writeln!(s, "全部管控解除 {}，用时 {}", self.clock(*t), d);
            }
            _ => {
                let _ = writeln!(s, "管控继续，尚未解除");
            }
        }
        let _ = writeln!(s, "结论：{}", self.conclusion);
    }

    /// A time as the report shows it: `HH:MM`, with the date when the
    /// incident spans days.
    pub fn clock(&self, t: DateTime<Utc>) -> String {
        if self.spans_days {
            crate::time::md_hm(t)
        } else {
            hm(t)
        }
    }

    /// [`Report::clock`] of an optional time, `—` when absent.
    pub fn opt_clock(&self, t: Option<DateTime<Utc>>) -> String {
        t.map(|t| self.clock(t)).unwrap_or_else(|| "—".into())
    }

    /// A readable page (Chinese labels), self-contained.
    pub fn to_html(&self) -> String {
        crate::html::render(self)
    }

    /// An Excel workbook: 概况, 分社区统计, 时间线, 决定, 隔离与管控.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        crate::xlsx::render(self)
    }
}

/// The lab word for an outcome.
pub fn outcome_zh(o: Outcome) -> &'static str {
    match o {
        Outcome::Negative => "阴性",
        Outcome::Suspected => "初筛阳性(疑似)",
        Outcome::Positive => "阳性",
        Outcome::Invalid => "无效",
    }
}

/// 6799 → "6,799".
pub fn fmt_n(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use gridsweep_domain::{AreaId, AreaLevel};
    use proptest::prelude::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        crate::time::china()
            .with_ymd_and_hms(2022, 6, 13, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn info() -> IncidentInfo {
        IncidentInfo {
            id: 1,
            parent: None,
            title: "瓦屋李社区 初筛阳性".into(),
            area: AreaBrief {
                id: AreaId::new(3).unwrap(),
                level: AreaLevel::Community,
                name: "瓦屋李社区".into(),
            },
            status: IncidentStatus::Closed,
            opened_at: at(3, 4),
            closed_at: Some(at(16, 54)),
            trigger_tube: Some("T1".into()),
            case: None,
            expansion_round: Some(2),
            retest_round: Some(3),
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_n(6799), "6,799");
        assert_eq!(fmt_n(5293), "5,293");
        assert_eq!(fmt_n(999), "999");
        assert_eq!(fmt_n(1_000_000), "1,000,000");
        assert_eq!(duration_hm(13 * 60 + 50), "13 h 50 m");
    }

    fn empty() -> IncidentData {
        IncidentData {
            info: info(),
            members: vec![],
            orders: vec![],
            tasks: vec![],
            decisions: vec![],
            timeline: vec![],
            tubes: vec![],
            samples: vec![],
            chains: vec![],
            coverage: vec![],
            blockers: vec![],
            alerted: vec![],
        }
    }

    fn mobilised(at: DateTime<Utc>, text: &str, by: &str) -> EntryView {
        EntryView {
            incident: 1,
            at,
            actor: by.into(),
            kind: TimelineKind::Mobilised,
            text: text.into(),
        }
    }

    /// Every grid level's report is kept: two sub-districts in place are
    /// two lines, not one per role.
    #[test]
    fn every_mobilisation_line_is_kept() {
        let mut d = empty();
        d.timeline = vec![
            mobilised(
                at(3, 20),
                "街道办事处 梧桐街办事处",
                "梧桐街办事处 带班领导",
            ),
            mobilised(
                at(3, 40),
                "街道办事处 冬青街办事处",
                "冬青街办事处 带班领导",
            ),
            mobilised(at(3, 20), "社区 瓦屋李社区", "瓦屋李社区 书记"),
        ];
        let r = build(&d, &[]);
        assert_eq!(r.mobilisation.len(), 3);
        let text = r.to_text();
        assert!(
            text.contains("网格到位 03:40 街道办事处（冬青街办事处 带班领导）"),
            "{text}"
        );
    }

    /// Across midnight times carry their date; a lift recorded before the
    /// opening gives no duration rather than a negative one; what blocks is
    /// said in the conclusion.
    #[test]
    fn dates_durations_and_blockers() {
        let mut d = empty();
        d.info.closed_at = Some(at(3, 4) + chrono::Duration::hours(22));
        d.timeline = vec![mobilised(at(3, 20), "社区 瓦屋李社区", "书记")];
        let r = build(&d, &[]);
        assert!(r.spans_days);
        assert_eq!(r.time_to_all_clear.as_deref(), Some("22 h 00 m"));
        assert!(r.conclusion.contains("06-14 01:04"), "{}", r.conclusion);
        let mut d = empty();
        d.info.closed_at = Some(at(2, 0));
        let r = build(&d, &[]);
        assert_eq!(r.time_to_all_clear_minutes, None);
        assert!(!r.spans_days);
        let mut d = empty();
        d.info.status = IncidentStatus::Open;
        d.info.closed_at = None;
        d.blockers = vec!["3 人单管复核结果未出".into()];
        let r = build(&d, &[]);
        assert_eq!(r.conclusion, "处置中，管控继续：#1：3 人单管复核结果未出。");
    }

    proptest! {
        /// Counts are computed from the samples: person-times are the
        /// human swabs, points the environmental ones, and the total is the
        /// sum over communities.
        #[test]
        fn counts_add_up(tubes in prop::collection::vec((0usize..3, any::<bool>(), 1u32..=20), 1..40)) {
            let communities = ["瓦屋李社区", "瑞达路社区", "玉兰社区"];
            let mut data = IncidentData { info: info(), members: vec![], orders: vec![], tasks: vec![],
                decisions: vec![], timeline: vec![], tubes: vec![], samples: vec![],
                chains: vec![], coverage: vec![], blockers: vec![], alerted: vec![] };
            let mut person = 0;
            for (i, (c, env, n)) in tubes.iter().enumerate() {
                let code = format!("E{i}");
                data.tubes.push(TubeFact { barcode: code.clone(), role: TubeRole::Expansion,
                    kind: if *env { TubeKind::Environmental } else { TubeKind::Human },
                    capacity: if *env { 10 } else { 20 }, samples: *n, site: format!("{}小屋", communities[*c]),
                    community: communities[*c].into(), outcome: Some(Outcome::Negative), grey_zone: false,
                    resulted_at: Some(at(15, 0)) });
                for k in 0..*n {
                    person += 1;
                    data.samples.push(SampleFact { tube: code.clone(), person: if *env { None } else { Some(PersonId(person)) }, at: at(4, k) });
                }
            }
            let r = build(&data, &[]);
            let human: u64 = tubes.iter().filter(|t| !t.1).map(|t| u64::from(t.2)).sum();
            let points: u64 = tubes.iter().filter(|t| t.1).map(|t| u64::from(t.2)).sum();
            prop_assert_eq!(r.expansion.person_times, human);
            prop_assert_eq!(r.expansion.people, human);
            prop_assert_eq!(r.expansion.env_points, points);
            let sum: u64 = r.communities.iter().map(|c| c.counts.person_times).sum();
            prop_assert_eq!(sum, human);
            let tubes_sum: u64 = r.communities.iter().map(|c| c.counts.tubes + c.counts.env_tubes).sum();
            prop_assert_eq!(tubes_sum, tubes.len() as u64);
            prop_assert!(r.all_negative);
            prop_assert_eq!(r.savings.tests_used, r.expansion.tubes);
        }
    }
}
