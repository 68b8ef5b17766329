//! The grid tree: a node with its resident count, its children, the roots.

use crate::extract::ApiPath;
use crate::views::{AreaRef, AreaView};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use gridsweep_domain::AreaId;

fn area_id(raw: i64) -> Result<AreaId, ApiError> {
    AreaId::new(raw).map_err(|e| ApiError::invalid("id", e.to_string()))
}

/// `GET /api/v1/areas`: the districts.
#[tracing::instrument(skip_all)]
pub async fn roots(State(state): State<AppState>) -> Result<Json<Vec<AreaView>>, ApiError> {
    let roots = state.blocking(|s| Ok(s.roots()?)).await?;
    Ok(Json(roots.into_iter().map(AreaView::of).collect()))
}

/// `GET /api/v1/areas/{id}`: one node with its breadcrumbs.
#[tracing::instrument(skip(state))]
pub async fn one(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AreaView>, ApiError> {
    let id = area_id(id)?;
    let (area, ancestors) = state
        .blocking(move |s| {
            let area = s
                .area(id)?
                .ok_or_else(|| ApiError::not_found(format!("area {id}")))?;
            let mut ancestors = s.areas(&area.path.ids())?;
            let order = area.path.ids();
            ancestors.sort_by_key(|a| order.iter().position(|i| *i == a.id));
            Ok((area, ancestors))
        })
        .await?;
    let mut view = AreaView::of(area);
    view.ancestors = ancestors
        .into_iter()
        .map(|a| AreaRef {
            id: a.id,
            level: a.level,
            name: a.name,
        })
        .collect();
    Ok(Json(view))
}

/// `GET /api/v1/areas/{id}/children`: the next level down, with counts.
#[tracing::instrument(skip(state))]
pub async fn children(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<AreaView>>, ApiError> {
    let id = area_id(id)?;
    let kids = state
        .blocking(move |s| {
            if s.area(id)?.is_none() {
                return Err(ApiError::not_found(format!("area {id}")));
            }
            Ok(s.children(id)?)
        })
        .await?;
    Ok(Json(kids.into_iter().map(AreaView::of).collect()))
}
