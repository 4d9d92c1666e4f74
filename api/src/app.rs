//! Builds the actix App: state, routes, the SPA's static files.

use crate::state::AppState;
use crate::{api_roles, auth, clients, oauth, openapi};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use std::net::TcpListener;

/// A request id for requests that bring none: unique within this process and, through the
/// random start, across instances and restarts; it needs no randomness per request.
fn new_request_id() -> String {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let start = START.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{start:016x}{n:016x}")
}

/// Registers each route and records it in `ROUTES`, so a test can hold the OpenAPI document
/// to exactly this set.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:path,)*) => {
        /// `(method, path)` of every route, as the router and the OpenAPI document spell them.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path),)*];

        pub fn routes(cfg: &mut web::ServiceConfig) {
            $(cfg.route($path, web::$method().to($handler));)*
        }
    };
}

routes! {
    post "/api/v1/session" => auth::session::sign_in,
    get "/api/v1/session" => auth::session::current,
    delete "/api/v1/session" => auth::session::sign_out,
    get "/api/v1/api-roles" => api_roles::list,
    get "/api/v1/identity-clients" => clients::list,
    post "/api/v1/identity-clients" => clients::create,
    get "/api/v1/identity-clients/{id}" => clients::get,
    patch "/api/v1/identity-clients/{id}" => clients::update,
    delete "/api/v1/identity-clients/{id}" => clients::delete,
    get "/api/v1/identity-clients/{id}/events" => clients::events,
    post "/api/v1/identity-clients/{id}/secret" => clients::rotate_secret,
    post "/oauth2/token" => oauth::token::token,
    post "/oauth2/introspect" => oauth::introspect::introspect,
    post "/oauth2/revoke" => oauth::introspect::revoke,
    get "/oauth2/jwks" => oauth::metadata::jwks,
    get "/.well-known/oauth-authorization-server" => oauth::metadata::authorization_server,
    get "/healthz" => health,
    get "/readyz" => ready,
    get "/metrics" => metrics,
}

/// Routes that are deliberately not in the OpenAPI document (operational).
pub const UNDOCUMENTED: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// Prometheus metrics: tokens issued and refused, token latency, pool use, bcrypt queue.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = state.metrics.render(
        state.pool.state(),
        state.pool.max_size(),
        state.hasher.waiting(),
        state.hasher.slots(),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// Liveness: the process answers.
async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the database answers too.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    use diesel::connection::SimpleConnection;
    match state.db(|c| Ok(c.batch_execute("SELECT 1")?)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            log::warn!("not ready: {e}");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .content_type("text/plain")
                .body("not ready: the database cannot be reached")
        }
    }
}

/// The SPA's Content-Security-Policy: its own origin only, WebAssembly allowed, and the one
/// inline bootstrap script that Trunk writes into index.html allowed by its hash.
fn spa_csp(html: &str) -> String {
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
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
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
async fn fallback(req: ServiceRequest) -> actix_web::Result<ServiceResponse> {
    let path = req.path();
    let allowed: Vec<String> = ROUTES
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
    let (req, _) = req.into_parts();
    if api {
        let res = actix_web::ResponseError::error_response(&crate::error::ApiError::NotFound);
        return Ok(ServiceResponse::new(req, res));
    }
    let res = match index {
        Some(html) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(html),
        None => HttpResponse::NotFound()
            .content_type("text/plain")
            .body("The web UI is not built. Run `just build` (or `just run`)."),
    };
    Ok(ServiceResponse::new(req, res))
}

/// The SPA's index.html, read once at start: every deep link answers with it.
#[derive(Clone)]
struct SpaIndex(Option<web::Bytes>);

pub fn run(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let reloader = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(reloader.config.key_reload);
        loop {
            tick.tick().await;
            if let Err(e) = reloader.reload_keys().await {
                log::warn!("could not reload signing keys: {e}");
            }
        }
    });
    let static_dir = state.config.static_dir.clone();
    let document = <openapi::ApiDoc as utoipa::OpenApi>::openapi();
    let index_html = std::fs::read_to_string(static_dir.join("index.html")).ok();
    // Built once: checking a header value is not free, and every response carries one.
    let csp = header::HeaderValue::from_str(&spa_csp(index_html.as_deref().unwrap_or("")))
        .expect("the CSP is a valid header value");
    let spa_index = SpaIndex(index_html.map(web::Bytes::from));
    let access_log = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);
    let server = HttpServer::new(move || {
        let csp = csp.clone();
        let mut app = App::new()
            .app_data(state.clone())
            .app_data(spa_index.clone())
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin")),
            )
            .wrap_fn(move |mut req, srv| {
                let docs = req.path().starts_with("/api/docs");
                // A request id: the caller's (if sane) or a new one; logged and echoed back.
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| {
                        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic())
                    })
                    .map(str::to_owned)
                    .unwrap_or_else(new_request_id);
                if let Ok(v) = header::HeaderValue::from_str(&request_id) {
                    req.headers_mut()
                        .insert(header::HeaderName::from_static("x-request-id"), v);
                }
                let csp = if docs {
                    header::HeaderValue::from_static(DOCS_CSP)
                } else {
                    csp.clone()
                };
                let fut = actix_web::dev::Service::call(srv, req);
                async move {
                    let mut res = fut.await?;
                    res.headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, csp);
                    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
                        res.headers_mut()
                            .insert(header::HeaderName::from_static("x-request-id"), v);
                    }
                    Ok(res)
                }
            })
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                crate::error::ApiError::Malformed(format!("The query string is not valid: {e}"))
                    .into()
            }))
            .app_data(
                web::JsonConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|e, _| {
                        crate::error::ApiError::Malformed(format!(
                            "The body is not valid JSON: {e}"
                        ))
                        .into()
                    }),
            )
            // The access log costs a little on every request: none of it when it is switched off.
            .wrap(middleware::Condition::new(
                access_log,
                middleware::Logger::new("%a \"%r\" %s %b %Dms request_id=%{x-request-id}i")
                    .exclude("/healthz")
                    .exclude("/readyz")
                    .exclude("/metrics"),
            ))
            .configure(routes)
            // The document at /api/openapi.json and interactive docs at /api/docs/.
            .service(
                utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
                    .url("/api/openapi.json", document.clone()),
            );
        if static_dir.is_dir() {
            // Files serves only GET and HEAD; other methods reach the fallback (405/404).
            app = app.service(
                actix_files::Files::new("/", &static_dir)
                    .guard(
                        actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()),
                    )
                    .index_file("index.html")
                    .default_handler(fallback),
            );
        }
        app.default_service(fallback)
    })
    .listen(listener)?
    .run();
    Ok(server)
}
