//! The merchant admin console at `/admin`: a single-page app whose built bundle
//! (`app/web/dist`) is embedded in the binary, so it needs no network at build or run time.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

use crate::http::problem::ApiError;

static BUNDLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/web/dist");

/// Styles are inlined by the code editor and the form library; scripts only from the bundle.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
     form-action 'self'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(|| async { asset("") }))
        .route(
            "/admin/{*path}",
            get(|Path(path): Path<String>| async move { asset(&path) }),
        )
}

/// A file of the bundle, or the app's page for any other path: the app routes on the client.
/// A missing hashed asset is a 404, not the page, so a stale tab fails loudly after a deploy.
fn asset(path: &str) -> Response {
    let hashed = path.starts_with("assets/");
    let (file, cache) = match BUNDLE.get_file(path) {
        // Vite names every asset by its content hash, so it can be cached for good.
        Some(file) if hashed => (file, "public, max-age=31536000, immutable"),
        Some(file) => (file, "no-cache"),
        None if hashed => {
            return ApiError::not_found(format!("no console asset '{path}'")).into_response();
        }
        None => match BUNDLE.get_file("index.html") {
            Some(index) => (index, "no-cache"),
            None => {
                return ApiError::internal("the console bundle has no index.html").into_response();
            }
        },
    };
    let headers = [
        (header::CONTENT_TYPE, content_type(file.path().extension())),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
    ];
    (headers, file.contents()).into_response()
}

fn content_type(extension: Option<&std::ffi::OsStr>) -> HeaderValue {
    HeaderValue::from_static(match extension.and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    })
}
