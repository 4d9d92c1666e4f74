//! A client's address allow-list: tokens only from its ranges (the caller's address as the
//! trusted-proxy rules determine it), checked on every path, validated like every field.
use crate::helpers::*;
use crate::throttling::token_from;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    tokens_come_only_from_allowed_addresses_on_every_path,
    a_bad_allow_list_is_refused_naming_the_field_and_changes_nothing,
    behind_a_trusted_proxy_the_forwarded_address_is_the_one_checked,
);

const SECRET: &str = "correct-horse-battery";

async fn tokens_come_only_from_allowed_addresses_on_every_path(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let mut body = valid_client("pinned-client");
    body["allowed_addresses"] = json!(["127.0.0.2", "10.0.0.0/8"]);
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made = json(res).await;
    assert_eq!(
        made["allowed_addresses"],
        json!(["127.0.0.2/32", "10.0.0.0/8"])
    );

    let res = token_from(&app, "127.0.0.1", None, "pinned-client", SECRET).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
    let ok = token_from(&app, "127.0.0.2", None, "pinned-client", SECRET).await;
    assert_eq!(ok.status(), StatusCode::OK);
    // The secret is now remembered: the quick path must still check the address.
    let res = token_from(&app, "127.0.0.1", None, "pinned-client", SECRET).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Changed lists apply at the next request; an empty list opens every address again.
    let res = patch(
        &app,
        &admin,
        &made,
        json!({"allowed_addresses": ["127.0.0.1/32"]}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        token_from(&app, "127.0.0.2", None, "pinned-client", SECRET)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_from(&app, "127.0.0.1", None, "pinned-client", SECRET)
            .await
            .status(),
        StatusCode::OK
    );
    let res = patch(&app, &admin, &made, json!({"allowed_addresses": []}), None).await;
    assert_eq!(json(res).await["allowed_addresses"], json!([]));
    assert_eq!(
        token_from(&app, "127.0.0.3", None, "pinned-client", SECRET)
            .await
            .status(),
        StatusCode::OK
    );

    // The trail names each change of the list.
    let trail = audit_trail(&app, &admin, &made).await;
    let edits: Vec<&Value> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "updated")
        .collect();
    assert_eq!(
        edits[0]["changes"]["allowed_addresses"],
        json!({"from": ["127.0.0.1/32"], "to": null})
    );
    assert_eq!(
        edits[1]["changes"]["allowed_addresses"],
        json!({"from": ["127.0.0.2/32", "10.0.0.0/8"], "to": ["127.0.0.1/32"]})
    );
}

async fn a_bad_allow_list_is_refused_naming_the_field_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let many: Vec<String> = (0..51).map(|i| format!("10.0.0.{i}")).collect();
    for (bad, says) in [
        (json!(["10.0.0.1/24"]), "10.0.0.1/24"),
        (json!(["example.com"]), "example.com"),
        (json!("10.0.0.0/8"), "must be a list"),
        (json!(many), "at most 50"),
    ] {
        let mut body = valid_client("bad-list-client");
        body["allowed_addresses"] = bad.clone();
        let res = app.create_client(&admin, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let problem = json(res).await;
        assert_eq!(problem["errors"][0]["field"], "allowed_addresses");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(says),
            "{problem}"
        );
    }
    let (made, _) = create_client_as(&app, &admin, "bad-list-client").await;
    let res = patch(
        &app,
        &admin,
        &made,
        json!({"allowed_addresses": ["::1/200"]}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let now = json(admin.get(app.url(&path_of(&made))).send().await.unwrap()).await;
    assert_eq!(now["allowed_addresses"], json!([]));
    assert_eq!(now["version"], made["version"]);
}

async fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_checked(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let (admin, _) = app.signed_in_admin().await;
    let mut body = valid_client("proxied-pinned");
    body["allowed_addresses"] = json!(["203.0.113.0/24"]);
    assert_eq!(
        app.create_client(&admin, &body).await.status(),
        StatusCode::CREATED
    );
    let via_proxy =
        |xff: &'static str| token_from(&app, "127.0.0.1", Some(xff), "proxied-pinned", SECRET);
    assert_eq!(via_proxy("203.0.113.9").await.status(), StatusCode::OK);
    assert_eq!(
        via_proxy("198.51.100.1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A forged left-most entry changes nothing: the right-most untrusted address counts.
    assert_eq!(
        via_proxy("203.0.113.9, 198.51.100.1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // From an untrusted peer the header is ignored: its own address is checked.
    assert_eq!(
        token_from(
            &app,
            "127.0.0.2",
            Some("203.0.113.9"),
            "proxied-pinned",
            SECRET
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
}
