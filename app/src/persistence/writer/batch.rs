//! What a batch asks of the database, whichever drives it: the idempotency claims, then the
//! guards of the change sets whose claim held, in submission order, then the release of the
//! claims whose guard refused, then the writes of the change sets not refused, then the
//! timer leases; and how each submitter is answered.

use sea_orm::{DbBackend, Statement};

use super::{Applied, Work, WriteError};
use crate::persistence::changes::{
    GuardStatement, Write, claim_statement, guard_statements, write_statements,
};
use crate::persistence::fan_out::Sinks;
use crate::persistence::leases::{Lease, LeasedRow};

pub(super) struct Batch {
    works: Vec<Work>,
    sinks: Sinks,
}

/// What applying a batch came to, by position in the batch.
pub(super) struct Outcomes {
    pub refused: Vec<bool>,
    pub leased: Vec<(usize, Vec<LeasedRow>)>,
}

impl Batch {
    pub fn new(works: Vec<Work>, sinks: Sinks) -> Self {
        Self { works, sinks }
    }

    pub fn len(&self) -> usize {
        self.works.len()
    }

    /// Which works' submitters stopped waiting since the batch was taken (the request timed
    /// out while the writer waited for the database): they are left out like refused ones,
    /// so that nothing is applied that no one will be told about.
    pub fn abandoned(&self) -> Vec<bool> {
        self.works.iter().map(Work::is_abandoned).collect()
    }

    /// The idempotency claims of the change sets not refused yet, by position: each must
    /// insert one row.
    pub fn claims(&self, refused: &[bool], backend: DbBackend) -> Vec<(usize, Statement)> {
        self.works
            .iter()
            .enumerate()
            .filter(|(i, _)| !refused[*i])
            .filter_map(|(i, work)| match work {
                Work::Apply(changes, _) => changes
                    .claim
                    .as_ref()
                    .map(|claim| (i, claim_statement(claim, backend))),
                Work::Lease(..) => None,
            })
            .collect()
    }

    /// The statements of the guards of the change sets not refused yet.
    pub fn guards(&self, refused: &[bool], backend: DbBackend) -> Vec<GuardStatement> {
        let guards = self
            .works
            .iter()
            .zip(refused)
            .enumerate()
            .filter(|(_, (_, refused))| !**refused)
            .filter_map(|(i, (work, _))| match work {
                Work::Apply(changes, _) => changes.guard.as_deref().map(|guard| (i, guard)),
                Work::Lease(..) => None,
            });
        guard_statements(guards, backend)
    }

    /// Removes the claims that held (`claimed`) of change sets their guard then refused.
    pub fn releases(
        &self,
        claimed: &[bool],
        refused: &[bool],
        backend: DbBackend,
    ) -> Vec<Statement> {
        let releases: Vec<Write> = self
            .works
            .iter()
            .zip(claimed.iter().zip(refused))
            .filter(|(_, (claimed, refused))| **claimed && **refused)
            .filter_map(|(work, _)| match work {
                Work::Apply(changes, _) => changes.claim.as_ref(),
                Work::Lease(..) => None,
            })
            .map(|claim| Write::ReleaseIdempotencyKey {
                principal: claim.principal.clone(),
                endpoint: claim.endpoint.clone(),
                key: claim.key.clone(),
                created_at: claim.created_at,
            })
            .collect();
        write_statements(&releases, backend, self.sinks)
    }

    /// The writes of every change set not refused, merged, with the deliveries of the
    /// events they insert.
    pub fn writes(&self, refused: &[bool], backend: DbBackend) -> Vec<Statement> {
        let writes: Vec<&Write> = self
            .works
            .iter()
            .zip(refused)
            .filter(|(_, refused)| !**refused)
            .filter_map(|(work, _)| match work {
                Work::Apply(changes, _) => Some(changes.writes.iter()),
                Work::Lease(..) => None,
            })
            .flatten()
            .collect();
        write_statements(writes, backend, self.sinks)
    }

    /// The leases not abandoned, by position, with their statements.
    pub fn leases(
        &self,
        abandoned: &[bool],
        backend: DbBackend,
    ) -> Vec<(usize, &Lease, Statement)> {
        self.works
            .iter()
            .enumerate()
            .filter(|(i, _)| !abandoned[*i])
            .filter_map(|(i, work)| match work {
                Work::Lease(lease, _) => Some((i, lease, lease.statement(backend))),
                Work::Apply(..) => None,
            })
            .collect()
    }

    /// Answers every submitter: what became of its work, or why the batch failed.
    fn answer(self, outcome: Result<Outcomes, WriteError>, metrics: &super::WriterMetrics) {
        match outcome {
            Ok(Outcomes { refused, leased }) => {
                let mut leased = leased.into_iter().peekable();
                for (i, work) in self.works.into_iter().enumerate() {
                    match work {
                        Work::Apply(_, reply) => {
                            let applied = if refused[i] {
                                metrics.refused.inc();
                                Applied::Refused
                            } else {
                                Applied::Committed
                            };
                            let _ = reply.send(Ok(applied));
                        }
                        Work::Lease(_, reply) => {
                            let rows = match leased.next_if(|(at, _)| *at == i) {
                                Some((_, rows)) => rows,
                                None => vec![],
                            };
                            let _ = reply.send(Ok(rows));
                        }
                    }
                }
            }
            Err(error) => {
                metrics.failed_batches.inc();
                for work in self.works {
                    match work {
                        Work::Apply(_, reply) => {
                            let _ = reply.send(Err(error.clone()));
                        }
                        Work::Lease(_, reply) => {
                            let _ = reply.send(Err(error.clone()));
                        }
                    }
                }
            }
        }
    }

    /// Answers the submitters of an applied batch, or of one that failed for want of the
    /// database; true when it failed. A failed batch of several comes back as batches of
    /// one to apply again: one change set that breaks a constraint, or loses a deadlock to
    /// another instance, must not take the others down with it. A single change set that
    /// lost a deadlock is refused, so that its request reads again and retries.
    pub fn settle(
        self,
        outcome: Result<Outcomes, WriteError>,
        metrics: &super::WriterMetrics,
    ) -> Result<bool, Vec<Batch>> {
        match outcome {
            Ok(outcomes) => {
                // Only change sets prove writes commit: a lease that took no timer wrote
                // nothing, and commits even on a full disk.
                if self
                    .works
                    .iter()
                    .any(|work| matches!(work, Work::Apply(..)))
                {
                    metrics.cannot_commit_at.set(0);
                }
                self.answer(Ok(outcomes), metrics);
                Ok(false)
            }
            Err(error) if self.works.len() > 1 && !error.is_unavailable() => {
                let sinks = self.sinks;
                Err(self
                    .works
                    .into_iter()
                    .map(|work| Batch::new(vec![work], sinks))
                    .collect())
            }
            Err(WriteError::Contended(reason)) => {
                tracing::warn!(%reason, "a change set lost a deadlock; its request retries");
                let refused = vec![true; self.works.len()];
                self.answer(
                    Ok(Outcomes {
                        refused,
                        leased: vec![],
                    }),
                    metrics,
                );
                Ok(false)
            }
            Err(error) => {
                if error.is_unavailable() {
                    metrics
                        .cannot_commit_at
                        .set(crate::persistence::now().timestamp());
                }
                tracing::error!(%error, changes = self.works.len(), "a write batch failed");
                self.answer(Err(error), metrics);
                Ok(true)
            }
        }
    }
}
