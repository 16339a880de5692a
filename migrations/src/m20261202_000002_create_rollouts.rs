use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A publish rolled out to part of the new orders: the candidate version goes to `percent`
/// of them, the others keep the stable version, until it is promoted or aborted. At most one
/// is active per document (the document's revision guards every change).
#[derive(DeriveIden)]
enum MetadataRollouts {
    Table,
    Id,
    DocumentId,
    StableVersion,
    CandidateVersion,
    Percent,
    /// `active`, `promoted` or `aborted`.
    State,
    StartedBy,
    StartedAt,
    EndedAt,
}

/// Which version of a rolled-out document each order started with, for the outcomes.
#[derive(DeriveIden)]
enum RolloutOrders {
    Table,
    RolloutId,
    OrderId,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MetadataRollouts::Table)
                    .col(big_pk_auto(MetadataRollouts::Id))
                    .col(big_integer(MetadataRollouts::DocumentId))
                    .col(integer(MetadataRollouts::StableVersion))
                    .col(integer(MetadataRollouts::CandidateVersion))
                    .col(integer(MetadataRollouts::Percent))
                    .col(string_len(MetadataRollouts::State, 16))
                    .col(string_len(MetadataRollouts::StartedBy, 40))
                    .col(timestamp_with_time_zone(MetadataRollouts::StartedAt))
                    .col(timestamp_with_time_zone_null(MetadataRollouts::EndedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_metadata_rollouts_document")
                    .table(MetadataRollouts::Table)
                    .col(MetadataRollouts::DocumentId)
                    .col(MetadataRollouts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_metadata_rollouts_state")
                    .table(MetadataRollouts::Table)
                    .col(MetadataRollouts::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RolloutOrders::Table)
                    .col(big_integer(RolloutOrders::RolloutId))
                    .col(string_len(RolloutOrders::OrderId, 64))
                    .col(integer(RolloutOrders::Version))
                    .primary_key(
                        Index::create()
                            .col(RolloutOrders::RolloutId)
                            .col(RolloutOrders::OrderId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RolloutOrders::Table.into_iden(),
            MetadataRollouts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
