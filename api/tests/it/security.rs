//! Hardening: nobody escalates through automation, no token comes back to life, and an
//! account whose identity clients are switched off has no working clients.

use crate::helpers::{Backend, TestApp, json, on_both_backends, spawn_app, valid_client};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "correct-horse-battery";

async fn token_of(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    app.token(
        &[("grant_type", "client_credentials")],
        Some((client_id, secret)),
    )
    .await
}

async fn bearer_of(app: &TestApp, client_id: &str) -> String {
    let res = token_of(app, client_id, SECRET).await;
    assert_eq!(res.status(), StatusCode::OK, "{client_id} gets a token");
    json(res).await["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(app: &TestApp, caller: &str, token: &str) -> Value {
    let res = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .basic_auth(caller, Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

async fn make(app: &TestApp, admin: &reqwest::Client, client_id: &str, roles: Value) -> String {
    let mut body = valid_client(client_id);
    body["roles"] = roles;
    let res = app.create_client(admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    format!(
        "/api/v1/identity-clients/{}",
        json(res).await["id"].as_str().unwrap()
    )
}

on_both_backends!(automation_cannot_take_over_or_switch_off_a_more_powerful_client);

/// A leaked automation token holds `identity-clients:manage` only: it may manage clients within
/// that, but cannot set the secret of (and then act as), rename, re-enable, revoke or delete a
/// client with roles it lacks.
async fn automation_cannot_take_over_or_switch_off_a_more_powerful_client(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    make(
        &app,
        &admin,
        "automation-bot",
        json!(["identity-clients:manage"]),
    )
    .await;
    let payouts = make(
        &app,
        &admin,
        "payouts-client",
        json!(["payments:read", "refunds:write"]),
    )
    .await;
    let peer = make(
        &app,
        &admin,
        "peer-client",
        json!(["identity-clients:manage"]),
    )
    .await;
    let bearer = format!("Bearer {}", bearer_of(&app, "automation-bot").await);
    let api = reqwest::Client::new();
    let send = |req: reqwest::RequestBuilder| {
        let bearer = bearer.clone();
        async move { req.header("authorization", bearer).send().await.unwrap() }
    };

    // The admin disables the powerful client; automation must not bring it back.
    let res = admin
        .patch(app.url(&payouts))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let before = json(admin.get(app.url(&payouts)).send().await.unwrap()).await;

    for (what, res) in [
        (
            "set its secret by edit",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"client_secret": "attacker-chosen"})),
            )
            .await,
        ),
        (
            "set its secret by rotation",
            send(
                api.post(app.url(&format!("{payouts}/secret")))
                    .json(&json!({"client_secret": "attacker-chosen"})),
            )
            .await,
        ),
        (
            "re-enable it",
            send(api.patch(app.url(&payouts)).json(&json!({"enabled": true}))).await,
        ),
        (
            "take its client ID",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"client_id": "renamed-client"})),
            )
            .await,
        ),
        (
            "end its tokens",
            send(api.post(app.url(&format!("{payouts}/revoke-tokens")))).await,
        ),
        (
            "pin it to another address (a lock-out)",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"allowed_addresses": ["192.0.2.1"]})),
            )
            .await,
        ),
        (
            "starve it with a quota (a lock-out)",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"token_quota_per_hour": 1})),
            )
            .await,
        ),
        (
            "switch its quota to report only",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"token_quota_mode": "report"})),
            )
            .await,
        ),
        (
            "lengthen its tokens' life",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"token_duration_minutes": 60})),
            )
            .await,
        ),
        (
            "end its previous secret",
            send(api.delete(app.url(&format!("{payouts}/previous-secret")))).await,
        ),
        ("delete it", send(api.delete(app.url(&payouts))).await),
        (
            "cut its roles down to its own (which would open the rest)",
            send(
                api.patch(app.url(&payouts))
                    .json(&json!({"roles": ["identity-clients:manage"]})),
            )
            .await,
        ),
    ] {
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "automation may not {what}"
        );
        let problem = json(res).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("every role it holds"),
            "the answer says why: {problem}"
        );
    }
    let after = json(admin.get(app.url(&payouts)).send().await.unwrap()).await;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(
        token_of(&app, "payouts-client", "attacker-chosen")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Within its own roles it may, and an admin may always.
    let res = send(
        api.patch(app.url(&peer))
            .json(&json!({"client_secret": "rotated-by-bot"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = send(
        api.patch(app.url(&payouts))
            .json(&json!({"name": "Renamed by bot"})),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "ordinary fields stay editable"
    );
    let res = admin
        .patch(app.url(&payouts))
        .json(&json!({"enabled": true, "client_secret": "admin-chosen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

on_both_backends!(tokens_never_come_back_to_life);

/// Disable then enable, delete and reuse the client ID, or "revoke all tokens": earlier tokens
/// stay dead at introspection and as bearer tokens.
async fn tokens_never_come_back_to_life(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    make(&app, &admin, "introspector", json!(["payments:read"])).await;
    let bot = make(
        &app,
        &admin,
        "manager-bot",
        json!(["identity-clients:manage", "payments:read"]),
    )
    .await;
    let old = bearer_of(&app, "manager-bot").await;
    let active = |t: String| {
        let app = &app;
        async move { introspect(app, "introspector", &t).await["active"] == json!(true) }
    };
    assert!(active(old.clone()).await);

    for enabled in [false, true] {
        let res = admin
            .patch(app.url(&bot))
            .json(&json!({"enabled": enabled}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert!(
        !active(old.clone()).await,
        "disable + enable does not revive a token"
    );
    let list = reqwest::Client::new()
        .get(app.url("/api/v1/identity-clients"))
        .bearer_auth(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.status(),
        StatusCode::UNAUTHORIZED,
        "nor as a bearer token"
    );

    // Revoke all tokens: the current one dies too, a new one works.
    let current = bearer_of(&app, "manager-bot").await;
    assert!(active(current.clone()).await);
    let res = admin
        .post(app.url(&format!("{bot}/revoke-tokens")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!active(current).await);
    let events = json(
        admin
            .get(app.url(&format!("{bot}/events")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(events["items"][0]["action"], "tokens_revoked");
    assert!(active(bearer_of(&app, "manager-bot").await).await);

    // Renamed, and renamed back: still dead.
    let before_rename = bearer_of(&app, "manager-bot").await;
    for id in ["manager-bot-2", "manager-bot"] {
        let res = admin
            .patch(app.url(&bot))
            .json(&json!({"client_id": id}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert!(
        !active(before_rename).await,
        "a rename and back revives nothing"
    );

    // Delete, and make a new client under the same client ID: the old client's token is not its.
    let before_delete = bearer_of(&app, "manager-bot").await;
    assert_eq!(
        admin.delete(app.url(&bot)).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    make(
        &app,
        &admin,
        "manager-bot",
        json!(["identity-clients:manage", "payments:read"]),
    )
    .await;
    assert!(
        !active(before_delete).await,
        "a reused client ID revives nothing"
    );
}

on_both_backends!(introspection_reports_only_roles_still_held);

async fn introspection_reports_only_roles_still_held(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    make(&app, &admin, "introspector", json!(["payments:read"])).await;
    let client = make(
        &app,
        &admin,
        "two-roles",
        json!(["payments:read", "refunds:write"]),
    )
    .await;
    let token = bearer_of(&app, "two-roles").await;
    assert_eq!(
        introspect(&app, "introspector", &token).await["scope"],
        "payments:read refunds:write"
    );
    let res = admin
        .patch(app.url(&client))
        .json(&json!({"roles": ["payments:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        introspect(&app, "introspector", &token).await["scope"],
        "payments:read"
    );
}

on_both_backends!(switching_the_feature_off_stops_the_accounts_clients);

/// With Identity Clients off for an account, its clients get `invalid_client` and their tokens
/// are inactive and authorise nothing; switching it on restores token issuance.
async fn switching_the_feature_off_stops_the_accounts_clients(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, who) = app.signed_in_admin().await;
    make(
        &app,
        &admin,
        "feature-bot",
        json!(["identity-clients:manage"]),
    )
    .await;
    let token = bearer_of(&app, "feature-bot").await;
    // An introspecting client of another account still enabled: the answer is about the token.
    let (other_admin, _) = app.signed_in_admin().await;
    make(&app, &other_admin, "introspector", json!(["payments:read"])).await;

    let account = who.account_id.clone();
    app.db(move |c| vitesse_api::store::accounts::set_identity_clients_enabled(c, &account, false))
        .await;
    let res = token_of(&app, "feature-bot", SECRET).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/identity-clients"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the token authorises nothing"
    );
    let res = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .basic_auth("feature-bot", Some(SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "nor can it introspect"
    );

    let account = who.account_id.clone();
    app.db(move |c| vitesse_api::store::accounts::set_identity_clients_enabled(c, &account, true))
        .await;
    assert_eq!(
        token_of(&app, "feature-bot", SECRET).await.status(),
        StatusCode::OK
    );
}

on_both_backends!(oversized_identifiers_are_refused_before_anything_is_kept);

async fn oversized_identifiers_are_refused_before_anything_is_kept(b: Backend) {
    let app = spawn_app(b).await;
    let tracked = |app: &TestApp| {
        app.state.token_throttle.len()
            + app.state.address_throttle.len()
            + app.state.sign_in_throttle.len()
    };
    let long_id = "a".repeat(101);
    let res = token_of(&app, &long_id, SECRET).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": format!("{}@example.com", "x".repeat(250)), "password": "whatever-it-is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        tracked(&app),
        0,
        "nothing was kept for identifiers no one can have"
    );
    // An identifier that could exist is counted.
    token_of(&app, &"a".repeat(100), SECRET).await;
    assert_eq!(tracked(&app), 2);
}

on_both_backends!(expired_sessions_are_swept_without_a_request);

async fn expired_sessions_are_swept_without_a_request(b: Backend) {
    use diesel::{QueryDsl, RunQueryDsl};
    let app = crate::helpers::spawn_app_with(b, |c| {
        c.session_idle = std::time::Duration::from_secs(1);
        c.key_reload = std::time::Duration::from_millis(500);
    })
    .await;
    app.signed_in_admin().await;
    let count = || {
        app.db(|c| {
            Ok(vitesse_api::store::schema::sessions::table
                .count()
                .get_result::<i64>(c)?)
        })
    };
    assert_eq!(count().await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        count().await,
        0,
        "the idle session was deleted by the sweep"
    );
}

#[actix_web::test]
async fn over_https_cookies_are_host_only_and_browsers_are_told_to_stay() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |c| {
        c.issuer = "https://id.vitesse.example".into();
    })
    .await;
    let account = app.new_account(true).await;
    let admin = app.new_user(&account, "merchant-admin").await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": admin.email, "password": admin.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-vitesse_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");

    // Over plain http (development): no HSTS, the plain name.
    let plain = spawn_app(Backend::Sqlite).await;
    let res = reqwest::get(plain.url("/healthz")).await.unwrap();
    assert!(!res.headers().contains_key("strict-transport-security"));
}

/// `--metrics-bind`: metrics answer on their own listener only.
#[actix_web::test]
async fn metrics_can_move_to_a_listener_of_their_own() {
    let dir = std::env::temp_dir().join(crate::helpers::unique("vitesse-metrics-"));
    std::fs::create_dir_all(&dir).unwrap();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, metrics_port) = (free(), free());
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_vitesse-identity"))
        .args([
            "--bcrypt-cost",
            "4",
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--metrics-bind", &format!("127.0.0.1:{metrics_port}")])
        .env("VITESSE_DATA_DIR", &dir)
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut answers = None;
    for _ in 0..100 {
        let public = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await;
        let private = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await;
        if let (Ok(public), Ok(private)) = (public, private) {
            answers = Some((
                public.status(),
                private.status(),
                private.text().await.unwrap(),
            ));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let (public, private, text) = answers.expect("both listeners answered");
    assert_eq!(public, StatusCode::NOT_FOUND);
    assert_eq!(private, StatusCode::OK);
    assert!(text.contains("vitesse_tokens_issued_total"), "{text}");
}

on_both_backends!(a_disabled_client_is_refused_like_a_wrong_secret);

/// The holder of a leaked secret learns nothing from a disabled client: the right secret is
/// refused like a wrong one, and counted like one.
async fn a_disabled_client_is_refused_like_a_wrong_secret(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let path = make(&app, &admin, "leaked-client", json!(["payments:read"])).await;
    bearer_of(&app, "leaked-client").await; // verified once: remembered
    let res = admin
        .patch(app.url(&path))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..20 {
        let res = token_of(&app, "leaked-client", SECRET).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = token_of(&app, "leaked-client", SECRET).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right secret of a disabled client counts as a failure"
    );
}

on_both_backends!(hostile_text_and_forged_headers_change_nothing);

/// Control and text-direction characters in labels, bodies that are not JSON by their type, and
/// a forged X-Forwarded-Host on a cross-site write: each refused, nothing stored.
async fn hostile_text_and_forged_headers_change_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    for name in ["nul\u{0}name", "abc\u{202E}fed"] {
        let mut body = valid_client("hidden-chars");
        body["name"] = json!(name);
        let res = app.create_client(&admin, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(json(res).await["errors"][0]["field"], "name");
    }
    let res = admin
        .post(app.url("/api/v1/identity-clients"))
        .header("content-type", "text/plain")
        .body(valid_client("plain-text").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = admin
        .post(app.url("/api/v1/identity-clients"))
        .header("origin", "http://evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=http")
        .json(&valid_client("forged-host"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "forwarded headers from a non-proxy"
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
}

/// A token that claims a longer life than any of ours can have is refused, even well signed.
#[actix_web::test]
async fn a_token_claiming_a_longer_life_than_ours_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let (admin, who) = app.signed_in_admin().await;
    let bot = make(
        &app,
        &admin,
        "long-lived-bot",
        json!(["identity-clients:manage"]),
    )
    .await;
    let pk = bot.rsplit('/').next().unwrap().to_owned();
    let now = vitesse_api::oauth::access_token::unix_now();
    let forged = app
        .state
        .keys()
        .sign(&vitesse_api::oauth::access_token::ClaimsToSign {
            iss: &app.addr,
            sub: "long-lived-bot",
            aud: "vitesse-api",
            iat: now,
            exp: now + 365 * 24 * 3600,
            jti: "forged-jti".into(),
            client_id: "long-lived-bot",
            scope: "identity-clients:manage",
            account_id: &who.account_id,
            cpk: &pk,
            cgen: 0,
        })
        .unwrap();
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/identity-clients"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// The SQLite file holds the signing keys: it is the owner's alone, and so are its WAL files.
#[actix_web::test]
async fn the_database_file_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Backend::Sqlite).await;
    app.signed_in_admin().await;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", app.database_url);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
}
