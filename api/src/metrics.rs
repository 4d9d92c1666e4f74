//! Prometheus metrics at /metrics, kept by hand: a few counters and one histogram do not need a
//! metrics framework.

use crate::error::OAuthErrorCode;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the token-latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    tokens_issued: AtomicU64,
    /// By [`OAuthErrorCode::ALL`]'s order.
    tokens_refused: [AtomicU64; OAuthErrorCode::ALL.len()],
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    /// Token requests past a quota: refused (enforce), issued anyway (report).
    quota_refused: AtomicU64,
    quota_reported: AtomicU64,
}

/// The `# HELP` and `# TYPE` lines that open a metric family.
fn describe(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    pub fn token_issued(&self, took: Duration) {
        self.tokens_issued.fetch_add(1, Relaxed);
        self.observe(took);
    }

    pub fn token_refused(&self, reason: OAuthErrorCode, took: Duration) {
        let i = OAuthErrorCode::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or_default();
        self.tokens_refused[i].fetch_add(1, Relaxed);
        self.observe(took);
    }

    /// A token request past a client's quota: refused, or only reported.
    pub fn over_quota(&self, refused: bool) {
        let counter = if refused {
            &self.quota_refused
        } else {
            &self.quota_reported
        };
        counter.fetch_add(1, Relaxed);
    }

    /// One increment in the observation's own bucket (cumulated when rendered): every atomic
    /// here is shared by all workers, so the hot path touches as few as it can.
    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.latency_buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(
        &self,
        pool: r2d2::State,
        pool_max: u32,
        bcrypt_waiting: usize,
        bcrypt_slots: usize,
        bcrypt_runs: u64,
    ) -> String {
        let mut out = String::new();
        describe(
            &mut out,
            "vitesse_tokens_issued_total",
            "counter",
            "Access tokens issued.",
        );
        let _ = writeln!(
            out,
            "vitesse_tokens_issued_total {}",
            self.tokens_issued.load(Relaxed)
        );
        describe(
            &mut out,
            "vitesse_tokens_refused_total",
            "counter",
            "Token requests refused, by RFC 6749 error.",
        );
        for (i, reason) in OAuthErrorCode::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "vitesse_tokens_refused_total{{reason=\"{}\"}} {}",
                reason.as_str(),
                self.tokens_refused[i].load(Relaxed)
            );
        }
        describe(
            &mut out,
            "vitesse_tokens_over_quota_total",
            "counter",
            "Token requests past a client's quota, by what happened: refused (enforce) or issued (report).",
        );
        for (outcome, counter) in [
            ("refused", &self.quota_refused),
            ("issued", &self.quota_reported),
        ] {
            let _ = writeln!(
                out,
                "vitesse_tokens_over_quota_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Relaxed)
            );
        }
        describe(
            &mut out,
            "vitesse_token_request_duration_seconds",
            "histogram",
            "Time to answer a token request.",
        );
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.latency_buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "vitesse_token_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            out,
            "vitesse_token_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "vitesse_token_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "vitesse_token_request_duration_seconds_count {count}");
        describe(
            &mut out,
            "vitesse_db_pool_connections",
            "gauge",
            "Database connections, by state.",
        );
        let _ = writeln!(
            out,
            "vitesse_db_pool_connections{{state=\"idle\"}} {}",
            pool.idle_connections
        );
        let _ = writeln!(
            out,
            "vitesse_db_pool_connections{{state=\"in_use\"}} {}",
            pool.connections - pool.idle_connections
        );
        let _ = writeln!(
            out,
            "vitesse_db_pool_connections{{state=\"max\"}} {pool_max}"
        );
        describe(
            &mut out,
            "vitesse_bcrypt_queue_depth",
            "gauge",
            "Secret verifications waiting for a bcrypt slot.",
        );
        let _ = writeln!(out, "vitesse_bcrypt_queue_depth {bcrypt_waiting}");
        describe(
            &mut out,
            "vitesse_bcrypt_slots",
            "gauge",
            "bcrypt computations that may run at once.",
        );
        let _ = writeln!(out, "vitesse_bcrypt_slots {bcrypt_slots}");
        describe(
            &mut out,
            "vitesse_bcrypt_verifications_total",
            "counter",
            "bcrypt verifications run (typed secrets not yet remembered, passwords, unknown clients).",
        );
        let _ = writeln!(out, "vitesse_bcrypt_verifications_total {bcrypt_runs}");
        out
    }
}
