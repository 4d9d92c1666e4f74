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
