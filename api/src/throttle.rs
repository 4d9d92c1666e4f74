//! Failure throttling against guessing: after `max_failures` failed attempts within `window`
//! for one key (e.g. email + source address), further attempts are refused until the window
//! ends. Keyed by the pair so a stranger elsewhere cannot lock a legitimate caller out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_KEYS: usize = 100_000;

pub struct Throttle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` while `key` is locked out.
    pub fn check(&self, key: &str) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        let (count, since) = map.get(key)?;
        let elapsed = since.elapsed();
        (*count >= self.max_failures && elapsed < self.window)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    pub fn failed(&self, key: &str) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_only_that_key() {
        let t = Throttle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.check("a").is_none());
            t.failed("a");
        }
        assert!(t.check("a").is_some());
        assert!(t.check("b").is_none());
        t.succeeded("a");
        assert!(t.check("a").is_none());
    }

    #[test]
    fn window_expires() {
        let t = Throttle::new(1, Duration::from_millis(10));
        t.failed("a");
        assert!(t.check("a").is_some());
        std::thread::sleep(Duration::from_millis(15));
        assert!(t.check("a").is_none());
    }
}
