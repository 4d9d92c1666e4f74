//! The token path's row reads where no change watch lets rows be remembered (PostgreSQL; see
//! `crate::client_rows`): token requests that arrive while a read is under way wait for the
//! next one, which reads all their clients' rows in one query. Every row a request gets was read
//! by a query that started after the request arrived, so an edit acknowledged before the request
//! still applies to it; under load one round trip serves many tokens instead of one each.

use crate::client_rows::ClientRow;
use crate::store::{Pool, StoreError, clients};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

type Reply = Result<Option<ClientRow>, StoreError>;

#[derive(Clone)]
pub struct RowReads {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    gather: Mutex<Gather>,
}

#[derive(Default)]
struct Gather {
    /// Requests that arrived after the read under way started.
    waiting: Vec<(String, oneshot::Sender<Reply>)>,
    /// A reader task is running (it takes `waiting` when its current read ends).
    reading: bool,
}

impl RowReads {
    pub fn new(pool: Pool) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                gather: Mutex::default(),
            }),
        }
    }

    fn gather(&self) -> MutexGuard<'_, Gather> {
        self.inner
            .gather
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The current row of the client with this exact client ID, read after this call began.
    pub async fn read(&self, client_id: &str) -> Reply {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut gather = self.gather();
            gather.waiting.push((client_id.to_owned(), reply));
            !std::mem::replace(&mut gather.reading, true)
        };
        if start {
            let reader = Reader {
                reads: self.clone(),
                done: false,
            };
            actix_web::rt::spawn(reader.run());
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the row read was cut short".into())))
    }
}

/// The running reader. Dropped unfinished (its thread stopping), it lets the next request
/// start another, and whoever was waiting gets an error instead of waiting for ever.
struct Reader {
    reads: RowReads,
    done: bool,
}

impl Reader {
    async fn run(mut self) {
        loop {
            let batch = {
                let mut gather = self.reads.gather();
                if gather.waiting.is_empty() {
                    // In the same hold of the lock as the look: a request after it starts
                    // another reader.
                    gather.reading = false;
                    None
                } else {
                    Some(std::mem::take(&mut gather.waiting))
                }
            };
            let Some(batch) = batch else {
                self.done = true;
                return;
            };
            let mut ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
            ids.sort_unstable();
            ids.dedup();
            let pool = self.reads.inner.pool.clone();
            let read = tokio::task::spawn_blocking(move || read_rows(&pool, &ids))
                .await
                .unwrap_or_else(|_| Err(StoreError::Other("blocking task failed".into())));
            for (id, reply) in batch {
                let _ = reply.send(match &read {
                    Ok(rows) => match rows.get(&id) {
                        None => Ok(None),
                        Some(Ok(row)) => Ok(Some(row.clone())),
                        Some(Err(e)) => Err(StoreError::Other(e.clone())),
                    },
                    Err(e) => Err(copy(e)),
                });
            }
        }
    }
}

/// The rows of `ids` by client ID, each decoded on its own: a row that fails to decode fails
/// only the requests for it. If the one query fails (other than the database being out of
/// reach), each ID is read alone, and one whose read fails fails only its own requests.
fn read_rows(
    pool: &Pool,
    ids: &[String],
) -> Result<HashMap<String, Result<ClientRow, String>>, StoreError> {
    let mut conn = pool.get()?;
    let found = match clients::find_by_client_ids(&mut conn, ids) {
        Err(StoreError::Unavailable(m)) => {
            conn.mark_lost();
            return Err(StoreError::Unavailable(m));
        }
        Err(_) if ids.len() > 1 => {
            let mut found = Vec::new();
            for id in ids {
                match clients::find_by_client_ids(&mut conn, std::slice::from_ref(id)) {
                    Ok(rows) => found.extend(rows),
                    Err(StoreError::Unavailable(m)) => {
                        conn.mark_lost();
                        return Err(StoreError::Unavailable(m));
                    }
                    // An ID whose own read fails fails only its own requests.
                    Err(e) => found.push((id.clone(), Err(e))),
                }
            }
            found
        }
        other => other?,
    };
    Ok(found
        .into_iter()
        .map(|(id, row)| {
            let row = row
                .map(|(client, feature_on)| (Arc::new(client), feature_on))
                .map_err(|e| e.to_string());
            (id, row)
        })
        .collect())
}

fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Other(other.to_string()),
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if !self.done {
            let mut gather = self.reads.gather();
            gather.reading = false;
            // Those waiting get an error (their senders drop) rather than wait for ever.
            gather.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    /// PostgreSQL refuses a NUL byte in the gathered `ANY` query, failing it for every ID in
    /// it; read again one by one, only that ID fails. (Client IDs are checked before any lookup
    /// now, so this guards what else might fail one ID's read.)
    #[test]
    fn an_id_whose_own_read_fails_fails_only_its_own_requests() {
        const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
        let name = format!("vitesse_row_reads_{}", std::process::id());
        let mut admin = PgConnection::establish(ADMIN).expect("PostgreSQL on 127.0.0.1:5432");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .expect("create a database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let read = {
            let pool = crate::store::connect(&url, 1).expect("connect");
            crate::store::migrate(&mut pool.get().expect("a connection")).expect("migrate");
            super::read_rows(&pool, &["no-such-client".into(), "bad\0id".into()])
        };
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .ok();
        let rows = read.expect("the other IDs are read");
        assert!(
            !rows.contains_key("no-such-client"),
            "not found, not failed"
        );
        assert!(matches!(rows.get("bad\0id"), Some(Err(_))), "{rows:?}");
    }
}
