//! Published checkout pages, with their field patterns compiled once per version.

use std::sync::Arc;

use domain::Kind;
use domain::documents::checkout_page::{CheckoutPage, CompiledCheckoutPage};

use super::{Published, Snapshot};
use crate::error::{ServiceError, ServiceResult};

impl Published {
    /// The newest published version of the checkout page `name` in `scope_key` (as of
    /// `snapshot`), compiled and cached. `None` when none is published.
    pub async fn checkout_page(
        &self,
        snapshot: &Snapshot,
        scope_key: &str,
        name: &str,
    ) -> ServiceResult<Option<(i32, Arc<CompiledCheckoutPage>)>> {
        let Some(version) = snapshot.version(scope_key, Kind::CheckoutPage, name) else {
            return Ok(None);
        };
        let key = (scope_key.to_owned(), name.to_owned(), version);
        let cached = self
            .checkout_pages
            .lock()
            .ok()
            .and_then(|pages| pages.get(&key).cloned());
        if let Some(page) = cached {
            return Ok(Some((version, page)));
        }
        let Some((version, page)) = snapshot
            .body::<CheckoutPage>(self, scope_key, Kind::CheckoutPage, name)
            .await?
        else {
            return Ok(None);
        };
        // Publishing refuses a pattern that does not compile, so a published page compiles.
        let compiled = CompiledCheckoutPage::compile(page)
            .map(Arc::new)
            .map_err(|_| {
                ServiceError::internal(format!(
                    "published checkout page '{name}' v{version} does not compile"
                ))
            })?;
        if let Ok(mut pages) = self.checkout_pages.lock() {
            pages.insert(key, compiled.clone());
        }
        Ok(Some((version, compiled)))
    }
}
