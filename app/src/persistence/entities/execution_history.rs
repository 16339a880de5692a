use chrono::SecondsFormat;
use sea_orm::entity::prelude::*;
use serde::Deserialize;

/// One advance's history entries: a checkout records fifteen in two advances, so one row
/// each rather than one per entry keeps the rows a checkout inserts down.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "execution_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub execution_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub first_seq: i32,
    pub last_seq: i32,
    /// JSON array of [`Entry`], by `seq`.
    pub entries: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// An entry of an execution's history.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Entry {
    pub seq: i32,
    pub kind: String,
    pub step: Option<String>,
    pub detail: serde_json::Value,
    pub at: DateTimeUtc,
}

impl Model {
    /// The row of one advance's `entries`, in `seq` order (at least one).
    pub fn of(execution_id: String, entries: &[Entry]) -> Self {
        let json: Vec<serde_json::Value> = entries
            .iter()
            .map(|entry| {
                serde_json::json!({
                    "seq": entry.seq,
                    "kind": entry.kind,
                    "step": entry.step,
                    "detail": entry.detail,
                    "at": entry.at.to_rfc3339_opts(SecondsFormat::Micros, true),
                })
            })
            .collect();
        Self {
            execution_id,
            first_seq: entries.first().map_or(0, |entry| entry.seq),
            last_seq: entries.last().map_or(0, |entry| entry.seq),
            entries: serde_json::Value::Array(json).to_string(),
        }
    }

    pub fn entries(&self) -> Result<Vec<Entry>, DbErr> {
        serde_json::from_str(&self.entries)
            .map_err(|e| DbErr::Json(format!("stored history is corrupt: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_written() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 123_456_000).expect("valid");
        let entries: Vec<Entry> = (3..=5)
            .map(|seq| Entry {
                seq,
                kind: "StepEntered".into(),
                step: (seq != 4).then(|| format!("step-{seq}")),
                detail: serde_json::json!({"n": seq, "text": "a \"quoted\" word"}),
                at,
            })
            .collect();
        let row = Model::of("exe_1".into(), &entries);
        assert_eq!((row.first_seq, row.last_seq), (3, 5));
        assert_eq!(row.entries().expect("valid JSON"), entries);
    }

    #[test]
    fn entries_copied_from_the_table_before_read_too() {
        // As the migration's copy writes `at`: PostgreSQL's JSON form, SQLite's stored text.
        for at in [
            "2027-01-15T08:00:00.123456+00:00",
            "2027-01-15 08:00:00.123456+00:00",
        ] {
            let row = Model {
                execution_id: "exe_1".into(),
                first_seq: 1,
                last_seq: 1,
                entries: format!(
                    r#"[{{"seq":1,"kind":"ExecutionStarted","step":null,"detail":{{}},"at":"{at}"}}]"#
                ),
            };
            let entries = row.entries().expect("readable");
            assert_eq!(entries[0].at.timestamp_subsec_micros(), 123_456, "{at}");
        }
    }
}
