//! The API-role catalogue, as the New Client form's role picker reads it.

use super::responses::NotSignedIn;
use crate::error::ApiError;
use crate::service::principal::Principal;
use crate::service::roles;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use vitesse_domain::wire::ApiRoleList;

/// List the API roles that can be assigned to a client.
#[utoipa::path(
    get, path = "/api/v1/api-roles", tag = "API roles", operation_id = "listApiRoles",
    responses(
        (status = 200, description = "Assignable roles, by name", body = ApiRoleList),
        NotSignedIn,
    ),
    security(("session" = []))
)]
pub async fn list(p: Principal, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = roles::assignable(&state, &p).await?;
    Ok(HttpResponse::Ok().json(ApiRoleList { items }))
}
