//! Who is calling: API keys (stored as SHA-256, shown once) and what their scope allows.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use domain::MerchantId;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::http::problem::ApiError;
use crate::state::AppState;

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Everything, on every merchant.
    PlatformAdmin,
    /// One merchant's configuration and orders.
    MerchantAdmin,
    /// One merchant's checkout endpoints only.
    Storefront,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::PlatformAdmin => "platform_admin",
            KeyScope::MerchantAdmin => "merchant_admin",
            KeyScope::Storefront => "storefront",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::PlatformAdmin, Self::MerchantAdmin, Self::Storefront]
            .into_iter()
            .find(|scope| scope.as_str() == s)
    }
}

/// A freshly made key: the secret is returned to the caller once and never stored.
pub struct NewKey {
    pub id: String,
    pub secret: String,
    pub hash: String,
}

impl NewKey {
    pub fn generate() -> Self {
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let secret = format!(
            "ofk_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
        );
        let mut id_bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut id_bytes);
        Self {
            id: format!("key_{}", hex::encode(id_bytes)),
            hash: hash_key(&secret),
            secret,
        }
    }
}

pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The id under which the `ORDERFLOW_ADMIN_KEY` key appears in the audit log.
pub const ENV_ADMIN_KEY_ID: &str = "env-admin-key";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: String,
    pub scope: KeyScope,
    pub merchant_id: Option<MerchantId>,
}

impl Principal {
    pub fn is_platform_admin(&self) -> bool {
        self.scope == KeyScope::PlatformAdmin
    }

    pub fn require_platform_admin(&self) -> Result<(), ApiError> {
        if self.is_platform_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this operation needs a platform_admin key".into(),
            ))
        }
    }

    /// Admin access to one merchant. The scope is checked before the tenant, so a storefront
    /// key is told it lacks the scope; another merchant's key learns nothing (404).
    pub fn require_merchant_admin(&self, merchant: &MerchantId) -> Result<(), ApiError> {
        match self.scope {
            KeyScope::PlatformAdmin => Ok(()),
            KeyScope::Storefront => Err(ApiError::Forbidden(
                "this operation needs a merchant_admin or platform_admin key".into(),
            )),
            KeyScope::MerchantAdmin if self.merchant_id.as_ref() == Some(merchant) => Ok(()),
            KeyScope::MerchantAdmin => Err(merchant_not_found(merchant)),
        }
    }

    /// Read access to platform-wide configuration (the catalog, the default flow).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.scope {
            KeyScope::PlatformAdmin | KeyScope::MerchantAdmin => Ok(()),
            KeyScope::Storefront => Err(ApiError::Forbidden(
                "this operation needs a merchant_admin or platform_admin key".into(),
            )),
        }
    }
}

pub fn merchant_not_found(merchant: &MerchantId) -> ApiError {
    ApiError::not_found(format!("merchant '{merchant}' not found"))
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        let hash = hash_key(token);
        // Comparing digests, not secrets, keeps the comparison's timing independent of the key.
        if state.admin_key_hash.as_deref() == Some(hash.as_str()) {
            return Ok(Principal {
                key_id: ENV_ADMIN_KEY_ID.into(),
                scope: KeyScope::PlatformAdmin,
                merchant_id: None,
            });
        }
        let key = state
            .keys
            .find(&state.db, &hash)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let scope = KeyScope::parse(&key.scope)
            .ok_or_else(|| ApiError::internal(format!("key {} has unknown scope", key.id)))?;
        let merchant_id = key
            .merchant_id
            .as_deref()
            .map(MerchantId::parse)
            .transpose()
            .map_err(|e| ApiError::internal(format!("key {}: {e}", key.id)))?;
        Ok(Principal {
            key_id: key.id,
            scope,
            merchant_id,
        })
    }
}
