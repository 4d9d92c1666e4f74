//! Checking our own access tokens: for bearer automation and for introspection.

use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::clients::{self as client_store, ClientRow};
use crate::store::{StoreError, revocations};
use serde_json::{Map, Value};
use std::time::SystemTime;

pub struct ValidToken {
    pub claims: Map<String, Value>,
    pub client: ClientRow,
    pub account: Account,
}

impl ValidToken {
    pub fn scope(&self) -> Vec<&str> {
        self.claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn jti(&self) -> &str {
        self.claims.get("jti").and_then(Value::as_str).unwrap_or("")
    }

    pub fn exp(&self) -> i64 {
        self.claims.get("exp").and_then(Value::as_i64).unwrap_or(0)
    }
}

/// `Some` while the token is active: signed by one of our published keys, of type `at+jwt`,
/// for our issuer and audience, unexpired, not revoked, and its client still exists in the
/// same account and is enabled. A changed secret does not end it (see docs/requesting-tokens.md).
pub async fn active_token(state: &AppState, token: &str) -> Result<Option<ValidToken>, StoreError> {
    let keys = state.keys();
    let Ok((payload, header)) = josekit::jwt::decode_with_verifier_selector(token, |h| {
        Ok(h.key_id()
            .and_then(|kid| keys.verifiers.get(kid))
            .map(|v| v.as_ref()))
    }) else {
        return Ok(None);
    };
    let issuer_ok = payload.issuer() == Some(state.config.issuer.as_str());
    let audience_ok = payload
        .audience()
        .is_some_and(|a| a.iter().any(|x| *x == state.config.audience));
    let unexpired = payload
        .expires_at()
        .is_some_and(|exp| exp > SystemTime::now());
    if header.token_type() != Some("at+jwt") || !(issuer_ok && audience_ok && unexpired) {
        return Ok(None);
    }
    let claims = payload.claims_set().clone();
    let (Some(client_id), Some(account_id), Some(jti)) = (
        claims
            .get("client_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        claims
            .get("account_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        claims.get("jti").and_then(Value::as_str).map(str::to_owned),
    ) else {
        return Ok(None);
    };
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
    Ok(found.map(|(client, account)| ValidToken {
        claims,
        client,
        account,
    }))
}
