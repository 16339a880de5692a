use std::collections::HashSet;
use std::sync::RwLock;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::merchant::{self, Entity as Merchants};
use super::{Page, PageRequest};

/// Which merchants exist. Merchants are never deleted, so one found once is remembered and
/// later requests for it need no query (every checkout asks).
#[derive(Default)]
pub struct KnownMerchants(RwLock<HashSet<String>>);

impl KnownMerchants {
    pub async fn exists(&self, db: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
        if self.0.read().is_ok_and(|known| known.contains(id)) {
            return Ok(true);
        }
        let found = find(db, id).await?.is_some();
        if found && let Ok(mut known) = self.0.write() {
            known.insert(id.to_owned());
        }
        Ok(found)
    }
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<merchant::Model>, DbErr> {
    Merchants::find_by_id(id.to_owned()).one(db).await
}

/// Merchants in id order; `only` restricts the listing to one merchant (a merchant admin's).
pub async fn list(
    db: &impl ConnectionTrait,
    only: Option<&str>,
    page: &PageRequest<String>,
) -> Result<Page<merchant::Model, String>, DbErr> {
    let mut query = Merchants::find().order_by_asc(merchant::Column::Id);
    if let Some(id) = only {
        query = query.filter(merchant::Column::Id.eq(id));
    }
    if let Some(after) = &page.after {
        query = query.filter(merchant::Column::Id.gt(after.as_str()));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |m| m.id.clone()))
}

pub async fn any_exist(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(Merchants::find().limit(1).one(db).await?.is_some())
}
