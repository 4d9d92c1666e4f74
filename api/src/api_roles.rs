//! The API-role catalogue, as the New Client form's role picker reads it.

use crate::auth::principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::roles;
use actix_web::{HttpRequest, HttpResponse, web};
use vitesse_domain::wire::{ApiRoleList, Problem};

/// List the API roles that can be assigned to a client.
#[utoipa::path(
    get, path = "/api/v1/api-roles", tag = "API roles", operation_id = "listApiRoles",
    responses(
        (status = 200, description = "Assignable roles, by name", body = ApiRoleList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    principal(&req, &state).await?;
    let items = state.db(roles::list_active).await?;
    Ok(HttpResponse::Ok().json(ApiRoleList { items }))
}
