//! Editing, enabling/disabling, deleting, listing, the audit trail and automation.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    edit_changes_present_fields_including_client_id,
    stale_if_match_is_refused_and_changes_nothing,
    invalid_edit_changes_nothing,
    changed_secret_and_status_apply_at_the_next_token_request,
    delete_removes_the_client_and_its_token_access,
    audit_trail_records_every_change_without_secrets,
    list_pages_filters_searches_and_sorts,
    automation_with_a_bearer_token,
    last_used_is_recorded,
);

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

async fn list_pages_filters_searches_and_sorts(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    for i in 0..7 {
        let mut body = valid_client(&format!("client-{i:02}"));
        body["name"] = json!(if i % 2 == 0 {
            format!("Ünïcode Shop {i}")
        } else {
            format!("Warehouse {i}")
        });
        assert_eq!(
            app.create_client(&admin, &body).await.status(),
            StatusCode::CREATED
        );
    }
    let all = json(
        admin
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let c3 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "client-03")
        .unwrap()
        .clone();
    patch(&app, &admin, &c3, json!({"enabled": false}), None).await;

    // Pages of 3 in client-ID order, no gaps, no repeats.
    let mut seen = vec![];
    let mut url = app.url("/api/v1/identity-clients?limit=3");
    loop {
        let page = json(admin.get(&url).send().await.unwrap()).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["client_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cur) => url = app.url(&format!("/api/v1/identity-clients?limit=3&cursor={cur}")),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7).map(|i| format!("client-{i:02}")).collect::<Vec<_>>()
    );

    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let disabled = json(
        admin
            .get(app.url("/api/v1/identity-clients?status=disabled"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&disabled), ["client-03"]);
    let enabled = json(
        admin
            .get(app.url("/api/v1/identity-clients?status=enabled"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&enabled).len(), 6);
    // Case-insensitive, also beyond ASCII, on both backends alike.
    let search = json(
        admin
            .get(app.url("/api/v1/identity-clients?search=%C3%BCn%C3%AFCODE"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        ids(&search),
        ["client-00", "client-02", "client-04", "client-06"]
    );
    let by_id = json(
        admin
            .get(app.url("/api/v1/identity-clients?search=CLIENT-05"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&by_id), ["client-05"]);
    let like_chars = json(
        admin
            .get(app.url("/api/v1/identity-clients?search=%25"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&like_chars).len(), 0, "% is text, not a wildcard");
    let newest = json(
        admin
            .get(app.url("/api/v1/identity-clients?sort=-updated_at&limit=1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&newest), ["client-03"]);
    let oldest = json(
        admin
            .get(app.url("/api/v1/identity-clients?sort=created_at&limit=2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&oldest), ["client-00", "client-01"]);
    let bad = admin
        .get(app.url("/api/v1/identity-clients?sort=secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(bad).await["errors"][0]["field"], "sort");
    let bad = admin
        .get(app.url("/api/v1/identity-clients?cursor=garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
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

on_both_backends!(retired_roles_cannot_be_assigned_but_stay_with_their_clients);

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
