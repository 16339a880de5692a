//! Stored responses of requests made with an `Idempotency-Key`.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use super::entities::idempotency_key::{self, Entity as Keys};

pub async fn find(
    db: &impl ConnectionTrait,
    principal: &str,
    endpoint: &str,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    Keys::find_by_id((principal.to_owned(), endpoint.to_owned(), key.to_owned()))
        .one(db)
        .await
}
