//! Whether anything was committed to the database since a moment, for the token path's
//! remembered client rows. SQLite keeps a count, `PRAGMA data_version`, that changes on a
//! connection whenever *another* connection commits, in this process or in any other on the
//! same file (<https://sqlite.org/pragma.html#pragma_data_version>). Read on a connection of
//! its own that never writes, it changes with every commit anywhere: a check that costs a
//! fraction of the row read it spares. PostgreSQL has no such count: there every token
//! reads its row.

use super::{AnyConnection, Backend, Manager};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;
use std::sync::{Mutex, MutexGuard};

/// `PRAGMA data_version` as a query of diesel's own with a fixed type, so its prepared statement
/// is kept on the connection (raw SQL is prepared again on every call, which cost more than
/// the read itself).
#[derive(QueryId)]
struct DataVersion;

impl Query for DataVersion {
    type SqlType = diesel::sql_types::BigInt;
}

impl QueryFragment<Sqlite> for DataVersion {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("PRAGMA data_version");
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for DataVersion {}

/// Watches, each with what its caller keeps beside it (`T`). Two request threads at once each
/// take their own instead of waiting for one another. Each watch's count is its own: only
/// answers of the same watch can be compared.
pub struct ChangeWatch<T> {
    watches: Vec<Mutex<Watch<T>>>,
}

pub struct Watch<T> {
    conn: SqliteConnection,
    pub kept: T,
}

impl<T> Watch<T> {
    /// The database's commit count as this watch sees it: equal to an earlier answer of the
    /// same watch only if nothing was committed in between.
    pub fn version(&mut self) -> Option<i64> {
        DataVersion.get_result::<i64>(&mut self.conn).ok()
    }
}

impl<T: Default> ChangeWatch<T> {
    /// `count` watches on `url`'s database; on PostgreSQL, or where a connection cannot be
    /// opened, none (every read then goes to the database).
    pub fn open(url: &str, count: usize) -> Self {
        let mut watches = Vec::new();
        if Backend::of(url) == Backend::Sqlite {
            for _ in 0..count {
                match Manager::new(url).establish() {
                    Ok(AnyConnection::Sqlite(conn)) => watches.push(Mutex::new(Watch {
                        conn,
                        kept: T::default(),
                    })),
                    Ok(AnyConnection::Postgresql(_)) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "no change watch: tokens read their client's row");
                        break;
                    }
                }
            }
        }
        Self { watches }
    }
}

impl<T> ChangeWatch<T> {
    /// A free watch and its number, else the first one once it is free; `None` when there are
    /// none.
    pub fn take(&self) -> Option<(usize, MutexGuard<'_, Watch<T>>)> {
        self.watches
            .iter()
            .enumerate()
            .find_map(|(i, w)| Some((i, w.try_lock().ok()?)))
            .or_else(|| Some((0, self.get(0)?)))
    }

    /// Watch number `i`, once it is free.
    pub fn get(&self, i: usize) -> Option<MutexGuard<'_, Watch<T>>> {
        let watch = self.watches.get(i)?;
        Some(watch.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
