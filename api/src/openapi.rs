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
        crate::auth::session::sign_in,
        crate::auth::session::current,
        crate::auth::session::sign_out,
        crate::api_roles::list,
        crate::clients::list,
        crate::clients::create,
        crate::clients::get,
        crate::clients::update,
        crate::clients::delete,
        crate::clients::events,
        crate::clients::rotate_secret,
        crate::oauth::token::token,
        crate::oauth::introspect::introspect,
        crate::oauth::introspect::revoke,
        crate::oauth::metadata::jwks,
        crate::oauth::metadata::authorization_server,
    ),
    components(schemas(
        wire::CreateClientRequest, wire::UpdateClientRequest, wire::IdentityClient, wire::IdentityClientList,
        wire::AuditEvent, wire::AuditActor, wire::AuditEventList, wire::RotateSecretRequest,
        wire::ApiRole, wire::ApiRoleList, wire::SignInRequest, wire::Session, wire::Problem,
        vitesse_domain::FieldError,
        crate::oauth::token::TokenRequest, crate::oauth::introspect::TokenParameter,
    )),
    servers((url = "/", description = "This server")),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Session", description = "Sign in and out of the admin UI"),
        (name = "Identity clients", description = "Create, view and manage identity clients"),
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
                crate::auth::SESSION_COOKIE,
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
