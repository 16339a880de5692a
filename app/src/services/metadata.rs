//! Drafts, publishing, rollback: the lifecycle of a metadata document.

use domain::checks::{PublishedContext, check_publishable, publish_warnings};
use domain::documents::payment_combination::PaymentCombination;
use domain::lifecycle::RolloutState;
use domain::rollout::RolloutPercent;
use domain::{DocumentName, Kind, Scope, Violation};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;

use crate::error::{ServiceError, ServiceResult};
use crate::events::{EventData, MetadataPublishedData};
use crate::persistence;
use crate::persistence::changes::{ChangeSet, Guard, Write};
use crate::persistence::entities::{
    audit_entry, metadata_document, metadata_rollout, metadata_version,
};
use crate::persistence::events::{Subject, new_event};
use crate::persistence::metadata::{self, Address};
use crate::persistence::rollouts;
use crate::persistence::writer::Applied;
use crate::problem_type::ProblemType;
use crate::published::ROUTING_TABLE;
use crate::scripts::Scripts;
use crate::services::commit::{Staged, commit};
use crate::state::AppState;

/// A document's full address, parsed.
#[derive(Debug, Clone)]
pub struct DocumentRef {
    pub scope: Scope,
    pub kind: Kind,
    pub name: DocumentName,
}

impl DocumentRef {
    pub(super) fn with_scope_key<'a>(&'a self, scope_key: &'a str) -> Address<'a> {
        Address {
            scope: scope_key,
            kind: self.kind.as_str(),
            name: self.name.as_str(),
        }
    }

    pub fn not_found(&self) -> ServiceError {
        ServiceError::NotFound(format!("no {} document named '{}'", self.kind, self.name))
    }
}

/// The strong ETag of a document at a revision.
pub fn etag(revision: i64) -> String {
    format!("\"r{revision}\"")
}

/// What a write expects of the document it changes.
#[derive(Debug, Clone, Copy)]
pub enum Precondition<'a> {
    /// Nothing: the write applies to whatever is stored.
    None,
    /// An `If-Match` header (RFC 9110 §13.1.1): `*` or a list of entity tags.
    IfMatch(&'a str),
    /// No such document yet: of instances seeding one database together, one writes it.
    Absent,
}

impl<'a> From<Option<&'a str>> for Precondition<'a> {
    fn from(if_match: Option<&'a str>) -> Self {
        if_match.map_or(Precondition::None, Precondition::IfMatch)
    }
}

impl Precondition<'_> {
    fn holds(self, current: Option<&metadata_document::Model>) -> bool {
        match (self, current) {
            (Precondition::None, _) => true,
            (Precondition::Absent, current) => current.is_none(),
            (Precondition::IfMatch(_), None) => false,
            (Precondition::IfMatch(header), Some(current)) => {
                let current = etag(current.revision);
                header
                    .split(',')
                    .map(str::trim)
                    .any(|tag| tag == "*" || tag == current)
            }
        }
    }
}

pub(super) fn stale() -> ServiceError {
    ServiceError::Conflict {
        problem: ProblemType::ConcurrentModification,
        detail: "the document changed while this request was applied; read it again and retry"
            .into(),
    }
}

pub async fn find(
    db: &DatabaseConnection,
    at: &DocumentRef,
) -> ServiceResult<metadata_document::Model> {
    let scope_key = at.scope.key();
    metadata::find(db, at.with_scope_key(&scope_key))
        .await?
        .ok_or_else(|| at.not_found())
}

/// Saves a draft after validating it against the kind's schema. Drafts may refer to things
/// not yet published; the cross-document checks run at publish.
pub async fn save_draft(
    state: &AppState,
    at: &DocumentRef,
    body: &Value,
    precondition: Precondition<'_>,
    actor: &str,
) -> ServiceResult<metadata_document::Model> {
    domain::schema::validate(at.kind, body).map_err(ServiceError::invalid)?;
    let text = serde_json::to_string(body).map_err(|e| ServiceError::internal(e.to_string()))?;
    let scope_key = at.scope.key();
    let address = at.with_scope_key(&scope_key);
    let stage = || async {
        let existing = metadata::find(&state.db, address).await?;
        if !precondition.holds(existing.as_ref()) {
            return Err(ServiceError::StaleRevision);
        }
        let now = persistence::now();
        let guard = match &existing {
            None => Guard::InsertDocument(metadata_document::Model {
                id: 0,
                scope: scope_key.clone(),
                kind: at.kind.as_str().into(),
                name: at.name.to_string(),
                draft: Some(text.clone()),
                draft_updated_at: Some(now),
                published_version: None,
                revision: 1,
                created_at: now,
                updated_at: now,
            }),
            Some(document) => Guard::UpdateDraft {
                id: document.id,
                revision: document.revision,
                draft: text.clone(),
                at: now,
            },
        };
        let from_version = existing.and_then(|d| d.published_version);
        let audit = audit_row(
            &scope_key,
            at,
            "draft_saved",
            actor,
            from_version,
            None,
            now,
        );
        Ok(Staged::set((), ChangeSet::guarded(guard).with(audit)))
    };
    commit(state, stage, |_| None).await?;
    metadata::find(&state.db, address)
        .await?
        .ok_or_else(|| ServiceError::internal("a saved draft is gone"))
}

pub(super) fn audit_row(
    scope_key: &str,
    at: &DocumentRef,
    action: &str,
    actor: &str,
    from_version: Option<i32>,
    to_version: Option<i32>,
    now: chrono::DateTime<chrono::Utc>,
) -> Write {
    Write::InsertAudit(audit_entry::Model {
        id: 0,
        scope: scope_key.to_owned(),
        kind: at.kind.as_str().into(),
        name: at.name.to_string(),
        action: action.into(),
        actor: actor.into(),
        from_version,
        to_version,
        at: now,
    })
}

/// What published documents a document of this scope may refer to.
async fn published_context(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> ServiceResult<PublishedContext> {
    let platform = Scope::Platform.key();
    let scope_key = scope.key();
    let combination = Address {
        scope: &scope_key,
        kind: Kind::PaymentCombination.as_str(),
        name: "default",
    };
    let enabled_methods = match metadata::published_body(db, combination).await? {
        Some((_, body)) => {
            let combination: PaymentCombination = domain::documents::parse(
                &crate::persistence::stored_json(&body)?,
            )
            .map_err(|_| ServiceError::internal("published payment combination does not parse"))?;
            combination.methods.into_iter().map(|m| m.method).collect()
        }
        None => vec![],
    };
    let routing_table = Address {
        scope: &scope_key,
        kind: Kind::RoutingTable.as_str(),
        name: ROUTING_TABLE,
    };
    let routing_table = match metadata::published_body(db, routing_table).await? {
        Some((_, body)) => Some(
            domain::documents::parse(&crate::persistence::stored_json(&body)?)
                .map_err(|_| ServiceError::internal("published routing table does not parse"))?,
        ),
        None => None,
    };
    Ok(PublishedContext {
        catalog: metadata::published_names(db, &platform, Kind::PaymentMethod.as_str()).await?,
        functions: metadata::published_names(db, &scope_key, Kind::DiscountFunction.as_str())
            .await?,
        enabled_methods,
        routing_table,
    })
}

/// What publishing a document would meet: problems refuse it, warnings do not.
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<Violation>,
    pub warnings: Vec<Violation>,
}

/// A publish (or rollback) that went through, with what it warned of.
#[derive(Debug)]
pub struct Publication {
    pub version: i32,
    pub warnings: Vec<Violation>,
}

/// Every problem publishing `body` would meet (the kind's schema, then the cross-document
/// checks) and what it would warn of. Runs on the function pool: a discount function's
/// test cases run scripts.
pub async fn findings(
    db: &DatabaseConnection,
    scripts: &Scripts,
    at: &DocumentRef,
    body: Value,
) -> ServiceResult<Findings> {
    let context = published_context(db, &at.scope).await?;
    let kind = at.kind;
    let name = at.name.to_string();
    let warnings = publish_warnings(kind, &body, &context);
    let problems = scripts
        .run(move |runtime| check_publishable(kind, &name, &body, &context, runtime))
        .await?
        .err()
        .unwrap_or_default();
    Ok(Findings { problems, warnings })
}

/// The warnings of a publishable body; its problems as a 422.
async fn check(state: &AppState, at: &DocumentRef, body: Value) -> ServiceResult<Vec<Violation>> {
    let Findings { problems, warnings } = findings(&state.db, &state.scripts, at, body).await?;
    if problems.is_empty() {
        Ok(warnings)
    } else {
        Err(ServiceError::invalid(problems))
    }
}

/// Publishes the draft as the next immutable version: to every new order, or with
/// `rollout`, to that share of them while the others keep the version published now. The
/// checks run on a snapshot of the draft; the write then succeeds only if the document has
/// not changed meanwhile.
pub async fn publish(
    state: &AppState,
    at: &DocumentRef,
    precondition: Precondition<'_>,
    actor: &str,
    rollout: Option<RolloutPercent>,
) -> ServiceResult<Publication> {
    let scope_key = at.scope.key();
    let document = document_to_change(state, at, &scope_key, precondition).await?;
    refuse_during_rollout(state, at, &document).await?;
    if rollout.is_some() && document.published_version.is_none() {
        return Err(ServiceError::Conflict {
            problem: ProblemType::NothingToRollOutAgainst,
            detail: format!(
                "{} '{}' has no published version for the other orders to keep; publish it to every order first",
                at.kind, at.name
            ),
        });
    }
    let draft_text = document
        .draft
        .clone()
        .ok_or_else(|| ServiceError::Conflict {
            problem: ProblemType::NoDraft,
            detail: format!(
                "{} '{}' has no draft to publish; save one with PUT .../draft first",
                at.kind, at.name
            ),
        })?;
    let draft = crate::persistence::stored_json(&draft_text)?;
    if let Some(version) = document.published_version
        && let Some((_, published)) = version_body(&state.db, document.id, version).await?
        && published == draft
    {
        return Err(ServiceError::Conflict {
            problem: ProblemType::NothingToPublish,
            detail: format!(
                "the draft of {} '{}' equals the published version {version}: there is nothing to publish",
                at.kind, at.name
            ),
        });
    }
    let warnings = check(state, at, draft).await?;
    let how = match rollout {
        None => How::Publish,
        Some(percent) => How::RollOut(percent),
    };
    let version = publish_version(state, at, &scope_key, &document, draft_text, actor, how).await?;
    Ok(Publication { version, warnings })
}

/// A publish or rollback while a rollout is active would pull the versions from under it.
async fn refuse_during_rollout(
    state: &AppState,
    at: &DocumentRef,
    document: &metadata_document::Model,
) -> ServiceResult<()> {
    match rollouts::latest(&state.db, document.id).await? {
        Some(rollout) if rollout.state == RolloutState::Active.as_str() => {
            Err(ServiceError::Conflict {
                problem: ProblemType::RolloutInProgress,
                detail: format!(
                    "version {} of {} '{}' is rolled out to {}% of new orders; promote or abort that rollout first",
                    rollout.candidate_version, at.kind, at.name, rollout.percent
                ),
            })
        }
        _ => Ok(()),
    }
}

/// What a new version does.
#[derive(Debug, Clone, Copy)]
enum How {
    /// Goes to every new order.
    Publish,
    /// Goes to a share of new orders; the others keep the version published before.
    RollOut(RolloutPercent),
    /// Republishes the body of this older version.
    RollBack(i32),
}

/// The stored document a write is to change: `NotFound` when there is none, `StaleRevision`
/// when `precondition` does not hold for it.
pub(super) async fn document_to_change(
    state: &AppState,
    at: &DocumentRef,
    scope_key: &str,
    precondition: Precondition<'_>,
) -> ServiceResult<metadata_document::Model> {
    let document = metadata::find(&state.db, at.with_scope_key(scope_key))
        .await?
        .ok_or_else(|| at.not_found())?;
    if precondition.holds(Some(&document)) {
        Ok(document)
    } else {
        Err(ServiceError::StaleRevision)
    }
}

/// Discards the document's saved draft; the published versions stay. A document that was
/// never published is only its draft, so it is gone afterwards. `NotFound` when there is no
/// draft.
pub async fn discard_draft(
    state: &AppState,
    at: &DocumentRef,
    precondition: Precondition<'_>,
    actor: &str,
) -> ServiceResult<()> {
    let scope_key = at.scope.key();
    let document = document_to_change(state, at, &scope_key, precondition).await?;
    if document.draft.is_none() {
        return Err(ServiceError::NotFound(format!(
            "{} '{}' has no draft to discard",
            at.kind, at.name
        )));
    }
    let now = persistence::now();
    let changes = ChangeSet::guarded(Guard::DiscardDraft {
        id: document.id,
        revision: document.revision,
        published: document.published_version.is_some(),
        at: now,
    })
    .with(audit_row(
        &scope_key,
        at,
        "draft_discarded",
        actor,
        document.published_version,
        None,
        now,
    ));
    match state.writer.apply(changes).await? {
        Applied::Committed => Ok(()),
        Applied::Refused => Err(stale()),
    }
}

/// Writes `body` as the document's next version, if the document is still as read.
async fn publish_version(
    state: &AppState,
    at: &DocumentRef,
    scope_key: &str,
    document: &metadata_document::Model,
    body: String,
    actor: &str,
    how: How,
) -> ServiceResult<i32> {
    // Not the published version + 1: an aborted rollout's candidate keeps its number.
    let version = metadata::newest_version(&state.db, document.id)
        .await?
        .unwrap_or(0)
        + 1;
    let now = persistence::now();
    let (action, consume_draft, rolled_back_from, rollout_percent) = match how {
        How::Publish => ("published", true, None, None),
        How::RollOut(percent) => ("rollout_started", true, None, Some(percent)),
        How::RollBack(from) => ("rolled_back", false, Some(from), None),
    };
    let merchant_id = match &at.scope {
        Scope::Merchant(merchant) => Some(merchant.as_str()),
        Scope::Platform => None,
    };
    let published = EventData::MetadataPublished(MetadataPublishedData {
        scope: scope_key.to_owned(),
        kind: at.kind.as_str(),
        name: at.name.as_str().to_owned(),
        version,
        rolled_back_from,
        rollout_percent: rollout_percent.map(RolloutPercent::get),
    });
    let subject = Subject {
        merchant_id,
        order_id: None,
        sequence: None,
    };
    let event = new_event(subject, &published, now);
    let mut changes = ChangeSet::guarded(Guard::SetPublishedVersion {
        id: document.id,
        revision: document.revision,
        version,
        consume_draft,
        at: now,
    });
    if let (Some(percent), Some(stable)) = (rollout_percent, document.published_version) {
        changes.push(Write::InsertRollout(metadata_rollout::Model {
            id: 0,
            document_id: document.id,
            stable_version: stable,
            candidate_version: version,
            percent: i32::from(percent.get()),
            state: RolloutState::Active.as_str().into(),
            started_by: actor.to_owned(),
            started_at: now,
            ended_at: None,
        }));
    }
    let changes = changes
        .with(Write::InsertOutbox(vec![event]))
        .with(Write::InsertVersion(metadata_version::Model {
            document_id: document.id,
            version,
            body,
            published_at: now,
            published_by: actor.to_owned(),
            rolled_back_from,
        }))
        .with(audit_row(
            scope_key,
            at,
            action,
            actor,
            document.published_version,
            Some(version),
            now,
        ));
    let applied = state.writer.apply(changes).await;
    // Even a failed commit may have landed: snapshots read before may be stale either way.
    state.published.published();
    match applied? {
        Applied::Committed => Ok(version),
        Applied::Refused => Err(stale()),
    }
}

/// Publishes an older version's body again, as a new version. The draft is left alone.
pub async fn rollback(
    state: &AppState,
    at: &DocumentRef,
    to: i32,
    actor: &str,
) -> ServiceResult<Publication> {
    let scope_key = at.scope.key();
    let document = metadata::find(&state.db, at.with_scope_key(&scope_key))
        .await?
        .ok_or_else(|| at.not_found())?;
    refuse_during_rollout(state, at, &document).await?;
    let target = metadata::find_version(&state.db, document.id, to)
        .await?
        .ok_or_else(|| {
            ServiceError::invalid_field(
                "/version",
                format!("{} '{}' has no version {to}", at.kind, at.name),
            )
        })?;
    // The old body must pass today's checks: what it refers to may have changed since.
    let warnings = check(state, at, crate::persistence::stored_json(&target.body)?).await?;
    let version = publish_version(
        state,
        at,
        &scope_key,
        &document,
        target.body,
        actor,
        How::RollBack(to),
    )
    .await?;
    Ok(Publication { version, warnings })
}

/// Reads a published version's body, if the document has that version.
pub async fn version_body(
    db: &DatabaseConnection,
    document_id: i64,
    version: i32,
) -> ServiceResult<Option<(persistence::entities::metadata_version::Model, Value)>> {
    match metadata::find_version(db, document_id, version).await? {
        Some(row) => {
            let body = crate::persistence::stored_json(&row.body)?;
            Ok(Some((row, body)))
        }
        None => Ok(None),
    }
}
