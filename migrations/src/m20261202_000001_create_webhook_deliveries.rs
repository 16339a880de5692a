use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One event on its way to one endpoint: created in the commit of the event (for the
/// endpoints subscribed then) or by hand, attempted until it succeeds or is given up.
#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    MerchantId,
    EventId,
    /// The event's type, kept so that listing deliveries reads no events.
    EventType,
    /// The event's position: deliveries of one order go out in this order.
    EventPosition,
    OrderId,
    /// `pending`, `succeeded` or `failed` (given up).
    Status,
    AttemptCount,
    /// When it is due next; while an instance attempts it, the end of that lease.
    NextAttemptAt,
    LastResponseStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
}

/// Every attempt at a delivery, with what the receiver answered.
#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    ResponseStatus,
    LatencyMs,
    /// The start of the response body, cut at a small cap.
    ResponseBody,
    Error,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    /// Why the server disabled the endpoint (it failed for days); cleared when re-enabled.
    DisabledReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Id))
                    .col(string_len(WebhookDeliveries::EndpointId, 40))
                    .col(string_len(WebhookDeliveries::MerchantId, 63))
                    .col(string_len(WebhookDeliveries::EventId, 64))
                    .col(string_len(WebhookDeliveries::EventType, 64))
                    .col(big_integer(WebhookDeliveries::EventPosition))
                    .col(string_len_null(WebhookDeliveries::OrderId, 64))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer(WebhookDeliveries::AttemptCount))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(integer_null(WebhookDeliveries::LastResponseStatus))
                    .col(string_len_null(WebhookDeliveries::LastError, 512))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_webhook_deliveries_due",
                vec![WebhookDeliveries::Status, WebhookDeliveries::NextAttemptAt],
            ),
            (
                "ix_webhook_deliveries_endpoint",
                vec![WebhookDeliveries::EndpointId, WebhookDeliveries::Id],
            ),
            (
                "ix_webhook_deliveries_order",
                vec![
                    WebhookDeliveries::EndpointId,
                    WebhookDeliveries::OrderId,
                    WebhookDeliveries::EventPosition,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WebhookDeliveries::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(big_pk_auto(WebhookAttempts::Id))
                    .col(big_integer(WebhookAttempts::DeliveryId))
                    .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
                    .col(integer_null(WebhookAttempts::ResponseStatus))
                    .col(integer(WebhookAttempts::LatencyMs))
                    .col(text_null(WebhookAttempts::ResponseBody))
                    .col(string_len_null(WebhookAttempts::Error, 512))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .col(WebhookAttempts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoints::Table)
                    .add_column(string_len_null(WebhookEndpoints::DisabledReason, 256))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoints::Table)
                    .drop_column(WebhookEndpoints::DisabledReason)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookAttempts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await
    }
}
