//! The replay: starts a server for the drill, then walks the story in the
//! scenario's order through the HTTP API — the routine tube and its
//! result, the incident it opens, the members' retests, full-coverage
//! sampling, marks, the lab's results, the follow-up and the decisions —
//! and fetches the report the server computed from it.

use super::accounts::drill_tokens_for;
use super::api::{Api, Lane, post_results, run_lanes};
use super::events::{self, ct_json, tube_events};
use super::followup::follow_up;
use super::resolve::Resolved;
use super::scenario::{Decision, Scenario};
use anyhow::{Result, anyhow};
use gridsweep_engine::Engine;
use gridsweep_response::report::Report;
use gridsweep_server::AppState;
use gridsweep_storage::Store;
use serde_json::{Value, json};
use std::sync::Arc;

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
    let mut state = AppState::new(Engine::new(store.clone()));
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
    let api = Arc::new(Api::new(base, tokens, keep_lab_answers));
    let out = drive(&api, s, plan).await;
    let _ = stop.send(());
    let _ = server.await;
    Ok((out?, api.lab_answers()))
}

/// The incident the triggering tube opened, as the server numbers it.
pub(super) struct Incident {
    /// The incident's id.
    pub(super) id: i64,
    /// The round its full-coverage sampling goes into.
    pub(super) expansion_round: i64,
    /// The round its retests go into.
    pub(super) retest_round: i64,
}

/// The story, step by step, in the order it happened.
async fn drive(api: &Arc<Api>, s: &Scenario, plan: &Resolved) -> Result<Report> {
    sample_trigger(api, s, plan).await?;
    let inc = opened_incident(api, s).await?;
    mobilise(api, s, inc.id).await?;
    let retest_results = sample_retests(api, s, plan, &inc).await?;
    let (expansion_tubes, env_tubes) = sample_expansion(api, s, plan, &inc).await?;
    post_marks(api, s, plan, inc.expansion_round).await?;
    lab_results(api, s, retest_results, &expansion_tubes).await?;
    // The chains of reactive expansion tubes: everyone still awaiting a
    // retest gets one (negative), disinfection is reported done, and each
    // reactive environmental tube's site is swabbed again.
    if let Some(f) = &s.followup {
        follow_up(api, s, plan, f, &inc, &env_tubes).await?;
    }
    // Decisions: confirm what the playbook proposed, as the scenario says.
    for d in &s.decisions {
        decide(api, s, d, inc.id).await?;
    }
    let report: Report = serde_json::from_value(
        api.get(&format!("/api/v1/incidents/{}/report", inc.id))
            .await?,
    )?;
    Ok(report)
}

/// The routine round and the triggering tube: sampled at the hut,
/// received and resulted by the lab.
async fn sample_trigger(api: &Arc<Api>, s: &Scenario, plan: &Resolved) -> Result<()> {
    let routine = api
        .post(
            "/api/v1/rounds",
            json!({ "name": s.routine.name, "pool_size": s.routine.pool,
                    "starts_at": s.time(&s.routine.starts)?, "ends_at": s.time(&s.routine.ends)?,
                    "areas": [plan.routine_area.get()] }),
        )
        .await?;
    let routine_id = routine["id"].as_i64().ok_or_else(|| anyhow!("round id"))?;
    let docs: Vec<String> = plan
        .members
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
    api.receive(&[&s.trigger.tube], s.time(&s.trigger.received)?)
        .await?;
    let mut result = json!({ "tube": s.trigger.tube, "ct": ct_json(s.trigger.ct),
                             "at": s.time(&s.trigger.resulted)? });
    if let Some(o) = &s.trigger.outcome {
        result["outcome"] = json!(o);
    }
    api.post("/api/v1/results", result).await?;
    Ok(())
}

/// The incident the trigger opened: it exists when the lab's request has
/// returned.
async fn opened_incident(api: &Arc<Api>, s: &Scenario) -> Result<Incident> {
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
    let expansion_round = incident["expansion_round"]
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
    Ok(Incident {
        id,
        expansion_round,
        retest_round,
    })
}

/// The grid levels reporting in place, on the incident's timeline.
async fn mobilise(api: &Arc<Api>, s: &Scenario, id: i64) -> Result<()> {
    for m in &s.mobilised {
        api.post(
            &format!("/api/v1/incidents/{id}/timeline"),
            json!({ "kind": "mobilised", "role": m.role, "text": m.text, "by": m.by, "at": s.time(&m.at)? }),
        )
        .await?;
    }
    Ok(())
}

/// The members' single-tube retests, sampled and received; returns their
/// results, which the lab posts first.
async fn sample_retests(
    api: &Arc<Api>,
    s: &Scenario,
    plan: &Resolved,
    inc: &Incident,
) -> Result<Vec<Value>> {
    let (lane, results) = events::retests(s, plan, inc)?;
    run_lanes(api, vec![lane]).await?;
    let tubes: Vec<Value> = results.iter().map(|r| r["tube"].clone()).collect();
    api.receive(&tubes, s.time(&s.retests.received)?).await?;
    Ok(results)
}

/// Full-coverage sampling over the sites, several teams per site, and the
/// environmental sampling, all side by side; returns every expansion tube
/// (human, then environmental) and the environmental ones for resampling.
async fn sample_expansion(
    api: &Arc<Api>,
    s: &Scenario,
    plan: &Resolved,
    inc: &Incident,
) -> Result<(Vec<String>, Vec<events::EnvTube>)> {
    let (mut lanes, mut expansion_tubes) = events::expansion_lanes(s, plan, inc)?;
    let (env_lanes, env_tubes) = events::environment_lanes(s, plan, inc)?;
    lanes.extend(env_lanes);
    expansion_tubes.extend(env_tubes.iter().map(|t| t.code.clone()));
    run_lanes(api, lanes).await?;
    eprintln!("sampled: {} expansion tubes", expansion_tubes.len());
    Ok((expansion_tubes, env_tubes))
}

/// Persons explained (away, hospitalised, sampled elsewhere), not missing.
async fn post_marks(api: &Arc<Api>, s: &Scenario, plan: &Resolved, expansion: i64) -> Result<()> {
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
    Ok(())
}

/// The lab: retests first, then the expansion tubes, received in boxes of
/// 200 and resulted over the lab's window.
async fn lab_results(
    api: &Arc<Api>,
    s: &Scenario,
    retest_results: Vec<Value>,
    expansion_tubes: &[String],
) -> Result<()> {
    eprintln!("{}: results", s.lab.name);
    post_results(api, retest_results, 4).await?;
    for chunk in expansion_tubes.chunks(200) {
        api.receive(chunk, s.time(&s.lab.received)?).await?;
    }
    let results = events::expansion_results(s, expansion_tubes)?;
    post_results(api, results, 8).await
}

/// The decision of `d`'s kind still proposed on an incident, if any.
fn proposed(detail: &Value, d: &Decision) -> Option<Value> {
    detail["decisions"].as_array().and_then(|ds| {
        ds.iter()
            .find(|x| x["kind"] == json!(d.kind) && x["status"] == json!("proposed"))
            .cloned()
    })
}

/// Confirms (or rejects) the first proposal of `d`'s kind on the incident
/// or, failing that, on its child incidents; says so when the playbook
/// proposed nothing of that kind.
async fn decide(api: &Arc<Api>, s: &Scenario, d: &Decision, id: i64) -> Result<()> {
    let mut ids = vec![id];
    while let Some(inc) = ids.pop() {
        let detail = api.get(&format!("/api/v1/incidents/{inc}")).await?;
        if let Some(children) = detail["children"].as_array() {
            ids.extend(children.iter().filter_map(Value::as_i64));
        }
        let mut pending = proposed(&detail, d);
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
            pending = proposed(&api.get(&format!("/api/v1/incidents/{inc}")).await?, d);
        }
        if let Some(p) = pending {
            let verb = if d.confirm { "confirm" } else { "reject" };
            api.post(
                &format!("/api/v1/incidents/{inc}/decisions/{}/{verb}", p["id"]),
                json!({ "by": d.by, "role": d.role, "at": s.time(&d.at)?, "note": d.note,
                        "override_reason": d.override_reason }),
            )
            .await?;
            return Ok(());
        }
    }
    eprintln!(
        "{} {}: nothing of that kind was proposed; the playbook did not call for it",
        d.at, d.kind
    );
    Ok(())
}
