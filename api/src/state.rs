//! AppState: what every request shares (configuration, pool, key ring, hasher, throttles,
//! metrics). Imported by handlers and services; imports none of them.

use crate::config::Config;
use crate::oauth::keys::{self, KeyRing};
use crate::oauth::secrets::SecretHasher;
use crate::store::{self, AnyConnection, Pool, StoreError};
use crate::throttle::{Gates, Throttle};
use std::sync::{Arc, Mutex, RwLock};

pub struct AppState {
    pub config: Config,
    pub pool: Pool,
    pub hasher: SecretHasher,
    /// Failed sign-ins per email and source address.
    pub sign_in_throttle: Throttle,
    /// Failed client authentications per client ID and source address.
    pub token_throttle: Throttle,
    /// Failed authentications (clients and sign-ins, any identifier, unknown ones too) per
    /// source address: a flood from one address is refused before it costs any bcrypt work.
    pub address_throttle: Throttle,
    /// Bcrypt verifications per source address: a few at a time, a few more waiting.
    pub address_gates: Gates,
    pub metrics: crate::metrics::Metrics,
    /// Last uses waiting to be written: when, per client and secret (its stored hash). Written
    /// together once a second (see `service::tokens::flush_last_uses`), so a burst of first
    /// tokens costs one write, not one each.
    pub last_uses: Mutex<LastUses>,
    /// Usage counted since the last flush (see `service::usage`).
    pub usage: crate::metering::UsageBook,
    /// The quota blocks this instance holds (see `service::quotas`).
    pub quotas: crate::metering::QuotaBook,
    /// Clients' JWK Sets fetched from their `jwks_uri`.
    pub remote_jwks: crate::oauth::remote_jwks::RemoteJwks,
    /// The token path's client rows while the database is unchanged (SQLite).
    pub client_rows: crate::client_rows::ClientRows,
    /// The token path's row reads, gathered (PostgreSQL; SQLite reads on the calling thread).
    pub row_reads: Option<crate::row_reads::RowReads>,
    keys: RwLock<Arc<KeyRing>>,
}

pub type LastUses = std::collections::HashMap<(String, String), chrono::NaiveDateTime>;

impl AppState {
    /// Connects, migrates and loads the signing keys (creating one in the configured algorithm
    /// when none signs with it).
    pub fn new(config: Config) -> Result<Self, StoreError> {
        let pool = store::connect(&config.database_url, config.pool_size)?;
        let ring = {
            let conn = &mut *pool.get()?;
            keys::ensure_signer(conn, config.signing_alg)?;
            keys::load(conn)?
        };
        let hasher = SecretHasher::new(config.bcrypt_cost);
        Ok(Self {
            sign_in_throttle: Throttle::new(5, std::time::Duration::from_secs(15 * 60)),
            token_throttle: Throttle::new(20, std::time::Duration::from_secs(5 * 60)),
            address_throttle: Throttle::budget(100, std::time::Duration::from_secs(5 * 60)),
            // One address holds at most half the bcrypt slots (at least one) and may queue
            // eight more: whoever else asks finds the other half free, or waits behind at most
            // one of a flooder's bcrypts per slot (about 0.3 s at cost 12).
            address_gates: Gates::new((hasher.slots() / 2).max(1), 8),
            hasher,
            metrics: Default::default(),
            last_uses: Default::default(),
            usage: crate::metering::UsageBook::new(config.usage_counting),
            quotas: Default::default(),
            remote_jwks: crate::oauth::remote_jwks::RemoteJwks::new(config.jwks_refetch),
            client_rows: crate::client_rows::ClientRows::open(&config.database_url),
            row_reads: (store::Backend::of(&config.database_url) == store::Backend::Postgres)
                .then(|| crate::row_reads::RowReads::new(pool.clone())),
            config,
            pool,
            keys: RwLock::new(Arc::new(ring)),
        })
    }

    /// Runs blocking storage work on the blocking pool with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            let result = f(&mut conn);
            if let Err(StoreError::Unavailable(_)) = &result {
                conn.mark_lost();
            }
            result
        })
        .await
        .map_err(|_| StoreError::Other("blocking task failed".into()))?
    }

    /// A short read (one row by a unique index): on SQLite, when a pooled connection is free
    /// right now, run on the calling thread. Handing the read to the blocking pool and back
    /// (two cross-thread wake-ups and context switches) cost far more CPU than the read itself:
    /// about a quarter of a warm token's. A WAL reader does not wait for writers, so the
    /// executor is held no longer than the read. When no connection is free, and always on
    /// PostgreSQL (a network round trip), the read goes through [`Self::db`].
    pub async fn db_read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        if store::Backend::of(&self.config.database_url) == store::Backend::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            let result = f(&mut conn);
            if let Err(StoreError::Unavailable(_)) = &result {
                conn.mark_lost();
            }
            return result;
        }
        self.db(f).await
    }

    /// Re-reads the key set, so a rotation made anywhere is published and used here too.
    pub async fn reload_keys(&self) -> Result<(), StoreError> {
        let ring = self.db(keys::load).await?;
        if let Ok(mut k) = self.keys.write() {
            *k = Arc::new(ring);
        }
        Ok(())
    }

    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys
            .read()
            .map(|k| Arc::clone(&k))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }
}

impl AppState {
    /// Housekeeping on a timer: throttles forget windows that have passed, expired sign-in
    /// sessions are deleted.
    pub async fn sweep(&self) -> Result<(), StoreError> {
        self.sign_in_throttle.prune();
        self.token_throttle.prune();
        self.address_throttle.prune();
        let at = store::now();
        let idle = chrono::Duration::from_std(self.config.session_idle).unwrap_or_default();
        self.db(move |c| {
            store::assertions::forget_expired(c, at)?;
            store::accounts::delete_expired_sessions(c, at, at - idle)
        })
        .await
        .map(|_| ())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        use diesel::connection::SimpleConnection;
        self.db(|c| Ok(c.batch_execute("SELECT 1")?)).await
    }
}
