//! Token-signing keys, shared by every instance through the database.

use super::schema::signing_keys;
use super::{AnyConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_pem: String,
    pub public_jwk: String,
    pub created_at: NaiveDateTime,
    pub active_from: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

/// Keys still published: not retired, or retired less than `keep_after_retire` ago.
pub fn published(
    conn: &mut AnyConnection,
    retired_after: NaiveDateTime,
) -> Result<Vec<KeyRow>, StoreError> {
    Ok(signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::retired_at.gt(retired_after)),
        )
        .order((signing_keys::active_from.asc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut AnyConnection, row: &KeyRow) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Publishes `next` now; it signs from its `active_from`, when every key in use retires.
/// Keys retired long enough ago that no token they signed can still be valid are dropped.
pub fn rotate(
    conn: &mut AnyConnection,
    next: &KeyRow,
    drop_retired_before: NaiveDateTime,
) -> Result<(), StoreError> {
    super::write_tx(conn, |conn| {
        diesel::delete(
            signing_keys::table.filter(signing_keys::retired_at.lt(drop_retired_before)),
        )
        .execute(conn)?;
        diesel::update(
            signing_keys::table
                .filter(signing_keys::retired_at.is_null())
                .filter(signing_keys::active_from.le(next.active_from)),
        )
        .set(signing_keys::retired_at.eq(next.active_from))
        .execute(conn)?;
        insert(conn, next)
    })
}

pub fn all(conn: &mut AnyConnection) -> Result<Vec<KeyRow>, StoreError> {
    Ok(signing_keys::table
        .order((signing_keys::active_from.asc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(conn)?)
}
