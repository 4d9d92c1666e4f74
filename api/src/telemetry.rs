//! Logging: `tracing` with one span per request, so every line a request writes — its access
//! line, a storage error, a failed key reload it triggered — carries its request id. Text for
//! people, JSON (one object per line) for log shippers; the fields are listed in
//! docs/operating.md. Nothing logged here contains a secret, a password, a session id, a token
//! or a query string.

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use std::future::Future;
use std::time::Instant;
use tracing::{Instrument, Level};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the subscriber: `RUST_LOG` filters (default `info`), lines go to stderr. Records
/// of the `log` crate (actix, diesel, r2d2) are forwarded into it.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into a file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
    // A second init (tests start many servers in one process) keeps the first subscriber.
    let _ = installed;
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Paths whose every request is not worth a line (probes and scrapes).
const QUIET_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// A request id for requests that bring none: unique within this process and, through the
/// random start, across instances and restarts; it needs no randomness per request.
fn new_request_id() -> String {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let start = START.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    hex_id(*start, n)
}

/// `format!("{start:016x}{n:016x}")`, by hand: the formatting machinery cost ~1.5k
/// instructions per request.
fn hex_id(start: u64, n: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(32);
    for word in [start, n] {
        for shift in (0..16).rev() {
            id.push(char::from(HEX[((word >> (shift * 4)) & 0xf) as usize]));
        }
    }
    id
}

/// The caller's request id if it is sane (1–64 visible ASCII characters), else a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned)
}

/// Middleware (outermost): gives the request its id (echoed in `X-Request-Id`), runs it inside
/// a span that carries the id, and writes one access line when the response is ready — timed
/// from the request's start, not the connection's.
pub fn request_span<S, B>(
    mut req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: 'static,
{
    let started = Instant::now();
    let id = request_id(&req);
    let header = HeaderValue::from_str(&id).ok();
    if let Some(v) = &header {
        req.headers_mut().insert(REQUEST_ID, v.clone());
    }
    let access = tracing::enabled!(target: "vitesse::access", Level::INFO)
        && !QUIET_PATHS.contains(&req.path());
    let line = access.then(|| {
        (
            req.method().to_string(),
            req.path().to_owned(),
            req.peer_addr().map(|a| {
                match req.app_data::<actix_web::web::Data<crate::state::AppState>>() {
                    Some(state) => {
                        crate::http::caller::caller_behind(a.ip(), req.headers(), &state.config)
                            .to_string()
                    }
                    None => a.ip().to_string(),
                }
            }),
        )
    });
    // At error level so that even a quiet server (`RUST_LOG=warn`) tags its few lines with the id.
    let span = tracing::error_span!("request", request_id = %id);
    let fut = srv.call(req);
    async move {
        let result = fut.await;
        if let Some((method, path, peer)) = line {
            let status = match &result {
                Ok(res) => res.status().as_u16(),
                Err(e) => e.as_response_error().status_code().as_u16(),
            };
            tracing::info!(
                target: "vitesse::access",
                method,
                path,
                status,
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                peer = peer.as_deref().unwrap_or("-"),
                "request"
            );
        }
        let mut res = result?;
        if let Some(v) = header {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        Ok(res)
    }
    .instrument(span)
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_two_zero_padded_hex_words() {
        for (start, n) in [(0, 0), (0xdead_beef, 1), (u64::MAX, 0x0123_4567_89ab_cdef)] {
            assert_eq!(super::hex_id(start, n), format!("{start:016x}{n:016x}"));
        }
    }
}
