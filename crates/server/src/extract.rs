//! Extractors whose rejections use the JSON error shape, so a malformed
//! body or query string gets the same kind of answer as any other error.

use crate::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `axum::Json` with JSON errors, reading what the authorisation check
/// already decoded when it had to look inside the body: the body is parsed
/// once, and the handler acts on exactly what was checked.
pub struct ApiJson<T>(pub T);

/// A JSON body the authorisation check decoded; [`ApiJson`] takes it from
/// the request instead of parsing the bytes again.
#[derive(Debug, Clone)]
pub(crate) struct DecodedJson(pub Value);

/// Whether a `Content-Type` names JSON as the API reads it:
/// `application/json` or `application/…+json`, in any case, with any
/// parameters. The authorisation check and [`ApiJson`] both use this one
/// test, so no type reaches a handler that the check could not read.
pub(crate) fn is_json_type(headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

/// The refusal of a body that is not JSON.
pub(crate) fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON (Content-Type: application/json)",
    )
}

/// Parses JSON text, telling bad syntax (400 `malformed_json`) apart.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("malformed JSON: {e}"),
        )
    })
}

/// The first text in a JSON value holding a NUL character, as a field
/// path (`events.3.tube`): no database stores one (PostgreSQL refuses it,
/// SQLite would cut C strings short), so it is refused at the edge, the
/// same on both backends.
fn nul_at(v: &Value, path: &mut Vec<String>) -> Option<String> {
    match v {
        Value::String(s) if s.contains('\0') => Some(path.join(".")),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
            path.push(i.to_string());
            let r = nul_at(x, path);
            path.pop();
            r
        }),
        Value::Object(o) => o.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                return Some(path.join("."));
            }
            path.push(k.clone());
            let r = nul_at(x, path);
            path.pop();
            r
        }),
        _ => None,
    }
}

/// Refuses a NUL character in any text of a request (422 `invalid_text`).
pub(crate) fn no_nul(v: &Value) -> Result<(), ApiError> {
    match nul_at(v, &mut Vec::new()) {
        Some(field) => Err(nul_refusal(if field.is_empty() { "body" } else { &field })),
        None => Ok(()),
    }
}

fn nul_refusal(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_text",
        "text may not contain a NUL character",
    )
    .with_field(field)
}

/// Turns a decoded body into the handler's type (400 `invalid_body` with
/// serde's reason: a missing field, a wrong type, an unknown variant).
pub(crate) fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    no_nul(&v)?;
    serde_json::from_value(v).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("failed to deserialize the JSON body: {e}"),
        )
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(DecodedJson(v)) = req.extensions_mut().remove::<DecodedJson>() {
            return typed(v).map(Self);
        }
        if !is_json_type(req.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "body_too_large"
            } else {
                "invalid_body"
            };
            ApiError::new(e.status(), code, e.body_text())
        })?;
        typed(parse_json(&bytes)?).map(Self)
    }
}

/// `axum::extract::Query` with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(nul_refusal("query"));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
            })
    }
}

/// `axum::extract::Path` with JSON errors.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.uri.path().contains("%00") {
            return Err(nul_refusal("path"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text())
            })
    }
}
