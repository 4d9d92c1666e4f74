//! Identity-client endpoints: handlers only; the rules live in the domain crate and the store.

use crate::auth::{Principal, principal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::audit;
use crate::store::clients::{self as client_store, ClientRow, ListQuery, SecretChange, SortKey};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use vitesse_domain::wire::{
    AuditEventList, CreateClientRequest, IdentityClient, IdentityClientList, Problem,
    RotateSecretRequest, UpdateClientRequest,
};
use vitesse_domain::{ClientPatch, FieldError, FieldErrors, NewClient, SecretRotation};

/// Reads a JSON body: malformed JSON is a 400, a well-formed body with bad fields a 422.
fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("The body is not valid JSON: {e}")))
}

fn etag(row: &ClientRow) -> String {
    format!("\"{}\"", row.version)
}

/// A client in a response: its version as the ETag, never cached.
fn client_response(mut res: actix_web::HttpResponseBuilder, row: &ClientRow) -> HttpResponse {
    res.insert_header((header::ETAG, etag(row)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(row.to_wire())
}

/// The version an `If-Match` names; `*` or no header means "whatever is current".
fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v.to_str().unwrap_or("").trim();
    if v.is_empty() || v == "*" {
        return Ok(None);
    }
    let tag = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    // A tag we never issued can never match.
    Ok(Some(tag.parse().unwrap_or(-1)))
}

fn query_error(field: &str, message: &str) -> ApiError {
    ApiError::Validation(FieldErrors(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }]))
}

async fn manager(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    let p = principal(req, state).await?;
    p.require_identity_client_manager()?;
    Ok(p)
}

fn encode_cursor(value: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!([value, id]).to_string())
}

fn decode_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    let bad = || {
        query_error(
            "cursor",
            "The cursor is not valid; start again from the first page",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    serde_json::from_slice::<(String, String)>(&bytes).map_err(|_| bad())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `enabled` or `disabled`.
    #[param(pattern = "^(enabled|disabled)$")]
    status: Option<String>,
    /// Case-insensitive text found in the client ID or the name.
    #[param(max_length = 100)]
    search: Option<String>,
    /// `client_id`, `created_at` or `updated_at`; prefix `-` for descending. Default `client_id`.
    #[param(pattern = "^-?(client_id|created_at|updated_at)$")]
    sort: Option<String>,
}

impl ListParams {
    fn to_query(&self) -> Result<ListQuery, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(query_error("limit", "limit must be 1–200"));
        }
        let enabled = match self.status.as_deref() {
            None | Some("") => None,
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            Some(_) => return Err(query_error("status", "status must be enabled or disabled")),
        };
        let sort_text = self.sort.as_deref().unwrap_or("client_id");
        let (descending, key) = match sort_text.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, sort_text),
        };
        let sort = match key {
            "client_id" => SortKey::ClientId,
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => {
                return Err(query_error(
                    "sort",
                    "sort must be client_id, created_at or updated_at, optionally prefixed with -",
                ));
            }
        };
        let search = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > 100) {
            return Err(query_error(
                "search",
                "search must be at most 100 characters",
            ));
        }
        Ok(ListQuery {
            enabled,
            search: search.map(str::to_owned),
            sort,
            descending,
            after: self.cursor.as_deref().map(decode_cursor).transpose()?,
            limit,
        })
    }
}

/// List the account's identity clients: filter, search, sort and page.
#[utoipa::path(
    get, path = "/api/v1/identity-clients", tag = "Identity clients", operation_id = "listIdentityClients",
    params(ListParams),
    responses(
        (status = 200, description = "One page of the account's clients", body = IdentityClientList),
        (status = 400, description = "The query string cannot be read (e.g. a parameter given twice)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong role, or identity client management is not enabled for the account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let mut q = params.to_query()?;
    let limit = q.limit;
    q.limit += 1; // one more tells whether there is a next page
    let sort = q.sort;
    let mut rows = state
        .db(move |c| client_store::list(c, &p.account_id, &q))
        .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| encode_cursor(&client_store::sort_value(r, sort), &r.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(IdentityClientList {
            items: rows.iter().map(ClientRow::to_wire).collect(),
            next_cursor,
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
        (status = 403, description = "Wrong role, identity client management not enabled, or a role the calling client does not hold", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client ID is already in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; every failing field is listed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let new = NewClient::from_json(&json_body(&body)?).map_err(ApiError::Validation)?;
    p.require_may_grant(&new.roles)?;
    let secret_hash = state
        .hasher
        .hash(new.client_secret.expose())
        .await
        .map_err(|_| ApiError::Internal)?;
    let actor = p.actor();
    let row = state
        .db(move |c| client_store::create(c, &actor, &p.account_id, &new, &secret_hash))
        .await?;
    let mut created = HttpResponse::Created();
    created.insert_header((
        header::LOCATION,
        format!("/api/v1/identity-clients/{}", row.id),
    ));
    Ok(client_response(created, &row))
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
    security(("session" = []), ("bearer" = []))
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let id = id.into_inner();
    let row = state
        .db(move |c| client_store::get(c, &p.account_id, &id))
        .await?;
    Ok(client_response(HttpResponse::Ok(), &row))
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
        (status = 200, description = "The edited client", body = IdentityClient,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client ID is already in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else since you read it; nothing was changed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; nothing was changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let expected = if_match(&req)?;
    let patch = ClientPatch::from_json(&json_body(&body)?).map_err(ApiError::Validation)?;
    if let Some(roles) = &patch.roles {
        p.require_may_grant(roles)?;
    }
    let secret_hash = match &patch.client_secret {
        Some(s) => Some(
            state
                .hasher
                .hash(s.expose())
                .await
                .map_err(|_| ApiError::Internal)?,
        ),
        None => None,
    };
    let actor = p.actor();
    let id = id.into_inner();
    let row = state
        .db(move |c| {
            // A secret replaced by an edit stops working at once; see rotate_secret for overlap.
            let secret = secret_hash.as_deref().map(|hash| SecretChange {
                hash,
                previous_valid_until: None,
            });
            client_store::update(c, &actor, &p.account_id, &id, &patch, secret, expected)
        })
        .await?;
    Ok(client_response(HttpResponse::Ok(), &row))
}

/// Delete a client. It can no longer get tokens; tokens already issued stay valid until they
/// expire (at most 60 minutes), so disable first if that matters.
#[utoipa::path(
    delete, path = "/api/v1/identity-clients/{id}", tag = "Identity clients", operation_id = "deleteIdentityClient",
    params(
        ("id" = String, Path, description = "The client's server-assigned id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you read; a stale one is refused with 412"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this account", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else since you read it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let expected = if_match(&req)?;
    let actor = p.actor();
    let id = id.into_inner();
    state
        .db(move |c| client_store::delete(c, &actor, &p.account_id, &id, expected))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The client's audit trail, newest first. Never contains secret material.
#[utoipa::path(
    get, path = "/api/v1/identity-clients/{id}/events", tag = "Identity clients", operation_id = "listIdentityClientEvents",
    params(("id" = String, Path, description = "The client's server-assigned id"), EventParams),
    responses(
        (status = 200, description = "One page of events, newest first", body = AuditEventList),
        (status = 400, description = "The query string cannot be read (e.g. a parameter given twice)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn events(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(query_error("limit", "limit must be 1–200"));
    }
    let before = match params.cursor.as_deref().map(decode_cursor).transpose()? {
        Some((at, id)) => Some((crate::store::parse_cursor_time(&at)?, id)),
        None => None,
    };
    let id = id.into_inner();
    let mut rows = state
        .db(move |c| {
            // The trail is read through its client: another account's, or a deleted one, is 404.
            client_store::get(c, &p.account_id, &id)?;
            audit::list(c, &p.account_id, &id, before, limit + 1)
        })
        .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| encode_cursor(&crate::store::cursor_time(r.occurred_at), &r.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(AuditEventList {
            items: rows.iter().map(audit::EventRow::to_wire).collect(),
            next_cursor,
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
        (status = 200, description = "The client, with previous_secret_expires_at when a grace period applies", body = IdentityClient,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client in this account", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule; nothing was changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = manager(&req, &state).await?;
    let expected = if_match(&req)?;
    let rotation = SecretRotation::from_json(&json_body(&body)?).map_err(ApiError::Validation)?;
    let grace = rotation.previous_secret_grace_minutes;
    let hash = state
        .hasher
        .hash(rotation.client_secret.expose())
        .await
        .map_err(|_| ApiError::Internal)?;
    let actor = p.actor();
    let id = id.into_inner();
    let row = state
        .db(move |c| {
            let until = (grace > 0).then(|| crate::store::now() + chrono::Duration::minutes(grace));
            let change = SecretChange {
                hash: &hash,
                previous_valid_until: until,
            };
            client_store::update(
                c,
                &actor,
                &p.account_id,
                &id,
                &ClientPatch::default(),
                Some(change),
                expected,
            )
        })
        .await?;
    Ok(client_response(HttpResponse::Ok(), &row))
}
