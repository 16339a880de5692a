//! The events feed: a merchant's events in commit order, for consumers that catch up from
//! the last one they saw instead of receiving webhooks.

use axum::extract::State;
use domain::lifecycle::EventType;
use serde::Deserialize;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, PathsBuilder, Ref, Required, ResponseBuilder};
use utoipa::{IntoParams, Modify, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::events::{Event, EventData};
use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, NotFoundError, ParameterError};
use crate::http::extract::{Path, Query};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::{List, PageParams, encode_cursor};
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_enums::{EventTypeSchema, string_enum};
use crate::persistence::events;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", example = "order.paid", value_type = Option<EventTypeSchema>, inline)]
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
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"), EventFilter, PageParams),
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

/// The OpenAPI document's `webhooks`: what orderflow sends to an endpoint, one entry per
/// event type, so that generated clients and receivers know each body's exact shape.
pub struct EventWebhooks;

impl Modify for EventWebhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut webhooks = PathsBuilder::new();
        for event_type in EventType::ALL {
            let body = AllOfBuilder::new()
                .item(Ref::from_schema_name(Event::name()))
                .item(
                    ObjectBuilder::new()
                        .property("type", string_enum([event_type.as_str()]))
                        .property(
                            "data",
                            Ref::from_schema_name(EventData::schema_name(*event_type)),
                        )
                        .required("type")
                        .required("data"),
                );
            let operation = OperationBuilder::new()
                .operation_id(Some(format!(
                    "{}_webhook",
                    event_type.as_str().replace('.', "_")
                )))
                .tag("events")
                .summary(Some(format!("The `{event_type}` event, as delivered")))
                .description(Some(
                    "POSTed to every enabled endpoint of the merchant subscribed to this type \
                     (`webhook.test`: only by the send-test operation), signed the Standard \
                     Webhooks way: verify `webhook-signature` over `webhook-id`, \
                     `webhook-timestamp` and the body with the endpoint's secret. Delivered at \
                     least once, in order per order; a receiver de-duplicates on `webhook-id` \
                     (the event id).",
                ))
                .parameters(Some(DELIVERY_HEADERS.iter().map(|(name, description)| {
                    ParameterBuilder::new()
                        .name(*name)
                        .parameter_in(ParameterIn::Header)
                        .required(Required::True)
                        .description(Some(*description))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build()
                })))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(body)).build(),
                        )
                        .build(),
                ))
                .response(
                    "2XX",
                    ResponseBuilder::new().description(
                        "Received. Any other answer, or none within 10 s, is retried with \
                         backoff for about three days.",
                    ),
                )
                .build();
            webhooks = webhooks.path(
                event_type.as_str(),
                PathItem::new(HttpMethod::Post, operation),
            );
        }
        openapi.webhooks = Some(webhooks.build());
    }
}

/// The headers of every delivery, as Standard Webhooks names them.
const DELIVERY_HEADERS: [(&str, &str); 3] = [
    ("webhook-id", "The event's id: the same on every attempt"),
    (
        "webhook-timestamp",
        "When this attempt was signed, in seconds since the epoch",
    ),
    (
        "webhook-signature",
        "`v1,<base64 HMAC-SHA256>`, space-separated, one per active secret",
    ),
];
