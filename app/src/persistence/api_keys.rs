use std::collections::HashMap;
use std::sync::RwLock;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::entities::api_key::{self, Entity as ApiKeys};

/// API keys found before, by hash. A key never changes and is never deleted, so one found
/// once needs no query again (every request asks); an unknown hash is not remembered, so
/// guessing cannot grow this. Revoking keys, when it comes, must remove them here.
#[derive(Default)]
pub struct KnownKeys(RwLock<HashMap<String, api_key::Model>>);

impl KnownKeys {
    pub async fn find(
        &self,
        db: &impl ConnectionTrait,
        key_hash: &str,
    ) -> Result<Option<api_key::Model>, DbErr> {
        if let Some(key) = self.0.read().ok().and_then(|k| k.get(key_hash).cloned()) {
            return Ok(Some(key));
        }
        let found = find_by_hash(db, key_hash).await?;
        if let Some(key) = &found
            && let Ok(mut known) = self.0.write()
        {
            known.insert(key_hash.to_owned(), key.clone());
        }
        Ok(found)
    }
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
