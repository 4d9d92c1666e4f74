//! Requests and responses exactly as they travel between the SPA, scripts and the API.

use crate::error::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Creates an identity client. The secret is accepted here and never returned again. A member
/// the contract does not name is refused (422), so a misspelt field cannot be silently ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateClientRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::client_id))]
    pub client_id: String,
    /// A secret you choose; or leave it out and send `generate_secret: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::client_secret))]
    pub client_secret: Option<String>,
    /// `true`: the server generates the secret (256 random bits, recognisable by secret
    /// scanners, verified instantly) and returns it in this response only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_secret: Option<bool>,
    /// When the new secret stops working (RFC 3339; at most two years ahead). Absent or
    /// `null`: it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_expires_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::name))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::description))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::token_duration))]
    pub token_duration_minutes: i64,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::roles))]
    pub roles: Vec<String>,
    /// IPv4/IPv6 addresses or CIDR ranges (at most 50) that may ask for tokens; absent or
    /// empty: any address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50, example = json!(["203.0.113.0/24"])))]
    pub allowed_addresses: Option<Vec<String>>,
    /// At most this many tokens per UTC hour (1–10,000,000); absent: no hourly limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_limit))]
    pub token_quota_per_hour: Option<u32>,
    /// At most this many tokens per UTC day (1–10,000,000); absent: no daily limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_limit))]
    pub token_quota_per_day: Option<u32>,
    /// `enforce` (the default): past a limit the token endpoint answers 429 until the window
    /// ends. `report`: tokens are still issued and counted as over quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_mode))]
    pub token_quota_mode: Option<String>,
    /// `client_secret` (the default) or `private_key_jwt`: the client signs an assertion
    /// (RFC 7523) with a key registered in `jwks` or published at `jwks_uri`, and has no secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::auth_method))]
    pub token_endpoint_auth_method: Option<String>,
    /// A JWK Set of public keys (at most 10; EC P-256, RSA ≥ 2048 bits or OKP Ed25519).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::jwk_set))]
    pub jwks: Option<serde_json::Value>,
    /// Where the JWK Set is published (https; plain http only for loopback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

/// One registered public key, as the details page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyInfo {
    pub kid: Option<String>,
    /// `EC P-256`, `RSA` or `OKP Ed25519`.
    pub kty: String,
    /// The algorithm the key is for, when it says.
    pub alg: Option<String>,
}

impl KeyInfo {
    pub fn of(k: &crate::PublicJwk) -> Self {
        Self {
            kid: k.kid.clone(),
            kty: k.kty.label().into(),
            alg: k.alg.map(|a| a.as_str().into()),
        }
    }
}

/// The last fetch of a client's `jwks_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JwksFetch {
    /// When the keys were last fetched successfully.
    pub fetched_at: Option<DateTime<Utc>>,
    /// Why the last fetch failed (when it did), and when.
    pub error: Option<String>,
    pub error_at: Option<DateTime<Utc>>,
}

/// An identity client as the API shows it. There is no secret here, by design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IdentityClient {
    /// Immutable server-assigned id; addresses the client in the API.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "5f0c3a5e-8a3b-4c53-9a55-0d6c1f3f2b7a")
    )]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "shop-backend"))]
    pub client_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 60, example = 30))]
    pub token_duration_minutes: i64,
    pub roles: Vec<String>,
    /// Enabled clients can request tokens; a new client is enabled immediately.
    pub enabled: bool,
    /// The ranges that may ask for tokens (CIDR); empty: any address.
    #[serde(default)]
    pub allowed_addresses: Vec<String>,
    /// At most this many tokens per UTC hour; `null`: no hourly limit.
    #[serde(default)]
    pub token_quota_per_hour: Option<u32>,
    /// At most this many tokens per UTC day; `null`: no daily limit.
    #[serde(default)]
    pub token_quota_per_day: Option<u32>,
    /// `enforce` or `report`: what happens past a limit.
    #[serde(default = "enforce")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_mode))]
    pub token_quota_mode: String,
    /// `client_secret` or `private_key_jwt`.
    #[serde(default = "client_secret_method")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::auth_method))]
    pub token_endpoint_auth_method: String,
    /// The registered JWK Set (`private_key_jwt`, inline).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::jwk_set))]
    pub jwks: Option<serde_json::Value>,
    /// Where the client's JWK Set is published (`private_key_jwt`, by URL).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// The keys: those registered inline, or those last fetched from `jwks_uri`.
    #[serde(default)]
    pub keys: Vec<KeyInfo>,
    /// For `jwks_uri`: the last fetch.
    #[serde(default)]
    pub jwks_fetch: Option<JwksFetch>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the client last received a token (recorded at most once a minute).
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// After a secret rotation with a grace period: when the previous secret stops working.
    #[serde(default)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The current secret, then the previous one while it still works: how each was made,
    /// its dates and its last use. Never the secret or what verifies it.
    #[serde(default)]
    pub secrets: Vec<crate::SecretInfo>,
}

/// A client as the response that made its secret shows it: with `client_secret` when the
/// server generated it. No other response ever carries a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IdentityClientWithSecret {
    #[serde(flatten)]
    pub client: IdentityClient,
    /// The generated secret: store it now, it is never shown again. Absent when you chose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Password, example = "vsk_3q2Y6e1rWm0sJxkS5Y0n7f9v8uHc4tA2bL6dE1gR9wPk2ZQxN"))]
    pub client_secret: Option<String>,
}

/// Sets a new secret. The previous one may keep working for a grace period so that
/// deployments can switch over without downtime; at most one previous secret is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RotateSecretRequest {
    /// A secret you choose; or leave it out and send `generate_secret: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::new_secret))]
    pub client_secret: Option<String>,
    /// `true`: the server generates the new secret and returns it in this response only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_secret: Option<bool>,
    /// When the new secret stops working (RFC 3339; at most two years ahead). Absent or
    /// `null`: it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::grace_minutes))]
    pub previous_secret_grace_minutes: i64,
}

/// One page of clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IdentityClientList {
    pub items: Vec<IdentityClient>,
    /// The page's clients' token requests over the last 24 hours, in the order of `items`.
    #[serde(default)]
    pub activity: Vec<ClientActivity>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A client's token requests over the last 24 hours, for the list's activity indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClientActivity {
    /// The client's server-assigned id.
    pub id: String,
    pub issued: u64,
    pub refused: u64,
}

/// Edits a client (JSON merge patch, RFC 7396): only the members present change; `null` clears
/// the name or the description. `client_secret` present replaces the secret; `enabled` enables
/// or disables the client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateClientRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::client_id))]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::client_secret_edit))]
    pub client_secret: Option<String>,
    /// The new secret's expiry (RFC 3339, at most two years ahead); only with `client_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_expires_at: Option<DateTime<Utc>>,
    /// Absent: unchanged; `Some(None)` (JSON `null`): cleared.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::name_edit))]
    pub name: Option<Option<String>>,
    /// Absent: unchanged; `Some(None)` (JSON `null`): cleared.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::description_edit))]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::token_duration))]
    pub token_duration_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::roles))]
    pub roles: Option<Vec<String>>,
    /// `false` disables the client: it gets no tokens and its tokens stop working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Replaces the allow-list; `null` or `[]`: any address again.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub allowed_addresses: Option<Option<Vec<String>>>,
    /// Sets the hourly limit; `null`: none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_limit))]
    pub token_quota_per_hour: Option<Option<u32>>,
    /// Sets the daily limit; `null`: none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_limit))]
    pub token_quota_per_day: Option<Option<u32>>,
    /// `enforce` or `report`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::quota_mode))]
    pub token_quota_mode: Option<String>,
    /// `client_secret` or `private_key_jwt`; switching to `client_secret` needs `client_secret`,
    /// switching to `private_key_jwt` needs keys (here or registered before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::auth_method))]
    pub token_endpoint_auth_method: Option<String>,
    /// Replaces the registered keys with this JWK Set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::jwk_set))]
    pub jwks: Option<serde_json::Value>,
    /// Replaces the registered keys with the set published here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

fn client_secret_method() -> String {
    crate::AuthMethod::ClientSecret.as_str().to_owned()
}

fn enforce() -> String {
    crate::QuotaMode::Enforce.as_str().to_owned()
}

/// A member that is present, even as `null`, is `Some` (merge-patch: `null` clears).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditActor {
    /// `user` (signed in to the UI) or `client` (a bearer token of an identity client).
    #[serde(rename = "type")]
    pub type_: String,
    pub id: String,
    /// The user's email or the client's client ID.
    pub label: String,
}

/// One recorded change of a client. Never contains secret material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    pub id: String,
    /// `created`, `updated`, `enabled`, `disabled`, `secret_changed`, `tokens_revoked` or
    /// `deleted`.
    pub action: String,
    pub actor: AuditActor,
    pub source_ip: Option<String>,
    /// Field name -> `{"from": old, "to": new}`; for the secret only `"changed"`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Value,
    /// Each field name in `changes` -> the name the screens give it ("Token duration").
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEventList {
    pub items: Vec<AuditEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A role of the platform's API-role catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiRole {
    #[cfg_attr(feature = "openapi", schema(example = "payments:write"))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(example = "Create and capture payments"))]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiRoleList {
    pub items: Vec<ApiRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInRequest {
    #[cfg_attr(feature = "openapi", schema(example = "admin@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

/// Who is signed in, and what their account allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Session {
    pub user_id: String,
    pub email: String,
    /// `merchant-admin`, `manage-identity-clients` or `viewer`.
    pub role: String,
    pub account_id: String,
    pub account_name: String,
    pub identity_clients_enabled: bool,
    /// Whether this user may manage identity clients (role and account flag together).
    pub can_manage_identity_clients: bool,
}

/// RFC 9457 problem details, with one entry per failing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://vitesse.dev/problems/validation")
    )]
    pub type_: String,
    #[cfg_attr(feature = "openapi", schema(example = "The request is not valid"))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(example = 422))]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Problem types a client can recognise (the `type` member of [`Problem`]).
pub mod problem_type {
    pub const VALIDATION: &str = "https://vitesse.dev/problems/validation";
    pub const MALFORMED: &str = "https://vitesse.dev/problems/malformed-request";
    pub const UNAUTHENTICATED: &str = "https://vitesse.dev/problems/unauthenticated";
    pub const FORBIDDEN: &str = "https://vitesse.dev/problems/forbidden";
    pub const FEATURE_DISABLED: &str = "https://vitesse.dev/problems/identity-clients-disabled";
    pub const NOT_FOUND: &str = "https://vitesse.dev/problems/not-found";
    pub const CONFLICT: &str = "https://vitesse.dev/problems/conflict";
    pub const PRECONDITION_FAILED: &str = "https://vitesse.dev/problems/precondition-failed";
    pub const THROTTLED: &str = "https://vitesse.dev/problems/too-many-requests";
    pub const UNAVAILABLE: &str = "https://vitesse.dev/problems/unavailable";
    pub const INTERNAL: &str = "https://vitesse.dev/problems/internal";
}
