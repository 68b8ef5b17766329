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
use gridsweep_response::Role;
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
    pub role: Role,
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
    pub role: Role,
    #[serde(default = "yes")]
    pub confirm: bool,
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

impl Scenario {
    /// Parses a scenario.
    pub fn parse(text: &str) -> Result<Self> {
        let s: Scenario = toml::from_str(text).context("parsing scenario")?;
        if s.trigger.members.iter().map(|m| m.count).sum::<usize>() == 0 {
            bail!("trigger.members: the tube needs at least one person");
        }
        for e in &s.expansion {
            if e.tubes == 0 || e.people > e.tubes * 20 {
                bail!(
                    "expansion at {}: {} people do not fit {} tubes",
                    e.site,
                    e.people,
                    e.tubes
                );
            }
        }
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
                lab: role.is_lab().then(|| DRILL_LAB.to_string()),
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
        lab: issue("drill-lab", Role::Lab)?,
    })
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

fn area_named(store: &dyn Store, name: &str) -> Result<gridsweep_storage::AreaNode> {
    store
        .find_areas(None, name, &AreaLevel::ALL)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("scenario names {name:?}, which is not on the roster"))
}

fn site_id(store: &dyn Store, name: &str) -> Result<i64> {
    for root in store.roots()? {
        if let Some(s) = store
            .sites(&root.path)?
            .into_iter()
            .find(|s| s.name == name)
        {
            return Ok(s.id);
        }
    }
    bail!("scenario names site {name:?}, which does not exist")
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

/// Runs `gridsweep demo`.
pub fn run(store: Arc<dyn Store>, args: DemoArgs) -> Result<()> {
    let text = match &args.scenario {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => SCENARIO_613.to_string(),
    };
    let scenario = Scenario::parse(&text)?;
    prepare(&*store, &scenario)?;
    // The documented demo accounts (README), so the UI can be tried after.
    gridsweep_server::create_demo_users(&*store)?;
    let rt = tokio::runtime::Runtime::new()?;
    let (report, lab_answers) =
        rt.block_on(replay(store, &scenario, args.lab_answers.is_some()))?;
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

/// Builds the demo district into an empty database; reuses a database
/// that already holds it, unless this scenario was already replayed there.
fn prepare(store: &dyn Store, s: &Scenario) -> Result<()> {
    let roots = store.roots()?;
    if roots.is_empty() {
        eprintln!("empty database: generating the demo district (高新区, seed 613)");
        crate::commands::generate::run(store, gridsweep_population::GenSpec::demo())?;
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
    keep_lab_answers: bool,
) -> Result<(Report, Vec<Value>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(store.clone());
    let server = tokio::spawn(async move {
        gridsweep_server::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
    });
    let tokens = {
        let store = store.clone();
        bp(move || drill_tokens(&*store))?
    };
    let api = Arc::new(Api {
        base,
        http: reqwest::Client::new(),
        tokens,
        lab_answers: keep_lab_answers.then(Default::default),
    });
    let out = drive(&api, store, s).await;
    let _ = stop.send(());
    let _ = server.await;
    let answers = api
        .lab_answers
        .as_ref()
        .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .unwrap_or_default();
    Ok((out?, answers))
}

async fn drive(api: &Arc<Api>, store: Arc<dyn Store>, s: &Scenario) -> Result<Report> {
    let mut taken: BTreeSet<i64> = BTreeSet::new();
    let mut seed = s.seed;

    // The routine round and the triggering tube.
    let district = bp(|| area_named(&*store, &s.routine.area))?;
    let routine = api
        .post(
            "/api/v1/rounds",
            json!({ "name": s.routine.name, "pool_size": s.routine.pool,
                    "starts_at": s.time(&s.routine.starts)?, "ends_at": s.time(&s.routine.ends)?,
                    "areas": [district.id.get()] }),
        )
        .await?;
    let routine_id = routine["id"].as_i64().ok_or_else(|| anyhow!("round id"))?;
    let mut members: Vec<(Option<String>, PersonRecord)> = Vec::new();
    for g in &s.trigger.members {
        seed += 1;
        let mut pool = bp(|| residents(&*store, &g.place))?;
        if let Some(org) = &g.affiliated {
            let org = bp(|| area_named(&*store, org))?;
            pool.retain(|p| p.affiliations.iter().any(|a| a.area == org.id));
        }
        for p in pick(pool, g.count, seed, &mut taken, &g.place)? {
            members.push((g.tag.clone(), p));
        }
    }
    let hut = bp(|| site_id(&*store, &s.trigger.site))?;
    let docs: Vec<String> = members
        .iter()
        .map(|(_, p)| p.document.number().to_string())
        .collect();
    let mut seq = 0;
    let events = tube_events(
        &mut seq,
        &s.trigger.tube,
        routine_id,
        hut,
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
    let rsite = bp(|| site_id(&*store, &s.retests.site))?;
    let mut rseq = 0;
    let mut batches = Vec::new();
    let mut retest_results = Vec::new();
    for (k, (tag, p)) in members.iter().enumerate() {
        let tube = format!("RT{}-{:03}", id, k + 1);
        batches.push(tube_events(
            &mut rseq,
            &tube,
            retest_round,
            rsite,
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
    run_lanes(
        api,
        vec![Lane {
            device: format!("drill-{}-retest", s.seed),
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
    for (si, e) in s.expansion.iter().enumerate() {
        seed += 1;
        let site = bp(|| site_id(&*store, &e.site))?;
        let mut pool = Vec::new();
        for place in &e.from {
            pool.extend(bp(|| residents(&*store, place))?);
        }
        for org in &e.affiliates_of {
            let a = bp(|| area_named(&*store, org))?;
            pool.extend(bp(|| store.affiliates_of(a.id, 1_000_000))?);
        }
        let mut seen = BTreeSet::new();
        pool.retain(|p| seen.insert(p.id.0));
        let people = pick(pool, e.people, seed, &mut taken, &e.site)?;
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
                site,
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
    for (ei, env) in s.environment.iter().enumerate() {
        let site = bp(|| site_id(&*store, &env.site))?;
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
                site,
                at,
                &[],
                &points,
            ));
            expansion_tubes.push(tube);
        }
        lanes.push(Lane {
            device: format!("drill-{}-env-{}", id, ei + 1),
            batches,
        });
    }
    run_lanes(api, lanes).await?;
    eprintln!("sampled: {} expansion tubes", expansion_tubes.len());

    // Persons explained, not missing.
    for m in &s.marks {
        seed += 1;
        let pool = bp(|| residents(&*store, &m.from))?;
        let marked = pick(pool, m.count, seed, &mut taken, &m.from)?;
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

    // Decisions: confirm what the playbook proposed, as the scenario says.
    for d in &s.decisions {
        let mut done = false;
        let mut ids = vec![id];
        while let Some(inc) = ids.pop() {
            let detail = api.get(&format!("/api/v1/incidents/{inc}")).await?;
            if let Some(children) = detail["children"].as_array() {
                ids.extend(children.iter().filter_map(Value::as_i64));
            }
            let pending = detail["decisions"].as_array().and_then(|ds| {
                ds.iter()
                    .find(|x| x["kind"] == json!(d.kind) && x["status"] == json!("proposed"))
                    .cloned()
            });
            if let Some(p) = pending {
                let verb = if d.confirm { "confirm" } else { "reject" };
                api.post(
                    &format!("/api/v1/incidents/{inc}/decisions/{}/{verb}", p["id"]),
                    json!({ "by": d.by, "role": d.role, "at": s.time(&d.at)?, "note": d.note }),
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
