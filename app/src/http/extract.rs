//! Extractors whose rejections are our problem+json errors, not axum's plain text.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::http::problem::ApiError;

/// The request body limit; larger bodies are answered 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body. Malformed JSON is a 400; well-formed JSON of the wrong shape a 422 whose
/// pointer names the offending field. The body must say it is JSON: without a Content-Type
/// (or with another one) it is a 415, never guessed at.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !media_type(&req)
            .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"))
        {
            return Err(ApiError::UnsupportedMediaType(
                "request bodies must be JSON: send Content-Type: application/json".into(),
            ));
        }
        let body = read_body(req, state).await?;
        parse_json(&body).map(Json)
    }
}

/// A body extractor whose rejection waits until the handler reads the body, so that who
/// may call is decided first: a caller without the scope, or another tenant's, gets the
/// same 403 or 404 whatever it sent, never a 400, 413, 415 or 422 that tells it the
/// operation would have read its body.
pub struct Deferred<E>(Result<E, ApiError>);

impl<E> Deferred<E> {
    /// The body, or why it could not be read; call once the caller is authorized.
    pub fn read(self) -> Result<E, ApiError> {
        self.0
    }
}

impl<S: Send + Sync, E: FromRequest<S, Rejection = ApiError>> FromRequest<S> for Deferred<E> {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Deferred(E::from_request(req, state).await))
    }
}

/// A metadata document body: JSON, or YAML (`Content-Type: application/yaml`, `text/yaml`)
/// converted to JSON.
pub struct JsonOrYaml(pub serde_json::Value);

fn media_type(req: &Request) -> Option<String> {
    req.headers().get(header::CONTENT_TYPE).map(|value| {
        value
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

fn is_yaml(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
    )
}

impl<S: Send + Sync> FromRequest<S> for JsonOrYaml {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !media_type(&req).as_deref().is_some_and(is_yaml) {
            let Json(value) = Json::<serde_json::Value>::from_request(req, state).await?;
            return Ok(JsonOrYaml(value));
        }
        let body = read_body(req, state).await?;
        let JsonNumbers(value) = yaml_serde::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("malformed YAML: {e}")))?;
        check_body(&value)?;
        Ok(JsonOrYaml(value))
    }
}

/// A YAML document read as the JSON parser reads numbers, so that one body means the same
/// in both: an integer beyond 64 bits becomes the nearest float (which the schemas then
/// refuse as money, with its pointer), and a number beyond a float's range (`1e400`,
/// `.inf`, `.nan`) is malformed. Everything else is as `serde_json::Value` reads it.
struct JsonNumbers(serde_json::Value);

impl<'de> serde::Deserialize<'de> for JsonNumbers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(JsonNumbersVisitor)
            .map(JsonNumbers)
    }
}

struct JsonNumbersVisitor;

impl<'de> serde::de::Visitor<'de> for JsonNumbersVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value JSON can hold")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Self::Value, E> {
        match i64::try_from(v) {
            Ok(v) => Ok(v.into()),
            // What serde_json does with an integer literal too large for 64 bits.
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => Ok(v.into()),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonNumbers(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some((key, JsonNumbers(value))) = map.next_entry::<String, _>()? {
            fields.insert(key, value);
        }
        Ok(serde_json::Value::Object(fields))
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::BadRequest(format!("could not read the request body: {rejection}"))
        }
    })
}

/// Parses JSON text: syntax errors are 400, shape errors 422 with the field's pointer.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so that a truncated document is reported as malformed, not mis-shaped.
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    from_value(value)
}

/// Every request body of this API is a JSON object, and no string in it may hold a NUL
/// character (PostgreSQL text cannot store one).
fn check_body(value: &serde_json::Value) -> Result<(), ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid_field(
            "",
            "the request body must be a JSON object",
        ));
    }
    match first_nul(value, &mut String::new()) {
        Some(pointer) => Err(ApiError::invalid_field(
            &pointer,
            "strings may not contain the NUL character (\\u0000)",
        )),
        None => Ok(()),
    }
}

fn first_nul(value: &serde_json::Value, pointer: &mut String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(pointer.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let length = pointer.len();
            pointer.push_str(&format!("/{i}"));
            let found = first_nul(item, pointer);
            pointer.truncate(length);
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let length = pointer.len();
            pointer.push('/');
            pointer.push_str(&domain::violation::escape_token(key));
            let found = if key.contains('\0') {
                Some(pointer.clone())
            } else {
                first_nul(item, pointer)
            };
            pointer.truncate(length);
            found
        }),
        _ => None,
    }
}

/// Reads a JSON value as `T`; a shape error is a 422 with the field's pointer.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    check_body(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = json_pointer(e.path());
        let message = e.into_inner().to_string();
        // serde reports a missing field at its parent; point at the field itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            pointer.push('/');
            pointer.push_str(&domain::violation::escape_token(field));
        }
        ApiError::invalid_field(&pointer, message)
    })
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", domain::violation::escape_token(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// Path parameters; a value that does not parse is a 400.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Nothing this API stores has a NUL in its id, and PostgreSQL could not compare one.
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await
            && raw.iter().any(|(_, value)| value.contains('\0'))
        {
            return Err(ApiError::not_found("no such resource"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// Query parameters; a value that does not parse is a 400.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}
