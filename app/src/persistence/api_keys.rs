use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::entities::api_key::{self, Entity as ApiKeys};

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    ApiKeys::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .one(db)
        .await
}

pub async fn any_with_scope(db: &impl ConnectionTrait, scope: &str) -> Result<bool, DbErr> {
    Ok(ApiKeys::find()
        .filter(api_key::Column::Scope.eq(scope))
        .limit(1)
        .one(db)
        .await?
        .is_some())
}
