//! The use cases. Handlers and the CLI parse their input, call one function here and map its
//! result; the rules (who may do what, the grant check, hashing, the audit trail) live here and
//! in the domain crate, so the CLI cannot do what the API refuses. Nothing here knows HTTP.

pub mod clients;
pub mod operator;
pub mod principal;
pub mod quotas;
pub mod roles;
pub mod sessions;
pub mod tokens;
pub mod usage;

/// Now, truncated to microseconds so both backends store exactly the same instant.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    crate::store::now().and_utc()
}
