//! One error type for the REST API (RFC 9457 problem+json) and one for the token service
//! (RFC 6749 §5.2).

use crate::store::StoreError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use vitesse_domain::wire::{Problem, problem_type as pt};
use vitesse_domain::{FieldError, FieldErrors};

#[derive(Debug)]
pub enum ApiError {
    Validation(FieldErrors),
    Malformed(String),
    Unauthenticated,
    Forbidden(&'static str),
    FeatureDisabled,
    NotFound,
    MethodNotAllowed,
    Conflict(FieldError),
    PreconditionFailed,
    Throttled(u64),
    Unavailable,
    Internal,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self)
    }
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        let (type_, title, detail, errors) = match self {
            ApiError::Validation(e) => (
                pt::VALIDATION,
                "The request is not valid",
                Some("Correct the fields listed in errors and send the request again.".into()),
                e.0.clone(),
            ),
            ApiError::Malformed(d) => (
                pt::MALFORMED,
                "The request could not be read",
                Some(d.clone()),
                vec![],
            ),
            ApiError::Unauthenticated => (
                pt::UNAUTHENTICATED,
                "Sign-in required",
                Some("Sign in, or send a bearer access token.".into()),
                vec![],
            ),
            ApiError::Forbidden(d) => (pt::FORBIDDEN, "Not allowed", Some((*d).into()), vec![]),
            ApiError::FeatureDisabled => (
                pt::FEATURE_DISABLED,
                "Identity client management is not enabled for your account",
                Some("Contact your Vitesse relationship manager to enable it.".into()),
                vec![],
            ),
            ApiError::NotFound => (pt::NOT_FOUND, "Not found", None, vec![]),
            ApiError::MethodNotAllowed => (
                pt::MALFORMED,
                "Method not allowed",
                Some("See the Allow header for the methods this resource supports.".into()),
                vec![],
            ),
            ApiError::Conflict(e) => (
                pt::CONFLICT,
                "Conflict",
                Some(e.message.clone()),
                vec![e.clone()],
            ),
            ApiError::PreconditionFailed => (
                pt::PRECONDITION_FAILED,
                "The client was changed by someone else since you opened it",
                Some("Reload the client and apply your change again.".into()),
                vec![],
            ),
            ApiError::Throttled(_) => (
                pt::THROTTLED,
                "Too many attempts",
                Some("Wait and try again.".into()),
                vec![],
            ),
            ApiError::Unavailable => (
                pt::UNAVAILABLE,
                "Temporarily unavailable",
                Some("The service cannot reach its database; try again shortly.".into()),
                vec![],
            ),
            ApiError::Internal => (pt::INTERNAL, "Internal error", None, vec![]),
        };
        Problem {
            type_: type_.into(),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::FeatureDisabled => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            ApiError::Throttled(secs) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            ApiError::Unavailable => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(f) => ApiError::Conflict(f),
            StoreError::Stale => ApiError::PreconditionFailed,
            StoreError::BadCursor => ApiError::Validation(FieldErrors(vec![FieldError {
                field: "cursor".into(),
                message: "The cursor is not valid; start again from the first page".into(),
            }])),
            StoreError::Invalid(f) => ApiError::Validation(f),
            StoreError::Unavailable(msg) => {
                log::warn!("database unavailable: {msg}");
                ApiError::Unavailable
            }
            StoreError::Other(msg) => {
                log::error!("storage error: {msg}");
                ApiError::Internal
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::Internal
    }
}

/// An RFC 6749 §5.2 error response.
#[derive(Debug)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
    pub status: StatusCode,
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            error,
            description: description.into(),
            status,
            retry_after: None,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }

    pub fn invalid_client() -> Self {
        Self::new("invalid_client", "Client authentication failed")
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                "Basic realm=\"vitesse\", charset=\"UTF-8\"",
            ));
        }
        match (self.retry_after, self.status) {
            (Some(secs), _) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            (None, StatusCode::SERVICE_UNAVAILABLE) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        res.json(serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        }))
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(msg) => {
                log::warn!("database unavailable: {msg}");
                OAuthError::new(
                    "temporarily_unavailable",
                    "The service is temporarily unavailable",
                )
            }
            other => {
                log::error!("token endpoint storage error: {other}");
                OAuthError::new("server_error", "Internal error")
            }
        }
    }
}

impl OAuthError {
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn with_description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
}
