use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Where a merchant wants its events delivered.
#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    MerchantId,
    Url,
    /// JSON array of event type names.
    EventTypes,
    Enabled,
    Description,
    /// `whsec_…`: signs every delivery.
    Secret,
    /// The secret before the last rotation, which keeps signing alongside until
    /// `previous_secret_until`.
    PreviousSecret,
    PreviousSecretUntil,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(string_len(WebhookEndpoints::Id, 40).primary_key())
                    .col(string_len(WebhookEndpoints::MerchantId, 63))
                    .col(text(WebhookEndpoints::Url))
                    .col(text(WebhookEndpoints::EventTypes))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_len_null(WebhookEndpoints::Description, 256))
                    .col(string_len(WebhookEndpoints::Secret, 128))
                    .col(string_len_null(WebhookEndpoints::PreviousSecret, 128))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::PreviousSecretUntil,
                    ))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_merchant")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::MerchantId)
                    .col(WebhookEndpoints::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
