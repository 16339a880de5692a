//! `?limit=&cursor=` and the `{"data", "next_cursor"}` envelope of every list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, Modify, ToSchema};

use crate::http::problem::ApiError;
use crate::persistence::PageRequest;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to return, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A key that can travel in an opaque cursor.
pub trait CursorKey: Sized {
    fn encode(&self) -> String;
    fn decode(s: &str) -> Option<Self>;
}

impl CursorKey for String {
    fn encode(&self) -> String {
        self.clone()
    }
    fn decode(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

impl CursorKey for i64 {
    fn encode(&self) -> String {
        self.to_string()
    }
    fn decode(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

impl CursorKey for i32 {
    fn encode(&self) -> String {
        self.to_string()
    }
    fn decode(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

impl PageParams {
    pub fn request<K: CursorKey>(&self) -> Result<PageRequest<K>, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(
                URL_SAFE_NO_PAD
                    .decode(cursor)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .filter(|s| !s.contains('\0'))
                    .and_then(|s| K::decode(&s))
                    .ok_or_else(|| ApiError::BadRequest("cursor is not valid".into()))?,
            ),
        };
        Ok(PageRequest { after, limit })
    }
}

pub fn encode_cursor<K: CursorKey>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(key.encode())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Makes each list's `data` refer to its item's own component (`List_Merchant` holds
/// `Merchant`s), so that a list item and a single read are one class in generated SDKs. The
/// derive inlines a type parameter's whole schema instead (utoipa#1586).
pub struct ListItemRefs;

impl Modify for ListItemRefs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let names: Vec<String> = components.schemas.keys().cloned().collect();
        for name in names {
            let Some(item) = name.strip_prefix("List_") else {
                continue;
            };
            let Some(RefOr::T(Schema::Object(list))) = components.schemas.get_mut(&name) else {
                continue;
            };
            let Some(RefOr::T(Schema::Array(data))) = list.properties.get_mut("data") else {
                continue;
            };
            let reference = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
            let inlined = std::mem::replace(&mut data.items, reference);
            // An item type no operation returns on its own becomes a component here.
            if let ArrayItems::RefOrSchema(schema) = inlined {
                components.schemas.entry(item.to_owned()).or_insert(*schema);
            }
        }
    }
}

impl<T> List<T> {
    pub fn new<R, K: CursorKey>(
        page: crate::persistence::Page<R, K>,
        map: impl FnMut(R) -> T,
    ) -> Self {
        Self {
            data: page.rows.into_iter().map(map).collect(),
            next_cursor: page.next.as_ref().map(encode_cursor),
        }
    }
}
