use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "executions")]
pub struct Model {
    /// The order's id: one execution per order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub status: String,
    pub current_step: Option<String>,
    /// JSON of the interpreter's state.
    pub state: String,
    /// JSON of the metadata versions the order resolved at start.
    pub pinned: String,
    pub event_count: i32,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The order the execution runs (they share an id).
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::Id",
        to = "super::order::Column::Id"
    )]
    Order,
}

impl Related<super::order::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Order.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
