//! Sign-in sessions for the admin UI: the session id lives in an HttpOnly cookie.

use super::caller::{check_same_origin, client_address};
use super::respond::json_body;
use super::responses::{Forbidden, Invalid, Malformed, NotJson, NotSignedIn, Throttled};
use crate::error::ApiError;
use crate::service::principal::Principal;
use crate::service::sessions;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use vitesse_domain::wire::{Session, SignInRequest};
use vitesse_domain::{FieldErrors, refuse_unknown_members};

fn session_cookie<'a>(state: &AppState, value: String, max_age: CookieDuration) -> Cookie<'a> {
    Cookie::build(state.config.session_cookie_name(), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .max_age(max_age)
        .finish()
}

/// The sign-in body: exactly `email` and `password`.
fn sign_in_request(req: &HttpRequest, body: &[u8]) -> Result<SignInRequest, ApiError> {
    let value = json_body(req, body)?;
    if let Some(obj) = value.as_object() {
        let mut errs = FieldErrors::default();
        refuse_unknown_members(obj, &["email", "password"], &mut errs);
        if !errs.is_empty() {
            return Err(ApiError::Validation(errs));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::Malformed(format!("The body is not valid JSON: {e}")))
}

/// Sign in with email and password.
#[utoipa::path(
    post, path = "/api/v1/session", tag = "Session", operation_id = "signIn",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = Session),
        (status = 401, description = "Wrong email or password", body = vitesse_domain::wire::Problem, content_type = "application/problem+json"),
        Malformed, Forbidden, NotJson, Invalid, Throttled,
    ),
    security(())
)]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // A login form posted from another site must not sign the browser in either.
    if req.headers().contains_key("origin") {
        check_same_origin(&req, &state)?;
    }
    let request = sign_in_request(&req, &body)?;
    let (principal, session_id) = sessions::sign_in(&state, request, client_address(&req)).await?;
    let max_age = CookieDuration::seconds(state.config.session_absolute.as_secs() as i64);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .cookie(session_cookie(&state, session_id, max_age))
        .json(principal.to_wire()))
}

/// Who is signed in.
#[utoipa::path(
    get, path = "/api/v1/session", tag = "Session", operation_id = "getSession",
    responses(
        (status = 200, description = "The signed-in user and account", body = Session),
        NotSignedIn,
    ),
    security(("session" = []))
)]
pub async fn current(p: Principal) -> Result<HttpResponse, ApiError> {
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
        Forbidden,
    ),
    security(("session" = []))
)]
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cookie) = req.cookie(state.config.session_cookie_name()) {
        check_same_origin(&req, &state)?;
        sessions::sign_out(&state, cookie.value()).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&state, String::new(), CookieDuration::ZERO))
        .finish())
}
