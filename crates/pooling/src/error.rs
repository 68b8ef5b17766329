//! The one error type of the crate, so callers (CLI, server) can map every
//! refusal to a clear message naming the field and the reason.

use thiserror::Error;

/// Everything the planner and the decoder can refuse.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PoolingError {
    /// A request field is out of range; `field` is the name the user typed.
    #[error("invalid parameter `{field}`: {reason}")]
    InvalidParameter {
        /// Field name as it appears in the request / on the command line.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// A design whose parameters make no sense (e.g. a pool of 0).
    #[error("invalid design {design}: {reason}")]
    InvalidDesign {
        /// Label of the design.
        design: String,
        /// Why it was refused.
        reason: String,
    },
    /// More members were given than the design's block holds.
    #[error("block has {members} members but design {design} holds at most {capacity}")]
    TooManyMembers {
        /// Label of the design.
        design: String,
        /// Members given.
        members: usize,
        /// Block capacity of the design.
        capacity: usize,
    },
    /// The results of a round do not match the tubes that round asked for.
    #[error("round {round}: expected {expected} tube results, got {got}")]
    ResultCountMismatch {
        /// Zero-based round index.
        round: usize,
        /// Tubes the decoder asked for in that round.
        expected: usize,
        /// Results supplied.
        got: usize,
    },
    /// Results were supplied for a round that the design never asked for.
    #[error("results given for round {round}, but the design was already complete")]
    TooManyRounds {
        /// Zero-based index of the superfluous round.
        round: usize,
    },
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, PoolingError>;

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> PoolingError {
    PoolingError::InvalidParameter {
        field,
        reason: reason.into(),
    }
}
