//! The SPA's host: its Content-Security-Policy, and the fallback that answers unknown API paths
//! with problem+json and every other path (a deep link) with index.html.

use super::assets::Assets;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};

/// The SPA's Content-Security-Policy: its own origin only, WebAssembly allowed, and the one
/// inline bootstrap script that Trunk writes into index.html allowed by its hash.
pub fn spa_csp(html: &str) -> String {
    use base64::Engine;
    let mut script_hashes = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script type=\"module\">") {
        let body_start = start + "<script type=\"module\">".len();
        let Some(len) = rest[body_start..].find("</script>") else {
            break;
        };
        let digest = crate::digest::sha256(&[&rest.as_bytes()[body_start..body_start + len]]);
        script_hashes.push_str(&format!(
            " 'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &rest[body_start + len..];
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{script_hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The interactive API docs need inline styles and scripts of their own; still nothing foreign.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Whether a route pattern like `/api/v1/identity-clients/{id}` matches a path.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b || (a.starts_with('{') && !b.is_empty()) => {}
            _ => return false,
        }
    }
}

/// Unknown API paths are problem+json 404s, known paths with another method 405 with
/// `Allow`; anything else is a deep link into the SPA.
pub async fn fallback(req: ServiceRequest) -> actix_web::Result<ServiceResponse> {
    let path = req.path();
    let routes = req.app_data::<KnownRoutes>().map_or(&[][..], |r| r.0);
    let allowed: Vec<String> = routes
        .iter()
        .filter(|(_, p)| pattern_matches(p, path))
        .map(|(m, _)| m.to_uppercase())
        .collect();
    if !allowed.is_empty() {
        let (req, _) = req.into_parts();
        let mut res =
            actix_web::ResponseError::error_response(&crate::error::ApiError::MethodNotAllowed);
        if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
            res.headers_mut().insert(header::ALLOW, v);
        }
        return Ok(ServiceResponse::new(req, res));
    }
    let api = ["/api/", "/oauth2/", "/.well-known/"]
        .iter()
        .any(|p| path.starts_with(p));
    let index = req.app_data::<SpaIndex>().and_then(|i| i.0.clone());
    let assets = req.app_data::<web::Data<Assets>>().cloned();
    let (req, _) = req.into_parts();
    if api {
        let res = actix_web::ResponseError::error_response(&crate::error::ApiError::NotFound);
        return Ok(ServiceResponse::new(req, res));
    }
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    if readable {
        let path = req.path().to_owned();
        let file = match path.trim_start_matches('/') {
            "" => "index.html",
            p => p,
        };
        if let Some(res) = assets.as_ref().and_then(|a| a.respond(&req, file)) {
            return Ok(ServiceResponse::new(req, res));
        }
    }
    let res = match index {
        Some(html) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("The web UI is not built into this binary. Run `just build` (or `just run`)."),
    };
    Ok(ServiceResponse::new(req, res))
}

/// `(method, path)` of every route, so the fallback can tell "wrong method" from "no such path".
#[derive(Clone, Copy)]
pub struct KnownRoutes(pub &'static [(&'static str, &'static str)]);

/// The SPA's index.html, read once at start: every deep link answers with it.
#[derive(Clone)]
pub struct SpaIndex(pub Option<web::Bytes>);
