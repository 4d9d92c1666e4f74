//! The OAuth 2.0 token service: token, JWKS, metadata, signing keys, secret verification.

pub mod introspect;
pub mod keys;
pub mod metadata;
pub mod secrets;
pub mod token;
pub mod validate;
