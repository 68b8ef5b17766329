//! The scenario file format (docs/scenario-format.md): what a drill holds
//! as inputs only — who was sampled in which tube when, each tube's
//! result, who decided what when. Kept apart from the replay so the format
//! can be read (and checked, see `validate`) without a database.

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use gridsweep_response::Responder;
use serde::Deserialize;

/// A drill scenario (see docs/scenario-format.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The drill's title, printed above the report.
    pub name: String,
    /// The drill's day, on the China clock (Asia/Shanghai, UTC+8).
    pub date: NaiveDate,
    /// Picks the persons from the roster, deterministically.
    pub seed: u64,
    /// The routine round the trigger was sampled in.
    pub routine: Routine,
    /// The tube that opens the incident.
    pub trigger: Trigger,
    /// Grid levels reporting in place.
    #[serde(default)]
    pub mobilised: Vec<Mobilised>,
    /// Full-coverage sampling, site by site.
    #[serde(default)]
    pub expansion: Vec<ExpansionSite>,
    /// Environmental sampling, site by site.
    #[serde(default)]
    pub environment: Vec<Environment>,
    /// The members' single-tube retests.
    pub retests: Retests,
    /// The lab receiving and resulting the expansion tubes.
    pub lab: Lab,
    /// Persons accounted for though not sampled.
    #[serde(default)]
    pub marks: Vec<Marks>,
    /// Who confirms (or rejects) which proposal, when.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// What follows reactive expansion tubes: retests of everyone still
    /// awaiting one, disinfection, and resampling of environmental points.
    #[serde(default)]
    pub followup: Option<Followup>,
}

/// The follow-up of non-negative expansion tubes (their chains).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Followup {
    /// When each person still awaiting a retest is sampled (single tubes
    /// at the `[retests]` site), and each reactive environmental tube's
    /// site is swabbed again.
    pub sampled: String,
    /// When the follow-up tubes reach the lab.
    pub received: String,
    /// When their (negative) results are posted.
    pub resulted: String,
    /// When the disinfection tasks are reported done, and by whom.
    pub disinfected: String,
    /// Who reports the disinfection done.
    pub by: String,
}

/// The routine round the triggering tube was sampled in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routine {
    /// The round's name.
    pub name: String,
    /// The area the round covers (a roster name).
    pub area: String,
    /// Persons per tube (the routine pool).
    pub pool: u32,
    /// When the round starts.
    pub starts: String,
    /// When the round ends.
    pub ends: String,
}

/// Who went into the triggering tube.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberGroup {
    /// The area (a roster name) whose residents qualify.
    pub place: String,
    /// How many of them are in the tube.
    pub count: usize,
    /// Only residents affiliated with this school or employer.
    #[serde(default)]
    pub affiliated: Option<String>,
    /// A name later entries (retest results) refer to.
    #[serde(default)]
    pub tag: Option<String>,
}

/// Ct values as a lab reports them.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ct {
    /// The ORF1ab gene's Ct, if detected.
    pub orf1ab: Option<f64>,
    /// The N gene's Ct, if detected.
    pub n: Option<f64>,
}

/// The tube that opens the incident.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// The site (hut) it was sampled at.
    pub site: String,
    /// Its barcode.
    pub tube: String,
    /// When it was sampled.
    pub sampled: String,
    /// When the lab received it.
    pub received: String,
    /// When the lab posted its result.
    pub resulted: String,
    /// The outcome as the lab states it (omitted: derived from `ct`).
    #[serde(default)]
    pub outcome: Option<String>,
    /// The Ct values the lab reported.
    pub ct: Ct,
    /// Who is in it, group by group.
    pub members: Vec<MemberGroup>,
}

/// A grid level reporting in place.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mobilised {
    /// When the level reported in place.
    pub at: String,
    /// Which grid level.
    pub role: Responder,
    /// Who reported.
    pub by: String,
    /// A note for the timeline.
    #[serde(default)]
    pub text: String,
}

/// Full-coverage sampling at one site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpansionSite {
    /// The sampling site (a site name).
    pub site: String,
    /// Residents of these places are sampled here…
    #[serde(default)]
    pub from: Vec<String>,
    /// …and persons affiliated with these (a school's pupils).
    #[serde(default)]
    pub affiliates_of: Vec<String>,
    /// How many persons are sampled here.
    pub people: usize,
    /// How many tubes they fill (not all full).
    pub tubes: usize,
    /// When the first tube is opened.
    pub start: String,
    /// When the last tube is opened.
    pub end: String,
}

/// Environmental sampling at one site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The sampling site (a site name).
    pub site: String,
    /// The area whose points are swabbed (names the points).
    pub place: String,
    /// How many tubes.
    pub tubes: usize,
    /// Points swabbed into each tube.
    pub points_per_tube: usize,
    /// When the first tube is opened.
    pub start: String,
    /// When the last tube is opened.
    pub end: String,
}

/// A retest result other than negative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetestResult {
    /// The trigger member group's tag.
    pub tag: String,
    /// The retest's Ct values.
    pub ct: Ct,
}

/// Single-tube retests of the triggering tube's members.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retests {
    /// The site the retests are sampled at.
    pub site: String,
    /// When the first retest is sampled (the others follow minutes apart).
    pub sampled: String,
    /// When the lab received them.
    pub received: String,
    /// When the first result is posted.
    pub resulted: String,
    /// Retests that are not negative, by tag.
    #[serde(default)]
    pub result: Vec<RetestResult>,
}

/// An expansion tube whose result is not negative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TubeResult {
    /// Index into the expansion tubes, in the order they were opened.
    pub index: usize,
    /// The tube's Ct values.
    pub ct: Ct,
}

/// The lab.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// The lab's name; its drill account holds this lab.
    pub name: String,
    /// When the expansion tubes reach the lab.
    pub received: String,
    /// When the first expansion result is posted…
    pub results_from: String,
    /// …and the last (results spread evenly between).
    pub results_to: String,
    /// Expansion tubes that are not negative, by index.
    #[serde(default)]
    pub result: Vec<TubeResult>,
}

/// Persons marked away / hospitalised / sampled elsewhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marks {
    /// The area (a roster name) whose residents are marked.
    pub from: String,
    /// The mark: `away`, `hospitalised` or `sampled_elsewhere`.
    pub kind: String,
    /// How many persons.
    pub count: usize,
    /// Who marks them.
    pub by: String,
    /// When.
    pub at: String,
}

/// A decision someone confirms (or rejects).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// When.
    pub at: String,
    /// The proposal's kind (`home_isolation`, `lift_and_close`, `confirm_case`).
    pub kind: String,
    /// Who decides.
    pub by: String,
    /// In which role (the CDC's decisions go through the CDC's account).
    pub role: Responder,
    /// Confirm (the default) or reject.
    #[serde(default = "yes")]
    pub confirm: bool,
    /// A note kept with the decision.
    #[serde(default)]
    pub note: Option<String>,
    /// Lift below the playbook's coverage requirement: the reason (an
    /// explicit override, recorded and shown in the report). When the
    /// playbook proposed no lift, command proposes one by hand first.
    #[serde(default, rename = "override")]
    pub override_reason: Option<String>,
}

fn yes() -> bool {
    true
}

impl Scenario {
    /// Parses a scenario and checks everything that needs no database:
    /// every time parses and events come in order, counts fit their
    /// tubes, kinds are known, tags and indexes point at something, Ct
    /// values are possible. Nothing is sent before this passes.
    pub fn parse(text: &str) -> Result<Self> {
        let s: Scenario = toml::from_str(text).context("parsing scenario")?;
        s.check().context("checking scenario")?;
        Ok(s)
    }

    /// A time of the scenario: `HH:MM` on its date, or `YYYY-MM-DDTHH:MM`,
    /// both on the China clock.
    pub fn time(&self, s: &str) -> Result<DateTime<Utc>> {
        let local = if s.len() <= 5 {
            let t = NaiveTime::parse_from_str(s, "%H:%M").with_context(|| format!("time {s}"))?;
            self.date.and_time(t)
        } else {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                .with_context(|| format!("time {s}"))?
        };
        gridsweep_response::time::china()
            .from_local_datetime(&local)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow!("time {s}"))
    }
}
