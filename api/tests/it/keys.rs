//! Token-signing keys: rotation, switching to RS256, and the JWKS.
use crate::helpers::*;
use vitesse_api::oauth::keys::SigningAlg;

on_both_backends!(
    rotated_keys_are_published_before_use_and_kept_after,
    rs256_is_selectable_and_switching_keeps_earlier_tokens_valid,
);

fn kid_of(token: &str) -> String {
    jwt_header(token)["kid"].as_str().unwrap().to_owned()
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
