//! JWK Sets published by clients (`jwks_uri`): fetched with a short timeout, a size limit and no
//! redirects, kept as long as the publisher's `Cache-Control` says within 1 minute to 1 day (5
//! minutes when it says nothing), and fetched again early — at most once a minute — when an
//! assertion names a `kid` the kept set lacks (the client rotated its keys).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vitesse_domain::{Field, JwkSet};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BYTES: usize = 64 * 1024;
const MIN_KEEP: u64 = 60;
const MAX_KEEP: u64 = 24 * 3600;
const DEFAULT_KEEP: u64 = 300;

struct Entry {
    set: Option<Arc<JwkSet>>,
    fresh_until: Instant,
    fetched_at: Instant,
}

/// What a fetch came to, for the client's details page.
pub enum Fetched {
    /// The set, as JSON.
    Keys(String),
    /// Why it failed, as an admin can act on it.
    Failed(String),
}

pub struct RemoteJwks {
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Entry>>,
    /// The least time between two fetches of one URL for an unknown `kid` (a minute).
    refetch_gap: Duration,
    /// One fetch at a time per URL: whoever waited finds the fresh set in the cache.
    gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// At most this many fetches at once, all URLs together; past it a request is answered
    /// from what is kept rather than held (a slow publisher must not hold the token path).
    fetches: tokio::sync::Semaphore,
}

const MAX_FETCHES: usize = 8;
/// URLs remembered at most; past it the cache starts again (clients' URLs are few).
const MAX_URLS: usize = 10_000;

impl RemoteJwks {
    pub fn new(refetch_gap: Duration) -> Self {
        Self {
            refetch_gap,
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("vitesse-identity/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("an HTTP client with static settings"),
            cache: Mutex::default(),
            gates: Mutex::default(),
            fetches: tokio::sync::Semaphore::new(MAX_FETCHES),
        }
    }
}

/// `max-age` of a `Cache-Control` value, kept within bounds.
fn keep_for(cache_control: Option<&str>) -> Duration {
    let max_age = cache_control.and_then(|v| {
        v.split(',')
            .filter_map(|d| d.trim().strip_prefix("max-age="))
            .find_map(|n| n.trim().parse::<u64>().ok())
    });
    Duration::from_secs(max_age.unwrap_or(DEFAULT_KEEP).clamp(MIN_KEEP, MAX_KEEP))
}

impl RemoteJwks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The set published at `url` for an assertion naming `kid`, and what a fetch made now came
    /// to (`None` when the kept set served).
    pub async fn keys(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> (Option<Arc<JwkSet>>, Option<Fetched>) {
        let asked = Instant::now();
        if let Some(served) = self.kept_for(url, kid, asked) {
            return (served, None);
        }
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
            if gates.len() > MAX_URLS {
                gates.retain(|_, g| Arc::strong_count(g) > 1);
            }
            gates.entry(url.to_owned()).or_default().clone()
        };
        let _turn = gate.lock().await;
        let kept = || self.lock().get(url).and_then(|e| e.set.clone());
        // Fetched by whoever went first while this request waited: that answer serves.
        if self.lock().get(url).is_some_and(|e| e.fetched_at >= asked) {
            return (kept(), None);
        }
        let Ok(_permit) = self.fetches.try_acquire() else {
            return (kept(), None);
        };
        let (set, fetched, keep) = match self.fetch(url).await {
            Ok((set, json, keep)) => (Some(Arc::new(set)), Fetched::Keys(json), keep),
            // A failed fetch keeps what was there (a publisher's outage must not lock its
            // clients out at once) and is tried again after the refetch gap.
            Err(e) => (kept(), Fetched::Failed(e), self.refetch_gap),
        };
        // Stamped when the answer is in: every request that waited for it is served by it.
        let now = Instant::now();
        let mut cache = self.lock();
        if cache.len() > MAX_URLS {
            cache.clear();
        }
        cache.insert(
            url.to_owned(),
            Entry {
                set: set.clone(),
                fresh_until: now + keep,
                fetched_at: now,
            },
        );
        (set, Some(fetched))
    }

    /// The kept set when it may serve (fresh, and knowing `kid` or not due for a refetch);
    /// `None` when a fetch is due.
    fn kept_for(&self, url: &str, kid: Option<&str>, now: Instant) -> Option<Option<Arc<JwkSet>>> {
        let cache = self.lock();
        let e = cache.get(url)?;
        let knows_kid =
            |s: &JwkSet| kid.is_none_or(|k| s.keys.iter().any(|key| key.kid.as_deref() == Some(k)));
        let fresh = now < e.fresh_until;
        let may_refetch = now.duration_since(e.fetched_at) >= self.refetch_gap;
        match &e.set {
            Some(s) if fresh && (knows_kid(s) || !may_refetch) => Some(Some(s.clone())),
            None if fresh && !may_refetch => Some(None),
            _ => None,
        }
    }

    async fn fetch(&self, url: &str) -> Result<(JwkSet, String, Duration), String> {
        let mut res = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| failed(url, "could not be fetched", &without_url(&e)))?;
        if !res.status().is_success() {
            return Err(failed(
                url,
                "did not answer with the keys",
                &res.status().to_string(),
            ));
        }
        let keep = keep_for(
            res.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
        );
        let mut body = Vec::new();
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| failed(url, "could not be read", &without_url(&e)))?
        {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(failed(url, "is larger than 64 KiB", "size"));
            }
            body.extend_from_slice(&chunk);
        }
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| failed(url, "is not JSON", "json"))?;
        let set = JwkSet::parse_for(Field::JwksUri, &value)
            .map_err(|e| failed(url, "is not a JWK Set of public signing keys", &e.message))?;
        let json = set.to_json().to_string();
        Ok((set, json, keep))
    }
}

/// What an admin sees of a failed fetch: what went wrong in general terms only (what another
/// host answered is not shown: the URL may point anywhere the server reaches); the detail goes
/// to the log.
fn failed(url: &str, what: &str, detail: &str) -> String {
    tracing::warn!(url, detail, "a client's jwks_uri {what}");
    format!("The keys URL {what}")
}

/// reqwest's error text without the URL it repeats.
fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(i) = e.find(" for url (") {
        e.truncate(i);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishers_say_how_long_within_bounds() {
        assert_eq!(keep_for(None), Duration::from_secs(300));
        assert_eq!(
            keep_for(Some("public, max-age=3600")),
            Duration::from_secs(3600)
        );
        assert_eq!(keep_for(Some("max-age=1")), Duration::from_secs(60));
        assert_eq!(
            keep_for(Some("max-age=99999999")),
            Duration::from_secs(86400)
        );
        assert_eq!(keep_for(Some("no-store")), Duration::from_secs(300));
    }
}
