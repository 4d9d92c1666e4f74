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
    /// The built SPA (Trunk's dist folder).
    pub static_dir: PathBuf,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// How often this instance re-reads the signing keys from the database.
    pub key_reload: Duration,
    /// The algorithm new tokens are signed with; a change rotates the key at start.
    pub signing_alg: crate::oauth::keys::SigningAlg,
}

impl Config {
    /// Cookies get `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}
