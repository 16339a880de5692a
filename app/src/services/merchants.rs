//! Which merchants exist. Merchants are never deleted, so one found once is remembered and
//! later requests for it need no query (every checkout asks).

use std::collections::HashSet;
use std::sync::RwLock;

use domain::MerchantId;
use sea_orm::{ConnectionTrait, DbErr};

use crate::error::ApiResult;
use crate::persistence::changes::{ChangeSet, Guard, Write};
use crate::persistence::entities::{api_key, merchant};
use crate::persistence::merchants;
use crate::persistence::writer::{Applied, Writer};

#[derive(Default)]
pub struct KnownMerchants(RwLock<HashSet<String>>);

impl KnownMerchants {
    pub async fn exists(&self, db: &impl ConnectionTrait, id: &MerchantId) -> Result<bool, DbErr> {
        if self.0.read().is_ok_and(|known| known.contains(id.as_str())) {
            return Ok(true);
        }
        let found = merchants::find(db, id.as_str()).await?.is_some();
        if found && let Ok(mut known) = self.0.write() {
            known.insert(id.as_str().to_owned());
        }
        Ok(found)
    }
}

/// Creates a merchant; `None` when one with this id exists.
pub async fn create(writer: &Writer, id: &str, name: &str) -> ApiResult<Option<merchant::Model>> {
    let row = merchant::Model {
        id: id.to_owned(),
        name: name.to_owned(),
        created_at: crate::persistence::now(),
    };
    let changes = ChangeSet::guarded(Guard::InsertMerchant(row.clone()));
    Ok(match writer.apply(changes).await? {
        Applied::Committed => Some(row),
        Applied::Refused => None,
    })
}

/// Stores an API key (its hash; the secret is never stored).
pub async fn create_api_key(
    writer: &Writer,
    id: &str,
    key_hash: &str,
    scope: &str,
    merchant_id: Option<&str>,
) -> ApiResult<api_key::Model> {
    let row = api_key::Model {
        id: id.to_owned(),
        key_hash: key_hash.to_owned(),
        scope: scope.to_owned(),
        merchant_id: merchant_id.map(str::to_owned),
        created_at: crate::persistence::now(),
    };
    writer
        .commit(ChangeSet::unguarded(vec![Write::InsertApiKey(row.clone())]))
        .await?;
    Ok(row)
}
