//! The admin console at `/admin`: the embedded single-page app and its assets.

use reqwest::Method;
use tests::on_both_databases;

/// The hashed script the console's page loads.
fn script_path(page: &str) -> &str {
    let start = page
        .find("src=\"/admin/assets/")
        .expect("a script under /admin/assets/")
        + 5;
    let end = start + page[start..].find('"').expect("closing quote");
    &page[start..end]
}

on_both_databases! {
    async fn admin_redirects_to_the_app(app: TestApp) {
        let response = app.raw_request("GET", "/admin").await;
        assert_eq!(response.status, 308);
        assert_eq!(response.header("location"), Some("/admin/"));
    }

    async fn every_console_path_serves_the_app_page(app: TestApp) {
        for path in ["/admin/", "/admin/sign-in", "/admin/merchants/haidilao/orders"] {
            let response = app.raw_request("GET", path).await;
            assert_eq!(response.status, 200, "{path}");
            assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"), "{path}");
            assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
            let policy = response.header("content-security-policy").expect("a CSP");
            assert!(policy.contains("default-src 'self'") && !policy.contains("unsafe-eval"), "{policy}");
            assert!(response.body.contains("<div id=\"root\">"), "{path}: {}", response.body);
        }
    }

    async fn hashed_assets_are_cached_for_good(app: TestApp) {
        let page = app.raw_request("GET", "/admin/").await;
        let script = app.raw_request("GET", script_path(&page.body)).await;
        assert_eq!(script.status, 200);
        assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
        assert_eq!(script.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert!(!script.body.is_empty());
    }

    async fn a_missing_asset_is_a_problem_not_the_page(app: TestApp) {
        app.send(Method::GET, "/admin/assets/index-gone.js", None, None)
            .await
            .assert_problem(404, "not-found");
    }

    async fn the_console_needs_no_key_but_the_api_does(app: TestApp) {
        app.send(Method::GET, "/admin/", None, None).await.assert_status(200);
        app.send(Method::GET, "/v1/me", None, None).await.assert_problem(401, "unauthorized");
    }
}
