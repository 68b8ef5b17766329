//! The words of outbreak response as types: responders, incident and member
//! states, orders, tasks, decisions, timeline entries, coverage marks.
//!
//! Every enum has a stable storage name (`as_str`/`parse`) and the word
//! staff read on screen (`label_zh`), so storage, API and report agree.

use gridsweep_domain::{AreaId, AreaLevel, PersonId};
use serde::{Deserialize, Serialize};
use thiserror::Error;

macro_rules! words {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal / $zh:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $var),*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),*];

            /// Stable storage and API name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),* }
            }

            /// The word staff read.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$var => $zh),* }
            }

            /// Parses the storage name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$var),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words! {
    /// The party responsible in the playbook: who a task is assigned to,
    /// who may confirm a decision, which grid level reports in place.
    /// Named apart from the account role (`gridsweep_domain::Responder`); the
    /// storage names are what the playbook TOML, stored rows and the API
    /// carry, so they never change.
    pub enum Responder {
        DistrictCommand = "district_command" / "区疫情指挥部",
        SubDistrict = "sub_district" / "街道办事处",
        Community = "community" / "社区",
        GridWorker = "grid_worker" / "网格员",
        Cdc = "cdc" / "疾控",
        Sampler = "sampler" / "采样员",
        Lab = "lab" / "检测机构",
    }
}

words! {
    /// Whether an incident still holds controls.
    pub enum IncidentStatus {
        Open = "open" / "处置中",
        Closed = "closed" / "已解除",
    }
}

words! {
    /// Why a person is part of an incident.
    pub enum MemberKind {
        /// In a non-negative pooled tube.
        PoolMember = "pool_member" / "混管成员",
        /// Lives in the household of a pool member.
        Household = "household" / "同住人员",
        /// Close contact of a confirmed case (cascade incidents).
        Contact = "contact" / "密切接触者",
    }
}

words! {
    /// Where a member stands.
    pub enum MemberStatus {
        /// Isolated until their single-tube retest comes back.
        PendingRetest = "pending_retest" / "隔离待单管复核",
        /// Retest negative.
        Cleared = "cleared" / "复核阴性",
        /// Retest Ct in the grey zone ("slightly elevated").
        GreyZone = "grey_zone" / "指标略高(灰区)",
        /// Retest reactive; a confirmation is proposed.
        Positive = "positive" / "复核阳性",
        /// Confirmed case: controls stay, contacts cascade.
        Confirmed = "confirmed" / "确诊",
        /// On home isolation after a confirmed decision.
        HomeIsolated = "home_isolated" / "居家隔离",
        /// Household member traced and told.
        Traced = "traced" / "已追踪告知",
    }
}

words! {
    /// The kinds of control order.
    pub enum OrderKind {
        /// 静态化管控 of a compound: nobody in or out.
        StaticControl = "static_control" / "静态化管控",
        /// A pool member isolated until their single-tube retest.
        IsolationPendingRetest = "isolation_pending_retest" / "隔离待复核",
        /// N days at home, with the household.
        HomeIsolation = "home_isolation" / "居家隔离",
    }
}

words! {
    /// Units of work on the grid.
    pub enum TaskKind {
        /// Take a single-tube sample of one person.
        Retest = "retest" / "单管复核采样",
        /// Knock on every door of a building.
        DoorToDoor = "door_to_door" / "上门采样",
        /// Trace and tell a pool member's household.
        TraceHousehold = "trace_household" / "同住人员追踪",
        /// Trace a school's or employer's affiliates of a member.
        TraceAffiliation = "trace_affiliation" / "学校/单位追踪",
        /// Swab surfaces ("1号楼电梯按钮"), 10 points a tube by default.
        Environmental = "environmental" / "环境采样",
        /// Sample several pool members into one retest tube, as the
        /// playbook's stage-2 design asks (the title names them).
        PooledRetest = "pooled_retest" / "混管复核采样",
        /// Disinfect the points of a non-negative environmental tube.
        Disinfection = "disinfection" / "环境消杀",
        /// Swab the points of a non-negative environmental tube again,
        /// after disinfection; a negative tube of the site resolves it.
        EnvResample = "env_resample" / "环境复采",
    }
}

words! {
    /// A task's state.
    pub enum TaskStatus {
        Open = "open" / "待办",
        Done = "done" / "已完成",
    }
}

words! {
    /// What the playbook proposes and a person confirms.
    pub enum DecisionKind {
        /// All retests and expansion tubes negative: lift every control, close.
        LiftAndClose = "lift_and_close" / "解除管控并结案",
        /// A grey-zone member and their household: home isolation N days.
        HomeIsolation = "home_isolation" / "居家隔离",
        /// A positive retest: confirmed case, controls stay, contacts cascade.
        ConfirmCase = "confirm_case" / "确诊并启动密接处置",
    }
}

words! {
    /// A decision's state.
    pub enum DecisionStatus {
        Proposed = "proposed" / "待确认",
        Confirmed = "confirmed" / "已确认",
        Rejected = "rejected" / "已驳回",
    }
}

words! {
    /// What an incident's round is for.
    pub enum RoundRole {
        /// Full-coverage sampling of the affected compounds.
        Expansion = "expansion" / "扩面筛查",
        /// Single-tube retests of the pool members.
        Retest = "retest" / "单管复核",
    }
}

words! {
    /// Why a person on the roster is not missing though not sampled.
    pub enum MarkKind {
        Away = "away" / "外出",
        Hospitalised = "hospitalised" / "住院",
        SampledElsewhere = "sampled_elsewhere" / "异地已采",
    }
}

words! {
    /// What a timeline entry records.
    pub enum TimelineKind {
        Opened = "opened" / "事件开启",
        Joined = "joined" / "并入事件",
        Notified = "notified" / "通知到位",
        Order = "order" / "管控指令",
        Task = "task" / "任务下发",
        Mobilised = "mobilised" / "网格到位",
        Sampling = "sampling" / "采样",
        Result = "result" / "检测结果",
        Proposed = "proposed" / "预案建议",
        Confirmed = "confirmed" / "决定确认",
        Rejected = "rejected" / "决定驳回",
        Lifted = "lifted" / "解除管控",
        Closed = "closed" / "结案",
        Cascade = "cascade" / "关联事件",
        Note = "note" / "记录",
    }
}

/// An area as the rules see it: enough to name it and place it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaBrief {
    pub id: AreaId,
    pub level: AreaLevel,
    pub name: String,
}

/// Who is to do a task: a role on an area (until accounts exist, the
/// grid worker of 瓦屋李社区第1网格 is "grid_worker @ that grid").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub role: Responder,
    pub area: AreaId,
    pub area_name: String,
}

impl Assignee {
    /// "瓦屋李社区第1网格 网格员", as a task list shows it.
    pub fn label(&self) -> String {
        format!("{} {}", self.area_name, self.role.label_zh())
    }
}

/// A person named in an incident. Only the masked document is kept: the
/// incident tables never hold a full ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonBrief {
    pub id: PersonId,
    pub name: String,
    /// e.g. `410105********1234`.
    pub document_masked: String,
}

/// Why a response request was refused. `code()` is stable for clients.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum ResponseError {
    #[error("no incident {0}")]
    IncidentUnknown(i64),
    #[error("no decision {0} in this incident")]
    DecisionUnknown(i64),
    #[error("no task {0} in this incident")]
    TaskUnknown(i64),
    #[error("decision {id} is {status}, not proposed")]
    DecisionNotPending { id: i64, status: String },
    #[error("a {kind} must be confirmed by {allowed}; {role} may not")]
    RoleNotAllowed {
        kind: String,
        role: String,
        allowed: String,
    },
    #[error("incident {0} is closed")]
    IncidentClosed(i64),
    #[error("the conditions for this decision no longer hold: {0}")]
    ConditionsChanged(String),
    #[error("no person {0} on the roster")]
    PersonUnknown(i64),
    #[error("no round {0}")]
    RoundUnknown(i64),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("at {at} is before the decision was proposed ({proposed_at})")]
    TimeBeforeProposal { at: String, proposed_at: String },
    #[error("at {at} is before the incident opened ({opened_at})")]
    TimeBeforeIncident { at: String, opened_at: String },
    #[error("at {at} is after the server's clock ({server}, {skew_seconds} s skew allowed)")]
    TimeAfterServerClock {
        at: String,
        server: String,
        skew_seconds: i64,
    },
    #[error(
        "coverage below the playbook's requirement: {0}; lift only with an explicit override and its reason"
    )]
    CoverageBelowRequirement(String),
}

impl ResponseError {
    /// Stable code, e.g. `role_not_allowed`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IncidentUnknown(_) => "incident_unknown",
            Self::DecisionUnknown(_) => "decision_unknown",
            Self::TaskUnknown(_) => "task_unknown",
            Self::DecisionNotPending { .. } => "decision_not_pending",
            Self::RoleNotAllowed { .. } => "role_not_allowed",
            Self::IncidentClosed(_) => "incident_closed",
            Self::ConditionsChanged(_) => "conditions_changed",
            Self::PersonUnknown(_) => "person_unknown",
            Self::RoundUnknown(_) => "round_unknown",
            Self::Invalid { .. } => "invalid_field",
            Self::TimeBeforeProposal { .. } => "time_before_proposal",
            Self::TimeBeforeIncident { .. } => "time_before_incident",
            Self::TimeAfterServerClock { .. } => "time_after_server_clock",
            Self::CoverageBelowRequirement(_) => "coverage_below_requirement",
        }
    }

    /// HTTP status: 404 unknown, 403 wrong role, 409 wrong state, 400 bad input.
    pub fn status(&self) -> u16 {
        match self {
            Self::IncidentUnknown(_)
            | Self::DecisionUnknown(_)
            | Self::TaskUnknown(_)
            | Self::PersonUnknown(_)
            | Self::RoundUnknown(_) => 404,
            Self::RoleNotAllowed { .. } => 403,
            Self::Invalid { .. }
            | Self::TimeBeforeProposal { .. }
            | Self::TimeBeforeIncident { .. }
            | Self::TimeAfterServerClock { .. } => 400,
            _ => 409,
        }
    }
}
