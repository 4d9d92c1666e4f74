//! Usage endpoints: one client's buckets, and the account's busiest clients.

use super::caller::ClientManager;
use super::responses::{Forbidden, Invalid, Malformed, NotFound, NotSignedIn};
use crate::error::ApiError;
use crate::service::usage as service;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use vitesse_domain::usage::{AccountUsage, OverviewParams, UsageParams, UsageReport};

/// A client's token requests per hour or per day: tokens issued, and requests refused by
/// reason (`wrong_secret`, `disabled`, `scope`, `quota`, `address`; a reason with none is left
/// out). Kept 90 days; each instance writes what it counted every few seconds.
#[utoipa::path(
    get, path = "/api/v1/identity-clients/{id}/usage", tag = "Usage", operation_id = "getIdentityClientUsage",
    params(("id" = String, Path, description = "The client's server-assigned id"), UsageParams),
    responses(
        (status = 200, description = "Every bucket of the span, oldest first (empty ones too)", body = UsageReport),
        Malformed, NotSignedIn, Forbidden, NotFound, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn client(
    ClientManager(p): ClientManager,
    state: web::Data<AppState>,
    id: web::Path<String>,
    params: web::Query<UsageParams>,
) -> Result<HttpResponse, ApiError> {
    let q = params
        .parse(crate::service::now())
        .map_err(ApiError::Validation)?;
    let report = service::client_report(&state, &p, id.into_inner(), q).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(report))
}

/// The account's busiest clients over a span (the last 24 hours by default): most token
/// requests, issued and refused, first.
#[utoipa::path(
    get, path = "/api/v1/usage", tag = "Usage", operation_id = "getAccountUsage",
    params(OverviewParams),
    responses(
        (status = 200, description = "The busiest clients and the account's totals", body = AccountUsage),
        Malformed, NotSignedIn, Forbidden, Invalid,
    ),
    security(("session" = []), ("bearer" = []))
)]
pub async fn account(
    ClientManager(p): ClientManager,
    state: web::Data<AppState>,
    params: web::Query<OverviewParams>,
) -> Result<HttpResponse, ApiError> {
    let (q, limit) = params
        .parse(crate::service::now())
        .map_err(ApiError::Validation)?;
    let overview = service::account_overview(&state, &p, q, limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(overview))
}
