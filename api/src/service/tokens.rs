//! The token service's use cases: authenticate a client, grant a scope and issue a token,
//! decide whether a token is active (introspection, bearer automation), revoke one.

use super::now;
use super::principal::{Caller, Principal};
use super::quotas::{self, QuotaOutcome};
use super::usage;
use crate::client_rows::ClientRow;
use crate::error::{ApiError, OAuthError, OAuthErrorCode};
use crate::oauth::access_token::{self, ClaimsToSign, VerifiedClaims};
use crate::oauth::assertion;
use crate::oauth::remote_jwks::Fetched;
use crate::oauth::secrets;
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::clients as client_store;
use crate::store::{StoreError, assertions, revocations};
use crate::throttle;
use std::sync::Arc;
use vitesse_domain::usage::{RefusalReason, UsageKind};
use vitesse_domain::{
    AuthMethod, ClientId, ClientKeys, IdentityClient, Scope, SecretOrigin, SecretSlot,
    generated_secret,
};

/// What a client presents to authenticate: its secret (RFC 6749 §2.3.1, Basic or form), or
/// an assertion signed with one of its keys (RFC 7523 §2.2).
pub enum Credentials {
    Secret {
        client_id: String,
        secret: String,
    },
    Assertion {
        assertion: String,
        /// `client_id` as the form gave it, if it did: it must be the assertion's.
        client_id: Option<String>,
    },
}

/// An authenticated client, and which of its secrets it presented.
pub struct Authenticated {
    pub client: Arc<IdentityClient>,
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
    state: &Arc<AppState>,
    credentials: Credentials,
    address: Option<&str>,
) -> Result<Authenticated, OAuthError> {
    let (client_id, secret) = match credentials {
        Credentials::Secret { client_id, secret } => (client_id, secret),
        Credentials::Assertion {
            assertion,
            client_id,
        } => return authenticate_assertion(state, &assertion, client_id, address).await,
    };
    if ClientId::parse(&client_id).is_err() {
        // No client can have this ID: refused before it is looked up, throttled or stored.
        return Err(OAuthError::invalid_client());
    }
    let address = address.unwrap_or_default();
    let source = throttle::source(address);
    let pair = throttle::key(&[&client_id, &source]);
    if let Some(wait) = state.token_throttle.check(&pair) {
        return Err(throttled(wait));
    }
    // Always the current row: an edit applies at the very next request.
    let found = current_client(state, &client_id).await?;
    let at = now();
    // With the account's identity clients switched off, its clients get no tokens; from an
    // address outside a client's allow-list neither. Either way the answer, and its cost, are
    // those of a wrong secret.
    let from: Option<std::net::IpAddr> = address.parse().ok();
    // The presented secret's form picks the path, whatever the client: a generated secret is
    // checked by digest (instant), anything else by bcrypt. Each can only ever match a verifier
    // of its own kind, and an unknown client costs the same as a known one on either path.
    let generated = generated_secret::is_generated(&secret);
    let origin = if generated {
        SecretOrigin::Generated
    } else {
        SecretOrigin::Typed
    };
    // A keyless client has no secret: nothing is tried, at the cost of a wrong secret.
    let verifiers: Vec<(SecretSlot, &str)> = found
        .as_ref()
        .filter(|(c, _)| c.auth_method == AuthMethod::ClientSecret)
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
    let remembered = if !generated && found.as_ref().is_some_and(|(c, on)| usable(c, *on, from)) {
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
    if generated {
        // No bcrypt to protect, and nothing to guess in 256 random bits: the address's failure
        // budget (which guards bcrypt) neither counts nor refuses these, so fast failures from
        // one address cannot use it up for everyone behind that address.
        let by_pair = state.token_throttle.begin(pair).map_err(throttled)?;
        if verifiers.is_empty() {
            secrets::verify_generated(&secret, None);
        }
        let verified = verifiers
            .iter()
            .find(|(_, stored)| secrets::verify_generated(&secret, Some(stored)))
            .map(|(slot, _)| *slot);
        return settle(state, found, verified, from, by_pair, None);
    }
    // bcrypt, counted and gated to its end even when the caller hangs up meanwhile: a cancelled
    // request would otherwise leave its failure uncounted and its address's gate place free
    // while its bcrypt still runs.
    let verifiers: Vec<(SecretSlot, String)> = verifiers
        .into_iter()
        .map(|(slot, stored)| (slot, stored.to_owned()))
        .collect();
    let state = Arc::clone(state);
    super::to_completion(|caller| async move {
        let state = &*state;
        // Workers of one client asking at once (after a restart, say) share one verification:
        // a request whose credentials are being verified right now waits for that answer,
        // taking no bcrypt, gate or throttle place of its own. (Here, in the task, where the
        // verification that the others join is announced in order of arrival.)
        if let Some((c, feature_on)) = &found
            && usable(c, *feature_on, from)
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
            .begin(throttle::key(&[&source]))
            .map_err(throttled)?;
        let by_pair = state.token_throttle.begin(pair).map_err(throttled)?;
        let _turn = state
            .address_gates
            .enter(throttle::key(&[&source]))
            .await
            .map_err(|_| {
                OAuthError::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "Too many verifications from your address are waiting; try again shortly",
                )
                .with_status(429)
                .with_retry_after(1)
            })?;
        // Nobody waits any more: no bcrypt, and the attempts end uncounted (no work was done).
        let wanted = || !caller.is_gone();
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
                .verify(&secret, None, true, &wanted)
                .await
                .map_err(busy)?;
        }
        for (slot, stored) in &verifiers {
            if state
                .hasher
                .verify(&secret, Some(stored), true, &wanted)
                .await
                .map_err(busy)?
            {
                verified = Some(*slot);
                break;
            }
        }
        settle(state, found, verified, from, by_pair, Some(by_address))
    })
    .await
    .unwrap_or_else(|| {
        Err(OAuthError::server_error(
            "the verification task ended early",
        ))
    })
}

/// Whether a client may have tokens at all: enabled, its account's identity clients on, and
/// the caller within its allow-list.
fn usable(client: &IdentityClient, feature_on: bool, from: Option<std::net::IpAddr>) -> bool {
    client.enabled && feature_on && client.allows_address(from)
}

/// The end of a client authentication that took throttle attempts (the address's only where
/// bcrypt ran): counted as a success or a failure, and a known client's refusal recorded in its
/// usage.
fn settle(
    state: &AppState,
    found: Option<ClientRow>,
    verified: Option<SecretSlot>,
    from: Option<std::net::IpAddr>,
    by_pair: throttle::Attempt<'_>,
    by_address: Option<throttle::Attempt<'_>>,
) -> Result<Authenticated, OAuthError> {
    match (found, verified) {
        (Some((client, feature_on)), Some(slot)) if usable(&client, feature_on, from) => {
            by_pair.succeeded();
            if let Some(a) = by_address {
                a.succeeded();
            }
            Ok(Authenticated { client, slot })
        }
        (found, _) => {
            by_pair.failed();
            if let Some(a) = by_address {
                a.failed();
            }
            // A known client's refusal is part of its usage, under the reason an admin can act
            // on. The reason never depends on whether the secret was right: usage is readable
            // by whoever manages clients, and must not tell them whether a guess was.
            if let Some((client, feature_on)) = &found {
                usage::refused(state, &client.id, refusal_reason(client, *feature_on, from));
            }
            Err(OAuthError::invalid_client())
        }
    }
}

/// The current row of the client with this exact client ID, and whether its account has
/// identity clients switched on. Always current: an edit applies at the very next request. On
/// SQLite the row is remembered while nothing at all is committed (`crate::client_rows`); on
/// PostgreSQL concurrent requests' reads are gathered into one query (`crate::row_reads`).
/// Both credential paths pass only an ID that `ClientId::parse` accepts.
async fn current_client(
    state: &AppState,
    client_id: &str,
) -> Result<Option<ClientRow>, StoreError> {
    let (remembered, seen) = state.client_rows.look(client_id);
    if remembered.is_some() {
        return Ok(remembered);
    }
    if let Some(reads) = &state.row_reads {
        return reads.read(client_id).await;
    }
    let id = client_id.to_owned();
    let found = state
        .db_read(move |c| client_store::find_by_client_id(c, &id))
        .await?
        .map(|(client, feature_on)| (Arc::new(client), feature_on));
    if let (Some(seen), Some(row)) = (seen, &found) {
        state.client_rows.put(seen, client_id, row.clone());
    }
    Ok(found)
}

/// Why a known client's authentication was refused, as its usage records it: disabled, from
/// outside its allow-list, or else a wrong (expired, ended, replayed) secret or assertion —
/// decided by the request's circumstances alone, never by whether the credential was right.
fn refusal_reason(
    client: &IdentityClient,
    feature_on: bool,
    from: Option<std::net::IpAddr>,
) -> RefusalReason {
    if !client.enabled || !feature_on {
        RefusalReason::Disabled
    } else if !client.allows_address(from) {
        RefusalReason::Address
    } else {
        RefusalReason::WrongSecret
    }
}

/// `private_key_jwt` (RFC 7523 §2.2, §3): the assertion names its client; the client is
/// usable, keyless, and one of its keys (inline, or published at its `jwks_uri`) signed it;
/// its claims hold, and its `jti` was never used before, on any instance. Every failure is
/// `invalid_client`, counted against the client ID and address like a wrong secret.
async fn authenticate_assertion(
    state: &AppState,
    assertion: &str,
    form_client_id: Option<String>,
    address: Option<&str>,
) -> Result<Authenticated, OAuthError> {
    let Some(unverified) = assertion::read(assertion)
        .filter(|a| form_client_id.as_ref().is_none_or(|id| *id == a.client_id))
        // No client can have an ID outside the rules (a NUL byte, say, which PostgreSQL refuses
        // in a query): refused before it is looked up, as on the secret path.
        .filter(|a| ClientId::parse(&a.client_id).is_ok())
    else {
        return Err(OAuthError::invalid_client());
    };
    let address = address.unwrap_or_default();
    let source = throttle::source(address);
    let pair = throttle::key(&[&unverified.client_id, &source]);
    if let Some(wait) = state.token_throttle.check(&pair) {
        return Err(throttled(wait));
    }
    let by_address = state
        .address_throttle
        .begin(throttle::key(&[&source]))
        .map_err(throttled)?;
    let by_pair = state.token_throttle.begin(pair).map_err(throttled)?;
    match verify_assertion(state, unverified, address.parse().ok()).await? {
        Ok(authenticated) => {
            by_pair.succeeded();
            by_address.succeeded();
            Ok(authenticated)
        }
        Err(refused) => {
            by_pair.failed();
            by_address.failed();
            if let Some((client_pk, reason)) = refused {
                usage::refused(state, &client_pk, reason);
            }
            Err(OAuthError::invalid_client())
        }
    }
}

/// The checks of [`authenticate_assertion`]; a refusal names the known client and why.
async fn verify_assertion(
    state: &AppState,
    unverified: assertion::Unverified,
    from: Option<std::net::IpAddr>,
) -> Result<Result<Authenticated, Option<(String, RefusalReason)>>, OAuthError> {
    let found = current_client(state, &unverified.client_id).await?;
    let Some((client, feature_on)) = found else {
        return Ok(Err(None));
    };
    let refuse = |reason| Ok(Err(Some((client.id.clone(), reason))));
    let keys = match (&client.keys, client.auth_method) {
        (Some(ClientKeys::Inline(set)), AuthMethod::PrivateKeyJwt) => Some(Arc::new(set.clone())),
        (Some(ClientKeys::Url(url)), AuthMethod::PrivateKeyJwt) => {
            let (set, fetched) = state
                .remote_jwks
                .keys(url.as_str(), unverified.kid.as_deref())
                .await;
            if let Some(fetched) = fetched {
                record_fetch(state, &client.id, url.as_str(), fetched).await;
            }
            set
        }
        _ => None,
    };
    let signed = keys.is_some_and(|set| {
        set.candidates(unverified.alg, unverified.kid.as_deref())
            .into_iter()
            .any(|k| unverified.signed_by(k))
    });
    let token_endpoint = format!("{}/oauth2/token", state.config.issuer);
    let audiences = [token_endpoint.as_str(), state.config.issuer.as_str()];
    let verified = signed
        .then(|| unverified.claims_hold(&audiences, access_token::unix_now() as i64))
        .flatten();
    let reason = refusal_reason(&client, feature_on, from);
    let Some(verified) = verified.filter(|_| reason == RefusalReason::WrongSecret) else {
        return refuse(reason);
    };
    // Keyed by client ID: a client deleted and made again under the same ID (and keys) must
    // not take the same assertion twice either.
    let (pk, jti) = (client.client_id.as_str().to_owned(), verified.jti);
    let keep_until = verified.exp + assertion::JTI_KEPT_AFTER_EXP_SECS;
    let expires = chrono::DateTime::from_timestamp(keep_until, 0)
        .unwrap_or_default()
        .naive_utc();
    let first = state
        .db(move |c| assertions::first_use(c, &pk, &jti, expires))
        .await?;
    if !first {
        // A replay: whoever holds a used assertion is not the client.
        return refuse(RefusalReason::WrongSecret);
    }
    Ok(Ok(Authenticated {
        client,
        slot: SecretSlot::Current,
    }))
}

/// Keeps the outcome of a `jwks_uri` fetch for the client's details page; a failure to write
/// it is logged, never the request's.
async fn record_fetch(state: &AppState, client_pk: &str, url: &str, fetched: Fetched) {
    let (pk, url) = (client_pk.to_owned(), url.to_owned());
    let at = crate::store::now();
    let written = state
        .db(move |c| {
            let outcome = match &fetched {
                Fetched::Keys(json) => Ok(json.as_str()),
                Fetched::Failed(e) => Err(e.as_str()),
            };
            assertions::record_fetch(c, &pk, &url, outcome, at)
        })
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record a jwks_uri fetch");
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
    let scope = client.grant_scope(requested_scope).map_err(|e| {
        usage::refused(state, &client.id, RefusalReason::Scope);
        OAuthError::new(OAuthErrorCode::InvalidScope, e.to_string())
    })?;
    match quotas::spend(state, client).await? {
        QuotaOutcome::Within => {}
        QuotaOutcome::OverReported => {
            state.metrics.over_quota(false);
            usage::count(state, &client.id, UsageKind::OverQuota);
        }
        QuotaOutcome::Refused { retry_after } => {
            state.metrics.over_quota(true);
            usage::refused(state, &client.id, RefusalReason::Quota);
            // 429 with Retry-After, and `temporarily_unavailable`: the error that client
            // libraries already read as "try again later" (see docs/requesting-tokens.md).
            return Err(OAuthError::new(
                OAuthErrorCode::TemporarilyUnavailable,
                "The client's token quota is used up until the window ends; see Retry-After",
            )
            .with_status(429)
            .with_retry_after(retry_after));
        }
    }
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
    usage::count(state, &client.id, UsageKind::Issued);
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
        (client.id.clone(), secret.hash.as_str().to_owned()),
        at.naive_utc(),
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
                for ((id, hash), at) in &pending {
                    client_store::touch_last_used(c, id, hash, *at)?;
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
