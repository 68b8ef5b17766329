//! `gridsweep demo`: builds the demo district (if the database is empty)
//! and replays a drill scenario — by default the 6·13 drill — through the
//! same HTTP API devices and labs use, on the drill's clock, then prints the
//! incident report. The scenario holds only inputs (who was sampled in
//! which tube when, each tube's result, who decided what when); every
//! figure in the report is computed by the server from the replayed events.
//! Format: docs/scenario-format.md.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use clap::Args;
use gridsweep_domain::AreaLevel;
use gridsweep_response::Responder;
use gridsweep_response::report::Report;
use gridsweep_server::AppState;
use gridsweep_storage::{PersonRecord, Store};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The 6·13 scenario, built in so `gridsweep demo` needs no file.
pub const SCENARIO_613: &str = include_str!("../../../../scenarios/613.toml");

/// Flags of `gridsweep demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scenario file (default: the built-in 6·13 drill, scenarios/613.toml).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the report page here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the report workbook here.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Write every answer the lab account received during the replay here
    /// (a JSON array), so what a lab gets to see can be checked.
    #[arg(long, value_name = "FILE")]
    pub lab_answers: Option<PathBuf>,
}

/// A drill scenario (see docs/scenario-format.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// The drill's day, on the China clock (Asia/Shanghai, UTC+8).
    pub date: NaiveDate,
    /// Picks the persons from the roster, deterministically.
    pub seed: u64,
    pub routine: Routine,
    pub trigger: Trigger,
    #[serde(default)]
    pub mobilised: Vec<Mobilised>,
    #[serde(default)]
    pub expansion: Vec<ExpansionSite>,
    #[serde(default)]
    pub environment: Vec<Environment>,
    pub retests: Retests,
    pub lab: Lab,
    #[serde(default)]
    pub marks: Vec<Marks>,
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
    pub received: String,
    pub resulted: String,
    /// When the disinfection tasks are reported done, and by whom.
    pub disinfected: String,
    pub by: String,
}

/// The routine round the triggering tube was sampled in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routine {
    pub name: String,
    pub area: String,
    pub pool: u32,
    pub starts: String,
    pub ends: String,
}

/// Who went into the triggering tube.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberGroup {
    pub place: String,
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
    pub orf1ab: Option<f64>,
    pub n: Option<f64>,
}

/// The tube that opens the incident.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub site: String,
    pub tube: String,
    pub sampled: String,
    pub received: String,
    pub resulted: String,
    #[serde(default)]
    pub outcome: Option<String>,
    pub ct: Ct,
    pub members: Vec<MemberGroup>,
}

/// A grid level reporting in place.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mobilised {
    pub at: String,
    pub role: Responder,
    pub by: String,
    #[serde(default)]
    pub text: String,
}

/// Full-coverage sampling at one site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpansionSite {
    pub site: String,
    /// Residents of these places are sampled here…
    #[serde(default)]
    pub from: Vec<String>,
    /// …and persons affiliated with these (a school's pupils).
    #[serde(default)]
    pub affiliates_of: Vec<String>,
    pub people: usize,
    pub tubes: usize,
    pub start: String,
    pub end: String,
}

/// Environmental sampling at one site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub site: String,
    pub place: String,
    pub tubes: usize,
    pub points_per_tube: usize,
    pub start: String,
    pub end: String,
}

/// A retest result other than negative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetestResult {
    pub tag: String,
    pub ct: Ct,
}

/// Single-tube retests of the triggering tube's members.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retests {
    pub site: String,
    pub sampled: String,
    pub received: String,
    pub resulted: String,
    #[serde(default)]
    pub result: Vec<RetestResult>,
}

/// An expansion tube whose result is not negative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TubeResult {
    /// Index into the expansion tubes, in the order they were opened.
    pub index: usize,
    pub ct: Ct,
}

/// The lab.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    pub name: String,
    pub received: String,
    pub results_from: String,
    pub results_to: String,
    #[serde(default)]
    pub result: Vec<TubeResult>,
}

/// Persons marked away / hospitalised / sampled elsewhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marks {
    pub from: String,
    pub kind: String,
    pub count: usize,
    pub by: String,
    pub at: String,
}

/// A decision someone confirms (or rejects).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub at: String,
    pub kind: String,
    pub by: String,
    pub role: Responder,
    #[serde(default = "yes")]
    pub confirm: bool,
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

    fn check(&self) -> Result<()> {
        let t = |what: &str, v: &str| self.time(v).with_context(|| what.to_string());
        let in_order = |steps: &[(&str, DateTime<Utc>)]| -> Result<()> {
            for w in steps.windows(2) {
                if w[1].1 < w[0].1 {
                    bail!(
                        "{} ({}) is before {} ({})",
                        w[1].0,
                        gridsweep_response::time::ymd_hm(w[1].1),
                        w[0].0,
                        gridsweep_response::time::ymd_hm(w[0].1)
                    );
                }
            }
            Ok(())
        };
        let ct_ok = |what: &str, ct: &Ct| -> Result<()> {
            for v in [ct.orf1ab, ct.n].into_iter().flatten() {
                if !v.is_finite() || !(0.0..=60.0).contains(&v) {
                    bail!("{what}: Ct {v} is not a possible value (0 to 60)");
                }
            }
            Ok(())
        };
        gridsweep_domain::pipeline::check_pool_size(self.routine.pool)
            .map_err(|e| anyhow!("routine.pool: {e}"))?;
        let opened = t("trigger.resulted", &self.trigger.resulted)?;
        in_order(&[
            ("routine.starts", t("routine.starts", &self.routine.starts)?),
            (
                "trigger.sampled",
                t("trigger.sampled", &self.trigger.sampled)?,
            ),
            (
                "trigger.received",
                t("trigger.received", &self.trigger.received)?,
            ),
            ("trigger.resulted", opened),
        ])?;
        in_order(&[
            (
                "trigger.sampled",
                t("trigger.sampled", &self.trigger.sampled)?,
            ),
            ("routine.ends", t("routine.ends", &self.routine.ends)?),
        ])?;
        if let Some(o) = &self.trigger.outcome
            && gridsweep_domain::pipeline::Outcome::parse(o).is_none()
        {
            bail!("trigger.outcome: unknown outcome {o:?}");
        }
        ct_ok("trigger.ct", &self.trigger.ct)?;
        let members: usize = self.trigger.members.iter().map(|m| m.count).sum();
        if members == 0 {
            bail!("trigger.members: the tube needs at least one person");
        }
        if members > self.routine.pool as usize {
            bail!(
                "trigger.members: {members} persons do not fit a {}:1 tube",
                self.routine.pool
            );
        }
        let tags: BTreeSet<&str> = self
            .trigger
            .members
            .iter()
            .filter_map(|m| m.tag.as_deref())
            .collect();
        for m in &self.mobilised {
            in_order(&[
                ("trigger.resulted", opened),
                ("mobilised.at", t("mobilised.at", &m.at)?),
            ])?;
        }
        let pool = gridsweep_response::Playbook::default().expansion_pool as usize;
        let mut last_sample = opened;
        for e in &self.expansion {
            if e.tubes == 0 || e.people < e.tubes || e.people > e.tubes * pool {
                bail!(
                    "expansion at {}: {} people do not fill {} tubes of at most {pool}",
                    e.site,
                    e.people,
                    e.tubes
                );
            }
            if e.from.is_empty() && e.affiliates_of.is_empty() {
                bail!("expansion at {}: name `from` or `affiliates_of`", e.site);
            }
            let (start, end) = (t("expansion.start", &e.start)?, t("expansion.end", &e.end)?);
            in_order(&[
                ("trigger.resulted", opened),
                ("expansion.start", start),
                ("expansion.end", end),
            ])?;
            last_sample = last_sample.max(end);
        }
        let mut env_tubes = 0;
        for e in &self.environment {
            if e.tubes == 0 || !(1..=50).contains(&e.points_per_tube) {
                bail!(
                    "environment at {}: {} tubes of {} points (1 to 50 points a tube)",
                    e.site,
                    e.tubes,
                    e.points_per_tube
                );
            }
            let (start, end) = (
                t("environment.start", &e.start)?,
                t("environment.end", &e.end)?,
            );
            in_order(&[
                ("trigger.resulted", opened),
                ("environment.start", start),
                ("environment.end", end),
            ])?;
            last_sample = last_sample.max(end);
            env_tubes += e.tubes;
        }
        in_order(&[
            ("trigger.resulted", opened),
            (
                "retests.sampled",
                t("retests.sampled", &self.retests.sampled)?,
            ),
            (
                "retests.received",
                t("retests.received", &self.retests.received)?,
            ),
            (
                "retests.resulted",
                t("retests.resulted", &self.retests.resulted)?,
            ),
        ])?;
        for r in &self.retests.result {
            if !tags.contains(r.tag.as_str()) {
                bail!(
                    "retests.result: tag {:?} names no trigger member (tags: {})",
                    r.tag,
                    tags.iter().copied().collect::<Vec<_>>().join(", ")
                );
            }
            ct_ok("retests.result", &r.ct)?;
        }
        let lab_received = t("lab.received", &self.lab.received)?;
        in_order(&[
            ("the last expansion sample", last_sample),
            ("lab.received", lab_received),
            (
                "lab.results_from",
                t("lab.results_from", &self.lab.results_from)?,
            ),
            ("lab.results_to", t("lab.results_to", &self.lab.results_to)?),
        ])?;
        let human: usize = self.expansion.iter().map(|e| e.tubes).sum();
        for r in &self.lab.result {
            if r.index >= human + env_tubes {
                bail!(
                    "lab.result: index {} is out of range: {} expansion tubes (0 to {})",
                    r.index,
                    human + env_tubes,
                    (human + env_tubes).saturating_sub(1)
                );
            }
            ct_ok("lab.result", &r.ct)?;
        }
        if self.lab.name.trim().is_empty() {
            bail!("lab.name: name the lab");
        }
        for m in &self.marks {
            if gridsweep_response::MarkKind::parse(&m.kind).is_none() {
                bail!(
                    "marks: unknown kind {:?} (known: {})",
                    m.kind,
                    gridsweep_response::MarkKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            in_order(&[
                ("trigger.resulted", opened),
                ("marks.at", t("marks.at", &m.at)?),
            ])?;
        }
        if let Some(f) = &self.followup {
            in_order(&[
                ("lab.results_to", t("lab.results_to", &self.lab.results_to)?),
                ("followup.sampled", t("followup.sampled", &f.sampled)?),
                ("followup.received", t("followup.received", &f.received)?),
                ("followup.resulted", t("followup.resulted", &f.resulted)?),
            ])?;
            in_order(&[
                (
                    "lab.results_from",
                    t("lab.results_from", &self.lab.results_from)?,
                ),
                (
                    "followup.disinfected",
                    t("followup.disinfected", &f.disinfected)?,
                ),
                ("followup.sampled", t("followup.sampled", &f.sampled)?),
            ])?;
        }
        for d in &self.decisions {
            if gridsweep_response::DecisionKind::parse(&d.kind).is_none() {
                bail!(
                    "decisions: unknown kind {:?} (known: {})",
                    d.kind,
                    gridsweep_response::DecisionKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            in_order(&[
                ("trigger.resulted", opened),
                ("decisions.at", t("decisions.at", &d.at)?),
            ])?;
            if d.override_reason
                .as_deref()
                .is_some_and(|r| r.trim().is_empty())
            {
                bail!("decisions: an override names its reason");
            }
            if d.override_reason.is_some() && d.kind != "lift_and_close" {
                bail!("decisions: only lift_and_close may be an override");
            }
        }
        Ok(())
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

/// A tiny deterministic shuffle (xorshift), so a seed picks the same
/// persons every run.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// The HTTP client side of the replay. It acts through real accounts,
/// as the people of the story would: a district-wide sampler's device, the
/// lab's system, district command and the CDC — each with an API token.
struct Api {
    base: String,
    http: reqwest::Client,
    tokens: DrillTokens,
    /// Every answer given to the lab account, when asked to keep them.
    lab_answers: Option<std::sync::Mutex<Vec<Value>>>,
}

/// Bearer tokens of the accounts the replay acts as.
pub(crate) struct DrillTokens {
    pub(crate) command: String,
    pub(crate) cdc: String,
    pub(crate) sampler: String,
    pub(crate) lab: String,
}

/// The lab the drill's results come from.
const DRILL_LAB: &str = "高新区核酸检测实验室";

/// Creates (once) the drill's token-only accounts, scoped to the district,
/// and issues each a fresh token valid for a day.
pub(crate) fn drill_tokens(store: &dyn Store) -> Result<DrillTokens> {
    drill_tokens_for(store, DRILL_LAB)
}

/// The drill's tokens, the lab account being the scenario's `[lab] name`:
/// `drill-lab` for the district's lab, else the first `drill-lab-N` that
/// holds that lab (created when none does).
pub(crate) fn drill_tokens_for(store: &dyn Store, lab_name: &str) -> Result<DrillTokens> {
    use gridsweep_domain::{AreaLevel, Role};
    use gridsweep_server::auth::{random_token, sha256_hex};
    use gridsweep_storage::{NewApiToken, NewUser};
    let district = store
        .find_areas(
            None,
            gridsweep_population::names::DISTRICT,
            &[AreaLevel::District],
        )?
        .first()
        .map(|a| a.id)
        .ok_or_else(|| anyhow!("the demo district is missing"))?;
    let issue = |username: &str, role: Role| -> Result<String> {
        let user = match store.user_by_name(username)? {
            Some(u) => u,
            None => store.create_user(NewUser {
                username: username.to_string(),
                display_name: format!("6·13 drill {role}"),
                role,
                scope_area: (!role.is_lab()).then_some(district),
                lab: role.is_lab().then(|| lab_name.to_string()),
                password_hash: None,
                created_at: Utc::now(),
            })?,
        };
        let token = random_token();
        store.create_api_token(NewApiToken {
            user_id: user.id,
            name: "6·13 drill replay".into(),
            token_hash: sha256_hex(&token),
            prefix: token.chars().take(8).collect(),
            created_at: Utc::now(),
            expires_at: Utc::now() + chrono::Duration::days(1),
        })?;
        Ok(token)
    };
    Ok(DrillTokens {
        command: issue("drill-command", Role::Command)?,
        cdc: issue("drill-cdc", Role::Cdc)?,
        sampler: issue("drill-sampler", Role::Sampler)?,
        lab: issue(&lab_username(store, lab_name)?, Role::Lab)?,
    })
}

/// The username of the drill's account for `lab`.
fn lab_username(store: &dyn Store, lab: &str) -> Result<String> {
    for n in 1..=100 {
        let name = if n == 1 {
            "drill-lab".to_string()
        } else {
            format!("drill-lab-{n}")
        };
        match store.user_by_name(&name)? {
            None => return Ok(name),
            Some(u) if u.lab.as_deref() == Some(lab) => return Ok(name),
            Some(_) => continue,
        }
    }
    bail!("too many drill lab accounts; use a fresh --database-url")
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        // Who does this step: devices sync, the lab posts results, the CDC
        // confirms what is the CDC's to confirm, command does the rest.
        let t = &self.tokens;
        let token = if path.starts_with("/api/v1/sync")
            || path.starts_with("/api/v1/tubes")
            || path.starts_with("/api/v1/boxes")
        {
            &t.sampler
        } else if path.starts_with("/api/v1/results") || path.starts_with("/api/v1/lab/") {
            &t.lab
        } else if body.as_ref().is_some_and(|b| b["role"] == "cdc")
            && (path.ends_with("/confirm") || path.ends_with("/reject"))
        {
            &t.cdc
        } else {
            &t.command
        };
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if std::ptr::eq(token, &t.lab)
            && let Some(keep) = &self.lab_answers
        {
            keep.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(v.clone());
        }
        if !status.is_success() {
            bail!("{method} {path}: {status} {v}");
        }
        Ok(v)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }
}

/// The one area named `name`: a name that is on the roster more than once
/// (47 buildings are called 1号楼) is an error listing the candidates, so
/// a scenario never silently picks one of them.
fn area_named(store: &dyn Store, name: &str) -> Result<gridsweep_storage::AreaNode> {
    let mut found: Vec<gridsweep_storage::AreaNode> = store
        .find_areas(None, name, &AreaLevel::ALL)?
        .into_iter()
        .filter(|a| a.name == name)
        .collect();
    match found.len() {
        0 => bail!("scenario names {name:?}, which is not on the roster"),
        1 => Ok(found.remove(0)),
        n => {
            let parents: Vec<gridsweep_domain::AreaId> =
                found.iter().filter_map(|a| a.parent).collect();
            let names: std::collections::BTreeMap<_, _> = store
                .areas(&parents)?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect();
            let list: Vec<String> = found
                .iter()
                .take(20)
                .map(|a| {
                    format!(
                        "#{} {} in {}",
                        a.id,
                        a.name,
                        a.parent
                            .and_then(|p| names.get(&p).cloned())
                            .unwrap_or_default()
                    )
                })
                .collect();
            bail!(
                "scenario names {name:?}, which is ambiguous: {n} areas carry that name ({}{})",
                list.join("; "),
                if n > 20 { "; …" } else { "" }
            )
        }
    }
}

/// The one site named `name` (an ambiguous name lists the candidates).
fn site_id(store: &dyn Store, name: &str) -> Result<i64> {
    let mut found = Vec::new();
    for root in store.roots()? {
        found.extend(
            store
                .sites(&root.path)?
                .into_iter()
                .filter(|s| s.name == name),
        );
    }
    match found.as_slice() {
        [] => bail!("scenario names site {name:?}, which does not exist"),
        [one] => Ok(one.id),
        many => bail!(
            "scenario names site {name:?}, which is ambiguous: {} sites carry that name (ids {})",
            many.len(),
            many.iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn residents(store: &dyn Store, place: &str) -> Result<Vec<PersonRecord>> {
    let a = area_named(store, place)?;
    Ok(store.residents_of(&a.path, 1_000_000)?)
}

/// Picks `n` persons from `pool` not yet `taken`, deterministically.
fn pick(
    mut pool: Vec<PersonRecord>,
    n: usize,
    seed: u64,
    taken: &mut BTreeSet<i64>,
    what: &str,
) -> Result<Vec<PersonRecord>> {
    pool.retain(|p| !taken.contains(&p.id.0));
    shuffle(&mut pool, seed);
    if pool.len() < n {
        bail!(
            "{what}: wants {n} persons, the roster has {} left",
            pool.len()
        );
    }
    pool.truncate(n);
    for p in &pool {
        taken.insert(p.id.0);
    }
    Ok(pool)
}

/// Runs `gridsweep demo` on the database `url` names.
///
/// The scenario is checked in full before anything is written (see
/// [`Scenario::check`] and [`resolve`]). A replay that fails midway leaves
/// the database as it was: on SQLite the replay runs in a scratch copy of
/// the file beside it, swapped in (renamed over the original) only when
/// the whole replay succeeded, and removed otherwise; on PostgreSQL the
/// replay runs in a scratch database cloned from the original
/// (`CREATE DATABASE … TEMPLATE`), swapped in by renaming only on success
/// (this needs no other session on the database and the right to create
/// databases — otherwise the demo refuses before writing anything).
pub fn run(url: &str, args: DemoArgs) -> Result<()> {
    let text = match &args.scenario {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => SCENARIO_613.to_string(),
    };
    let scenario = Scenario::parse(&text)?;
    let (report, lab_answers) = if url.starts_with("sqlite:") {
        crate::commands::demo_swap::sqlite(url, |store| replay_checked(store, &scenario, &args))?
    } else {
        crate::commands::demo_swap::postgres(url, |store| replay_checked(store, &scenario, &args))?
    };
    if let Some(p) = &args.lab_answers {
        std::fs::write(p, serde_json::to_vec(&lab_answers)?)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", scenario.name);
        print!("{}", report.to_text());
    }
    if let Some(p) = &args.html {
        std::fs::write(p, report.to_html())?;
        eprintln!("report page written to {}", p.display());
    }
    if let Some(p) = &args.xlsx {
        std::fs::write(p, report.to_xlsx()?)?;
        eprintln!("report workbook written to {}", p.display());
    }
    Ok(())
}

/// Prepares the database, resolves the scenario against the roster (reads
/// only), then replays it.
fn replay_checked(
    store: Arc<dyn Store>,
    scenario: &Scenario,
    args: &DemoArgs,
) -> Result<(Report, Vec<Value>)> {
    prepare(&*store, scenario)?;
    let plan = resolve(&*store, scenario)?;
    // The documented demo accounts (README), so the UI can be tried after.
    gridsweep_server::create_demo_users(&*store)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(replay(store, scenario, &plan, args.lab_answers.is_some()))
}

/// Builds the demo district into an empty database; reuses a database
/// that already holds it, unless this scenario was already replayed there.
fn prepare(store: &dyn Store, s: &Scenario) -> Result<()> {
    let roots = store.roots()?;
    if roots.is_empty() {
        eprintln!("empty database: generating the demo district (高新区, seed 613)");
        // The summary goes to stderr: `--json` prints only the report.
        crate::commands::generate::run_to(
            store,
            gridsweep_population::GenSpec::demo(),
            &mut std::io::stderr(),
        )?;
    } else if !roots
        .iter()
        .any(|r| r.name == gridsweep_population::names::DISTRICT)
    {
        bail!(
            "the database holds another population ({}); run the demo on an empty database",
            roots
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if store.tube(&s.trigger.tube)?.is_some() {
        bail!(
            "this database already holds a replay of this scenario (tube {} exists); \
             use a fresh --database-url",
            s.trigger.tube
        );
    }
    Ok(())
}

/// One tube's device batch: open, scan each person (or point), seal.
fn tube_events(
    seq: &mut i64,
    tube: &str,
    round: i64,
    site: i64,
    at: DateTime<Utc>,
    persons: &[String],
    points: &[String],
) -> Vec<Value> {
    let mut ev = Vec::with_capacity(persons.len() + points.len() + 2);
    let mut next = |v: Value, secs: i64| {
        *seq += 1;
        let mut v = v;
        v["seq"] = json!(*seq);
        v["at"] = json!(at + chrono::Duration::seconds(secs));
        v
    };
    let kind = if points.is_empty() {
        "human"
    } else {
        "environmental"
    };
    let mut open =
        json!({ "type": "open_tube", "tube": tube, "round": round, "site": site, "kind": kind });
    if !points.is_empty() {
        open["capacity"] = json!(points.len());
    }
    ev.push(next(open, 0));
    for (k, d) in persons.iter().enumerate() {
        ev.push(next(
            json!({ "type": "add_person", "tube": tube, "document": d }),
            10 * k as i64 + 5,
        ));
    }
    for (k, p) in points.iter().enumerate() {
        ev.push(next(
            json!({ "type": "add_point", "tube": tube, "point": p }),
            30 * k as i64 + 5,
        ));
    }
    let n = (persons.len() + points.len()) as i64;
    ev.push(next(
        json!({ "type": "seal_tube", "tube": tube }),
        10 * n + 10,
    ));
    ev
}

struct Lane {
    device: String,
    batches: Vec<Vec<Value>>,
}

async fn run_lanes(api: &Arc<Api>, lanes: Vec<Lane>) -> Result<()> {
    let mut handles = Vec::new();
    for lane in lanes {
        let api = api.clone();
        handles.push(tokio::spawn(async move {
            for events in lane.batches {
                let r = api
                    .post(
                        "/api/v1/sync",
                        json!({ "device": lane.device, "events": events }),
                    )
                    .await?;
                if let Some(rej) = r["rejected"].as_array().filter(|a| !a.is_empty()) {
                    bail!(
                        "device {} rejected: {}",
                        lane.device,
                        Value::Array(rej.clone())
                    );
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(())
}

async fn post_results(api: &Arc<Api>, results: Vec<Value>, lanes: usize) -> Result<()> {
    // Lane k posts results k, k+lanes, …: each lane keeps the lab's time
    // order, so the last result to arrive is one of the last in time.
    let lanes = lanes.max(1);
    let mut parts: Vec<Vec<Value>> = vec![Vec::new(); lanes];
    for (i, r) in results.into_iter().enumerate() {
        parts[i % lanes].push(r);
    }
    let mut handles = Vec::new();
    for part in parts {
        let api = api.clone();
        handles.push(tokio::spawn(async move {
            for r in part {
                api.post("/api/v1/results", r).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(())
}

fn ct_json(ct: Ct) -> Value {
    json!({ "orf1ab": ct.orf1ab, "n": ct.n })
}

/// Runs blocking store code inside the replay's runtime (the PostgreSQL
/// client must not block an async worker).
fn bp<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Replays the scenario against a server started in this process on
/// 127.0.0.1:0 and returns the report it computes.
pub async fn replay(
    store: Arc<dyn Store>,
    s: &Scenario,
    plan: &Resolved,
    keep_lab_answers: bool,
) -> Result<(Report, Vec<Value>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut state = AppState::new(store.clone());
    // This server exists for the replay only: times follow the drill's
    // clock, not the server's.
    state.replayed_clock = true;
    let server = tokio::spawn(async move {
        gridsweep_server::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
    });
    let tokens = {
        let store = store.clone();
        let lab = s.lab.name.clone();
        bp(move || drill_tokens_for(&*store, &lab))?
    };
    let api = Arc::new(Api {
        base,
        http: reqwest::Client::new(),
        tokens,
        lab_answers: keep_lab_answers.then(Default::default),
    });
    let out = drive(&api, s, plan).await;
    let _ = stop.send(());
    let _ = server.await;
    let answers = api
        .lab_answers
        .as_ref()
        .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .unwrap_or_default();
    Ok((out?, answers))
}

/// Everything the replay needs from the roster, looked up before anything
/// is sent: every name resolved to exactly one area or site, every person
/// picked. A scenario that fails here has written nothing.
pub struct Resolved {
    routine_area: gridsweep_domain::AreaId,
    hut: i64,
    retest_site: i64,
    members: Vec<(Option<String>, PersonRecord)>,
    expansion: Vec<(i64, Vec<PersonRecord>)>,
    environment: Vec<i64>,
    marks: Vec<Vec<PersonRecord>>,
    /// Every picked person's document, by id (follow-up retests scan them).
    documents: std::collections::BTreeMap<i64, String>,
}

/// Resolves the scenario against the roster (reads only).
pub fn resolve(store: &dyn Store, s: &Scenario) -> Result<Resolved> {
    let mut taken: BTreeSet<i64> = BTreeSet::new();
    let mut seed = s.seed;
    let routine_area = area_named(store, &s.routine.area)?.id;
    let mut members = Vec::new();
    for g in &s.trigger.members {
        seed += 1;
        let mut pool = residents(store, &g.place)?;
        if let Some(org) = &g.affiliated {
            let org = area_named(store, org)?;
            pool.retain(|p| p.affiliations.iter().any(|a| a.area == org.id));
        }
        for p in pick(pool, g.count, seed, &mut taken, &g.place)? {
            members.push((g.tag.clone(), p));
        }
    }
    let hut = site_id(store, &s.trigger.site)?;
    let retest_site = site_id(store, &s.retests.site)?;
    let mut expansion = Vec::new();
    for e in &s.expansion {
        seed += 1;
        let site = site_id(store, &e.site)?;
        let mut pool = Vec::new();
        for place in &e.from {
            pool.extend(residents(store, place)?);
        }
        for org in &e.affiliates_of {
            let a = area_named(store, org)?;
            pool.extend(store.affiliates_of(a.id, 1_000_000)?);
        }
        let mut seen = BTreeSet::new();
        pool.retain(|p| seen.insert(p.id.0));
        expansion.push((site, pick(pool, e.people, seed, &mut taken, &e.site)?));
    }
    let mut environment = Vec::new();
    for env in &s.environment {
        environment.push(site_id(store, &env.site)?);
        area_named(store, &env.place)?;
    }
    let mut marks = Vec::new();
    for m in &s.marks {
        seed += 1;
        let pool = residents(store, &m.from)?;
        marks.push(pick(pool, m.count, seed, &mut taken, &m.from)?);
    }
    let documents = members
        .iter()
        .map(|(_, p)| p)
        .chain(expansion.iter().flat_map(|(_, ps)| ps.iter()))
        .map(|p| (p.id.0, p.document.number().to_string()))
        .collect();
    Ok(Resolved {
        routine_area,
        hut,
        retest_site,
        members,
        expansion,
        environment,
        marks,
        documents,
    })
}

async fn drive(api: &Arc<Api>, s: &Scenario, plan: &Resolved) -> Result<Report> {
    // The routine round and the triggering tube.
    let routine = api
        .post(
            "/api/v1/rounds",
            json!({ "name": s.routine.name, "pool_size": s.routine.pool,
                    "starts_at": s.time(&s.routine.starts)?, "ends_at": s.time(&s.routine.ends)?,
                    "areas": [plan.routine_area.get()] }),
        )
        .await?;
    let routine_id = routine["id"].as_i64().ok_or_else(|| anyhow!("round id"))?;
    let members = &plan.members;
    let docs: Vec<String> = members
        .iter()
        .map(|(_, p)| p.document.number().to_string())
        .collect();
    let mut seq = 0;
    let events = tube_events(
        &mut seq,
        &s.trigger.tube,
        routine_id,
        plan.hut,
        s.time(&s.trigger.sampled)?,
        &docs,
        &[],
    );
    run_lanes(
        api,
        vec![Lane {
            device: format!("drill-{}-hut", s.seed),
            batches: vec![events],
        }],
    )
    .await?;
    api.post(
        "/api/v1/lab/receipts",
        json!({ "tubes": [s.trigger.tube], "at": s.time(&s.trigger.received)? }),
    )
    .await?;
    let mut result = json!({ "tube": s.trigger.tube, "ct": ct_json(s.trigger.ct),
                             "at": s.time(&s.trigger.resulted)? });
    if let Some(o) = &s.trigger.outcome {
        result["outcome"] = json!(o);
    }
    api.post("/api/v1/results", result).await?;

    // The incident exists when the lab's request has returned.
    let incidents = api.get("/api/v1/incidents").await?;
    let incident = incidents
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|i| i["trigger_tube"].as_str() == Some(s.trigger.tube.as_str()))
        })
        .cloned()
        .ok_or_else(|| anyhow!("no incident opened by tube {}", s.trigger.tube))?;
    let id = incident["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("incident id"))?;
    let expansion = incident["expansion_round"]
        .as_i64()
        .ok_or_else(|| anyhow!("expansion round"))?;
    let retest_round = incident["retest_round"]
        .as_i64()
        .ok_or_else(|| anyhow!("retest round"))?;
    eprintln!(
        "{} incident #{id} opened: {}",
        gridsweep_response::time::hm(s.time(&s.trigger.resulted)?),
        incident["title"].as_str().unwrap_or("")
    );

    for m in &s.mobilised {
        api.post(
            &format!("/api/v1/incidents/{id}/timeline"),
            json!({ "kind": "mobilised", "role": m.role, "text": m.text, "by": m.by, "at": s.time(&m.at)? }),
        )
        .await?;
    }

    // Single-tube retests of the members.
    let mut rseq = 0;
    let mut batches = Vec::new();
    let mut retest_results = Vec::new();
    for (k, (tag, p)) in members.iter().enumerate() {
        let tube = format!("RT{}-{:03}", id, k + 1);
        batches.push(tube_events(
            &mut rseq,
            &tube,
            retest_round,
            plan.retest_site,
            s.time(&s.retests.sampled)? + chrono::Duration::minutes(3 * k as i64),
            &[p.document.number().to_string()],
            &[],
        ));
        let ct = tag
            .as_ref()
            .and_then(|t| s.retests.result.iter().find(|r| &r.tag == t))
            .map(|r| r.ct)
            .unwrap_or_default();
        retest_results.push(json!({ "tube": tube, "ct": ct_json(ct), "at": s.time(&s.retests.resulted)? + chrono::Duration::minutes(k as i64) }));
    }
    let retest_lane = format!("drill-{}-retest", s.seed);
    run_lanes(
        api,
        vec![Lane {
            device: retest_lane.clone(),
            batches,
        }],
    )
    .await?;
    let retest_tubes: Vec<Value> = retest_results.iter().map(|r| r["tube"].clone()).collect();
    api.post(
        "/api/v1/lab/receipts",
        json!({ "tubes": retest_tubes, "at": s.time(&s.retests.received)? }),
    )
    .await?;

    // Full-coverage sampling over the sites, several teams per site.
    let mut lanes = Vec::new();
    let mut expansion_tubes: Vec<String> = Vec::new();
    for (si, (e, (site, people))) in s.expansion.iter().zip(&plan.expansion).enumerate() {
        let (start, end) = (s.time(&e.start)?, s.time(&e.end)?);
        let span = (end - start).num_seconds().max(1);
        let teams = e.tubes.div_ceil(40);
        let mut team_batches: Vec<Vec<Vec<Value>>> = vec![Vec::new(); teams];
        let mut team_seq = vec![0i64; teams];
        let mut next = 0;
        for t in 0..e.tubes {
            let n = e.people / e.tubes + usize::from(t < e.people % e.tubes);
            let docs: Vec<String> = people[next..next + n]
                .iter()
                .map(|p| p.document.number().to_string())
                .collect();
            next += n;
            let tube = format!("KM{}-{}-{:04}", id, si + 1, t + 1);
            let at = start
                + chrono::Duration::seconds(span * t as i64 / e.tubes as i64 - 10 * n as i64 - 10)
                    .max(chrono::Duration::zero());
            let team = t % teams;
            team_batches[team].push(tube_events(
                &mut team_seq[team],
                &tube,
                expansion,
                *site,
                at,
                &docs,
                &[],
            ));
            expansion_tubes.push(tube);
        }
        for (k, batches) in team_batches.into_iter().enumerate() {
            lanes.push(Lane {
                device: format!("drill-{}-{}-{}", id, si + 1, k + 1),
                batches,
            });
        }
    }
    // Environmental tubes: (barcode, site, points) kept for resampling.
    let mut env_tubes: Vec<(String, i64, Vec<String>)> = Vec::new();
    let mut env_seq = Vec::new();
    for (ei, (env, site)) in s.environment.iter().zip(&plan.environment).enumerate() {
        let (start, end) = (s.time(&env.start)?, s.time(&env.end)?);
        let span = (end - start).num_seconds().max(1);
        let mut seq = 0;
        let mut batches = Vec::new();
        for t in 0..env.tubes {
            let tube = format!("HJ{}-{}-{:02}", id, ei + 1, t + 1);
            let points: Vec<String> = (0..env.points_per_tube)
                .map(|k| {
                    format!(
                        "{} 环境点位{:02}",
                        env.place,
                        t * env.points_per_tube + k + 1
                    )
                })
                .collect();
            let at = start + chrono::Duration::seconds(span * t as i64 / env.tubes as i64);
            batches.push(tube_events(
                &mut seq,
                &tube,
                expansion,
                *site,
                at,
                &[],
                &points,
            ));
            expansion_tubes.push(tube.clone());
            env_tubes.push((tube, *site, points));
        }
        env_seq.push(seq);
        lanes.push(Lane {
            device: format!("drill-{}-env-{}", id, ei + 1),
            batches,
        });
    }
    run_lanes(api, lanes).await?;
    eprintln!("sampled: {} expansion tubes", expansion_tubes.len());

    // Persons explained, not missing.
    for (m, marked) in s.marks.iter().zip(&plan.marks) {
        let at = s.time(&m.at)?;
        for p in marked {
            api.post(
                &format!("/api/v1/rounds/{expansion}/marks"),
                json!({ "person": p.id.0, "kind": m.kind, "by": m.by, "at": at }),
            )
            .await?;
        }
    }

    // The lab: retests first, then the expansion tubes.
    eprintln!("{}: results", s.lab.name);
    post_results(api, retest_results, 4).await?;
    for chunk in expansion_tubes.chunks(200) {
        api.post(
            "/api/v1/lab/receipts",
            json!({ "tubes": chunk, "at": s.time(&s.lab.received)? }),
        )
        .await?;
    }
    let (from, to) = (s.time(&s.lab.results_from)?, s.time(&s.lab.results_to)?);
    let span = (to - from).num_seconds().max(1);
    let total = expansion_tubes.len() as i64;
    let results: Vec<Value> = expansion_tubes
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let ct = s
                .lab
                .result
                .iter()
                .find(|r| r.index == i)
                .map(|r| r.ct)
                .unwrap_or_default();
            json!({ "tube": t, "ct": ct_json(ct),
                    "at": from + chrono::Duration::seconds(span * i as i64 / total.max(1)) })
        })
        .collect();
    post_results(api, results, 8).await?;

    // The chains of reactive expansion tubes: everyone still awaiting a
    // retest gets one (negative), disinfection is reported done, and each
    // reactive environmental tube's site is swabbed again.
    if let Some(f) = &s.followup {
        follow_up(
            api,
            s,
            plan,
            f,
            id,
            retest_round,
            expansion,
            &retest_lane,
            &env_tubes,
        )
        .await?;
    }

    // Decisions: confirm what the playbook proposed, as the scenario says.
    for d in &s.decisions {
        let mut done = false;
        let mut ids = vec![id];
        while let Some(inc) = ids.pop() {
            let detail = api.get(&format!("/api/v1/incidents/{inc}")).await?;
            if let Some(children) = detail["children"].as_array() {
                ids.extend(children.iter().filter_map(Value::as_i64));
            }
            let find = |detail: &Value| {
                detail["decisions"].as_array().and_then(|ds| {
                    ds.iter()
                        .find(|x| x["kind"] == json!(d.kind) && x["status"] == json!("proposed"))
                        .cloned()
                })
            };
            let mut pending = find(&detail);
            // An override: the playbook proposed no lift (coverage short),
            // so command proposes it by hand, then lifts with its reason.
            if pending.is_none()
                && inc == id
                && let Some(reason) = &d.override_reason
                && detail["status"] == "open"
            {
                api.post(
                    &format!("/api/v1/incidents/{inc}/decisions"),
                    json!({ "kind": d.kind, "reason": reason, "by": d.by, "at": s.time(&d.at)? }),
                )
                .await?;
                pending = find(&api.get(&format!("/api/v1/incidents/{inc}")).await?);
            }
            if let Some(p) = pending {
                let verb = if d.confirm { "confirm" } else { "reject" };
                api.post(
                    &format!("/api/v1/incidents/{inc}/decisions/{}/{verb}", p["id"]),
                    json!({ "by": d.by, "role": d.role, "at": s.time(&d.at)?, "note": d.note,
                            "override_reason": d.override_reason }),
                )
                .await?;
                done = true;
                break;
            }
        }
        if !done {
            eprintln!(
                "{} {}: nothing of that kind was proposed; the playbook did not call for it",
                d.at, d.kind
            );
        }
    }
    let report: Report =
        serde_json::from_value(api.get(&format!("/api/v1/incidents/{id}/report")).await?)?;
    Ok(report)
}

/// The follow-up of the chains of non-negative expansion tubes.
#[allow(clippy::too_many_arguments)]
async fn follow_up(
    api: &Arc<Api>,
    s: &Scenario,
    plan: &Resolved,
    f: &Followup,
    id: i64,
    retest_round: i64,
    expansion: i64,
    retest_lane: &str,
    env_tubes: &[(String, i64, Vec<String>)],
) -> Result<()> {
    let detail = api.get(&format!("/api/v1/incidents/{id}")).await?;
    let sampled = s.time(&f.sampled)?;
    let awaiting: Vec<i64> = detail["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["status"] == "pending_retest")
        .filter_map(|m| m["person"]["id"].as_i64())
        .collect();
    let mut batches = Vec::new();
    let mut results = Vec::new();
    // A device of its own: its sequence starts afresh.
    let mut seq = 0;
    for (k, person) in awaiting.iter().enumerate() {
        let doc = plan
            .documents
            .get(person)
            .ok_or_else(|| anyhow!("person {person} awaits a retest but was never picked"))?;
        let tube = format!("FU{id}-{:03}", k + 1);
        batches.push(tube_events(
            &mut seq,
            &tube,
            retest_round,
            plan.retest_site,
            sampled + chrono::Duration::minutes(k as i64),
            std::slice::from_ref(doc),
            &[],
        ));
        results.push(json!({ "tube": tube, "ct": ct_json(Ct::default()),
                             "at": s.time(&f.resulted)? + chrono::Duration::seconds(k as i64) }));
    }
    // Disinfection reported done.
    let disinfected = s.time(&f.disinfected)?;
    for t in detail["tasks"].as_array().into_iter().flatten() {
        if t["kind"] == "disinfection" && t["status"] == "open" {
            api.post(
                &format!("/api/v1/incidents/{id}/tasks/{}/done", t["id"]),
                json!({ "by": f.by, "at": disinfected }),
            )
            .await?;
        }
    }
    // Each reactive environmental tube's site swabbed again.
    let reactive: BTreeSet<&str> = detail["tubes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t[1] == "expansion")
        .filter_map(|t| t[0].as_str())
        .collect();
    let mut env_batches = Vec::new();
    let mut env_seq = 0;
    for (k, (code, site, points)) in env_tubes
        .iter()
        .filter(|(c, _, _)| reactive.contains(c.as_str()))
        .enumerate()
    {
        let tube = format!("{code}-R");
        env_batches.push(tube_events(
            &mut env_seq,
            &tube,
            expansion,
            *site,
            sampled + chrono::Duration::minutes(k as i64),
            &[],
            points,
        ));
        results.push(json!({ "tube": tube, "ct": ct_json(Ct::default()),
                             "at": s.time(&f.resulted)? + chrono::Duration::seconds(k as i64) }));
    }
    let mut lanes = Vec::new();
    if !batches.is_empty() {
        lanes.push(Lane {
            device: format!("{retest_lane}-followup"),
            batches,
        });
    }
    if !env_batches.is_empty() {
        lanes.push(Lane {
            device: format!("drill-{id}-env-resample"),
            batches: env_batches,
        });
    }
    run_lanes(api, lanes).await?;
    let tubes: Vec<Value> = results.iter().map(|r| r["tube"].clone()).collect();
    if !tubes.is_empty() {
        api.post(
            "/api/v1/lab/receipts",
            json!({ "tubes": tubes, "at": s.time(&f.received)? }),
        )
        .await?;
    }
    eprintln!(
        "follow-up: {} retests, {} environmental resamplings",
        awaiting.len(),
        tubes.len() - awaiting.len()
    );
    post_results(api, results, 4).await?;
    Ok(())
}
