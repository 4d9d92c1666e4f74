//! The list's search ("text found in the client ID or the name") without reading every row:
//! a trigram index on each backend, in each one's own dialect, so the migrations stay portable.
//! SQLite: an FTS5 trigram table over the two search columns, kept in step by triggers.
//! PostgreSQL: pg_trgm GIN indexes, which the planner uses for `LIKE '%…%'` by itself. Where
//! neither can be made (pg_trgm not installable, say), search still works by reading the rows.

use super::AnyConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

/// The SQLite side: an external-content FTS5 table over `identity_clients`' rowids, filled once
/// from the rows there are when it is made. (Rowids survive everything but a VACUUM; after
/// one, `INSERT INTO identity_client_search (identity_client_search) VALUES ('rebuild')`.)
const SQLITE_INDEX: &str = r#"
CREATE VIRTUAL TABLE identity_client_search USING fts5(
    client_id_key, name_key, content='identity_clients', tokenize='trigram');
CREATE TRIGGER identity_client_search_insert AFTER INSERT ON identity_clients BEGIN
    INSERT INTO identity_client_search (rowid, client_id_key, name_key)
        VALUES (new.rowid, new.client_id_key, new.name_key);
END;
CREATE TRIGGER identity_client_search_delete AFTER DELETE ON identity_clients BEGIN
    INSERT INTO identity_client_search (identity_client_search, rowid, client_id_key, name_key)
        VALUES ('delete', old.rowid, old.client_id_key, old.name_key);
END;
CREATE TRIGGER identity_client_search_update
AFTER UPDATE OF client_id_key, name_key ON identity_clients BEGIN
    INSERT INTO identity_client_search (identity_client_search, rowid, client_id_key, name_key)
        VALUES ('delete', old.rowid, old.client_id_key, old.name_key);
    INSERT INTO identity_client_search (rowid, client_id_key, name_key)
        VALUES (new.rowid, new.client_id_key, new.name_key);
END;
INSERT INTO identity_client_search (identity_client_search) VALUES ('rebuild');
"#;

const POSTGRES_INDEX: &str = "
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS identity_clients_client_id_trgm
    ON identity_clients USING gin (client_id_key gin_trgm_ops);
CREATE INDEX IF NOT EXISTS identity_clients_name_trgm
    ON identity_clients USING gin (name_key gin_trgm_ops);
";

/// Makes the search index where it is missing. A failure is logged, not fatal: search
/// then reads the rows, as before the index existed.
pub fn ensure_index(conn: &mut AnyConnection) {
    let made = match conn {
        AnyConnection::Sqlite(c) => {
            let present = diesel::sql_query(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'identity_client_search'",
            )
            .get_result::<Present>(c)
            .is_ok_and(|p| p.n == 1);
            if present {
                Ok(())
            } else {
                c.transaction(|c| c.batch_execute(SQLITE_INDEX))
            }
        }
        AnyConnection::Postgresql(c) => c.batch_execute(POSTGRES_INDEX),
    };
    if let Err(e) = made {
        tracing::warn!(error = %e, "no search index; the client list's search reads every row");
    }
}

/// At most this many rows make a text "rare": its rows are found through the trigram table,
/// and the page is ordered from them (rather than reading the account in list order).
const RARE: i64 = 1000;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    rowid: i64,
}

/// On SQLite, for a text of at least 3 characters (a trigram) found in at most [`RARE`] rows
/// of `account_id` (counted within the account, so another account's clients neither slow
/// this one's search nor show through its timing): those rows' rowids. `None` elsewhere: a common or short text, or
/// PostgreSQL. The phrase of a text's consecutive trigrams matches exactly where it occurs.
pub fn sqlite_rare_text_rows(
    conn: &mut AnyConnection,
    account_id: &str,
    text: &str,
) -> Result<Option<Vec<i64>>, super::StoreError> {
    let AnyConnection::Sqlite(c) = conn else {
        return Ok(None);
    };
    if text.chars().count() < 3 {
        return Ok(None);
    }
    let phrase = format!("\"{}\"", text.to_lowercase().replace('"', "\"\""));
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT s.rowid AS rowid FROM identity_client_search s \
         JOIN identity_clients c ON c.rowid = s.rowid \
         WHERE identity_client_search MATCH ? AND c.account_id = ? LIMIT ?",
    )
    .bind::<Text, _>(phrase)
    .bind::<Text, _>(account_id)
    .bind::<BigInt, _>(RARE + 1)
    .load(c)?;
    Ok((rows.len() as i64 <= RARE).then(|| rows.into_iter().map(|r| r.rowid).collect()))
}

#[derive(QueryableByName)]
struct Present {
    #[diesel(sql_type = Integer)]
    n: i32,
}
