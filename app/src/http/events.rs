//! The events feed: a merchant's events in commit order, for consumers that catch up from
//! the last one they saw instead of receiving webhooks.

use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::lifecycle::EventType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, NotFoundError, ParameterError};
use crate::http::extract::{Path, Query};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::{List, PageParams, encode_cursor};
use crate::http::problem::{ApiError, ApiResult};
use crate::persistence::entities::event;
use crate::persistence::{events, stored_json};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Something that happened, written in the same commit as the change it tells of: it exists
/// if and only if that change committed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// Stable: the same event delivered twice has the same id.
    #[schema(example = "evt_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub id: String,
    /// `order.created`, `order.awaiting_payment`, `order.paid`, `order.completed`,
    /// `order.canceled`, `task.awaiting_callback`, `task.timed_out` or `metadata.published`.
    #[serde(rename = "type")]
    #[schema(example = "order.paid")]
    pub event_type: String,
    pub merchant_id: Option<String>,
    /// The order it tells of, for order and task events.
    pub order_id: Option<String>,
    /// For order and task events: the position in the order's history of the step it
    /// tells of. Increases with every event of an order.
    pub sequence: Option<i32>,
    pub created_at: DateTime<Utc>,
    /// What the event tells, by type: `order.canceled` has `cancel_reason`,
    /// `task.awaiting_callback` the step, its task `token`, its `input` and `deadline`.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl Event {
    fn new(row: event::Model) -> ApiResult<Self> {
        Ok(Self {
            data: stored_json(&row.data)?,
            id: row.id,
            event_type: row.event_type,
            merchant_id: row.merchant_id,
            order_id: row.order_id,
            sequence: row.sequence,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", example = "order.paid")]
    pub event_type: Option<String>,
    /// Only the events of this order.
    pub order_id: Option<String>,
    /// How many items to return, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
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
    params(("merchant_id" = String, Path, description = "The merchant's id"), EventFilter),
    responses((status = 200, description = "A page of events", body = List<Event>), AuthErrors, NotFoundError, ParameterError))]
async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    Query(filter): Query<EventFilter>,
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
    let after = match (&filter.after, &filter.cursor) {
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
    let params = PageParams {
        limit: filter.limit,
        cursor: filter.cursor,
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
        .collect::<ApiResult<_>>()?;
    Ok(axum::Json(List { data, next_cursor }))
}
