//! OpenAPI schemas of the wire fields, built from the value types' own constants: the document
//! cannot promise a limit the rules do not enforce, or miss one they do. (utoipa's attributes
//! take only literals, hence functions, used with `schema_with`.)

use crate::listing::{PAGE_DEFAULT, PAGE_MAX, PAGE_MIN, SEARCH_MAX, SORT_PATTERN, STATUS_PATTERN};
use crate::{ClientId, ClientName, ClientSecret, Description, MAX_SECRET_GRACE_MINUTES};
use crate::{QuotaMode, RoleName, TokenDuration, TokenQuota};
use serde_json::json;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema, schema::SchemaType};

fn string(nullable: bool) -> ObjectBuilder {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(ty)
}

fn integer() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

fn done(b: ObjectBuilder) -> RefOr<Schema> {
    RefOr::T(Schema::Object(b.build()))
}

pub fn client_id() -> RefOr<Schema> {
    done(
        string(false)
            .description(Some(
                "Unique across the Vitesse platform; letters, digits and `-._~`.",
            ))
            .examples([json!("shop-backend")])
            .min_length(Some(ClientId::MIN))
            .max_length(Some(ClientId::MAX))
            .pattern(Some(ClientId::PATTERN)),
    )
}

fn secret_builder(description: &str) -> ObjectBuilder {
    string(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .description(Some(description))
        .min_length(Some(ClientSecret::MIN))
        .max_length(Some(ClientSecret::MAX))
}

pub fn client_secret() -> RefOr<Schema> {
    done(
        secret_builder(
            "Used with the client ID to authenticate. Stored as a hash; cannot be viewed after creation. Leave it out to send generate_secret instead.",
        )
        .examples([json!("correct-horse-battery")]),
    )
}

pub fn client_secret_edit() -> RefOr<Schema> {
    done(secret_builder(
        "A new secret; it replaces the current one, which stops working at once.",
    ))
}

pub fn new_secret() -> RefOr<Schema> {
    done(secret_builder("The new secret."))
}

fn name_builder() -> ObjectBuilder {
    string(true)
        .examples([json!("Shop backend")])
        .min_length(Some(ClientName::MIN))
        .max_length(Some(ClientName::MAX))
}

pub fn name() -> RefOr<Schema> {
    done(name_builder().description(Some("Optional label for your reference.")))
}

pub fn name_edit() -> RefOr<Schema> {
    done(name_builder().description(Some("`null` or blank clears the name.")))
}

fn description_builder() -> ObjectBuilder {
    string(true)
        .examples([json!("Creates payments from the web shop")])
        .max_length(Some(Description::MAX))
}

pub fn description() -> RefOr<Schema> {
    done(description_builder().description(Some("Optional description.")))
}

pub fn description_edit() -> RefOr<Schema> {
    done(description_builder().description(Some("`null` or blank clears the description.")))
}

pub fn token_duration() -> RefOr<Schema> {
    done(
        integer()
            .description(Some("Token lifetime in minutes."))
            .examples([json!(30)])
            .minimum(Some(TokenDuration::MIN))
            .maximum(Some(TokenDuration::MAX)),
    )
}

pub fn roles() -> RefOr<Schema> {
    let item = string(false)
        .max_length(Some(RoleName::MAX))
        .pattern(Some(RoleName::PATTERN));
    let array = ArrayBuilder::new()
        .items(item)
        .description(Some(
            "API roles assigned to the client; at least one, from the catalogue.",
        ))
        .examples([json!(["payments:write"])])
        .min_items(Some(1));
    RefOr::T(Schema::Array(array.build()))
}

pub fn grace_minutes() -> RefOr<Schema> {
    done(
        integer()
            .description(Some(
                "Minutes the previous secret keeps working: 0 (default, stops at once) to 10080 (7 days).",
            ))
            .examples([json!(1440)])
            .minimum(Some(0))
            .maximum(Some(MAX_SECRET_GRACE_MINUTES))
            .default(Some(json!(0))),
    )
}

pub fn page_limit() -> RefOr<Schema> {
    done(
        integer()
            .description(Some("Page size, 1–200 (default 50)."))
            .minimum(Some(PAGE_MIN))
            .maximum(Some(PAGE_MAX))
            .default(Some(json!(PAGE_DEFAULT))),
    )
}

pub fn status_filter() -> RefOr<Schema> {
    done(
        string(false)
            .description(Some("`enabled` or `disabled`."))
            .pattern(Some(STATUS_PATTERN)),
    )
}

pub fn list_filter() -> RefOr<Schema> {
    done(
        string(false)
            .description(Some(
                "`never_used`, `not_used_30_days` or `secret_expires_30_days`.",
            ))
            .pattern(Some(crate::listing::FILTER_PATTERN)),
    )
}

pub fn search_text() -> RefOr<Schema> {
    done(
        string(false)
            .description(Some(
                "Case-insensitive text found in the client ID or the name.",
            ))
            .max_length(Some(SEARCH_MAX)),
    )
}

pub fn sort_order() -> RefOr<Schema> {
    done(
        string(false)
            .description(Some(
                "`client_id`, `created_at` or `updated_at`; prefix `-` for descending. Default `client_id`.",
            ))
            .pattern(Some(SORT_PATTERN)),
    )
}

/// A token quota: a whole number in range, or `null` for no limit.
pub fn quota_limit() -> RefOr<Schema> {
    done(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .maximum(Some(TokenQuota::MAX))
            .examples([json!(1000)]),
    )
}

pub fn quota_mode() -> RefOr<Schema> {
    done(
        string(false)
            // No `default` keyword: generators (openapi-typescript) would make the member
            // required in requests; the description says what absent means.
            .description(Some(
                "`enforce` (past a limit: 429; the default) or `report` (issued, counted as over quota).",
            ))
            .enum_values(Some([
                QuotaMode::Enforce.as_str(),
                QuotaMode::Report.as_str(),
            ])),
    )
}

pub fn auth_method() -> RefOr<Schema> {
    done(
        string(false)
            .description(Some(
                "`client_secret` (the default: a shared secret, Basic or form) or `private_key_jwt` (a signed assertion, RFC 7523; no secret).",
            ))
            .enum_values(Some([
                crate::AuthMethod::ClientSecret.as_str(),
                crate::AuthMethod::PrivateKeyJwt.as_str(),
            ])),
    )
}

/// A JWK Set: `{"keys": [JWK, …]}`, each JWK an object of its own members.
pub fn jwk_set() -> RefOr<Schema> {
    let jwk = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
        ))
        .description(Some(
            "A public JWK (RFC 7517): EC P-256, RSA or OKP Ed25519; never private members.",
        ));
    done(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
            .property(
                "keys",
                ArrayBuilder::new()
                    .items(jwk)
                    .max_items(Some(10))
                    .min_items(Some(1)),
            )
            .required("keys")
            .description(Some("A JWK Set of public signing keys (at most 10)."))
            .examples([
                json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "key-1",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}),
            ]),
    )
}
