//! Protocol pieces with no HTTP: signing keys and the JWKS, our access tokens' claims and their
//! checks, secret hashing and verification.

pub mod access_token;
pub mod assertion;
pub mod keys;
pub mod remote_jwks;
pub mod secrets;
