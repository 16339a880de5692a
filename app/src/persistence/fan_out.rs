//! Where each committed event goes: a delivery row per webhook endpoint subscribed to its
//! type, and one for NATS when this deployment publishes there. The rows are inserted in
//! the transaction that inserts the events, so an event and its deliveries commit together.

use domain::lifecycle::DeliveryStatus;
use sea_orm::{DbBackend, Statement};

use super::leases::{NATS_ENDPOINT, Parameters};

/// The outside systems events go to besides the merchants' webhook endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sinks {
    /// Every merchant event is published to NATS JetStream too.
    pub nats: bool,
}

const COLUMNS: &str = "\"endpoint_id\", \"merchant_id\", \"event_id\", \"event_type\", \"event_position\", \
    \"order_id\", \"status\", \"attempt_count\", \"next_attempt_at\", \"created_at\", \"updated_at\"";

/// The deliveries of these events (inserted before, in the same transaction), on SQLite;
/// PostgreSQL inserts them with the events ([`with_deliveries`]).
pub fn statements(event_ids: &[String], backend: DbBackend, sinks: Sinks) -> Vec<Statement> {
    let mut statements = vec![to_webhooks(event_ids, backend)];
    if sinks.nats {
        statements.push(to_nats(event_ids, backend));
    }
    statements
}

/// The values of a delivery of event `e` to endpoint id `{endpoint}`, due now.
fn delivery_values(endpoint: &str) -> String {
    let pending = DeliveryStatus::Pending.as_str();
    format!(
        "{endpoint}, e.\"merchant_id\", e.\"id\", e.\"type\", e.\"position\", e.\"order_id\", '{pending}', 0, \
         e.\"created_at\", e.\"created_at\", e.\"created_at\""
    )
}

fn in_list(parameters: &mut Parameters, event_ids: &[String]) -> String {
    let ids: Vec<String> = event_ids
        .iter()
        .map(|id| parameters.bind(id.as_str()))
        .collect();
    ids.join(", ")
}

/// One delivery per enabled endpoint of the event's merchant subscribed to its type (the
/// endpoint's types are a JSON array of quoted names), for the events `e` of `from` that
/// `condition` keeps.
fn webhooks_sql(from: &str, condition: &str, enabled: &str) -> String {
    format!(
        "INSERT INTO \"webhook_deliveries\" ({COLUMNS}) SELECT {} \
         FROM {from} JOIN \"webhook_endpoints\" AS w ON w.\"merchant_id\" = e.\"merchant_id\" \
         WHERE {condition}w.\"enabled\" = {enabled} \
         AND w.\"event_types\" LIKE '%\"' || e.\"type\" || '\"%' \
         ORDER BY e.\"position\", w.\"id\"",
        delivery_values("w.\"id\"")
    )
}

/// One delivery to NATS per event `e` of `from` that has a merchant (its subject names the
/// merchant) and that `condition` keeps.
fn nats_sql(from: &str, condition: &str) -> String {
    format!(
        "INSERT INTO \"webhook_deliveries\" ({COLUMNS}) SELECT {} FROM {from} \
         WHERE {condition}e.\"merchant_id\" IS NOT NULL ORDER BY e.\"position\"",
        delivery_values(&format!("'{NATS_ENDPOINT}'"))
    )
}

fn to_webhooks(event_ids: &[String], backend: DbBackend) -> Statement {
    let mut parameters = Parameters::new(backend);
    let ids = in_list(&mut parameters, event_ids);
    let enabled = parameters.bind(true);
    let sql = webhooks_sql(
        "\"events\" AS e",
        &format!("e.\"id\" IN ({ids}) AND "),
        &enabled,
    );
    parameters.statement(sql)
}

fn to_nats(event_ids: &[String], backend: DbBackend) -> Statement {
    let mut parameters = Parameters::new(backend);
    let ids = in_list(&mut parameters, event_ids);
    let sql = nats_sql("\"events\" AS e", &format!("e.\"id\" IN ({ids}) AND "));
    parameters.statement(sql)
}

/// PostgreSQL: an insert of events made into one statement that also inserts their
/// deliveries, from the rows the insert returns (its parameters stay as they are).
pub fn with_deliveries(insert: Statement, sinks: Sinks) -> Statement {
    let returning =
        "RETURNING \"position\", \"id\", \"merchant_id\", \"order_id\", \"type\", \"created_at\"";
    let webhooks = webhooks_sql("e", "", "TRUE");
    let sql = if sinks.nats {
        format!(
            "WITH e AS ({} {returning}), webhooks AS ({webhooks}) {}",
            insert.sql,
            nats_sql("e", "")
        )
    } else {
        format!("WITH e AS ({} {returning}) {webhooks}", insert.sql)
    };
    Statement { sql, ..insert }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_gets_its_deliveries_only_when_configured() {
        let ids = ["evt_1".to_owned(), "evt_2".to_owned()];
        let without = statements(&ids, DbBackend::Sqlite, Sinks::default());
        assert_eq!(without.len(), 1);
        assert!(without[0].sql.contains("IN (?, ?)"), "{}", without[0].sql);
        assert_eq!(without[0].values.as_ref().map(|v| v.0.len()), Some(3));
        let with = statements(&ids, DbBackend::Postgres, Sinks { nats: true });
        assert_eq!(with.len(), 2);
        assert!(
            with[1].sql.contains("SELECT 'nats', e.\"merchant_id\""),
            "{}",
            with[1].sql
        );
        assert!(with[1].sql.contains("IN ($1, $2)"), "{}", with[1].sql);
    }

    #[test]
    fn postgres_inserts_deliveries_from_the_rows_the_insert_returns() {
        let insert = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO \"events\" (\"id\") VALUES ($1)",
            ["evt_1".into()],
        );
        let without = with_deliveries(insert.clone(), Sinks::default());
        assert!(
            without.sql.starts_with("WITH e AS (INSERT INTO \"events\""),
            "{}",
            without.sql
        );
        assert!(
            without.sql.contains("RETURNING \"position\""),
            "{}",
            without.sql
        );
        assert!(
            without.sql.contains("FROM e JOIN \"webhook_endpoints\""),
            "{}",
            without.sql
        );
        assert!(!without.sql.contains("'nats'"), "{}", without.sql);
        assert_eq!(without.values, insert.values);
        let with = with_deliveries(insert, Sinks { nats: true });
        assert!(
            with.sql
                .contains("webhooks AS (INSERT INTO \"webhook_deliveries\""),
            "{}",
            with.sql
        );
        assert!(
            with.sql.contains("SELECT 'nats', e.\"merchant_id\""),
            "{}",
            with.sql
        );
    }
}
