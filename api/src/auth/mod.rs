//! Who is calling: a signed-in admin (session cookie) or merchant automation (a bearer access
//! token from our own token service). The `Principal` carries what the handlers need to decide.

pub mod bearer;
pub mod session;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::audit::Actor;
use actix_web::HttpRequest;
use actix_web::http::Method;
use vitesse_domain::{MANAGE_IDENTITY_CLIENTS_ROLE, RoleSet, user_role};

pub const SESSION_COOKIE: &str = "vitesse_session";

#[derive(Debug, Clone)]
pub enum Caller {
    User {
        user_id: String,
        email: String,
        role: String,
    },
    /// An identity client acting through a bearer token; `roles` are its current roles.
    Client {
        client_pk: String,
        client_id: String,
        roles: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub caller: Caller,
    pub account_id: String,
    pub account_name: String,
    pub identity_clients_enabled: bool,
    pub source_ip: Option<String>,
}

impl Principal {
    fn role_allows_management(&self) -> bool {
        match &self.caller {
            Caller::User { role, .. } => user_role::may_manage_identity_clients(role),
            Caller::Client { roles, .. } => roles.iter().any(|r| r == MANAGE_IDENTITY_CLIENTS_ROLE),
        }
    }

    pub fn may_manage_identity_clients(&self) -> bool {
        self.identity_clients_enabled && self.role_allows_management()
    }

    /// The gate of every identity-client endpoint.
    pub fn require_identity_client_manager(&self) -> Result<(), ApiError> {
        if !self.identity_clients_enabled {
            return Err(ApiError::FeatureDisabled);
        }
        if !self.role_allows_management() {
            return Err(ApiError::Forbidden(
                "You need the Merchant Admin or Manage Identity Clients role to manage identity clients.",
            ));
        }
        Ok(())
    }

    /// Automation may not hand out more than it holds.
    pub fn require_may_grant(&self, roles: &RoleSet) -> Result<(), ApiError> {
        if let Caller::Client { roles: held, .. } = &self.caller
            && roles.iter().any(|r| !held.iter().any(|h| h == r.as_str()))
        {
            return Err(ApiError::Forbidden(
                "A client cannot grant a role it does not hold itself.",
            ));
        }
        Ok(())
    }

    pub fn actor(&self) -> Actor {
        let (kind, id, label) = match &self.caller {
            Caller::User { user_id, email, .. } => ("user", user_id.clone(), email.clone()),
            Caller::Client {
                client_pk,
                client_id,
                ..
            } => ("client", client_pk.clone(), client_id.clone()),
        };
        Actor {
            kind,
            id,
            label,
            source_ip: self.source_ip.clone(),
        }
    }

    pub fn to_wire(&self) -> Option<vitesse_domain::wire::Session> {
        let Caller::User {
            user_id,
            email,
            role,
        } = &self.caller
        else {
            return None;
        };
        Some(vitesse_domain::wire::Session {
            user_id: user_id.clone(),
            email: email.clone(),
            role: role.clone(),
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
            identity_clients_enabled: self.identity_clients_enabled,
            can_manage_identity_clients: self.may_manage_identity_clients(),
        })
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

pub fn source_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// The caller of an API request, or 401.
pub async fn principal(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    if let Some(auth) = req.headers().get("authorization") {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or(ApiError::Unauthenticated)?;
        return bearer::resolve(state, token.trim(), source_ip(req)).await;
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(ApiError::Unauthenticated);
    };
    let mut p = session::resolve(state, cookie.value())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    check_same_origin(req, state)?;
    p.source_ip = source_ip(req);
    Ok(p)
}
