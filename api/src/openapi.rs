//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use vitesse_domain::wire;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vitesse Identity",
        description = "Create and manage identity clients, and request access tokens with the OAuth 2.0 client-credentials grant.",
        version = "1.0.0",
    ),
    paths(
        crate::http::session::sign_in,
        crate::http::session::current,
        crate::http::session::sign_out,
        crate::http::api_roles::list,
        crate::http::clients::list,
        crate::http::clients::create,
        crate::http::clients::get,
        crate::http::clients::update,
        crate::http::clients::delete,
        crate::http::clients::events,
        crate::http::clients::rotate_secret,
        crate::http::clients::revoke_tokens,
        crate::http::clients::end_previous_secret,
        crate::http::usage::client,
        crate::http::usage::account,
        crate::http::oauth::token,
        crate::http::oauth::introspect,
        crate::http::oauth::revoke,
        crate::http::metadata::jwks,
        crate::http::metadata::authorization_server,
    ),
    components(schemas(
        wire::CreateClientRequest, wire::UpdateClientRequest, wire::IdentityClient, wire::IdentityClientList,
        wire::IdentityClientWithSecret, wire::ClientActivity,
        vitesse_domain::usage::UsageReport, vitesse_domain::usage::UsageBucket,
        vitesse_domain::usage::UsageTotals, vitesse_domain::usage::RefusedCounts,
        vitesse_domain::usage::AccountUsage, vitesse_domain::usage::ClientUsage,
        wire::AuditEvent, wire::AuditActor, wire::AuditEventList, wire::RotateSecretRequest,
        vitesse_domain::SecretInfo, vitesse_domain::SecretSlot, vitesse_domain::SecretOrigin,
        wire::ApiRole, wire::ApiRoleList, wire::SignInRequest, wire::Session, wire::Problem,
        vitesse_domain::FieldError,
        crate::http::oauth::TokenRequest, crate::http::oauth::TokenParameter,
        crate::http::oauth::TokenResponse, crate::http::oauth::IntrospectionResponse,
        crate::http::respond::OAuthErrorBody, crate::http::metadata::JwkSet, crate::http::metadata::Jwk,
        crate::http::metadata::AuthorizationServerMetadata,
    )),
    servers((url = "/", description = "This server")),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Session", description = "Sign in and out of the admin UI"),
        (name = "Identity clients", description = "Create, view and manage identity clients"),
        (name = "Usage", description = "Token requests per client: issued, and refused by reason"),
        (name = "API roles", description = "The catalogue of roles a client can hold"),
        (name = "OAuth 2.0", description = "Token service for merchant software"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::http::caller::SESSION_COOKIE,
            ))),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from /oauth2/token whose client holds identity-clients:manage"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "client_secret_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// The document as committed under openapi/ and served at /api/openapi.json.
pub fn document() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the document serialises");
    s.push('\n');
    s
}
