use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    create_view_and_list,
    invalid_input_names_every_field_and_changes_nothing,
    malformed_json_is_400,
    client_ids_are_unique_platform_wide_ignoring_case,
    access_requires_role_and_enabled_account,
    another_accounts_client_is_not_found,
    unknown_roles_are_refused,
);

async fn create_view_and_list(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let res = app
        .create_client(&admin, &valid_client("shop-backend"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(res.headers().contains_key("etag"));
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("correct-horse-battery"),
        "the secret is never returned"
    );
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["client_id"], "shop-backend");
    assert_eq!(created["enabled"], true, "enabled immediately");
    assert_eq!(created["roles"], json!(["payments:read", "refunds:write"]));
    assert_eq!(created["token_duration_minutes"], 15);
    assert_eq!(created["name"], "Shop backend");
    assert!(created.get("client_secret").is_none());
    assert_eq!(location, path_of(&created));

    let viewed = admin.get(app.url(&location)).send().await.unwrap();
    assert_eq!(viewed.status(), StatusCode::OK);
    assert_eq!(json(viewed).await, created);

    let list = json(
        admin
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"], json!([created]));
}

async fn invalid_input_names_every_field_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let res = app
        .create_client(
            &admin,
            &json!({
                "client_id": "abcde",
                "client_secret": "12345",
                "name": "ab",
                "description": "x".repeat(1001),
                "token_duration_minutes": 9,
                "roles": []
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem = json(res).await;
    let messages: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().into(),
                e["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = [
        ("client_id", "Client ID must be 6–100 characters"),
        ("client_secret", "Client secret must be 6–100 characters"),
        ("name", "Client name must be 3–100 characters"),
        ("description", "Description must be at most 1000 characters"),
        (
            "token_duration_minutes",
            "Token duration must be 10–60 minutes",
        ),
        ("roles", "At least one role must be selected"),
    ];
    for (field, message) in expect {
        assert!(
            messages.contains(&(field.into(), message.into())),
            "{field}: {messages:?}"
        );
    }

    // Exactly at the limits is accepted: 100-character ID and secret, 61 is not, 60 is.
    let mut at_limits = valid_client(&"a".repeat(100));
    at_limits["client_secret"] = json!("€".repeat(100));
    at_limits["name"] = json!("abc");
    at_limits["description"] = json!("d".repeat(1000));
    at_limits["token_duration_minutes"] = json!(60);
    assert_eq!(
        app.create_client(&admin, &at_limits).await.status(),
        StatusCode::CREATED
    );
    let mut over = valid_client("another-client");
    over["token_duration_minutes"] = json!(61);
    assert_eq!(
        app.create_client(&admin, &over).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut wrong_type = valid_client("another-client");
    wrong_type["token_duration_minutes"] = json!("15");
    let problem = json(app.create_client(&admin, &wrong_type).await).await;
    assert_eq!(problem["errors"][0]["field"], "token_duration_minutes");

    let list = json(
        admin
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "only the valid client exists"
    );
}

async fn malformed_json_is_400(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let res = admin
        .post(app.url("/api/v1/identity-clients"))
        .header("content-type", "application/json")
        .body("{\"client_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

async fn client_ids_are_unique_platform_wide_ignoring_case(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (other, _) = app.signed_in_admin().await;
    assert_eq!(
        app.create_client(&admin, &valid_client("Shop-Backend"))
            .await
            .status(),
        StatusCode::CREATED
    );

    for (who, id) in [
        (&admin, "Shop-Backend"),
        (&admin, "shop-backend"),
        (&other, "SHOP-BACKEND"),
        (&other, "Shop-Backend"),
    ] {
        let res = app.create_client(who, &valid_client(id)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{id}");
        let text = res.text().await.unwrap();
        assert!(text.contains("Client ID is already in use"), "{text}");
        assert!(
            !text.contains("Test Merchant"),
            "nothing about the other account: {text}"
        );
    }
    let list = json(
        other
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"], json!([]));
}

async fn access_requires_role_and_enabled_account(b: Backend) {
    let app = spawn_app(b).await;
    let anon = browser(&app.addr);
    assert_eq!(
        anon.get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.create_client(&anon, &valid_client("anon-client"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let enabled = app.new_account(true).await;
    let viewer = app.sign_in(&app.new_user(&enabled, "viewer").await).await;
    let res = viewer
        .get(app.url("/api/v1/identity-clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(res).await["type"],
        "https://vitesse.dev/problems/forbidden"
    );
    assert_eq!(
        app.create_client(&viewer, &valid_client("viewer-client"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let manager = app
        .sign_in(&app.new_user(&enabled, "manage-identity-clients").await)
        .await;
    assert_eq!(
        app.create_client(&manager, &valid_client("manager-client"))
            .await
            .status(),
        StatusCode::CREATED
    );

    let disabled = app.new_account(false).await;
    let admin = app
        .sign_in(&app.new_user(&disabled, "merchant-admin").await)
        .await;
    let res = admin
        .get(app.url("/api/v1/identity-clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let problem = json(res).await;
    assert_eq!(
        problem["type"],
        "https://vitesse.dev/problems/identity-clients-disabled"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("relationship manager")
    );
    assert_eq!(
        app.create_client(&admin, &valid_client("disabled-client"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn another_accounts_client_is_not_found(b: Backend) {
    let app = spawn_app(b).await;
    let (mine, _) = app.signed_in_admin().await;
    let (theirs, _) = app.signed_in_admin().await;
    let created = json(app.create_client(&mine, &valid_client("my-client")).await).await;
    let path = path_of(&created);
    assert_eq!(
        theirs.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        mine.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::OK
    );
    let missing = mine
        .get(app.url("/api/v1/identity-clients/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}

async fn unknown_roles_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let roles = json(
        admin
            .get(app.url("/api/v1/api-roles"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"payments:write") && names.contains(&"identity-clients:manage"),
        "{names:?}"
    );

    let mut body = valid_client("role-client");
    body["roles"] = json!(["payments:read", "teleport:write"]);
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json(res).await;
    assert_eq!(problem["errors"][0]["field"], "roles");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("teleport:write")
    );
    body["roles"] = json!(["payments:read", "payments:read"]);
    assert_eq!(
        app.create_client(&admin, &body).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

on_both_backends!(another_account_sees_nothing_on_any_client_endpoint);

async fn another_account_sees_nothing_on_any_client_endpoint(b: Backend) {
    let app = spawn_app(b).await;
    let (mine, _) = app.signed_in_admin().await;
    let (theirs, _) = app.signed_in_admin().await;
    let made = json(
        app.create_client(&mine, &valid_client("tenant-client"))
            .await,
    )
    .await;
    let path = path_of(&made);
    let attempts = [
        theirs.get(app.url(&path)),
        theirs
            .patch(app.url(&path))
            .json(&json!({"name": "Hijacked"})),
        theirs
            .patch(app.url(&path))
            .json(&json!({"enabled": false})),
        theirs.delete(app.url(&path)),
        theirs.get(app.url(&format!("{path}/events"))),
        theirs
            .post(app.url(&format!("{path}/secret")))
            .json(&json!({"client_secret": "hijacked-secret"})),
    ];
    for req in attempts {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(!res.text().await.unwrap().contains("tenant-client"));
    }
    let list = json(
        theirs
            .get(app.url("/api/v1/identity-clients?search=tenant"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"], json!([]));
    // Untouched.
    let after = json(mine.get(app.url(&path)).send().await.unwrap()).await;
    assert_eq!(after, made);
    let token = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("tenant-client", "correct-horse-battery")),
        )
        .await;
    assert_eq!(token.status(), StatusCode::OK, "the secret was not changed");
}
