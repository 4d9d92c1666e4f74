//! Who is calling, as an extractor: a handler that takes a `Principal` gets the signed-in admin
//! (session cookie, with writes checked to come from our own origin) or the client behind a
//! bearer access token, and 401 for anyone else.

use crate::error::ApiError;
use crate::service::principal::Principal;
use crate::service::{sessions, tokens};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

/// The session cookie's name in the document (over https it is `__Host-vitesse_session`).
pub const SESSION_COOKIE: &str = "vitesse_session";

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await })
    }
}

/// A caller who may manage identity clients (checked before the body is read, so a caller who
/// may not learns nothing about what it sent).
pub struct ClientManager(pub Principal);

impl FromRequest for ClientManager {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let p = resolve(&req).await?;
            p.require_identity_client_manager()?;
            Ok(ClientManager(p))
        })
    }
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))
}

async fn resolve(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = state(req)?;
    if let Some(auth) = req.headers().get("authorization") {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or(ApiError::Unauthenticated)?;
        return tokens::bearer_principal(state, token.trim(), client_address(req)).await;
    }
    let Some(cookie) = req.cookie(state.config.session_cookie_name()) else {
        return Err(ApiError::Unauthenticated);
    };
    let mut p = sessions::resolve(state, cookie.value())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    check_same_origin(req, state)?;
    p.source_ip = client_address(req);
    Ok(p)
}

/// Browsers always send `Origin` on a cross-site or same-origin write; a cookie-authenticated
/// write must come from our own origin.
pub fn check_same_origin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::Forbidden(
            "Cross-site request refused: missing Origin header.",
        ));
    };
    // What the browser addressed: forwarded host and scheme only when a trusted proxy says so.
    let trusted = req.peer_addr().is_some_and(|a| state.config.trusts(a.ip()));
    let own = if trusted {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    } else {
        let host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        format!("http://{host}")
    };
    if origin == own || origin == origin_of(&state.config.issuer) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Cross-site request refused: Origin does not match this server.",
        ))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The caller's address: what throttling, the audit trail and the logs record. Behind a
/// trusted proxy it is the right-most `X-Forwarded-For` address that is not itself a trusted
/// proxy; from anyone else the header is ignored (it is the caller's to forge).
pub fn client_address(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let config = &state(req).ok()?.config;
    Some(caller_behind(peer, req.headers(), config).to_string())
}

/// [`client_address`] from the parts a middleware also has.
pub fn caller_behind(
    peer: IpAddr,
    headers: &actix_web::http::header::HeaderMap,
    config: &crate::config::Config,
) -> IpAddr {
    // A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`: compared, throttled and
    // checked against allow-lists as the IPv4 address they are.
    let peer = peer.to_canonical();
    if !config.trusts(peer) {
        return peer;
    }
    let mut caller = peer;
    // Several headers are one list, in order (RFC 9110 §5.3); read it from the right.
    // Read as bytes: a caller's non-ASCII junk to the left must not hide what the proxy
    // appended on the right.
    let entries: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .collect();
    for entry in entries.iter().rev() {
        let parsed = std::str::from_utf8(entry)
            .ok()
            .and_then(|e| e.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical());
        match parsed.ok_or(()) {
            Ok(ip) if config.trusts(ip) => caller = ip,
            Ok(ip) => return ip,
            // Garbage where an address should be: believe nothing further left.
            Err(_) => return caller,
        }
    }
    caller
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    fn config(trusted: &[&str]) -> crate::config::Config {
        let mut c = crate::config::Config::new("x".into(), "http://x".into());
        c.trusted_proxies = trusted.iter().map(|t| t.parse().unwrap()).collect();
        c
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let c = config(&["10.0.0.0/8", "::1/128"]);
        let h = forwarded(&["198.51.100.7, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(caller_behind(ip("10.0.0.1"), &h, &c), ip("203.0.113.9"));
        assert_eq!(
            caller_behind(ip("192.0.2.1"), &h, &c),
            ip("192.0.2.1"),
            "untrusted peer"
        );
        assert_eq!(
            caller_behind(ip("::1"), &forwarded(&["2001:db8::5"]), &c),
            ip("2001:db8::5")
        );
        assert_eq!(
            caller_behind(ip("10.0.0.1"), &forwarded(&["oops, 10.9.9.9"]), &c),
            ip("10.9.9.9"),
            "garbage stops the walk at the last trusted hop"
        );
        let mut junk = HeaderMap::new();
        junk.append(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_bytes(b"\xe9\xe9, 203.0.113.66").unwrap(),
        );
        assert_eq!(
            caller_behind(ip("10.0.0.1"), &junk, &c),
            ip("203.0.113.66"),
            "non-ASCII junk on the left does not hide the appended address"
        );
        assert_eq!(
            caller_behind(ip("10.0.0.1"), &HeaderMap::new(), &c),
            ip("10.0.0.1")
        );
        assert_eq!(
            caller_behind(ip("10.0.0.1"), &h, &config(&[])),
            ip("10.0.0.1"),
            "no trusted proxies: the header is ignored"
        );
    }

    #[test]
    fn an_ipv4_proxy_seen_through_a_dual_stack_socket_is_still_trusted() {
        let c = config(&["127.0.0.1/32"]);
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("198.51.100.9"),
        );
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            caller_behind(mapped, &h, &c),
            "198.51.100.9".parse::<IpAddr>().unwrap()
        );
        let direct: IpAddr = "::ffff:203.0.113.1".parse().unwrap();
        assert_eq!(
            caller_behind(direct, &HeaderMap::new(), &c),
            "203.0.113.1".parse::<IpAddr>().unwrap()
        );
    }
}
