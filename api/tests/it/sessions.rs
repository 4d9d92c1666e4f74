//! Sign-in sessions: sign in and out, wrong passwords, cross-site writes, idle and absolute
//! expiry.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    sign_in_then_out_ends_the_session,
    wrong_password_is_refused,
    cross_site_writes_are_refused,
    idle_and_absolute_session_expiry,
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

async fn idle_and_absolute_session_expiry(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.session_idle = std::time::Duration::from_secs(2);
        c.session_absolute = std::time::Duration::from_secs(4);
    })
    .await;
    let (admin, _) = app.signed_in_admin().await;
    let me = || admin.get(app.url("/api/v1/session")).send();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        me().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "idle for longer than the idle limit"
    );

    let (admin, _) = app.signed_in_admin().await;
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        let _ = admin.get(app.url("/api/v1/session")).send().await;
    }
    let res = admin.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "past the absolute limit even while active"
    );
}
