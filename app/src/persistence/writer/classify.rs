//! What a database error, as sea-orm reports it (PostgreSQL, or a read on either database),
//! means for the request: the database is away or full, another writer won, a constraint
//! held, or a failure of ours.

use sea_orm::DbErr;

use super::WriteError;

impl From<DbErr> for WriteError {
    fn from(error: DbErr) -> Self {
        let message = error.to_string();
        match &error {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => WriteError::Unavailable(message),
            _ => match error.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                | Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                    WriteError::Constraint(message)
                }
                _ if sqlstate(&error).as_deref() == Some("53100") => {
                    WriteError::StorageFull(message)
                }
                // 40P01 (deadlock detected), 40001 (serialization failure): another instance
                // wrote the same rows in another order.
                _ if sqlstate(&error).is_some_and(|code| code.starts_with("40")) => {
                    WriteError::Contended(message)
                }
                // Class 08 (connection), 53 (insufficient resources), 57 (operator
                // intervention, statement timeout), 55P03 (lock timeout): the database, not the
                // change, is the problem.
                _ if ["08", "53", "57", "55P03"]
                    .iter()
                    .any(|class| sqlstate(&error).is_some_and(|code| code.starts_with(class))) =>
                {
                    WriteError::Unavailable(message)
                }
                _ if is_io(&error) => WriteError::Unavailable(message),
                _ => WriteError::Failed(message),
            },
        }
    }
}

fn sqlstate(error: &DbErr) -> Option<String> {
    match error {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

fn is_io(error: &DbErr) -> bool {
    matches!(
        error,
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
            if matches!(**e, sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::PoolTimedOut | sea_orm::sqlx::Error::PoolClosed)
    )
}
