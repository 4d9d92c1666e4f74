//! Validation failures that name the field and the rule, in words a person understands.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The fields of an identity client, by their wire name and the label a person sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ClientId,
    ClientSecret,
    Name,
    Description,
    TokenDuration,
    Roles,
    Enabled,
    AllowedAddresses,
    TokenQuotaPerHour,
    TokenQuotaPerDay,
    TokenQuotaMode,
    AuthMethod,
    Jwks,
    JwksUri,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::ClientId,
        Field::ClientSecret,
        Field::Name,
        Field::Description,
        Field::TokenDuration,
        Field::Roles,
        Field::Enabled,
        Field::AllowedAddresses,
        Field::TokenQuotaPerHour,
        Field::TokenQuotaPerDay,
        Field::TokenQuotaMode,
        Field::AuthMethod,
        Field::Jwks,
        Field::JwksUri,
    ];

    /// The label a person reads for a wire name (the audit trail's keys); the wire name
    /// itself for anything else.
    pub fn label_of(wire_name: &str) -> &str {
        match wire_name {
            crate::SECRET_EXPIRES_FIELD => "Secret expires",
            "previous_secret" => "Previous secret",
            "previous_secret_valid_until" => "Previous secret works until",
            "tokens" => "Tokens",
            _ => Self::ALL
                .iter()
                .find(|f| f.wire_name() == wire_name)
                .map_or(wire_name, |f| f.label()),
        }
    }

    /// Each member of an audit entry's `changes` -> its label (the API's `labels`).
    pub fn labels_of(changes: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
        changes
            .as_object()
            .map(|m| {
                m.keys()
                    .map(|k| (k.clone(), Self::label_of(k).to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The JSON member name on the wire.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Field::ClientId => "client_id",
            Field::ClientSecret => "client_secret",
            Field::Name => "name",
            Field::Description => "description",
            Field::TokenDuration => "token_duration_minutes",
            Field::Roles => "roles",
            Field::Enabled => "enabled",
            Field::AllowedAddresses => "allowed_addresses",
            Field::TokenQuotaPerHour => "token_quota_per_hour",
            Field::TokenQuotaPerDay => "token_quota_per_day",
            Field::TokenQuotaMode => "token_quota_mode",
            Field::AuthMethod => "token_endpoint_auth_method",
            Field::Jwks => "jwks",
            Field::JwksUri => "jwks_uri",
        }
    }

    /// The label the seed documentation uses.
    pub const fn label(self) -> &'static str {
        match self {
            Field::ClientId => "Client ID",
            Field::ClientSecret => "Client secret",
            Field::Name => "Client name",
            Field::Description => "Description",
            Field::TokenDuration => "Token duration",
            Field::Roles => "Roles",
            Field::Enabled => "Status",
            Field::AllowedAddresses => "Allowed addresses",
            Field::TokenQuotaPerHour => "Tokens per hour",
            Field::TokenQuotaPerDay => "Tokens per day",
            Field::TokenQuotaMode => "Quota mode",
            Field::AuthMethod => "Authentication method",
            Field::Jwks => "Public keys",
            Field::JwksUri => "Public keys URL",
        }
    }
}

/// One failed rule of one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The JSON member that failed, e.g. `client_id`.
    #[cfg_attr(feature = "openapi", schema(example = "client_id"))]
    pub field: String,
    /// What is wrong, naming the field and the rule.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Client ID must be 6–100 characters")
    )]
    pub message: String,
}

impl FieldError {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        Self {
            field: field.wire_name().to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every failed rule of a request, so a person can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keeps the value when valid, records its error otherwise.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }

    pub fn for_field(&self, field: Field) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field.wire_name())
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&msgs.join("; "))
    }
}

impl std::error::Error for FieldErrors {}
