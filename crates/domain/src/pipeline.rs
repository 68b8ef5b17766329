//! The life of a tube, as rules with no I/O: opened → samples added →
//! sealed → boxed → received by a lab → resulted. Storage loads the
//! current state, asks these functions whether a step is allowed, and
//! writes only what they allow; every refusal carries a stable code.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Pooling designs a round may use: persons per tube.
pub const POOL_SIZES: [u32; 4] = [1, 5, 10, 20];

/// What goes into a tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeKind {
    /// Swabs of persons, up to the round's pool size.
    Human,
    /// Swabs of named surfaces ("3号楼电梯按钮"), usually 10 a tube.
    Environmental,
}

impl TubeKind {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            TubeKind::Human => "human",
            TubeKind::Environmental => "environmental",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "human" => Some(Self::Human),
            "environmental" => Some(Self::Environmental),
            _ => None,
        }
    }
}

/// Where a tube is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeStatus {
    Open,
    Sealed,
    Boxed,
    InTransit,
    Received,
    Resulted,
}

impl TubeStatus {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            TubeStatus::Open => "open",
            TubeStatus::Sealed => "sealed",
            TubeStatus::Boxed => "boxed",
            TubeStatus::InTransit => "in_transit",
            TubeStatus::Received => "received",
            TubeStatus::Resulted => "resulted",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Open,
            Self::Sealed,
            Self::Boxed,
            Self::InTransit,
            Self::Received,
            Self::Resulted,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A lab's verdict on a tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Negative,
    /// 初筛阳性: reactive on the initial screen, needs review and retest.
    Suspected,
    Positive,
    /// The run failed for this tube (e.g. no internal control); resample.
    Invalid,
}

impl Outcome {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Negative => "negative",
            Outcome::Suspected => "suspected",
            Outcome::Positive => "positive",
            Outcome::Invalid => "invalid",
        }
    }

    /// Parses the storage name or the Chinese word on a lab sheet.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "negative" | "阴性" | "neg" | "NEG" | "Negative" => Some(Self::Negative),
            "suspected" | "初筛阳性" | "疑似" | "可疑" | "Suspected" => {
                Some(Self::Suspected)
            }
            "positive" | "阳性" | "pos" | "POS" | "Positive" => Some(Self::Positive),
            "invalid" | "无效" | "Invalid" => Some(Self::Invalid),
            _ => None,
        }
    }

    /// Whether the tube opens an incident: anything but negative does.
    pub fn is_alarm(self) -> bool {
        self != Outcome::Negative
    }
}

/// Ct cut-offs. Configuration, not code: labs and kits differ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CtCutoffs {
    /// Below this, a target counts as detected and reactive (default 35).
    pub positive_below: f64,
    /// From `positive_below` up to below this, "slightly elevated" — the
    /// grey zone (default 40). At or above it, not detected.
    pub grey_below: f64,
}

impl Default for CtCutoffs {
    fn default() -> Self {
        Self {
            positive_below: 35.0,
            grey_below: 40.0,
        }
    }
}

/// The Ct values of one run, per target gene; `None` = not detected.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CtValues {
    pub orf1ab: Option<f64>,
    pub n: Option<f64>,
}

/// What the cut-offs make of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub outcome: Outcome,
    /// 35 ≤ lowest Ct < 40: "slightly elevated"; the playbook isolates
    /// such a person at home rather than treating them as a case.
    pub grey_zone: bool,
}

impl CtCutoffs {
    /// Classifies Ct values. A pooled tube is never "positive" on its own
    /// — it says only that someone in it must be retested — so a reactive
    /// pool is `Suspected`; a single-person tube below the cut-off on
    /// both targets is `Positive`, on one target `Suspected`.
    pub fn classify(&self, ct: CtValues, persons_in_tube: u32) -> Classification {
        let detected: Vec<f64> = [ct.orf1ab, ct.n]
            .into_iter()
            .flatten()
            .filter(|v| *v < self.grey_below)
            .collect();
        let lowest = detected.iter().copied().fold(f64::INFINITY, f64::min);
        if detected.is_empty() {
            return Classification {
                outcome: Outcome::Negative,
                grey_zone: false,
            };
        }
        if lowest >= self.positive_below {
            return Classification {
                outcome: Outcome::Suspected,
                grey_zone: true,
            };
        }
        let both = detected.len() == 2 && detected.iter().all(|v| *v < self.positive_below);
        let outcome = if persons_in_tube <= 1 && both {
            Outcome::Positive
        } else {
            Outcome::Suspected
        };
        Classification {
            outcome,
            grey_zone: false,
        }
    }

    /// Refuses cut-offs that cannot be ordered.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.positive_below > 0.0 && self.positive_below <= self.grey_below) {
            return Err("need 0 < positive_below ≤ grey_below".into());
        }
        Ok(())
    }
}

/// Why a step in a tube's life was refused. `code()` is the stable string
/// clients match; the message is for the person at the scanner.
#[derive(Debug, Clone, PartialEq, Error, Serialize, Deserialize)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum PipelineError {
    #[error("no tube with barcode {0}")]
    TubeUnknown(String),
    #[error("tube {0} already exists")]
    TubeExists(String),
    #[error("tube {barcode} is {status:?}, not open")]
    TubeNotOpen { barcode: String, status: TubeStatus },
    #[error("tube {barcode} is full ({capacity} samples)")]
    TubeFull { barcode: String, capacity: u32 },
    #[error("this person is already in tube {0}")]
    DuplicateSample(String),
    #[error("point {point:?} is already in tube {barcode}")]
    DuplicatePoint { barcode: String, point: String },
    #[error("no person on the roster with that document")]
    PersonUnknown,
    #[error("invalid identifier: {0}")]
    InvalidIdentifier(String),
    #[error("tube {0} is a {1:?} tube")]
    WrongTubeKind(String, TubeKind),
    #[error("tube {0} is empty")]
    TubeEmpty(String),
    #[error("tube {barcode} is {status:?}; it must be sealed first")]
    TubeNotSealed { barcode: String, status: TubeStatus },
    #[error("no box with barcode {0}")]
    BoxUnknown(String),
    #[error("box {0} already handed over")]
    BoxClosed(String),
    #[error("box {0} has not been handed over")]
    BoxNotInTransit(String),
    #[error("tube {barcode} is {status:?}; the lab has not received it")]
    TubeNotReceived { barcode: String, status: TubeStatus },
    #[error("tube {0} was already received")]
    AlreadyReceived(String),
    #[error("tube {barcode} already has result {existing:?}; send a correction to change it")]
    ResultConflict { barcode: String, existing: Outcome },
    #[error("tube {0} has no result to correct")]
    NothingToCorrect(String),
    #[error("no round {0}")]
    RoundUnknown(i64),
    #[error("round {0} is closed")]
    RoundClosed(i64),
    #[error("no site {0}")]
    SiteUnknown(i64),
    #[error("pool size must be one of 1, 5, 10, 20; got {0}")]
    BadPoolSize(u32),
    #[error("capacity must be 1 to {max}; got {got}")]
    BadCapacity { got: u32, max: u32 },
    /// The actor's scope does not reach the site, tube or box, or its role
    /// may not take this step; checked inside the transaction that would
    /// apply it, so a target opened elsewhere meanwhile is still refused.
    #[error("{0} is outside your scope")]
    OutOfScope(String),
}

impl PipelineError {
    /// The stable code, e.g. `tube_full`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TubeUnknown(_) => "tube_unknown",
            Self::TubeExists(_) => "tube_exists",
            Self::TubeNotOpen { .. } => "tube_not_open",
            Self::TubeFull { .. } => "tube_full",
            Self::DuplicateSample(_) => "duplicate_sample",
            Self::DuplicatePoint { .. } => "duplicate_point",
            Self::PersonUnknown => "person_unknown",
            Self::InvalidIdentifier(_) => "invalid_identifier",
            Self::WrongTubeKind(..) => "wrong_tube_kind",
            Self::TubeEmpty(_) => "tube_empty",
            Self::TubeNotSealed { .. } => "tube_not_sealed",
            Self::BoxUnknown(_) => "box_unknown",
            Self::BoxClosed(_) => "box_closed",
            Self::BoxNotInTransit(_) => "box_not_in_transit",
            Self::TubeNotReceived { .. } => "tube_not_received",
            Self::AlreadyReceived(_) => "already_received",
            Self::ResultConflict { .. } => "result_conflict",
            Self::NothingToCorrect(_) => "nothing_to_correct",
            Self::RoundUnknown(_) => "round_unknown",
            Self::RoundClosed(_) => "round_closed",
            Self::SiteUnknown(_) => "site_unknown",
            Self::BadPoolSize(_) => "bad_pool_size",
            Self::BadCapacity { .. } => "bad_capacity",
            Self::OutOfScope(_) => "forbidden",
        }
    }

    /// The HTTP status class: 404 for unknown things, 409 for a state
    /// that forbids the step, 422 for values that can never be right.
    pub fn status(&self) -> u16 {
        match self {
            Self::TubeUnknown(_)
            | Self::BoxUnknown(_)
            | Self::RoundUnknown(_)
            | Self::SiteUnknown(_)
            | Self::PersonUnknown => 404,
            Self::InvalidIdentifier(_) | Self::BadPoolSize(_) | Self::BadCapacity { .. } => 422,
            Self::OutOfScope(_) => 403,
            _ => 409,
        }
    }
}

/// A tube's state as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TubeState {
    pub barcode: String,
    pub kind: TubeKind,
    pub status: TubeStatus,
    pub capacity: u32,
    pub samples: u32,
}

impl TubeState {
    /// Does the tube take samples of `kind` at all (open, right kind)?
    /// Checked before the duplicate test, so a person scanned twice is told
    /// "already in this tube" even when the tube has since filled up.
    pub fn check_accepts(&self, kind: TubeKind) -> Result<(), PipelineError> {
        if self.status != TubeStatus::Open {
            return Err(PipelineError::TubeNotOpen {
                barcode: self.barcode.clone(),
                status: self.status,
            });
        }
        if self.kind != kind {
            return Err(PipelineError::WrongTubeKind(
                self.barcode.clone(),
                self.kind,
            ));
        }
        Ok(())
    }

    /// May one more sample of `kind` go in?
    pub fn check_add(&self, kind: TubeKind) -> Result<(), PipelineError> {
        self.check_accepts(kind)?;
        if self.samples >= self.capacity {
            return Err(PipelineError::TubeFull {
                barcode: self.barcode.clone(),
                capacity: self.capacity,
            });
        }
        Ok(())
    }

    /// May it be sealed? Only open and non-empty.
    pub fn check_seal(&self) -> Result<(), PipelineError> {
        if self.status != TubeStatus::Open {
            return Err(PipelineError::TubeNotOpen {
                barcode: self.barcode.clone(),
                status: self.status,
            });
        }
        if self.samples == 0 {
            return Err(PipelineError::TubeEmpty(self.barcode.clone()));
        }
        Ok(())
    }

    /// May it go into a transfer box? Only once sealed.
    pub fn check_box(&self) -> Result<(), PipelineError> {
        if self.status != TubeStatus::Sealed {
            return Err(PipelineError::TubeNotSealed {
                barcode: self.barcode.clone(),
                status: self.status,
            });
        }
        Ok(())
    }

    /// May a lab receive it? Sealed, boxed or in transit — not open, and
    /// not twice.
    pub fn check_receive(&self) -> Result<(), PipelineError> {
        match self.status {
            TubeStatus::Sealed | TubeStatus::Boxed | TubeStatus::InTransit => Ok(()),
            TubeStatus::Open => Err(PipelineError::TubeNotSealed {
                barcode: self.barcode.clone(),
                status: self.status,
            }),
            TubeStatus::Received | TubeStatus::Resulted => {
                Err(PipelineError::AlreadyReceived(self.barcode.clone()))
            }
        }
    }

    /// May a result be recorded? Only for received tubes, unless the site
    /// lets the lab post results directly (a lab in the hut itself).
    pub fn check_result(&self, direct_results_allowed: bool) -> Result<(), PipelineError> {
        match self.status {
            TubeStatus::Received | TubeStatus::Resulted => Ok(()),
            TubeStatus::Sealed | TubeStatus::Boxed | TubeStatus::InTransit
                if direct_results_allowed =>
            {
                Ok(())
            }
            status => Err(PipelineError::TubeNotReceived {
                barcode: self.barcode.clone(),
                status,
            }),
        }
    }
}

/// Whether a new result for a tube that has `existing` is the same
/// (a retry: accept, change nothing), a contradiction (refuse unless it
/// is an explicit correction), or first.
pub fn check_new_result(
    barcode: &str,
    existing: Option<(Outcome, CtValues)>,
    new: (Outcome, CtValues),
    correction: bool,
) -> Result<ResultAction, PipelineError> {
    match existing {
        None if correction => Err(PipelineError::NothingToCorrect(barcode.to_string())),
        None => Ok(ResultAction::Record),
        Some(old) if old == new => Ok(ResultAction::AlreadyRecorded),
        Some(_) if correction => Ok(ResultAction::Correct),
        Some((existing, _)) => Err(PipelineError::ResultConflict {
            barcode: barcode.to_string(),
            existing,
        }),
    }
}

/// What to do with an incoming result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultAction {
    /// First result: record it.
    Record,
    /// Identical to the current one: a retry; record nothing.
    AlreadyRecorded,
    /// An explicit correction: keep the old one in history, make this current.
    Correct,
}

/// Checks a round's pooling design.
pub fn check_pool_size(pool: u32) -> Result<(), PipelineError> {
    if POOL_SIZES.contains(&pool) {
        Ok(())
    } else {
        Err(PipelineError::BadPoolSize(pool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tube(status: TubeStatus, samples: u32) -> TubeState {
        TubeState {
            barcode: "T1".into(),
            kind: TubeKind::Human,
            status,
            capacity: 20,
            samples,
        }
    }

    #[test]
    fn classification() {
        let c = CtCutoffs::default();
        let ct = |o, n| CtValues { orf1ab: o, n };
        assert_eq!(c.classify(ct(None, None), 20).outcome, Outcome::Negative);
        assert_eq!(
            c.classify(ct(Some(41.0), None), 20).outcome,
            Outcome::Negative
        );
        let grey = c.classify(ct(Some(37.5), Some(38.0)), 1);
        assert_eq!((grey.outcome, grey.grey_zone), (Outcome::Suspected, true));
        assert_eq!(
            c.classify(ct(Some(28.0), Some(30.0)), 20).outcome,
            Outcome::Suspected
        );
        assert_eq!(
            c.classify(ct(Some(28.0), Some(30.0)), 1).outcome,
            Outcome::Positive
        );
        assert_eq!(
            c.classify(ct(Some(28.0), None), 1).outcome,
            Outcome::Suspected
        );
    }

    #[test]
    fn life_cycle_refusals() {
        assert_eq!(
            tube(TubeStatus::Open, 0).check_seal().unwrap_err().code(),
            "tube_empty"
        );
        assert_eq!(
            tube(TubeStatus::Sealed, 3)
                .check_add(TubeKind::Human)
                .unwrap_err()
                .code(),
            "tube_not_open"
        );
        assert_eq!(
            tube(TubeStatus::Open, 20)
                .check_add(TubeKind::Human)
                .unwrap_err()
                .code(),
            "tube_full"
        );
        assert_eq!(
            tube(TubeStatus::Open, 2)
                .check_add(TubeKind::Environmental)
                .unwrap_err()
                .code(),
            "wrong_tube_kind"
        );
        assert_eq!(
            tube(TubeStatus::Open, 2)
                .check_receive()
                .unwrap_err()
                .code(),
            "tube_not_sealed"
        );
        assert_eq!(
            tube(TubeStatus::Sealed, 2)
                .check_result(false)
                .unwrap_err()
                .code(),
            "tube_not_received"
        );
        assert!(tube(TubeStatus::Sealed, 2).check_result(true).is_ok());
        assert_eq!(
            tube(TubeStatus::Received, 2)
                .check_receive()
                .unwrap_err()
                .code(),
            "already_received"
        );
    }

    #[test]
    fn results_keep_history() {
        let neg = (Outcome::Negative, CtValues::default());
        let sus = (
            Outcome::Suspected,
            CtValues {
                orf1ab: Some(33.0),
                n: None,
            },
        );
        assert_eq!(
            check_new_result("T", None, neg, false),
            Ok(ResultAction::Record)
        );
        assert_eq!(
            check_new_result("T", Some(neg), neg, false),
            Ok(ResultAction::AlreadyRecorded)
        );
        assert_eq!(
            check_new_result("T", Some(neg), sus, false)
                .unwrap_err()
                .code(),
            "result_conflict"
        );
        assert_eq!(
            check_new_result("T", Some(neg), sus, true),
            Ok(ResultAction::Correct)
        );
        assert_eq!(
            check_new_result("T", None, sus, true).unwrap_err().code(),
            "nothing_to_correct"
        );
    }

    proptest! {
        #[test]
        fn never_more_samples_than_capacity(cap in 1u32..=20, attempts in 0u32..40) {
            let mut t = TubeState { barcode: "T".into(), kind: TubeKind::Human, status: TubeStatus::Open, capacity: cap, samples: 0 };
            for _ in 0..attempts {
                if t.check_add(TubeKind::Human).is_ok() { t.samples += 1; }
            }
            prop_assert!(t.samples <= cap);
            prop_assert_eq!(t.samples, attempts.min(cap));
        }

        #[test]
        fn ct_classification_is_monotone(a in 10.0f64..45.0, b in 10.0f64..45.0) {
            let c = CtCutoffs::default();
            let lo = c.classify(CtValues { orf1ab: Some(a.min(b)), n: None }, 20);
            let hi = c.classify(CtValues { orf1ab: Some(a.max(b)), n: None }, 20);
            // A lower Ct (more virus) is never "more negative".
            prop_assert!(!(lo.outcome == Outcome::Negative && hi.outcome != Outcome::Negative));
        }
    }
}
