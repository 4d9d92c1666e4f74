//! The platform's API-role catalogue.

use super::schema::api_roles;
use super::{AnyConnection, StoreError, now};
use diesel::prelude::*;
use vitesse_domain::RoleName;
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

/// Adds a role to the catalogue (or brings a retired one back with a new description).
pub fn create(
    conn: &mut AnyConnection,
    name: &RoleName,
    description: &str,
) -> Result<(), StoreError> {
    let existing: Option<bool> = api_roles::table
        .find(name.as_str())
        .select(api_roles::retired)
        .first(conn)
        .optional()?;
    match existing {
        Some(false) => Err(StoreError::Other(format!("role {name} already exists"))),
        Some(true) => {
            diesel::update(api_roles::table.find(name.as_str()))
                .set((
                    api_roles::retired.eq(false),
                    api_roles::description.eq(description),
                ))
                .execute(conn)?;
            Ok(())
        }
        None => {
            diesel::insert_into(api_roles::table)
                .values((
                    api_roles::name.eq(name.as_str()),
                    api_roles::description.eq(description),
                    api_roles::retired.eq(false),
                    api_roles::created_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(())
        }
    }
}

/// Every role with its state: `(name, description, retired)`.
pub fn list_all(conn: &mut AnyConnection) -> Result<Vec<(String, String, bool)>, StoreError> {
    Ok(api_roles::table
        .order(api_roles::name.asc())
        .select((api_roles::name, api_roles::description, api_roles::retired))
        .load(conn)?)
}

/// A retired role can no longer be assigned; clients that hold it keep it (and it stays in
/// their tokens) until an admin removes it, so retiring never breaks a running integration.
pub fn retire(conn: &mut AnyConnection, name: &str) -> Result<(), StoreError> {
    let n = diesel::update(api_roles::table.find(name))
        .set(api_roles::retired.eq(true))
        .execute(conn)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
