//! The newest published version of every document of some scopes, at one moment, and the
//! bodies of published versions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use domain::Kind;
use domain::rollout::{Rollout, RolloutPercent};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Published;
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::{self, metadata as metadata_rows, rollouts};

/// How long a snapshot is reused. A publish through this instance drops every snapshot at
/// once; one through another instance sharing the database is seen here within this.
const SNAPSHOT_TTL: Duration = Duration::from_secs(1);

/// A document's address in a snapshot: (scope key, kind, name).
type Address = (String, String, String);

pub struct Snapshot {
    /// The document id and the version every order gets, or, while a rollout is active,
    /// the orders it does not assign the candidate to.
    versions: HashMap<Address, (i64, i32)>,
    /// The active rollouts, by document.
    rollouts: HashMap<Address, ActiveRollout>,
}

#[derive(Debug, Clone, Copy)]
struct ActiveRollout {
    id: i64,
    rollout: Rollout,
}

/// The version of a rolled-out document an order was assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    pub rollout_id: i64,
    pub version: i32,
}

impl Published {
    /// The newest published version of every document in `scopes`: one query, reused for
    /// [`SNAPSHOT_TTL`] (every order creation asks).
    pub async fn snapshot(&self, scopes: &[String]) -> ServiceResult<Arc<Snapshot>> {
        let cached = self.snapshots.lock().ok().and_then(|snapshots| {
            snapshots
                .get(scopes)
                .filter(|(read_at, _)| read_at.elapsed() < SNAPSHOT_TTL)
                .map(|(_, snapshot)| snapshot.clone())
        });
        if let Some(snapshot) = cached {
            return Ok(snapshot);
        }
        let generation = self.publishes.load(Ordering::Acquire);
        let read_at = Instant::now();
        let rows = metadata_rows::published_in_scopes(&self.db, scopes).await?;
        let active = rollouts::active(&self.db, rows.iter().map(|row| row.3)).await?;
        let mut snapshot = Snapshot {
            versions: HashMap::with_capacity(rows.len()),
            rollouts: HashMap::new(),
        };
        for (scope, kind, name, id, version) in rows {
            let address = (scope, kind, name);
            match active.get(&id) {
                Some(row) => {
                    let rollout = Rollout {
                        stable: row.stable_version,
                        candidate: row.candidate_version,
                        percent: RolloutPercent::new(i64::from(row.percent)).map_err(|e| {
                            ServiceError::internal(format!("rollout {}: {e}", row.id))
                        })?,
                    };
                    snapshot
                        .versions
                        .insert(address.clone(), (id, rollout.stable));
                    snapshot.rollouts.insert(
                        address,
                        ActiveRollout {
                            id: row.id,
                            rollout,
                        },
                    );
                }
                None => {
                    snapshot.versions.insert(address, (id, version));
                }
            }
        }
        let snapshot = Arc::new(snapshot);
        // A publish that committed while this was read may be missing from it: not kept.
        if let Ok(mut snapshots) = self.snapshots.lock()
            && self.publishes.load(Ordering::Acquire) == generation
        {
            snapshots.insert(scopes.to_vec(), (read_at, snapshot.clone()));
        }
        Ok(snapshot)
    }

    /// A publish (or rollback) committed: snapshots read before it are stale.
    pub fn published(&self) {
        if let Ok(mut snapshots) = self.snapshots.lock() {
            self.publishes.fetch_add(1, Ordering::AcqRel);
            snapshots.clear();
        }
    }

    /// The body of a published version (of document `id`), cached for good.
    pub(super) async fn version_body(&self, id: i64, version: i32) -> ServiceResult<Arc<Value>> {
        let cached = self
            .bodies
            .lock()
            .ok()
            .and_then(|b| b.get(&(id, version)).cloned());
        if let Some(body) = cached {
            return Ok(body);
        }
        let row = metadata_rows::find_version(&self.db, id, version)
            .await?
            .ok_or_else(|| {
                ServiceError::internal(format!(
                    "published version {version} of document {id} is gone"
                ))
            })?;
        let body = Arc::new(persistence::stored_json(&row.body)?);
        if let Ok(mut bodies) = self.bodies.lock() {
            bodies.insert((id, version), body.clone());
        }
        Ok(body)
    }
}

impl Snapshot {
    /// The versions an order gets: each rolled-out document's version chosen by `subject`
    /// (what must see one price: a customer reference, else the order id), with the
    /// assignments to record. Without active rollouts, this snapshot itself.
    pub fn for_subject(self: &Arc<Self>, subject: &str) -> (Arc<Snapshot>, Vec<Assignment>) {
        if self.rollouts.is_empty() {
            return (self.clone(), vec![]);
        }
        let mut versions = self.versions.clone();
        let mut assignments = Vec::with_capacity(self.rollouts.len());
        for (address, active) in &self.rollouts {
            let (scope, kind, name) = address;
            let version = active
                .rollout
                .version_for(&format!("{scope}/{kind}/{name}"), subject);
            if let Some(entry) = versions.get_mut(address) {
                entry.1 = version;
            }
            assignments.push(Assignment {
                rollout_id: active.id,
                version,
            });
        }
        let resolved = Snapshot {
            versions,
            rollouts: HashMap::new(),
        };
        (Arc::new(resolved), assignments)
    }

    pub fn version(&self, scope: &str, kind: Kind, name: &str) -> Option<i32> {
        self.entry(scope, kind, name).map(|(_, version)| version)
    }

    fn entry(&self, scope: &str, kind: Kind, name: &str) -> Option<(i64, i32)> {
        self.versions
            .get(&(scope.to_owned(), kind.as_str().to_owned(), name.to_owned()))
            .copied()
    }

    /// The newest version of each published document of a kind in a scope, by name.
    pub fn versions_of(&self, scope: &str, kind: Kind) -> BTreeMap<String, i32> {
        self.versions
            .iter()
            .filter(|((s, k, _), _)| s == scope && k == kind.as_str())
            .map(|((_, _, name), (_, version))| (name.clone(), *version))
            .collect()
    }

    /// The newest published body of a document, typed.
    pub async fn body<T: DeserializeOwned>(
        &self,
        published: &Published,
        scope: &str,
        kind: Kind,
        name: &str,
    ) -> ServiceResult<Option<(i32, T)>> {
        let Some((id, version)) = self.entry(scope, kind, name) else {
            return Ok(None);
        };
        let body = published.version_body(id, version).await?;
        let parsed = domain::documents::parse(&body).map_err(|_| {
            ServiceError::internal(format!(
                "published {kind} '{name}' v{version} does not parse"
            ))
        })?;
        Ok(Some((version, parsed)))
    }
}
