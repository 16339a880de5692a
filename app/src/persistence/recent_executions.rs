//! The executions this instance wrote last, as it wrote them. The next request on one of
//! them (a payment seconds after its order was created) stages from this copy instead of
//! reading the database, as Temporal's history service keeps a workflow's mutable state.
//!
//! A copy may be stale: another instance sharing the database may have advanced the
//! execution since. Only the writer's compare-and-set on the version proves a copy current,
//! so whoever stages from one stages again from the database when the compare-and-set
//! refuses, or when the copy led to an answer that changes nothing (no compare-and-set
//! would check it). Copies are only ever replaced by newer versions, so a slow writer of an
//! older version cannot undo a newer one.

use std::sync::{Arc, Mutex};

use hashlink::LruCache;

use super::entities::{execution, order};

/// An execution row and its order's, as committed.
type Rows = Arc<(execution::Model, order::Model)>;

pub struct RecentExecutions(Mutex<LruCache<String, Rows>>);

impl RecentExecutions {
    /// Keeps at most `capacity` executions, dropping the least recently used; 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        Self(Mutex::new(LruCache::new(capacity)))
    }

    /// The copy of execution `id` and its order, when this instance has one.
    pub fn get(&self, id: &str) -> Option<(execution::Model, order::Model)> {
        let rows = self.0.lock().ok()?.get(id).cloned()?;
        Some(rows.as_ref().clone())
    }

    /// Keeps the rows an advance just committed, unless a newer version is kept already.
    pub fn remember(&self, execution: execution::Model, order: order::Model) {
        let Ok(mut recent) = self.0.lock() else {
            return;
        };
        let newer = recent
            .peek(execution.id.as_str())
            .is_none_or(|kept| kept.0.version < execution.version);
        if newer {
            recent.insert(execution.id.clone(), Arc::new((execution, order)));
        }
    }

    /// Drops the copy of execution `id`: it is stale, or no request is expected on it.
    pub fn forget(&self, id: &str) {
        if let Ok(mut recent) = self.0.lock() {
            recent.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn rows(id: &str, version: i64) -> (execution::Model, order::Model) {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap();
        let execution = execution::Model {
            id: id.into(),
            status: "running".into(),
            current_step: Some("payment".into()),
            state: "{}".into(),
            pinned: "{}".into(),
            event_count: 3,
            version,
            created_at: at,
            updated_at: at,
        };
        (execution, order::Model::awaiting_payment(id, at))
    }

    fn kept_version(recent: &RecentExecutions, id: &str) -> Option<i64> {
        recent.get(id).map(|(execution, _)| execution.version)
    }

    #[test]
    fn a_newer_version_replaces_the_copy_and_an_older_one_does_not() {
        let recent = RecentExecutions::new(8);
        let (execution, order) = rows("a", 2);
        recent.remember(execution, order);
        let (execution, order) = rows("a", 1);
        recent.remember(execution, order);
        assert_eq!(kept_version(&recent, "a"), Some(2));
        let (execution, order) = rows("a", 3);
        recent.remember(execution, order);
        assert_eq!(kept_version(&recent, "a"), Some(3));
    }

    #[test]
    fn the_least_recently_used_copy_goes_first() {
        let recent = RecentExecutions::new(2);
        for id in ["a", "b"] {
            let (execution, order) = rows(id, 1);
            recent.remember(execution, order);
        }
        assert!(recent.get("a").is_some());
        let (execution, order) = rows("c", 1);
        recent.remember(execution, order);
        assert_eq!(kept_version(&recent, "b"), None);
        assert_eq!(kept_version(&recent, "a"), Some(1));
        assert_eq!(kept_version(&recent, "c"), Some(1));
    }

    #[test]
    fn a_forgotten_copy_and_a_capacity_of_zero_serve_nothing() {
        let recent = RecentExecutions::new(4);
        let (execution, order) = rows("a", 1);
        recent.remember(execution, order);
        recent.forget("a");
        assert_eq!(kept_version(&recent, "a"), None);
        let none = RecentExecutions::new(0);
        let (execution, order) = rows("a", 1);
        none.remember(execution, order);
        assert_eq!(kept_version(&none, "a"), None);
    }
}
