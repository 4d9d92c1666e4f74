//! The contract is written once: requests carry only the members it names, the OpenAPI
//! document's limits are the domain's own, the OAuth responses have real schemas, and every
//! log line of a request carries the request's id.

use crate::helpers::{Backend, json, on_both_backends, spawn_app, unique, valid_client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vitesse_domain::listing::{PAGE_MAX, PAGE_MIN, SEARCH_MAX};
use vitesse_domain::{
    ClientId, ClientName, ClientSecret, Description, MAX_SECRET_GRACE_MINUTES, RoleName,
    TokenDuration,
};

on_both_backends!(a_member_the_contract_does_not_name_is_refused_and_changes_nothing);

async fn a_member_the_contract_does_not_name_is_refused_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;

    // A typo: `token_duration` instead of `token_duration_minutes`.
    let mut body = valid_client("typo-client");
    body.as_object_mut()
        .unwrap()
        .remove("token_duration_minutes");
    body["token_duration"] = json!(45);
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json(res).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["token_duration", "token_duration_minutes"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("token_duration_minutes"),
        "the message names the fields the request accepts: {problem}"
    );
    // The typo with every required field present is refused too, and nothing is created.
    let mut body = valid_client("typo-client");
    body["token_duration"] = json!(45);
    assert_eq!(
        app.create_client(&admin, &body).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let list = json(
        admin
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"], json!([]), "nothing was created");

    let created = json(app.create_client(&admin, &valid_client("edit-typo")).await).await;
    let path = format!(
        "/api/v1/identity-clients/{}",
        created["id"].as_str().unwrap()
    );
    let res = admin
        .patch(app.url(&path))
        .json(&json!({"enabeld": false, "name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "enabeld");
    let res = admin
        .post(app.url(&format!("{path}/secret")))
        .json(&json!({"client_secret": "another-secret", "grace_minutes": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "grace_minutes");
    let now = json(admin.get(app.url(&path)).send().await.unwrap()).await;
    assert_eq!(now, created, "the refused edits changed nothing");

    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "a@example.com", "password": "whatever-it-is", "remember": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "remember");
}

fn document() -> Value {
    serde_json::from_str(&vitesse_api::openapi::document()).unwrap()
}

#[test]
fn the_documents_limits_are_the_domains() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let create = &schemas["CreateClientRequest"]["properties"];
    let limits = [
        ("client_id", "minLength", ClientId::MIN as i64),
        ("client_id", "maxLength", ClientId::MAX as i64),
        ("client_secret", "minLength", ClientSecret::MIN as i64),
        ("client_secret", "maxLength", ClientSecret::MAX as i64),
        ("name", "minLength", ClientName::MIN as i64),
        ("name", "maxLength", ClientName::MAX as i64),
        ("description", "maxLength", Description::MAX as i64),
        ("token_duration_minutes", "minimum", TokenDuration::MIN),
        ("token_duration_minutes", "maximum", TokenDuration::MAX),
        ("roles", "minItems", 1),
    ];
    for (field, keyword, value) in limits {
        assert_eq!(create[field][keyword], json!(value), "{field}.{keyword}");
        let update = &schemas["UpdateClientRequest"]["properties"][field];
        if field != "client_secret" {
            assert_eq!(update[keyword], json!(value), "edit {field}.{keyword}");
        }
    }
    assert_eq!(create["client_id"]["pattern"], ClientId::PATTERN);
    assert_eq!(create["roles"]["items"]["pattern"], RoleName::PATTERN);
    assert_eq!(
        schemas["RotateSecretRequest"]["properties"]["previous_secret_grace_minutes"]["maximum"],
        json!(MAX_SECRET_GRACE_MINUTES)
    );
    let params = doc["paths"]["/api/v1/identity-clients"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("parameter {name}"))["schema"]
            .clone()
    };
    assert_eq!(param("limit")["minimum"], json!(PAGE_MIN));
    assert_eq!(param("limit")["maximum"], json!(PAGE_MAX));
    assert_eq!(param("search")["maxLength"], json!(SEARCH_MAX));

    // Requests refuse members they do not name, and the document says so.
    for request in [
        "CreateClientRequest",
        "UpdateClientRequest",
        "RotateSecretRequest",
        "SignInRequest",
    ] {
        assert_eq!(
            schemas[request]["additionalProperties"],
            json!(false),
            "{request}"
        );
    }
}

#[test]
fn the_oauth_responses_have_real_schemas() {
    let doc = document();
    let body = |path: &str, status: &str| -> Value {
        let content = &doc["paths"][path]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["responses"][status]["content"];
        content.as_object().unwrap().values().next().unwrap()["schema"].clone()
    };
    for (path, status, schema) in [
        ("/oauth2/token", "200", "TokenResponse"),
        ("/oauth2/token", "400", "OAuthErrorBody"),
        ("/oauth2/token", "401", "OAuthErrorBody"),
        ("/oauth2/introspect", "200", "IntrospectionResponse"),
        ("/oauth2/jwks", "200", "JwkSet"),
        (
            "/.well-known/oauth-authorization-server",
            "200",
            "AuthorizationServerMetadata",
        ),
    ] {
        assert_eq!(
            body(path, status)["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path} {status}"
        );
    }
    let schemas = &doc["components"]["schemas"];
    let codes: Vec<&str> = vitesse_api::error::OAuthErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(
        schemas["OAuthErrorBody"]["properties"]["error"]["enum"],
        json!(codes)
    );
    for field in ["access_token", "token_type", "expires_in", "scope"] {
        assert!(
            schemas["TokenResponse"]["required"]
                .as_array()
                .unwrap()
                .contains(&json!(field)),
            "TokenResponse requires {field}"
        );
    }
}

/// Under keep-alive, each request's access line is timed from that request (not from when its
/// connection opened) and carries the id the response echoed.
#[actix_web::test]
async fn every_access_line_carries_its_request_id_and_its_own_duration() {
    let dir = std::env::temp_dir().join(unique("vitesse-log-"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.join("server.log");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_vitesse-identity"))
        .args(["--log-format", "json", "--bcrypt-cost", "4", "serve"])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("VITESSE_DATA_DIR", &dir)
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .stderr(std::fs::File::create(&log_path).unwrap())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new(); // one pool: the second request reuses the connection
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server started");
    let mut ids = vec![];
    for i in 0..2 {
        if i == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        }
        let res = http
            .get(format!("{base}/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        ids.push(res.headers()["x-request-id"].to_str().unwrap().to_owned());
    }
    let res = http
        .get(format!("{base}/api/v1/session"))
        .header("x-request-id", "caller-chosen-id")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    ids.push("caller-chosen-id".into());
    // Lines are written as the responses go out; give the writer a moment, then stop.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = server.kill();
    let _ = server.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let access: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "vitesse::access")
        .collect();
    for id in &ids {
        let line = access
            .iter()
            .find(|l| l["spans"][0]["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("an access line with request id {id} in\n{log}"));
        let took = line["duration_ms"].as_f64().unwrap();
        assert!(
            took < 1000.0,
            "a request's own duration, not its connection's age: {line}"
        );
        assert!(
            line["status"].is_u64() && line["path"].is_string(),
            "{line}"
        );
    }
    assert!(
        !access.iter().any(|l| l["path"] == "/healthz"),
        "probes are not logged"
    );
}
