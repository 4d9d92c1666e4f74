//! Identity-client endpoints.

use super::caller::ClientManager;
use super::respond::json_body;
use super::responses::{
    ClientIdTaken, Forbidden, Invalid, Malformed, NotFound, NotJson, NotSignedIn, Stale,
};
use crate::error::ApiError;
use crate::service::clients as service;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use vitesse_domain::wire::{
    AuditEventList, CreateClientRequest, IdentityClientList, IdentityClientWithSecret,
    RotateSecretRequest, UpdateClientRequest,
};
use vitesse_domain::{
    ClientListQuery, ClientPatch, EventListQuery, IdentityClient, NewClient, SecretRotation,
};

/// A client in a response: its version as the ETag, never cached.
fn client_response(res: actix_web::HttpResponseBuilder, c: &IdentityClient) -> HttpResponse {
    wire_response(res, c.version, c.to_wire(crate::service::now()))
}

/// A client as the wire shows it, with its version as the ETag, never cached.
fn wire_response(
    mut res: actix_web::HttpResponseBuilder,
    version: i32,
    wire: vitesse_domain::wire::IdentityClient,
) -> HttpResponse {
    res.insert_header((header::ETAG, format!("\"{version}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(wire)
}

/// The response that made a secret: the client, and the secret when the server generated it —
/// the one response that ever carries one.
fn with_secret_response(
    mut res: actix_web::HttpResponseBuilder,
    made: service::WithSecret,
) -> HttpResponse {
    use secrecy::ExposeSecret;
    res.insert_header((header::ETAG, format!("\"{}\"", made.client.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(IdentityClientWithSecret {
            client: made.client.to_wire(crate::service::now()),
            client_secret: made.generated.map(|s| s.expose_secret().to_owned()),
        })
}

/// The version an `If-Match` names; `*` or no header means "whatever is current".
fn if_match(req: &HttpRequest) -> Option<i32> {
    let v = req.headers().get(header::IF_MATCH)?;
    let v = v.to_str().unwrap_or("").trim();
    if v.is_empty() || v == "*" {
        return None;
    }
    let tag = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    // A tag we never issued can never match.
    Some(tag.parse().unwrap_or(-1))
}

/// List the account's identity clients: one page, filtered, searched and sorted.
#[utoipa::path(
    get, path = "/api/v1/identity-clients", tag = "Identity clients", operation_id = "listIdentityClients",
    params(ClientListQuery),
    responses(
        (status = 200, description = "One page of clients", body = IdentityClientList),
        Malformed, NotSignedIn, Forbidden, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn list(
    ClientManager(p): ClientManager,
    state: web::Data<AppState>,
    query: web::Query<ClientListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = service::list(&state, &p, &query).await?;
    let at = crate::service::now();
    let ids = page.items.iter().map(|c| c.id.clone()).collect();
    let activity = crate::service::usage::activity(&state, ids).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(IdentityClientList {
            items: page.items.iter().map(|c| c.to_wire(at)).collect(),
            activity,
            next_cursor: page.next_cursor,
        }))
}

/// Create an identity client. It is enabled immediately; the secret is never shown again.
#[utoipa::path(
    post, path = "/api/v1/identity-clients", tag = "Identity clients", operation_id = "createIdentityClient",
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "Created; with client_secret when the server generated it (shown this once)", body = IdentityClientWithSecret,
            headers(("Location" = String, description = "The new client's URL"), ("ETag" = String, description = "Version for If-Match"))),
        Malformed, NotSignedIn, Forbidden, ClientIdTaken, NotJson, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn create(
    ClientManager(p): ClientManager,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let new = NewClient::from_json(&json_body(&req, &body)?, crate::service::now())
        .map_err(ApiError::Validation)?;
    let made = service::create(&state, &p, new).await?;
    let mut created = HttpResponse::Created();
    created.insert_header((
        header::LOCATION,
        format!("/api/v1/identity-clients/{}", made.client.id),
    ));
    Ok(with_secret_response(created, made))
}

/// View one identity client.
#[utoipa::path(
    get, path = "/api/v1/identity-clients/{id}", tag = "Identity clients", operation_id = "getIdentityClient",
    params(("id" = String, Path, description = "The client's server-assigned id (not its client ID)")),
    responses(
        (status = 200, description = "The client", body = vitesse_domain::wire::IdentityClient,
            headers(("ETag" = String, description = "Version for If-Match"))),
        NotSignedIn, Forbidden, NotFound,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn get(
    ClientManager(p): ClientManager,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let client = service::get(&state, &p, id.into_inner()).await?;
    let mut wire = client.to_wire(crate::service::now());
    if let Some((keys, fetch)) = service::published_keys(&state, &client).await? {
        wire.keys = keys;
        wire.jwks_fetch = Some(fetch);
    }
    Ok(wire_response(HttpResponse::Ok(), client.version, wire))
}

/// Edit a client (JSON merge patch): the members present change. `enabled` enables or
/// disables it; `client_secret` replaces the secret. Changes apply at the next token request.
#[utoipa::path(
    patch, path = "/api/v1/identity-clients/{id}", tag = "Identity clients", operation_id = "updateIdentityClient",
    params(
        ("id" = String, Path, description = "The client's server-assigned id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; a stale one is refused with 412"),
    ),
    request_body(content = UpdateClientRequest, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The edited client", body = vitesse_domain::wire::IdentityClient,
            headers(("ETag" = String, description = "The new version"))),
        Malformed, NotSignedIn, Forbidden, NotFound, ClientIdTaken, Stale, NotJson, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn update(
    ClientManager(p): ClientManager,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let patch = ClientPatch::from_json(&json_body(&req, &body)?, crate::service::now())
        .map_err(ApiError::Validation)?;
    let client = service::update(&state, &p, id.into_inner(), patch, if_match(&req)).await?;
    Ok(client_response(HttpResponse::Ok(), &client))
}

/// Delete a client. It can no longer get tokens, and its tokens are inactive at introspection
/// at once; resource servers that verify offline accept them until they expire (at most 60
/// minutes), so disable first if that matters.
#[utoipa::path(
    delete, path = "/api/v1/identity-clients/{id}", tag = "Identity clients", operation_id = "deleteIdentityClient",
    params(
        ("id" = String, Path, description = "The client's server-assigned id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; a stale one is refused with 412"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        NotSignedIn, Forbidden, NotFound, Stale,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn delete(
    ClientManager(p): ClientManager,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &p, id.into_inner(), if_match(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The client's audit trail, newest first. Never contains secret material.
#[utoipa::path(
    get, path = "/api/v1/identity-clients/{id}/events", tag = "Identity clients", operation_id = "listIdentityClientEvents",
    params(("id" = String, Path, description = "The client's server-assigned id"), EventListQuery),
    responses(
        (status = 200, description = "One page of events, newest first", body = AuditEventList),
        Malformed, NotSignedIn, Forbidden, NotFound, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn events(
    ClientManager(p): ClientManager,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<EventListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = service::events(&state, &p, id.into_inner(), &query).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(AuditEventList {
            items: page.items,
            next_cursor: page.next_cursor,
        }))
}

/// Set a new secret, optionally keeping the previous one valid for a grace period (at most
/// 7 days; at most one previous secret). Replaces any earlier previous secret.
#[utoipa::path(
    post, path = "/api/v1/identity-clients/{id}/secret", tag = "Identity clients", operation_id = "rotateIdentityClientSecret",
    params(
        ("id" = String, Path, description = "The client's server-assigned id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; a stale one is refused with 412"),
    ),
    request_body = RotateSecretRequest,
    responses(
        (status = 200, description = "The client, with previous_secret_expires_at when a grace period applies, and client_secret when the server generated it (shown this once)", body = IdentityClientWithSecret,
            headers(("ETag" = String, description = "The new version"))),
        Malformed, NotSignedIn, Forbidden, NotFound, Stale, NotJson, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn rotate_secret(
    ClientManager(p): ClientManager,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let rotation = SecretRotation::from_json(&json_body(&req, &body)?, crate::service::now())
        .map_err(ApiError::Validation)?;
    let made =
        service::rotate_secret(&state, &p, id.into_inner(), rotation, if_match(&req)).await?;
    Ok(with_secret_response(HttpResponse::Ok(), made))
}

/// End every token the client holds, at once and for good: introspection answers inactive and
/// the API refuses them as bearer tokens, on every instance. (Resource servers that verify
/// offline accept them until they expire; see docs/requesting-tokens.md.)
#[utoipa::path(
    post, path = "/api/v1/identity-clients/{id}/revoke-tokens", tag = "Identity clients", operation_id = "revokeIdentityClientTokens",
    params(
        ("id" = String, Path, description = "The client's server-assigned id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; a stale one is refused with 412"),
    ),
    responses(
        (status = 200, description = "The client; its earlier tokens no longer work", body = vitesse_domain::wire::IdentityClient,
            headers(("ETag" = String, description = "The new version"))),
        NotSignedIn, Forbidden, NotFound, Stale,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn revoke_tokens(
    ClientManager(p): ClientManager,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let client = service::revoke_tokens(&state, &p, id.into_inner(), if_match(&req)).await?;
    Ok(client_response(HttpResponse::Ok(), &client))
}

/// End the previous secret now, before its grace period runs out: once its last use shows
/// nothing still presents it. Without a previous secret this changes nothing.
#[utoipa::path(
    delete, path = "/api/v1/identity-clients/{id}/previous-secret", tag = "Identity clients", operation_id = "endIdentityClientPreviousSecret",
    params(
        ("id" = String, Path, description = "The client's server-assigned id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; a stale one is refused with 412"),
    ),
    responses(
        (status = 200, description = "The client; only its current secret works", body = vitesse_domain::wire::IdentityClient,
            headers(("ETag" = String, description = "The new version"))),
        NotSignedIn, Forbidden, NotFound, Stale,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn end_previous_secret(
    ClientManager(p): ClientManager,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let client = service::end_previous_secret(&state, &p, id.into_inner(), if_match(&req)).await?;
    Ok(client_response(HttpResponse::Ok(), &client))
}
