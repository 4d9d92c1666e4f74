//! Client secrets: rotation with a grace period for the previous one, a change by edit, and
//! secrets longer than bcrypt's 72 bytes.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    secret_rotation_keeps_the_previous_secret_for_the_grace_period,
    changed_secret_and_status_apply_at_the_next_token_request,
    secrets_longer_than_72_bytes_stay_significant,
);

async fn secret_rotation_keeps_the_previous_secret_for_the_grace_period(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await;
    let rotate = |body: Value| {
        let (admin, url) = (admin.clone(), app.url(&format!("{}/secret", path_of(&c))));
        async move { admin.post(url).json(&body).send().await.unwrap() }
    };

    let res =
        rotate(json!({"client_secret": "second-secret", "previous_secret_grace_minutes": 60}))
            .await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains("second-secret"));
    let rotated: Value = serde_json::from_str(&text).unwrap();
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "shown on the client"
    );
    for secret in ["correct-horse-battery", "second-secret"] {
        assert_eq!(
            app.token(&GRANT, Some(("shop-backend", secret)))
                .await
                .status(),
            StatusCode::OK,
            "{secret}"
        );
    }

    // At most one previous secret: rotating again drops the first.
    let res =
        rotate(json!({"client_secret": "third-secret", "previous_secret_grace_minutes": 10})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "second-secret")))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "third-secret")))
            .await
            .status(),
        StatusCode::OK
    );

    // Without a grace period the previous secret stops at once.
    let res = rotate(json!({"client_secret": "fourth-secret"})).await;
    assert_eq!(json(res).await["previous_secret_expires_at"], Value::Null);
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "third-secret")))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "fourth-secret")))
            .await
            .status(),
        StatusCode::OK
    );

    let res = rotate(json!({"client_secret": "x", "previous_secret_grace_minutes": 10081})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"].as_array().unwrap().len(), 2);

    let events = admin
        .get(app.url(&format!("{}/events", path_of(&c))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in ["second-secret", "third-secret", "fourth-secret"] {
        assert!(!events.contains(secret));
    }
    let events: Value = serde_json::from_str(&events).unwrap();
    assert_eq!(events["items"][0]["action"], "secret_changed");
    assert!(events["items"][1]["changes"]["previous_secret_valid_until"].is_string());
}

async fn changed_secret_and_status_apply_at_the_next_token_request(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await;
    // Warm the remembered-verification path with the old secret.
    for _ in 0..2 {
        assert_eq!(
            app.token(&GRANT, Some(("shop-backend", "correct-horse-battery")))
                .await
                .status(),
            StatusCode::OK
        );
    }
    let res = patch(
        &app,
        &admin,
        &c,
        json!({"client_secret": "brand-new-secret"}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.text().await.unwrap().contains("brand-new-secret"));
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "brand-new-secret")))
            .await
            .status(),
        StatusCode::OK
    );

    assert_eq!(
        patch(&app, &admin, &c, json!({"enabled": false}), None)
            .await
            .status(),
        StatusCode::OK
    );
    let refused = app
        .token(&GRANT, Some(("shop-backend", "brand-new-secret")))
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(refused).await["error"], "invalid_client");
    let res = patch(&app, &admin, &c, json!({"enabled": true}), None).await;
    assert_eq!(json(res).await["enabled"], true);
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", "brand-new-secret")))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn secrets_longer_than_72_bytes_stay_significant(b: Backend) {
    let app = spawn_app(b).await;
    let secret = format!("{}A", "s".repeat(90));
    let almost = format!("{}B", "s".repeat(90));
    setup_client(&app, "long-secret-client", &secret, 15).await;
    let ok = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("long-secret-client", &secret)),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let bad = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("long-secret-client", &almost)),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
}

on_both_backends!(generated_secrets_are_shown_once_and_work_at_once_everywhere);

/// The server generates the secret on request: it is in that one response only, has the
/// scanner-friendly form, and a second instance that never saw it — fresh, nothing remembered —
/// verifies it at once, without bcrypt. Rotation can generate too.
async fn generated_secrets_are_shown_once_and_work_at_once_everywhere(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let mut body = valid_client("generated-client");
    body.as_object_mut().unwrap().remove("client_secret");
    body["generate_secret"] = json!(true);
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = json(res).await;
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("vsk_") && secret.len() == 53, "{secret}");
    assert!(vitesse_domain::generated_secret::is_generated(&secret));

    // No other response carries it.
    let path = path_of(&created);
    for url in [
        path.clone(),
        "/api/v1/identity-clients".into(),
        format!("{path}/events"),
    ] {
        let text = admin
            .get(app.url(&url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains(&secret), "{url} shows the secret");
        assert!(!text.contains("client_secret\":\"vsk_"), "{url}");
    }
    let edited = admin
        .patch(app.url(&path))
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // No `client_secret` member (the authentication method's value may say "client_secret").
    assert!(!edited.contains(&secret) && !edited.contains("\"client_secret\":"));

    // A second instance on the same database, which never verified anything.
    let other = spawn_app_on(&app.database_url).await;
    let bcrypt_runs = |app: &TestApp| {
        let url = app.url("/metrics");
        async move {
            let text = reqwest::get(url).await.unwrap().text().await.unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("vitesse_bcrypt_verifications_total "))
                .unwrap()
                .parse::<u64>()
                .unwrap()
        }
    };
    let res = other
        .token(&GRANT, Some(("generated-client", &secret)))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        bcrypt_runs(&other).await,
        0,
        "no bcrypt for a generated secret"
    );

    // Rotation generates a new one; the old one stops (no grace asked for).
    let res = admin
        .post(app.url(&format!("{path}/secret")))
        .json(&json!({"generate_secret": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rotated = json(res).await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, secret);
    assert_eq!(
        other
            .token(&GRANT, Some(("generated-client", &secret)))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        other
            .token(&GRANT, Some(("generated-client", &rotated)))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(bcrypt_runs(&other).await, 0);

    // The prefix is the server's: a typed secret cannot take it; and one of the two, not both.
    let mut typed = valid_client("typed-lookalike");
    typed["client_secret"] = json!(rotated);
    let res = app.create_client(&admin, &typed).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "client_secret");
    let mut both = valid_client("both-client");
    both["generate_secret"] = json!(true);
    let res = app.create_client(&admin, &both).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "generate_secret");
    // A typed secret's create response carries no secret at all.
    let res = app
        .create_client(&admin, &valid_client("typed-client"))
        .await;
    assert!(json(res).await.get("client_secret").is_none());
}

on_both_backends!(a_burst_of_first_tokens_for_one_client_costs_one_bcrypt);

/// After a restart, thirty-two workers of one client (one address, one secret) ask at once:
/// every one gets its token, from a single bcrypt verification.
async fn a_burst_of_first_tokens_for_one_client_costs_one_bcrypt(b: Backend) {
    // A bcrypt long enough (cost 10) that the burst arrives while it runs.
    let app = spawn_app_with(b, |c| c.bcrypt_cost = 10).await;
    let (admin, _) = app.signed_in_admin().await;
    create_client_as(&app, &admin, "burst-client").await;
    let fresh = spawn_app_on(&app.database_url).await;
    let statuses = futures_util::future::join_all((0..32).map(|_| {
        let fresh = &fresh;
        async move {
            fresh
                .token(&GRANT, Some(("burst-client", "correct-horse-battery")))
                .await
                .status()
        }
    }))
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let metrics = reqwest::get(fresh.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "vitesse_bcrypt_verifications_total 1"),
        "one bcrypt for the burst:\n{metrics}"
    );
}
