//! Sign-in sessions: an opaque random id in an HttpOnly cookie, only its SHA-256 stored, with
//! idle and absolute expiry.

use super::{Caller, Principal, SESSION_COOKIE, check_same_origin, principal, source_ip};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::accounts::{self, SessionRow};
use crate::store::now;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use vitesse_domain::wire::{Problem, Session, SignInRequest};

fn hash_session_id(id: &str) -> String {
    crate::digest::sha256(&[id.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_session_id() -> Result<String, ApiError> {
    let mut buf = [0u8; 32];
    openssl::rand::rand_bytes(&mut buf).map_err(|_| ApiError::Internal)?;
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
            let at = now();
            if at >= s.expires_at || at - s.last_seen_at >= idle {
                accounts::delete_session(c, &id_hash)?;
                return Ok(None);
            }
            // Bump at most once a minute: idle expiry needs no finer grain.
            if at - s.last_seen_at >= chrono::Duration::minutes(1) {
                accounts::touch_session(c, &id_hash, at)?;
            }
            Ok(Some(Principal {
                caller: Caller::User {
                    user_id: user.id,
                    email: user.email,
                    role: user.role,
                },
                account_id: account.id,
                account_name: account.name,
                identity_clients_enabled: account.identity_clients_enabled,
                source_ip: None,
            }))
        })
        .await?;
    Ok(found)
}

fn session_cookie<'a>(state: &AppState, value: String, max_age: CookieDuration) -> Cookie<'a> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .max_age(max_age)
        .finish()
}

/// Sign in with email and password.
#[utoipa::path(
    post, path = "/api/v1/session", tag = "Session", operation_id = "signIn",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = Session),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts from this address for this email; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SignInRequest>,
) -> Result<HttpResponse, ApiError> {
    // A login form posted from another site must not sign the browser in either.
    if req.headers().contains_key("origin") {
        check_same_origin(&req, &state)?;
    }
    let SignInRequest { email, password } = body.into_inner();
    let throttle_key = format!(
        "{}|{}",
        email.trim().to_lowercase(),
        source_ip(&req).unwrap_or_default()
    );
    if let Some(wait) = state.sign_in_throttle.check(&throttle_key) {
        return Err(ApiError::Throttled(wait));
    }
    let user = state
        .db(move |c| accounts::find_user_by_email(c, &email))
        .await?;
    let ok = state
        .hasher
        .verify(
            &password,
            user.as_ref().map(|u| u.password_hash.as_str()),
            false,
        )
        .await;
    let Some(user) = user.filter(|_| ok) else {
        state.sign_in_throttle.failed(&throttle_key);
        return Err(ApiError::Unauthenticated);
    };
    state.sign_in_throttle.succeeded(&throttle_key);
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
    let p = Principal {
        caller: Caller::User {
            user_id: user.id,
            email: user.email,
            role: user.role,
        },
        account_id: account.id,
        account_name: account.name,
        identity_clients_enabled: account.identity_clients_enabled,
        source_ip: source_ip(&req),
    };
    let max_age = CookieDuration::seconds(state.config.session_absolute.as_secs() as i64);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .cookie(session_cookie(&state, session_id, max_age))
        .json(p.to_wire()))
}

/// Who is signed in.
#[utoipa::path(
    get, path = "/api/v1/session", tag = "Session", operation_id = "getSession",
    responses(
        (status = 200, description = "The signed-in user and account", body = Session),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn current(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = principal(&req, &state).await?;
    let session = p.to_wire().ok_or(ApiError::Unauthenticated)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(session))
}

/// Sign out: the session ends on the server, not just in the browser.
#[utoipa::path(
    delete, path = "/api/v1/session", tag = "Session", operation_id = "signOut",
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, description = "Cross-site request refused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        check_same_origin(&req, &state)?;
        let id_hash = hash_session_id(cookie.value());
        state
            .db(move |c| accounts::delete_session(c, &id_hash))
            .await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&state, String::new(), CookieDuration::ZERO))
        .finish())
}
