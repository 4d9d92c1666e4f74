//! One configuration, built from flags and environment variables, passed down.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub pool_size: u32,
    pub bcrypt_cost: u32,
    /// The `iss` of every token and the base of the metadata document's URLs.
    pub issuer: String,
    /// The `aud` of every token.
    pub audience: String,
    /// The SPA's files from this folder (Trunk's dist, while developing); `None`: the SPA
    /// built into the binary.
    pub static_dir: Option<PathBuf>,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// How often this instance re-reads the signing keys from the database.
    pub key_reload: Duration,
    /// The algorithm new tokens are signed with; a change rotates the key at start.
    pub signing_alg: crate::oauth::keys::SigningAlg,
    /// Proxies whose `X-Forwarded-For` is believed: behind them, the caller's address is the
    /// right-most forwarded address that is not itself a trusted proxy. Empty: the peer is the
    /// caller, and the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Metrics on a listener of their own (e.g. one only the monitoring network reaches); the
    /// public port then answers /metrics with 404.
    pub metrics_bind: Option<String>,
    /// Whether token requests are counted per client (on unless switched off, e.g. to measure
    /// what counting costs).
    pub usage_counting: bool,
    /// How often counted usage is written (at most 10 s; and always when the server stops).
    pub usage_flush: Duration,
    /// The least time between two fetches of a client's `jwks_uri` for an unknown `kid`.
    pub jwks_refetch: Duration,
}

impl Config {
    /// Whether `peer` is one of the trusted proxies.
    pub fn trusts(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&peer))
    }

    /// Cookies get `Secure` (and the `__Host-` name), and responses HSTS, when the public
    /// address is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The session cookie's name: with `__Host-` over https, so the browser holds it to this
    /// host only, `Secure`, for the whole site (RFC 6265bis §4.1.3.2).
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-vitesse_session"
        } else {
            "vitesse_session"
        }
    }
}

impl Config {
    /// The defaults `serve` uses, for a database and a public address: what tests and tools
    /// start from (`Config { pool_size: 4, ..Config::new(url, issuer) }`), so a new setting
    /// does not have to be written into every one of them.
    pub fn new(database_url: String, issuer: String) -> Self {
        Self {
            database_url,
            pool_size: 4,
            bcrypt_cost: 12,
            audience: "vitesse-api".into(),
            static_dir: None,
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            key_reload: Duration::from_secs(30),
            signing_alg: crate::oauth::keys::SigningAlg::Es256,
            trusted_proxies: vec![],
            metrics_bind: None,
            usage_counting: true,
            usage_flush: Duration::from_secs(5),
            jwks_refetch: Duration::from_secs(60),
            issuer,
        }
    }
}
