//! The follow-up of the chains of non-negative expansion tubes: everyone
//! still awaiting a retest gets one (negative), disinfection is reported
//! done, and each reactive environmental tube's site is swabbed again —
//! what a scenario's `[followup]` asks for before the lift.

use super::api::{Api, Lane, post_results, run_lanes};
use super::driver::Incident;
use super::events::{EnvTube, negative, retest_device, tube_events};
use super::resolve::Resolved;
use super::scenario::{Followup, Scenario};
use anyhow::{Result, anyhow};
use chrono::Duration;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Runs the follow-up of the incident's reactive expansion tubes, as the
/// incident's detail (read once, before) shows them.
pub(super) async fn follow_up(
    api: &Arc<Api>,
    s: &Scenario,
    plan: &Resolved,
    f: &Followup,
    inc: &Incident,
    env_tubes: &[EnvTube],
) -> Result<()> {
    let id = inc.id;
    let detail = api.get(&format!("/api/v1/incidents/{id}")).await?;
    let awaiting = awaiting_retest(&detail);
    let mut results = Vec::new();
    let batches = retests(s, plan, f, inc, &awaiting, &mut results)?;
    report_disinfection(api, s, f, id, &detail).await?;
    let env_batches = env_resamples(s, f, inc, &detail, env_tubes, &mut results)?;
    let mut lanes = Vec::new();
    if !batches.is_empty() {
        lanes.push(Lane {
            device: format!("{}-followup", retest_device(s)),
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
        api.receive(&tubes, s.time(&f.received)?).await?;
    }
    eprintln!(
        "follow-up: {} retests, {} environmental resamplings",
        awaiting.len(),
        tubes.len() - awaiting.len()
    );
    post_results(api, results, 4).await?;
    Ok(())
}

/// The persons the incident still awaits a retest of.
fn awaiting_retest(detail: &Value) -> Vec<i64> {
    detail["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["status"] == "pending_retest")
        .filter_map(|m| m["person"]["id"].as_i64())
        .collect()
}

/// A single-tube retest of each awaiting person, a minute apart, on a
/// device of its own (its sequence starts afresh); their negative results
/// go into `results`.
fn retests(
    s: &Scenario,
    plan: &Resolved,
    f: &Followup,
    inc: &Incident,
    awaiting: &[i64],
    results: &mut Vec<Value>,
) -> Result<Vec<Vec<Value>>> {
    let sampled = s.time(&f.sampled)?;
    let mut batches = Vec::new();
    let mut seq = 0;
    for (k, person) in awaiting.iter().enumerate() {
        let doc = plan
            .documents
            .get(person)
            .ok_or_else(|| anyhow!("person {person} awaits a retest but was never picked"))?;
        let tube = format!("FU{}-{:03}", inc.id, k + 1);
        batches.push(tube_events(
            &mut seq,
            &tube,
            inc.retest_round,
            plan.retest_site,
            sampled + Duration::minutes(k as i64),
            std::slice::from_ref(doc),
            &[],
        ));
        results.push(negative(
            &tube,
            s.time(&f.resulted)? + Duration::seconds(k as i64),
        ));
    }
    Ok(batches)
}

/// Reports every open disinfection task of the incident done.
async fn report_disinfection(
    api: &Arc<Api>,
    s: &Scenario,
    f: &Followup,
    id: i64,
    detail: &Value,
) -> Result<()> {
    let disinfected = s.time(&f.disinfected)?;
    for t in detail["tasks"].as_array().into_iter().flatten() {
        if t["kind"] == "disinfection" && t["status"] == "open" {
            api.post(
                &format!("/api/v1/incidents/{id}/tasks/{}/done", t["id"]),
                serde_json::json!({ "by": f.by, "at": disinfected }),
            )
            .await?;
        }
    }
    Ok(())
}

/// Each reactive environmental tube's points swabbed again into a tube of
/// its own, a minute apart; their negative results go into `results`.
fn env_resamples(
    s: &Scenario,
    f: &Followup,
    inc: &Incident,
    detail: &Value,
    env_tubes: &[EnvTube],
    results: &mut Vec<Value>,
) -> Result<Vec<Vec<Value>>> {
    let sampled = s.time(&f.sampled)?;
    let reactive: BTreeSet<&str> = detail["tubes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t[1] == "expansion")
        .filter_map(|t| t[0].as_str())
        .collect();
    let mut batches = Vec::new();
    let mut seq = 0;
    for (k, env) in env_tubes
        .iter()
        .filter(|t| reactive.contains(t.code.as_str()))
        .enumerate()
    {
        let tube = format!("{}-R", env.code);
        batches.push(tube_events(
            &mut seq,
            &tube,
            inc.expansion_round,
            env.site,
            sampled + Duration::minutes(k as i64),
            &[],
            &env.points,
        ));
        results.push(negative(
            &tube,
            s.time(&f.resulted)? + Duration::seconds(k as i64),
        ));
    }
    Ok(batches)
}
