//! A whole identity client as a request makes it: every field validated, every failure named.

use crate::error::{Field, FieldError, FieldErrors};
use crate::{ClientId, ClientName, ClientSecret, Description, RoleSet, TokenDuration};
use serde_json::{Map, Value};

/// A client ready to be stored: it can only exist valid.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    pub name: Option<ClientName>,
    pub description: Option<Description>,
    pub token_duration: TokenDuration,
    pub roles: RoleSet,
}

/// An edit: a field that is present changes, an absent one is kept (JSON merge-patch).
/// `name` and `description` may be set to `null` (or blank) to clear them.
#[derive(Debug, Clone, Default)]
pub struct ClientPatch {
    pub client_id: Option<ClientId>,
    pub client_secret: Option<ClientSecret>,
    pub name: Option<Option<ClientName>>,
    pub description: Option<Option<Description>>,
    pub token_duration: Option<TokenDuration>,
    pub roles: Option<RoleSet>,
    pub enabled: Option<bool>,
}

/// Every field of a client, each `None` where its rule failed.
type Parts = (
    Option<ClientId>,
    Option<ClientSecret>,
    Option<Option<ClientName>>,
    Option<Option<Description>>,
    Option<TokenDuration>,
    Option<RoleSet>,
);

impl NewClient {
    /// The client when every field passed, otherwise every failure.
    fn assemble(errs: FieldErrors, parts: Parts) -> Result<Self, FieldErrors> {
        match parts {
            (
                Some(client_id),
                Some(client_secret),
                Some(name),
                Some(description),
                Some(token_duration),
                Some(roles),
            ) if errs.is_empty() => Ok(NewClient {
                client_id,
                client_secret,
                name,
                description,
                token_duration,
                roles,
            }),
            _ => Err(errs),
        }
    }

    /// Reads a JSON body field by field, so a wrong type is reported against its field together
    /// with every other failure (serde alone stops at the first).
    /// The members a create request may carry.
    pub const MEMBERS: [&'static str; 6] = [
        Field::ClientId.wire_name(),
        Field::ClientSecret.wire_name(),
        Field::Name.wire_name(),
        Field::Description.wire_name(),
        Field::TokenDuration.wire_name(),
        Field::Roles.wire_name(),
    ];

    pub fn from_json(body: &Value) -> Result<Self, FieldErrors> {
        let obj = as_object(body)?;
        let mut errs = FieldErrors::default();
        refuse_unknown_members(obj, &Self::MEMBERS, &mut errs);
        let client_id = errs
            .take(required_string(obj, Field::ClientId))
            .and_then(|s| errs.take(ClientId::parse(&s)));
        let client_secret = errs
            .take(required_string(obj, Field::ClientSecret))
            .and_then(|s| errs.take(ClientSecret::parse(&s)));
        let name = errs
            .take(optional_string(obj, Field::Name))
            .and_then(|s| errs.take(ClientName::parse_optional(s.as_deref())));
        let description = errs
            .take(optional_string(obj, Field::Description))
            .and_then(|s| errs.take(Description::parse_optional(s.as_deref())));
        let token_duration = errs
            .take(required_minutes(obj))
            .and_then(|m| errs.take(TokenDuration::parse(m)));
        let roles = errs
            .take(required_roles(obj))
            .and_then(|r| errs.take(RoleSet::parse(&r)));
        NewClient::assemble(
            errs,
            (
                client_id,
                client_secret,
                name,
                description,
                token_duration,
                roles,
            ),
        )
    }
}

impl ClientPatch {
    /// Reads a JSON merge-patch body: members present change, absent ones are kept.
    /// The members an edit may carry.
    pub const MEMBERS: [&'static str; 7] = [
        Field::ClientId.wire_name(),
        Field::ClientSecret.wire_name(),
        Field::Name.wire_name(),
        Field::Description.wire_name(),
        Field::TokenDuration.wire_name(),
        Field::Roles.wire_name(),
        Field::Enabled.wire_name(),
    ];

    pub fn from_json(body: &Value) -> Result<Self, FieldErrors> {
        let obj = as_object(body)?;
        let mut errs = FieldErrors::default();
        refuse_unknown_members(obj, &Self::MEMBERS, &mut errs);
        let mut patch = ClientPatch::default();
        if obj.contains_key(Field::ClientId.wire_name()) {
            patch.client_id = errs
                .take(required_string(obj, Field::ClientId))
                .and_then(|s| errs.take(ClientId::parse(&s)));
        }
        if obj.contains_key(Field::ClientSecret.wire_name()) {
            patch.client_secret = errs
                .take(required_string(obj, Field::ClientSecret))
                .and_then(|s| errs.take(ClientSecret::parse(&s)));
        }
        if obj.contains_key(Field::Name.wire_name()) {
            patch.name = errs
                .take(optional_string(obj, Field::Name))
                .and_then(|s| errs.take(ClientName::parse_optional(s.as_deref())));
        }
        if obj.contains_key(Field::Description.wire_name()) {
            patch.description = errs
                .take(optional_string(obj, Field::Description))
                .and_then(|s| errs.take(Description::parse_optional(s.as_deref())));
        }
        if obj.contains_key(Field::TokenDuration.wire_name()) {
            patch.token_duration = errs
                .take(required_minutes(obj))
                .and_then(|m| errs.take(TokenDuration::parse(m)));
        }
        if obj.contains_key(Field::Roles.wire_name()) {
            patch.roles = errs
                .take(required_roles(obj))
                .and_then(|r| errs.take(RoleSet::parse(&r)));
        }
        if let Some(v) = obj.get(Field::Enabled.wire_name()) {
            match v {
                Value::Bool(b) => patch.enabled = Some(*b),
                _ => errs.push(FieldError::new(
                    Field::Enabled,
                    "Status (enabled) must be true or false",
                )),
            }
        }
        if errs.is_empty() {
            Ok(patch)
        } else {
            Err(errs)
        }
    }
}

/// A secret rotation: the new secret, and how long the one it replaces keeps working.
#[derive(Debug, Clone)]
pub struct SecretRotation {
    pub client_secret: ClientSecret,
    /// 0 (stops at once) to [`crate::MAX_SECRET_GRACE_MINUTES`].
    pub previous_secret_grace_minutes: i64,
}

impl SecretRotation {
    pub const GRACE_FIELD: &'static str = "previous_secret_grace_minutes";
    pub const GRACE_RULE: &'static str = "Grace period must be 0–10080 minutes (at most 7 days)";

    pub const MEMBERS: [&'static str; 2] = [Field::ClientSecret.wire_name(), Self::GRACE_FIELD];

    pub fn from_json(body: &Value) -> Result<Self, FieldErrors> {
        let obj = as_object(body)?;
        let mut errs = FieldErrors::default();
        refuse_unknown_members(obj, &Self::MEMBERS, &mut errs);
        let secret = errs
            .take(required_string(obj, Field::ClientSecret))
            .and_then(|s| errs.take(ClientSecret::parse(&s)));
        let grace = match obj.get(Self::GRACE_FIELD) {
            None | Some(Value::Null) => Some(0),
            Some(v) => match v.as_i64() {
                Some(m) if (0..=crate::MAX_SECRET_GRACE_MINUTES).contains(&m) => Some(m),
                _ => {
                    errs.push(FieldError {
                        field: Self::GRACE_FIELD.into(),
                        message: Self::GRACE_RULE.into(),
                    });
                    None
                }
            },
        };
        match (secret, grace) {
            (Some(client_secret), Some(previous_secret_grace_minutes)) if errs.is_empty() => {
                Ok(Self {
                    client_secret,
                    previous_secret_grace_minutes,
                })
            }
            _ => Err(errs),
        }
    }
}

/// The body must be a JSON object; anything else is one error without a field.
fn as_object(body: &Value) -> Result<&Map<String, Value>, FieldErrors> {
    body.as_object().ok_or_else(|| {
        FieldErrors(vec![FieldError {
            field: String::new(),
            message: "The request body must be a JSON object".into(),
        }])
    })
}

/// A member the contract does not name is an error, never silently dropped: a misspelt
/// `token_duration` must not create a client with another lifetime than its author meant.
pub fn refuse_unknown_members(obj: &Map<String, Value>, known: &[&str], errs: &mut FieldErrors) {
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        errs.push(FieldError {
            field: key.clone(),
            message: format!(
                "{key} is not a field of this request; the fields are {}",
                known.join(", ")
            ),
        });
    }
}

fn required_string(obj: &Map<String, Value>, f: Field) -> Result<String, FieldError> {
    match obj.get(f.wire_name()) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(FieldError::new(f, format!("{} is required", f.label()))),
        Some(_) => Err(FieldError::new(
            f,
            format!("{} must be a string", f.label()),
        )),
    }
}

fn optional_string(obj: &Map<String, Value>, f: Field) -> Result<Option<String>, FieldError> {
    match obj.get(f.wire_name()) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FieldError::new(
            f,
            format!("{} must be a string", f.label()),
        )),
    }
}

fn required_minutes(obj: &Map<String, Value>) -> Result<i64, FieldError> {
    let f = Field::TokenDuration;
    match obj.get(f.wire_name()) {
        None | Some(Value::Null) => Err(FieldError::new(f, "Token duration is required")),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(m) => Ok(m),
            // A float with no fraction (e.g. 15.0) is still whole minutes.
            None => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 1e6 => Ok(x as i64),
                Some(x) if x.fract() == 0.0 => Err(FieldError::new(f, TokenDuration::RANGE_RULE)),
                _ => Err(FieldError::new(f, TokenDuration::WHOLE_RULE)),
            },
        },
        Some(_) => Err(FieldError::new(f, TokenDuration::WHOLE_RULE)),
    }
}

fn required_roles(obj: &Map<String, Value>) -> Result<Vec<String>, FieldError> {
    let f = Field::Roles;
    match obj.get(f.wire_name()) {
        None | Some(Value::Null) => Err(FieldError::new(f, RoleSet::EMPTY_RULE)),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| FieldError::new(f, "Roles must be a list of role names"))
            })
            .collect(),
        Some(_) => Err(FieldError::new(f, "Roles must be a list of role names")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "client_id": "shop-backend",
            "client_secret": "s3cret-value",
            "name": "Shop backend",
            "description": "Talks to the payments API",
            "token_duration_minutes": 30,
            "roles": ["payments:read"]
        })
    }

    #[test]
    fn a_valid_body_parses() {
        let c = NewClient::from_json(&valid()).unwrap();
        assert_eq!(c.client_id.as_str(), "shop-backend");
        assert_eq!(c.token_duration.minutes(), 30);
        assert_eq!(c.name.unwrap().as_str(), "Shop backend");
    }

    #[test]
    fn every_failing_field_is_reported() {
        let body = json!({
            "client_id": "abc",
            "client_secret": "12345",
            "name": "ab",
            "description": "d".repeat(1001),
            "token_duration_minutes": 61,
            "roles": []
        });
        let errs = NewClient::from_json(&body).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "client_id",
                "client_secret",
                "name",
                "description",
                "token_duration_minutes",
                "roles"
            ]
        );
    }

    #[test]
    fn wrong_types_name_their_field_alongside_rule_failures() {
        let mut body = valid();
        body["token_duration_minutes"] = json!("thirty");
        body["roles"] = json!("payments:read");
        body["client_id"] = json!("abc");
        let errs = NewClient::from_json(&body).unwrap_err();
        assert_eq!(
            errs.for_field(Field::TokenDuration).unwrap().message,
            TokenDuration::WHOLE_RULE
        );
        assert!(errs.for_field(Field::Roles).is_some());
        assert_eq!(
            errs.for_field(Field::ClientId).unwrap().message,
            ClientId::LENGTH_RULE
        );
        assert_eq!(errs.0.len(), 3);
        // Rule failures of well-typed fields are reported next to type failures.
        body["client_secret"] = json!("short");
        assert_eq!(NewClient::from_json(&body).unwrap_err().0.len(), 4);
    }

    #[test]
    fn missing_fields_are_required() {
        let errs = NewClient::from_json(&json!({})).unwrap_err();
        assert_eq!(errs.0.len(), 4, "{errs}");
        assert_eq!(
            errs.for_field(Field::ClientId).unwrap().message,
            "Client ID is required"
        );
    }

    #[test]
    fn fractional_minutes_are_refused_whole_floats_accepted() {
        let mut body = valid();
        body["token_duration_minutes"] = json!(15.5);
        assert!(NewClient::from_json(&body).is_err());
        body["token_duration_minutes"] = json!(15.0);
        assert_eq!(
            NewClient::from_json(&body)
                .unwrap()
                .token_duration
                .minutes(),
            15
        );
        body["token_duration_minutes"] = json!(1e300);
        assert!(NewClient::from_json(&body).is_err());
    }

    #[test]
    fn secret_rotation_bounds_the_grace_period() {
        let ok = SecretRotation::from_json(&json!({"client_secret": "new-secret"})).unwrap();
        assert_eq!(ok.previous_secret_grace_minutes, 0);
        let ok = SecretRotation::from_json(
            &json!({"client_secret": "new-secret", "previous_secret_grace_minutes": 10080}),
        );
        assert_eq!(ok.unwrap().previous_secret_grace_minutes, 10080);
        let errs = SecretRotation::from_json(
            &json!({"client_secret": "x", "previous_secret_grace_minutes": 10081}),
        )
        .unwrap_err();
        assert_eq!(errs.0.len(), 2);
        assert!(SecretRotation::from_json(&json!({"previous_secret_grace_minutes": -1})).is_err());
    }

    #[test]
    fn unknown_members_are_named_and_refused() {
        let mut body = valid();
        body.as_object_mut()
            .unwrap()
            .remove("token_duration_minutes");
        body["token_duration"] = json!(45);
        let errs = NewClient::from_json(&body).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["token_duration", "token_duration_minutes"]);
        assert!(
            errs.0[0]
                .message
                .starts_with("token_duration is not a field")
        );
        let errs = ClientPatch::from_json(&json!({"enabeld": false})).unwrap_err();
        assert_eq!(errs.0[0].field, "enabeld");
        let errs = SecretRotation::from_json(&json!({"client_secret": "new-secret", "grace": 5}))
            .unwrap_err();
        assert_eq!(errs.0[0].field, "grace");
    }

    #[test]
    fn patch_changes_only_present_fields() {
        let p = ClientPatch::from_json(&json!({"enabled": false, "name": null})).unwrap();
        assert_eq!(p.enabled, Some(false));
        assert_eq!(p.name, Some(None));
        assert!(p.client_id.is_none() && p.roles.is_none() && p.client_secret.is_none());
        let errs =
            ClientPatch::from_json(&json!({"client_id": "ab", "enabled": "no"})).unwrap_err();
        assert_eq!(errs.0.len(), 2);
        assert!(ClientPatch::from_json(&json!([])).is_err());
    }
}
