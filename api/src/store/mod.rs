//! Storage: one set of diesel queries over SQLite (embedded default) or PostgreSQL.

pub mod accounts;
pub mod assertions;
pub mod audit;
pub mod change_watch;
pub mod clients;
pub mod keys;
pub mod revocations;
pub mod roles;
pub mod schema;
pub(crate) mod search;
mod stamp;
pub mod usage;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;

/// A pooled connection that remembers having lost its server, so the pool drops it instead of
/// handing a dead connection out again (diesel cannot tell from outside). This is what lets the
/// service recover by itself after a database outage.
pub struct PoolConn {
    conn: AnyConnection,
    lost: bool,
}

impl PoolConn {
    pub fn mark_lost(&mut self) {
        self.lost = true;
    }
}

impl std::ops::Deref for PoolConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// Which backend a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// An r2d2 manager that picks the backend by URL scheme and reports the real connection error
/// (the derived `establish` hides it), and sets SQLite's per-connection pragmas.
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl Manager {
    pub fn new(url: &str) -> Self {
        let backend = Backend::of(url);
        let url = match backend {
            Backend::Postgres => url.to_owned(),
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
        };
        Self { url, backend }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PoolConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConn, Self::Error> {
        self.establish().map(|conn| PoolConn { conn, lost: false })
    }

    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), Self::Error> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.lost
    }
}

impl Manager {
    fn establish(&self) -> Result<AnyConnection, diesel::r2d2::Error> {
        use diesel::r2d2::Error as E;
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url)
                .map(AnyConnection::Postgresql)
                .map_err(E::ConnectionError),
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.url).map_err(E::ConnectionError)?;
                // busy_timeout first: the WAL switch itself may wait for another connection.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )
                .map_err(E::QueryError)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

/// Opens the pool and brings the schema up to date.
pub fn connect(url: &str, max_size: u32) -> Result<Pool, StoreError> {
    if Backend::of(url) == Backend::Sqlite {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        private_sqlite_file(path).map_err(|e| StoreError::Other(e.to_string()))?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .test_on_check_out(false)
        // While the database is down, callers get a 503 after this, not a hang.
        .connection_timeout(Duration::from_secs(3))
        .build(Manager::new(url))
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let mut conn = pool.get()?;
    migrate(&mut conn)?;
    Ok(pool)
}

/// The database holds the signing keys' private parts and every secret's verifier: a new
/// directory is the owner's alone (0700), and the file is created owner-only (0600) before
/// SQLite opens it, so its `-wal` and `-shm` (which copy its mode) are too.
fn private_sqlite_file(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = std::path::Path::new(path);
    if path.starts_with(":memory:") || path.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
    }
    Ok(())
}

pub fn migrate(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let result = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(MIGRATIONS).map(|_| ()),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
    search::ensure_index(conn);
    Ok(())
}

/// Runs `f` in one write transaction. On SQLite the write lock is taken up front
/// (`BEGIN IMMEDIATE`), so two writers queue on busy_timeout instead of failing on upgrade.
pub fn write_tx<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match conn {
        AnyConnection::Postgresql(_) => conn.transaction(f),
        AnyConnection::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            let done = f(conn).and_then(|v| Ok(conn.batch_execute("COMMIT").map(|()| v)?));
            if done.is_err() {
                // Whether `f` or the COMMIT failed, never hand the connection back inside the
                // transaction (holding the write lock, reading its own uncommitted writes).
                // The original error matters more than a failed rollback.
                let _ = conn.batch_execute("ROLLBACK");
            }
            done
        }
    }
}

/// What can go wrong in storage, in terms the API maps to HTTP.
#[derive(Debug)]
pub enum StoreError {
    NotFound,
    /// A uniqueness rule; the message names the field.
    Conflict(vitesse_domain::FieldError),
    /// A stale `If-Match`.
    Stale,
    /// A pagination cursor that this server did not make.
    BadCursor,
    /// A rule only the data can check (e.g. an unknown role).
    Invalid(vitesse_domain::FieldErrors),
    /// A rule checked against the stored row, inside the write's transaction, refused the
    /// write (the message says why; the caller sees 403).
    Refused(&'static str),
    /// The database cannot be reached right now.
    Unavailable(String),
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("not found"),
            StoreError::Conflict(e) => write!(f, "conflict: {e}"),
            StoreError::Stale => f.write_str("stale version"),
            StoreError::BadCursor => f.write_str("bad cursor"),
            StoreError::Invalid(e) => write!(f, "invalid: {e}"),
            StoreError::Refused(why) => write!(f, "refused: {why}"),
            StoreError::Unavailable(e) => write!(f, "database unavailable: {e}"),
            StoreError::Other(e) => write!(f, "storage error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            // libpq reports a lost server without a SQLSTATE; recognise it by its words.
            DieselError::DatabaseError(_, info) if connection_lost(info.message()) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

fn connection_lost(message: &str) -> bool {
    const SIGNS: [&str; 6] = [
        "server closed the connection",
        "no connection to the server",
        "terminating connection",
        "could not receive data",
        "could not send data",
        "connection to server",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// An online, consistent copy of a SQLite database at `to` (which must not exist), made while
/// the server keeps serving: `VACUUM INTO` reads one snapshot (WAL: writers are not blocked)
/// and writes a compacted database. It stands in for the C backup API, which only `unsafe`
/// code could call here. Owner-only, like the database itself.
pub fn backup_sqlite(conn: &mut AnyConnection, to: &std::path::Path) -> Result<(), StoreError> {
    let AnyConnection::Sqlite(c) = conn else {
        return Err(StoreError::Other(
            "backup copies a SQLite database; for PostgreSQL use pg_dump (docs/operating.md)"
                .into(),
        ));
    };
    // SQLite reads a name starting with `file:` as a URI and writes elsewhere than the file
    // made below (found by a hostile review); an absolute path never is one.
    if to.to_str().is_some_and(|p| p.starts_with("file:")) {
        return Err(StoreError::Other(
            "give the backup a plain file path, not a file: URI".into(),
        ));
    }
    let to = &std::path::absolute(to)
        .map_err(|e| StoreError::Other(format!("cannot use {}: {e}", to.display())))?;
    let path = to
        .to_str()
        .ok_or_else(|| StoreError::Other("the backup path must be UTF-8".into()))?;
    // Made empty and owner-only first (VACUUM INTO fills an empty file), never over another.
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(to)
        .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", to.display())))?;
    c.batch_execute(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(to);
        })?;
    Ok(())
}

/// Now, truncated to microseconds so both backends store exactly the same instant.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

// Point lookups use `load` on a unique key rather than `first`: `first` adds `LIMIT ?`, and
// SQLite (3.45+) re-prepares a statement on every run when a LIMIT is a bound parameter, which
// cost a third of the token endpoint's CPU.

/// A timestamp inside a pagination cursor, and back.
pub fn cursor_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

pub fn parse_cursor_time(v: &str) -> Result<chrono::NaiveDateTime, StoreError> {
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| StoreError::BadCursor)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A COMMIT that fails (here: a deferred foreign key still broken) leaves no transaction
    /// open on the connection, so the pool gets it back clean.
    #[test]
    fn a_failed_commit_leaves_no_transaction_open() {
        let dir = std::env::temp_dir().join(format!("vitesse-write-tx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = dir.join("db.sqlite3").to_string_lossy().into_owned();
        let mut conn = AnyConnection::Sqlite(SqliteConnection::establish(&url).expect("open"));
        conn.batch_execute(
            "PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY); \
             CREATE TABLE c (p INTEGER REFERENCES p (id));",
        )
        .expect("schema");
        let failed = write_tx(&mut conn, |c| {
            c.batch_execute("PRAGMA defer_foreign_keys = ON; INSERT INTO c VALUES (42);")?;
            Ok(())
        });
        assert!(failed.is_err(), "the COMMIT is refused");
        conn.batch_execute("BEGIN IMMEDIATE; ROLLBACK;")
            .expect("no transaction is still open");
        std::fs::remove_dir_all(dir).ok();
    }
}
