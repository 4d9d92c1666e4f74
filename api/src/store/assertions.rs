//! Used client assertions (a `jti` works once, on any instance, until its `exp`) and the last
//! fetch of each client's `jwks_uri`.

use super::schema::{jwks_fetches, used_assertions};
use super::{AnyConnection, StoreError, is_unique_violation};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Records `jti` of the client with ID `client_id` as used until `expires_at`; `false` when it
/// was used before (by any instance: the primary key decides).
pub fn first_use(
    conn: &mut AnyConnection,
    client_id: &str,
    jti: &str,
    expires_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let key = format!("{client_id} {jti}");
    match diesel::insert_into(used_assertions::table)
        .values((
            used_assertions::jti_key.eq(&key),
            used_assertions::expires_at.eq(expires_at),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Forgets assertions that have expired (they are refused for that alone).
pub fn forget_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::delete(used_assertions::table.filter(used_assertions::expires_at.lt(now)))
        .execute(conn)?;
    Ok(())
}

/// The last fetch of a client's `jwks_uri`: `(url, keys as JSON, fetched at, error, error at)`.
pub type FetchRow = (
    String,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
);

pub fn last_fetch(
    conn: &mut AnyConnection,
    client_pk: &str,
) -> Result<Option<FetchRow>, StoreError> {
    Ok(jwks_fetches::table
        .filter(jwks_fetches::client_pk.eq(client_pk))
        .select((
            jwks_fetches::url,
            jwks_fetches::jwks,
            jwks_fetches::fetched_at,
            jwks_fetches::error,
            jwks_fetches::error_at,
        ))
        .load::<FetchRow>(conn)?
        .into_iter()
        .next())
}

/// Records a fetch: its keys (`Ok`) or why it failed (`Err`, keeping the last good keys).
pub fn record_fetch(
    conn: &mut AnyConnection,
    client_pk: &str,
    url: &str,
    outcome: Result<&str, &str>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    super::write_tx(conn, |conn| {
        let before = last_fetch(conn, client_pk)?.filter(|f| f.0 == url);
        diesel::delete(jwks_fetches::table.filter(jwks_fetches::client_pk.eq(client_pk)))
            .execute(conn)?;
        let (jwks, fetched_at, error, error_at) = match (outcome, before) {
            (Ok(keys), _) => (Some(keys.to_owned()), Some(at), None, None),
            (Err(e), Some(b)) => (b.1, b.2, Some(e.to_owned()), Some(at)),
            (Err(e), None) => (None, None, Some(e.to_owned()), Some(at)),
        };
        diesel::insert_into(jwks_fetches::table)
            .values((
                jwks_fetches::client_pk.eq(client_pk),
                jwks_fetches::url.eq(url),
                jwks_fetches::jwks.eq(jwks),
                jwks_fetches::fetched_at.eq(fetched_at),
                jwks_fetches::error.eq(error),
                jwks_fetches::error_at.eq(error_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}
