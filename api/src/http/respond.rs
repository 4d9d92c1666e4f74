//! Errors become responses here (problem+json, or RFC 6749 §5.2 for the token service), and
//! their causes are logged once, inside the request's span.

use crate::error::OAuthErrorCode;
use crate::error::{ApiError, OAuthError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(secs) = self.retry_after() {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        status(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            tracing::warn!(%cause, error = self.code.as_str(), "token service failure");
        }
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                "Basic realm=\"vitesse\", charset=\"UTF-8\"",
            ));
        }
        match (self.retry_after, status) {
            (Some(secs), _) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            (None, StatusCode::SERVICE_UNAVAILABLE) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        res.json(OAuthErrorBody {
            error: self.code.as_str(),
            error_description: &self.description,
        })
    }
}

/// Reads a JSON body: a `Content-Type` other than JSON is a 415 (so no cross-site form or
/// "simple" request can carry one), malformed JSON a 400, a well-formed body with bad members
/// a 422.
pub fn json_body(req: &actix_web::HttpRequest, body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("The body is not valid JSON: {e}")))
}

/// An error response (RFC 6749 §5.2).
#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody<'a> {
    #[schema(schema_with = oauth_error_codes)]
    pub error: &'static str,
    /// What went wrong, for a person reading logs.
    pub error_description: &'a str,
}

/// The `error` codes this service answers with: one list, from [`OAuthErrorCode::ALL`].
fn oauth_error_codes() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(OAuthErrorCode::ALL.iter().map(|c| c.as_str())))
        .description(Some("The RFC 6749 §5.2 error code"))
        .into()
}
