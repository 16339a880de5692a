//! The demo data in `seeds/`, embedded in the binary and loaded through the same validation
//! and publishing path as API input.

use domain::{DocumentName, Kind, MerchantId, Scope};
use include_dir::{Dir, include_dir};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ServiceError;
use crate::persistence::{merchants as merchant_rows, metadata as metadata_rows};
use crate::services::merchants;
use crate::services::metadata::{self, DocumentRef, Precondition};
use crate::state::AppState;

static SEEDS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../seeds");

/// The audit log's actor for seeded changes.
pub const SEED_ACTOR: &str = "seed";

/// Kinds in the order they must be published: what a document refers to comes first.
const PLATFORM_ORDER: [Kind; 2] = [Kind::PaymentMethod, Kind::OrderFlow];
const MERCHANT_ORDER: [Kind; 5] = [
    Kind::PaymentCombination,
    Kind::CheckoutPage,
    Kind::DiscountFunction,
    Kind::RoutingTable,
    Kind::OrderFlow,
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub merchants_created: usize,
    pub documents_published: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("seeds/{file}: {message}")]
pub struct SeedError {
    file: String,
    message: String,
}

impl SeedError {
    fn new(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            message: message.into(),
        }
    }

    fn from_api(file: &str, error: ServiceError) -> Self {
        let message = match error {
            ServiceError::Invalid { errors, .. } => errors
                .iter()
                .map(|v| {
                    format!(
                        "{} {}",
                        if v.pointer.is_empty() {
                            "/"
                        } else {
                            &v.pointer
                        },
                        v.message
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        Self::new(file, message)
    }
}

#[derive(Deserialize)]
struct MerchantSeed {
    id: String,
    name: String,
}

/// True when the database holds no merchants and no documents: a first start.
pub async fn database_is_empty(db: &DatabaseConnection) -> Result<bool, sea_orm::DbErr> {
    Ok(!merchant_rows::any_exist(db).await? && !metadata_rows::any_exist(db).await?)
}

/// Loads every seed that is not there yet. Running it twice changes nothing.
pub async fn load(state: &AppState) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport::default();
    if let Some(platform) = SEEDS.get_dir("platform") {
        load_documents(
            state,
            platform,
            &Scope::Platform,
            &PLATFORM_ORDER,
            &mut report,
        )
        .await?;
    }
    let Some(merchant_dirs) = SEEDS.get_dir("merchants") else {
        return Ok(report);
    };
    let mut dirs: Vec<&Dir<'_>> = merchant_dirs.dirs().collect();
    dirs.sort_by_key(|d| d.path());
    for dir in dirs {
        let file = dir.path().join("merchant.json");
        let file_name = file.display().to_string();
        let seed: MerchantSeed = read_json(dir, "merchant.json", &file_name).and_then(|v| {
            serde_json::from_value(v).map_err(|e| SeedError::new(&file_name, e.to_string()))
        })?;
        let id =
            MerchantId::parse(&seed.id).map_err(|e| SeedError::new(&file_name, e.to_string()))?;
        let created = merchants::create(&state.writer, id.as_str(), &seed.name)
            .await
            .map_err(|e| SeedError::from_api(&file_name, e))?;
        if created.is_some() {
            report.merchants_created += 1;
        }
        load_documents(
            state,
            dir,
            &Scope::Merchant(id),
            &MERCHANT_ORDER,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

fn read_json(dir: &Dir<'_>, name: &str, file_name: &str) -> Result<Value, SeedError> {
    let file = dir
        .get_file(dir.path().join(name))
        .ok_or_else(|| SeedError::new(file_name, "missing"))?;
    serde_json::from_slice(file.contents())
        .map_err(|e| SeedError::new(file_name, format!("not JSON: {e}")))
}

async fn load_documents(
    state: &AppState,
    dir: &Dir<'_>,
    scope: &Scope,
    order: &[Kind],
    report: &mut SeedReport,
) -> Result<(), SeedError> {
    for &kind in order {
        let Some(kind_dir) = dir.get_dir(dir.path().join(kind.as_str())) else {
            continue;
        };
        let mut files: Vec<_> = kind_dir
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort_by_key(|f| f.path());
        for file in files {
            let file_name = file.path().display().to_string();
            let stem = file
                .path()
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let name =
                DocumentName::parse(stem).map_err(|e| SeedError::new(&file_name, e.to_string()))?;
            let body: Value = serde_json::from_slice(file.contents())
                .map_err(|e| SeedError::new(&file_name, format!("not JSON: {e}")))?;
            let at = DocumentRef {
                scope: scope.clone(),
                kind,
                name,
            };
            // Each write expects what was read: when another instance seeding the same
            // database changed the document first, the write is refused and the document
            // left to it, so each seed is published once, as version 1.
            let read = match metadata::find(&state.db, &at).await {
                Ok(existing) if existing.published_version.is_some() => continue,
                Ok(existing) => Some(metadata::etag(existing.revision)),
                Err(ServiceError::NotFound(_)) => None,
                Err(e) => return Err(SeedError::from_api(&file_name, e)),
            };
            let precondition = read
                .as_deref()
                .map_or(Precondition::Absent, Precondition::IfMatch);
            let saved =
                match metadata::save_draft(state, &at, &body, precondition, SEED_ACTOR).await {
                    Ok(saved) => metadata::etag(saved.revision),
                    Err(ServiceError::StaleRevision) => continue,
                    Err(e) => return Err(SeedError::from_api(&file_name, e)),
                };
            match metadata::publish(state, &at, Precondition::IfMatch(&saved), SEED_ACTOR, None)
                .await
            {
                Ok(_) => report.documents_published += 1,
                Err(ServiceError::StaleRevision) => continue,
                Err(e) => return Err(SeedError::from_api(&file_name, e)),
            }
        }
    }
    Ok(())
}
