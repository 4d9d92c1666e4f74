//! Identity-client endpoints: handlers only; the rules live in the domain crate and the store.

use crate::app::AppState;
use crate::auth::principal;
use crate::error::ApiError;
use crate::store::clients as client_store;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use vitesse_domain::NewClient;
use vitesse_domain::wire::{CreateClientRequest, IdentityClient, IdentityClientList, Problem};

/// Reads a JSON body: malformed JSON is a 400, a well-formed body with bad fields a 422.
fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("The body is not valid JSON: {e}")))
}

fn etag(row: &client_store::ClientRow) -> String {
    format!("\"{}\"", row.version)
}

/// List the account's identity clients.
#[utoipa::path(
    get, path = "/api/v1/identity-clients", tag = "Identity clients", operation_id = "listIdentityClients",
    responses(
        (status = 200, description = "The account's clients, by client ID", body = IdentityClientList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong role, or identity client management is not enabled for the account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = principal(&req, &state).await?;
    p.require_identity_client_manager()?;
    let rows = state
        .db(move |c| client_store::list(c, &p.account_id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(IdentityClientList {
            items: rows.iter().map(client_store::ClientRow::to_wire).collect(),
        }))
}

/// Create an identity client. It is enabled immediately; the secret is never shown again.
#[utoipa::path(
    post, path = "/api/v1/identity-clients", tag = "Identity clients", operation_id = "createIdentityClient",
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "Created", body = IdentityClient,
            headers(("Location" = String, description = "The new client's URL"), ("ETag" = String, description = "Version for If-Match"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong role, or identity client management is not enabled for the account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client ID is already in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; every failing field is listed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = principal(&req, &state).await?;
    p.require_identity_client_manager()?;
    let new = NewClient::from_json(&json_body(&body)?).map_err(ApiError::Validation)?;
    let secret_hash = state
        .hasher
        .hash(new.client_secret.expose())
        .await
        .map_err(|_| ApiError::Internal)?;
    let row = state
        .db(move |c| client_store::create(c, &p.account_id, &new, &secret_hash))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/identity-clients/{}", row.id),
        ))
        .insert_header((header::ETAG, etag(&row)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(row.to_wire()))
}

/// View one identity client.
#[utoipa::path(
    get, path = "/api/v1/identity-clients/{id}", tag = "Identity clients", operation_id = "getIdentityClient",
    params(("id" = String, Path, description = "The client's server-assigned id (not its client ID)")),
    responses(
        (status = 200, description = "The client", body = IdentityClient,
            headers(("ETag" = String, description = "Version for If-Match"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong role, or identity client management is not enabled for the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = principal(&req, &state).await?;
    p.require_identity_client_manager()?;
    let id = id.into_inner();
    let row = state
        .db(move |c| client_store::get(c, &p.account_id, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&row)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(row.to_wire()))
}
