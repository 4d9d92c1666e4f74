//! Client assertions (`private_key_jwt`, RFC 7523 §2.2 and §3, RFC 7521 §4.2): a JWT the client
//! signs with one of its registered keys. Read here without trusting anything (which client,
//! which key), then checked: the signature with that key, and the claims. Whether the `jti` was
//! seen before is the store's (`store::assertions`), across instances.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsVerifier, PS256, RS256};
use serde_json::{Map, Value};
use vitesse_domain::{AssertionAlg, PublicJwk};

/// `client_assertion_type` for a JWT (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How far ahead an assertion's `exp` may be: it is single-use anyway, so it need only live as
/// long as one request takes; a short life also bounds how long used `jti`s are kept.
pub const MAX_AHEAD_SECS: i64 = 300;
/// Clock difference forgiven between the client and us.
pub const LEEWAY_SECS: i64 = 30;
/// How long after its `exp` a used `jti` is kept: past the leeway in which the assertion is
/// still accepted, with a margin for clocks differing between instances.
pub const JTI_KEPT_AFTER_EXP_SECS: i64 = LEEWAY_SECS + 120;
/// Larger assertions are refused unread.
const MAX_LEN: usize = 16 * 1024;

/// An assertion taken apart, nothing checked yet.
pub struct Unverified {
    /// `iss`, which must equal `sub`: the client it claims to be.
    pub client_id: String,
    pub alg: AssertionAlg,
    pub kid: Option<String>,
    signing_input: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

fn json_part(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Takes an assertion apart: a compact JWS with a supported `alg` (never `none`), no `crit`,
/// and `iss` = `sub`.
pub fn read(assertion: &str) -> Option<Unverified> {
    if assertion.len() > MAX_LEN {
        return None;
    }
    let mut parts = assertion.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = json_part(h)?;
    let claims = json_part(p)?;
    if header.contains_key("crit") {
        return None;
    }
    let alg = AssertionAlg::parse(header.get("alg")?.as_str()?)?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return None,
    };
    let iss = claims.get("iss")?.as_str()?;
    if claims.get("sub")?.as_str()? != iss {
        return None;
    }
    Some(Unverified {
        client_id: iss.to_owned(),
        alg,
        kid,
        signing_input: format!("{h}.{p}"),
        signature: URL_SAFE_NO_PAD.decode(s).ok()?,
        claims,
    })
}

/// What a verified assertion leaves to check against the store: its `jti` until its `exp`.
#[derive(Debug)]
pub struct Verified {
    pub jti: String,
    pub exp: i64,
}

impl Unverified {
    /// Whether `key` made the signature (with the header's algorithm, which the key fits).
    pub fn signed_by(&self, key: &PublicJwk) -> bool {
        if !key.matches(self.alg, self.kid.as_deref()) {
            return false;
        }
        // `alg` is checked above (and may be `Ed25519`, which josekit does not know).
        let mut members = key.json.clone();
        members.remove("alg");
        let Ok(jwk) = Jwk::from_map(members) else {
            return false;
        };
        let verifier: Result<Box<dyn JwsVerifier>, _> = match self.alg {
            AssertionAlg::Es256 => ES256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
            AssertionAlg::Rs256 => RS256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
            AssertionAlg::Ps256 => PS256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
            AssertionAlg::EdDsa => EdDSA.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
        };
        verifier.is_ok_and(|v| {
            v.verify(self.signing_input.as_bytes(), &self.signature)
                .is_ok()
        })
    }

    /// The claims (RFC 7523 §3): `aud` names one of `audiences` (the token endpoint's URL or
    /// the issuer), `exp` is ahead but at most [`MAX_AHEAD_SECS`] away, `iat` and `nbf` (when
    /// given) are not in the future, `jti` is there. Times are Unix seconds.
    pub fn claims_hold(&self, audiences: &[&str], now: i64) -> Option<Verified> {
        let c = &self.claims;
        let aud_ok = match c.get("aud")? {
            Value::String(a) => audiences.contains(&a.as_str()),
            Value::Array(list) => list
                .iter()
                .any(|a| a.as_str().is_some_and(|a| audiences.contains(&a))),
            _ => false,
        };
        let exp = c.get("exp")?.as_i64()?;
        let not_future = |name: &str| {
            c.get(name)
                .is_none_or(|v| v.as_i64().is_some_and(|t| t <= now + LEEWAY_SECS))
        };
        let jti = c.get("jti")?.as_str()?;
        let fresh = exp > now - LEEWAY_SECS && exp <= now + MAX_AHEAD_SECS + LEEWAY_SECS;
        (aud_ok
            && fresh
            && not_future("iat")
            && not_future("nbf")
            && !jti.is_empty()
            && jti.len() <= 200
            && !jti.chars().any(char::is_control))
        .then(|| Verified {
            jti: jti.to_owned(),
            exp,
        })
    }
}
