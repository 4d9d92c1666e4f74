//! The identity client as the service keeps it: validated fields, its secret state, and the
//! rules that read them — which stored secrets a presented one may match, what scope a token
//! gets, how long it lives, what an edit changes and what the audit trail records.

use crate::error::Field;
use crate::error::FieldErrors;
use crate::secret_state::{SecretHash, SecretState, StoredSecret};
use crate::{
    AddressList, AuthMethod, ClientId, ClientKeys, ClientName, ClientPatch, Description,
    FieldError, NewClient, RoleSet, TokenDuration, TokenQuota,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The scope a token carries: role names, space-separated (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A requested scope names a role the client does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNotHeld(pub String);

impl std::fmt::Display for RoleNotHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "The client does not hold the role {}", self.0)
    }
}

/// An identity client. It can only be built from valid parts, so everything that reads it
/// (the token path, the API's responses, the audit trail) can trust its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityClient {
    /// Immutable server-assigned id.
    pub id: String,
    pub account_id: String,
    pub client_id: ClientId,
    pub name: Option<ClientName>,
    pub description: Option<Description>,
    pub token_duration: TokenDuration,
    pub roles: RoleSet,
    pub enabled: bool,
    /// Where tokens may be asked for from; `None`: anywhere.
    pub allowed_addresses: Option<AddressList>,
    /// Tokens per hour and per day; none by default.
    pub quota: TokenQuota,
    /// A secret, or a signed assertion (RFC 7523) checked with `keys`.
    pub auth_method: AuthMethod,
    /// A `private_key_jwt` client's public keys (inline or at a URL).
    pub keys: Option<ClientKeys>,
    /// Unused while the client is keyless.
    pub secret: SecretState,
    /// Advances with every change; the API's ETag.
    pub version: i32,
    /// Tokens carry the generation they were issued in; disabling the client and "revoke all
    /// tokens" advance it, so no earlier token works again, whatever happens to the client later.
    pub token_generation: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What an edit changed, as the audit trail records it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientChanges {
    /// Field -> `{"from": old, "to": new}` for the ordinary fields.
    pub edited: Map<String, Value>,
    /// `Some(new state)` when the client was enabled or disabled.
    pub enabled: Option<bool>,
    pub secret_changed: bool,
    /// The previous secret was ended before its grace period ran out.
    pub previous_secret_ended: bool,
    /// Every token issued so far was ended (explicitly, not by disabling).
    pub tokens_revoked: bool,
}

impl ClientChanges {
    pub fn is_empty(&self) -> bool {
        self.edited.is_empty()
            && self.enabled.is_none()
            && !self.secret_changed
            && !self.previous_secret_ended
            && !self.tokens_revoked
    }
}

impl IdentityClient {
    /// A new client from a validated request: enabled at once, version 1.
    pub fn create(
        id: String,
        account_id: String,
        new: &NewClient,
        secret: SecretHash,
        now: DateTime<Utc>,
    ) -> Self {
        let secret = StoredSecret::new(secret, new.secret_expires_at, now);
        Self {
            id,
            account_id,
            client_id: new.client_id.clone(),
            name: new.name.clone(),
            description: new.description.clone(),
            token_duration: new.token_duration,
            roles: new.roles.clone(),
            enabled: true,
            allowed_addresses: new.allowed_addresses.clone(),
            quota: new.quota,
            auth_method: new.auth_method,
            keys: new.keys.clone(),
            secret: SecretState::new(secret),
            version: 1,
            token_generation: 0,
            created_at: now,
            updated_at: now,
            last_used_at: None,
        }
    }

    /// Applies an edit's ordinary fields and status. The secret is not here: it arrives as a
    /// hash through [`crate::SecretState::replace`] (an edit's new secret stops the old one at once).
    pub fn apply(&mut self, patch: &ClientPatch) {
        if let Some(v) = patch.client_id.as_ref().filter(|v| **v != self.client_id) {
            // Tokens name the client ID they were issued to; renaming back must not revive them.
            self.revoke_tokens();
            self.client_id = v.clone();
        }
        if let Some(v) = &patch.name {
            self.name = v.clone();
        }
        if let Some(v) = &patch.description {
            self.description = v.clone();
        }
        if let Some(v) = patch.token_duration {
            self.token_duration = v;
        }
        if let Some(v) = &patch.roles {
            self.roles = v.clone();
        }
        if let Some(v) = &patch.allowed_addresses {
            self.allowed_addresses = v.clone();
        }
        if let Some(v) = patch.token_quota_per_hour {
            self.quota.per_hour = v;
        }
        if let Some(v) = patch.token_quota_per_day {
            self.quota.per_day = v;
        }
        if let Some(v) = patch.token_quota_mode {
            self.quota.mode = v;
        }
        if let Some(v) = patch.auth_method {
            self.auth_method = v;
            if v == AuthMethod::ClientSecret {
                self.keys = None;
            }
        }
        if let Some(v) = &patch.keys {
            self.keys = Some(v.clone());
        }
        if let Some(v) = patch.enabled {
            if self.enabled && !v {
                self.revoke_tokens();
            }
            self.enabled = v;
        }
    }

    /// Whether an edit leaves the client able to authenticate one way or the other: a keyless
    /// client has keys and takes no secret; a client switched back to a secret is given one.
    pub fn check_credentials(
        &self,
        was: AuthMethod,
        patch: &ClientPatch,
    ) -> Result<(), FieldErrors> {
        let mut errs = FieldErrors::default();
        match self.auth_method {
            AuthMethod::PrivateKeyJwt => {
                if self.keys.is_none() {
                    errs.push(FieldError::new(
                        Field::Jwks,
                        "A private_key_jwt client needs its public keys: jwks (a JWK Set) or jwks_uri",
                    ));
                }
                if patch.client_secret.is_some() {
                    errs.push(FieldError::new(
                        Field::ClientSecret,
                        "A private_key_jwt client has no secret: leave client_secret out",
                    ));
                }
            }
            AuthMethod::ClientSecret => {
                if patch.keys.is_some() {
                    errs.push(FieldError::new(
                        Field::AuthMethod,
                        "Public keys are for private_key_jwt clients: set token_endpoint_auth_method to private_key_jwt",
                    ));
                }
                if was == AuthMethod::PrivateKeyJwt && patch.client_secret.is_none() {
                    errs.push(FieldError::new(
                        Field::ClientSecret,
                        "A client switched to client_secret needs a new secret: send client_secret",
                    ));
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Ends every token issued so far: they name an older generation.
    pub fn revoke_tokens(&mut self) {
        self.token_generation += 1;
    }

    /// Whether a token of `generation` issued to this client as `client_id` may still be used:
    /// the client is enabled, the token is of the current generation, and the client ID it was
    /// issued to is still the client's (a renamed client's old tokens stop).
    pub fn accepts_token(&self, client_id: &str, generation: i32) -> bool {
        self.enabled && self.token_generation == generation && self.client_id.as_str() == client_id
    }

    /// Whether a token may be asked for from `address` (the caller as the trusted-proxy rules
    /// see it; unknown counts as outside every list).
    pub fn allows_address(&self, address: Option<std::net::IpAddr>) -> bool {
        match (&self.allowed_addresses, address) {
            (None, _) => true,
            (Some(list), Some(a)) => list.allows(a),
            (Some(_), None) => false,
        }
    }

    /// Whether changing this client's secret, client ID, status or tokens, or deleting it, is
    /// within what a caller holding `held` roles may do: only for clients whose every role it
    /// holds itself, so automation cannot take over (or lock out) a more powerful client.
    pub fn within_roles(&self, held: &[String]) -> bool {
        self.roles
            .iter()
            .all(|r| held.iter().any(|h| h == r.as_str()))
    }

    /// What changed from `before` to `self`, for the audit trail (never secret material).
    pub fn changes_since(&self, before: &IdentityClient) -> ClientChanges {
        let (old, new) = (before.audited_fields(), self.audited_fields());
        let edited = new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), json!({ "from": old[k], "to": v })))
            .collect();
        let enabled = (self.enabled != before.enabled).then_some(self.enabled);
        let secret_changed = self.secret.current.hash != before.secret.current.hash;
        ClientChanges {
            edited,
            enabled,
            secret_changed,
            previous_secret_ended: !secret_changed
                && before.secret.previous.is_some()
                && self.secret.previous.is_none(),
            // Disabling and renaming advance the generation too; they are reported as such.
            tokens_revoked: self.token_generation != before.token_generation
                && enabled != Some(false)
                && self.client_id == before.client_id,
        }
    }

    /// The audit view of the ordinary fields, by their wire names.
    pub fn audited_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            Field::ClientId.wire_name().into(),
            json!(self.client_id.as_str()),
        );
        m.insert(
            Field::Name.wire_name().into(),
            json!(self.name.as_ref().map(ClientName::as_str)),
        );
        m.insert(
            Field::Description.wire_name().into(),
            json!(self.description.as_ref().map(Description::as_str)),
        );
        m.insert(
            Field::TokenDuration.wire_name().into(),
            json!(self.token_duration.minutes()),
        );
        m.insert(Field::Roles.wire_name().into(), json!(self.roles.names()));
        m.insert(
            Field::AllowedAddresses.wire_name().into(),
            json!(self.allowed_addresses.as_ref().map(AddressList::to_strings)),
        );
        m.insert(
            Field::TokenQuotaPerHour.wire_name().into(),
            json!(self.quota.per_hour),
        );
        m.insert(
            Field::TokenQuotaPerDay.wire_name().into(),
            json!(self.quota.per_day),
        );
        m.insert(
            Field::TokenQuotaMode.wire_name().into(),
            json!(self.quota.mode.as_str()),
        );
        m.insert(
            Field::AuthMethod.wire_name().into(),
            json!(self.auth_method.as_str()),
        );
        // Public keys are not secret; the trail records which keys, by id, type and a
        // fingerprint of the key material (new material under the same kid is a change).
        let (jwks, jwks_uri) = match &self.keys {
            Some(ClientKeys::Inline(set)) => (
                json!(
                    set.keys
                        .iter()
                        .map(|k| format!(
                            "{} {} {}",
                            k.kid.as_deref().unwrap_or("(no kid)"),
                            k.kty.label(),
                            k.fingerprint()
                        ))
                        .collect::<Vec<_>>()
                ),
                Value::Null,
            ),
            Some(ClientKeys::Url(u)) => (Value::Null, json!(u.as_str())),
            None => (Value::Null, Value::Null),
        };
        m.insert(Field::Jwks.wire_name().into(), jwks);
        m.insert(Field::JwksUri.wire_name().into(), jwks_uri);
        m
    }

    /// The scope of a token for `requested` (the token request's `scope`): absent or blank
    /// means every role the client holds; otherwise each requested role must be held.
    pub fn grant_scope(&self, requested: Option<&str>) -> Result<Scope, RoleNotHeld> {
        let requested = requested.map(str::trim).filter(|s| !s.is_empty());
        let Some(requested) = requested else {
            return Ok(Scope(self.roles.names().join(" ")));
        };
        let mut asked: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
        asked.sort_unstable();
        asked.dedup();
        if let Some(missing) = asked.iter().find(|s| !self.roles.contains(s)) {
            return Err(RoleNotHeld((*missing).to_owned()));
        }
        Ok(Scope(asked.join(" ")))
    }

    /// The roles a token of this client may use now: those its scope names that the client
    /// still holds (a role removed since the token was issued no longer counts).
    pub fn roles_within(&self, scope: &str) -> Vec<String> {
        let granted: Vec<&str> = scope.split(' ').collect();
        self.roles
            .iter()
            .map(|r| r.as_str())
            .filter(|r| granted.contains(r))
            .map(str::to_owned)
            .collect()
    }

    /// How long its tokens live.
    pub fn token_lifetime(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.token_duration.seconds() as u64)
    }

    /// The client as the API shows it (no secret material, by design).
    pub fn to_wire(&self, now: DateTime<Utc>) -> crate::wire::IdentityClient {
        crate::wire::IdentityClient {
            id: self.id.clone(),
            client_id: self.client_id.as_str().to_owned(),
            name: self.name.as_ref().map(|n| n.as_str().to_owned()),
            description: self.description.as_ref().map(|d| d.as_str().to_owned()),
            token_duration_minutes: self.token_duration.minutes(),
            roles: self.roles.names(),
            enabled: self.enabled,
            allowed_addresses: self
                .allowed_addresses
                .as_ref()
                .map(AddressList::to_strings)
                .unwrap_or_default(),
            token_quota_per_hour: self.quota.per_hour,
            token_quota_per_day: self.quota.per_day,
            token_quota_mode: self.quota.mode.as_str().to_owned(),
            token_endpoint_auth_method: self.auth_method.as_str().to_owned(),
            jwks: match &self.keys {
                Some(ClientKeys::Inline(set)) => Some(set.to_json()),
                _ => None,
            },
            jwks_uri: match &self.keys {
                Some(ClientKeys::Url(u)) => Some(u.as_str().to_owned()),
                _ => None,
            },
            keys: match &self.keys {
                Some(ClientKeys::Inline(set)) => {
                    set.keys.iter().map(crate::wire::KeyInfo::of).collect()
                }
                _ => vec![],
            },
            jwks_fetch: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_used_at: self.last_used_at,
            previous_secret_expires_at: self.secret.previous_valid_until(now),
            secrets: match self.auth_method {
                AuthMethod::ClientSecret => self.secret.to_wire(now),
                AuthMethod::PrivateKeyJwt => vec![],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn client() -> IdentityClient {
        let new = NewClient::from_json(
            &json!({
                "client_id": "shop-backend",
                "client_secret": "s3cret-value",
                "token_duration_minutes": 15,
                "roles": ["refunds:write", "payments:read"]
            }),
            test_now(),
        )
        .unwrap();
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        IdentityClient::create(
            "pk".into(),
            "acc".into(),
            &new,
            SecretHash::new("h1".into()),
            at,
        )
    }

    #[test]
    fn scope_defaults_to_every_role_and_refuses_roles_not_held() {
        let c = client();
        assert_eq!(
            c.grant_scope(None).unwrap().as_str(),
            "payments:read refunds:write"
        );
        assert_eq!(
            c.grant_scope(Some("  ")).unwrap().as_str(),
            "payments:read refunds:write"
        );
        assert_eq!(
            c.grant_scope(Some("refunds:write payments:read refunds:write"))
                .unwrap()
                .as_str(),
            "payments:read refunds:write"
        );
        assert_eq!(
            c.grant_scope(Some("payments:read payouts:read")),
            Err(RoleNotHeld("payouts:read".into()))
        );
    }

    #[test]
    fn token_lifetime_is_the_duration_in_seconds() {
        assert_eq!(client().token_lifetime().as_secs(), 15 * 60);
    }

    #[test]
    fn changes_name_edited_fields_status_and_secret_but_no_secret_material() {
        let before = client();
        let mut after = before.clone();
        let patch = ClientPatch::from_json(
            &json!({"token_duration_minutes": 30, "enabled": false}),
            test_now(),
        )
        .unwrap();
        after.apply(&patch);
        let at = before.created_at;
        let new_secret = StoredSecret::new(SecretHash::new("h2".into()), None, at);
        after.secret.replace(new_secret, None, at);
        let ch = after.changes_since(&before);
        assert_eq!(
            ch.edited,
            json!({"token_duration_minutes": {"from": 15, "to": 30}})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(ch.enabled, Some(false));
        assert!(ch.secret_changed);
        assert!(!format!("{ch:?}{after:?}").contains("h2"));
        assert!(before.changes_since(&before).is_empty());
    }

    #[test]
    fn tokens_do_not_come_back_when_the_client_is_enabled_again() {
        let mut c = client();
        assert!(c.accepts_token("shop-backend", 0));
        c.apply(&ClientPatch::from_json(&json!({"enabled": false}), test_now()).unwrap());
        c.apply(&ClientPatch::from_json(&json!({"enabled": true}), test_now()).unwrap());
        assert!(c.enabled);
        assert!(
            !c.accepts_token("shop-backend", 0),
            "a token of generation 0"
        );
        assert!(c.accepts_token("shop-backend", 1));
        c.revoke_tokens();
        assert!(!c.accepts_token("shop-backend", 1));
        assert!(!c.accepts_token("other-id", 2), "renamed: old tokens stop");
        // Renamed and renamed back: the old tokens stay dead.
        let g = c.token_generation;
        c.apply(&ClientPatch::from_json(&json!({"client_id": "renamed-id"}), test_now()).unwrap());
        c.apply(
            &ClientPatch::from_json(&json!({"client_id": "shop-backend"}), test_now()).unwrap(),
        );
        assert!(!c.accepts_token("shop-backend", g));
    }

    #[test]
    fn automation_acts_only_within_its_own_roles() {
        let c = client();
        let held = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(c.within_roles(&held(&["payments:read", "refunds:write", "x"])));
        assert!(!c.within_roles(&held(&["payments:read"])));
    }

    #[test]
    fn roles_within_a_scope_are_those_still_held() {
        let c = client();
        assert_eq!(
            c.roles_within("payments:read payouts:read"),
            ["payments:read"]
        );
    }
}
