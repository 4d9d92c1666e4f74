//! Token introspection (RFC 7662) and revocation (RFC 7009).
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(introspection_reflects_expiry_revocation_and_client_state,);

async fn introspection_reflects_expiry_revocation_and_client_state(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let rs = ("resource-server", "correct-horse-battery");
    create_client_as(&app, &admin, "resource-server").await;
    let (c, _) = create_client_as(&app, &admin, "shop-backend").await;

    let t1 = access_token(&app, "shop-backend").await;
    let info = introspect(&app, rs, &t1).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "shop-backend");
    assert_eq!(info["scope"], "payments:read refunds:write");
    assert_eq!(info["token_type"], "Bearer");
    assert!(info["exp"].as_i64().unwrap() > info["iat"].as_i64().unwrap());
    assert_eq!(
        introspect(&app, rs, "garbage").await,
        json!({"active": false})
    );

    // Another account's resource server learns nothing.
    let (other, _) = app.signed_in_admin().await;
    create_client_as(&app, &other, "other-account-rs").await;
    assert_eq!(
        introspect(&app, ("other-account-rs", "correct-horse-battery"), &t1).await,
        json!({"active": false})
    );

    // Revocation: only by its own client; then inactive.
    let t2 = access_token(&app, "shop-backend").await;
    let revoke = |who: (&'static str, &'static str), token: String| {
        let url = app.url("/oauth2/revoke");
        async move {
            reqwest::Client::new()
                .post(url)
                .basic_auth(who.0, Some(who.1))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        revoke(("resource-server", "correct-horse-battery"), t2.clone())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        introspect(&app, rs, &t2).await["active"],
        true,
        "another client cannot revoke it"
    );
    assert_eq!(
        revoke(("shop-backend", "correct-horse-battery"), t2.clone())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(introspect(&app, rs, &t2).await, json!({"active": false}));
    assert_eq!(
        introspect(&app, rs, &t1).await["active"],
        true,
        "other tokens stay active"
    );
    assert_eq!(
        revoke(("shop-backend", "wrong-secret"), t1.clone())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Disabled: inactive at once; enabled again: still inactive (disabling ends a client's
    // tokens for good, issue #11), while a token issued after that works.
    let disable = patch(&app, &admin, &c, json!({"enabled": false}), None).await;
    assert_eq!(disable.status(), StatusCode::OK);
    assert_eq!(introspect(&app, rs, &t1).await, json!({"active": false}));
    patch(&app, &admin, &c, json!({"enabled": true}), None).await;
    assert_eq!(introspect(&app, rs, &t1).await, json!({"active": false}));
    let t3 = access_token(&app, "shop-backend").await;
    assert_eq!(introspect(&app, rs, &t3).await["active"], true);

    // Deleted: inactive at once.
    admin.delete(app.url(&path_of(&c))).send().await.unwrap();
    assert_eq!(introspect(&app, rs, &t1).await, json!({"active": false}));

    let missing = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .basic_auth(rs.0, Some(rs.1))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let anon = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .form(&[("token", t1.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}
