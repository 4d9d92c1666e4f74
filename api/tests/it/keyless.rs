//! Keyless clients (RFC 7523 private_key_jwt): assertions signed with keys the tests generate,
//! registered inline or published at a URL the test serves.
use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsSigner, PS256, RS256};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(
    each_algorithm_signs_for_its_client_and_a_secret_does_not,
    bad_assertions_are_invalid_client_and_one_is_good_once_across_instances,
    private_or_bad_keys_are_refused_naming_the_field_and_change_nothing,
    keys_at_a_url_are_fetched_and_a_rotation_is_picked_up,
    new_key_material_under_the_same_kid_replaces_the_old,
    a_used_assertion_stays_used_past_every_sweep_while_it_could_be_accepted,
    a_failed_fetch_says_what_went_wrong_but_not_what_the_other_host_answered,
);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key pair the test made: the private JWK signs, the public one is registered.
struct Key {
    signer: Box<dyn JwsSigner>,
    public: Value,
}

fn with_kid(jwk: Jwk, kid: &str, alg: Option<&str>) -> Value {
    let mut v: Value = serde_json::from_str(&jwk.to_string()).unwrap();
    v["kid"] = json!(kid);
    if let Some(a) = alg {
        v["alg"] = json!(a);
    }
    v
}

fn es256(kid: &str) -> Key {
    let pair = ES256.generate_key_pair().unwrap();
    Key {
        signer: Box::new(ES256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap()),
        public: with_kid(pair.to_jwk_public_key(), kid, None),
    }
}

fn rsa(kid: &str, pss: bool) -> Key {
    let pair = RS256.generate_key_pair(2048).unwrap();
    let mut private = pair.to_jwk_private_key();
    private.set_algorithm(if pss { "PS256" } else { "RS256" });
    let signer: Box<dyn JwsSigner> = if pss {
        Box::new(PS256.signer_from_jwk(&private).unwrap())
    } else {
        Box::new(RS256.signer_from_jwk(&private).unwrap())
    };
    let alg = if pss { "PS256" } else { "RS256" };
    Key {
        signer,
        public: with_kid(pair.to_jwk_public_key(), kid, Some(alg)),
    }
}

fn ed25519(kid: &str) -> Key {
    let pair = EdDSA
        .generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)
        .unwrap();
    Key {
        signer: Box::new(EdDSA.signer_from_jwk(&pair.to_jwk_private_key()).unwrap()),
        public: with_kid(pair.to_jwk_public_key(), kid, None),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims a good assertion of `client_id` for `app` carries.
fn claims(app: &TestApp, client_id: &str) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": app.url("/oauth2/token"),
        "iat": now(), "exp": now() + 120, "jti": unique("jti-"),
    })
}

/// A compact JWS with this header `alg` and `kid`, signed by `key` (whatever the header says).
fn sign(key: &Key, alg: &str, kid: &str, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!(
        "{}.{}",
        b64(&json!({"alg": alg, "kid": kid, "typ": "JWT"})),
        b64(claims)
    );
    let signature = key.signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn token_with(app: &TestApp, assertion: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap()
}

async fn keyless_client(
    app: &TestApp,
    admin: &reqwest::Client,
    client_id: &str,
    keys: Value,
) -> reqwest::Response {
    let mut body = valid_client(client_id);
    body.as_object_mut().unwrap().remove("client_secret");
    body["token_endpoint_auth_method"] = json!("private_key_jwt");
    for (k, v) in keys.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create_client(admin, &body).await
}

async fn each_algorithm_signs_for_its_client_and_a_secret_does_not(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let keys = [
        (es256("ec-1"), "ES256"),
        (rsa("rsa-1", false), "RS256"),
        (rsa("pss-1", true), "PS256"),
        (ed25519("ed-1"), "EdDSA"),
    ];
    let set = json!({"keys": keys.iter().map(|(k, _)| k.public.clone()).collect::<Vec<_>>()});
    let res = keyless_client(&app, &admin, "keyless-client", json!({"jwks": set})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made = json(res).await;
    assert_eq!(made["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(made["secrets"], json!([]), "no secret to show");
    assert_eq!(made["keys"].as_array().unwrap().len(), 4);
    for (key, alg) in &keys {
        let kid = key.public["kid"].as_str().unwrap();
        let res = token_with(&app, &sign(key, alg, kid, &claims(&app, "keyless-client"))).await;
        assert_eq!(res.status(), StatusCode::OK, "{alg}");
        let body = json(res).await;
        assert_eq!(
            verify(&app, body["access_token"].as_str().unwrap()).await.1["sub"],
            "keyless-client"
        );
    }
    // The fully-specified name of EdDSA over Ed25519, as current libraries send it.
    let ed = &keys[3].0;
    let res = token_with(
        &app,
        &sign(ed, "Ed25519", "ed-1", &claims(&app, "keyless-client")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The issuer is an accepted audience too.
    let mut c = claims(&app, "keyless-client");
    c["aud"] = json!([app.addr.as_str()]);
    assert_eq!(
        token_with(&app, &sign(ed, "EdDSA", "ed-1", &c))
            .await
            .status(),
        StatusCode::OK
    );
    // No secret works for a keyless client, whatever is typed.
    let res = app.token(&GRANT, Some(("keyless-client", "keyless"))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Introspection authenticates the same way.
    let token = json(
        token_with(
            &app,
            &sign(ed, "EdDSA", "ed-1", &claims(&app, "keyless-client")),
        )
        .await,
    )
    .await;
    let res = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .form(&[
            ("token", token["access_token"].as_str().unwrap()),
            ("client_assertion_type", ASSERTION_TYPE),
            (
                "client_assertion",
                &sign(ed, "EdDSA", "ed-1", &claims(&app, "keyless-client")),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["active"], true);
    // A secret change is not for a keyless client.
    let res = admin
        .post(app.url(&format!("{}/secret", path_of(&made))))
        .json(&json!({"generate_secret": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn bad_assertions_are_invalid_client_and_one_is_good_once_across_instances(b: Backend) {
    let app = spawn_app(b).await;
    let other = spawn_app_on(&app.database_url).await;
    let (admin, _) = app.signed_in_admin().await;
    let ec = es256("ec-1");
    let stranger = es256("ec-1");
    let set = json!({"keys": [ec.public.clone()]});
    assert_eq!(
        keyless_client(&app, &admin, "strict-client", json!({"jwks": set}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let good = || claims(&app, "strict-client");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good();
        f(&mut c);
        c
    };
    let none = {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&good()))
    };
    let cases: Vec<(&str, String)> = vec![
        (
            // A NUL byte, which PostgreSQL refuses in a query: refused before any lookup.
            "an issuer no client can have",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| {
                    c["iss"] = json!("strict-client\u{0}");
                    c["sub"] = json!("strict-client\u{0}");
                }),
            ),
        ),
        (
            "wrong aud",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| c["aud"] = json!("https://elsewhere.example/token")),
            ),
        ),
        (
            "expired",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| c["exp"] = json!(now() - 120)),
            ),
        ),
        (
            "no exp",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
        ),
        (
            "exp an hour ahead",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| c["exp"] = json!(now() + 3600)),
            ),
        ),
        (
            "iat in the future",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| c["iat"] = json!(now() + 600)),
            ),
        ),
        (
            "no jti",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("jti");
                }),
            ),
        ),
        (
            "iss is not sub",
            sign(
                &ec,
                "ES256",
                "ec-1",
                &with(&|c| c["iss"] = json!("another-client")),
            ),
        ),
        (
            "alg does not match the key",
            sign(&ec, "RS256", "ec-1", &good()),
        ),
        ("alg none", none),
        ("unknown kid", sign(&ec, "ES256", "ec-2", &good())),
        ("another key", sign(&stranger, "ES256", "ec-1", &good())),
        ("garbage", "not.a.jwt".into()),
    ];
    for (what, assertion) in cases {
        let res = token_with(&app, &assertion).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(json(res).await["error"], "invalid_client", "{what}");
    }
    // A jti the database could not store is refused like any bad assertion (found by review:
    // a NUL gave a 500 on PostgreSQL).
    let nul = sign(
        &ec,
        "ES256",
        "ec-1",
        &with(&|c| c["jti"] = json!("a\u{0}b")),
    );
    assert_eq!(
        token_with(&app, &nul).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Good once: used on one instance, a replay on the other is refused.
    let once = sign(&ec, "ES256", "ec-1", &good());
    assert_eq!(token_with(&app, &once).await.status(), StatusCode::OK);
    assert_eq!(
        token_with(&other, &once).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_with(&app, &once).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Two methods at once are a malformed request.
    let res = reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth("strict-client", Some("x"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &sign(&ec, "ES256", "ec-1", &good())),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn private_or_bad_keys_are_refused_naming_the_field_and_change_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let pair = ES256.generate_key_pair().unwrap();
    let private: Value = serde_json::from_str(&pair.to_jwk_private_key().to_string()).unwrap();
    let res = keyless_client(
        &app,
        &admin,
        "leaky-client",
        json!({"jwks": {"keys": [private]}}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json(res).await;
    assert_eq!(problem["errors"][0]["field"], "jwks");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("private member")
    );
    let ec = es256("same");
    let twice = json!({"keys": [ec.public.clone(), ec.public.clone()]});
    let res = keyless_client(&app, &admin, "leaky-client", json!({"jwks": twice})).await;
    assert_eq!(json(res).await["errors"][0]["field"], "jwks");
    let res = keyless_client(
        &app,
        &admin,
        "leaky-client",
        json!({"jwks_uri": "http://keys.example/jwks"}),
    )
    .await;
    assert_eq!(json(res).await["errors"][0]["field"], "jwks_uri");
    let res = keyless_client(&app, &admin, "leaky-client", json!({})).await;
    assert_eq!(json(res).await["errors"][0]["field"], "jwks");
    let mut with_secret = valid_client("leaky-client");
    with_secret["token_endpoint_auth_method"] = json!("private_key_jwt");
    with_secret["jwks"] = json!({"keys": [ec.public.clone()]});
    let res = app.create_client(&admin, &with_secret).await;
    assert_eq!(json(res).await["errors"][0]["field"], "client_secret");
    // Nothing was made.
    let list = json(
        admin
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"], json!([]));

    // A secret client switched to keys needs keys; switched back it needs a secret.
    let (made, _) = create_client_as(&app, &admin, "switching-client").await;
    let res = patch(
        &app,
        &admin,
        &made,
        json!({"token_endpoint_auth_method": "private_key_jwt"}),
        None,
    )
    .await;
    assert_eq!(json(res).await["errors"][0]["field"], "jwks");
    let res = patch(
        &app,
        &admin,
        &made,
        json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec.public.clone()]}}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let now = json(res).await;
    assert_eq!(
        app.token(&GRANT, Some(("switching-client", "correct-horse-battery")))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let res = patch(
        &app,
        &admin,
        &now,
        json!({"token_endpoint_auth_method": "client_secret"}),
        None,
    )
    .await;
    assert_eq!(json(res).await["errors"][0]["field"], "client_secret");
    let trail = audit_trail(&app, &admin, &made).await;
    assert_eq!(
        trail["items"][0]["labels"]["token_endpoint_auth_method"],
        "Authentication method"
    );
}

/// Found by review: a key replaced by new material under the same kid used to be ignored (the
/// edit compared kids and types only), so rotating away a compromised key silently failed.
async fn new_key_material_under_the_same_kid_replaces_the_old(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let (old, new) = (es256("k1"), es256("k1"));
    let res = keyless_client(
        &app,
        &admin,
        "rekeyed-client",
        json!({"jwks": {"keys": [old.public.clone()]}}),
    )
    .await;
    let made = json(res).await;
    let res = patch(
        &app,
        &admin,
        &made,
        json!({"jwks": {"keys": [new.public.clone()]}}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = || claims(&app, "rekeyed-client");
    assert_eq!(
        token_with(&app, &sign(&new, "ES256", "k1", &c()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        token_with(&app, &sign(&old, "ES256", "k1", &c()))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "the replaced key no longer signs"
    );
    let trail = audit_trail(&app, &admin, &made).await;
    let change = &trail["items"][0]["changes"]["jwks"];
    assert_ne!(
        change["from"], change["to"],
        "the trail tells the keys apart: {change}"
    );
}

/// Found by review: a used jti was forgotten at its exp while the assertion was still accepted
/// for the clock leeway after it, so a sweep opened a replay window.
async fn a_used_assertion_stays_used_past_every_sweep_while_it_could_be_accepted(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let ec = es256("k1");
    keyless_client(
        &app,
        &admin,
        "swept-client",
        json!({"jwks": {"keys": [ec.public.clone()]}}),
    )
    .await;
    let mut c = claims(&app, "swept-client");
    c["exp"] = json!(now() - 5); // expired, but within the leeway
    let assertion = sign(&ec, "ES256", "k1", &c);
    assert_eq!(token_with(&app, &assertion).await.status(), StatusCode::OK);
    app.state.sweep().await.unwrap();
    assert_eq!(
        token_with(&app, &assertion).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Found by review: the details page showed what the keys URL answered ("… answered 401
/// Unauthorized"), so an admin could probe services the server reaches.
async fn a_failed_fetch_says_what_went_wrong_but_not_what_the_other_host_answered(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let ec = es256("k1");
    // The server itself, which answers 401 there.
    let probe = app.url("/api/v1/identity-clients");
    let res = keyless_client(&app, &admin, "probing-client", json!({"jwks_uri": probe})).await;
    let made = json(res).await;
    let c = claims(&app, "probing-client");
    assert_eq!(
        token_with(&app, &sign(&ec, "ES256", "k1", &c))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let details = json(admin.get(app.url(&path_of(&made))).send().await.unwrap()).await;
    let error = details["jwks_fetch"]["error"].as_str().unwrap();
    assert_eq!(error, "The keys URL did not answer with the keys");
    assert!(!error.contains("401"), "{error}");
}

/// Serves a JWK Set at `http://127.0.0.1:PORT/jwks` that the test can change.
fn serve_jwks(set: Arc<Mutex<Value>>) -> String {
    serve_jwks_counting(set, Arc::default(), Duration::ZERO)
}

/// The same, counting the fetches, each answered after `delay`.
fn serve_jwks_counting(
    set: Arc<Mutex<Value>>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
    delay: Duration,
) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(delay);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = set.lock().unwrap().to_string();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=3600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

async fn keys_at_a_url_are_fetched_and_a_rotation_is_picked_up(b: Backend) {
    let app = spawn_app_with(b, |c| c.jwks_refetch = Duration::from_secs(1)).await;
    let (admin, _) = app.signed_in_admin().await;
    let (old, new) = (es256("2026-old"), ed25519("2026-new"));
    let published = Arc::new(Mutex::new(json!({"keys": [old.public.clone()]})));
    let url = serve_jwks(published.clone());
    let res = keyless_client(&app, &admin, "published-client", json!({"jwks_uri": url})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made = json(res).await;
    let c = || claims(&app, "published-client");
    assert_eq!(
        token_with(&app, &sign(&old, "ES256", "2026-old", &c()))
            .await
            .status(),
        StatusCode::OK
    );
    let details = json(admin.get(app.url(&path_of(&made))).send().await.unwrap()).await;
    assert_eq!(details["keys"][0]["kid"], "2026-old");
    assert!(details["jwks_fetch"]["fetched_at"].is_string(), "{details}");

    // The client rotates: the new key is published (the set is kept an hour, but an unknown
    // kid makes it fetched again, at most once per refetch gap).
    *published.lock().unwrap() = json!({"keys": [new.public.clone()]});
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        token_with(&app, &sign(&new, "EdDSA", "2026-new", &c()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        token_with(&app, &sign(&old, "ES256", "2026-old", &c()))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "the old key is gone from the set"
    );
    let details = json(admin.get(app.url(&path_of(&made))).send().await.unwrap()).await;
    assert_eq!(details["keys"][0]["kid"], "2026-new");

    // Twelve requests at once for a slow publisher's new client: one fetch serves them all.
    let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let slow = serve_jwks_counting(
        published.clone(),
        fetches.clone(),
        Duration::from_millis(500),
    );
    let res = keyless_client(&app, &admin, "slow-published", json!({"jwks_uri": slow})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let answers = futures_util::future::join_all((0..12).map(|_| {
        let a = sign(&new, "EdDSA", "2026-new", &claims(&app, "slow-published"));
        let app = &app;
        async move { token_with(app, &a).await.status() }
    }))
    .await;
    assert_eq!(answers, vec![StatusCode::OK; 12]);
    assert_eq!(
        fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one fetch for all"
    );
}
