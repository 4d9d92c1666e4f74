//! Bearer access tokens from our own token service, for merchant automation.

use super::{Caller, Principal};
use crate::app::AppState;
use crate::error::ApiError;
use crate::store::{accounts, clients as client_store};
use josekit::jws::JwsVerifier;
use std::time::SystemTime;

/// Checks signature, type, issuer, audience and expiry, then reads the client's current row:
/// a disabled or deleted client's token stops working at once.
pub async fn resolve(
    state: &AppState,
    token: &str,
    source_ip: Option<String>,
) -> Result<Principal, ApiError> {
    let keys = state.keys();
    let (payload, header) = josekit::jwt::decode_with_verifier_selector(token, |h| {
        Ok(h.key_id()
            .and_then(|kid| keys.verifiers.get(kid))
            .map(|v| v as &dyn JwsVerifier))
    })
    .map_err(|_| ApiError::Unauthenticated)?;
    if header.token_type() != Some("at+jwt") {
        return Err(ApiError::Unauthenticated);
    }
    let issuer_ok = payload.issuer() == Some(state.config.issuer.as_str());
    let audience_ok = payload
        .audience()
        .is_some_and(|a| a.iter().any(|x| *x == state.config.audience));
    let unexpired = payload
        .expires_at()
        .is_some_and(|exp| exp > SystemTime::now());
    if !(issuer_ok && audience_ok && unexpired) {
        return Err(ApiError::Unauthenticated);
    }
    let scope: Vec<String> = payload
        .claim("scope")
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .split(' ')
        .map(str::to_owned)
        .collect();
    let client_id = payload
        .subject()
        .ok_or(ApiError::Unauthenticated)?
        .to_owned();
    let token_account = payload
        .claim("account_id")
        .and_then(|a| a.as_str())
        .map(str::to_owned);

    let found = state
        .db(move |c| {
            let Some(row) = client_store::find_by_client_id(c, &client_id)? else {
                return Ok(None);
            };
            let account = accounts::find_account(c, &row.account_id)?;
            Ok(Some((row, account)))
        })
        .await?;
    let Some((row, account)) = found else {
        return Err(ApiError::Unauthenticated);
    };
    if !row.enabled || token_account.as_deref() != Some(row.account_id.as_str()) {
        return Err(ApiError::Unauthenticated);
    }
    // What the token was granted and what the client still holds, both.
    let roles: Vec<String> = row
        .role_names()
        .filter(|r| scope.iter().any(|s| s == r))
        .map(str::to_owned)
        .collect();
    Ok(Principal {
        caller: Caller::Client {
            client_pk: row.id.clone(),
            client_id: row.client_id.clone(),
            roles,
        },
        account_id: account.id,
        account_name: account.name,
        identity_clients_enabled: account.identity_clients_enabled,
        source_ip,
    })
}
