//! Keyless clients (RFC 7523 `private_key_jwt`): how a client authenticates, and the public
//! keys it signs its assertions with — a JWK Set given inline, or the URL one is published at.
//! Only the rules live here (what a registrable key is, what an acceptable URL is); verifying
//! signatures and fetching URLs are the server's.

use crate::error::{Field, FieldError};
use serde_json::{Map, Value};

/// How a client proves itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum AuthMethod {
    /// A shared secret, by Basic or in the form (RFC 6749 §2.3.1).
    #[default]
    ClientSecret,
    /// An assertion signed with one of its registered keys (RFC 7523 §2.2).
    PrivateKeyJwt,
}

impl AuthMethod {
    pub const RULE: &'static str = "Authentication method must be client_secret or private_key_jwt";

    pub const fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "client_secret",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "client_secret" => Ok(AuthMethod::ClientSecret),
            "private_key_jwt" => Ok(AuthMethod::PrivateKeyJwt),
            _ => Err(FieldError::new(Field::AuthMethod, Self::RULE)),
        }
    }
}

/// The signature algorithms an assertion may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssertionAlg {
    Es256,
    Rs256,
    Ps256,
    EdDsa,
}

impl AssertionAlg {
    /// As the metadata document lists them.
    pub const ALL: [AssertionAlg; 4] = [
        AssertionAlg::Es256,
        AssertionAlg::Rs256,
        AssertionAlg::Ps256,
        AssertionAlg::EdDsa,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AssertionAlg::Es256 => "ES256",
            AssertionAlg::Rs256 => "RS256",
            AssertionAlg::Ps256 => "PS256",
            AssertionAlg::EdDsa => "EdDSA",
        }
    }

    /// An `alg` as a JOSE header or a JWK names it. `Ed25519` is the fully-specified name
    /// (RFC 9864) of EdDSA over the keys this service accepts; `none` and anything else, no.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ES256" => Some(AssertionAlg::Es256),
            "RS256" => Some(AssertionAlg::Rs256),
            "PS256" => Some(AssertionAlg::Ps256),
            "EdDSA" | "Ed25519" => Some(AssertionAlg::EdDsa),
            _ => None,
        }
    }

    /// Whether a key of this type signs with this algorithm.
    pub fn fits(self, kty: KeyType) -> bool {
        matches!(
            (self, kty),
            (AssertionAlg::Es256, KeyType::P256)
                | (AssertionAlg::Rs256 | AssertionAlg::Ps256, KeyType::Rsa)
                | (AssertionAlg::EdDsa, KeyType::Ed25519)
        )
    }
}

/// The key types accepted: EC P-256, RSA (2048 bits or more), OKP Ed25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    P256,
    Rsa,
    Ed25519,
}

impl KeyType {
    pub const fn label(self) -> &'static str {
        match self {
            KeyType::P256 => "EC P-256",
            KeyType::Rsa => "RSA",
            KeyType::Ed25519 => "OKP Ed25519",
        }
    }
}

/// One registrable public key: its members as given, and what was read from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: Option<String>,
    pub kty: KeyType,
    /// The algorithm the key is for, when it says.
    pub alg: Option<AssertionAlg>,
    pub json: Map<String, Value>,
}

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl PublicJwk {
    fn parse(i: usize, v: &Value) -> Result<Self, String> {
        let n = i + 1;
        let obj = v
            .as_object()
            .ok_or(format!("key {n} is not a JSON object"))?;
        if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
            return Err(format!(
                "key {n} has the private member \"{m}\": register public keys only, and treat this private key as exposed"
            ));
        }
        let text = |name: &str| obj.get(name).and_then(Value::as_str);
        let kty = match (text("kty"), text("crv")) {
            (Some("EC"), Some("P-256")) => KeyType::P256,
            (Some("RSA"), _) => KeyType::Rsa,
            (Some("OKP"), Some("Ed25519")) => KeyType::Ed25519,
            (Some(kty), crv) => {
                return Err(format!(
                    "key {n} has an unsupported type ({kty}{}); use EC P-256, RSA or OKP Ed25519",
                    crv.map(|c| format!(" {c}")).unwrap_or_default()
                ));
            }
            (None, _) => return Err(format!("key {n} has no kty")),
        };
        let needed: &[&str] = match kty {
            KeyType::P256 => &["x", "y"],
            KeyType::Rsa => &["n", "e"],
            KeyType::Ed25519 => &["x"],
        };
        if let Some(m) = needed.iter().find(|m| text(m).is_none_or(str::is_empty)) {
            return Err(format!("key {n} ({}) lacks \"{m}\"", kty.label()));
        }
        if kty == KeyType::Rsa && text("n").map_or(0, |s| s.trim_end_matches('=').len()) < 342 {
            // 342 base64url characters carry 2048 bits.
            return Err(format!("key {n} is an RSA key shorter than 2048 bits"));
        }
        if let Some(u) = text("use").filter(|u| *u != "sig") {
            return Err(format!(
                "key {n} is for \"{u}\", not for signatures (\"sig\")"
            ));
        }
        let alg = match obj.get("alg") {
            None | Some(Value::Null) => None,
            Some(a) => {
                let name = a.as_str().unwrap_or_default();
                match AssertionAlg::parse(name) {
                    Some(alg) if alg.fits(kty) => Some(alg),
                    Some(_) => {
                        return Err(format!(
                            "key {n}'s alg {name} does not fit a {} key",
                            kty.label()
                        ));
                    }
                    None => {
                        return Err(format!(
                            "key {n}'s alg {name} is not accepted; use ES256, RS256, PS256 or EdDSA"
                        ));
                    }
                }
            }
        };
        let kid = match obj.get("kid") {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) if !k.is_empty() && k.len() <= 200 => Some(k.clone()),
            Some(_) => {
                return Err(format!(
                    "key {n}'s kid must be a string of 1–200 characters"
                ));
            }
        };
        Ok(Self {
            kid,
            kty,
            alg,
            json: obj.clone(),
        })
    }

    /// A short fingerprint of the key material (the members that make the key, FNV-1a 64):
    /// tells two keys apart in the audit trail and in an edit, not a security check.
    pub fn fingerprint(&self) -> String {
        let members: &[&str] = match self.kty {
            KeyType::P256 => &["crv", "x", "y"],
            KeyType::Rsa => &["e", "n"],
            KeyType::Ed25519 => &["crv", "x"],
        };
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for m in members {
            let v = self
                .json
                .get(*m)
                .and_then(Value::as_str)
                .unwrap_or_default();
            for b in m.bytes().chain([b'=']).chain(v.bytes()).chain([b';']) {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }

    /// Whether this key may check an assertion whose header says `alg` and `kid`.
    pub fn matches(&self, alg: AssertionAlg, kid: Option<&str>) -> bool {
        alg.fits(self.kty)
            && self.alg.is_none_or(|a| a == alg)
            && kid.is_none_or(|k| self.kid.as_deref() == Some(k))
    }
}

/// A JWK Set of at most [`JwkSet::MAX_KEYS`] public signing keys with distinct `kid`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwkSet {
    pub keys: Vec<PublicJwk>,
}

impl JwkSet {
    pub const MAX_KEYS: usize = 10;

    /// Reads a JWK Set (`{"keys": [...]}`) for `field`: every key public, of a supported type,
    /// at most 10, each `kid` once (and every key with one when there are several).
    pub fn parse_for(field: Field, v: &Value) -> Result<Self, FieldError> {
        let fail = |m: String| FieldError::new(field, format!("{}: {m}", field.label()));
        let keys = v
            .as_object()
            .and_then(|o| o.get("keys"))
            .and_then(Value::as_array)
            .ok_or_else(|| fail("must be a JWK Set, {\"keys\": [...]}".into()))?;
        if keys.is_empty() {
            return Err(fail("must hold at least one key".into()));
        }
        if keys.len() > Self::MAX_KEYS {
            return Err(fail(format!("holds {} keys; at most 10", keys.len())));
        }
        let keys = keys
            .iter()
            .enumerate()
            .map(|(i, k)| PublicJwk::parse(i, k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let mut kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        if keys.len() > 1 && kids.len() < keys.len() {
            return Err(fail("every key needs a kid when there are several".into()));
        }
        kids.sort_unstable();
        if let Some(w) = kids.windows(2).find(|w| w[0] == w[1]) {
            return Err(fail(format!("the kid \"{}\" appears twice", w[0])));
        }
        Ok(Self { keys })
    }

    /// The set as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"keys": self.keys.iter().map(|k| Value::Object(k.json.clone())).collect::<Vec<_>>()})
    }

    /// The keys an assertion with this header may be checked with.
    pub fn candidates(&self, alg: AssertionAlg, kid: Option<&str>) -> Vec<&PublicJwk> {
        self.keys.iter().filter(|k| k.matches(alg, kid)).collect()
    }
}

/// Where a client publishes its JWK Set: https, or plain http to a loopback host only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrl(String);

impl JwksUrl {
    pub const RULE: &'static str = "Public keys URL must be an https:// URL (plain http only for localhost, 127.0.0.1 or [::1]), at most 2000 characters, without user name, password or fragment";

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new(Field::JwksUri, Self::RULE);
        let s = s.trim();
        if s.len() > 2000 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(bad)?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') || rest.contains('#') {
            return Err(bad());
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
        match scheme.to_ascii_lowercase().as_str() {
            "https" => Ok(Self(s.to_owned())),
            "http" if loopback => Ok(Self(s.to_owned())),
            _ => Err(bad()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A keyless client's keys: inline, or at a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeys {
    Inline(JwkSet),
    Url(JwksUrl),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ec(kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    }

    #[test]
    fn a_public_set_of_supported_keys_is_accepted() {
        let set = JwkSet::parse_for(
            Field::Jwks,
            &json!({"keys": [ec("a"), {"kty": "OKP", "crv": "Ed25519", "kid": "b", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "Ed25519"}]}),
        )
        .unwrap();
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.keys[1].alg, Some(AssertionAlg::EdDsa));
        assert_eq!(set.candidates(AssertionAlg::Es256, Some("a")).len(), 1);
        assert!(
            set.candidates(AssertionAlg::Rs256, Some("a")).is_empty(),
            "alg must fit the key"
        );
        assert!(set.candidates(AssertionAlg::Es256, Some("c")).is_empty());
    }

    #[test]
    fn private_unknown_duplicate_or_too_many_keys_are_refused_naming_the_field() {
        let refuse = |v: Value| JwkSet::parse_for(Field::Jwks, &v).unwrap_err();
        let mut private = ec("a");
        private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
        let e = refuse(json!({"keys": [private]}));
        assert_eq!(e.field, "jwks");
        assert!(e.message.contains("private member \"d\""), "{e}");
        assert!(
            refuse(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
                .message
                .contains("private member \"k\"")
        );
        assert!(
            refuse(json!({"keys": [{"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}]}))
                .message
                .contains("unsupported type")
        );
        assert!(
            refuse(json!({"keys": [ec("a"), ec("a")]}))
                .message
                .contains("appears twice")
        );
        let many: Vec<Value> = (0..11).map(|i| ec(&i.to_string())).collect();
        assert!(refuse(json!({"keys": many})).message.contains("at most 10"));
        assert!(refuse(json!({"keys": []})).message.contains("at least one"));
        assert!(refuse(json!([ec("a")])).message.contains("JWK Set"));
        let mut wrong_alg = ec("a");
        wrong_alg["alg"] = json!("RS256");
        assert!(
            refuse(json!({"keys": [wrong_alg]}))
                .message
                .contains("does not fit")
        );
        let mut none = ec("a");
        none["alg"] = json!("none");
        assert!(
            refuse(json!({"keys": [none]}))
                .message
                .contains("not accepted")
        );
        assert!(
            refuse(json!({"keys": [{"kty": "RSA", "n": "short", "e": "AQAB"}]}))
                .message
                .contains("2048")
        );
    }

    #[test]
    fn key_urls_are_https_or_loopback_http() {
        assert!(JwksUrl::parse("https://keys.shop.example/jwks.json").is_ok());
        assert!(JwksUrl::parse("http://127.0.0.1:8080/jwks").is_ok());
        assert!(JwksUrl::parse("http://[::1]:9/jwks").is_ok());
        for bad in [
            "http://keys.shop.example/jwks",
            "ftp://x/jwks",
            "https://user:pw@keys.example/jwks",
            "https://keys.example/jwks#frag",
            "https:///jwks",
            "http://127.0.0.1.evil.example/jwks",
            "keys.example/jwks",
        ] {
            assert_eq!(JwksUrl::parse(bad).unwrap_err().field, "jwks_uri", "{bad}");
        }
        assert_eq!(AssertionAlg::parse("none"), None);
        assert_eq!(AssertionAlg::parse("Ed25519"), Some(AssertionAlg::EdDsa));
    }
}
