//! The operator's use cases (the command line): accounts, admin users, the role catalogue and
//! signing keys, with the same rules whoever calls. Synchronous: the CLI has no server running.

use crate::oauth::keys::{self, SigningAlg};
use crate::oauth::secrets::SecretHasher;
use crate::store::keys::KeyRow;
use crate::store::{self, AnyConnection, StoreError, accounts};
use base64::Engine;
use vitesse_domain::{RoleName, user_role};

/// What an operator asked for that the rules refuse, in words for the terminal.
#[derive(Debug)]
pub enum OperatorError {
    Invalid(String),
    Store(StoreError),
}

impl std::fmt::Display for OperatorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperatorError::Invalid(m) => f.write_str(m),
            OperatorError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for OperatorError {}

impl From<StoreError> for OperatorError {
    fn from(e: StoreError) -> Self {
        OperatorError::Store(e)
    }
}

fn invalid(m: &str) -> OperatorError {
    OperatorError::Invalid(m.into())
}

/// The longest email address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// The shortest password a person may choose.
pub const PASSWORD_MIN: usize = 12;

/// An email address as sign-in compares it: trimmed, lower-cased, with an `@`, at most 254.
pub fn normalise_email(email: &str) -> Result<String, OperatorError> {
    let e = email.trim().to_lowercase();
    if e.len() < 3 || !e.contains('@') || e.len() > EMAIL_MAX {
        return Err(invalid(
            "--email must be an email address of at most 254 characters",
        ));
    }
    Ok(e)
}

pub fn create_account(
    conn: &mut AnyConnection,
    name: &str,
    identity_clients_enabled: bool,
) -> Result<accounts::Account, OperatorError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("--name must not be empty"));
    }
    Ok(accounts::create_account(
        conn,
        name,
        identity_clients_enabled,
    )?)
}

pub fn set_identity_clients(
    conn: &mut AnyConnection,
    account_id: &str,
    enabled: bool,
) -> Result<(), OperatorError> {
    Ok(accounts::set_identity_clients_enabled(
        conn, account_id, enabled,
    )?)
}

/// A strong password for a person: 144 random bits.
pub fn generate_password() -> Result<String, OperatorError> {
    let mut buf = [0u8; 18];
    openssl::rand::rand_bytes(&mut buf).map_err(|e| invalid(&e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Creates an admin user with `password` (at least 12 characters).
pub fn create_user(
    conn: &mut AnyConnection,
    hasher: &SecretHasher,
    account_id: &str,
    email: &str,
    role: &str,
    password: &str,
) -> Result<accounts::AdminUser, OperatorError> {
    let email = normalise_email(email)?;
    if !user_role::ALL.contains(&role) {
        return Err(invalid(
            "--role must be merchant-admin, manage-identity-clients or viewer",
        ));
    }
    if password.chars().count() < PASSWORD_MIN {
        return Err(invalid("the password must be at least 12 characters"));
    }
    let hash = hasher
        .hash_blocking(password)
        .map_err(|e| invalid(&e.to_string()))?;
    Ok(accounts::create_user(
        conn, account_id, &email, role, &hash,
    )?)
}

pub fn list_users(conn: &mut AnyConnection) -> Result<Vec<accounts::AdminUser>, OperatorError> {
    Ok(accounts::list_users(conn)?)
}

/// Switches a user off (their sessions end in the same transaction) or on again.
pub fn set_user_disabled(
    conn: &mut AnyConnection,
    email: &str,
    disabled: bool,
) -> Result<(), OperatorError> {
    let email = normalise_email(email)?;
    accounts::set_user_disabled(conn, &email, disabled).map_err(|e| no_such_user(e, &email))
}

/// A new password (at least 12 characters); the user's sessions end.
pub fn set_password(
    conn: &mut AnyConnection,
    hasher: &SecretHasher,
    email: &str,
    password: &str,
) -> Result<(), OperatorError> {
    let email = normalise_email(email)?;
    if password.chars().count() < PASSWORD_MIN {
        return Err(invalid("the password must be at least 12 characters"));
    }
    let hash = hasher
        .hash_blocking(password)
        .map_err(|e| invalid(&e.to_string()))?;
    accounts::set_password(conn, &email, &hash).map_err(|e| no_such_user(e, &email))
}

/// Ends every session of a user now.
pub fn end_sessions(conn: &mut AnyConnection, email: &str) -> Result<(), OperatorError> {
    let email = normalise_email(email)?;
    accounts::end_sessions_by_email(conn, &email).map_err(|e| no_such_user(e, &email))
}

fn no_such_user(e: StoreError, email: &str) -> OperatorError {
    match e {
        StoreError::NotFound => OperatorError::Invalid(format!("no user has the email {email}")),
        other => other.into(),
    }
}

pub fn create_role(
    conn: &mut AnyConnection,
    name: &str,
    description: &str,
) -> Result<(), OperatorError> {
    let name = RoleName::parse(name).map_err(|e| OperatorError::Invalid(e.message))?;
    let description = description.trim();
    if description.is_empty() {
        return Err(invalid("--description must not be empty"));
    }
    Ok(store::roles::create(conn, &name, description)?)
}

/// Every role: `(name, description, retired)`.
pub fn list_roles(conn: &mut AnyConnection) -> Result<Vec<(String, String, bool)>, OperatorError> {
    Ok(store::roles::list_all(conn)?)
}

pub fn retire_role(conn: &mut AnyConnection, name: &str) -> Result<(), OperatorError> {
    Ok(store::roles::retire(conn, name)?)
}

/// Publishes a new key now; it signs after `activate_after_minutes` (0–1440).
pub fn rotate_key(
    conn: &mut AnyConnection,
    alg: SigningAlg,
    activate_after_minutes: i64,
) -> Result<KeyRow, OperatorError> {
    if !(0..=24 * 60).contains(&activate_after_minutes) {
        return Err(invalid("--activate-after-minutes must be 0–1440"));
    }
    Ok(keys::rotate(
        conn,
        alg,
        chrono::Duration::minutes(activate_after_minutes),
    )?)
}

pub fn list_keys(conn: &mut AnyConnection) -> Result<Vec<KeyRow>, OperatorError> {
    Ok(store::keys::all(conn)?)
}

/// The demo account and admin of a first `just run`: `Some(password)` when they were made now,
/// `None` when the database already had an account.
pub fn demo_admin(
    conn: &mut AnyConnection,
    hasher: &SecretHasher,
) -> Result<Option<String>, OperatorError> {
    if accounts::count_accounts(conn)? > 0 {
        return Ok(None);
    }
    let account = create_account(conn, "Demo Merchant", true)?;
    let password = generate_password()?;
    create_user(
        conn,
        hasher,
        &account.id,
        "admin@example.com",
        user_role::MERCHANT_ADMIN,
        &password,
    )?;
    Ok(Some(password))
}
