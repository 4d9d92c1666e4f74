//! Token introspection (RFC 7662) and revocation (RFC 7009), for authenticated clients.

use super::token::{Form, authenticate, read_body};
use super::validate::active_token;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::clients::ClientRow;
use crate::store::revocations;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// The form of both endpoints (documentation; parsed by hand like the token request).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenParameter {
    /// The access token.
    token: String,
    /// Ignored: only access tokens exist here.
    token_type_hint: Option<String>,
    /// With `client_secret_post` only.
    client_id: Option<String>,
    /// With `client_secret_post` only.
    #[schema(format = Password)]
    client_secret: Option<String>,
}

/// Both endpoints: a form with `token`, from an authenticated client.
async fn authenticated_token_param(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<(ClientRow, String), OAuthError> {
    let form = Form::parse(&read_body(req, payload).await?)?;
    let caller = authenticate(req, state, &form).await?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("The token parameter is missing"))?;
    Ok((caller, token.to_owned()))
}

/// Is a token active? The caller authenticates as a client (as at the token endpoint) and
/// learns about tokens of its own account only; anything else is `{"active": false}`.
#[utoipa::path(
    post, path = "/oauth2/introspect", tag = "OAuth 2.0", operation_id = "introspectToken",
    request_body(content = TokenParameter, content_type = "application/x-www-form-urlencoded",
        description = "Client authentication as at the token endpoint"),
    responses(
        (status = 200, description = "RFC 7662 response: active, and when active scope, client_id, sub, aud, iss, exp, iat, jti, token_type", body = Object),
        (status = 400, description = "RFC 6749 §5.2 error", body = Object),
        (status = 401, description = "invalid_client", body = Object),
        (status = 413, description = "invalid_request: the body is larger than 8 KiB", body = Object),
        (status = 429, description = "temporarily_unavailable: too many failed authentications; see Retry-After", body = Object),
        (status = 503, description = "temporarily_unavailable: the database cannot be reached", body = Object),
    ),
    security(("client_secret_basic" = []))
)]
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let (caller, token) = authenticated_token_param(&req, &state, payload).await?;
    let token = token.as_str();
    let body = match active_token(&state, token).await? {
        Some(t) if t.client.account_id == caller.account_id => {
            let mut b = serde_json::Value::Object(t.claims.clone());
            b["active"] = json!(true);
            b["token_type"] = json!("Bearer");
            b
        }
        _ => json!({ "active": false }),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body))
}

/// Revoke a token: a client revokes its own tokens. Always 200, as RFC 7009 asks, also for a
/// token that is unknown, expired or not the caller's.
#[utoipa::path(
    post, path = "/oauth2/revoke", tag = "OAuth 2.0", operation_id = "revokeToken",
    request_body(content = TokenParameter, content_type = "application/x-www-form-urlencoded",
        description = "Client authentication as at the token endpoint"),
    responses(
        (status = 200, description = "Revoked (or nothing to revoke)"),
        (status = 400, description = "RFC 6749 §5.2 error", body = Object),
        (status = 401, description = "invalid_client", body = Object),
        (status = 413, description = "invalid_request: the body is larger than 8 KiB", body = Object),
        (status = 429, description = "temporarily_unavailable: too many failed authentications; see Retry-After", body = Object),
        (status = 503, description = "temporarily_unavailable: the database cannot be reached", body = Object),
    ),
    security(("client_secret_basic" = []))
)]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let (caller, token) = authenticated_token_param(&req, &state, payload).await?;
    let token = token.as_str();
    if let Some(t) = active_token(&state, token).await?
        && t.client.id == caller.id
    {
        let (jti, pk) = (t.jti().to_owned(), caller.id.clone());
        let expires = chrono::DateTime::from_timestamp(t.exp(), 0)
            .unwrap_or_default()
            .naive_utc();
        state
            .db(move |c| revocations::revoke(c, &jti, &pk, expires))
            .await?;
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
