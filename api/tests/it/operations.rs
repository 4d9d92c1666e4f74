//! What operators and browsers rely on: health, readiness, security headers.
use crate::helpers::*;
use reqwest::StatusCode;

#[actix_web::test]
async fn health_and_readiness() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        StatusCode::OK
    );
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in [
        "/administration/identity-clients",
        "/api/v1/identity-clients",
        "/oauth2/jwks",
        "/api/docs/",
        "/nope",
    ] {
        let res = reqwest::get(app.url(path)).await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        if !path.starts_with("/api/docs") {
            assert!(
                csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
        }
    }
}

#[actix_web::test]
async fn metrics_count_tokens_by_outcome_and_requests_carry_ids() {
    let app = spawn_app(Backend::Sqlite).await;
    let (admin, _) = app.signed_in_admin().await;
    assert_eq!(
        app.create_client(&admin, &valid_client("metrics-client"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let grant = [("grant_type", "client_credentials")];
    app.token(&grant, Some(("metrics-client", "correct-horse-battery")))
        .await;
    app.token(&grant, Some(("metrics-client", "wrong-secret")))
        .await;
    app.token(&[("grant_type", "password")], None).await;
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "vitesse_tokens_issued_total 1",
        "vitesse_tokens_refused_total{reason=\"invalid_client\"} 1",
        "vitesse_tokens_refused_total{reason=\"unsupported_grant_type\"} 1",
        "vitesse_token_request_duration_seconds_count 3",
        "vitesse_bcrypt_queue_depth 0",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    // The histogram's buckets are cumulative and end at the count.
    let buckets: Vec<u64> = text
        .lines()
        .filter(|l| l.starts_with("vitesse_token_request_duration_seconds_bucket"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&3));
    // The id a response carries when the request sent `sent`.
    let answered_id = async |sent: &str| {
        let res = reqwest::Client::new()
            .get(app.url("/healthz"))
            .header("x-request-id", sent)
            .send()
            .await
            .unwrap();
        res.headers()["x-request-id"].to_str().unwrap().to_owned()
    };
    assert_eq!(answered_id("trace-123").await, "trace-123");
    // An id that would read as a second span in a text log line is replaced, not echoed.
    let id = answered_id("a}:request{request_id=b").await;
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "a new id for a hostile one, got {id}"
    );
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(
        res.headers()["x-request-id"].len(),
        32,
        "a new id when none is given"
    );
}

#[actix_web::test]
async fn undeclared_methods_are_405_with_allow_and_bad_queries_400() {
    let app = spawn_app(Backend::Sqlite).await;
    let res = reqwest::Client::new()
        .put(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET");
    let res = reqwest::Client::new()
        .put(app.url("/api/v1/identity-clients/some-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, PATCH, DELETE");
    assert_eq!(
        reqwest::get(app.url("/api/v1/nothing-here"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let (admin, _) = app.signed_in_admin().await;
    let res = admin
        .get(app.url("/api/v1/identity-clients?limit=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    // An empty If-Match is no precondition at all.
    let made = json(
        app.create_client(&admin, &valid_client("if-match-client"))
            .await,
    )
    .await;
    let res = admin
        .patch(app.url(&path_of(&made)))
        .header("if-match", "")
        .json(&serde_json::json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
