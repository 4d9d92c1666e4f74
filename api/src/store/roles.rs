//! The platform's API-role catalogue.

use super::schema::api_roles;
use super::{AnyConnection, StoreError};
use diesel::prelude::*;
use vitesse_domain::wire::ApiRole;

/// Roles that may still be assigned, by name.
pub fn list_active(conn: &mut AnyConnection) -> Result<Vec<ApiRole>, StoreError> {
    let rows: Vec<(String, String)> = api_roles::table
        .filter(api_roles::retired.eq(false))
        .order(api_roles::name.asc())
        .select((api_roles::name, api_roles::description))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(name, description)| ApiRole { name, description })
        .collect())
}
