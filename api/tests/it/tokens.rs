//! The token endpoint: both client authentication methods, RFC 6749 §5.2 failures, unknown,
//! wrong and disabled clients alike, the server metadata, and when a client was last used.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    both_client_authentication_methods_issue_verifiable_tokens,
    failures_follow_rfc6749_section_5_2,
    unknown_wrong_and_disabled_look_the_same,
    metadata_describes_the_service,
    last_used_is_recorded,
);

async fn both_client_authentication_methods_issue_verifiable_tokens(b: Backend) {
    let app = spawn_app(b).await;
    let owner = setup_client(&app, "shop-backend", "s3cret: with+symbols%", 25).await;

    let basic = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("shop-backend", "s3cret: with+symbols%")),
        )
        .await;
    let post = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "shop-backend"),
                ("client_secret", "s3cret: with+symbols%"),
            ],
            None,
        )
        .await;
    for res in [basic, post] {
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["pragma"], "no-cache");
        let body = json(res).await;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 25 * 60);
        assert_eq!(body["scope"], "payments:read refunds:write");
        let (header, claims) = verify(&app, body["access_token"].as_str().unwrap()).await;
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(claims["iss"], app.addr.as_str());
        assert_eq!(claims["sub"], "shop-backend");
        assert_eq!(claims["client_id"], "shop-backend");
        assert_eq!(claims["aud"], "vitesse-api");
        assert_eq!(claims["scope"], "payments:read refunds:write");
        assert_eq!(claims["account_id"], owner.account_id.as_str());
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            25 * 60
        );
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    }

    let scoped = json(
        app.token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "refunds:write"),
            ],
            Some(("shop-backend", "s3cret: with+symbols%")),
        )
        .await,
    )
    .await;
    assert_eq!(scoped["scope"], "refunds:write");
    let (_, claims) = verify(&app, scoped["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], "refunds:write");
}

async fn failures_follow_rfc6749_section_5_2(b: Backend) {
    let app = spawn_app(b).await;
    setup_client(&app, "shop-backend", "right-secret", 15).await;
    let creds = Some(("shop-backend", "right-secret"));

    let cases: Vec<(reqwest::Response, StatusCode, &str)> = vec![
        (
            app.token(&[], creds).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            app.token(&[("grant_type", "password")], creds).await,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            app.token(
                &[
                    ("grant_type", "client_credentials"),
                    ("client_secret", "right-secret"),
                ],
                creds,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            app.token(&[("grant_type", "client_credentials")], None)
                .await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            app.token(
                &[("grant_type", "client_credentials")],
                Some(("shop-backend", "wrong-secret")),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            app.token(
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "payments:write"),
                ],
                creds,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            app.token(
                &[
                    ("grant_type", "client_credentials"),
                    ("grant_type", "client_credentials"),
                ],
                creds,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (res, status, error) in cases {
        assert_eq!(res.status(), status, "{error}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                res.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic")
            );
        }
        let body = json(res).await;
        assert_eq!(body["error"], error);
        assert!(body.get("access_token").is_none());
    }

    let wrong_type = reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": "shop-backend", "client_secret": "right-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(wrong_type).await["error"], "invalid_request");

    let huge = reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&pad={}",
            "x".repeat(20_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn unknown_wrong_and_disabled_look_the_same(b: Backend) {
    let app = spawn_app(b).await;
    setup_client(&app, "shop-backend", "right-secret", 15).await;
    let unknown = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("no-such-client", "right-secret")),
        )
        .await;
    let wrong = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("shop-backend", "wrong-secret")),
        )
        .await;
    let (s1, s2) = (unknown.status(), wrong.status());
    assert_eq!(s1, s2);
    assert_eq!(json(unknown).await, json(wrong).await);
}

async fn metadata_describes_the_service(b: Backend) {
    let app = spawn_app(b).await;
    let meta = json(
        reqwest::get(app.url("/.well-known/oauth-authorization-server"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(meta["issuer"], app.addr.as_str());
    assert_eq!(meta["token_endpoint"], app.url("/oauth2/token"));
    assert_eq!(meta["jwks_uri"], app.url("/oauth2/jwks"));
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        meta["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256", "RS256", "PS256", "EdDSA", "Ed25519"])
    );
    assert!(
        meta["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("payments:read"))
    );
    let jwks = json(reqwest::get(app.url("/oauth2/jwks")).await.unwrap()).await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert!(key.get("d").is_none(), "never the private part");
}

async fn last_used_is_recorded(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await;
    assert_eq!(c["last_used_at"], Value::Null);
    app.token(
        &[("grant_type", "client_credentials")],
        Some(("shop-backend", "correct-horse-battery")),
    )
    .await;
    let mut last_used = Value::Null;
    for _ in 0..50 {
        last_used =
            json(admin.get(app.url(&path_of(&c))).send().await.unwrap()).await["last_used_at"]
                .clone();
        if !last_used.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(last_used.is_string(), "last used appears after a token");
    let after = json(admin.get(app.url(&path_of(&c))).send().await.unwrap()).await;
    assert_eq!(
        after["updated_at"], c["updated_at"],
        "using a client is not editing it"
    );
}

on_both_backends!(requests_in_flight_for_many_clients_each_get_their_own_clients_token,);

/// Token requests in flight at once for different clients (on PostgreSQL their rows are read
/// together, in one query) each get a token for their own client, and a disabled client among
/// them is refused; a client disabled meanwhile is refused from the next request on. A request
/// that cannot be served (an impossible ID, a broken stored row) fails alone.
async fn requests_in_flight_for_many_clients_each_get_their_own_clients_token(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let mut made = vec![];
    let mut secrets = vec![];
    for i in 0..6 {
        let mut body = valid_client(&format!("many-{i}"));
        body.as_object_mut().unwrap().remove("client_secret");
        body["generate_secret"] = json!(true);
        let res = app.create_client(&admin, &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let client = json(res).await;
        secrets.push(client["client_secret"].as_str().unwrap().to_owned());
        made.push(client);
    }
    let res = patch(&app, &admin, &made[5], json!({"enabled": false}), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Among them, an ID no client can have (a NUL byte, which PostgreSQL refuses in a query)
    // and a client whose stored row is not a valid client: neither fails anyone else's request.
    secrets.push(secrets[0].clone());
    secrets.push(secrets[1].clone());
    app.db(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE identity_clients SET allowed_addresses = 'not an address' WHERE client_id = 'many-1'",
        )
        .execute(c)?;
        Ok(())
    })
    .await;
    let round = || {
        futures_util::future::join_all((0..64).map(|n| {
            let (app, secrets) = (&app, &secrets);
            async move {
                let i = n % 8;
                let id = match i {
                    6 => "many-0\0".to_owned(),
                    7 => "many-1".to_owned(),
                    _ => format!("many-{i}"),
                };
                let res = app
                    .token(
                        &[("grant_type", "client_credentials")],
                        Some((&id, &secrets[i])),
                    )
                    .await;
                let status = res.status();
                (i, status, json(res).await)
            }
        }))
    };
    for (i, status, body) in round().await {
        match i {
            1 | 7 => assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}"),
            5 | 6 => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "#{i}");
                assert_eq!(body["error"], "invalid_client");
            }
            _ => {
                assert_eq!(status, StatusCode::OK, "many-{i}: {body}");
                let (_, claims) = verify(&app, body["access_token"].as_str().unwrap()).await;
                assert_eq!(claims["client_id"], format!("many-{i}"));
            }
        }
    }
    let res = patch(&app, &admin, &made[0], json!({"enabled": false}), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    for (i, status, _) in round().await {
        let expected = match i {
            2..=4 => StatusCode::OK,
            1 | 7 => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, expected, "#{i} after many-0 was disabled");
    }
}
