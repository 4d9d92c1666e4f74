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
}

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
        let now = Instant::now();
        let kept = {
            let cache = self.lock();
            cache
                .get(url)
                .map(|e| (e.set.clone(), e.fresh_until, e.fetched_at))
        };
        if let Some((set, fresh_until, fetched_at)) = &kept {
            let knows_kid = |s: &JwkSet| {
                kid.is_none_or(|k| s.keys.iter().any(|key| key.kid.as_deref() == Some(k)))
            };
            let fresh = now < *fresh_until;
            let may_refetch = now.duration_since(*fetched_at) >= self.refetch_gap;
            match set {
                Some(s) if fresh && (knows_kid(s) || !may_refetch) => {
                    return (Some(s.clone()), None);
                }
                None if fresh && !may_refetch => return (None, None),
                _ => {}
            }
        }
        let (set, fetched, keep) = match self.fetch(url).await {
            Ok((set, json, keep)) => (Some(Arc::new(set)), Fetched::Keys(json), keep),
            // A failed fetch keeps what was there (a publisher's outage must not lock its
            // clients out at once) and is tried again after a minute.
            Err(e) => (kept.and_then(|k| k.0), Fetched::Failed(e), self.refetch_gap),
        };
        self.lock().insert(
            url.to_owned(),
            Entry {
                set: set.clone(),
                fresh_until: now + keep,
                fetched_at: now,
            },
        );
        (set, Some(fetched))
    }

    async fn fetch(&self, url: &str) -> Result<(JwkSet, String, Duration), String> {
        let mut res = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("could not fetch {url}: {}", without_url(&e)))?;
        if !res.status().is_success() {
            return Err(format!("{url} answered {}", res.status()));
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
            .map_err(|e| format!("could not read {url}: {}", without_url(&e)))?
        {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(format!("{url} is larger than 64 KiB"));
            }
            body.extend_from_slice(&chunk);
        }
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| format!("{url} is not JSON"))?;
        let set = JwkSet::parse_for(Field::JwksUri, &value).map_err(|e| e.message)?;
        let json = set.to_json().to_string();
        Ok((set, json, keep))
    }
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
