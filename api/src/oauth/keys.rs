//! Signing keys: kept in the database so every instance signs with and publishes the same set.

use crate::store::keys::{self as key_store, KeyRow};
use crate::store::{AnyConnection, StoreError, now};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::ES256;
use josekit::jws::alg::ecdsa::EcdsaJwsVerifier;
use openssl::ec::EcKey;
use openssl::ecdsa::EcdsaSig;
use openssl::pkey::{PKey, Private};
use std::collections::HashMap;
use std::sync::Arc;

/// How long a retired key stays in the JWKS: longer than any token it signed can live.
pub const RETIRED_KEY_KEPT: chrono::Duration = chrono::Duration::minutes(65);

/// The signer in use and the JWKS document, built once per key-set change.
pub struct KeyRing {
    pub kid: String,
    signing_key: EcKey<Private>,
    /// base64url of the JWS header, the same for every token this key signs.
    header_b64: String,
    pub jwks_json: Arc<str>,
    /// Every published key by kid, to check our own tokens (bearer automation, introspection).
    pub verifiers: HashMap<String, EcdsaJwsVerifier>,
}

fn generate(active_from: chrono::NaiveDateTime) -> Result<KeyRow, StoreError> {
    let err = |e: josekit::JoseError| StoreError::Other(format!("key generation: {e}"));
    let pair = ES256.generate_key_pair().map_err(err)?;
    let kid = uuid::Uuid::new_v4().simple().to_string();
    let mut jwk = pair.to_jwk_public_key();
    jwk.set_key_id(&kid);
    jwk.set_algorithm("ES256");
    jwk.set_key_use("sig");
    Ok(KeyRow {
        kid,
        alg: "ES256".into(),
        private_pem: String::from_utf8(pair.to_pem_private_key())
            .map_err(|e| StoreError::Other(e.to_string()))?,
        public_jwk: serde_json::to_string(jwk.as_ref())
            .map_err(|e| StoreError::Other(e.to_string()))?,
        created_at: now(),
        active_from,
        retired_at: None,
    })
}

/// Loads the published keys, creating the first one when there is none.
pub fn load_or_create(conn: &mut AnyConnection) -> Result<KeyRing, StoreError> {
    let retired_after = now() - RETIRED_KEY_KEPT;
    let mut rows = key_store::published(conn, retired_after)?;
    if rows.is_empty() {
        key_store::insert(conn, &generate(now())?)?;
        rows = key_store::published(conn, retired_after)?;
    }
    let at = now();
    // The signer: the newest key already active and not yet retired. Every instance picks the
    // same one from the same rows.
    let in_use = |r: &&KeyRow| r.active_from <= at && r.retired_at.is_none_or(|t| t > at);
    let signer_row = rows
        .iter()
        .filter(in_use)
        .max_by(|a, b| (a.active_from, &a.kid).cmp(&(b.active_from, &b.kid)))
        .or_else(|| {
            rows.iter()
                .filter(|r| r.active_from <= at)
                .max_by_key(|r| r.active_from)
        })
        .ok_or_else(|| StoreError::Other("no usable signing key".into()))?;
    let signing_key = PKey::private_key_from_pem(signer_row.private_pem.as_bytes())
        .and_then(|k| k.ec_key())
        .map_err(|e| StoreError::Other(format!("signing key: {e}")))?;
    let header = serde_json::json!({ "typ": "at+jwt", "alg": "ES256", "kid": signer_row.kid });
    let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|r| serde_json::from_str(&r.public_jwk).ok())
        .collect();
    let verifiers = rows
        .iter()
        .filter_map(|r| {
            let jwk = Jwk::from_bytes(r.public_jwk.as_bytes()).ok()?;
            Some((r.kid.clone(), ES256.verifier_from_jwk(&jwk).ok()?))
        })
        .collect();
    Ok(KeyRing {
        kid: signer_row.kid.clone(),
        signing_key,
        header_b64,
        jwks_json: serde_json::json!({ "keys": keys }).to_string().into(),
        verifiers,
    })
}

/// `keys rotate`: the next key is published at once and signs after `activate_after`.
pub fn rotate(
    conn: &mut AnyConnection,
    activate_after: chrono::Duration,
) -> Result<KeyRow, StoreError> {
    let next = generate(now() + activate_after)?;
    key_store::rotate(conn, &next, now() - RETIRED_KEY_KEPT)?;
    Ok(next)
}

impl KeyRing {
    /// A compact JWS (RFC 7515) of `claims` with this ring's signer: ES256 over SHA-256 of the
    /// signing input, the signature as R || S (RFC 7518 §3.4). Keys come from josekit and
    /// tokens are checked with josekit; signing goes straight to OpenSSL's ECDSA because
    /// josekit sets up a fresh EVP signer per call, which cost a fifth of the token endpoint.
    pub fn sign(
        &self,
        claims: &impl serde::Serialize,
    ) -> Result<String, openssl::error::ErrorStack> {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut jws = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 100);
        jws.push_str(&self.header_b64);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let digest = openssl::sha::sha256(jws.as_bytes());
        let sig = EcdsaSig::sign(&digest, &self.signing_key)?;
        let mut raw = sig.r().to_vec_padded(32)?;
        raw.extend_from_slice(&sig.s().to_vec_padded(32)?);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&raw, &mut jws);
        Ok(jws)
    }
}
