use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    MerchantId,
    OrderNum,
    RequestFingerprint,
    Status,
    CancelReason,
    Currency,
    AmountMinor,
    FinalAmountMinor,
    PaymentMethod,
    Discount,
    Items,
    Address,
    Fields,
    PaymentDeadline,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Id,
    Status,
    CurrentStep,
    State,
    Pinned,
    EventCount,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ExecutionEvents {
    Table,
    ExecutionId,
    Seq,
    Kind,
    Step,
    Detail,
    At,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Token,
    ExecutionId,
    Step,
    Action,
    State,
    CreatedAt,
    HeartbeatAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Timers {
    Table,
    Id,
    ExecutionId,
    Purpose,
    Step,
    Token,
    DueAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Principal,
    Endpoint,
    Key,
    Fingerprint,
    Status,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(string_len(Orders::Id, 64).primary_key())
                    .col(string_len(Orders::MerchantId, 63))
                    .col(string_len_null(Orders::OrderNum, 128))
                    // SHA-256 of the creating request, to tell a retry from a conflict.
                    .col(string_len(Orders::RequestFingerprint, 64))
                    .col(string_len(Orders::Status, 32))
                    .col(string_len_null(Orders::CancelReason, 32))
                    .col(string_len(Orders::Currency, 3))
                    .col(big_integer(Orders::AmountMinor))
                    .col(big_integer_null(Orders::FinalAmountMinor))
                    .col(string_len_null(Orders::PaymentMethod, 64))
                    .col(text_null(Orders::Discount))
                    .col(text(Orders::Items))
                    .col(text(Orders::Address))
                    .col(text(Orders::Fields))
                    .col(timestamp_with_time_zone_null(Orders::PaymentDeadline))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::MerchantId)
                            .to(Alias::new("merchants"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_orders_merchant_order_num")
                    .table(Orders::Table)
                    .col(Orders::MerchantId)
                    .col(Orders::OrderNum)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_orders_merchant_created")
                    .table(Orders::Table)
                    .col(Orders::MerchantId)
                    .col(Orders::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Executions::Table)
                    // One execution per order, under the order's id.
                    .col(string_len(Executions::Id, 64).primary_key())
                    .col(string_len(Executions::Status, 32))
                    .col(string_len_null(Executions::CurrentStep, 64))
                    // The interpreter's state, JSON.
                    .col(text(Executions::State))
                    // The metadata versions the order resolved at start, JSON.
                    .col(text(Executions::Pinned))
                    .col(integer(Executions::EventCount))
                    // Optimistic lock: every advance bumps it.
                    .col(big_integer(Executions::Version))
                    .col(timestamp_with_time_zone(Executions::CreatedAt))
                    .col(timestamp_with_time_zone(Executions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExecutionEvents::Table)
                    .col(string_len(ExecutionEvents::ExecutionId, 64))
                    .col(integer(ExecutionEvents::Seq))
                    .col(string_len(ExecutionEvents::Kind, 40))
                    .col(string_len_null(ExecutionEvents::Step, 64))
                    .col(text(ExecutionEvents::Detail))
                    .col(timestamp_with_time_zone(ExecutionEvents::At))
                    .primary_key(
                        Index::create()
                            .col(ExecutionEvents::ExecutionId)
                            .col(ExecutionEvents::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(string_len(Tasks::Token, 64).primary_key())
                    .col(string_len(Tasks::ExecutionId, 64))
                    .col(string_len(Tasks::Step, 64))
                    .col(string_len(Tasks::Action, 40))
                    // waiting, succeeded, failed, timed_out: changed by compare-and-set only.
                    .col(string_len(Tasks::State, 16))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone_null(Tasks::HeartbeatAt))
                    .col(timestamp_with_time_zone_null(Tasks::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tasks_execution")
                    .table(Tasks::Table)
                    .col(Tasks::ExecutionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Timers::Table)
                    .col(big_pk_auto(Timers::Id))
                    .col(string_len(Timers::ExecutionId, 64))
                    // step_timeout, flow_timeout, wait, retry.
                    .col(string_len(Timers::Purpose, 16))
                    .col(string_len_null(Timers::Step, 64))
                    .col(string_len_null(Timers::Token, 64))
                    .col(timestamp_with_time_zone(Timers::DueAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_timers_due_at")
                    .table(Timers::Table)
                    .col(Timers::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_timers_execution")
                    .table(Timers::Table)
                    .col(Timers::ExecutionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string_len(IdempotencyKeys::Principal, 40))
                    .col(string_len(IdempotencyKeys::Endpoint, 200))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::Fingerprint, 64))
                    // in_flight or done.
                    .col(string_len(IdempotencyKeys::Status, 16))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Principal)
                            .col(IdempotencyKeys::Endpoint)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            Timers::Table.into_iden(),
            Tasks::Table.into_iden(),
            ExecutionEvents::Table.into_iden(),
            Executions::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
