//! Identity clients through the API: create and view, validation, uniqueness, access and
//! tenancy, edit, delete, the audit trail, and automation with a bearer token.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    create_view_and_list,
    invalid_input_names_every_field_and_changes_nothing,
    malformed_json_is_400,
    unknown_roles_are_refused,
    retired_roles_cannot_be_assigned_but_stay_with_their_clients,
    client_ids_are_unique_platform_wide_ignoring_case,
    access_requires_role_and_enabled_account,
    another_accounts_client_is_not_found,
    another_account_sees_nothing_on_any_client_endpoint,
    edit_changes_present_fields_including_client_id,
    stale_if_match_is_refused_and_changes_nothing,
    invalid_edit_changes_nothing,
    delete_removes_the_client_and_its_token_access,
    audit_trail_records_every_change_without_secrets,
    automation_with_a_bearer_token,
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

async fn retired_roles_cannot_be_assigned_but_stay_with_their_clients(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await; // holds refunds:write
    app.db(|conn| vitesse_api::store::roles::retire(conn, "refunds:write"))
        .await;

    let roles = json(
        admin
            .get(app.url("/api/v1/api-roles"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        !roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "refunds:write")
    );
    let res = app.create_client(&admin, &valid_client("new-client")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(res).await["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("refunds:write")
    );

    // The holder keeps it, in edits and in tokens.
    let res = patch(
        &app,
        &admin,
        &c,
        json!({"roles": ["refunds:write", "payments:write"]}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = json(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("shop-backend", "correct-horse-battery")),
        )
        .await,
    )
    .await;
    assert_eq!(token["scope"], "payments:write refunds:write");
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

async fn edit_changes_present_fields_including_client_id(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, etag) = create_client_as(&app, &admin, "shop-backend").await;
    create_client_as(&app, &admin, "taken-id").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let res = patch(
        &app,
        &admin,
        &c,
        json!({"client_id": "shop-backend-v2", "name": null, "token_duration_minutes": 45, "roles": ["payments:write"]}),
        Some(&etag),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let edited = json(res).await;
    assert_eq!(edited["client_id"], "shop-backend-v2");
    assert_eq!(edited["name"], Value::Null);
    assert_eq!(
        edited["description"], c["description"],
        "absent fields are kept"
    );
    assert_eq!(edited["token_duration_minutes"], 45);
    assert_eq!(edited["roles"], json!(["payments:write"]));
    assert_eq!(edited["created_at"], c["created_at"]);
    assert!(edited["updated_at"].as_str().unwrap() > c["updated_at"].as_str().unwrap());

    // Still unique, including case-only collisions.
    let res = patch(&app, &admin, &c, json!({"client_id": "TAKEN-ID"}), None).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // The old ID is free again, and the new one answers token requests.
    create_client_as(&app, &admin, "shop-backend").await;
    let ok = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("shop-backend-v2", "correct-horse-battery")),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body = json(ok).await;
    assert_eq!(body["expires_in"], 45 * 60);
    assert_eq!(body["scope"], "payments:write");
}

async fn stale_if_match_is_refused_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, etag) = create_client_as(&app, &admin, "shop-backend").await;
    // Two edits race with the same ETag: exactly one wins.
    let (r1, r2) = tokio::join!(
        patch(
            &app,
            &admin,
            &c,
            json!({"name": "First writer"}),
            Some(&etag)
        ),
        patch(
            &app,
            &admin,
            &c,
            json!({"name": "Second writer"}),
            Some(&etag)
        ),
    );
    let mut statuses = [r1.status(), r2.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    let current = json(admin.get(app.url(&path_of(&c))).send().await.unwrap()).await;
    assert!(current["name"] == "First writer" || current["name"] == "Second writer");
    let stale = patch(&app, &admin, &c, json!({"enabled": false}), Some(&etag)).await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        json(stale).await["type"],
        "https://vitesse.dev/problems/precondition-failed"
    );
    let after = json(admin.get(app.url(&path_of(&c))).send().await.unwrap()).await;
    assert_eq!(after, current, "nothing changed");
    let del = admin
        .delete(app.url(&path_of(&c)))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::PRECONDITION_FAILED);
}

async fn invalid_edit_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await;
    let res = patch(
        &app,
        &admin,
        &c,
        json!({"name": "Fine name", "token_duration_minutes": 61, "roles": []}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = json(res).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["token_duration_minutes", "roles"]);
    let res = patch(
        &app,
        &admin,
        &c,
        json!({"roles": ["payments:read", "no-such:role"]}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let after = json(admin.get(app.url(&path_of(&c))).send().await.unwrap()).await;
    assert_eq!(after, c, "nothing changed");
}

async fn delete_removes_the_client_and_its_token_access(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (c, etag) = create_client_as(&app, &admin, "shop-backend").await;
    let (theirs, _) = app.signed_in_admin().await;
    assert_eq!(
        theirs
            .delete(app.url(&path_of(&c)))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = admin
        .delete(app.url(&path_of(&c)))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        admin
            .get(app.url(&path_of(&c)))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let token = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("shop-backend", "correct-horse-battery")),
        )
        .await;
    assert_eq!(token.status(), StatusCode::UNAUTHORIZED);
    // The ID can be used again.
    create_client_as(&app, &admin, "shop-backend").await;
}

async fn audit_trail_records_every_change_without_secrets(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, user) = app.signed_in_admin().await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await;
    patch(
        &app,
        &admin,
        &c,
        json!({"name": "Renamed client", "token_duration_minutes": 20}),
        None,
    )
    .await;
    patch(&app, &admin, &c, json!({"enabled": false}), None).await;
    patch(
        &app,
        &admin,
        &c,
        json!({"client_secret": "another-secret-value"}),
        None,
    )
    .await;
    let res = admin
        .get(app.url(&format!("{}/events", path_of(&c))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains("correct-horse-battery") && !text.contains("another-secret-value"));
    assert!(!text.contains("$2"), "no hash either");
    let events: Value = serde_json::from_str(&text).unwrap();
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["secret_changed", "disabled", "updated", "created"]
    );
    let updated = &events["items"][2];
    assert_eq!(
        updated["changes"]["name"],
        json!({"from": "Shop backend", "to": "Renamed client"})
    );
    assert_eq!(
        updated["changes"]["token_duration_minutes"],
        json!({"from": 15, "to": 20})
    );
    assert!(
        updated["changes"].get("roles").is_none(),
        "only what changed"
    );
    assert_eq!(updated["actor"]["label"], user.email.as_str());
    assert_eq!(updated["actor"]["type"], "user");
    assert_eq!(updated["source_ip"], "127.0.0.1");

    let page = json(
        admin
            .get(app.url(&format!("{}/events?limit=3", path_of(&c))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = json(
        admin
            .get(app.url(&format!("{}/events?limit=3&cursor={cursor}", path_of(&c))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rest["items"][0]["action"], "created");
    assert!(rest.get("next_cursor").is_none());
}

async fn automation_with_a_bearer_token(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let mut bot = valid_client("automation-bot");
    bot["roles"] = json!(["identity-clients:manage", "payments:read"]);
    let res = app.create_client(&admin, &bot).await;
    let bot_client = json(res).await;
    let token = json(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("automation-bot", "correct-horse-battery")),
        )
        .await,
    )
    .await;
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let api = reqwest::Client::new();

    let list = api
        .get(app.url("/api/v1/identity-clients"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(json(list).await["items"].as_array().unwrap().len(), 1);

    let mut child = valid_client("bot-made-client");
    child["roles"] = json!(["payments:read"]);
    let res = api
        .post(app.url("/api/v1/identity-clients"))
        .header("authorization", &bearer)
        .json(&child)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "no Origin needed with a bearer token"
    );
    let made = json(res).await;
    let events = json(
        admin
            .get(app.url(&format!("{}/events", path_of(&made))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        events["items"][0]["actor"],
        json!({"type": "client", "id": bot_client["id"], "label": "automation-bot"})
    );

    child["client_id"] = json!("bot-escalation");
    child["roles"] = json!(["refunds:write"]);
    let res = api
        .post(app.url("/api/v1/identity-clients"))
        .header("authorization", &bearer)
        .json(&child)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "cannot grant a role it does not hold"
    );

    // A token scoped without the management role does not manage.
    let narrow = json(
        app.token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "payments:read"),
            ],
            Some(("automation-bot", "correct-horse-battery")),
        )
        .await,
    )
    .await;
    let res = api
        .get(app.url("/api/v1/identity-clients"))
        .header(
            "authorization",
            format!("Bearer {}", narrow["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A client from an ordinary user: no management role at all.
    let bad = api
        .get(app.url("/api/v1/identity-clients"))
        .header("authorization", "Bearer not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    // Disabled at once.
    patch(&app, &admin, &bot_client, json!({"enabled": false}), None).await;
    let res = api
        .get(app.url("/api/v1/identity-clients"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
