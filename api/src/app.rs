//! Assembles the actix App: routes, middleware (request ids and spans, security headers), the
//! OpenAPI document and interactive docs, and the SPA's static files. No handler lives here.

use crate::http::assets::Assets;
use crate::http::spa::{self, KnownRoutes, SpaIndex};
use crate::http::{api_roles, clients, metadata, oauth, ops, session, usage};
use crate::state::AppState;
use crate::{openapi, telemetry};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;

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

// The router tries routes in this order, running a pattern match against each one that has a
// `{segment}`, so the token endpoint (nearly all requests in production) comes first: after the
// identity-client routes it spent about 11k instructions per token on routing (callgrind: 374k
// to 363k per warm token).
routes! {
    post "/oauth2/token" => oauth::token,
    post "/oauth2/introspect" => oauth::introspect,
    post "/oauth2/revoke" => oauth::revoke,
    post "/api/v1/session" => session::sign_in,
    get "/api/v1/session" => session::current,
    delete "/api/v1/session" => session::sign_out,
    get "/api/v1/api-roles" => api_roles::list,
    get "/api/v1/identity-clients" => clients::list,
    post "/api/v1/identity-clients" => clients::create,
    get "/api/v1/identity-clients/{id}" => clients::get,
    patch "/api/v1/identity-clients/{id}" => clients::update,
    delete "/api/v1/identity-clients/{id}" => clients::delete,
    get "/api/v1/identity-clients/{id}/events" => clients::events,
    post "/api/v1/identity-clients/{id}/secret" => clients::rotate_secret,
    post "/api/v1/identity-clients/{id}/revoke-tokens" => clients::revoke_tokens,
    delete "/api/v1/identity-clients/{id}/previous-secret" => clients::end_previous_secret,
    get "/api/v1/identity-clients/{id}/usage" => usage::client,
    get "/api/v1/usage" => usage::account,
    get "/oauth2/jwks" => metadata::jwks,
    get "/.well-known/oauth-authorization-server" => metadata::authorization_server,
    get "/healthz" => ops::health,
    get "/readyz" => ops::ready,
    get "/metrics" => ops::metrics,
}

/// Headers every response carries.
const FIXED_HEADERS: [(header::HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Routes that are deliberately not in the OpenAPI document (operational).
pub const UNDOCUMENTED: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// The TLS settings of `--tls-cert`/`--tls-key`: the certificate chain and key from PEM files,
/// rustls with the ring provider, TLS 1.2 and 1.3 (actix offers h2 and http/1.1 by ALPN).
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<rustls::ServerConfig, Box<dyn std::error::Error>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let named = |what: &str, p: &std::path::Path, e: &dyn std::fmt::Display| {
        format!("{what} {}: {e}", p.display())
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| named("cannot read the certificate", cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named("cannot read the certificate", cert, &e))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", cert.display()).into());
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| named("cannot read the key", key, &e))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?)
}

pub fn run(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    run_with(listener, state, None)
}

/// The server on `listener`: HTTPS with `tls`, plain HTTP without.
pub fn run_with(
    listener: TcpListener,
    state: web::Data<AppState>,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<Server> {
    let reloader = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(reloader.config.key_reload);
        loop {
            tick.tick().await;
            if let Err(e) = reloader.reload_keys().await {
                tracing::warn!(error = %e, "could not reload signing keys");
            }
            if let Err(e) = reloader.sweep().await {
                tracing::warn!(error = %e, "could not sweep expired sessions");
            }
        }
    });
    let recorder = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = crate::service::tokens::flush_last_uses(&recorder).await {
                tracing::warn!(error = %e, "could not record last uses");
            }
        }
    });
    let counter = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(counter.config.usage_flush);
        let mut pruned = std::time::Instant::now() - std::time::Duration::from_secs(3600);
        loop {
            tick.tick().await;
            if let Err(e) = crate::service::usage::flush(&counter).await {
                tracing::warn!(error = %e, "could not write usage; kept for the next try");
            }
            if pruned.elapsed() >= std::time::Duration::from_secs(3600) {
                pruned = std::time::Instant::now();
                if let Err(e) = crate::service::usage::prune(&counter).await {
                    tracing::warn!(error = %e, "could not forget old usage");
                }
            }
        }
    });
    let assets = web::Data::new(Assets::load(state.config.static_dir.as_deref()));
    let document = <openapi::ApiDoc as utoipa::OpenApi>::openapi();
    let index_html = assets.index_html();
    // Built once: checking a header value is not free, and every response carries one.
    let csp = header::HeaderValue::from_str(&spa::spa_csp(index_html.as_deref().unwrap_or("")))
        .expect("the CSP is a valid header value");
    let spa_index = SpaIndex(index_html.map(web::Bytes::from));
    // Over https, browsers are told to use nothing else for a year.
    let hsts = state.config.secure_cookies();
    let server = HttpServer::new(move || {
        let csp = csp.clone();
        let app = App::new()
            .app_data(state.clone())
            .app_data(spa_index.clone())
            .app_data(assets.clone())
            .app_data(KnownRoutes(ROUTES))
            // One layer for every response's security headers: CSP (the docs' own for the
            // interactive docs), HSTS over https, and the fixed four.
            .wrap_fn(move |req, srv| {
                let csp = if req.path().starts_with("/api/docs") {
                    header::HeaderValue::from_static(spa::DOCS_CSP)
                } else {
                    csp.clone()
                };
                let fut = actix_web::dev::Service::call(srv, req);
                async move {
                    let mut res = fut.await?;
                    let headers = res.headers_mut();
                    for (name, value) in FIXED_HEADERS {
                        headers.insert(name, header::HeaderValue::from_static(value));
                    }
                    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
                    if hsts {
                        headers.insert(
                            header::STRICT_TRANSPORT_SECURITY,
                            header::HeaderValue::from_static("max-age=31536000"),
                        );
                    }
                    Ok(res)
                }
            })
            // Outermost: every line a request logs, the access line included, carries its id.
            .wrap_fn(telemetry::request_span)
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
            .configure(routes)
            // The document at /api/openapi.json and interactive docs at /api/docs/.
            .service(
                utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
                    .url("/api/openapi.json", document.clone()),
            );
        app.default_service(spa::fallback)
    });
    let server = match tls {
        Some(config) => server.listen_rustls_0_23(listener, config)?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}

/// The metrics listener (`--metrics-bind`): `/metrics` and nothing else.
pub fn run_metrics(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(ops::metrics_only))
    })
    .workers(1)
    .listen(listener)?
    .run())
}
