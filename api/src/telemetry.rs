//! Logging: `tracing`, and every line a request writes — its access line, a storage error, a
//! failed key reload it triggered — carries its request id, shown as an enclosing span named
//! `request`. Text for people, JSON (one object per line) for log shippers; the fields are
//! listed in docs/operating.md. Nothing logged here contains a secret, a password, a session
//! id, a token or a query string.
//!
//! The id rides in a task-local value, not a real span: a `tracing` span per request (made,
//! entered and left at every poll, closed) cost about 3 µs of every token, and the lines are
//! few. The formatter writes it where the span would be.

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use std::fmt;
use std::future::Future;
use std::time::Instant;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{self as fmt_layer, FmtContext};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

tokio::task_local! {
    /// The id of the request whose future is being polled (see `request_span`).
    static CURRENT_REQUEST: String;
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
        LogFormat::Text => builder
            .event_format(WithRequestId {
                inner: fmt_layer::format().with_ansi(ansi),
                json: false,
            })
            .try_init(),
        LogFormat::Json => builder
            .fmt_fields(fmt_layer::format::JsonFields::new())
            .event_format(WithRequestId {
                inner: fmt_layer::format()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(true),
                json: true,
            })
            .try_init(),
    };
    // A second init (tests start many servers in one process) keeps the first subscriber.
    let _ = installed;
}

/// A line as `inner` writes it, with the request's id as its outermost span when the line
/// is written while a request runs: `request{request_id=…}: ` after the level in text, the
/// first of `"spans"` in JSON.
struct WithRequestId<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Ok(id) = CURRENT_REQUEST.try_with(String::clone) else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        if self.json {
            splice_json(&mut line, &id);
        } else {
            splice_text(&mut line, &id, event.metadata().level());
        }
        writer.write_str(&line)
    }
}

/// Text: `<time> <level> request{request_id=…}: <other spans> <target>: <fields>`, as the
/// formatter writes an enclosing span.
fn splice_text(line: &mut String, id: &str, level: &Level) {
    let level = level.as_str();
    // The level is the first word that can be one (a timestamp holds no letters but `T`, `Z`).
    let Some(start) = line.find(level) else {
        return;
    };
    let mut at = start + level.len();
    // Its colour's reset, at a terminal.
    if line[at..].starts_with("\x1b[0m") {
        at += "\x1b[0m".len();
    }
    if line[at..].starts_with(' ') {
        at += 1;
    }
    line.insert_str(at, &format!("request{{request_id={id}}}: "));
}

/// JSON: `{"request_id":"…","name":"request"}` first in `"spans"` (made if missing).
fn splice_json(line: &mut String, id: &str) {
    let span = format!(
        "{{\"request_id\":{},\"name\":\"request\"}}",
        serde_json::Value::from(id)
    );
    // Values are escaped, so `"spans":[` unescaped is the key itself; it comes last.
    if let Some(at) = line.rfind("\"spans\":[") {
        let at = at + "\"spans\":[".len();
        // An event with an explicit parent outside any entered span gets an empty list.
        let comma = if line[at..].starts_with(']') { "" } else { "," };
        line.insert_str(at, &format!("{span}{comma}"));
    } else if let Some(at) = line.rfind('}') {
        line.insert_str(at, &format!(",\"spans\":[{span}]"));
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Paths whose every request is not worth a line (probes and scrapes).
const QUIET_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// A request id for requests that bring none: unique within this process (a counter) and,
/// through the random start, across instances and restarts. The counter is scrambled so that
/// nobody can foresee another request's id or count the requests between two of theirs; it
/// needs no randomness per request.
fn new_request_id() -> String {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let start = START.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    hex_id(*start, scramble(n))
}

/// A keyed permutation of 64-bit numbers: a four-round Feistel network whose round function is
/// SipHash under a random per-process key. Distinct inputs give distinct outputs, and without
/// the key an output tells nothing of its neighbours.
fn scramble(n: u64) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    static KEY: std::sync::LazyLock<RandomState> = std::sync::LazyLock::new(RandomState::new);
    let (mut left, mut right) = ((n >> 32) as u32, n as u32);
    for round in 0u8..4 {
        let f = KEY.hash_one(u64::from(round) << 32 | u64::from(right)) as u32;
        (left, right) = (right, left ^ f);
    }
    (u64::from(left) << 32) | u64::from(right)
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

/// The caller's request id if it is sane, else a new one. Sane: 1–64 characters, letters,
/// digits and `-_.:;/+=@` (UUIDs, hex, base64, trace headers). Braces, quotes and backslashes
/// are kept out so a caller's id cannot pose as a second span in a text log line
/// (`a}:request{request_id=b`).
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(is_request_id_byte))
        .map_or_else(new_request_id, str::to_owned)
}

/// A caller's text (method, path) as an access line shows it: at most `max` bytes and `…`, so
/// a caller cannot write lines of any length into the log.
fn cut_for_log(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", &text[..end])
}

fn is_request_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.:;/+=@".contains(&b)
}

/// Middleware (outermost): gives the request its id (echoed in `X-Request-Id`), runs it with
/// that id for its log lines, and writes one access line when the response is ready — timed
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
            cut_for_log(req.method().as_str(), 32),
            cut_for_log(req.path(), 256),
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
    let fut = srv.call(req);
    let run = async move {
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
    };
    CURRENT_REQUEST.scope(id, run)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_request_id_is_written_where_its_span_was() {
        let mut text = "2026-11-28T01:18:28.708934Z  WARN vitesse_api::x: failed x=1\n".to_owned();
        super::splice_text(&mut text, "abc", &tracing::Level::WARN);
        assert_eq!(
            text,
            "2026-11-28T01:18:28.708934Z  WARN request{request_id=abc}: vitesse_api::x: failed x=1\n"
        );
        let mut coloured =
            "\x1b[2m2026-11-28T01:18:28Z\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mt\x1b[0m".to_owned();
        super::splice_text(&mut coloured, "abc", &tracing::Level::INFO);
        assert!(
            coloured.contains(" INFO\x1b[0m request{request_id=abc}: \x1b[2mt"),
            "{coloured}"
        );
        let mut json =
            r#"{"level":"INFO","message":"request","target":"vitesse::access"}"#.to_owned();
        super::splice_json(&mut json, "a\"b");
        let line: serde_json::Value = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(line["spans"][0]["request_id"], "a\"b");
        assert_eq!(line["spans"][0]["name"], "request");
        let mut nested =
            r#"{"message":"\"spans\":[","target":"t","spans":[{"name":"inner"}]}"#.to_owned();
        super::splice_json(&mut nested, "abc");
        let line: serde_json::Value = serde_json::from_str(&nested).expect("still JSON");
        assert_eq!(line["spans"][0]["request_id"], "abc", "outermost first");
        assert_eq!(line["spans"][1]["name"], "inner");
        assert_eq!(line["message"], "\"spans\":[");
        let mut empty = r#"{"target":"t","spans":[]}"#.to_owned();
        super::splice_json(&mut empty, "abc");
        let line: serde_json::Value = serde_json::from_str(&empty).expect("still JSON");
        assert_eq!(line["spans"][0]["request_id"], "abc");
    }

    #[test]
    fn long_paths_are_cut_short_in_the_access_line() {
        assert_eq!(super::cut_for_log("/oauth2/token", 256), "/oauth2/token");
        let long = format!("/{}", "é".repeat(5000));
        let shown = super::cut_for_log(&long, 256);
        assert!(shown.len() <= 256 + "…".len(), "{}", shown.len());
        assert!(shown.ends_with('…') && long.starts_with(shown.trim_end_matches('…')));
    }

    #[test]
    fn generated_request_ids_are_distinct_and_do_not_count_up() {
        let ids: std::collections::HashSet<u64> = (0..100_000).map(super::scramble).collect();
        assert_eq!(
            ids.len(),
            100_000,
            "a permutation: no two counters share an id"
        );
        let steps = (0..1000u64)
            .filter(|&n| super::scramble(n + 1).wrapping_sub(super::scramble(n)) < 1 << 32)
            .count();
        assert!(
            steps < 10,
            "neighbouring ids are not near each other ({steps} of 1000)"
        );
    }

    #[test]
    fn request_ids_are_two_zero_padded_hex_words() {
        for (start, n) in [(0, 0), (0xdead_beef, 1), (u64::MAX, 0x0123_4567_89ab_cdef)] {
            assert_eq!(super::hex_id(start, n), format!("{start:016x}{n:016x}"));
        }
    }
}
