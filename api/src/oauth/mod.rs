//! Protocol pieces with no HTTP: signing keys and the JWKS, our access tokens' claims and their
//! checks, secret hashing and verification.

pub mod access_token;
pub mod keys;
pub mod secrets;
