//! What operators' tools read: liveness, readiness and Prometheus metrics.

use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// Prometheus metrics on the public port, unless they have a listener of their own.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if state.config.metrics_bind.is_some() {
        return actix_web::ResponseError::error_response(&crate::error::ApiError::NotFound);
    }
    metrics_only(state).await
}

/// Prometheus metrics: tokens issued and refused, token latency, pool use, bcrypt queue,
/// throttled keys.
pub async fn metrics_only(state: web::Data<AppState>) -> HttpResponse {
    let body = state.metrics.render(
        state.pool.state(),
        state.pool.max_size(),
        state.hasher.waiting(),
        state.hasher.slots(),
        state.hasher.runs(),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// Liveness: the process answers.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the database answers too.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .content_type("text/plain")
                .body("not ready: the database cannot be reached")
        }
    }
}
