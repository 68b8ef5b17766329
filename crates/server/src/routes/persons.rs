//! Person search within an area, by name prefix or document number, and
//! one person's record.

use crate::auth::Principal;
use crate::extract::{ApiPath, ApiQuery};
use crate::views::{PersonFull, PersonView};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use gridsweep_domain::AreaId;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// Query string of `GET /api/v1/persons`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    /// The area to search in (its whole subtree).
    pub area: Option<i64>,
    /// A name prefix or a whole document number.
    pub q: Option<String>,
    /// At most this many answers (1–200, default 50).
    pub limit: Option<u32>,
}

/// `GET /api/v1/persons?area=…&q=…`.
#[tracing::instrument(skip_all, fields(area = ?query.area))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<PersonView>>, ApiError> {
    let area = query
        .area
        .ok_or_else(|| ApiError::invalid("area", "area is required"))?;
    let area = AreaId::new(area).map_err(|e| ApiError::invalid("area", e.to_string()))?;
    let q = query.q.unwrap_or_default().trim().to_string();
    if q.is_empty() {
        return Err(ApiError::invalid(
            "q",
            "q (a name or document number) is required",
        ));
    }
    if q.chars().count() > 64 {
        return Err(ApiError::invalid("q", "q is longer than 64 characters"));
    }
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1 to 200"));
    }
    let views = state
        .blocking(move |s| {
            let within = s
                .area(area)?
                .ok_or_else(|| ApiError::not_found(format!("area {area}")))?;
            let found = s.search_persons(&within.path, &q, limit)?;
            let ids: BTreeSet<AreaId> = found.iter().flat_map(|p| p.household_path.ids()).collect();
            let ids: Vec<AreaId> = ids.into_iter().collect();
            let names: HashMap<_, _> = s.areas(&ids)?.into_iter().map(|a| (a.id, a)).collect();
            Ok(found.iter().map(|p| PersonView::of(p, &names)).collect())
        })
        .await?;
    Ok(Json(views))
}

/// `GET /api/v1/persons/{id}`: one person's record. CDC (tracing) gets ID
/// number and phone in full, every other role masked; every read is in
/// the audit trail (the route table says so).
#[tracing::instrument(skip(state, me))]
pub async fn one(
    State(state): State<AppState>,
    me: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let full = me.role().sees_full_identifiers();
    let (person, names) = state
        .blocking(move |s| {
            let p = s
                .person(gridsweep_domain::PersonId(id))?
                .ok_or_else(|| ApiError::not_found(format!("person {id}")))?;
            let mut ids = p.household_path.ids();
            ids.extend(p.affiliations.iter().map(|a| a.area));
            let names: HashMap<_, _> = s.areas(&ids)?.into_iter().map(|a| (a.id, a)).collect();
            Ok((p, names))
        })
        .await?;
    Ok(if full {
        Json(PersonFull::of(&person, &names)).into_response()
    } else {
        Json(PersonView::of(&person, &names)).into_response()
    })
}
