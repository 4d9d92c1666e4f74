//! Who is calling: a signed-in admin (session) or merchant automation (a bearer access token
//! from our own token service), and the access rules that follow from it.

use crate::error::ApiError;
use crate::store::accounts::{Account, AdminUser};
use crate::store::audit::Actor;
use vitesse_domain::{MANAGE_IDENTITY_CLIENTS_ROLE, RoleSet, user_role};

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
    /// A signed-in admin of `account`.
    pub fn user(user: AdminUser, account: Account, source_ip: Option<String>) -> Self {
        Principal {
            caller: Caller::User {
                user_id: user.id,
                email: user.email,
                role: user.role,
            },
            account_id: account.id,
            account_name: account.name,
            identity_clients_enabled: account.identity_clients_enabled,
            source_ip,
        }
    }

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

    /// The roles an automation caller holds; `None` for a signed-in admin, whom this rule does
    /// not limit.
    pub fn automation_roles(&self) -> Option<&[String]> {
        match &self.caller {
            Caller::Client { roles, .. } => Some(roles),
            Caller::User { .. } => None,
        }
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
