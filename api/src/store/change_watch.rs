//! Whether anything was committed to the database since a moment, for the token path's
//! remembered client rows. Read on connections of its own that never write.
//!
//! In WAL mode (the server's), the version is the WAL-index header, read from the `-shm` file
//! beside the database with one `pread`: SQLite rewrites it at every commit, by any connection
//! in any process, before the commit returns (`iChange` counts commits; the last frame, the
//! WAL's salts and checksums say which log it is), and every reader starts from it. SQLite
//! writes the header's second copy first and its first copy last; a read that finds the two
//! copies unequal met a commit half-written and gives no answer. That is what SQLite's own
//! readers do, minus the locks: those (two `fcntl` calls and a mutex) cost more than the rest
//! of the check.
//!
//! In any other journal mode, the version is SQLite's `PRAGMA data_version`, which changes on a
//! connection whenever *another* connection commits (<https://sqlite.org/pragma.html#pragma_data_version>).
//! PostgreSQL has neither: there every token reads its row.

use super::{AnyConnection, Backend, Manager};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    /// The `-shm` file, in WAL mode.
    shm: Option<WalIndexFile>,
    url: String,
    /// The file the watch opened, and when that was last checked.
    file: FileIdentity,
    checked: Instant,
    /// The count and the header at the last check: the count moving while the header stays
    /// means the header read is not SQLite's (see `version`).
    checked_count: Option<i64>,
    checked_header: Option<[u8; HEADER]>,
    pub kept: T,
}

/// A file's device and inode: a database file replaced under a running server (a restore
/// against the docs' advice) is another file, whose count means nothing to the old connection.
type FileIdentity = (u64, u64);

fn file_identity(path: &str) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// How often the file's identity is checked.
const FILE_CHECK: Duration = Duration::from_secs(1);

/// What a watch shows: equal to an earlier answer of the same watch only if nothing was
/// committed in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The WAL-index header.
    Header([u8; HEADER]),
    /// `PRAGMA data_version`.
    Count(i64),
}

/// The WAL-index header's size (`struct WalIndexHdr` in SQLite's wal.c); two copies start the
/// `-shm` file. Its first field is the format's version, its fourth byte of the second word
/// (offset 12) `isInit`.
const HEADER: usize = 48;
const WAL_INDEX_VERSION: u32 = 3_007_000;

/// The `-shm` file, open for reading its header, and never closed. SQLite's locks on it are
/// POSIX record locks, which a process loses on a file the moment it closes *any* descriptor of
/// that file: closing this one would drop the locks of every SQLite connection in the server
/// (another process could then checkpoint over WAL frames a reader here is reading; SQLite's
/// "how to corrupt" page, §2.2.1). So each `-shm` file is opened once per process and kept
/// open for good (see `open_wal_index`), shared by every watch on it.
struct WalIndexFile(std::sync::Arc<std::fs::File>);

/// The `-shm` file at `path`: the one descriptor this process holds on it, opened now if there
/// is none yet.
fn open_wal_index(path: &std::path::Path) -> Option<WalIndexFile> {
    use std::collections::HashMap;
    use std::os::unix::fs::MetadataExt;
    use std::sync::{Arc, LazyLock};
    static OPEN: LazyLock<Mutex<HashMap<FileIdentity, Arc<std::fs::File>>>> =
        LazyLock::new(Mutex::default);
    let mut open = OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let on_path = std::fs::metadata(path).ok()?;
    if let Some(file) = open.get(&(on_path.dev(), on_path.ino())) {
        return Some(WalIndexFile(file.clone()));
    }
    let file = Arc::new(std::fs::File::open(path).ok()?);
    // Keyed by what was opened (the path may have been replaced since it was looked at); an
    // earlier entry for that file stays as well, never closed.
    let opened = file.metadata().ok().map(|m| (m.dev(), m.ino()));
    let key = opened.unwrap_or((on_path.dev(), on_path.ino()));
    if let Some(earlier) = open.insert(key, file.clone()) {
        std::mem::forget(earlier);
    }
    Some(WalIndexFile(file))
}

/// The header, if both copies agree and it is initialised.
fn read_header(shm: &WalIndexFile) -> Option<[u8; HEADER]> {
    use std::os::unix::fs::FileExt;
    let mut both = [0u8; 2 * HEADER];
    shm.0.read_exact_at(&mut both, 0).ok()?;
    let (first, second) = both.split_at(HEADER);
    let format = u32::from_ne_bytes(first[..4].try_into().ok()?);
    (first == second && format == WAL_INDEX_VERSION && first[12] == 1)
        .then(|| first.try_into().ok())
        .flatten()
}

impl<T: Default> Watch<T> {
    /// The database's commit count as this watch sees it: equal to an earlier answer of the
    /// same watch only if nothing was committed in between. A replaced file opens a new
    /// connection and drops what was kept, since a new connection's count starts over.
    pub fn version(&mut self) -> Option<Version> {
        if self.checked.elapsed() >= FILE_CHECK {
            if file_identity(&self.url) != Some(self.file) {
                self.kept = T::default();
                // Until a connection on the new file opens, no answer (checked again next time).
                let (conn, shm, file) = open_one(&self.url)?;
                (self.conn, self.shm, self.file) = (conn, shm, file);
                (self.checked_count, self.checked_header) = (None, None);
            }
            self.checked = Instant::now();
            // A safety net under the header: SQLite's own count, read first (a commit it shows
            // had rewritten the header before). Moved while the header did not, the file read is
            // not the one SQLite writes: from then on, the count.
            if let Some(shm) = &self.shm {
                let count = DataVersion.get_result::<i64>(&mut self.conn).ok();
                let header = read_header(shm);
                if count.is_some()
                    && self.checked_count.is_some()
                    && count != self.checked_count
                    && header == self.checked_header
                {
                    tracing::warn!(
                        "the WAL index read does not follow commits; checking SQLite's count instead"
                    );
                    self.shm = None;
                    self.kept = T::default();
                }
                (self.checked_count, self.checked_header) = (count, header);
            }
        }
        match &self.shm {
            Some(shm) => read_header(shm).map(Version::Header),
            None => DataVersion
                .get_result::<i64>(&mut self.conn)
                .ok()
                .map(Version::Count),
        }
    }
}

/// One watch connection on the file at `path`, its `-shm` file in WAL mode, and the file's
/// identity; `None` for anything that is not a file on disk (an in-memory database would be a
/// private one of its own).
fn open_one(path: &str) -> Option<(SqliteConnection, Option<WalIndexFile>, FileIdentity)> {
    let file = file_identity(path)?;
    match Manager::new(path).establish() {
        Ok(AnyConnection::Sqlite(mut conn)) => {
            // Never wait: a busy database means "no answer", and the row is read as before.
            conn.batch_execute("PRAGMA busy_timeout = 0").ok()?;
            // A read makes the WAL index (the `-shm` file) if there is none yet; this
            // connection keeps it in place while it is open.
            DataVersion.get_result::<i64>(&mut conn).ok()?;
            // Beside the file's real path, as SQLite resolves it (a link to the database may
            // have an old `-shm` beside it that nothing writes any more).
            let mut shm = std::fs::canonicalize(path).ok()?.into_os_string();
            shm.push("-shm");
            let shm = wal_mode(&mut conn)
                .then(|| open_wal_index(std::path::Path::new(&shm)))
                .flatten()
                .filter(|shm| read_header(shm).is_some());
            (file_identity(path) == Some(file)).then_some((conn, shm, file))
        }
        Ok(AnyConnection::Postgresql(_)) => None,
        Err(e) => {
            tracing::warn!(error = %e, "no change watch: tokens read their client's row");
            None
        }
    }
}

fn wal_mode(conn: &mut SqliteConnection) -> bool {
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    diesel::sql_query("PRAGMA journal_mode")
        .get_result::<Mode>(conn)
        .is_ok_and(|m| m.journal_mode.eq_ignore_ascii_case("wal"))
}

impl<T: Default> ChangeWatch<T> {
    /// `count` watches on `url`'s database; on PostgreSQL, for a database that is not a file
    /// on disk, or where a connection cannot be opened, none (every read then goes to the
    /// database).
    pub fn open(url: &str, count: usize) -> Self {
        let mut watches = Vec::new();
        if Backend::of(url) == Backend::Sqlite {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            for _ in 0..count {
                let Some((conn, shm, file)) = open_one(path) else {
                    break;
                };
                watches.push(Mutex::new(Watch {
                    conn,
                    shm,
                    url: path.to_owned(),
                    file,
                    checked: Instant::now(),
                    checked_count: None,
                    checked_header: None,
                    kept: T::default(),
                }));
            }
        }
        Self { watches }
    }
}

impl<T> ChangeWatch<T> {
    /// A free watch and its number; `None` when there is none free (the caller reads the
    /// database instead of waiting).
    pub fn take(&self) -> Option<(usize, MutexGuard<'_, Watch<T>>)> {
        self.watches
            .iter()
            .enumerate()
            .find_map(|(i, w)| Some((i, w.try_lock().ok()?)))
    }

    /// Watch number `i` if it is free.
    pub fn get(&self, i: usize) -> Option<MutexGuard<'_, Watch<T>>> {
        self.watches.get(i)?.try_lock().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> (std::path::PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("vitesse-watch-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("db.sqlite3");
        let url = path.to_string_lossy().into_owned();
        let mut conn = SqliteConnection::establish(&url).expect("open");
        conn.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .expect("create");
        (dir, url)
    }

    #[test]
    fn a_commit_by_any_other_connection_changes_the_header_and_reads_do_not() {
        let (dir, url) = temp_db("commit");
        let watch = ChangeWatch::<u32>::open(&url, 2);
        let (_, mut w) = watch.take().expect("a watch on a file");
        let first = w.version().expect("a header");
        assert!(
            matches!(first, Version::Header(_)),
            "WAL mode reads the header"
        );
        assert_eq!(w.version(), Some(first), "nothing committed");
        let mut other = SqliteConnection::establish(&url).expect("open");
        other.batch_execute("SELECT * FROM t").expect("read");
        assert_eq!(w.version(), Some(first), "a read is no change");
        other
            .batch_execute("INSERT INTO t VALUES (1)")
            .expect("write");
        assert_ne!(w.version(), Some(first), "a commit is");
        // Every commit, also one that rewrites what another wrote (same size, same pages).
        for _ in 0..3 {
            let before = w.version();
            other
                .batch_execute("UPDATE t SET x = x + 1")
                .expect("write");
            assert_ne!(w.version(), before);
        }
        drop(w);
        std::fs::remove_dir_all(dir).ok();
    }

    /// The server's connections switch a database to WAL mode; where that failed, or the
    /// `-shm` file cannot be read, the watch counts commits instead.
    #[test]
    fn without_a_wal_index_to_read_the_count_sees_each_commit() {
        let (dir, url) = temp_db("count");
        let watch = ChangeWatch::<u32>::open(&url, 1);
        let (_, mut w) = watch.take().expect("a watch on a file");
        w.shm = None;
        let first = w.version().expect("a count");
        assert!(matches!(first, Version::Count(_)), "no WAL index to read");
        assert_eq!(w.version(), Some(first), "nothing committed");
        let mut other = SqliteConnection::establish(&url).expect("open");
        other
            .batch_execute("INSERT INTO t VALUES (1)")
            .expect("write");
        assert_ne!(w.version(), Some(first), "a commit is");
        drop(w);
        std::fs::remove_dir_all(dir).ok();
    }

    /// A database opened through a link, with an old `-shm` beside the link (left by a server
    /// killed before the database was moved): the watch reads the one SQLite writes.
    #[test]
    fn through_a_link_the_watch_reads_the_wal_index_sqlite_writes() {
        let (dir, url) = temp_db("link");
        let link = dir.join("link.sqlite3");
        std::os::unix::fs::symlink(&url, &link).expect("link");
        let watch = ChangeWatch::<u32>::open(&url, 1);
        assert!(watch.take().expect("a watch").1.version().is_some());
        std::fs::copy(format!("{url}-shm"), dir.join("link.sqlite3-shm")).expect("stale shm");
        let link = link.to_string_lossy().into_owned();
        let watch = ChangeWatch::<u32>::open(&link, 1);
        let (_, mut w) = watch.take().expect("a watch through the link");
        let first = w.version().expect("a header");
        let mut other = SqliteConnection::establish(&url).expect("open");
        other
            .batch_execute("INSERT INTO t VALUES (1)")
            .expect("write");
        assert_ne!(
            w.version(),
            Some(first),
            "a commit is seen through the link"
        );
        drop(w);
        std::fs::remove_dir_all(dir).ok();
    }

    /// Should the file read ever not be the one SQLite writes, the once-a-second check notices
    /// the count moving under a still header and turns to the count.
    #[test]
    fn a_header_that_does_not_follow_commits_is_given_up() {
        let (dir, url) = temp_db("stale-header");
        let watch = ChangeWatch::<u32>::open(&url, 1);
        let (_, mut w) = watch.take().expect("a watch");
        std::fs::copy(format!("{url}-shm"), dir.join("copy-shm")).expect("copy");
        w.shm = Some(open_wal_index(&dir.join("copy-shm")).expect("open copy"));
        w.kept = 7;
        std::thread::sleep(FILE_CHECK + Duration::from_millis(50));
        let first = w.version().expect("a header");
        let mut other = SqliteConnection::establish(&url).expect("open");
        other
            .batch_execute("INSERT INTO t VALUES (1)")
            .expect("write");
        assert_eq!(w.version(), Some(first), "the copy does not move");
        std::thread::sleep(FILE_CHECK + Duration::from_millis(50));
        let after = w.version().expect("a count");
        assert!(matches!(after, Version::Count(_)), "{after:?}");
        assert_eq!(w.kept, 0, "what was kept under the copy is gone");
        other
            .batch_execute("INSERT INTO t VALUES (2)")
            .expect("write");
        assert_ne!(w.version(), Some(after));
        drop(w);
        std::fs::remove_dir_all(dir).ok();
    }

    /// SQLite's locks are POSIX record locks, which a process loses on a file as soon as it
    /// closes any descriptor of that file. A watch that closed its `-shm` descriptor (giving
    /// the header up, a replaced file, shutdown) would take this process's readers' locks with
    /// it: another process could then checkpoint over the WAL frames they are reading.
    #[test]
    fn a_watch_that_lets_its_wal_index_go_leaves_sqlites_locks_in_place() {
        let (dir, url) = temp_db("locks");
        let mut reader = SqliteConnection::establish(&url).expect("open");
        reader
            .batch_execute("INSERT INTO t VALUES (1); BEGIN; SELECT * FROM t;")
            .expect("a read transaction on a WAL with frames");
        // What another process's checkpoint finds: "busy" (1) while a reader holds its lock.
        let checkpoint = || {
            let out = std::process::Command::new("sqlite3")
                .arg(&url)
                .arg("PRAGMA busy_timeout = 0; PRAGMA wal_checkpoint(TRUNCATE);")
                .output()
                .expect("the sqlite3 program (scripts/setup.sh installs it)");
            let out = String::from_utf8_lossy(&out.stdout).into_owned();
            out.lines().last().unwrap_or_default().to_owned()
        };
        assert!(checkpoint().starts_with("1|"), "{}", checkpoint());
        let watch = ChangeWatch::<u32>::open(&url, 2);
        watch.take().expect("a watch").1.shm = None;
        drop(watch);
        assert!(
            checkpoint().starts_with("1|"),
            "the reader's lock is gone: {}",
            checkpoint()
        );
        reader.batch_execute("COMMIT").expect("end the read");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_in_memory_database_gets_no_watch() {
        assert!(ChangeWatch::<u32>::open(":memory:", 2).take().is_none());
        assert!(
            ChangeWatch::<u32>::open("postgres://x@127.0.0.1/y", 2)
                .take()
                .is_none()
        );
    }

    #[test]
    fn a_replaced_file_drops_what_was_kept() {
        let (dir, url) = temp_db("replace");
        let watch = ChangeWatch::<u32>::open(&url, 1);
        let (_, mut w) = watch.take().expect("a watch");
        w.kept = 7;
        assert!(w.version().is_some());
        let (other_dir, other_url) = temp_db("replacement");
        std::fs::rename(&other_url, &url).expect("replace the file");
        std::thread::sleep(FILE_CHECK + Duration::from_millis(100));
        assert!(w.version().is_some(), "a count from the new file");
        assert_eq!(w.kept, 0, "what was kept under the old file is gone");
        drop(w);
        std::fs::remove_dir_all(dir).ok();
        std::fs::remove_dir_all(other_dir).ok();
    }
}
