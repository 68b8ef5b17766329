//! Checking a scenario before anything is sent: everything that needs no
//! database (times parse and come in order, counts fit their tubes, kinds
//! are known, tags and indexes point at something, Ct values are
//! possible). What needs the roster is checked by `resolve`.

use super::scenario::{Ct, Scenario};
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Fails when a step comes before the one named ahead of it.
fn in_order(steps: &[(&str, DateTime<Utc>)]) -> Result<()> {
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
}

/// Fails on a Ct value no lab could report.
fn ct_ok(what: &str, ct: &Ct) -> Result<()> {
    for v in [ct.orf1ab, ct.n].into_iter().flatten() {
        if !v.is_finite() || !(0.0..=60.0).contains(&v) {
            bail!("{what}: Ct {v} is not a possible value (0 to 60)");
        }
    }
    Ok(())
}

/// The known names of a kind, for the message refusing an unknown one.
fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

impl Scenario {
    /// Checks the whole scenario, section by section, in the file's order.
    pub(super) fn check(&self) -> Result<()> {
        gridsweep_domain::pipeline::check_pool_size(self.routine.pool)
            .map_err(|e| anyhow!("routine.pool: {e}"))?;
        let opened = self.check_trigger()?;
        self.check_mobilised(opened)?;
        let expansion_end = self.check_expansion(opened)?;
        let (environment_end, env_tubes) = self.check_environment(opened)?;
        self.check_retests(opened)?;
        self.check_lab(expansion_end.max(environment_end), env_tubes)?;
        self.check_marks(opened)?;
        self.check_followup()?;
        self.check_decisions(opened)
    }

    /// A time of the scenario, an error naming the field it came from.
    fn at(&self, what: &str, v: &str) -> Result<DateTime<Utc>> {
        self.time(v).with_context(|| what.to_string())
    }

    /// The routine round and the triggering tube; returns when the
    /// incident opens (the trigger's result), which later steps follow.
    fn check_trigger(&self) -> Result<DateTime<Utc>> {
        let (r, t) = (&self.routine, &self.trigger);
        let opened = self.at("trigger.resulted", &t.resulted)?;
        in_order(&[
            ("routine.starts", self.at("routine.starts", &r.starts)?),
            ("trigger.sampled", self.at("trigger.sampled", &t.sampled)?),
            (
                "trigger.received",
                self.at("trigger.received", &t.received)?,
            ),
            ("trigger.resulted", opened),
        ])?;
        in_order(&[
            ("trigger.sampled", self.at("trigger.sampled", &t.sampled)?),
            ("routine.ends", self.at("routine.ends", &r.ends)?),
        ])?;
        if let Some(o) = &t.outcome
            && gridsweep_domain::pipeline::Outcome::parse(o).is_none()
        {
            bail!("trigger.outcome: unknown outcome {o:?}");
        }
        ct_ok("trigger.ct", &t.ct)?;
        let members: usize = t.members.iter().map(|m| m.count).sum();
        if members == 0 {
            bail!("trigger.members: the tube needs at least one person");
        }
        if members > r.pool as usize {
            bail!(
                "trigger.members: {members} persons do not fit a {}:1 tube",
                r.pool
            );
        }
        Ok(opened)
    }

    /// Grid levels report in place after the incident opened.
    fn check_mobilised(&self, opened: DateTime<Utc>) -> Result<()> {
        for m in &self.mobilised {
            in_order(&[
                ("trigger.resulted", opened),
                ("mobilised.at", self.at("mobilised.at", &m.at)?),
            ])?;
        }
        Ok(())
    }

    /// Each expansion site's people fill its tubes; returns when the last
    /// human expansion sample was taken (at the earliest, the opening).
    fn check_expansion(&self, opened: DateTime<Utc>) -> Result<DateTime<Utc>> {
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
            let (start, end) = (
                self.at("expansion.start", &e.start)?,
                self.at("expansion.end", &e.end)?,
            );
            in_order(&[
                ("trigger.resulted", opened),
                ("expansion.start", start),
                ("expansion.end", end),
            ])?;
            last_sample = last_sample.max(end);
        }
        Ok(last_sample)
    }

    /// Environmental sampling; returns when its last sample was taken (at
    /// the earliest, the opening) and how many tubes it fills.
    fn check_environment(&self, opened: DateTime<Utc>) -> Result<(DateTime<Utc>, usize)> {
        let mut last_sample = opened;
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
                self.at("environment.start", &e.start)?,
                self.at("environment.end", &e.end)?,
            );
            in_order(&[
                ("trigger.resulted", opened),
                ("environment.start", start),
                ("environment.end", end),
            ])?;
            last_sample = last_sample.max(end);
            env_tubes += e.tubes;
        }
        Ok((last_sample, env_tubes))
    }

    /// The members' retests come in order, and each retest result names a
    /// tagged trigger member.
    fn check_retests(&self, opened: DateTime<Utc>) -> Result<()> {
        let r = &self.retests;
        in_order(&[
            ("trigger.resulted", opened),
            ("retests.sampled", self.at("retests.sampled", &r.sampled)?),
            (
                "retests.received",
                self.at("retests.received", &r.received)?,
            ),
            (
                "retests.resulted",
                self.at("retests.resulted", &r.resulted)?,
            ),
        ])?;
        let tags: BTreeSet<&str> = self
            .trigger
            .members
            .iter()
            .filter_map(|m| m.tag.as_deref())
            .collect();
        for result in &r.result {
            if !tags.contains(result.tag.as_str()) {
                bail!(
                    "retests.result: tag {:?} names no trigger member (tags: {})",
                    result.tag,
                    known(tags.iter().copied())
                );
            }
            ct_ok("retests.result", &result.ct)?;
        }
        Ok(())
    }

    /// The lab receives after the last expansion sample, and each result
    /// points at an expansion tube (human tubes first, then environmental).
    fn check_lab(&self, last_sample: DateTime<Utc>, env_tubes: usize) -> Result<()> {
        let lab = &self.lab;
        let lab_received = self.at("lab.received", &lab.received)?;
        in_order(&[
            ("the last expansion sample", last_sample),
            ("lab.received", lab_received),
            (
                "lab.results_from",
                self.at("lab.results_from", &lab.results_from)?,
            ),
            (
                "lab.results_to",
                self.at("lab.results_to", &lab.results_to)?,
            ),
        ])?;
        let human: usize = self.expansion.iter().map(|e| e.tubes).sum();
        for r in &lab.result {
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
        if lab.name.trim().is_empty() {
            bail!("lab.name: name the lab");
        }
        Ok(())
    }

    /// Marks are of a known kind and come after the opening.
    fn check_marks(&self, opened: DateTime<Utc>) -> Result<()> {
        for m in &self.marks {
            if gridsweep_response::MarkKind::parse(&m.kind).is_none() {
                bail!(
                    "marks: unknown kind {:?} (known: {})",
                    m.kind,
                    known(gridsweep_response::MarkKind::ALL.iter().map(|k| k.as_str()))
                );
            }
            in_order(&[
                ("trigger.resulted", opened),
                ("marks.at", self.at("marks.at", &m.at)?),
            ])?;
        }
        Ok(())
    }

    /// The follow-up comes after the lab's results, disinfection after
    /// the first of them.
    fn check_followup(&self) -> Result<()> {
        let Some(f) = &self.followup else {
            return Ok(());
        };
        let lab = &self.lab;
        in_order(&[
            (
                "lab.results_to",
                self.at("lab.results_to", &lab.results_to)?,
            ),
            ("followup.sampled", self.at("followup.sampled", &f.sampled)?),
            (
                "followup.received",
                self.at("followup.received", &f.received)?,
            ),
            (
                "followup.resulted",
                self.at("followup.resulted", &f.resulted)?,
            ),
        ])?;
        in_order(&[
            (
                "lab.results_from",
                self.at("lab.results_from", &lab.results_from)?,
            ),
            (
                "followup.disinfected",
                self.at("followup.disinfected", &f.disinfected)?,
            ),
            ("followup.sampled", self.at("followup.sampled", &f.sampled)?),
        ])
    }

    /// Decisions are of a known kind, come after the opening, and only a
    /// lift may be an override, which names its reason.
    fn check_decisions(&self, opened: DateTime<Utc>) -> Result<()> {
        for d in &self.decisions {
            if gridsweep_response::DecisionKind::parse(&d.kind).is_none() {
                bail!(
                    "decisions: unknown kind {:?} (known: {})",
                    d.kind,
                    known(
                        gridsweep_response::DecisionKind::ALL
                            .iter()
                            .map(|k| k.as_str())
                    )
                );
            }
            in_order(&[
                ("trigger.resulted", opened),
                ("decisions.at", self.at("decisions.at", &d.at)?),
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
}
