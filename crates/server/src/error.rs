//! The one error type of the HTTP layer and its JSON shape:
//! `{ "error": { "code", "message", "field"?, "details"? } }`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsweep_domain::pipeline::PipelineError;
use gridsweep_storage::StoreError;
use serde_json::{Value, json};

/// An error answer. `code` is stable (clients and tests match on it);
/// `message` is for people; `field` names the input that was wrong.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub details: Option<Value>,
}

impl ApiError {
    /// Any error with a status and stable code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            details: None,
        }
    }

    /// 400: an input field failed validation.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_field", message).with_field(field)
    }

    /// 404: the named thing does not exist.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// 500: our fault; the message goes to the log, not to the client.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// Names the field the error is about.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    /// Attaches structured details (e.g. every bad row of an import).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::CONFLICT);
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::NotFound(m) => Self::not_found(m),
            // Retried by the backend already: the client may try again.
            StoreError::Contention(m) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "database_busy", m)
            }
            other => Self::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
            "internal error; see the server log".to_string()
        } else {
            self.message
        };
        let mut body = json!({ "code": self.code, "message": message });
        if let Some(f) = self.field {
            body["field"] = Value::String(f);
        }
        if let Some(d) = self.details {
            body["details"] = d;
        }
        (self.status, Json(json!({ "error": body }))).into_response()
    }
}
