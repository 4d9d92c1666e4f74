//! The token path's client rows, remembered between requests for as long as nothing at all was
//! committed to the database (`store::change_watch`). A warm token then reads one header (one
//! `pread` of SQLite's WAL index) instead of reading and decoding the client's row, and an edit
//! made anywhere (this instance, another one, the CLI) still applies at the very next request:
//! any commit empties the book.
//! Without a watch (PostgreSQL) nothing is remembered.

use crate::store::change_watch::{ChangeWatch, Version};
use std::collections::HashMap;
use std::sync::Arc;
use vitesse_domain::IdentityClient;

/// A client's row as the token path reads it, and whether its account has identity clients
/// switched on.
pub type ClientRow = (Arc<IdentityClient>, bool);

/// Rows kept at most per watch; a full book is emptied (it refills with the clients asking).
const MAX_ROWS: usize = 10_000;

/// Watches: as many as request threads that may look at once (a third reads the database).
const WATCHES: usize = 2;

pub struct ClientRows {
    watch: ChangeWatch<Book>,
}

/// The rows one watch vouches for.
#[derive(Default)]
struct Book {
    /// What the watch showed when the rows were read: each was read after it showed that.
    version: Option<Version>,
    rows: HashMap<String, ClientRow>,
}

/// Which watch showed which version, before a row was read.
pub struct Seen {
    watch: usize,
    version: Version,
}

impl ClientRows {
    pub fn open(database_url: &str) -> Self {
        Self {
            watch: ChangeWatch::open(database_url, WATCHES),
        }
    }

    /// The row of `client_id` if one is remembered and nothing was committed since it was
    /// read; and, to keep the row read instead, what the watch showed (`None`: no watch).
    pub fn look(&self, client_id: &str) -> (Option<ClientRow>, Option<Seen>) {
        let Some((watch, mut guard)) = self.watch.take() else {
            return (None, None);
        };
        let Some(version) = guard.version() else {
            return (None, None);
        };
        let book = &mut guard.kept;
        // Only equality is relied on: two answers of a watch are equal only if nothing was
        // committed in between.
        if book.version != Some(version) {
            book.rows.clear();
            book.version = Some(version);
        }
        (
            book.rows.get(client_id).cloned(),
            Some(Seen { watch, version }),
        )
    }

    /// Keeps `row`, read after `seen`, unless something was committed since (the watch has
    /// moved on): then it may predate that commit.
    pub fn put(&self, seen: Seen, client_id: &str, row: ClientRow) {
        let Some(mut guard) = self.watch.get(seen.watch) else {
            return;
        };
        let book = &mut guard.kept;
        if book.version != Some(seen.version) {
            return;
        }
        if book.rows.len() >= MAX_ROWS {
            book.rows.clear();
        }
        book.rows.insert(client_id.to_owned(), row);
    }
}
