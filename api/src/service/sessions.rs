//! Sign-in sessions: an opaque random id handed to the browser, only its SHA-256 stored, with
//! idle and absolute expiry; sign-in throttled per email and address.

use super::principal::Principal;
use crate::error::ApiError;
use crate::service::operator::EMAIL_MAX;
use crate::state::AppState;
use crate::store::accounts::{self, SessionRow};
use crate::store::now;
use crate::throttle;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;
use vitesse_domain::wire::SignInRequest;

fn hash_session_id(id: &str) -> String {
    crate::digest::sha256(&[id.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_session_id() -> Result<String, ApiError> {
    let mut buf = [0u8; 32];
    openssl::rand::rand_bytes(&mut buf).map_err(ApiError::internal)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The principal of a live session; expired sessions are removed and count as none.
pub async fn resolve(state: &AppState, session_id: &str) -> Result<Option<Principal>, ApiError> {
    let id_hash = hash_session_id(session_id);
    let idle = chrono::Duration::from_std(state.config.session_idle).unwrap_or_default();
    let found = state
        .db(move |c| {
            let Some((s, user, account)) = accounts::find_session(c, &id_hash)? else {
                return Ok(None);
            };
            if user.disabled {
                return Ok(None);
            }
            let at = now();
            if at >= s.expires_at || at - s.last_seen_at >= idle {
                accounts::delete_session(c, &id_hash)?;
                return Ok(None);
            }
            // Bump at most once a minute: idle expiry needs no finer grain.
            if at - s.last_seen_at >= chrono::Duration::minutes(1) {
                accounts::touch_session(c, &id_hash, at)?;
            }
            Ok(Some(Principal::user(user, account, None)))
        })
        .await?;
    Ok(found)
}

/// A new session for a right email and password: the principal, and the session id that only
/// the browser keeps.
pub async fn sign_in(
    state: &Arc<AppState>,
    request: SignInRequest,
    address: Option<String>,
) -> Result<(Principal, String), ApiError> {
    let SignInRequest { email, password } = request;
    let email = email.trim().to_lowercase();
    if email.len() > EMAIL_MAX {
        // No user can have this address: refused before it is looked up, throttled or stored.
        return Err(ApiError::Unauthenticated);
    }
    let address = address.unwrap_or_default();
    let source = throttle::source(&address);
    // bcrypt, counted and gated to its end even when the caller hangs up meanwhile (see
    // `tokens::authenticate`).
    let verifying = Arc::clone(state);
    let user = super::to_completion(|caller| async move {
        let state = &*verifying;
        let by_address = state
            .address_throttle
            .begin(throttle::key(&[&source]))
            .map_err(ApiError::Throttled)?;
        let by_pair = state
            .sign_in_throttle
            .begin(throttle::key(&[&email, &source]))
            .map_err(ApiError::Throttled)?;
        let _turn = state
            .address_gates
            .enter(throttle::key(&[&source]))
            .await
            .map_err(|_| ApiError::Throttled(1))?;
        // Nobody waits any more: no bcrypt, and the attempts end uncounted (no work was done).
        let wanted = || !caller.is_gone();
        let user = state
            .db(move |c| accounts::find_user_by_email(c, &email))
            .await?;
        let ok = state
            .hasher
            .verify(
                &password,
                user.as_ref().map(|u| u.password_hash.as_str()),
                false,
                &wanted,
            )
            .await
            .map_err(|_| ApiError::Busy)?;
        // A disabled user is refused like a wrong password, after the same work.
        let Some(user) = user.filter(|u| ok && !u.disabled) else {
            by_pair.failed();
            by_address.failed();
            return Err(ApiError::Unauthenticated);
        };
        by_pair.succeeded();
        by_address.succeeded();
        Ok(user)
    })
    .await
    .unwrap_or_else(|| Err(ApiError::internal("the sign-in was cut short")))?;
    let address = Some(address).filter(|a| !a.is_empty());
    let session_id = new_session_id()?;
    let at = now();
    let absolute = chrono::Duration::from_std(state.config.session_absolute).unwrap_or_default();
    let row = SessionRow {
        id_hash: hash_session_id(&session_id),
        user_id: user.id.clone(),
        created_at: at,
        last_seen_at: at,
        expires_at: at + absolute,
    };
    let account_id = user.account_id.clone();
    let account = state
        .db(move |c| {
            accounts::create_session(c, &row)?;
            accounts::find_account(c, &account_id)
        })
        .await?;
    let principal = Principal::user(user, account, address);
    Ok((principal, session_id))
}

/// Ends a session on the server, not just in the browser.
pub async fn sign_out(state: &AppState, session_id: &str) -> Result<(), ApiError> {
    let id_hash = hash_session_id(session_id);
    state
        .db(move |c| accounts::delete_session(c, &id_hash))
        .await?;
    Ok(())
}
