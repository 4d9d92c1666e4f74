//! What this instance has counted and taken but not yet written: usage per client per hour
//! (the token path only adds to memory; `service::usage::flush` writes it), and the quota
//! leases it holds (blocks of a client's window taken from the shared total, spent locally).

use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use vitesse_domain::QuotaWindow;
use vitesse_domain::usage::{UsageCounts, UsageKind};

/// One client's counts per hour (hours since the epoch), not yet written.
type Hours = Vec<(i64, UsageCounts)>;

/// Usage counted in memory since the last flush.
pub struct UsageBook {
    on: bool,
    counts: Mutex<HashMap<String, Hours>>,
    /// Held while counts are on their way to the database (taken from memory, not yet
    /// committed): whoever must see every issued token, written or not, waits for it.
    pub writing: tokio::sync::Mutex<()>,
}

fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

fn hour_start(hour: i64) -> NaiveDateTime {
    DateTime::from_timestamp(hour * 3600, 0)
        .unwrap_or_default()
        .naive_utc()
}

impl UsageBook {
    /// `on: false` counts nothing (the bench's baseline).
    pub fn new(on: bool) -> Self {
        Self {
            on,
            counts: Mutex::default(),
            writing: tokio::sync::Mutex::const_new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Hours>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one request of `client_pk` at `at`: a map lookup under a lock, no I/O.
    pub fn count(&self, client_pk: &str, kind: UsageKind, at: DateTime<Utc>) {
        if !self.on {
            return;
        }
        let hour = hour_of(at);
        let mut counts = self.lock();
        let hours = match counts.get_mut(client_pk) {
            Some(h) => h,
            None => counts.entry(client_pk.to_owned()).or_default(),
        };
        match hours.iter_mut().find(|(h, _)| *h == hour) {
            Some((_, c)) => c.add(kind, 1),
            None => {
                let mut c = UsageCounts::default();
                c.add(kind, 1);
                hours.push((hour, c));
            }
        }
    }

    /// Everything counted so far, leaving the book empty: `(client, hour start, counts)`.
    pub fn take(&self) -> Vec<(String, NaiveDateTime, UsageCounts)> {
        let taken = std::mem::take(&mut *self.lock());
        taken
            .into_iter()
            .flat_map(|(pk, hours)| {
                hours
                    .into_iter()
                    .map(move |(h, c)| (pk.clone(), hour_start(h), c))
            })
            .collect()
    }

    /// Puts back what a failed write took, so nothing counted is lost.
    pub fn put_back(&self, rows: Vec<(String, NaiveDateTime, UsageCounts)>) {
        let mut counts = self.lock();
        for (pk, start, c) in rows {
            let hour = start.and_utc().timestamp().div_euclid(3600);
            let hours = counts.entry(pk).or_default();
            match hours.iter_mut().find(|(h, _)| *h == hour) {
                Some((_, mine)) => mine.merge(&c),
                None => hours.push((hour, c)),
            }
        }
    }

    /// What is counted here for `client_pk` and not yet written, per hour start.
    pub fn pending(&self, client_pk: &str) -> Vec<(NaiveDateTime, UsageCounts)> {
        self.lock()
            .get(client_pk)
            .map(|hours| hours.iter().map(|(h, c)| (hour_start(*h), *c)).collect())
            .unwrap_or_default()
    }

    /// Tokens issued to `client_pk` from `since` on, counted here and not yet written.
    pub fn issued_since(&self, client_pk: &str, since: DateTime<Utc>) -> u64 {
        let from = hour_of(since);
        self.lock().get(client_pk).map_or(0, |hours| {
            hours
                .iter()
                .filter(|(h, _)| *h >= from)
                .map(|(_, c)| c.get(UsageKind::Issued))
                .sum()
        })
    }

    /// The same for every client.
    pub fn pending_all(&self) -> Vec<(String, NaiveDateTime, UsageCounts)> {
        self.lock()
            .iter()
            .flat_map(|(pk, hours)| hours.iter().map(|(h, c)| (pk.clone(), hour_start(*h), *c)))
            .collect()
    }
}

/// A block of one client's window this instance has taken and not yet spent.
#[derive(Debug, Clone, Copy)]
struct Lease {
    /// The window's start (Unix seconds) and the limit it was taken under: a new window or a
    /// changed limit makes it void.
    start: i64,
    limit: u32,
    left: u32,
}

/// A client's window of one kind: `(client, hour or day)`.
type WindowKey = (String, QuotaWindow);

/// The quota leases this instance holds.
#[derive(Default)]
pub struct QuotaBook {
    leases: Mutex<HashMap<(String, QuotaWindow), Lease>>,
    /// One database take at a time per client and window: requests that find the lease empty
    /// at once wait for one take and share it, so an instance never holds more than a block.
    gates: Mutex<HashMap<WindowKey, Arc<tokio::sync::Mutex<()>>>>,
    /// Windows found used up: `(window start, limit)` → when to ask the database again.
    used_up: Mutex<HashMap<WindowKey, (i64, u32, Instant)>>,
}

impl QuotaBook {
    /// The gate of one client's window (see `gates`).
    pub fn gate(&self, client_pk: &str, window: QuotaWindow) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        if gates.len() > 10_000 {
            // Gates nobody holds are dropped now and then; a held one survives in its holder.
            gates.retain(|_, g| Arc::strong_count(g) > 1);
        }
        gates
            .entry((client_pk.to_owned(), window))
            .or_default()
            .clone()
    }

    /// Whether this window was found used up lately (so asking the database again can wait).
    pub fn known_used_up(
        &self,
        client_pk: &str,
        window: QuotaWindow,
        start: i64,
        limit: u32,
    ) -> bool {
        let used_up = self.used_up.lock().unwrap_or_else(|e| e.into_inner());
        used_up
            .get(&(client_pk.to_owned(), window))
            .is_some_and(|(s, l, until)| *s == start && *l == limit && Instant::now() < *until)
    }

    /// Notes the window as used up for `recheck` (the database is asked again after it).
    pub fn note_used_up(
        &self,
        client_pk: &str,
        window: QuotaWindow,
        start: i64,
        limit: u32,
        recheck: std::time::Duration,
    ) {
        let mut used_up = self.used_up.lock().unwrap_or_else(|e| e.into_inner());
        if used_up.len() > 10_000 {
            let now = Instant::now();
            used_up.retain(|_, (_, _, until)| *until > now);
        }
        used_up.insert(
            (client_pk.to_owned(), window),
            (start, limit, Instant::now() + recheck),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, QuotaWindow), Lease>> {
        self.leases.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spends one token of a lease held for this window and limit; `false` when none is left.
    pub fn spend(&self, client_pk: &str, window: QuotaWindow, start: i64, limit: u32) -> bool {
        let mut leases = self.lock();
        // A lookup by borrowed key would need the tuple; quota clients are few, so this clone
        // stays off the path of every other client.
        match leases.get_mut(&(client_pk.to_owned(), window)) {
            Some(l) if l.start == start && l.limit == limit && l.left > 0 => {
                l.left -= 1;
                true
            }
            _ => false,
        }
    }

    /// Adds a block just taken (and spends one of it when `spend`); a lease of an older window
    /// or limit is dropped.
    pub fn add(
        &self,
        client_pk: &str,
        window: QuotaWindow,
        start: i64,
        limit: u32,
        granted: u32,
        spend: bool,
    ) {
        let mut leases = self.lock();
        let l = leases
            .entry((client_pk.to_owned(), window))
            .or_insert(Lease {
                start,
                limit,
                left: 0,
            });
        if l.start != start || l.limit != limit {
            *l = Lease {
                start,
                limit,
                left: 0,
            };
        }
        l.left += granted;
        if spend && l.left > 0 {
            l.left -= 1;
        }
    }

    /// Gives one token back to a lease (another window refused the request).
    pub fn refund(&self, client_pk: &str, window: QuotaWindow, start: i64) {
        if let Some(l) = self.lock().get_mut(&(client_pk.to_owned(), window))
            && l.start == start
        {
            l.left += 1;
        }
    }

    /// Every unspent lease, leaving none: `(client, window, window start, unspent)`.
    pub fn drain(&self) -> Vec<(String, QuotaWindow, NaiveDateTime, u32)> {
        std::mem::take(&mut *self.lock())
            .into_iter()
            .filter(|(_, l)| l.left > 0)
            .map(|((pk, w), l)| {
                let start = DateTime::from_timestamp(l.start, 0)
                    .unwrap_or_default()
                    .naive_utc();
                (pk, w, start, l.left)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitesse_domain::usage::RefusalReason;

    #[test]
    fn counts_add_up_per_client_and_hour_and_survive_a_failed_write() {
        let book = UsageBook::new(true);
        let t: DateTime<Utc> = "2026-11-27T13:10:00Z".parse().unwrap();
        book.count("a", UsageKind::Issued, t);
        book.count("a", UsageKind::Issued, t);
        book.count("a", UsageKind::Refused(RefusalReason::Quota), t);
        book.count("a", UsageKind::Issued, t + chrono::Duration::hours(1));
        book.count("b", UsageKind::Issued, t);
        assert_eq!(book.pending("a").len(), 2);
        let taken = book.take();
        assert_eq!(taken.len(), 3);
        assert!(book.pending("a").is_empty());
        book.put_back(taken);
        book.count("a", UsageKind::Issued, t);
        let a: Vec<_> = book.pending("a");
        let first = a
            .iter()
            .find(|(h, _)| h.and_utc() == t - chrono::Duration::minutes(10));
        assert_eq!(first.unwrap().1.get(UsageKind::Issued), 3);
        assert_eq!(
            first
                .unwrap()
                .1
                .get(UsageKind::Refused(RefusalReason::Quota)),
            1
        );
        let off = UsageBook::new(false);
        off.count("a", UsageKind::Issued, t);
        assert!(off.take().is_empty());
    }

    #[test]
    fn a_lease_is_spent_within_its_window_and_limit_only() {
        let book = QuotaBook::default();
        let w = QuotaWindow::Hour;
        assert!(!book.spend("a", w, 0, 10));
        book.add("a", w, 0, 10, 2, true);
        assert!(book.spend("a", w, 0, 10));
        assert!(!book.spend("a", w, 0, 10), "two taken, two spent");
        book.refund("a", w, 0);
        assert!(!book.spend("a", w, 0, 9), "a changed limit voids the lease");
        assert!(book.spend("a", w, 0, 10));
        book.add("a", w, 3600, 10, 5, false);
        assert!(!book.spend("a", w, 0, 10), "an old window's lease is gone");
        assert_eq!(book.drain().len(), 1);
    }
}
