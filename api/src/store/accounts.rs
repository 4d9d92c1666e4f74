//! Accounts (merchants), their admin users and the users' sign-in sessions.

use super::schema::{accounts, admin_users, identity_clients, sessions};
use super::{AnyConnection, StoreError, new_id, now};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub identity_clients_enabled: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_users)]
pub struct AdminUser {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    /// A disabled user cannot sign in; their sessions were ended when they were disabled.
    pub disabled: bool,
}

pub fn create_account(
    conn: &mut AnyConnection,
    name: &str,
    identity_clients_enabled: bool,
) -> Result<Account, StoreError> {
    let account = Account {
        id: new_id(),
        name: name.to_owned(),
        identity_clients_enabled,
        created_at: now(),
    };
    diesel::insert_into(accounts::table)
        .values(&account)
        .execute(conn)?;
    Ok(account)
}

pub fn set_identity_clients_enabled(
    conn: &mut AnyConnection,
    account_id: &str,
    enabled: bool,
) -> Result<(), StoreError> {
    super::write_tx(conn, |conn| {
        let n = diesel::update(accounts::table.find(account_id))
            .set(accounts::identity_clients_enabled.eq(enabled))
            .execute(conn)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        // The token path reads the switch from each client's row: kept in step here.
        diesel::update(identity_clients::table.filter(identity_clients::account_id.eq(account_id)))
            .set(identity_clients::account_enabled.eq(enabled))
            .execute(conn)?;
        Ok(())
    })
}

pub fn find_account(conn: &mut AnyConnection, id: &str) -> Result<Account, StoreError> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .load(conn)?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

pub fn count_accounts(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(accounts::table.count().get_result(conn)?)
}

pub fn create_user(
    conn: &mut AnyConnection,
    account_id: &str,
    email: &str,
    role: &str,
    password_hash: &str,
) -> Result<AdminUser, StoreError> {
    find_account(conn, account_id)?;
    let user = AdminUser {
        id: new_id(),
        account_id: account_id.to_owned(),
        email: email.trim().to_lowercase(),
        password_hash: password_hash.to_owned(),
        role: role.to_owned(),
        created_at: now(),
        disabled: false,
    };
    diesel::insert_into(admin_users::table)
        .values(&user)
        .execute(conn)
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                StoreError::Other(format!("a user with email {} already exists", user.email))
            } else {
                e.into()
            }
        })?;
    Ok(user)
}

pub fn find_user_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<AdminUser>, StoreError> {
    Ok(admin_users::table
        .filter(admin_users::email.eq(email.trim().to_lowercase()))
        .select(AdminUser::as_select())
        .load(conn)?
        .into_iter()
        .next())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn create_session(conn: &mut AnyConnection, row: &SessionRow) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The session, its user and the user's account, if the session exists.
pub fn find_session(
    conn: &mut AnyConnection,
    id_hash: &str,
) -> Result<Option<(SessionRow, AdminUser, Account)>, StoreError> {
    Ok(sessions::table
        .inner_join(admin_users::table.inner_join(accounts::table))
        .filter(sessions::id_hash.eq(id_hash))
        .select((
            SessionRow::as_select(),
            AdminUser::as_select(),
            Account::as_select(),
        ))
        .load(conn)?
        .into_iter()
        .next())
}

pub fn touch_session(
    conn: &mut AnyConnection,
    id_hash: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(at))
        .execute(conn)?;
    Ok(())
}

pub fn delete_session(conn: &mut AnyConnection, id_hash: &str) -> Result<(), StoreError> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

/// Deletes sessions past their absolute expiry or idle since before `idle_before`; how many.
pub fn delete_expired_sessions(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    idle_before: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(at)
                .or(sessions::last_seen_at.le(idle_before)),
        ),
    )
    .execute(conn)?)
}

/// Every admin user of every account, by email.
pub fn list_users(conn: &mut AnyConnection) -> Result<Vec<AdminUser>, StoreError> {
    Ok(admin_users::table
        .order(admin_users::email.asc())
        .select(AdminUser::as_select())
        .load(conn)?)
}

/// Switches a user off (or on). Switching off ends their sessions in the same transaction.
pub fn set_user_disabled(
    conn: &mut AnyConnection,
    email: &str,
    disabled: bool,
) -> Result<(), StoreError> {
    let email = email.trim().to_lowercase();
    super::write_tx(conn, |conn| {
        let user = find_user_by_email(conn, &email)?.ok_or(StoreError::NotFound)?;
        diesel::update(admin_users::table.find(&user.id))
            .set(admin_users::disabled.eq(disabled))
            .execute(conn)?;
        if disabled {
            end_sessions_of(conn, &user.id)?;
        }
        Ok(())
    })
}

/// A new password hash; the user's sessions end with the old password.
pub fn set_password(
    conn: &mut AnyConnection,
    email: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    let email = email.trim().to_lowercase();
    super::write_tx(conn, |conn| {
        let user = find_user_by_email(conn, &email)?.ok_or(StoreError::NotFound)?;
        diesel::update(admin_users::table.find(&user.id))
            .set(admin_users::password_hash.eq(password_hash))
            .execute(conn)?;
        end_sessions_of(conn, &user.id)
    })
}

/// Ends every session of a user; how many there were.
pub fn end_sessions_of(conn: &mut AnyConnection, user_id: &str) -> Result<(), StoreError> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

/// Ends every session of the user with `email`.
pub fn end_sessions_by_email(conn: &mut AnyConnection, email: &str) -> Result<(), StoreError> {
    let user = find_user_by_email(conn, email)?.ok_or(StoreError::NotFound)?;
    end_sessions_of(conn, &user.id)
}
