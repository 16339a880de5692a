use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::entities::api_key::{self, Entity as ApiKeys};

pub async fn insert(
    db: &impl ConnectionTrait,
    id: &str,
    key_hash: &str,
    scope: &str,
    merchant_id: Option<&str>,
) -> Result<api_key::Model, DbErr> {
    let model = api_key::Model {
        id: id.to_owned(),
        key_hash: key_hash.to_owned(),
        scope: scope.to_owned(),
        merchant_id: merchant_id.map(str::to_owned),
        created_at: super::now(),
    };
    ApiKeys::insert(api_key::ActiveModel {
        id: Set(model.id.clone()),
        key_hash: Set(model.key_hash.clone()),
        scope: Set(model.scope.clone()),
        merchant_id: Set(model.merchant_id.clone()),
        created_at: Set(model.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(model)
}

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
