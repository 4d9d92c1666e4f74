//! RFC 8414 authorization-server metadata and the JWKS.

use crate::state::AppState;
use crate::store::roles;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// The JWKS that resource servers verify tokens with.
#[utoipa::path(
    get, path = "/oauth2/jwks", tag = "OAuth 2.0", operation_id = "getJwks",
    responses((status = 200, description = "JSON Web Key Set (RFC 7517)", content_type = "application/jwk-set+json", body = Object)),
    security(())
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let body = state.keys().jwks_json.clone();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/jwk-set+json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body.to_string())
}

/// Authorization-server metadata (RFC 8414).
#[utoipa::path(
    get, path = "/.well-known/oauth-authorization-server", tag = "OAuth 2.0", operation_id = "getAuthorizationServerMetadata",
    responses((status = 200, description = "RFC 8414 metadata", body = Object)),
    security(())
)]
pub async fn authorization_server(state: web::Data<AppState>) -> HttpResponse {
    let issuer = state.config.issuer.trim_end_matches('/').to_owned();
    let scopes: Vec<String> = state
        .db(roles::list_active)
        .await
        .map(|r| r.into_iter().map(|r| r.name).collect())
        .unwrap_or_default();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(serde_json::json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "jwks_uri": format!("{issuer}/oauth2/jwks"),
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": scopes,
            "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "service_documentation": format!("{issuer}/api/docs"),
        }))
}
