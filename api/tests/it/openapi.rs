use std::collections::BTreeSet;
use vitesse_api::app::{ROUTES, UNDOCUMENTED};

fn document() -> serde_json::Value {
    serde_json::from_str(&vitesse_api::openapi::document()).unwrap()
}

#[test]
fn committed_document_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .expect("openapi/openapi.json exists (run `just openapi`)");
    assert!(
        committed == vitesse_api::openapi::document(),
        "openapi/openapi.json is stale: run `just openapi` and commit it"
    );
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has an operationId"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has a tag"
            );
            documented.insert((method.clone(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|(_, p)| !UNDOCUMENTED.contains(p))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, routed);
}

#[test]
fn the_secret_is_accepted_but_never_returned() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["CreateClientRequest"]["properties"]["client_secret"].is_object());
    assert!(
        schemas["IdentityClient"]["properties"]
            .get("client_secret")
            .is_none()
    );
    let id = &schemas["CreateClientRequest"]["properties"]["client_id"];
    assert_eq!(id["minLength"], 6);
    assert_eq!(id["maxLength"], 100);
}

#[actix_web::test]
async fn the_document_and_interactive_docs_are_served_offline() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let served: serde_json::Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, document());
    let docs = reqwest::get(app.url("/api/docs/")).await.unwrap();
    assert_eq!(docs.status(), reqwest::StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every asset comes from this server, none from a CDN.
    assert!(!html.contains("https://"), "{html}");
    let css = reqwest::get(app.url("/api/docs/swagger-ui.css"))
        .await
        .unwrap();
    assert_eq!(css.status(), reqwest::StatusCode::OK);
}
