//! Creating merchants and their API keys.

use crate::error::ServiceResult;
use crate::persistence::changes::{ChangeSet, Guard, Write};
use crate::persistence::entities::{api_key, merchant};
use crate::persistence::writer::{Applied, Writer};

/// Creates a merchant; `None` when one with this id exists.
pub async fn create(
    writer: &Writer,
    id: &str,
    name: &str,
) -> ServiceResult<Option<merchant::Model>> {
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
) -> ServiceResult<api_key::Model> {
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
