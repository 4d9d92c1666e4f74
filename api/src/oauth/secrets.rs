//! Secret hashing and verification: bcrypt over a SHA-256 pre-hash, so every byte of a long
//! secret counts (bcrypt reads only 72). Successful verifications are remembered in memory,
//! keyed by the stored hash: a changed secret has a new hash, so it misses at once, on every
//! instance, because every request still reads the client's current row.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const REMEMBERED_MAX: usize = 50_000;

/// Hashing failed: bcrypt refused, or its blocking task did not finish.
#[derive(Debug)]
pub enum HashError {
    Bcrypt(bcrypt::BcryptError),
    Task(String),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Bcrypt(e) => write!(f, "bcrypt: {e}"),
            HashError::Task(e) => write!(f, "hashing task: {e}"),
        }
    }
}

impl std::error::Error for HashError {}

pub struct SecretHasher {
    cost: u32,
    /// stored bcrypt hash -> pre-hash of the secret that verified against it
    remembered: Mutex<HashMap<String, [u8; 32]>>,
    /// bcrypt runs at most this many at once, off the async executor
    bcrypt_slots: Arc<Semaphore>,
    /// when a verification last took the remembered path (ms since `started`)
    last_remembered: AtomicU64,
    started: Instant,
    slot_count: usize,
    /// verifications waiting for a slot (the bcrypt queue depth)
    waiting: AtomicUsize,
    /// verified when the client is unknown, so the answer takes as long as a wrong secret
    dummy_hash: String,
}

fn digest(secret: &str) -> [u8; 32] {
    crate::digest::sha256(&[b"vitesse-secret\0", secret.as_bytes()])
}

/// What bcrypt sees: 43 ASCII characters, never a NUL, always under 72 bytes.
fn prehash(digest: &[u8; 32]) -> String {
    STANDARD_NO_PAD.encode(digest)
}

impl SecretHasher {
    pub fn new(cost: u32) -> Self {
        let dummy_hash = bcrypt::hash(prehash(&digest("dummy secret")), cost)
            .expect("bcrypt cost within 4..=31");
        // At most half the cores run bcrypt: a storm of wrong secrets then still leaves the
        // other half to requests that take the remembered path.
        let slots = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
        Self {
            cost,
            remembered: Mutex::new(HashMap::new()),
            bcrypt_slots: Arc::new(Semaphore::new(slots)),
            last_remembered: AtomicU64::new(0),
            started: Instant::now(),
            slot_count: slots,
            waiting: AtomicUsize::new(0),
            dummy_hash,
        }
    }

    pub fn slots(&self) -> usize {
        self.slot_count
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    async fn slot(&self) -> OwnedSemaphorePermit {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = Arc::clone(&self.bcrypt_slots)
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        permit
    }

    fn millis_since_start(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Whether requests are taking the remembered path right now (one within 100 ms).
    fn remembered_path_busy(&self) -> bool {
        let last = self.last_remembered.load(Ordering::Relaxed);
        last != 0 && self.millis_since_start().saturating_sub(last) < 100
    }

    fn note_remembered_hit(&self) {
        let now = self.millis_since_start().max(1);
        // Written at most once a millisecond: every worker shares this cache line.
        if self.last_remembered.load(Ordering::Relaxed) != now {
            self.last_remembered.store(now, Ordering::Relaxed);
        }
    }

    /// Gives back a bcrypt slot. While the remembered path is busy, the slot first rests as long
    /// as the bcrypt took, so bcrypt gets at most half of its threads' time: a storm of wrong
    /// secrets then leaves most of the CPU to clients already verified. When the remembered path
    /// is idle (a burst of first tokens, say), the slot is free at once.
    fn release(&self, slot: OwnedSemaphorePermit, took: Duration) {
        if self.remembered_path_busy() {
            tokio::spawn(async move {
                tokio::time::sleep(took).await;
                drop(slot);
            });
        }
    }

    /// Hashes a new secret or password (slow by design; runs off the executor).
    pub async fn hash(&self, secret: &str) -> Result<String, HashError> {
        let pre = prehash(&digest(secret));
        let cost = self.cost;
        let _slot = self.slot().await;
        tokio::task::spawn_blocking(move || bcrypt::hash(pre, cost).map_err(HashError::Bcrypt))
            .await
            .unwrap_or_else(|e| Err(HashError::Task(e.to_string())))
    }

    /// Blocking hash for the command line.
    pub fn hash_blocking(&self, secret: &str) -> Result<String, bcrypt::BcryptError> {
        bcrypt::hash(prehash(&digest(secret)), self.cost)
    }

    /// Verifies `secret` against `stored`. With `stored = None` (unknown client) the dummy hash
    /// is verified instead and the answer is always false.
    pub async fn verify(&self, secret: &str, stored: Option<&str>, remember: bool) -> bool {
        let d = digest(secret);
        if let (Some(stored), true) = (stored, remember) {
            let hit = self
                .remembered
                .lock()
                .map(|m| {
                    m.get(stored)
                        .is_some_and(|known| openssl::memcmp::eq(known, &d))
                })
                .unwrap_or(false);
            if hit {
                self.note_remembered_hit();
                return true;
            }
        }
        let target = stored.unwrap_or(&self.dummy_hash).to_owned();
        let pre = prehash(&d);
        let ok = {
            let slot = self.slot().await;
            let began = Instant::now();
            let ok =
                tokio::task::spawn_blocking(move || bcrypt::verify(pre, &target).unwrap_or(false))
                    .await
                    .unwrap_or(false);
            self.release(slot, began.elapsed());
            ok
        };
        let ok = ok && stored.is_some();
        if let (true, Ok(mut m), Some(stored)) = (ok && remember, self.remembered.lock(), stored) {
            if m.len() >= REMEMBERED_MAX {
                // Bounded: forgetting only costs one bcrypt per client later.
                m.clear();
            }
            m.insert(stored.to_owned(), d);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn long_secrets_are_significant_after_byte_72() {
        let h = SecretHasher::new(4);
        let a = format!("{}A", "x".repeat(90));
        let b = format!("{}B", "x".repeat(90));
        let stored = h.hash(&a).await.unwrap();
        assert!(h.verify(&a, Some(&stored), true).await);
        assert!(!h.verify(&b, Some(&stored), true).await);
        // The remembered path must not confuse them either.
        assert!(h.verify(&a, Some(&stored), true).await);
        assert!(!h.verify(&b, Some(&stored), true).await);
    }

    #[tokio::test]
    async fn bcrypt_slots_rest_only_while_the_remembered_path_is_busy() {
        let h = SecretHasher::new(4);
        let free = || h.bcrypt_slots.available_permits();
        let stored = h.hash("right secret").await.unwrap();
        assert!(!h.verify("wrong secret", Some(&stored), true).await);
        assert_eq!(
            free(),
            h.slots(),
            "no remembered traffic: the slot is free at once"
        );

        assert!(h.verify("right secret", Some(&stored), true).await); // bcrypt, then remembered
        assert!(h.verify("right secret", Some(&stored), true).await); // the remembered path
        assert!(!h.verify("wrong secret", Some(&stored), true).await);
        assert_eq!(free(), h.slots() - 1, "the slot rests after a bcrypt");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(free(), h.slots(), "and comes back");
    }

    #[tokio::test]
    async fn unknown_client_never_verifies() {
        let h = SecretHasher::new(4);
        assert!(!h.verify("dummy secret", None, true).await);
    }
}
