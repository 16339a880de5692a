use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rollout_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub rollout_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: String,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
