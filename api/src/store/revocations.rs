//! Revoked access tokens (RFC 7009), remembered until they would have expired anyway.

use super::schema::revoked_tokens;
use super::{AnyConnection, StoreError, is_unique_violation, now};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn revoke(
    conn: &mut AnyConnection,
    jti: &str,
    client_pk: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    // Expired entries go first: the table only ever holds live revocations.
    diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now())))
        .execute(conn)?;
    match diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti),
            revoked_tokens::client_pk.eq(client_pk),
            revoked_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Ok(()), // revoking twice is fine
        Err(e) => Err(e.into()),
    }
}

pub fn is_revoked(conn: &mut AnyConnection, jti: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        revoked_tokens::table.filter(revoked_tokens::jti.eq(jti)),
    ))
    .get_result(conn)?)
}
