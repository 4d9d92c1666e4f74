//! Failure throttling against guessing. An attempt is counted when it starts, before the slow
//! verification, so parallel guesses cannot all slip past the check: while `failures +
//! attempts in flight` reaches `max_failures` within `window`, further attempts are refused
//! until the window ends.
//!
//! Keys are fixed-size digests of what they name (email + address, client ID + address, an
//! address), so a hostile caller cannot grow memory with long identifiers; `prune` (run on a
//! timer) drops keys whose window has passed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Beyond this many keys the table is pruned at once, whatever the timer does — at most once a
/// second, so that callers from many addresses cannot make every attempt scan the table.
const MAX_KEYS: usize = 100_000;

type Key = [u8; 16];

/// Who a throttle counts for a caller's address: the address itself for IPv4, its /64 for
/// IPv6 — one host commonly holds a whole /64, and counting its addresses one by one gave it
/// endless budgets (found by a hostile review).
pub fn source(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
        _ => address.to_owned(),
    }
}

/// The fixed-size key of `parts` (e.g. `["client-id", "203.0.113.9"]`).
pub fn key(parts: &[&str]) -> Key {
    let mut joined: Vec<&[u8]> = Vec::with_capacity(parts.len() * 2);
    for p in parts {
        joined.push(p.as_bytes());
        joined.push(b"\0");
    }
    let d = crate::digest::sha256(&joined);
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

#[derive(Debug)]
struct Entry {
    failures: u32,
    in_flight: u32,
    since: Instant,
}

pub struct Throttle {
    max_failures: u32,
    window: Duration,
    /// A success wipes the key's failures (one caller's own credentials), or leaves them (a
    /// budget shared by everything from one address, which the caller's own success must not
    /// refill).
    success_forgives: bool,
    entries: Mutex<HashMap<Key, Entry>>,
    /// When a full table was last pruned.
    crowded_pruned: Mutex<Option<Instant>>,
}

/// An attempt in flight. Say how it ended (`succeeded`/`failed`); dropped without a word (the
/// request was cancelled, say), it simply stops counting as in flight.
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    key: Key,
    open: bool,
}

impl Throttle {
    /// Failures of one pair of credentials and caller: a success forgives them.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            success_forgives: true,
            entries: Mutex::new(HashMap::new()),
            crowded_pruned: Mutex::new(None),
        }
    }

    /// A failure budget for the window, which successes do not refill.
    pub fn budget(max_failures: u32, window: Duration) -> Self {
        Self {
            success_forgives: false,
            ..Self::new(max_failures, window)
        }
    }

    fn wait(&self, since: Instant) -> u64 {
        self.window.saturating_sub(since.elapsed()).as_secs().max(1)
    }

    /// `Some(seconds to wait)` while `key` has spent its failures (no attempt is started).
    pub fn check(&self, key: &Key) -> Option<u64> {
        let map = self.entries.lock().ok()?;
        let e = map.get(key)?;
        (e.failures >= self.max_failures && e.since.elapsed() < self.window)
            .then(|| self.wait(e.since))
    }

    /// Starts an attempt, or `Err(seconds to wait)` when the key's failures and attempts in
    /// flight already reach the limit.
    pub fn begin(&self, key: Key) -> Result<Attempt<'_>, u64> {
        let Ok(mut map) = self.entries.lock() else {
            return Err(1);
        };
        if map.len() >= MAX_KEYS {
            self.prune_crowded(&mut map);
        }
        let e = map.entry(key).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            since: Instant::now(),
        });
        if e.since.elapsed() >= self.window {
            e.failures = 0;
            e.since = Instant::now();
        }
        if e.failures + e.in_flight >= self.max_failures {
            return Err(self.wait(e.since));
        }
        e.in_flight += 1;
        Ok(Attempt {
            throttle: self,
            key,
            open: true,
        })
    }

    /// A success outside an attempt (a verification remembered from before): the key's
    /// failures are forgiven.
    pub fn forgive(&self, key: &Key) {
        if let Ok(mut map) = self.entries.lock()
            && map.get(key).is_some_and(|e| e.in_flight == 0)
        {
            map.remove(key);
        }
    }

    fn end(&self, key: &Key, failed: bool) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        let Some(e) = map.get_mut(key) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        if failed {
            e.failures += 1;
        } else if self.success_forgives {
            e.failures = 0;
        }
        if e.failures == 0 && e.in_flight == 0 {
            map.remove(key);
        }
    }

    /// Drops keys whose window has passed and that have nothing in flight.
    pub fn prune(&self) {
        if let Ok(mut map) = self.entries.lock() {
            let window = self.window;
            map.retain(|_, e| e.in_flight > 0 || e.since.elapsed() < window);
        }
    }

    /// A full table: keys whose window has passed go; if that is not enough (keys made by
    /// callers from many addresses, each failing once), keys with a single failure go too —
    /// a guesser's own key, failing again and again, stays. At most once a second.
    fn prune_crowded(&self, map: &mut HashMap<Key, Entry>) {
        let Ok(mut last) = self.crowded_pruned.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *last = Some(Instant::now());
        let window = self.window;
        map.retain(|_, e| e.in_flight > 0 || e.since.elapsed() < window);
        if map.len() >= MAX_KEYS * 9 / 10 {
            map.retain(|_, e| e.in_flight > 0 || e.failures >= 2);
        }
    }

    /// How many keys are tracked (for /metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Attempt<'_> {
    pub fn succeeded(mut self) {
        self.open = false;
        self.throttle.end(&self.key, false);
    }

    pub fn failed(mut self) {
        self.open = false;
        self.throttle.end(&self.key, true);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.open
            && let Ok(mut map) = self.throttle.entries.lock()
            && let Some(e) = map.get_mut(&self.key)
        {
            e.in_flight = e.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_only_that_key() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let (a, b) = (key(&["a"]), key(&["b"]));
        for _ in 0..3 {
            assert!(t.check(&a).is_none());
            t.begin(a).unwrap().failed();
        }
        assert!(t.check(&a).is_some());
        assert!(t.begin(a).is_err());
        assert!(t.begin(b).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_before_they_fail() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let k = key(&["client", "addr"]);
        let racing: Vec<_> = (0..3).map(|_| t.begin(k).unwrap()).collect();
        assert!(t.begin(k).is_err(), "a fourth parallel guess is refused");
        drop(racing);
        assert!(t.begin(k).is_ok(), "cancelled attempts stop counting");
    }

    #[test]
    fn success_forgives_and_window_expires_and_prune_forgets() {
        let t = Throttle::new(1, Duration::from_millis(20));
        let k = key(&["a"]);
        t.begin(k).unwrap().failed();
        assert!(t.check(&k).is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert!(t.check(&k).is_none());
        t.prune();
        assert!(t.is_empty());
        t.begin(k).unwrap().succeeded();
        assert!(t.is_empty(), "a success leaves nothing behind");
    }

    /// Found by a hostile review: from many addresses, each key failing once, a full table
    /// was scanned by every attempt (the server stalled). Now one pruning frees it, and the
    /// guesser's own key keeps its count.
    #[test]
    fn a_table_filled_from_many_addresses_is_freed_once_and_keeps_the_guessers_key() {
        let t = Throttle::new(20, Duration::from_secs(300));
        let guesser = key(&["victim-client", "203.0.113.9"]);
        for _ in 0..3 {
            t.begin(guesser).unwrap().failed();
        }
        for i in 0..MAX_KEYS {
            t.begin(key(&["x", &i.to_string()])).unwrap().failed();
        }
        assert!(
            t.len() < MAX_KEYS,
            "the one-failure keys are gone: {}",
            t.len()
        );
        for _ in 0..17 {
            t.begin(guesser).unwrap().failed();
        }
        assert!(
            t.check(&guesser).is_some(),
            "the guesser's 20 failures still count"
        );
    }

    #[test]
    fn an_ipv6_caller_counts_as_its_64() {
        assert_eq!(source("2001:db8::1"), source("2001:db8::ffff:1"));
        assert_ne!(source("2001:db8::1"), source("2001:db8:0:1::1"));
        assert_eq!(source("203.0.113.9"), "203.0.113.9");
        assert_eq!(source(""), "");
    }

    #[test]
    fn keys_are_fixed_size_whatever_they_name() {
        assert_eq!(key(&[&"x".repeat(10_000)]).len(), 16);
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
    }
}

/// Per-key gates for slow work: at most `per_key` of one key's verifications run at once; up
/// to `max_waiting` more wait their turn, and beyond that the caller is refused. One address
/// then holds at most `per_key` places in the shared bcrypt queue, so a flood from it cannot
/// crowd out everyone else, while an honest burst from one address (workers behind one NAT)
/// only waits.
pub struct Gates {
    per_key: usize,
    max_waiting: usize,
    map: Mutex<HashMap<Key, Arc<Gate>>>,
}

struct Gate {
    passes: Arc<Semaphore>,
    /// Callers at this gate: waiting or passing.
    present: AtomicUsize,
}

/// A place at a gate; dropping it frees the place (and forgets the gate when nobody is left).
pub struct GatePass<'a> {
    gates: &'a Gates,
    key: Key,
    gate: Arc<Gate>,
    /// `None` while still waiting (a caller who gives up waiting leaves through Drop too).
    permit: Option<OwnedSemaphorePermit>,
}

impl Gates {
    pub fn new(per_key: usize, max_waiting: usize) -> Self {
        Self {
            per_key: per_key.max(1),
            max_waiting,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a place at `key`'s gate; `Err(())` at once when too many already wait.
    pub async fn enter(&self, key: Key) -> Result<GatePass<'_>, ()> {
        let gate = {
            let mut map = self.map.lock().map_err(|_| ())?;
            let gate = map.entry(key).or_insert_with(|| {
                Arc::new(Gate {
                    passes: Arc::new(Semaphore::new(self.per_key)),
                    present: AtomicUsize::new(0),
                })
            });
            if gate.present.load(Ordering::Acquire) >= self.per_key + self.max_waiting {
                return Err(());
            }
            gate.present.fetch_add(1, Ordering::AcqRel);
            Arc::clone(gate)
        };
        let mut pass = GatePass {
            gates: self,
            key,
            permit: None,
            gate,
        };
        let permit = Arc::clone(&pass.gate.passes)
            .acquire_owned()
            .await
            .map_err(|_| ())?;
        pass.permit = Some(permit);
        Ok(pass)
    }

    fn leave(&self, key: &Key, gate: &Gate) {
        if let Ok(mut map) = self.map.lock()
            && gate.present.fetch_sub(1, Ordering::AcqRel) == 1
        {
            map.remove(key);
        }
    }

    /// How many keys have a gate now (for tests).
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        self.permit.take();
        self.gates.leave(&self.key, &self.gate);
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[tokio::test]
    async fn one_key_waits_its_turn_and_too_many_are_refused() {
        let gates = Gates::new(2, 1);
        let k = key(&["10.0.0.1"]);
        let a = gates.enter(k).await.unwrap();
        let b = gates.enter(k).await.unwrap();
        let wait = Duration::from_millis(30);
        // A third waits its turn (and leaves when it gives up); with one waiting, a fourth is
        // refused at once.
        assert!(tokio::time::timeout(wait, gates.enter(k)).await.is_err());
        drop(b);
        let c = gates.enter(k).await.unwrap();
        let waiting = gates.enter(k);
        tokio::pin!(waiting);
        assert!(tokio::time::timeout(wait, &mut waiting).await.is_err());
        assert!(gates.enter(k).await.is_err(), "too many waiting");
        assert!(
            gates.enter(key(&["10.0.0.2"])).await.is_ok(),
            "other keys pass"
        );
        drop(a);
        let d = waiting.await.unwrap();
        drop((c, d));
        assert!(gates.is_empty(), "a gate nobody uses is forgotten");
    }
}
