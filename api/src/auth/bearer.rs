//! Bearer access tokens from our own token service, for merchant automation.

use super::{Caller, Principal};
use crate::error::ApiError;
use crate::oauth::validate::active_token;
use crate::state::AppState;

/// The client behind an active token acts for its account, with the roles that the token was
/// granted and the client still holds.
pub async fn resolve(
    state: &AppState,
    token: &str,
    source_ip: Option<String>,
) -> Result<Principal, ApiError> {
    let t = active_token(state, token)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let scope = t.scope();
    let roles: Vec<String> = t
        .client
        .role_names()
        .filter(|r| scope.contains(r))
        .map(str::to_owned)
        .collect();
    Ok(Principal {
        caller: Caller::Client {
            client_pk: t.client.id.clone(),
            client_id: t.client.client_id.clone(),
            roles,
        },
        account_id: t.account.id,
        account_name: t.account.name,
        identity_clients_enabled: t.account.identity_clients_enabled,
        source_ip,
    })
}
