use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An execution's history, one row per advance instead of one per entry: a checkout
/// records fifteen entries in two advances, and as rows they were most of what a checkout
/// inserted. `entries` is the JSON array of the advance's entries (`seq`, `kind`, `step`,
/// `detail`, `at`), from `first_seq` to `last_seq`.
#[derive(DeriveIden)]
enum ExecutionHistory {
    Table,
    ExecutionId,
    FirstSeq,
    LastSeq,
    Entries,
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

/// The entries recorded before, one row each.
const COPY_POSTGRES: &str = "INSERT INTO execution_history (execution_id, first_seq, last_seq, entries) \
    SELECT execution_id, seq, seq, CAST(json_build_array(json_build_object('seq', seq, 'kind', kind, \
    'step', step, 'detail', CAST(detail AS json), 'at', at)) AS text) FROM execution_events";
const COPY_SQLITE: &str = "INSERT INTO execution_history (execution_id, first_seq, last_seq, entries) \
    SELECT execution_id, seq, seq, json_array(json_object('seq', seq, 'kind', kind, \
    'step', step, 'detail', json(detail), 'at', at)) FROM execution_events";

/// Back to one row per entry.
const SPLIT_POSTGRES: &str = "INSERT INTO execution_events (execution_id, seq, kind, step, detail, at) \
    SELECT h.execution_id, CAST(e->>'seq' AS integer), e->>'kind', e->>'step', CAST(e->'detail' AS text), \
    CAST(e->>'at' AS timestamptz) FROM execution_history AS h, json_array_elements(CAST(h.entries AS json)) AS e";
const SPLIT_SQLITE: &str = "INSERT INTO execution_events (execution_id, seq, kind, step, detail, at) \
    SELECT h.execution_id, e.value ->> '$.seq', e.value ->> '$.kind', e.value ->> '$.step', \
    e.value -> '$.detail', e.value ->> '$.at' FROM execution_history AS h, json_each(h.entries) AS e";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// It moves data: on SQLite too (which sea-orm-migration otherwise runs without one),
    /// a move that fails or is cut short must leave the database as it was, not a new table
    /// half-filled that the next start cannot create again.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExecutionHistory::Table)
                    .col(string_len(ExecutionHistory::ExecutionId, 64))
                    .col(integer(ExecutionHistory::FirstSeq))
                    .col(integer(ExecutionHistory::LastSeq))
                    .col(text(ExecutionHistory::Entries))
                    .primary_key(
                        Index::create()
                            .col(ExecutionHistory::ExecutionId)
                            .col(ExecutionHistory::FirstSeq),
                    )
                    .to_owned(),
            )
            .await?;
        let copy = match manager.get_database_backend() {
            DbBackend::Postgres => COPY_POSTGRES,
            _ => COPY_SQLITE,
        };
        manager.get_connection().execute_unprepared(copy).await?;
        manager
            .drop_table(Table::drop().table(ExecutionEvents::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
        let split = match manager.get_database_backend() {
            DbBackend::Postgres => SPLIT_POSTGRES,
            _ => SPLIT_SQLITE,
        };
        manager.get_connection().execute_unprepared(split).await?;
        manager
            .drop_table(Table::drop().table(ExecutionHistory::Table).to_owned())
            .await
    }
}
