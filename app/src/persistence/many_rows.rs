//! Updates of many rows in one statement: `WITH v AS (VALUES …) UPDATE … FROM v`, which
//! PostgreSQL and SQLite (3.33 and later) both run. On PostgreSQL every statement of a batch
//! is a round trip; with these, updating one table for n change sets costs one.

use std::fmt::Write as _;

use sea_orm::{DbBackend, Statement, Value};

/// A column of the VALUES list: the table's column it is matched against or sets, and the
/// PostgreSQL type its parameters are cast to (a bare parameter in a VALUES list is text).
pub struct Column {
    pub name: &'static str,
    pub postgres_type: &'static str,
}

pub const fn column(name: &'static str, postgres_type: &'static str) -> Column {
    Column {
        name,
        postgres_type,
    }
}

/// `UPDATE table SET set… WHERE keys… [RETURNING returning]`, for many rows.
pub struct UpdateMany {
    pub table: &'static str,
    /// A row is updated when each of these equals its value.
    pub keys: &'static [Column],
    pub set: &'static [Column],
    /// A column of the updated rows to return.
    pub returning: Option<&'static str>,
}

impl UpdateMany {
    /// The statement for `rows`, each holding the values of `keys` then of `set`.
    pub fn statement(&self, backend: DbBackend, rows: Vec<Vec<Value>>) -> Statement {
        let columns: Vec<&Column> = self.keys.iter().chain(self.set).collect();
        let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
        let mut sql = format!("WITH v ({}) AS (VALUES ", names.join(", "));
        let mut parameter = 0;
        for (r, row) in rows.iter().enumerate() {
            debug_assert_eq!(row.len(), columns.len(), "a row has a value per column");
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                parameter += 1;
                match backend {
                    DbBackend::Postgres => {
                        let _ = write!(sql, "CAST(${parameter} AS {})", column.postgres_type);
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
        }
        let _ = write!(sql, ") UPDATE \"{}\" AS t SET ", self.table);
        let assignments: Vec<String> = self
            .set
            .iter()
            .enumerate()
            .map(|(i, column)| format!("\"{}\" = v.c{}", column.name, self.keys.len() + i))
            .collect();
        sql.push_str(&assignments.join(", "));
        sql.push_str(" FROM v WHERE ");
        let matches: Vec<String> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, column)| format!("t.\"{}\" = v.c{i}", column.name))
            .collect();
        sql.push_str(&matches.join(" AND "));
        if let Some(returning) = self.returning {
            let _ = write!(sql, " RETURNING \"{returning}\"");
        }
        Statement::from_sql_and_values(backend, sql, rows.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASKS: UpdateMany = UpdateMany {
        table: "tasks",
        keys: &[column("token", "text"), column("state", "text")],
        set: &[
            column("state", "text"),
            column("finished_at", "timestamptz"),
        ],
        returning: Some("token"),
    };

    fn rows() -> Vec<Vec<Value>> {
        (0..2)
            .map(|i| {
                vec![
                    Value::from(format!("token-{i}")),
                    Value::from("waiting"),
                    Value::from("succeeded"),
                    Value::String(None),
                ]
            })
            .collect()
    }

    #[test]
    fn postgres_casts_every_parameter_to_its_column_type() {
        let statement = TASKS.statement(DbBackend::Postgres, rows());
        assert_eq!(
            statement.sql,
            "WITH v (c0, c1, c2, c3) AS (VALUES (CAST($1 AS text), CAST($2 AS text), \
             CAST($3 AS text), CAST($4 AS timestamptz)), (CAST($5 AS text), CAST($6 AS text), \
             CAST($7 AS text), CAST($8 AS timestamptz))) UPDATE \"tasks\" AS t SET \
             \"state\" = v.c2, \"finished_at\" = v.c3 FROM v WHERE t.\"token\" = v.c0 AND \
             t.\"state\" = v.c1 RETURNING \"token\""
        );
        assert_eq!(statement.values.map(|v| v.0.len()), Some(8));
    }

    #[test]
    fn sqlite_binds_plain_parameters() {
        let statement = TASKS.statement(DbBackend::Sqlite, rows());
        assert!(
            statement.sql.starts_with(
                "WITH v (c0, c1, c2, c3) AS (VALUES (?, ?, ?, ?), (?, ?, ?, ?)) UPDATE"
            ),
            "{}",
            statement.sql
        );
    }
}
