//! The demo data in `seeds/`: loaded on a first start, exactly as the files say, once.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tests::documented::{assert_union_documented, union_violations};
use tests::{TestApp, json, on_both_databases};

/// A seeded metadata document: where it lives over HTTP and what the file says.
struct SeedDocument {
    /// `/v1/platform` or `/v1/merchants/{id}`.
    scope_path: String,
    kind: String,
    name: String,
    body: Value,
    /// The body's text, to compare key order.
    text: String,
}

impl SeedDocument {
    fn path(&self) -> String {
        format!("{}/metadata/{}/{}", self.scope_path, self.kind, self.name)
    }
}

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    entries
}

fn documents_under(dir: &Path, scope_path: &str, out: &mut Vec<SeedDocument>) {
    for kind_dir in files_in(dir).into_iter().filter(|p| p.is_dir()) {
        let kind = kind_dir.file_name().unwrap().to_str().unwrap().to_owned();
        for file in files_in(&kind_dir) {
            if file.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("seed file");
            let body: Value = serde_json::from_str(&text).expect("seed JSON");
            out.push(SeedDocument {
                scope_path: scope_path.to_owned(),
                kind: kind.clone(),
                name: file.file_stem().unwrap().to_str().unwrap().to_owned(),
                text: serde_json::to_string(&body).unwrap(),
                body,
            });
        }
    }
}

/// Every metadata document in `seeds/`.
fn seed_documents() -> Vec<SeedDocument> {
    let mut documents = Vec::new();
    documents_under(
        &seeds_dir().join("platform"),
        "/v1/platform",
        &mut documents,
    );
    for merchant in files_in(&seeds_dir().join("merchants")) {
        let id = merchant.file_name().unwrap().to_str().unwrap();
        documents_under(&merchant, &format!("/v1/merchants/{id}"), &mut documents);
    }
    documents
}

fn names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

fn methods(document: &Value) -> Vec<String> {
    document["published"]["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .map(|m| m["method"].as_str().unwrap().to_owned())
        .collect()
}

/// The latest version of every seeded document and the size of every audit log.
async fn snapshot(app: &TestApp) -> Vec<(String, Value)> {
    let mut state = Vec::new();
    for document in seed_documents() {
        let got = app.get(&document.path()).await;
        got.assert_status(200);
        let versions = app.list_all(&format!("{}/versions", document.path())).await;
        state.push((
            document.path(),
            json!({"published_version": got.body["published_version"], "published": got.body["published"],
                   "draft": got.body["draft"], "versions": versions}),
        ));
    }
    for log in [
        "/v1/platform/audit-log",
        "/v1/merchants/haidilao/audit-log",
        "/v1/merchants/xibei/audit-log",
    ] {
        state.push((log.to_owned(), Value::Array(app.list_all(log).await)));
    }
    state.push((
        "/v1/merchants".to_owned(),
        Value::Array(app.list_all("/v1/merchants").await),
    ));
    state
}

on_both_databases! {
    async fn demo_merchants_are_there(app: TestApp) {
        let listed = app.get("/v1/merchants").await;
        listed.assert_status(200);
        let merchants = listed.body["data"].as_array().unwrap();
        let pairs: Vec<(&str, &str)> = merchants.iter().map(|m| (m["id"].as_str().unwrap(), m["name"].as_str().unwrap())).collect();
        assert_eq!(pairs, [("haidilao", "Haidilao Hot Pot"), ("xibei", "Xibei Youmian Village")]);
    }

    async fn payment_combinations_are_the_demo_ones(app: TestApp) {
        let haidilao = app.get("/v1/merchants/haidilao/metadata/payment-combination/default").await;
        haidilao.assert_status(200);
        assert_eq!(methods(&haidilao.body), ["alipay", "wechat_pay"]);
        assert_eq!(haidilao.body["published_version"], 1);
        assert!(haidilao.body["draft"].is_null());
        let xibei = app.get("/v1/merchants/xibei/metadata/payment-combination/default").await;
        assert_eq!(methods(&xibei.body), ["alipay", "wechat_pay", "unionpay"]);
        assert_eq!(xibei.body["published_version"], 1);
    }

    async fn catalog_has_the_five_methods(app: TestApp) {
        let catalog = app.get("/v1/platform/metadata/payment-method").await;
        catalog.assert_status(200);
        assert_eq!(names(&catalog.body), ["alipay", "cash_on_delivery", "points", "unionpay", "wechat_pay"]);
        for entry in catalog.body["data"].as_array().unwrap() {
            assert_eq!(entry["published_version"], 1, "{entry}");
            assert_eq!(entry["has_draft"], false, "{entry}");
            let name = entry["name"].as_str().unwrap();
            let doc = app.get(&format!("/v1/platform/metadata/payment-method/{name}")).await;
            assert_eq!(doc.body["published"]["code"], name);
            assert!(doc.body["published"]["names"]["en"].as_str().is_some_and(|n| !n.is_empty()));
        }
        let cod = app.get("/v1/platform/metadata/payment-method/cash_on_delivery").await;
        assert_eq!(cod.body["published"]["online"], false);
        let alipay = app.get("/v1/platform/metadata/payment-method/alipay").await;
        assert_eq!(alipay.body["published"]["online"], true);
    }

    async fn both_merchants_have_functions_routing_and_a_checkout_page(app: TestApp) {
        for merchant in ["haidilao", "xibei"] {
            let base = format!("/v1/merchants/{merchant}/metadata");
            let functions = app.get(&format!("{base}/discount-function")).await;
            functions.assert_status(200);
            assert_eq!(names(&functions.body), ["alipay-discount", "unionpay-discount", "wechat-pay-discount"]);
            for function in functions.body["data"].as_array().unwrap() {
                assert_eq!(function["published_version"], 1);
            }
            let alipay = app.get(&format!("{base}/discount-function/alipay-discount")).await;
            assert!(alipay.body["published"]["script"].as_str().unwrap().contains("percent_of"));
            assert!(!alipay.body["published"]["tests"].as_array().unwrap().is_empty());

            let routing = app.get(&format!("{base}/routing-table/default")).await;
            routing.assert_status(200);
            assert_eq!(routing.body["published_version"], 1);
            let rules: Vec<(String, String)> = routing.body["published"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["when"]["method"].as_str().unwrap().to_owned(), r["function"].as_str().unwrap().to_owned()))
                .collect();
            assert_eq!(rules, [
                ("alipay".to_owned(), "alipay-discount".to_owned()),
                ("wechat_pay".to_owned(), "wechat-pay-discount".to_owned()),
                ("unionpay".to_owned(), "unionpay-discount".to_owned()),
            ]);
            assert_eq!(routing.body["published"]["default"], json!({"action": "cancel"}));

            let page = app.get(&format!("{base}/checkout-page/default")).await;
            page.assert_status(200);
            assert_eq!(page.body["published_version"], 1);
            let sections: Vec<&str> = page.body["published"]["sections"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
            assert_eq!(sections, ["address", "delivery_time", "notes", "items_summary", "payment_methods"]);
        }
    }

    async fn platform_default_flow_is_published(app: TestApp) {
        let flow = app.get("/v1/platform/metadata/order-flow/default").await;
        flow.assert_status(200);
        assert_eq!(flow.body["published_version"], 1);
        let published = &flow.body["published"];
        assert_eq!(published["timeoutSeconds"], 3600);
        let steps: Vec<(&str, &str)> = published["steps"].as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap(), s["action"].as_str().unwrap())).collect();
        assert_eq!(steps, [
            ("generateInfo", "resolve_payment_combination"),
            ("payment", "await_payment"),
            ("paymentCombination", "apply_discount"),
            ("orderCompleted", "complete_order"),
            ("orderCanceled", "cancel_order"),
        ]);
        assert_eq!(published["steps"][1]["pattern"], "waitForCallback");
        assert_eq!(published["steps"][1]["timeoutSeconds"], 300);
        // Merchants have no flow of their own in the demo: they use the platform's.
        let own = app.get("/v1/merchants/haidilao/metadata/order-flow").await;
        assert_eq!(own.body["data"], json!([]));
    }

    async fn every_seed_file_is_published_as_version_1_by_seed(app: TestApp) {
        let documents = seed_documents();
        assert_eq!(documents.len(), 18, "the demo data has 18 documents");
        for document in &documents {
            let got = app.get(&document.path()).await;
            got.assert_status(200);
            assert_eq!(got.body["published_version"], 1, "{}", document.path());
            assert!(got.body["draft"].is_null(), "{}", document.path());
            assert_eq!(got.body["published"], document.body, "{}", document.path());
            // Exactly as the file says, key order included.
            assert_eq!(serde_json::to_string(&got.body["published"]).unwrap(), document.text, "{}", document.path());
            let versions = app.get(&format!("{}/versions", document.path())).await;
            let data = versions.body["data"].as_array().unwrap();
            assert_eq!(data.len(), 1, "{}: {}", document.path(), versions.text);
            assert_eq!(data[0]["version"], 1);
            assert_eq!(data[0]["published_by"], "seed");
            assert!(data[0]["rolled_back_from"].is_null());
        }
        // Every seeded change is in the audit log, by `seed`: a draft save then a publish of
        // each document, and nothing else.
        for (log, scope_path) in [
            ("/v1/platform/audit-log", "/v1/platform"),
            ("/v1/merchants/haidilao/audit-log", "/v1/merchants/haidilao"),
            ("/v1/merchants/xibei/audit-log", "/v1/merchants/xibei"),
        ] {
            let entries = app.list_all(log).await;
            let in_scope: Vec<&SeedDocument> = documents.iter().filter(|d| d.scope_path == scope_path).collect();
            assert_eq!(entries.len(), 2 * in_scope.len(), "{log}: {entries:?}");
            for entry in &entries {
                assert_eq!(entry["actor"], "seed", "{entry}");
            }
            for document in in_scope {
                let actions: Vec<(&str, &Value)> = entries
                    .iter()
                    .filter(|e| e["kind"] == document.kind.as_str() && e["name"] == document.name.as_str())
                    .map(|e| (e["action"].as_str().unwrap(), &e["to_version"]))
                    .collect();
                assert_eq!(actions, [("published", &json!(1)), ("draft_saved", &Value::Null)], "{}", document.path());
            }
        }
    }

    async fn seed_documents_as_served_match_their_kinds_schemas_in_the_document(app: TestApp) {
        let mut documents = Vec::new();
        let mut versions = Vec::new();
        for seed in seed_documents() {
            let document = app.get(&seed.path()).await;
            document.assert_status(200);
            documents.push(document.body);
            let version = app.get(&format!("{}/versions/1", seed.path())).await;
            version.assert_status(200);
            versions.push(version.body);
        }
        // A draft is documented as the kind's body too.
        let path = "/v1/merchants/haidilao/metadata/payment-combination/default";
        app.put(&format!("{path}/draft"), &json!({"methods": [{"method": "alipay"}]}))
            .await
            .assert_status(200);
        documents.push(app.get(path).await.body);
        assert_union_documented(&app, "Document", &documents).await;
        assert_union_documented(&app, "Version", &versions).await;

        // The bodies are held to the kind's schema, not to any object.
        let mut broken = documents.last().expect("a document").clone();
        broken["draft"]["methods"] = json!([]);
        let mut mislabeled = versions[0].clone();
        mislabeled["kind"] = json!("routing-table");
        for value in [(broken, "Document"), (mislabeled, "Version")] {
            assert!(
                !union_violations(&app, value.1, std::slice::from_ref(&value.0)).await.is_empty(),
                "{} passed as a {}",
                value.0,
                value.1
            );
        }
    }

    async fn a_second_start_on_the_same_database_changes_nothing(app: TestApp) {
        let before = snapshot(&app).await;
        let second = TestApp::spawn_on(app.backend, app.database_url(), true).await;
        assert_ne!(second.base, app.base, "a second app, on its own port");
        let after = snapshot(&second).await;
        assert_eq!(before, after);

        // A change made after the first start survives a restart untouched.
        let changed = json!({"methods": [{"method": "alipay"}]});
        assert_eq!(second.publish("/v1/merchants/haidilao", "payment-combination", "default", &changed).await, 2);
        let with_change = snapshot(&second).await;
        let third = TestApp::spawn_on(app.backend, app.database_url(), true).await;
        assert_eq!(snapshot(&third).await, with_change);
        let doc = third.get("/v1/merchants/haidilao/metadata/payment-combination/default").await;
        assert_eq!(doc.body["published_version"], 2);
        assert_eq!(doc.body["published"], changed);
        // Every instance sees the same data.
        assert_eq!(snapshot(&app).await, with_change);
    }

    async fn without_seeding_the_database_stays_empty(app: TestApp) {
        let empty = TestApp::spawn_with(app.backend, false).await.expect("an unseeded app");
        let merchants = empty.get("/v1/merchants").await;
        merchants.assert_status(200);
        assert_eq!(merchants.body["data"], json!([]));
        assert!(merchants.body["next_cursor"].is_null());
        let catalog = empty.get("/v1/platform/metadata/payment-method").await;
        catalog.assert_status(200);
        assert_eq!(catalog.body["data"], json!([]));
        assert_eq!(empty.get("/v1/platform/metadata/order-flow").await.body["data"], json!([]));
        assert_eq!(empty.get("/v1/platform/audit-log").await.body["data"], json!([]));
        empty.get("/v1/merchants/haidilao").await.assert_problem(404, "not-found");
        empty.get("/v1/platform/metadata/order-flow/default").await.assert_problem(404, "not-found");
        // It is a working, empty app: the admin key works and things can be created.
        empty.create_merchant("first").await;
        assert_eq!(empty.get("/v1/merchants").await.body["data"][0]["id"], "first");
        // A later start with seeding on does not load the demo into a database in use.
        let restarted = TestApp::spawn_on(empty.backend, empty.database_url(), true).await;
        let ids: Vec<Value> = restarted.list_all("/v1/merchants").await.into_iter().map(|m| m["id"].clone()).collect();
        assert_eq!(ids, [json!("first")]);
        assert_eq!(restarted.get("/v1/platform/metadata/payment-method").await.body["data"], json!([]));
        // The seeded app next to it is unaffected.
        assert_eq!(app.get("/v1/merchants").await.body["data"].as_array().unwrap().len(), 2);
    }
}
