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
    pub decided_role: Option<Role>,
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
    pub role: Role,
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
    let expansion_tubes: Vec<&TubeFact> = root
        .tubes
        .iter()
        .filter(|t| t.role == TubeRole::Expansion)
        .collect();
    let expansion_codes: BTreeSet<&str> =
        expansion_tubes.iter().map(|t| t.barcode.as_str()).collect();
    let expansion_samples: Vec<&SampleFact> = root
        .samples
        .iter()
        .filter(|s| expansion_codes.contains(s.tube.as_str()))
        .collect();
    let expansion = tally(&expansion_tubes, &expansion_samples);
    let mut by_community: BTreeMap<&str, (Vec<&TubeFact>, BTreeSet<&str>)> = BTreeMap::new();
    for t in &expansion_tubes {
        let e = by_community.entry(t.community.as_str()).or_default();
        e.0.push(t);
        e.1.insert(t.site.as_str());
    }
    let mut communities: Vec<CommunityCounts> = by_community
        .into_iter()
        .map(|(community, (tubes, sites))| {
            let codes: BTreeSet<&str> = tubes.iter().map(|t| t.barcode.as_str()).collect();
            let samples: Vec<&SampleFact> = expansion_samples
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
    let pool = expansion_tubes
        .iter()
        .filter(|t| t.kind == TubeKind::Human)
        .map(|t| t.capacity)
        .max()
        .unwrap_or(0);
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
    let mut members_by_kind: BTreeMap<MemberKind, u64> = BTreeMap::new();
    let mut tasks_by_kind: BTreeMap<TaskKind, (u64, u64)> = BTreeMap::new();
    let mut decisions = Vec::new();
    let mut isolations = Vec::new();
    let mut timeline = Vec::new();
    let mut mobilisation: Vec<Mobilisation> = Vec::new();
    let mut confirmed_cases = Vec::new();
    let mut affiliations: BTreeMap<PersonId, Vec<String>> = BTreeMap::new();
    for inc in &all {
        for m in &inc.members {
            *members_by_kind.entry(m.kind).or_default() += 1;
            if !m.affiliations.is_empty() {
                affiliations.insert(m.person.id, m.affiliations.clone());
            }
            if m.status == MemberStatus::Confirmed {
                confirmed_cases.push(m.person.clone());
            }
        }
        for t in &inc.tasks {
            let e = tasks_by_kind.entry(t.kind).or_default();
            e.0 += 1;
            if t.status == TaskStatus::Done {
                e.1 += 1;
            }
        }
        decisions.extend(inc.decisions.iter().cloned());
        timeline.extend(inc.timeline.iter().cloned());
        for e in &inc.timeline {
            if e.kind != TimelineKind::Mobilised {
                continue;
            }
            let role = Role::ALL
                .iter()
                .copied()
                .find(|r| e.text.starts_with(r.label_zh()));
            // Every line is kept: several sub-districts report in place.
            if let Some(role) = role {
                mobilisation.push(Mobilisation {
                    role,
                    label: role.label_zh().to_string(),
                    at: e.at,
                    by: e.actor.clone(),
                });
            }
        }
    }
    for inc in &all {
        for o in &inc.orders {
            if o.kind != OrderKind::HomeIsolation {
                continue;
            }
            if let Some(p) = &o.person {
                isolations.push(Isolation {
                    person: p.clone(),
                    kind: o.kind,
                    reason: o.reason.clone(),
                    starts_at: o.starts_at,
                    ends_at: o.ends_at,
                    days: o.ends_at.map(|e| (e - o.starts_at).num_days()),
                    lifted_at: o.lifted_at,
                    affiliations: affiliations.get(&p.id).cloned().unwrap_or_default(),
                });
            }
        }
    }
    timeline.sort_by_key(|e| e.at);
    decisions.sort_by_key(|d| (d.proposed_at, d.id));
    let controls: Vec<OrderView> = all
        .iter()
        .flat_map(|i| i.orders.iter())
        .filter(|o| o.kind == OrderKind::StaticControl)
        .cloned()
        .collect();
    let cascades_summary: Vec<CascadeSummary> = cascades
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
        .collect();
    let everything_closed = all.iter().all(|i| i.info.status == IncidentStatus::Closed);
    let all_clear_at = if everything_closed && !controls.is_empty() {
        controls
            .iter()
            .map(|o| o.lifted_at)
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().max())
    } else if everything_closed {
        all.iter().filter_map(|i| i.info.closed_at).max()
    } else {
        None
    };
    // A duration is never negative: an all-clear recorded before the
    // opening (possible only in data older than the server's time checks)
    // gives no duration rather than a wrong one.
    let minutes = all_clear_at
        .map(|t| (t - root.info.opened_at).num_minutes())
        .filter(|m| *m >= 0);
    let all_negative = expansion.resulted == expansion.tubes + expansion.env_tubes
        && expansion.non_negative == 0
        && expansion.resulted > 0;
    let savings = tests_saved(expansion.people, expansion.tubes);
    let trigger = root
        .tubes
        .iter()
        .find(|t| t.role == TubeRole::Trigger)
        .cloned();
    let chains: Vec<crate::decide::Chain> =
        all.iter().flat_map(|i| i.chains.iter().cloned()).collect();
    let coverage: Vec<crate::decide::CompoundCoverage> = all
        .iter()
        .flat_map(|i| i.coverage.iter().cloned())
        .collect();
    let blockers: Vec<String> = all
        .iter()
        .filter(|i| i.info.status == IncidentStatus::Open)
        .flat_map(|i| {
            i.blockers
                .iter()
                .map(move |b| format!("#{}：{b}", i.info.id))
        })
        .collect();
    let mut alerted: Vec<AreaBrief> = Vec::new();
    for a in all.iter().flat_map(|i| i.alerted.iter()) {
        if !alerted.iter().any(|x| x.id == a.id) {
            alerted.push(a.clone());
        }
    }
    let overrides: Vec<DecisionView> = decisions
        .iter()
        .filter(|d| d.override_reason.is_some())
        .cloned()
        .collect();
    let mut instants: Vec<DateTime<Utc>> = timeline.iter().map(|e| e.at).collect();
    instants.push(root.info.opened_at);
    instants.extend(all_clear_at);
    let spans_days = {
        let day = |t: &DateTime<Utc>| crate::time::local(*t).date_naive();
        instants.iter().map(day).min() != instants.iter().map(day).max()
    };
    let clock = |t: DateTime<Utc>| {
        if spans_days {
            crate::time::md_hm(t)
        } else {
            hm(t)
        }
    };
    let reactive = chains
        .iter()
        .filter(|c| c.role != TubeRole::Trigger)
        .count();
    let conclusion = match (all_clear_at, confirmed_cases.is_empty()) {
        (Some(t), true) => format!(
            "扩面筛查{}，{} 解除全部管控并结案，用时 {}。{}",
            if all_negative {
                "全部阴性".to_string()
            } else if reactive > 0 {
                format!("非阴性 {reactive} 管，处置链均已闭环")
            } else {
                "完成".to_string()
            },
            clock(t),
            minutes.map_or_else(|| "—".to_string(), duration_hm),
            if overrides.is_empty() {
                String::new()
            } else {
                format!(
                    "覆盖率未达预案要求，经指挥部明确理由提前解除：{}。",
                    overrides
                        .iter()
                        .filter_map(|d| d.override_reason.as_deref())
                        .collect::<Vec<_>>()
                        .join("；")
                )
            }
        ),
        (_, false) => {
            format!(
                "确诊 {} 例（{}），管控继续；已启动关联事件 {}。",
                confirmed_cases.len(),
                confirmed_cases
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                cascades_summary
                    .iter()
                    .map(|c| format!("#{}（密接 {} 人）", c.id, c.contacts))
                    .collect::<Vec<_>>()
                    .join("、")
            ) + &if blockers.is_empty() {
                String::new()
            } else {
                format!("未解除原因：{}。", blockers.join("；"))
            }
        }
        (None, true) if blockers.is_empty() => "处置中，管控继续：待指挥部确认解除。".to_string(),
        (None, true) => format!("处置中，管控继续：{}。", blockers.join("；")),
    };
    Report {
        incident: root.info.clone(),
        trigger,
        all_clear_at,
        time_to_all_clear_minutes: minutes,
        time_to_all_clear: minutes.map(duration_hm),
        mobilisation,
        controls,
        expansion,
        communities,
        pool,
        all_negative,
        retests,
        members_by_kind: members_by_kind.into_iter().collect(),
        tasks_by_kind: tasks_by_kind
            .into_iter()
            .map(|(k, (n, d))| (k, n, d))
            .collect(),
        decisions,
        isolations,
        confirmed_cases,
        cascades: cascades_summary,
        savings,
        tubes_awaiting: root
            .tubes
            .iter()
            .filter(|t| t.samples > 0 && t.outcome.is_none())
            .count() as u64,
        timeline,
        chains,
        coverage,
        blockers,
        alerted,
        overrides,
        spans_days,
        conclusion,
    }
}

impl Report {
    /// The report for a terminal: the story's figures, one per line.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
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
        s
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
