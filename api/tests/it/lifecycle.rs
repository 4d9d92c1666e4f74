//! A secret's life: an expiry set when it is made, its own last use, ending the previous
//! secret before its grace period runs out, and the list's filters for clients that need
//! attention. Time passing is the store's clock moved back on the rows, never a mock.
use crate::helpers::*;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use vitesse_api::store::schema::identity_clients::dsl as c;

on_both_backends!(
    a_secret_expiry_is_set_when_it_is_made_and_an_expired_secret_is_refused,
    last_use_is_kept_per_secret_and_the_previous_secret_can_be_ended_now,
    a_use_just_before_the_secret_changes_is_kept_by_the_previous_secret,
    the_list_filters_clients_that_need_attention,
);

fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn days_ago(days: i64) -> chrono::NaiveDateTime {
    (Utc::now() - Duration::days(days)).naive_utc()
}

/// Asks for a token with these credentials and expects one.
async fn token_issued(app: &TestApp, client_id: &str, secret: &str) {
    let res = app.token(&GRANT, Some((client_id, secret))).await;
    assert_eq!(res.status(), StatusCode::OK, "a token for {client_id}");
}

async fn get_client(app: &TestApp, admin: &reqwest::Client, c: &Value) -> Value {
    json(admin.get(app.url(&path_of(c))).send().await.unwrap()).await
}

/// Changes `c`'s secret to a generated one; the typed one keeps working for a day.
async fn generate_new_secret(
    app: &TestApp,
    admin: &reqwest::Client,
    c: &Value,
) -> reqwest::Response {
    admin
        .post(app.url(&format!("{}/secret", path_of(c))))
        .json(&json!({"generate_secret": true, "previous_secret_grace_minutes": 1440}))
        .send()
        .await
        .unwrap()
}

/// Waits for the last-use write, which runs off the token response's path.
async fn settled(
    app: &TestApp,
    admin: &reqwest::Client,
    c: &Value,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..50 {
        let now = get_client(app, admin, c).await;
        if ok(&now) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never settled: {}", get_client(app, admin, c).await);
}

async fn a_secret_expiry_is_set_when_it_is_made_and_an_expired_secret_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;

    // Beyond two years, in the past, or not a time: refused, naming the field; nothing made.
    for bad in [json!(in_days(800)), json!(in_days(-1)), json!("next year")] {
        let mut body = valid_client("expiring-client");
        body["secret_expires_at"] = bad.clone();
        let res = app.create_client(&admin, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let problem = json(res).await;
        assert_eq!(problem["errors"][0]["field"], "secret_expires_at");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("at most two years ahead")
        );
    }
    assert_eq!(
        app.token(&GRANT, Some(("expiring-client", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "no client was made"
    );

    let expires = in_days(10);
    let mut body = valid_client("expiring-client");
    body["secret_expires_at"] = json!(expires);
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = json(res).await;
    let secret = &created["secrets"][0];
    assert_eq!(secret["slot"], "current");
    assert_eq!(secret["origin"], "typed");
    assert_eq!(
        secret["expires_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        expires.parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        app.token(&GRANT, Some(("expiring-client", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::OK
    );

    // Its expiry passes: the same secret now gets invalid_client.
    let pk = created["id"].as_str().unwrap().to_owned();
    app.db(move |conn| {
        diesel::update(c::identity_clients.filter(c::id.eq(pk)))
            .set(c::secret_expires_at.eq(Some(days_ago(1))))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let res = app
        .token(&GRANT, Some(("expiring-client", "correct-horse-battery")))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");

    // A generated secret with its own expiry replaces it; the expired one does not linger as
    // a previous secret, whatever the grace period asked for.
    let res = admin
        .post(app.url(&format!("{}/secret", path_of(&created))))
        .json(
            &json!({"generate_secret": true, "secret_expires_at": in_days(365),
                      "previous_secret_grace_minutes": 60}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rotated = json(res).await;
    let secrets = rotated["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1, "{rotated}");
    assert_eq!(secrets[0]["origin"], "generated");
    assert!(secrets[0]["expires_at"].is_string());
    let generated = rotated["client_secret"].as_str().unwrap();
    assert_eq!(
        app.token(&GRANT, Some(("expiring-client", generated)))
            .await
            .status(),
        StatusCode::OK
    );
    let trail = audit_trail(&app, &admin, &created).await;
    let changed = &trail["items"][0];
    assert_eq!(changed["action"], "secret_changed");
    assert!(
        changed["changes"]["secret_expires_at"].is_string(),
        "{changed}"
    );

    // An edit that sets a new secret may set its expiry; an expiry alone is refused.
    let res = patch(
        &app,
        &admin,
        &created,
        json!({"secret_expires_at": in_days(30)}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "secret_expires_at");
    let res = patch(
        &app,
        &admin,
        &created,
        json!({"client_secret": "typed-again-secret", "secret_expires_at": in_days(30)}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let edited = json(res).await;
    assert_eq!(edited["secrets"][0]["origin"], "typed");
    assert!(edited["secrets"][0]["expires_at"].is_string());
}

async fn last_use_is_kept_per_secret_and_the_previous_secret_can_be_ended_now(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (created, _) = create_client_as(&app, &admin, "shop-backend").await;
    assert_eq!(created["secrets"][0]["last_used_at"], Value::Null);

    let res = generate_new_secret(&app, &admin, &created).await;
    let rotated = json(res).await;
    let generated = rotated["client_secret"].as_str().unwrap().to_owned();
    let secrets = rotated["secrets"].as_array().unwrap();
    assert_eq!(
        (secrets[0]["slot"].as_str(), secrets[1]["slot"].as_str()),
        (Some("current"), Some("previous"))
    );
    assert_eq!(secrets[1]["origin"], "typed");
    assert_eq!(
        secrets[1]["expires_at"],
        rotated["previous_secret_expires_at"]
    );

    // The previous secret is used: only its last use moves.
    token_issued(&app, "shop-backend", "correct-horse-battery").await;
    let seen = settled(&app, &admin, &created, |c| {
        c["secrets"][1]["last_used_at"].is_string()
    })
    .await;
    assert_eq!(seen["secrets"][0]["last_used_at"], Value::Null, "{seen}");
    assert!(
        seen["last_used_at"].is_string(),
        "the client's own last use too"
    );

    // Then the current one: its own last use, the previous one's kept.
    token_issued(&app, "shop-backend", &generated).await;
    let seen = settled(&app, &admin, &created, |c| {
        c["secrets"][0]["last_used_at"].is_string()
    })
    .await;
    assert!(seen["secrets"][1]["last_used_at"].is_string());

    // End the previous secret now: it stops at once, and the trail says so.
    let end = app.url(&format!("{}/previous-secret", path_of(&created)));
    let res = admin.delete(&end).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ended = json(res).await;
    assert_eq!(ended["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(ended["previous_secret_expires_at"], Value::Null);
    let res = app
        .token(&GRANT, Some(("shop-backend", "correct-horse-battery")))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.token(&GRANT, Some(("shop-backend", &generated)))
            .await
            .status(),
        StatusCode::OK
    );
    // Nothing left to end: nothing changes, no event.
    let res = admin.delete(&end).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["version"], ended["version"]);
    let trail = audit_trail(&app, &admin, &created).await;
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["previous_secret_ended", "secret_changed", "created"]
    );
}

/// Last uses are written a second at a time, off the token's path: a secret changed within that
/// second keeps the use, now as the previous secret's.
async fn a_use_just_before_the_secret_changes_is_kept_by_the_previous_secret(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (created, _) = create_client_as(&app, &admin, "shop-backend").await;
    token_issued(&app, "shop-backend", "correct-horse-battery").await;
    let res = generate_new_secret(&app, &admin, &created).await;
    assert_eq!(res.status(), StatusCode::OK);
    let seen = settled(&app, &admin, &created, |c| {
        c["secrets"][1]["last_used_at"].is_string()
    })
    .await;
    assert_eq!(seen["secrets"][1]["slot"], "previous");
    assert_eq!(seen["secrets"][0]["last_used_at"], Value::Null, "{seen}");
    assert!(seen["last_used_at"].is_string());
    // Used again after the change, within the minute: that use is recorded, so the previous
    // secret does not look unused since the change.
    token_issued(&app, "shop-backend", "correct-horse-battery").await;
    let changed_at = seen["secrets"][0]["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    settled(&app, &admin, &created, |c| {
        c["secrets"][1]["last_used_at"]
            .as_str()
            .is_some_and(|t| t >= changed_at.as_str())
    })
    .await;

    // The same again with the new secret used within the same second: both uses are kept.
    let (other, _) = create_client_as(&app, &admin, "shop-frontend").await;
    token_issued(&app, "shop-frontend", "correct-horse-battery").await;
    let res = generate_new_secret(&app, &admin, &other).await;
    let new_secret = json(res).await["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    token_issued(&app, "shop-frontend", &new_secret).await;
    settled(&app, &admin, &other, |c| {
        c["secrets"][0]["last_used_at"].is_string() && c["secrets"][1]["last_used_at"].is_string()
    })
    .await;

    // A secret ended within the second its use waits to be written: the client's own last
    // use is still kept.
    let (ended, _) = create_client_as(&app, &admin, "shop-worker").await;
    token_issued(&app, "shop-worker", "correct-horse-battery").await;
    let res = admin
        .post(app.url(&format!("{}/secret", path_of(&ended))))
        .json(&json!({"generate_secret": true, "previous_secret_grace_minutes": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    settled(&app, &admin, &ended, |c| c["last_used_at"].is_string()).await;
}

async fn the_list_filters_clients_that_need_attention(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let make = |id: &'static str, expires: Option<i64>| {
        let (app, admin) = (&app, &admin);
        async move {
            let mut body = valid_client(id);
            if let Some(d) = expires {
                body["secret_expires_at"] = json!(in_days(d));
            }
            let res = app.create_client(admin, &body).await;
            assert_eq!(res.status(), StatusCode::CREATED);
            json(res).await["id"].as_str().unwrap().to_owned()
        }
    };
    make("used-today", None).await;
    make("never-used", None).await;
    let expiring = make("expires-soon", Some(10)).await;
    make("expires-later", Some(60)).await;
    let stale = make("used-long-ago", None).await;
    let old_unused = make("old-never-used", None).await;
    assert_eq!(
        app.token(&GRANT, Some(("used-today", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::OK
    );
    app.db(move |conn| {
        diesel::update(c::identity_clients.filter(c::id.eq(stale)))
            .set((
                c::created_at.eq(days_ago(90)),
                c::last_used_at.eq(Some(days_ago(40))),
            ))
            .execute(conn)?;
        diesel::update(c::identity_clients.filter(c::id.eq(old_unused)))
            .set(c::created_at.eq(days_ago(45)))
            .execute(conn)?;
        // An expired secret needs attention too.
        diesel::update(c::identity_clients.filter(c::id.eq(expiring)))
            .set(c::secret_expires_at.eq(Some(days_ago(1))))
            .execute(conn)?;
        Ok(())
    })
    .await;
    // The token's last-use write runs off its response's path.
    let mut listed = vec![];
    for _ in 0..50 {
        listed = list_ids(&app, &admin, "filter=never_used").await;
        if !listed.contains(&"used-today".to_owned()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        listed,
        [
            "expires-later",
            "expires-soon",
            "never-used",
            "old-never-used"
        ]
    );
    assert_eq!(
        list_ids(&app, &admin, "filter=not_used_30_days").await,
        ["old-never-used", "used-long-ago"]
    );
    assert_eq!(
        list_ids(
            &app,
            &admin,
            "filter=secret_expires_30_days&sort=-client_id"
        )
        .await,
        ["expires-soon"]
    );
    // Filters combine with search and paging.
    assert_eq!(
        list_ids(&app, &admin, "filter=never_used&search=expires&limit=1").await,
        ["expires-later"]
    );
    let res = admin
        .get(app.url("/api/v1/identity-clients?filter=unused"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "filter");
}

async fn list_ids(app: &TestApp, admin: &reqwest::Client, query: &str) -> Vec<String> {
    let res = admin
        .get(app.url(&format!("/api/v1/identity-clients?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect()
}
