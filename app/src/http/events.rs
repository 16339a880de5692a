//! The events feed: a merchant's events in commit order, for consumers that catch up from
//! the last one they saw instead of receiving webhooks.

use axum::extract::State;
use domain::lifecycle::EventType;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, EventTypeParam, NotFoundError, ParameterError};
use crate::http::extract::{Path, Query};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::{List, PageParams, encode_cursor};
use crate::http::problem::{ApiError, ApiResult};
use crate::persistence::events;
use crate::services::events::Event;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", example = "order.paid", value_type = Option<EventTypeParam>, inline)]
    pub event_type: Option<String>,
    /// Only the events of this order.
    pub order_id: Option<String>,
    /// Only events committed after this one (an event id): how a consumer reads on from
    /// the last event it saw. Not with `cursor`.
    #[param(example = "evt_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub after: Option<String>,
}

/// List a merchant's events, oldest first.
///
/// In commit order. Page with `cursor` (null on the last page, like every list); to read
/// on later, pass the id of the last event seen as `after`.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/events", tag = "events",
    security(("bearer" = [])),
    params(("merchant_id" = String, Path, description = "The merchant's id"), EventFilter, PageParams),
    responses((status = 200, description = "A page of events", body = List<Event>), AuthErrors, NotFoundError, ParameterError))]
async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    Query(filter): Query<EventFilter>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<Event>>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let event_type = filter
        .event_type
        .as_deref()
        .map(|name| {
            name.parse::<EventType>().map_err(|_| {
                let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                ApiError::BadRequest(format!("type must be one of {}", names.join(", ")))
            })
        })
        .transpose()?;
    let after = match (&filter.after, &params.cursor) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either cursor or after, not both".into(),
            ));
        }
        (Some(id), None) => Some(
            events::position_of(&state.db, merchant.as_str(), id)
                .await?
                .ok_or_else(|| ApiError::BadRequest(format!("after: no event '{id}'")))?,
        ),
        (None, _) => None,
    };
    let mut request = params.request()?;
    request.after = request.after.or(after);
    let page = events::list(
        &state.db,
        merchant.as_str(),
        event_type,
        filter.order_id.as_deref(),
        &request,
    )
    .await?;
    let next_cursor = page.next.as_ref().map(encode_cursor);
    let data = page
        .rows
        .into_iter()
        .map(Event::new)
        .collect::<Result<_, _>>()?;
    Ok(axum::Json(List { data, next_cursor }))
}
