//! The token service beyond issuing: secret rotation, introspection, revocation, keys, throttling.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use vitesse_api::oauth::keys::SigningAlg;

on_both_backends!(
    secret_rotation_keeps_the_previous_secret_for_the_grace_period,
    introspection_reflects_expiry_revocation_and_client_state,
    rotated_keys_are_published_before_use_and_kept_after,
    rs256_is_selectable_and_switching_keeps_earlier_tokens_valid,
    failed_client_authentication_is_throttled_per_address,
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

    // Disabled: inactive at once; enabled again: active again (not expired, not revoked).
    let disable = patch(&app, &admin, &c, json!({"enabled": false}), None).await;
    assert_eq!(disable.status(), StatusCode::OK);
    assert_eq!(introspect(&app, rs, &t1).await, json!({"active": false}));
    patch(&app, &admin, &c, json!({"enabled": true}), None).await;
    assert_eq!(introspect(&app, rs, &t1).await["active"], true);

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

fn kid_of(token: &str) -> String {
    jwt_header(token)["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks = json(reqwest::get(app.url("/oauth2/jwks")).await.unwrap()).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn rotated_keys_are_published_before_use_and_kept_after(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    create_client_as(&app, &admin, "shop-backend").await;
    let before = access_token(&app, "shop-backend").await;
    let old_kid = kid_of(&before);
    let jwks = reqwest::get(app.url("/oauth2/jwks")).await.unwrap();
    assert!(
        jwks.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );

    // Published now, signing in ten minutes.
    let next = app
        .db(|c| {
            vitesse_api::oauth::keys::rotate(c, SigningAlg::Es256, chrono::Duration::minutes(10))
        })
        .await;
    app.state.reload_keys().await.unwrap();
    assert_eq!(jwks_kids(&app).await, [old_kid.clone(), next.kid.clone()]);
    assert_eq!(
        kid_of(&access_token(&app, "shop-backend").await),
        old_kid,
        "not signing yet"
    );

    // Rotated with no delay: the newest key signs; the old ones stay published for their tokens.
    let now_key = app
        .db(|c| vitesse_api::oauth::keys::rotate(c, SigningAlg::Es256, chrono::Duration::zero()))
        .await;
    app.state.reload_keys().await.unwrap();
    let after = access_token(&app, "shop-backend").await;
    assert_eq!(kid_of(&after), now_key.kid);
    let kids = jwks_kids(&app).await;
    assert!(
        kids.contains(&old_kid) && kids.contains(&now_key.kid),
        "{kids:?}"
    );
    let rs = ("shop-backend", "correct-horse-battery");
    assert_eq!(
        introspect(&app, rs, &before).await["active"],
        true,
        "old tokens still verify"
    );
    assert_eq!(introspect(&app, rs, &after).await["active"], true);
}

/// An operator switches the signing algorithm by configuration: the next start signs with a new
/// RS256 key, every instance follows at its next key reload, and tokens signed before stay
/// verifiable and active.
async fn rs256_is_selectable_and_switching_keeps_earlier_tokens_valid(b: Backend) {
    let es = spawn_app(b).await;
    let (admin, _) = es.signed_in_admin().await;
    create_client_as(&es, &admin, "shop-backend").await;
    let before = access_token(&es, "shop-backend").await;
    assert_eq!(verify(&es, &before).await.0["alg"], "ES256");

    // A second instance of the same service (same issuer), configured for RS256.
    let rs256 = |c: &mut vitesse_api::config::Config| {
        c.signing_alg = SigningAlg::Rs256;
        c.issuer = es.addr.clone();
    };
    let rs = spawn_app_on_with(&es.database_url, rs256).await;
    let after = access_token(&rs, "shop-backend").await;
    let (header, claims) = verify(&rs, &after).await;
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["client_id"], "shop-backend");
    let jwks = json(reqwest::get(rs.url("/oauth2/jwks")).await.unwrap()).await;
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["ES256", "RS256"], "the old key stays published");
    let rsa = &jwks["keys"][1];
    assert_eq!(rsa["kty"], "RSA");
    assert!(rsa["d"].is_null() && rsa["p"].is_null(), "no private parts");

    // The first instance follows at its next reload; both verify either token.
    es.state.reload_keys().await.unwrap();
    assert_eq!(
        kid_of(&access_token(&es, "shop-backend").await),
        kid_of(&after)
    );
    let caller = ("shop-backend", "correct-horse-battery");
    for app in [&es, &rs] {
        for token in [&before, &after] {
            assert_eq!(introspect(app, caller, token).await["active"], true);
        }
    }

    // Restarting with the same setting changes nothing.
    let again = spawn_app_on_with(&es.database_url, rs256).await;
    assert_eq!(jwks_kids(&again).await.len(), 2);
    drop((again, rs));
}

async fn failed_client_authentication_is_throttled_per_address(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    create_client_as(&app, &admin, "shop-backend").await;
    for _ in 0..20 {
        assert_eq!(
            app.token(&GRANT, Some(("shop-backend", "guess-guess")))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = app
        .token(&GRANT, Some(("shop-backend", "correct-horse-battery")))
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
    assert_eq!(locked.headers()["cache-control"], "no-store");
    // Another client ID from the same address is not affected.
    create_client_as(&app, &admin, "other-client").await;
    assert_eq!(
        app.token(&GRANT, Some(("other-client", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::OK
    );
}

/// Unknown client and wrong secret cannot be told apart by timing: both pay one bcrypt.
/// Interleaved samples, medians within 25 % of each other (bcrypt cost 8, ~20 ms, dominates).
#[actix_web::test]
async fn unknown_client_and_wrong_secret_take_the_same_time() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.bcrypt_cost = 8).await;
    let (admin, _) = app.signed_in_admin().await;
    for id in ["timing-a", "timing-b"] {
        create_client_as(&app, &admin, id).await;
    }
    let (mut unknown, mut wrong) = (vec![], vec![]);
    for i in 0..30 {
        // Distinct IDs, and at most 15 failures per known client: the throttle stays out of it.
        let unknown_id = format!("no-such-client-{i}");
        let known_id = if i % 2 == 0 { "timing-a" } else { "timing-b" };
        for (samples, id) in [(&mut unknown, unknown_id.as_str()), (&mut wrong, known_id)] {
            let t = std::time::Instant::now();
            let res = app.token(&GRANT, Some((id, "not-the-secret"))).await;
            samples.push(t.elapsed().as_secs_f64());
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (u, w) = (median(&mut unknown), median(&mut wrong));
    assert!(
        (u - w).abs() / w < 0.25,
        "median unknown {u:.4}s vs wrong secret {w:.4}s"
    );
}
