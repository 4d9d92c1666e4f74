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
