//! Throttling of guesses: failed client authentication per address, sign-in, and that an
//! unknown client cannot be told from a wrong secret by timing.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    failed_client_authentication_is_throttled_per_address,
    sign_in_is_throttled_against_guessing,
);

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
