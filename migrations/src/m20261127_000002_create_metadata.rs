use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MetadataDocuments {
    Table,
    Id,
    Scope,
    Kind,
    Name,
    Draft,
    DraftUpdatedAt,
    PublishedVersion,
    Revision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MetadataVersions {
    Table,
    DocumentId,
    Version,
    Body,
    PublishedAt,
    PublishedBy,
    RolledBackFrom,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Scope,
    Kind,
    Name,
    Action,
    Actor,
    FromVersion,
    ToVersion,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MetadataDocuments::Table)
                    .col(big_pk_auto(MetadataDocuments::Id))
                    // `platform` or `merchant:<id>`.
                    .col(string_len(MetadataDocuments::Scope, 80))
                    .col(string_len(MetadataDocuments::Kind, 40))
                    .col(string_len(MetadataDocuments::Name, 64))
                    // JSON text; the same column type on every backend.
                    .col(text_null(MetadataDocuments::Draft))
                    .col(timestamp_with_time_zone_null(
                        MetadataDocuments::DraftUpdatedAt,
                    ))
                    .col(integer_null(MetadataDocuments::PublishedVersion))
                    // Bumped by every change: the ETag, and the optimistic lock.
                    .col(big_integer(MetadataDocuments::Revision))
                    .col(timestamp_with_time_zone(MetadataDocuments::CreatedAt))
                    .col(timestamp_with_time_zone(MetadataDocuments::UpdatedAt))
                    .index(
                        Index::create()
                            .name("ux_metadata_documents_address")
                            .col(MetadataDocuments::Scope)
                            .col(MetadataDocuments::Kind)
                            .col(MetadataDocuments::Name)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetadataVersions::Table)
                    .col(big_integer(MetadataVersions::DocumentId))
                    .col(integer(MetadataVersions::Version))
                    .col(text(MetadataVersions::Body))
                    .col(timestamp_with_time_zone(MetadataVersions::PublishedAt))
                    .col(string_len(MetadataVersions::PublishedBy, 40))
                    .col(integer_null(MetadataVersions::RolledBackFrom))
                    .primary_key(
                        Index::create()
                            .col(MetadataVersions::DocumentId)
                            .col(MetadataVersions::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MetadataVersions::Table, MetadataVersions::DocumentId)
                            .to(MetadataDocuments::Table, MetadataDocuments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(string_len(AuditLog::Scope, 80))
                    .col(string_len(AuditLog::Kind, 40))
                    .col(string_len(AuditLog::Name, 64))
                    .col(string_len(AuditLog::Action, 32))
                    .col(string_len(AuditLog::Actor, 40))
                    .col(integer_null(AuditLog::FromVersion))
                    .col(integer_null(AuditLog::ToVersion))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_scope_id")
                    .table(AuditLog::Table)
                    .col(AuditLog::Scope)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            MetadataVersions::Table.into_iden(),
            MetadataDocuments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
