use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The outbox: events written in the commit of the change they describe.
#[derive(DeriveIden)]
enum Events {
    Table,
    /// The order events were committed in (a feed's cursor).
    Position,
    /// The stable id consumers de-duplicate by (`evt_…`).
    Id,
    MerchantId,
    OrderId,
    /// The position in the order's history of the step the event tells of.
    Sequence,
    Type,
    /// JSON.
    Data,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(big_pk_auto(Events::Position))
                    .col(string_len_uniq(Events::Id, 64))
                    .col(string_len_null(Events::MerchantId, 63))
                    .col(string_len_null(Events::OrderId, 64))
                    .col(integer_null(Events::Sequence))
                    .col(string_len(Events::Type, 64))
                    .col(text(Events::Data))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_merchant_position")
                    .table(Events::Table)
                    .col(Events::MerchantId)
                    .col(Events::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_order_sequence")
                    .table(Events::Table)
                    .col(Events::OrderId)
                    .col(Events::Sequence)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await
    }
}
