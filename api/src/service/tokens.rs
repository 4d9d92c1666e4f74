//! The token service's use cases: authenticate a client, grant a scope and issue a token,
//! decide whether a token is active (introspection, bearer automation), revoke one.

use super::now;
use super::principal::{Caller, Principal};
use crate::error::{ApiError, OAuthError, OAuthErrorCode};
use crate::oauth::access_token::{self, ClaimsToSign, VerifiedClaims};
use crate::oauth::secrets;
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::clients as client_store;
use crate::store::{StoreError, revocations};
use crate::throttle;
use std::sync::Arc;
use vitesse_domain::{ClientId, IdentityClient, Scope, SecretOrigin, SecretSlot, generated_secret};

/// What a client presents to authenticate (RFC 6749 §2.3.1), by either method.
pub struct Credentials {
    pub client_id: String,
    pub secret: String,
}

/// An authenticated client, and which of its secrets it presented.
pub struct Authenticated {
    pub client: IdentityClient,
    pub slot: SecretSlot,
}

/// Client authentication: the client's current row and the secret (the current one, or the
/// previous one during a rotation's grace period). Unknown, disabled and wrong-secret clients
/// get the same answer after the same work. A secret verified before costs a memory lookup;
/// anything that needs bcrypt is first counted against the client ID and address (20 failures
/// in 5 minutes) and against the address alone (100 failures across all client IDs), so a flood
/// is refused before it costs bcrypt work; an address holds at most half the bcrypt slots (8
/// more of its verifications wait, others are refused), and a full queue answers 503 at once.
pub async fn authenticate(
    state: &AppState,
    credentials: Credentials,
    address: Option<&str>,
) -> Result<Authenticated, OAuthError> {
    let Credentials { client_id, secret } = credentials;
    if client_id.is_empty() || client_id.len() > ClientId::MAX {
        // No client can have this ID: refused before it is looked up, throttled or stored.
        return Err(OAuthError::invalid_client());
    }
    let address = address.unwrap_or_default();
    let pair = throttle::key(&[&client_id, address]);
    if let Some(wait) = state.token_throttle.check(&pair) {
        return Err(throttled(wait));
    }
    // Always read the current row: an edit applies at the very next request.
    let found = state
        .db_read(move |c| client_store::find_by_client_id(c, &client_id))
        .await?;
    let at = now();
    // With the account's identity clients switched off, its clients get no tokens; from an
    // address outside a client's allow-list neither. Either way the answer, and its cost, are
    // those of a wrong secret.
    let from: Option<std::net::IpAddr> = address.parse().ok();
    let usable =
        |c: &IdentityClient, feature_on: bool| c.enabled && feature_on && c.allows_address(from);
    // The presented secret's form picks the path, whatever the client: a generated secret is
    // checked by digest (instant), anything else by bcrypt. Each can only ever match a verifier
    // of its own kind, and an unknown client costs the same as a known one on either path.
    let generated = generated_secret::is_generated(&secret);
    let origin = if generated {
        SecretOrigin::Generated
    } else {
        SecretOrigin::Typed
    };
    let verifiers: Vec<(SecretSlot, &str)> = found
        .as_ref()
        .map(|(c, _)| {
            c.secret
                .accepted_at(at)
                .filter(|(_, h)| h.origin() == origin)
                .map(|(slot, h)| (slot, h.as_str()))
                .collect()
        })
        .unwrap_or_default();
    // The remembered path serves usable clients only: for a disabled one the answer must cost
    // what a wrong secret costs, or a leaked secret's holder would learn it is still current.
    let remembered = if !generated && found.as_ref().is_some_and(|(c, on)| usable(c, *on)) {
        verifiers
            .iter()
            .find(|(_, stored)| state.hasher.remembered(&secret, stored))
            .map(|(slot, _)| *slot)
    } else {
        None
    };
    if let Some(slot) = remembered
        && let Some((client, _)) = found
    {
        state.token_throttle.forgive(&pair);
        return Ok(Authenticated { client, slot });
    }
    // Workers of one client asking at once (after a restart, say) share one verification: a
    // request whose credentials are being verified right now waits for that answer, taking no
    // bcrypt, gate or throttle place of its own.
    if !generated
        && let Some((c, feature_on)) = &found
        && usable(c, *feature_on)
    {
        for (slot, stored) in &verifiers {
            if state.hasher.join_in_flight(&secret, stored).await == Some(true) {
                return Ok(Authenticated {
                    client: c.clone(),
                    slot: *slot,
                });
            }
        }
    }
    let by_address = state
        .address_throttle
        .begin(throttle::key(&[address]))
        .map_err(throttled)?;
    let by_pair = state.token_throttle.begin(pair).map_err(throttled)?;
    let verified = if generated {
        if verifiers.is_empty() {
            secrets::verify_generated(&secret, None);
        }
        verifiers
            .iter()
            .find(|(_, stored)| secrets::verify_generated(&secret, Some(stored)))
            .map(|(slot, _)| *slot)
    } else {
        let _turn = state
            .address_gates
            .enter(throttle::key(&[address]))
            .await
            .map_err(|_| throttled(1))?;
        let busy = |_| {
            OAuthError::new(
                OAuthErrorCode::TemporarilyUnavailable,
                "Too many verifications are waiting; try again shortly",
            )
            .with_retry_after(1)
        };
        let mut verified = None;
        if verifiers.is_empty() {
            // The same work as a wrong secret: unknown IDs cannot be told apart by timing.
            state
                .hasher
                .verify(&secret, None, true)
                .await
                .map_err(busy)?;
        }
        for (slot, stored) in &verifiers {
            if state
                .hasher
                .verify(&secret, Some(stored), true)
                .await
                .map_err(busy)?
            {
                verified = Some(*slot);
                break;
            }
        }
        verified
    };
    match (found, verified) {
        (Some((client, feature_on)), Some(slot)) if usable(&client, feature_on) => {
            by_pair.succeeded();
            by_address.succeeded();
            Ok(Authenticated { client, slot })
        }
        _ => {
            by_pair.failed();
            by_address.failed();
            Err(OAuthError::invalid_client())
        }
    }
}

fn throttled(wait: u64) -> OAuthError {
    OAuthError::new(
        OAuthErrorCode::TemporarilyUnavailable,
        "Too many failed attempts; try again later",
    )
    .with_status(429)
    .with_retry_after(wait)
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
    authenticated: &Authenticated,
    requested_scope: Option<&str>,
) -> Result<IssuedToken, OAuthError> {
    let client = &authenticated.client;
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
        cpk: &client.id,
        cgen: client.token_generation,
    };
    let access_token = state
        .keys()
        .sign(&claims)
        .map_err(|e| OAuthError::server_error(format!("token signing failed: {e}")))?;
    record_last_use(state, authenticated);
    Ok(IssuedToken {
        access_token,
        expires_in: lifetime,
        scope,
    })
}

/// "Last used" of the client and of the secret it presented, at most once a minute per
/// secret: noted in memory, written with the others by [`flush_last_uses`].
fn record_last_use(state: &AppState, authenticated: &Authenticated) {
    let (client, slot) = (&authenticated.client, authenticated.slot);
    let at = now();
    let Some(secret) = client
        .secret
        .get(slot)
        .filter(|_| client.secret.use_is_stale(slot, at))
    else {
        return;
    };
    let mut pending = state.last_uses.lock().unwrap_or_else(|e| e.into_inner());
    pending.insert(
        (client.id.clone(), slot),
        (secret.hash.as_str().to_owned(), at.naive_utc()),
    );
}

/// Writes the last uses noted since the previous call, in one transaction (every second, and
/// when the server stops). A crash loses at most a second of them; "last used" is a minute
/// apart anyway.
pub async fn flush_last_uses(state: &AppState) -> Result<(), StoreError> {
    let pending: Vec<_> = {
        let mut noted = state.last_uses.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *noted).into_iter().collect()
    };
    if pending.is_empty() {
        return Ok(());
    }
    state
        .db(move |c| {
            crate::store::write_tx(c, |c| {
                for ((id, slot), (hash, at)) in &pending {
                    client_store::touch_last_used(c, id, *slot, hash, *at)?;
                }
                Ok(())
            })
        })
        .await
}

/// A token that is active now, with its client and the client's account.
pub struct ActiveToken {
    pub claims: VerifiedClaims,
    pub client: IdentityClient,
    pub account: Account,
}

/// `Some` while the token is active: one of ours (see [`access_token::verify`]), not revoked,
/// its client (the same one, not another made later under its client ID) still exists in the
/// same account with identity clients switched on, is enabled, still has the client ID and the
/// token generation the token names. A changed secret does not end it (see
/// docs/requesting-tokens.md); disabling the client or "revoke all tokens" does, for good.
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
    let (pk, client_id, jti) = (
        claims.cpk.clone(),
        claims.client_id.clone(),
        claims.jti.clone(),
    );
    let found = state
        .db(move |c| {
            if revocations::is_revoked(c, &jti)? {
                return Ok(None);
            }
            if pk.is_empty() {
                // A token from before tokens named their client's internal id.
                let Some((client, _)) = client_store::find_by_client_id(c, &client_id)? else {
                    return Ok(None);
                };
                let account = accounts::find_account(c, &client.account_id)?;
                return Ok(Some((client, account)));
            }
            client_store::find_with_account(c, &pk)
        })
        .await?;
    Ok(found
        .filter(|(client, account)| {
            client.account_id == claims.account_id
                && account.identity_clients_enabled
                && client.accepts_token(&claims.client_id, claims.cgen)
        })
        .map(|(client, account)| ActiveToken {
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
        .map(|t| {
            // What the token can still do: its roles the client still holds.
            let scope = t.client.roles_within(&t.claims.scope).join(" ");
            VerifiedClaims { scope, ..t.claims }
        }))
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
