//! The API-role catalogue, as the New Client form's role picker and the metadata read it.

use super::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::roles;
use vitesse_domain::wire::ApiRole;

/// Roles that can be assigned, by name; any signed-in caller may read them.
pub async fn assignable(state: &AppState, _caller: &Principal) -> Result<Vec<ApiRole>, ApiError> {
    Ok(state.db(roles::list_active).await?)
}

/// The scopes the token service advertises (RFC 8414 `scopes_supported`).
pub async fn scopes_supported(state: &AppState) -> Vec<String> {
    match state.db(roles::list_active).await {
        Ok(r) => r.into_iter().map(|r| r.name).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the role catalogue for the metadata");
            vec![]
        }
    }
}
