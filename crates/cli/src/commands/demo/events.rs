//! What the replay sends, worked out from the scenario and the resolved
//! roster: the devices' tube events (open, scan, seal) lane by lane, and
//! the lab's results. Nothing here talks to the server, so the timing and
//! numbering of tubes can be read in one place.

use super::api::Lane;
use super::driver::Incident;
use super::resolve::Resolved;
use super::scenario::{Ct, Environment, ExpansionSite, Scenario};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use gridsweep_storage::PersonRecord;
use serde_json::{Value, json};

/// A result as the lab posts it: Ct values, absent ones null.
pub(super) fn ct_json(ct: Ct) -> Value {
    json!({ "orf1ab": ct.orf1ab, "n": ct.n })
}

/// A negative result for `tube` at `at`.
pub(super) fn negative(tube: &str, at: DateTime<Utc>) -> Value {
    json!({ "tube": tube, "ct": ct_json(Ct::default()), "at": at })
}

/// One tube's device batch: open, scan each person (or point), seal.
pub(super) fn tube_events(
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
        v["at"] = json!(at + Duration::seconds(secs));
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

/// The persons' document numbers, as a device scans them.
pub(super) fn documents(persons: &[PersonRecord]) -> Vec<String> {
    persons
        .iter()
        .map(|p| p.document.number().to_string())
        .collect()
}

/// The device syncing the members' retests (the follow-up's device is
/// named after it).
pub(super) fn retest_device(s: &Scenario) -> String {
    format!("drill-{}-retest", s.seed)
}

/// Single-tube retests of the triggering tube's members, three minutes
/// apart, and their results: negative unless the scenario gives a Ct for
/// the member's tag.
pub(super) fn retests(s: &Scenario, plan: &Resolved, inc: &Incident) -> Result<(Lane, Vec<Value>)> {
    let mut seq = 0;
    let mut batches = Vec::new();
    let mut results = Vec::new();
    for (k, (tag, p)) in plan.members.iter().enumerate() {
        let tube = format!("RT{}-{:03}", inc.id, k + 1);
        batches.push(tube_events(
            &mut seq,
            &tube,
            inc.retest_round,
            plan.retest_site,
            s.time(&s.retests.sampled)? + Duration::minutes(3 * k as i64),
            &[p.document.number().to_string()],
            &[],
        ));
        let ct = tag
            .as_ref()
            .and_then(|t| s.retests.result.iter().find(|r| &r.tag == t))
            .map(|r| r.ct)
            .unwrap_or_default();
        results.push(json!({ "tube": tube, "ct": ct_json(ct), "at": s.time(&s.retests.resulted)? + Duration::minutes(k as i64) }));
    }
    let lane = Lane {
        device: retest_device(s),
        batches,
    };
    Ok((lane, results))
}

/// The full-coverage sampling over every expansion site, and the tubes it
/// opens in order.
pub(super) fn expansion_lanes(
    s: &Scenario,
    plan: &Resolved,
    inc: &Incident,
) -> Result<(Vec<Lane>, Vec<String>)> {
    let mut lanes = Vec::new();
    let mut tubes = Vec::new();
    for (si, (e, (site, people))) in s.expansion.iter().zip(&plan.expansion).enumerate() {
        let (site_lanes, site_tubes) = expansion_site(s, inc, si, e, *site, people)?;
        lanes.extend(site_lanes);
        tubes.extend(site_tubes);
    }
    Ok((lanes, tubes))
}

/// One expansion site: its people spread evenly over its tubes, the tubes
/// spread over the sampling window, several teams (a device each, at most
/// 40 tubes a team) side by side.
fn expansion_site(
    s: &Scenario,
    inc: &Incident,
    si: usize,
    e: &ExpansionSite,
    site: i64,
    people: &[PersonRecord],
) -> Result<(Vec<Lane>, Vec<String>)> {
    let (start, end) = (s.time(&e.start)?, s.time(&e.end)?);
    let span = (end - start).num_seconds().max(1);
    let teams = e.tubes.div_ceil(40);
    let mut team_batches: Vec<Vec<Vec<Value>>> = vec![Vec::new(); teams];
    let mut team_seq = vec![0i64; teams];
    let mut tubes = Vec::new();
    let mut next = 0;
    for t in 0..e.tubes {
        let n = e.people / e.tubes + usize::from(t < e.people % e.tubes);
        let docs = documents(&people[next..next + n]);
        next += n;
        let tube = format!("KM{}-{}-{:04}", inc.id, si + 1, t + 1);
        let at = start
            + Duration::seconds(span * t as i64 / e.tubes as i64 - 10 * n as i64 - 10)
                .max(Duration::zero());
        let team = t % teams;
        team_batches[team].push(tube_events(
            &mut team_seq[team],
            &tube,
            inc.expansion_round,
            site,
            at,
            &docs,
            &[],
        ));
        tubes.push(tube);
    }
    let lanes = team_batches
        .into_iter()
        .enumerate()
        .map(|(k, batches)| Lane {
            device: format!("drill-{}-{}-{}", inc.id, si + 1, k + 1),
            batches,
        })
        .collect();
    Ok((lanes, tubes))
}

/// An environmental tube, kept so a reactive one's points can be swabbed
/// again in the follow-up.
pub(super) struct EnvTube {
    /// The tube's barcode.
    pub(super) code: String,
    /// The site it was sampled at.
    pub(super) site: i64,
    /// The points swabbed into it.
    pub(super) points: Vec<String>,
}

/// The environmental sampling, one device per entry, and its tubes in order.
pub(super) fn environment_lanes(
    s: &Scenario,
    plan: &Resolved,
    inc: &Incident,
) -> Result<(Vec<Lane>, Vec<EnvTube>)> {
    let mut lanes = Vec::new();
    let mut tubes = Vec::new();
    for (ei, (env, site)) in s.environment.iter().zip(&plan.environment).enumerate() {
        let (start, end) = (s.time(&env.start)?, s.time(&env.end)?);
        let span = (end - start).num_seconds().max(1);
        let mut seq = 0;
        let mut batches = Vec::new();
        for t in 0..env.tubes {
            let tube = format!("HJ{}-{}-{:02}", inc.id, ei + 1, t + 1);
            let points = env_points(env, t);
            let at = start + Duration::seconds(span * t as i64 / env.tubes as i64);
            batches.push(tube_events(
                &mut seq,
                &tube,
                inc.expansion_round,
                *site,
                at,
                &[],
                &points,
            ));
            tubes.push(EnvTube {
                code: tube,
                site: *site,
                points,
            });
        }
        lanes.push(Lane {
            device: format!("drill-{}-env-{}", inc.id, ei + 1),
            batches,
        });
    }
    Ok((lanes, tubes))
}

/// The points swabbed into environmental tube `t`, numbered across the
/// place.
fn env_points(env: &Environment, t: usize) -> Vec<String> {
    (0..env.points_per_tube)
        .map(|k| {
            format!(
                "{} 环境点位{:02}",
                env.place,
                t * env.points_per_tube + k + 1
            )
        })
        .collect()
}

/// The expansion tubes' results, spread evenly over the lab's results
/// window in the order the tubes were opened: negative unless the
/// scenario gives a Ct for the tube's index.
pub(super) fn expansion_results(s: &Scenario, tubes: &[String]) -> Result<Vec<Value>> {
    let (from, to) = (s.time(&s.lab.results_from)?, s.time(&s.lab.results_to)?);
    let span = (to - from).num_seconds().max(1);
    let total = tubes.len() as i64;
    Ok(tubes
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
                    "at": from + Duration::seconds(span * i as i64 / total.max(1)) })
        })
        .collect())
}
