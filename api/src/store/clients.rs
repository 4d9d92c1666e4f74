//! Identity clients: one row each, their roles both normalised (for integrity) and inline (so a
//! token request reads one row).

use super::schema::{api_roles, identity_client_roles, identity_clients};
use super::{AnyConnection, StoreError, is_unique_violation, new_id, now, write_tx};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use vitesse_domain::wire::IdentityClient;
use vitesse_domain::{Field, FieldError, FieldErrors, NewClient, RoleSet};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = identity_clients)]
pub struct ClientRow {
    pub id: String,
    pub account_id: String,
    pub client_id: String,
    pub client_id_key: String,
    pub secret_hash: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub token_duration_minutes: i32,
    pub enabled: bool,
    pub roles: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ClientRow {
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.split(' ').filter(|r| !r.is_empty())
    }

    pub fn to_wire(&self) -> IdentityClient {
        IdentityClient {
            id: self.id.clone(),
            client_id: self.client_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            token_duration_minutes: i64::from(self.token_duration_minutes),
            roles: self.role_names().map(str::to_owned).collect(),
            enabled: self.enabled,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        }
    }
}

fn client_id_taken() -> StoreError {
    // Says nothing about whose client holds it: IDs are unique across all accounts.
    StoreError::Conflict(FieldError::new(
        Field::ClientId,
        "Client ID is already in use; choose another",
    ))
}

/// Every role must be in the catalogue and not retired.
fn check_roles(conn: &mut AnyConnection, roles: &RoleSet) -> Result<(), StoreError> {
    let names = roles.names();
    let known: Vec<String> = api_roles::table
        .filter(api_roles::name.eq_any(&names))
        .filter(api_roles::retired.eq(false))
        .select(api_roles::name)
        .load(conn)?;
    let unknown: Vec<String> = names.into_iter().filter(|n| !known.contains(n)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(StoreError::Invalid(FieldErrors(vec![FieldError::new(
        Field::Roles,
        format!(
            "Roles must come from the API-role catalogue; unknown: {}",
            unknown.join(", ")
        ),
    )])))
}

fn write_role_links(
    conn: &mut AnyConnection,
    client_pk: &str,
    roles: &RoleSet,
) -> Result<(), StoreError> {
    diesel::delete(
        identity_client_roles::table.filter(identity_client_roles::client_pk.eq(client_pk)),
    )
    .execute(conn)?;
    for role in roles.iter() {
        diesel::insert_into(identity_client_roles::table)
            .values((
                identity_client_roles::client_pk.eq(client_pk),
                identity_client_roles::role_name.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn create(
    conn: &mut AnyConnection,
    account_id: &str,
    new: &NewClient,
    secret_hash: &str,
) -> Result<ClientRow, StoreError> {
    write_tx(conn, |conn| {
        check_roles(conn, &new.roles)?;
        let at = now();
        let row = ClientRow {
            id: new_id(),
            account_id: account_id.to_owned(),
            client_id: new.client_id.as_str().to_owned(),
            client_id_key: new.client_id.uniqueness_key(),
            secret_hash: secret_hash.to_owned(),
            name: new.name.as_ref().map(|n| n.as_str().to_owned()),
            description: new.description.as_ref().map(|d| d.as_str().to_owned()),
            token_duration_minutes: new.token_duration.minutes() as i32,
            enabled: true,
            roles: new.roles.names().join(" "),
            version: 1,
            created_at: at,
            updated_at: at,
        };
        diesel::insert_into(identity_clients::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    client_id_taken()
                } else {
                    e.into()
                }
            })?;
        write_role_links(conn, &row.id, &new.roles)?;
        Ok(row)
    })
}

pub fn list(conn: &mut AnyConnection, account_id: &str) -> Result<Vec<ClientRow>, StoreError> {
    Ok(identity_clients::table
        .filter(identity_clients::account_id.eq(account_id))
        .order((
            identity_clients::client_id_key.asc(),
            identity_clients::id.asc(),
        ))
        .select(ClientRow::as_select())
        .load(conn)?)
}

/// A client of this account; another account's client is "not found", never "forbidden".
pub fn get(conn: &mut AnyConnection, account_id: &str, id: &str) -> Result<ClientRow, StoreError> {
    Ok(identity_clients::table
        .filter(identity_clients::id.eq(id))
        .filter(identity_clients::account_id.eq(account_id))
        .select(ClientRow::as_select())
        .first(conn)?)
}

/// The token path's one read: the client's current row, by its exact client ID.
pub fn find_by_client_id(
    conn: &mut AnyConnection,
    client_id: &str,
) -> Result<Option<ClientRow>, StoreError> {
    Ok(identity_clients::table
        .filter(identity_clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}
