//! Which merchants exist. Merchants are never deleted, so one found once is remembered and
//! later requests for it need no query (every checkout asks).

use std::collections::HashSet;
use std::sync::RwLock;

use domain::MerchantId;
use sea_orm::{ConnectionTrait, DbErr};

use crate::persistence::merchants;

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
