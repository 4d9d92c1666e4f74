//! Secret hashing and verification: bcrypt over a SHA-256 pre-hash, so every byte of a long
//! secret counts (bcrypt reads only 72). Successful verifications are remembered in memory,
//! keyed by the stored hash: a changed secret has a new hash, so it misses at once, on every
//! instance, because every request still reads the client's current row.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use lru::LruCache;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const REMEMBERED_MAX: usize = 50_000;
/// Verifications that may wait per bcrypt slot: at cost 12 about 5 s of work per slot.
const QUEUE_PER_SLOT: usize = 16;

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
    /// stored bcrypt hash -> pre-hash of the secret that verified against it (least recently
    /// used entries go first when it is full)
    remembered: Mutex<LruCache<String, [u8; 32]>>,
    /// verifications that may wait for a slot before new ones are refused
    queue_max: usize,
    /// bcrypt runs at most this many at once, off the async executor
    bcrypt_slots: Arc<Semaphore>,
    /// when a verification last took the remembered path (ms since `started`)
    last_remembered: AtomicU64,
    started: Instant,
    slot_count: usize,
    /// verifications waiting for a slot (the bcrypt queue depth)
    waiting: AtomicUsize,
    /// bcrypt verifications run since start
    runs: AtomicU64,
    /// verifications running now, by (stored hash, secret digest): a request for the same
    /// credentials waits for that answer instead of running bcrypt again
    in_flight: InFlightMap,
    /// verified when the client is unknown, so the answer takes as long as a wrong secret
    dummy_hash: String,
}

/// How a generated secret's verifier is stored: `sha256$` and the hex digest. A random 256-bit
/// secret needs no slow hash: nobody can guess it, and no digest can be turned back into it.
const GENERATED_SCHEME: &str = vitesse_domain::SecretHash::GENERATED_SCHEME;

/// The stored verifier of a server-generated secret.
pub fn generated_verifier(secret: &str) -> String {
    let d = crate::digest::sha256(&[b"vitesse-generated\0", secret.as_bytes()]);
    let mut s = String::with_capacity(GENERATED_SCHEME.len() + 64);
    s.push_str(GENERATED_SCHEME);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Whether a stored verifier is a generated secret's (else it is a bcrypt hash).
fn is_generated_verifier(stored: &str) -> bool {
    stored.starts_with(GENERATED_SCHEME)
}

/// Checks a generated secret against its stored verifier: one digest and a constant-time
/// comparison, the same on every instance and right after a restart. With `stored = None`
/// (unknown client, or a client whose secret was typed) the same work is done and the answer
/// is false.
pub fn verify_generated(secret: &str, stored: Option<&str>) -> bool {
    let computed = generated_verifier(secret);
    match stored.filter(|s| is_generated_verifier(s) && s.len() == computed.len()) {
        Some(s) => openssl::memcmp::eq(s.as_bytes(), computed.as_bytes()),
        None => {
            let _ = openssl::memcmp::eq(computed.as_bytes(), computed.as_bytes());
            false
        }
    }
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
            remembered: Mutex::new(LruCache::new(
                NonZeroUsize::new(REMEMBERED_MAX).expect("a positive capacity"),
            )),
            queue_max: QUEUE_PER_SLOT * slots,
            bcrypt_slots: Arc::new(Semaphore::new(slots)),
            last_remembered: AtomicU64::new(0),
            started: Instant::now(),
            slot_count: slots,
            waiting: AtomicUsize::new(0),
            runs: AtomicU64::new(0),
            in_flight: Mutex::new(HashMap::new()),
            dummy_hash,
        }
    }

    pub fn slots(&self) -> usize {
        self.slot_count
    }

    /// bcrypt verifications run since start.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// bcrypt slots in use now (running, or resting after a run).
    pub fn busy(&self) -> usize {
        self.slot_count - self.bcrypt_slots.available_permits()
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// A bcrypt slot, counted as waiting until it is had — or until the wait is given up (the
    /// request was dropped): a count left behind would fill the queue for good.
    async fn slot(&self) -> OwnedSemaphorePermit {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiting);
        Arc::clone(&self.bcrypt_slots)
            .acquire_owned()
            .await
            .expect("semaphore never closed")
    }

    /// `work` on the blocking pool, holding `slot` until it ends, even if the caller stops
    /// waiting for it: never more bcrypts at once than slots.
    async fn in_slot<T: Send + 'static>(
        slot: OwnedSemaphorePermit,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<(T, OwnedSemaphorePermit)> {
        tokio::task::spawn_blocking(move || (work(), slot))
            .await
            .ok()
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
        let slot = self.slot().await;
        Self::in_slot(slot, move || {
            bcrypt::hash(pre, cost).map_err(HashError::Bcrypt)
        })
        .await
        .map_or_else(
            || Err(HashError::Task("bcrypt task failed".into())),
            |(h, _)| h,
        )
    }

    /// Blocking hash for the command line.
    pub fn hash_blocking(&self, secret: &str) -> Result<String, bcrypt::BcryptError> {
        bcrypt::hash(prehash(&digest(secret)), self.cost)
    }

    /// Whether `secret` verified against `stored` before (a memory lookup, no bcrypt). Hits
    /// are what the bcrypt slots rest for.
    pub fn remembered(&self, secret: &str, stored: &str) -> bool {
        let d = digest(secret);
        let hit = self
            .remembered
            .lock()
            .map(|mut m| {
                m.get(stored)
                    .is_some_and(|known| openssl::memcmp::eq(known, &d))
            })
            .unwrap_or(false);
        if hit {
            self.note_remembered_hit();
        }
        hit
    }

    /// The answer of a verification of the same secret against `stored` that is running now
    /// (workers of one client asking at once after a restart): `None` when none runs, or it was
    /// abandoned. Waiting for it costs no bcrypt.
    pub async fn join_in_flight(&self, secret: &str, stored: &str) -> Option<bool> {
        let key = (stored.to_owned(), digest(secret));
        let mut rx = self.in_flight.lock().ok()?.get(&key)?.clone();
        let answer = rx.wait_for(Option::is_some).await.ok()?;
        *answer
    }

    /// Verifies `secret` against `stored` with bcrypt (remembering a success when `remember`).
    /// With `stored = None` (unknown client or user) the dummy hash is verified instead and the
    /// answer is always false: the same work as a wrong secret. `Err(NotRun::Busy)` at once when
    /// the bcrypt queue is full: a flood is answered "try later", it does not queue without end.
    /// `Err(NotRun::Unwanted)` when `wanted` says, as the slot comes, that nobody waits for the
    /// answer any more (its caller hung up while it queued): no bcrypt for nobody.
    pub async fn verify(
        &self,
        secret: &str,
        stored: Option<&str>,
        remember: bool,
        wanted: &dyn Fn() -> bool,
    ) -> Result<bool, NotRun> {
        if remember && stored.is_some_and(|s| self.remembered(secret, s)) {
            return Ok(true);
        }
        if self.waiting() >= self.queue_max {
            return Err(NotRun::Busy);
        }
        let d = digest(secret);
        // Others asking with the same credentials meanwhile wait for this answer.
        let announced = match stored {
            Some(stored) if remember => {
                let key = (stored.to_owned(), d);
                let (tx, rx) = watch::channel(None);
                let running = {
                    let mut map = self.in_flight.lock().map_err(|_| NotRun::Busy)?;
                    let running = map.get(&key).cloned();
                    if running.is_none() {
                        map.insert(key.clone(), rx);
                    }
                    running
                };
                match running {
                    Some(mut running) => {
                        if let Ok(answer) = running.wait_for(Option::is_some).await {
                            return Ok(answer.unwrap_or(false));
                        }
                        // Abandoned: verify here, unannounced.
                        None
                    }
                    None => Some(InFlight {
                        map: &self.in_flight,
                        key,
                        tx,
                    }),
                }
            }
            _ => None,
        };
        let target = stored.unwrap_or(&self.dummy_hash).to_owned();
        let pre = prehash(&d);
        let ok = {
            let slot = self.slot().await;
            if !wanted() {
                // Those joining an announced verification find it abandoned and verify alone.
                return Err(NotRun::Unwanted);
            }
            self.runs.fetch_add(1, Ordering::Relaxed);
            let began = Instant::now();
            match Self::in_slot(slot, move || bcrypt::verify(pre, &target).unwrap_or(false)).await {
                Some((ok, slot)) => {
                    self.release(slot, began.elapsed());
                    ok
                }
                None => false,
            }
        };
        let ok = ok && stored.is_some();
        if let (true, Ok(mut m), Some(stored)) = (ok && remember, self.remembered.lock(), stored) {
            // Bounded: the least recently used entry goes, costing one bcrypt for its client later.
            m.put(stored.to_owned(), d);
        }
        if let Some(announced) = announced {
            let _ = announced.tx.send(Some(ok));
        }
        Ok(ok)
    }
}

/// Verifications running now, by (stored hash, secret digest), with where their answer comes.
type InFlightMap = Mutex<HashMap<(String, [u8; 32]), watch::Receiver<Option<bool>>>>;

/// A verification others may wait for; leaving (done or abandoned) takes it off the list.
struct InFlight<'a> {
    map: &'a InFlightMap,
    key: (String, [u8; 32]),
    tx: watch::Sender<Option<bool>>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&self.key);
        }
    }
}

/// Why a verification ran no bcrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// The bcrypt queue is full.
    Busy,
    /// Nobody waits for the answer any more.
    Unwanted,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verification given up while it waits for a slot (its request was dropped) leaves the
    /// queue: counted as waiting for good, such requests filled the queue and every later
    /// verification was refused until a restart.
    #[tokio::test]
    async fn a_verification_given_up_while_waiting_leaves_the_queue() {
        let h = SecretHasher::new(4);
        let all_slots = Arc::clone(&h.bcrypt_slots)
            .acquire_many_owned(h.slot_count as u32)
            .await
            .unwrap();
        for _ in 0..3 {
            let waited = tokio::time::timeout(
                Duration::from_millis(20),
                h.verify("guess", None, false, &|| true),
            )
            .await;
            assert!(waited.is_err(), "it waits while every slot is taken");
        }
        assert_eq!(h.waiting(), 0);
        drop(all_slots);
        assert_eq!(h.verify("guess", None, false, &|| true).await, Ok(false));
    }

    /// A verification whose caller is gone by the time its slot comes runs no bcrypt.
    #[tokio::test]
    async fn a_verification_nobody_waits_for_any_more_runs_no_bcrypt() {
        let h = SecretHasher::new(4);
        let all_slots = Arc::clone(&h.bcrypt_slots)
            .acquire_many_owned(h.slot_count as u32)
            .await
            .unwrap();
        let gone = std::sync::atomic::AtomicBool::new(false);
        let wanted = || !gone.load(Ordering::Relaxed);
        let queued = h.verify("guess", None, false, &wanted);
        let release = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            gone.store(true, Ordering::Relaxed);
            drop(all_slots);
        };
        let (answer, ()) = tokio::join!(queued, release);
        assert_eq!(answer, Err(NotRun::Unwanted));
        assert_eq!(h.runs(), 0);
        assert_eq!(h.waiting(), 0);
    }

    /// A verification given up while its bcrypt runs keeps its slot until the bcrypt ends:
    /// callers who hang up cannot run more bcrypts at once than there are slots.
    #[tokio::test]
    async fn a_verification_given_up_while_bcrypt_runs_keeps_its_slot_until_it_ends() {
        let h = SecretHasher::new(11);
        let waited = tokio::time::timeout(
            Duration::from_millis(20),
            h.verify("guess", None, false, &|| true),
        )
        .await;
        assert!(waited.is_err(), "cost 11 takes longer than 20 ms");
        assert_eq!(h.runs(), 1, "its bcrypt had begun");
        assert_eq!(
            h.bcrypt_slots.available_permits(),
            h.slot_count - 1,
            "the running bcrypt still holds its slot"
        );
        let all_free = Arc::clone(&h.bcrypt_slots).acquire_many_owned(h.slot_count as u32);
        let _all = tokio::time::timeout(Duration::from_secs(10), all_free)
            .await
            .expect("the slot comes back when the bcrypt ends")
            .unwrap();
    }

    #[tokio::test]
    async fn long_secrets_are_significant_after_byte_72() {
        let h = SecretHasher::new(4);
        let a = format!("{}A", "x".repeat(90));
        let b = format!("{}B", "x".repeat(90));
        let stored = h.hash(&a).await.unwrap();
        assert!(h.verify(&a, Some(&stored), true, &|| true).await.unwrap());
        assert!(!h.verify(&b, Some(&stored), true, &|| true).await.unwrap());
        // The remembered path must not confuse them either.
        assert!(h.verify(&a, Some(&stored), true, &|| true).await.unwrap());
        assert!(!h.verify(&b, Some(&stored), true, &|| true).await.unwrap());
    }

    #[tokio::test]
    async fn bcrypt_slots_rest_only_while_the_remembered_path_is_busy() {
        let h = SecretHasher::new(4);
        let free = || h.bcrypt_slots.available_permits();
        let stored = h.hash("right secret").await.unwrap();
        assert!(
            !h.verify("wrong secret", Some(&stored), true, &|| true)
                .await
                .unwrap()
        );
        assert_eq!(
            free(),
            h.slots(),
            "no remembered traffic: the slot is free at once"
        );

        assert!(
            h.verify("right secret", Some(&stored), true, &|| true)
                .await
                .unwrap()
        ); // bcrypt, then remembered
        assert!(
            h.verify("right secret", Some(&stored), true, &|| true)
                .await
                .unwrap()
        ); // the remembered path
        assert!(
            !h.verify("wrong secret", Some(&stored), true, &|| true)
                .await
                .unwrap()
        );
        assert_eq!(free(), h.slots() - 1, "the slot rests after a bcrypt");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(free(), h.slots(), "and comes back");
    }

    #[test]
    fn generated_secrets_verify_by_digest_alone() {
        let secret = vitesse_domain::generated_secret::from_random(&[9; 32]);
        let stored = generated_verifier(&secret);
        assert!(is_generated_verifier(&stored) && !stored.contains(&secret));
        assert!(verify_generated(&secret, Some(&stored)));
        let other = vitesse_domain::generated_secret::from_random(&[8; 32]);
        assert!(!verify_generated(&other, Some(&stored)));
        assert!(!verify_generated(&secret, None));
        assert!(!verify_generated(&secret, Some("$2b$04$notadigest")));
    }

    #[tokio::test]
    async fn concurrent_verifications_of_the_same_secret_share_one_bcrypt() {
        let h = SecretHasher::new(4);
        let stored = h.hash("burst secret").await.unwrap();
        let before = h.runs();
        let answers = futures_util::future::join_all(
            (0..16).map(|_| h.verify("burst secret", Some(&stored), true, &|| true)),
        )
        .await;
        assert!(answers.iter().all(|a| *a == Ok(true)));
        assert_eq!(h.runs() - before, 1, "one bcrypt for sixteen requests");
        let wrong = futures_util::future::join_all(
            (0..4).map(|_| h.verify("wrong secret", Some(&stored), true, &|| true)),
        )
        .await;
        assert!(wrong.iter().all(|a| *a == Ok(false)));
        assert!(h.in_flight.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let mut h = SecretHasher::new(4);
        h.queue_max = 0;
        assert_eq!(h.verify("x", None, true, &|| true).await, Err(NotRun::Busy));
    }

    #[tokio::test]
    async fn the_memory_forgets_the_least_recently_used_first() {
        let h = SecretHasher::new(4);
        *h.remembered.lock().unwrap() = LruCache::new(NonZeroUsize::new(2).unwrap());
        let mut hashes = vec![];
        for s in ["s1", "s2", "s3"] {
            hashes.push(h.hash(s).await.unwrap());
        }
        assert!(
            h.verify("s1", Some(&hashes[0]), true, &|| true)
                .await
                .unwrap()
        );
        assert!(
            h.verify("s2", Some(&hashes[1]), true, &|| true)
                .await
                .unwrap()
        );
        assert!(
            h.remembered("s1", &hashes[0]),
            "s1 is used again: s2 is now the oldest"
        );
        assert!(
            h.verify("s3", Some(&hashes[2]), true, &|| true)
                .await
                .unwrap()
        );
        assert!(h.remembered("s1", &hashes[0]));
        assert!(h.remembered("s3", &hashes[2]));
        assert!(
            !h.remembered("s2", &hashes[1]),
            "the least recently used went"
        );
    }

    #[tokio::test]
    async fn unknown_client_never_verifies() {
        let h = SecretHasher::new(4);
        assert!(
            !h.verify("dummy secret", None, true, &|| true)
                .await
                .unwrap()
        );
    }
}
