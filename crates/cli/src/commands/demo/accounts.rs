//! The accounts the replay acts through, as the people of the story
//! would: district command, the CDC, a district-wide sampler's device and
//! the lab's system — token-only accounts, each with a fresh API token.
//! The alert benchmark reuses them.

use anyhow::{Result, anyhow, bail};
use chrono::Utc;
use gridsweep_storage::Store;

/// Bearer tokens of the accounts the replay acts as.
pub(crate) struct DrillTokens {
    /// District command: rounds, marks, timeline, decisions.
    pub(crate) command: String,
    /// The CDC: confirms the decisions that are the CDC's.
    pub(crate) cdc: String,
    /// A district-wide sampler's device: syncs tube events.
    pub(crate) sampler: String,
    /// The lab's system: receipts and results.
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
