//! Published flows, parsed and indexed once per version, and their choice conditions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::workflow::Flow;
use domain::{Kind, Scope};

use super::environment::ConditionCache;
use super::pins::PinnedDocument;
use crate::error::{ApiError, ApiResult};
use crate::persistence::metadata::{self as metadata_rows, Address};
use crate::services::metadata::parse_body;
use crate::state::AppState;

#[derive(Default)]
pub struct FlowCache {
    flows: Mutex<HashMap<(String, i32), Arc<Flow>>>,
    pub conditions: Arc<ConditionCache>,
}

/// The pinned flow of an order of `merchant`, compiled and cached.
pub async fn pinned_flow(
    state: &AppState,
    merchant: &str,
    pinned: &PinnedDocument,
) -> ApiResult<Arc<Flow>> {
    let scope = if pinned.scope == "platform" {
        Scope::Platform.key()
    } else {
        format!("merchant:{merchant}")
    };
    let key = (scope.clone(), pinned.version);
    if let Some(flow) = state
        .flows
        .flows
        .lock()
        .ok()
        .and_then(|f| f.get(&key).cloned())
    {
        return Ok(flow);
    }
    let address = Address {
        scope: &scope,
        kind: Kind::OrderFlow.as_str(),
        name: &pinned.name,
    };
    let document = metadata_rows::find(&state.db, address)
        .await?
        .ok_or_else(|| ApiError::internal("pinned flow document is gone"))?;
    let row = metadata_rows::find_version(&state.db, document.id, pinned.version)
        .await?
        .ok_or_else(|| ApiError::internal("pinned flow version is gone"))?;
    let definition = domain::documents::parse(&parse_body(&row.body)?)
        .map_err(|_| ApiError::internal("published flow does not parse"))?;
    let flow = Arc::new(Flow::new(definition));
    if let Ok(mut flows) = state.flows.flows.lock() {
        flows.insert(key, flow.clone());
    }
    Ok(flow)
}
