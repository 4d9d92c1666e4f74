//! Our access tokens (RFC 9068 JWTs): the claims we sign, and checking a token's signature,
//! type, issuer, audience and expiry. Whether its client may still use it is the token
//! service's question (`service::tokens`), which also reads the database.

use super::keys::KeyRing;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// RFC 9068 claims, as signed.
#[derive(Serialize)]
pub struct ClaimsToSign<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub account_id: &'a str,
    /// The client's internal id: a client deleted and made again under the same client ID is
    /// another client, whose tokens these are not.
    pub cpk: &'a str,
    /// The client's token generation when the token was issued (see `IdentityClient`).
    pub cgen: i32,
}

/// The claims of a token whose signature, type, issuer, audience and expiry checked out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifiedClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    pub account_id: String,
    /// Absent from tokens issued before 0.2 (they are checked by client ID, generation 0).
    #[serde(default)]
    pub cpk: String,
    #[serde(default)]
    pub cgen: i32,
}

/// The longest lifetime a token of ours can have (the token duration's maximum).
const MAX_LIFETIME_SECONDS: i64 = vitesse_domain::TokenDuration::MAX * 60;

/// Seconds since the epoch (NumericDate is whole seconds, RFC 7519 §2).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `Some(claims)` when `token` is one of ours: signed by a published key, of type `at+jwt`, for
/// `issuer` and `audience`, unexpired, with every claim we put in.
pub fn verify(keys: &KeyRing, issuer: &str, audience: &str, token: &str) -> Option<VerifiedClaims> {
    let (payload, header) = josekit::jwt::decode_with_verifier_selector(token, |h| {
        Ok(h.key_id()
            .and_then(|kid| keys.verifiers.get(kid))
            .map(|v| v.as_ref()))
    })
    .ok()?;
    if header.token_type() != Some("at+jwt") {
        return None;
    }
    let claims: VerifiedClaims =
        serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone())).ok()?;
    let unexpired = claims.exp > unix_now() as i64;
    // No token of ours lives longer than the longest token duration: one that claims to was
    // not made by this service, whatever key signed it.
    let plausible = claims.exp - claims.iat <= MAX_LIFETIME_SECONDS;
    (claims.iss == issuer && claims.aud == audience && unexpired && plausible).then_some(claims)
}
