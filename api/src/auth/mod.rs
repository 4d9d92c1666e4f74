//! Who is calling: a signed-in admin (session cookie). The `Principal` carries what the
//! handlers need to decide.

pub mod session;

use crate::app::AppState;
use crate::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::Method;
use vitesse_domain::user_role;

pub const SESSION_COOKIE: &str = "vitesse_session";

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub account_id: String,
    pub account_name: String,
    pub identity_clients_enabled: bool,
}

impl Principal {
    pub fn may_manage_identity_clients(&self) -> bool {
        self.identity_clients_enabled && user_role::may_manage_identity_clients(&self.role)
    }

    /// The gate of every identity-client endpoint.
    pub fn require_identity_client_manager(&self) -> Result<(), ApiError> {
        if !self.identity_clients_enabled {
            return Err(ApiError::FeatureDisabled);
        }
        if !user_role::may_manage_identity_clients(&self.role) {
            return Err(ApiError::Forbidden(
                "You need the Merchant Admin or Manage Identity Clients role to manage identity clients.",
            ));
        }
        Ok(())
    }

    pub fn to_wire(&self) -> vitesse_domain::wire::Session {
        vitesse_domain::wire::Session {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            role: self.role.clone(),
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
            identity_clients_enabled: self.identity_clients_enabled,
            can_manage_identity_clients: self.may_manage_identity_clients(),
        }
    }
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

/// The caller of an API request, or 401.
pub async fn principal(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(ApiError::Unauthenticated);
    };
    let p = session::resolve(state, cookie.value())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    check_same_origin(req, state)?;
    Ok(p)
}
