//! Identity clients: one row each, their roles both normalised (for integrity) and inline (so a
//! token request reads one row).

use super::audit::{self, Actor};
use super::schema::{api_roles, identity_client_roles, identity_clients};
use super::{AnyConnection, StoreError, is_unique_violation, new_id, now, write_tx};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value, json};
use vitesse_domain::wire::IdentityClient;
use vitesse_domain::{ClientPatch, Field, FieldError, FieldErrors, NewClient, RoleSet};

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
    pub name_key: Option<String>,
    pub last_used_at: Option<NaiveDateTime>,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
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
            last_used_at: self.last_used_at.map(|t| t.and_utc()),
            previous_secret_expires_at: self.previous_secret_at(now()).map(|t| t.and_utc()),
        }
    }

    /// Until when the previous secret still works, if it still does at `at`.
    pub fn previous_secret_at(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.previous_secret_hash.as_ref()?;
        self.previous_secret_expires_at.filter(|t| *t > at)
    }

    /// The audit view of the ordinary fields (never the secret).
    fn audited_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("client_id".into(), json!(self.client_id));
        m.insert("name".into(), json!(self.name));
        m.insert("description".into(), json!(self.description));
        m.insert(
            "token_duration_minutes".into(),
            json!(self.token_duration_minutes),
        );
        m.insert("roles".into(), json!(self.role_names().collect::<Vec<_>>()));
        m
    }
}

fn client_id_taken() -> StoreError {
    // Says nothing about whose client holds it: IDs are unique across all accounts.
    StoreError::Conflict(FieldError::new(
        Field::ClientId,
        "Client ID is already in use; choose another",
    ))
}

/// Every role to be newly assigned must be in the catalogue and not retired.
fn check_roles(conn: &mut AnyConnection, names: Vec<String>) -> Result<(), StoreError> {
    if names.is_empty() {
        return Ok(());
    }
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
    actor: &Actor,
    account_id: &str,
    new: &NewClient,
    secret_hash: &str,
) -> Result<ClientRow, StoreError> {
    write_tx(conn, |conn| {
        check_roles(conn, new.roles.names())?;
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
            name_key: new.name.as_ref().map(|n| n.as_str().to_lowercase()),
            last_used_at: None,
            previous_secret_hash: None,
            previous_secret_expires_at: None,
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
        let mut changes: Map<String, Value> = row
            .audited_fields()
            .into_iter()
            .map(|(k, v)| (k, json!({ "from": null, "to": v })))
            .collect();
        changes.insert("enabled".into(), json!({ "from": null, "to": true }));
        changes.insert("client_secret".into(), json!("set"));
        audit::record(
            conn,
            actor,
            account_id,
            &row.id,
            "created",
            Value::Object(changes),
            at,
        )?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    ClientId,
    CreatedAt,
    UpdatedAt,
}

/// One page request: filters, order and the position after which the page starts.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub enabled: Option<bool>,
    /// Matched case-insensitively against the client ID and the name.
    pub search: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    /// `(sort value, id)` of the last row of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// `%text%` for LIKE, with LIKE's own characters escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The value a row sorts by, as carried in a cursor.
pub fn sort_value(row: &ClientRow, key: SortKey) -> String {
    match key {
        SortKey::ClientId => row.client_id_key.clone(),
        SortKey::CreatedAt => super::cursor_time(row.created_at),
        SortKey::UpdatedAt => super::cursor_time(row.updated_at),
    }
}

pub fn list(
    conn: &mut AnyConnection,
    account_id: &str,
    q: &ListQuery,
) -> Result<Vec<ClientRow>, StoreError> {
    use identity_clients::dsl as c;
    let mut query = identity_clients::table
        .filter(c::account_id.eq(account_id))
        .into_boxed();
    if let Some(enabled) = q.enabled {
        query = query.filter(c::enabled.eq(enabled));
    }
    if let Some(text) = q.search.as_deref().filter(|t| !t.is_empty()) {
        let pattern = contains_pattern(text);
        query = query.filter(
            c::client_id_key
                .like(pattern.clone())
                .escape('\\')
                .or(c::name_key.like(pattern).escape('\\').assume_not_null()),
        );
    }
    // Keyset pagination: stable under inserts, with the id as tie-breaker.
    macro_rules! page {
        ($col:expr, $value:expr) => {{
            if let Some(v) = $value {
                let id = q.after.as_ref().map(|a| a.1.clone()).unwrap_or_default();
                query = if q.descending {
                    query.filter($col.lt(v.clone()).or($col.eq(v).and(c::id.lt(id))))
                } else {
                    query.filter($col.gt(v.clone()).or($col.eq(v).and(c::id.gt(id))))
                };
            }
            query = if q.descending {
                query.order(($col.desc(), c::id.desc()))
            } else {
                query.order(($col.asc(), c::id.asc()))
            };
        }};
    }
    match q.sort {
        SortKey::ClientId => page!(c::client_id_key, q.after.as_ref().map(|a| a.0.clone())),
        SortKey::CreatedAt => page!(
            c::created_at,
            q.after
                .as_ref()
                .map(|a| super::parse_cursor_time(&a.0))
                .transpose()?
        ),
        SortKey::UpdatedAt => page!(
            c::updated_at,
            q.after
                .as_ref()
                .map(|a| super::parse_cursor_time(&a.0))
                .transpose()?
        ),
    }
    Ok(query
        .limit(q.limit)
        .select(ClientRow::as_select())
        .load(conn)?)
}

/// A client of this account; another account's client is "not found", never "forbidden".
pub fn get(conn: &mut AnyConnection, account_id: &str, id: &str) -> Result<ClientRow, StoreError> {
    identity_clients::table
        .filter(identity_clients::id.eq(id))
        .filter(identity_clients::account_id.eq(account_id))
        .select(ClientRow::as_select())
        .load(conn)?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

/// The token path's one read: the client's current row, by its exact client ID. Runs on the
/// backend's own connection type, whose statement cache is keyed by the query's type (through
/// `AnyConnection` diesel rebuilds the SQL text on every call just to look the statement up).
pub fn find_by_client_id(
    conn: &mut AnyConnection,
    client_id: &str,
) -> Result<Option<ClientRow>, StoreError> {
    macro_rules! query {
        () => {
            identity_clients::table
                .filter(identity_clients::client_id.eq(client_id))
                .select(ClientRow::as_select())
        };
    }
    let rows: Vec<ClientRow> = match conn {
        AnyConnection::Sqlite(c) => query!().load(c)?,
        AnyConnection::Postgresql(c) => query!().load(c)?,
    };
    Ok(rows.into_iter().next())
}

/// Applies an edit. `expected_version` (from `If-Match`) must still be current. Audited in the
/// same transaction: field edits, enable/disable and secret changes as separate events.
/// A new secret, and how long the one it replaces keeps working (`None`: not at all).
pub struct SecretChange<'a> {
    pub hash: &'a str,
    pub previous_valid_until: Option<NaiveDateTime>,
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    account_id: &str,
    id: &str,
    patch: &ClientPatch,
    secret: Option<SecretChange<'_>>,
    expected_version: Option<i32>,
) -> Result<ClientRow, StoreError> {
    write_tx(conn, |conn| {
        let old = get(conn, account_id, id)?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(StoreError::Stale);
        }
        if let Some(roles) = &patch.roles {
            // Roles the client already holds may stay even if since retired.
            let added: Vec<String> = roles
                .names()
                .into_iter()
                .filter(|r| !old.role_names().any(|o| o == r))
                .collect();
            check_roles(conn, added)?;
        }
        let mut new = old.clone();
        if let Some(v) = &patch.client_id {
            new.client_id = v.as_str().to_owned();
            new.client_id_key = v.uniqueness_key();
        }
        if let Some(v) = &patch.name {
            new.name = v.as_ref().map(|n| n.as_str().to_owned());
            new.name_key = new.name.as_ref().map(|n| n.to_lowercase());
        }
        if let Some(v) = &patch.description {
            new.description = v.as_ref().map(|d| d.as_str().to_owned());
        }
        if let Some(v) = patch.token_duration {
            new.token_duration_minutes = v.minutes() as i32;
        }
        if let Some(v) = &patch.roles {
            new.roles = v.names().join(" ");
        }
        if let Some(v) = patch.enabled {
            new.enabled = v;
        }
        if let Some(change) = &secret {
            new.secret_hash = change.hash.to_owned();
            match change.previous_valid_until {
                Some(until) => {
                    new.previous_secret_hash = Some(old.secret_hash.clone());
                    new.previous_secret_expires_at = Some(until);
                }
                None => {
                    new.previous_secret_hash = None;
                    new.previous_secret_expires_at = None;
                }
            }
        }

        let before = old.audited_fields();
        let after = new.audited_fields();
        let edited: Map<String, Value> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), json!({ "from": before[k], "to": v })))
            .collect();
        let toggled = new.enabled != old.enabled;
        let secret_changed = secret.is_some();
        if edited.is_empty() && !toggled && !secret_changed {
            return Ok(old);
        }

        let at = now();
        new.version = old.version + 1;
        new.updated_at = at;
        let n = diesel::update(
            identity_clients::table
                .filter(identity_clients::id.eq(&old.id))
                .filter(identity_clients::version.eq(old.version)),
        )
        .set((
            identity_clients::client_id.eq(&new.client_id),
            identity_clients::client_id_key.eq(&new.client_id_key),
            identity_clients::secret_hash.eq(&new.secret_hash),
            identity_clients::previous_secret_hash.eq(&new.previous_secret_hash),
            identity_clients::previous_secret_expires_at.eq(new.previous_secret_expires_at),
            identity_clients::name.eq(&new.name),
            identity_clients::name_key.eq(&new.name_key),
            identity_clients::description.eq(&new.description),
            identity_clients::token_duration_minutes.eq(new.token_duration_minutes),
            identity_clients::enabled.eq(new.enabled),
            identity_clients::roles.eq(&new.roles),
            identity_clients::version.eq(new.version),
            identity_clients::updated_at.eq(new.updated_at),
        ))
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                client_id_taken()
            } else {
                e.into()
            }
        })?;
        if n == 0 {
            return Err(StoreError::Stale);
        }
        if let Some(roles) = &patch.roles {
            write_role_links(conn, &new.id, roles)?;
        }
        if !edited.is_empty() {
            audit::record(
                conn,
                actor,
                account_id,
                &new.id,
                "updated",
                Value::Object(edited),
                at,
            )?;
        }
        if toggled {
            let action = if new.enabled { "enabled" } else { "disabled" };
            let change = json!({ "enabled": { "from": old.enabled, "to": new.enabled } });
            audit::record(conn, actor, account_id, &new.id, action, change, at)?;
        }
        if secret_changed {
            let mut change = json!({ "client_secret": "changed" });
            if let Some(until) = new.previous_secret_at(at) {
                change["previous_secret_valid_until"] = json!(until.and_utc());
            }
            audit::record(
                conn,
                actor,
                account_id,
                &new.id,
                "secret_changed",
                change,
                at,
            )?;
        }
        Ok(new)
    })
}

/// Deletes a client (its role links go with it); the audit trail keeps the record.
pub fn delete(
    conn: &mut AnyConnection,
    actor: &Actor,
    account_id: &str,
    id: &str,
    expected_version: Option<i32>,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let old = get(conn, account_id, id)?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(StoreError::Stale);
        }
        diesel::delete(identity_clients::table.filter(identity_clients::id.eq(&old.id)))
            .execute(conn)?;
        let changes: Map<String, Value> = old
            .audited_fields()
            .into_iter()
            .map(|(k, v)| (k, json!({ "from": v, "to": null })))
            .collect();
        audit::record(
            conn,
            actor,
            account_id,
            &old.id,
            "deleted",
            Value::Object(changes),
            now(),
        )?;
        Ok(())
    })
}

/// Records a token issue, at most once a minute per client (the condition makes racing
/// instances harmless).
pub fn touch_last_used(
    conn: &mut AnyConnection,
    id: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let a_minute_ago = at - chrono::Duration::minutes(1);
    diesel::update(
        identity_clients::table
            .filter(identity_clients::id.eq(id))
            .filter(
                identity_clients::last_used_at
                    .is_null()
                    .or(identity_clients::last_used_at.lt(a_minute_ago)),
            ),
    )
    .set(identity_clients::last_used_at.eq(at))
    .execute(conn)?;
    Ok(())
}
