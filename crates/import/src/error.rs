//! File-level failures: the whole file cannot be imported, as opposed to
//! bad rows, which are collected in the [`crate::ImportReport`].

use gridsweep_storage::StoreError;
use thiserror::Error;

/// Why a roster could not be imported at all. Everything except
/// [`ImportError::Storage`] is the uploader's to fix (an HTTP 4xx); the
/// messages are bilingual because they are shown to community staff as is.
#[derive(Debug, Error)]
pub enum ImportError {
    /// Zero bytes, or nothing but blank lines.
    #[error("文件为空 (the file is empty)")]
    Empty,
    /// The bytes are not a readable CSV text or XLSX workbook.
    #[error("无法读取文件 (cannot read the file): {0}")]
    Unreadable(String),
    /// Readable, but no row looks like a roster header.
    #[error("不是花名册 (not a roster): {0}")]
    NotARoster(String),
    /// The header lacks columns every row needs; lists all of them.
    #[error("缺少必需的列 (missing required columns): {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// Two columns of the header mean the same thing, so either could be
    /// the one the uploader meant.
    #[error(
        "列「{first}」与列「{second}」重复 (columns {first} and {second} both give the {meaning})"
    )]
    DuplicateColumn {
        /// The header text of the first such column.
        first: String,
        /// The header text of the second.
        second: String,
        /// What both columns hold, in English.
        meaning: &'static str,
    },
    /// The database failed (or refused the write, e.g. a person added by
    /// someone else between the check and the write).
    #[error("存储错误 (storage error): {0}")]
    Storage(#[from] StoreError),
}

impl ImportError {
    /// A stable machine code for the HTTP layer's `{"error": {"code"}}`.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "empty_file",
            ImportError::Unreadable(_) => "unreadable_file",
            ImportError::NotARoster(_) => "not_a_roster",
            ImportError::MissingColumns(_) => "missing_column",
            ImportError::DuplicateColumn { .. } => "duplicate_column",
            ImportError::Storage(StoreError::Conflict(_)) => "conflict",
            ImportError::Storage(_) => "storage",
        }
    }

    /// Whether the uploader caused it (4xx) rather than the server (5xx).
    /// A storage conflict counts as the uploader's: retrying after a fresh
    /// dry run will show which rows are now already on the roster.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, ImportError::Storage(e) if !matches!(e, StoreError::Conflict(_)))
    }
}
