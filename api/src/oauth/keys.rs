//! Signing keys: kept in the database so every instance signs with and publishes the same set.

use crate::store::keys::{self as key_store, KeyRow};
use crate::store::{AnyConnection, StoreError, now};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, RS256};
use openssl::ec::EcKey;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use std::collections::HashMap;
use std::sync::Arc;

/// How long a retired key stays in the JWKS: longer than any token it signed can live.
pub const RETIRED_KEY_KEPT: chrono::Duration = chrono::Duration::minutes(65);

/// The JWS algorithm tokens are signed with (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256: small tokens, fast to sign. The default.
    #[value(name = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit key, for verifiers that know only RSA.
    #[value(name = "RS256")]
    Rs256,
}

impl SigningAlg {
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }
}

/// The private half of the key in use, ready to sign.
enum Signer {
    Es256(EcKey<Private>),
    Rs256(PKey<Private>),
}

/// The signer in use and the JWKS document, built once per key-set change.
pub struct KeyRing {
    pub kid: String,
    pub alg: SigningAlg,
    signer: Signer,
    /// base64url of the JWS header, the same for every token this key signs.
    header_b64: String,
    pub jwks_json: Arc<str>,
    /// Every published key by kid, to check our own tokens (bearer automation, introspection).
    pub verifiers: HashMap<String, Box<dyn JwsVerifier>>,
}

fn generate(alg: SigningAlg, active_from: chrono::NaiveDateTime) -> Result<KeyRow, StoreError> {
    let err = |e: josekit::JoseError| StoreError::Other(format!("key generation: {e}"));
    let (private_pem, mut jwk) = match alg {
        SigningAlg::Es256 => {
            let pair = ES256.generate_key_pair().map_err(err)?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
        SigningAlg::Rs256 => {
            let pair = RS256.generate_key_pair(2048).map_err(err)?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
    };
    let kid = uuid::Uuid::new_v4().simple().to_string();
    jwk.set_key_id(&kid);
    jwk.set_algorithm(alg.name());
    jwk.set_key_use("sig");
    Ok(KeyRow {
        kid,
        alg: alg.name().into(),
        private_pem: String::from_utf8(private_pem)
            .map_err(|e| StoreError::Other(e.to_string()))?,
        public_jwk: serde_json::to_string(jwk.as_ref())
            .map_err(|e| StoreError::Other(e.to_string()))?,
        created_at: now(),
        active_from,
        retired_at: None,
    })
}

/// The newest of `rows` by activation (kid breaks ties): every instance picks the same one.
fn newest<'a>(rows: impl Iterator<Item = &'a KeyRow>) -> Option<&'a KeyRow> {
    rows.max_by(|a, b| (a.active_from, &a.kid).cmp(&(b.active_from, &b.kid)))
}

fn verifier(row: &KeyRow) -> Option<Box<dyn JwsVerifier>> {
    let jwk = Jwk::from_bytes(row.public_jwk.as_bytes()).ok()?;
    match row.alg.as_str() {
        "ES256" => Some(Box::new(ES256.verifier_from_jwk(&jwk).ok()?)),
        "RS256" => Some(Box::new(RS256.verifier_from_jwk(&jwk).ok()?)),
        _ => None,
    }
}

/// At start: makes sure the key that signs now (or next, after a pending rotation) uses `alg`.
/// The first start creates the first key; a changed algorithm is a rotation with no delay, so
/// the old key stays published for the tokens it signed.
pub fn ensure_signer(conn: &mut AnyConnection, alg: SigningAlg) -> Result<(), StoreError> {
    let rows = key_store::published(conn, now() - RETIRED_KEY_KEPT)?;
    match newest(rows.iter().filter(|r| r.retired_at.is_none())) {
        None if rows.is_empty() => key_store::insert(conn, &generate(alg, now())?),
        Some(row) if row.alg == alg.name() => Ok(()),
        _ => {
            tracing::info!(alg = alg.name(), "token signing algorithm changed: new key");
            rotate(conn, alg, chrono::Duration::zero()).map(|_| ())
        }
    }
}

/// Loads the published keys and picks the signer.
pub fn load(conn: &mut AnyConnection) -> Result<KeyRing, StoreError> {
    let rows = key_store::published(conn, now() - RETIRED_KEY_KEPT)?;
    let at = now();
    // The signer: the newest key already active and not yet retired (else the newest active).
    let in_use = |r: &&KeyRow| r.active_from <= at && r.retired_at.is_none_or(|t| t > at);
    let signer_row = newest(rows.iter().filter(in_use))
        .or_else(|| newest(rows.iter().filter(|r| r.active_from <= at)))
        .ok_or_else(|| StoreError::Other("no usable signing key".into()))?;
    let key_err = |e: openssl::error::ErrorStack| StoreError::Other(format!("signing key: {e}"));
    let private = PKey::private_key_from_pem(signer_row.private_pem.as_bytes()).map_err(key_err)?;
    let (alg, signer) = match signer_row.alg.as_str() {
        "ES256" => (
            SigningAlg::Es256,
            Signer::Es256(private.ec_key().map_err(key_err)?),
        ),
        "RS256" => (SigningAlg::Rs256, Signer::Rs256(private)),
        other => return Err(StoreError::Other(format!("unknown key algorithm {other}"))),
    };
    let header = serde_json::json!({ "typ": "at+jwt", "alg": alg.name(), "kid": signer_row.kid });
    let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|r| serde_json::from_str(&r.public_jwk).ok())
        .collect();
    let verifiers = rows
        .iter()
        .filter_map(|r| Some((r.kid.clone(), verifier(r)?)))
        .collect();
    Ok(KeyRing {
        kid: signer_row.kid.clone(),
        alg,
        signer,
        header_b64,
        jwks_json: serde_json::json!({ "keys": keys }).to_string().into(),
        verifiers,
    })
}

/// `keys rotate`: the next key is published at once and signs after `activate_after`.
pub fn rotate(
    conn: &mut AnyConnection,
    alg: SigningAlg,
    activate_after: chrono::Duration,
) -> Result<KeyRow, StoreError> {
    let next = generate(alg, now() + activate_after)?;
    key_store::rotate(conn, &next, now() - RETIRED_KEY_KEPT)?;
    Ok(next)
}

impl KeyRing {
    /// A compact JWS (RFC 7515) of `claims` with this ring's signer. ES256's signature is
    /// R || S (RFC 7518 §3.4), RS256's PKCS #1 v1.5 (§3.3). Keys come from josekit and tokens
    /// are checked with josekit; signing goes straight to OpenSSL because josekit sets up a
    /// fresh EVP signer per call, which cost a fifth of the token endpoint.
    pub fn sign(
        &self,
        claims: &impl serde::Serialize,
    ) -> Result<String, openssl::error::ErrorStack> {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut jws = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 400);
        jws.push_str(&self.header_b64);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let raw = match &self.signer {
            Signer::Es256(key) => {
                let digest = crate::digest::sha256(&[jws.as_bytes()]);
                let sig = EcdsaSig::sign(&digest, key)?;
                let mut raw = sig.r().to_vec_padded(32)?;
                raw.extend_from_slice(&sig.s().to_vec_padded(32)?);
                raw
            }
            Signer::Rs256(key) => openssl::sign::Signer::new(MessageDigest::sha256(), key)?
                .sign_oneshot_to_vec(jws.as_bytes())?,
        };
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&raw, &mut jws);
        Ok(jws)
    }
}
