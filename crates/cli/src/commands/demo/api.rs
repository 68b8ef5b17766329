//! The HTTP client side of the replay. It acts through real accounts, as
//! the people of the story would: a district-wide sampler's device, the
//! lab's system, district command and the CDC — each with an API token —
//! so the replay goes through the same API devices and labs use.

use super::accounts::DrillTokens;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Who does a step of the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Account {
    Sampler,
    Lab,
    Cdc,
    Command,
}

impl Account {
    /// Devices sync, the lab posts results, the CDC confirms what is the
    /// CDC's to confirm, command does the rest.
    fn for_request(path: &str, body: Option<&Value>) -> Self {
        if path.starts_with("/api/v1/sync")
            || path.starts_with("/api/v1/tubes")
            || path.starts_with("/api/v1/boxes")
        {
            Account::Sampler
        } else if path.starts_with("/api/v1/results") || path.starts_with("/api/v1/lab/") {
            Account::Lab
        } else if body.is_some_and(|b| b["role"] == "cdc")
            && (path.ends_with("/confirm") || path.ends_with("/reject"))
        {
            Account::Cdc
        } else {
            Account::Command
        }
    }
}

/// The replay's client of the server it started: one base address, the
/// drill's tokens, and (when asked) every answer the lab account received,
/// so what a lab gets to see can be checked.
pub(super) struct Api {
    base: String,
    http: reqwest::Client,
    tokens: DrillTokens,
    /// Every answer given to the lab account, when asked to keep them.
    lab_answers: Option<Mutex<Vec<Value>>>,
}

impl Api {
    /// A client of the server at `base` acting with `tokens`.
    pub(super) fn new(base: String, tokens: DrillTokens, keep_lab_answers: bool) -> Self {
        Api {
            base,
            http: reqwest::Client::new(),
            tokens,
            lab_answers: keep_lab_answers.then(Default::default),
        }
    }

    /// Every answer the lab account received so far (none unless kept).
    pub(super) fn lab_answers(&self) -> Vec<Value> {
        self.lab_answers
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .unwrap_or_default()
    }

    fn token(&self, account: Account) -> &str {
        let t = &self.tokens;
        match account {
            Account::Sampler => &t.sampler,
            Account::Lab => &t.lab,
            Account::Cdc => &t.cdc,
            Account::Command => &t.command,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let account = Account::for_request(path, body.as_ref());
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(self.token(account));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if account == Account::Lab
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

    /// Posts as whoever does that step; a refusal is an error.
    pub(super) async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// Reads as whoever does that step; a refusal is an error.
    pub(super) async fn get(&self, path: &str) -> Result<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// The lab received these tubes at `at`.
    pub(super) async fn receive<T: serde::Serialize>(
        &self,
        tubes: &[T],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Value> {
        self.post("/api/v1/lab/receipts", json!({ "tubes": tubes, "at": at }))
            .await
    }
}

/// One device's sync batches, sent in order.
pub(super) struct Lane {
    /// The device id the batches are synced as.
    pub(super) device: String,
    /// Each batch is one sync request.
    pub(super) batches: Vec<Vec<Value>>,
}

/// Syncs the lanes side by side (as teams' devices would), each lane's
/// batches in order; a rejected event is an error.
pub(super) async fn run_lanes(api: &Arc<Api>, lanes: Vec<Lane>) -> Result<()> {
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

/// Posts the lab's results over `lanes` concurrent connections, as a
/// busy lab system would.
pub(super) async fn post_results(api: &Arc<Api>, results: Vec<Value>, lanes: usize) -> Result<()> {
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
