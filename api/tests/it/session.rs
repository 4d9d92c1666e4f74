use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    sign_in_then_out_ends_the_session,
    wrong_password_is_refused,
    cross_site_writes_are_refused
);

async fn sign_in_then_out_ends_the_session(b: Backend) {
    let app = spawn_app(b).await;
    let account = app.new_account(true).await;
    let admin = app.new_user(&account, "merchant-admin").await;

    let anon = browser(&app.addr);
    assert_eq!(
        anon.get(app.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let res = anon
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": admin.email, "password": admin.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let raw_cookie = cookie.split(';').next().unwrap().to_owned();
    let me = json(res).await;
    assert_eq!(me["email"], admin.email.as_str());
    assert_eq!(me["can_manage_identity_clients"], true);

    assert_eq!(
        anon.get(app.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let out = anon
        .delete(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);

    // The old cookie, replayed by someone who kept it, no longer works: the server ended it.
    let replay = reqwest::Client::new()
        .get(app.url("/api/v1/session"))
        .header("cookie", raw_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

async fn wrong_password_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let account = app.new_account(true).await;
    let admin = app.new_user(&account, "merchant-admin").await;
    for (email, password) in [
        (admin.email.as_str(), "wrong-password"),
        ("nobody@example.com", admin.password.as_str()),
    ] {
        let res = browser(&app.addr)
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        assert!(res.headers().get("set-cookie").is_none());
    }
    let res = browser(&app.addr)
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn cross_site_writes_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (_, admin) = app.signed_in_admin().await;
    // Same cookies, but the request comes from another site.
    let session = app.sign_in(&admin).await;
    let me = session
        .get(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let evil = session
        .post(app.url("/api/v1/identity-clients"))
        .header("origin", "https://evil.example")
        .json(&valid_client("evil-made-client"))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let list = json(
        session
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
}

on_both_backends!(sign_in_is_throttled_against_guessing);

async fn sign_in_is_throttled_against_guessing(b: Backend) {
    let app = spawn_app(b).await;
    let account = app.new_account(true).await;
    let admin = app.new_user(&account, "merchant-admin").await;
    let attempt = |password: String| {
        let (client, url, email) = (
            browser(&app.addr),
            app.url("/api/v1/session"),
            admin.email.clone(),
        );
        async move {
            client
                .post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(
            attempt("guess".into()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = attempt(admin.password.clone()).await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(locked.headers().contains_key("retry-after"));
}
