//! The response playbook: what a non-negative tube sets in motion, and who
//! must confirm which decision. Configuration, not code — districts differ
//! — written in TOML; the defaults follow the 6·13 story.

use crate::model::{DecisionKind, Responder};
use crate::stage2::Stage2;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a playbook file was refused.
#[derive(Debug, Error)]
pub enum PlaybookError {
    #[error("playbook is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("playbook: {0}")]
    Invalid(String),
}

/// Which roles may confirm each kind of decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfirmRules {
    /// Lifting every control and closing: district command (区指挥部).
    pub lift_and_close: Vec<Responder>,
    /// Home isolation of a grey-zone member: the CDC (疾控).
    pub home_isolation: Vec<Responder>,
    /// Confirming a case and cascading: the CDC.
    pub confirm_case: Vec<Responder>,
}

impl Default for ConfirmRules {
    fn default() -> Self {
        Self {
            lift_and_close: vec![Responder::DistrictCommand],
            home_isolation: vec![Responder::Cdc],
            confirm_case: vec![Responder::Cdc],
        }
    }
}

impl ConfirmRules {
    /// The roles allowed to confirm `kind`.
    pub fn roles(&self, kind: DecisionKind) -> &[Responder] {
        match kind {
            DecisionKind::LiftAndClose => &self.lift_and_close,
            DecisionKind::HomeIsolation => &self.home_isolation,
            DecisionKind::ConfirmCase => &self.confirm_case,
        }
    }
}

/// The playbook. Every field has the story's default, so an empty file is
/// the 6·13 playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Playbook {
    /// Persons per tube in the expansion round (20:1 on the day).
    pub expansion_pool: u32,
    /// Hours the expansion round stays open for sampling.
    pub expansion_hours: u32,
    /// Also cover the whole community of the hut the tube came from (the
    /// hut's queue mixes the community), not only the members' compounds.
    pub expand_site_community: bool,
    /// Environmental points per tube.
    pub env_points_per_tube: u32,
    /// Environmental points asked of each affected compound.
    pub env_points_per_compound: u32,
    /// Days of home isolation for a grey-zone member and household.
    pub home_isolation_days: u32,
    /// Trace and tell pool members' households.
    pub trace_households: bool,
    /// Trace pool members' schools and employers.
    pub trace_affiliations: bool,
    /// Per cent of a controlled compound's residents that must be sampled
    /// in the incident's rounds or accounted for by a mark (away,
    /// hospitalised, sampled elsewhere) or an isolation before lifting is
    /// proposed (SPEC §8, "no blind spot": 100 by default). Lifting
    /// below it is an explicit override with a reason.
    pub lift_coverage_percent: u32,
    /// Most same-building residents a confirmed case's cascade takes as
    /// contacts; 0 takes them all. When it cuts, the timeline and the
    /// report say how many were left out.
    pub max_building_contacts: u32,
    /// Who confirms what.
    pub confirm: ConfirmRules,
    /// How a non-negative pool's members are retested: Dorfman (each in a
    /// single tube, the 6·13 practice) or pool + code (a few pooled tubes
    /// the decoder reads, single tubes only where it must).
    pub stage2: Stage2,
}

impl Default for Playbook {
    fn default() -> Self {
        Self {
            expansion_pool: 20,
            expansion_hours: 24,
            expand_site_community: true,
            env_points_per_tube: 10,
            env_points_per_compound: 10,
            home_isolation_days: 7,
            trace_households: true,
            trace_affiliations: true,
            lift_coverage_percent: 100,
            max_building_contacts: 0,
            confirm: ConfirmRules::default(),
            stage2: Stage2::Dorfman,
        }
    }
}

impl Playbook {
    /// Parses and checks a TOML playbook; missing keys keep their defaults.
    pub fn from_toml(text: &str) -> Result<Self, PlaybookError> {
        let pb: Playbook = toml::from_str(text)?;
        pb.validate()?;
        Ok(pb)
    }

    /// Refuses values the pipeline could never carry out.
    pub fn validate(&self) -> Result<(), PlaybookError> {
        gridsweep_domain::pipeline::check_pool_size(self.expansion_pool)
            .map_err(|e| PlaybookError::Invalid(format!("expansion_pool: {e}")))?;
        if !(1..=50).contains(&self.env_points_per_tube) {
            return Err(PlaybookError::Invalid(
                "env_points_per_tube must be 1 to 50".into(),
            ));
        }
        if !(1..=72).contains(&self.expansion_hours) {
            return Err(PlaybookError::Invalid(
                "expansion_hours must be 1 to 72".into(),
            ));
        }
        if !(1..=60).contains(&self.home_isolation_days) {
            return Err(PlaybookError::Invalid(
                "home_isolation_days must be 1 to 60".into(),
            ));
        }
        if self.lift_coverage_percent > 100 {
            return Err(PlaybookError::Invalid(
                "lift_coverage_percent must be 0 to 100".into(),
            ));
        }
        for kind in DecisionKind::ALL {
            if self.confirm.roles(*kind).is_empty() {
                return Err(PlaybookError::Invalid(format!(
                    "confirm.{kind}: name at least one role"
                )));
            }
        }
        Ok(())
    }

    /// Whether `role` may confirm a decision of `kind`.
    pub fn may_confirm(&self, kind: DecisionKind, role: Responder) -> bool {
        self.confirm.roles(kind).contains(&role)
    }

    /// Tubes needed for `points` environmental points.
    pub fn env_tubes_for(&self, points: u32) -> u32 {
        points.div_ceil(self.env_points_per_tube)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_story() {
        let pb = Playbook::from_toml("").unwrap();
        assert_eq!(pb, Playbook::default());
        assert_eq!(pb.expansion_pool, 20);
        assert_eq!(pb.env_points_per_tube, 10);
        assert_eq!(pb.home_isolation_days, 7);
        assert!(pb.may_confirm(DecisionKind::LiftAndClose, Responder::DistrictCommand));
        assert!(!pb.may_confirm(DecisionKind::LiftAndClose, Responder::GridWorker));
        assert_eq!(pb.env_tubes_for(80), 8);
        assert_eq!(pb.stage2, Stage2::Dorfman);
    }

    /// The example file spells out the defaults: it cannot drift from them.
    #[test]
    fn example_file_is_the_default() {
        let text = include_str!("../../../examples/playbook.toml");
        assert_eq!(Playbook::from_toml(text).unwrap(), Playbook::default());
        let pc = text.replace("design = \"dorfman\"", "design = \"pool_code\"");
        assert_eq!(
            Playbook::from_toml(&pc).unwrap().stage2,
            Stage2::PoolCode { third_round: true }
        );
    }

    #[test]
    fn stage2_design_is_a_setting() {
        let pb = Playbook::from_toml("[stage2]\ndesign = \"pool_code\"\n").unwrap();
        assert_eq!(pb.stage2, Stage2::PoolCode { third_round: true });
        let pb = Playbook::from_toml(
            "expansion_pool = 10\n[stage2]\ndesign = \"pool_code\"\nthird_round = false\n",
        )
        .unwrap();
        assert_eq!(pb.stage2, Stage2::PoolCode { third_round: false });
        assert_eq!(pb.expansion_pool, 10);
        assert!(Playbook::from_toml("[stage2]\ndesign = \"array\"\n").is_err());
    }

    #[test]
    fn overrides_and_refusals() {
        let pb = Playbook::from_toml(
            "expansion_pool = 10\nhome_isolation_days = 14\n[confirm]\nlift_and_close = [\"cdc\", \"district_command\"]\n",
        )
        .unwrap();
        assert_eq!(pb.expansion_pool, 10);
        assert_eq!(pb.home_isolation_days, 14);
        assert!(pb.may_confirm(DecisionKind::LiftAndClose, Responder::Cdc));
        assert!(Playbook::from_toml("expansion_pool = 7").is_err());
        assert!(Playbook::from_toml("lift_coverage_percent = 101").is_err());
        assert_eq!(
            Playbook::from_toml("lift_coverage_percent = 95")
                .unwrap()
                .lift_coverage_percent,
            95
        );
        assert!(Playbook::from_toml("nonsense = 1").is_err());
        assert!(Playbook::from_toml("[confirm]\nconfirm_case = []").is_err());
    }
}
