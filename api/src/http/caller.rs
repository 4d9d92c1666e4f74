//! Who is calling, as an extractor: a handler that takes a `Principal` gets the signed-in admin
//! (session cookie, with writes checked to come from our own origin) or the client behind a
//! bearer access token, and 401 for anyone else.

use crate::error::ApiError;
use crate::service::principal::Principal;
use crate::service::{sessions, tokens};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

pub const SESSION_COOKIE: &str = "vitesse_session";

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await })
    }
}

/// A caller who may manage identity clients (checked before the body is read, so a caller who
/// may not learns nothing about what it sent).
pub struct ClientManager(pub Principal);

impl FromRequest for ClientManager {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let p = resolve(&req).await?;
            p.require_identity_client_manager()?;
            Ok(ClientManager(p))
        })
    }
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))
}

async fn resolve(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = state(req)?;
    if let Some(auth) = req.headers().get("authorization") {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or(ApiError::Unauthenticated)?;
        return tokens::bearer_principal(state, token.trim(), client_address(req)).await;
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(ApiError::Unauthenticated);
    };
    let mut p = sessions::resolve(state, cookie.value())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    check_same_origin(req, state)?;
    p.source_ip = client_address(req);
    Ok(p)
}

/// Browsers always send `Origin` on a cross-site or same-origin write; a cookie-authenticated
/// write must come from our own origin.
pub fn check_same_origin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::Forbidden(
            "Cross-site request refused: missing Origin header.",
        ));
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    if origin == own || origin == origin_of(&state.config.issuer) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Cross-site request refused: Origin does not match this server.",
        ))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The caller's address: what throttling, the audit trail and the logs record.
pub fn client_address(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}
