//! Published flows, parsed and indexed once per version.

use std::sync::Arc;

use domain::Kind;
use domain::workflow::Flow;

use super::Published;
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::{self, metadata as metadata_rows};

impl Published {
    /// Version `version` of the flow `name` in `scope_key`, compiled and cached.
    pub async fn flow(
        &self,
        scope_key: &str,
        name: &str,
        version: i32,
    ) -> ServiceResult<Arc<Flow>> {
        let key = (scope_key.to_owned(), name.to_owned(), version);
        if let Some(flow) = self.flows.lock().ok().and_then(|f| f.get(&key).cloned()) {
            return Ok(flow);
        }
        let address = metadata_rows::Address {
            scope: scope_key,
            kind: Kind::OrderFlow.as_str(),
            name,
        };
        let document = metadata_rows::find(&self.db, address)
            .await?
            .ok_or_else(|| ServiceError::internal("pinned flow document is gone"))?;
        let row = metadata_rows::find_version(&self.db, document.id, version)
            .await?
            .ok_or_else(|| ServiceError::internal("pinned flow version is gone"))?;
        let definition = domain::documents::parse(&persistence::stored_json(&row.body)?)
            .map_err(|_| ServiceError::internal("published flow does not parse"))?;
        let flow = Arc::new(Flow::new(definition));
        if let Ok(mut flows) = self.flows.lock() {
            flows.insert(key, flow.clone());
        }
        Ok(flow)
    }
}
