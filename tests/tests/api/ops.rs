use tests::on_both_databases;

on_both_databases! {
    async fn health_and_readiness(app: TestApp) {
        let health = app.send(reqwest::Method::GET, "/healthz", None, None).await;
        health.assert_status(200);
        assert_eq!(health.body["status"], "ok");
        let ready = app.send(reqwest::Method::GET, "/readyz", None, None).await;
        ready.assert_status(200);
        assert_eq!(ready.body["status"], "ready");
    }

    async fn unknown_route_is_a_problem(app: TestApp) {
        app.get("/v1/nothing-here").await.assert_problem(404, "not-found");
    }

    async fn wrong_method_is_a_problem(app: TestApp) {
        app.send(reqwest::Method::DELETE, "/v1/merchants", Some(tests::ADMIN_KEY), None)
            .await
            .assert_problem(405, "method-not-allowed");
    }
}
