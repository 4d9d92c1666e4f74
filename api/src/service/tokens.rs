//! The token service's use cases: authenticate a client, grant a scope and issue a token,
//! decide whether a token is active (introspection, bearer automation), revoke one.

use super::now;
use super::principal::{Caller, Principal};
use crate::error::{ApiError, OAuthError, OAuthErrorCode};
use crate::oauth::access_token::{self, ClaimsToSign, VerifiedClaims};
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::clients as client_store;
use crate::store::{StoreError, revocations};
use std::sync::Arc;
use vitesse_domain::{IdentityClient, Scope};

/// What a client presents to authenticate (RFC 6749 §2.3.1), by either method.
pub struct Credentials {
    pub client_id: String,
    pub secret: String,
}

/// Client authentication: the client's current row and the secret (the current one, or the
/// previous one during a rotation's grace period). Unknown, disabled and wrong-secret clients
/// get the same answer after the same work; repeated failures from one address for one client
/// ID are throttled.
pub async fn authenticate(
    state: &AppState,
    credentials: Credentials,
    address: Option<&str>,
) -> Result<IdentityClient, OAuthError> {
    let Credentials { client_id, secret } = credentials;
    let throttle_key = format!("{client_id}|{}", address.unwrap_or_default());
    if let Some(wait) = state.token_throttle.check(&throttle_key) {
        return Err(OAuthError::new(
            OAuthErrorCode::TemporarilyUnavailable,
            "Too many failed attempts; try again later",
        )
        .with_status(429)
        .with_retry_after(wait));
    }
    // Always read the current row: an edit applies at the very next request.
    let client = state
        .db(move |c| client_store::find_by_client_id(c, &client_id))
        .await?;
    let at = now();
    let mut verified = false;
    match &client {
        None => {
            // The same work as a wrong secret: unknown IDs cannot be told apart by timing.
            state.hasher.verify(&secret, None, true).await;
        }
        Some(c) => {
            for stored in c.secret.accepted_at(at) {
                if state
                    .hasher
                    .verify(&secret, Some(stored.as_str()), true)
                    .await
                {
                    verified = true;
                    break;
                }
            }
        }
    }
    match client {
        Some(c) if verified && c.enabled => {
            state.token_throttle.succeeded(&throttle_key);
            Ok(c)
        }
        _ => {
            state.token_throttle.failed(&throttle_key);
            Err(OAuthError::invalid_client())
        }
    }
}

/// A signed access token and what the response tells about it.
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: Scope,
}

/// Issues a token to an authenticated client for the scope it asked for (all its roles when
/// it asked for none), living as long as the client's token duration.
pub async fn issue(
    state: &Arc<AppState>,
    client: &IdentityClient,
    requested_scope: Option<&str>,
) -> Result<IssuedToken, OAuthError> {
    let scope = client
        .grant_scope(requested_scope)
        .map_err(|e| OAuthError::new(OAuthErrorCode::InvalidScope, e.to_string()))?;
    let lifetime = client.token_lifetime().as_secs();
    let iat = access_token::unix_now();
    let claims = ClaimsToSign {
        iss: &state.config.issuer,
        sub: client.client_id.as_str(),
        aud: &state.config.audience,
        iat,
        exp: iat + lifetime,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: client.client_id.as_str(),
        scope: scope.as_str(),
        account_id: &client.account_id,
    };
    let access_token = state
        .keys()
        .sign(&claims)
        .map_err(|e| OAuthError::server_error(format!("token signing failed: {e}")))?;
    record_last_use(state, client);
    Ok(IssuedToken {
        access_token,
        expires_in: lifetime,
        scope,
    })
}

/// "Last used", written at most once a minute per client and off the response's path.
fn record_last_use(state: &Arc<AppState>, client: &IdentityClient) {
    let at = now();
    if !client.last_use_is_stale(at) {
        return;
    }
    let (state, id) = (Arc::clone(state), client.id.clone());
    tokio::spawn(async move {
        let at = at.naive_utc();
        if let Err(e) = state
            .db(move |c| client_store::touch_last_used(c, &id, at))
            .await
        {
            tracing::warn!(error = %e, "could not record last use");
        }
    });
}

/// A token that is active now, with its client and the client's account.
pub struct ActiveToken {
    pub claims: VerifiedClaims,
    pub client: IdentityClient,
    pub account: Account,
}

/// `Some` while the token is active: one of ours (see [`access_token::verify`]), not revoked,
/// and its client still exists in the same account and is enabled. A changed secret does not
/// end it (see docs/requesting-tokens.md).
pub async fn active_token(
    state: &AppState,
    token: &str,
) -> Result<Option<ActiveToken>, StoreError> {
    let Some(claims) = access_token::verify(
        &state.keys(),
        &state.config.issuer,
        &state.config.audience,
        token,
    ) else {
        return Ok(None);
    };
    let (client_id, account_id, jti) = (
        claims.client_id.clone(),
        claims.account_id.clone(),
        claims.jti.clone(),
    );
    let found = state
        .db(move |c| {
            if revocations::is_revoked(c, &jti)? {
                return Ok(None);
            }
            let Some(client) = client_store::find_by_client_id(c, &client_id)? else {
                return Ok(None);
            };
            if !client.enabled || client.account_id != account_id {
                return Ok(None);
            }
            let account = accounts::find_account(c, &client.account_id)?;
            Ok(Some((client, account)))
        })
        .await?;
    Ok(found.map(|(client, account)| ActiveToken {
        claims,
        client,
        account,
    }))
}

/// Introspection (RFC 7662): the claims of an active token of the caller's own account;
/// `None` (inactive) for anything else.
pub async fn introspect(
    state: &AppState,
    caller: &IdentityClient,
    token: &str,
) -> Result<Option<VerifiedClaims>, OAuthError> {
    Ok(active_token(state, token)
        .await?
        .filter(|t| t.client.account_id == caller.account_id)
        .map(|t| t.claims))
}

/// Revocation (RFC 7009): a client revokes its own tokens; anything else changes nothing.
pub async fn revoke(
    state: &AppState,
    caller: &IdentityClient,
    token: &str,
) -> Result<(), OAuthError> {
    let Some(t) = active_token(state, token).await? else {
        return Ok(());
    };
    if t.client.id != caller.id {
        return Ok(());
    }
    let (jti, pk) = (t.claims.jti, caller.id.clone());
    let expires = chrono::DateTime::from_timestamp(t.claims.exp, 0)
        .unwrap_or_default()
        .naive_utc();
    state
        .db(move |c| revocations::revoke(c, &jti, &pk, expires))
        .await?;
    Ok(())
}

/// The caller behind a bearer token: its client acts for its account, with the roles the token
/// was granted that the client still holds.
pub async fn bearer_principal(
    state: &AppState,
    token: &str,
    source_ip: Option<String>,
) -> Result<Principal, ApiError> {
    let t = active_token(state, token)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Principal {
        caller: Caller::Client {
            roles: t.client.roles_within(&t.claims.scope),
            client_pk: t.client.id,
            client_id: t.client.client_id.as_str().to_owned(),
        },
        account_id: t.account.id,
        account_name: t.account.name,
        identity_clients_enabled: t.account.identity_clients_enabled,
        source_ip,
    })
}
