//! Test accuracy: sensitivity and specificity per lab stage, and a dilution
//! model, because a pooled tube is not as sensitive as a single one and the
//! confirmatory stage may use a different assay.

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};

/// How pool sensitivity falls as more samples share a tube.
///
/// Pooling `s` samples dilutes the target `s`-fold, i.e. shifts Ct up by
/// `log2 s` cycles; a fraction of positives near the limit of detection is
/// lost per cycle of shift. `LogLinear` models that as
/// `Se(s) = Se · max(0, 1 − loss_per_doubling · log2 s)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Dilution {
    /// Pool sensitivity does not depend on pool size (binGroup2's default model).
    #[default]
    None,
    /// Sensitivity falls linearly in `log2(pool size)`.
    LogLinear {
        /// Fraction of sensitivity lost per doubling of the pool size.
        loss_per_doubling: f64,
    },
}

impl Dilution {
    /// Multiplicative factor on sensitivity for a tube holding `size` samples.
    pub fn factor(&self, size: usize) -> f64 {
        match *self {
            Dilution::None => 1.0,
            Dilution::LogLinear { loss_per_doubling } => {
                let s = size.max(1) as f64;
                (1.0 - loss_per_doubling * s.log2()).clamp(0.0, 1.0)
            }
        }
    }
}

/// Sensitivity and specificity of each lab stage (round) plus dilution.
///
/// Stage `i` uses `se[i]`/`sp[i]`; stages past the end reuse the last entry,
/// so `Accuracy::uniform(0.99, 0.99)` means "every stage 0.99/0.99".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Sensitivity per stage (probability a tube with ≥ 1 positive is positive).
    pub se: Vec<f64>,
    /// Specificity per stage (probability a tube with no positive is negative).
    pub sp: Vec<f64>,
    /// Dilution model applied to sensitivity by tube size.
    #[serde(default)]
    pub dilution: Dilution,
}

impl Accuracy {
    /// Same assay at every stage, no dilution.
    pub fn uniform(se: f64, sp: f64) -> Self {
        Accuracy {
            se: vec![se],
            sp: vec![sp],
            dilution: Dilution::None,
        }
    }

    /// Error-free tests: what the design itself can and cannot resolve.
    pub fn perfect() -> Self {
        Self::uniform(1.0, 1.0)
    }

    /// (sensitivity, specificity) of a tube of `size` samples tested in round `stage`.
    pub fn at(&self, stage: usize, size: usize) -> (f64, f64) {
        let pick = |v: &[f64]| v[stage.min(v.len() - 1)];
        (pick(&self.se) * self.dilution.factor(size), pick(&self.sp))
    }

    /// Refuses empty lists and values outside [0, 1].
    pub fn validate(&self) -> Result<()> {
        if self.se.is_empty() {
            return Err(invalid("se", "at least one sensitivity is needed"));
        }
        if self.sp.is_empty() {
            return Err(invalid("sp", "at least one specificity is needed"));
        }
        for &v in &self.se {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid("se", format!("{v} is not in [0, 1]")));
            }
        }
        for &v in &self.sp {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid("sp", format!("{v} is not in [0, 1]")));
            }
        }
        if let Dilution::LogLinear { loss_per_doubling } = self.dilution
            && !(0.0..=1.0).contains(&loss_per_doubling)
        {
            return Err(invalid(
                "dilution",
                format!("loss per doubling {loss_per_doubling} is not in [0, 1]"),
            ));
        }
        Ok(())
    }
}

/// Binary entropy H(p) in bits: the information-theoretic lower bound on
/// expected tests per person for any design with perfect tests.
pub fn binary_entropy(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    let q = 1.0 - p;
    -(p * p.log2() + q * q.log2())
}

/// Checks a prevalence is a usable probability.
pub fn validate_prevalence(p: f64) -> Result<()> {
    if !(p > 0.0 && p < 1.0) {
        return Err(invalid("prevalence", format!("{p} is not in (0, 1)")));
    }
    Ok(())
}
