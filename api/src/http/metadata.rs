//! RFC 8414 authorization-server metadata and the JWKS.

use crate::service::roles;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use vitesse_domain::AssertionAlg;

/// A public signing key (RFC 7517 §4): EC P-256 (`crv`, `x`, `y`) or RSA (`n`, `e`).
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // documentation: the set is served as stored
pub struct Jwk {
    /// `EC` or `RSA`.
    kty: String,
    /// The key id tokens name in their header.
    kid: String,
    /// `ES256` or `RS256`.
    alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    use_: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// The JWKS that resource servers verify tokens with.
#[utoipa::path(
    get, path = "/oauth2/jwks", tag = "OAuth 2.0", operation_id = "getJwks",
    responses((status = 200, description = "JSON Web Key Set (RFC 7517)", content_type = "application/jwk-set+json", body = JwkSet)),
    security(())
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let body = state.keys().jwks_json.clone();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/jwk-set+json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body.to_string())
}

/// Authorization-server metadata (RFC 8414 §2).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<&'static str>,
    /// Empty: there is no authorization endpoint.
    pub response_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// For `private_key_jwt` assertions.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// The roles a client can hold.
    pub scopes_supported: Vec<String>,
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub service_documentation: String,
}

/// Authorization-server metadata (RFC 8414).
#[utoipa::path(
    get, path = "/.well-known/oauth-authorization-server", tag = "OAuth 2.0", operation_id = "getAuthorizationServerMetadata",
    responses((status = 200, description = "RFC 8414 metadata", body = AuthorizationServerMetadata)),
    security(())
)]
pub async fn authorization_server(state: web::Data<AppState>) -> HttpResponse {
    let issuer = state.config.issuer.trim_end_matches('/').to_owned();
    const METHODS: [&str; 3] = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    // `Ed25519` is the fully-specified name of EdDSA over the keys accepted (RFC 9864).
    let algs: Vec<&'static str> = AssertionAlg::ALL
        .iter()
        .map(|a| a.as_str())
        .chain(["Ed25519"])
        .collect();
    let metadata = AuthorizationServerMetadata {
        token_endpoint: format!("{issuer}/oauth2/token"),
        jwks_uri: format!("{issuer}/oauth2/jwks"),
        grant_types_supported: vec!["client_credentials"],
        response_types_supported: vec![],
        token_endpoint_auth_methods_supported: METHODS.to_vec(),
        token_endpoint_auth_signing_alg_values_supported: algs.clone(),
        introspection_endpoint_auth_signing_alg_values_supported: algs.clone(),
        revocation_endpoint_auth_signing_alg_values_supported: algs,
        scopes_supported: roles::scopes_supported(&state).await,
        introspection_endpoint: format!("{issuer}/oauth2/introspect"),
        introspection_endpoint_auth_methods_supported: METHODS.to_vec(),
        revocation_endpoint: format!("{issuer}/oauth2/revoke"),
        revocation_endpoint_auth_methods_supported: METHODS.to_vec(),
        service_documentation: format!("{issuer}/api/docs"),
        issuer,
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(metadata)
}
