//! What can go wrong, in the service's terms: `ApiError` for the REST API (rendered as RFC 9457
//! problem+json) and `OAuthError` for the token service (rendered as RFC 6749 §5.2). No HTTP
//! framework here: `http::respond` turns both into responses, and logs their causes once.

use crate::store::StoreError;
use vitesse_domain::wire::{Problem, problem_type as pt};
use vitesse_domain::{FieldError, FieldErrors};

/// Why something failed on our side: kept for the log line, never shown to the caller.
#[derive(Debug, Clone)]
pub struct Cause(pub String);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug)]
pub enum ApiError {
    Validation(FieldErrors),
    Malformed(String),
    Unauthenticated,
    Forbidden(&'static str),
    FeatureDisabled,
    NotFound,
    MethodNotAllowed,
    /// A body that is not JSON by its `Content-Type`.
    UnsupportedMediaType,
    Conflict(FieldError),
    PreconditionFailed,
    Throttled(u64),
    /// The database cannot be reached right now.
    Unavailable(Cause),
    /// Too many password verifications are waiting (the bcrypt queue is full).
    Busy,
    Internal(Cause),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(Cause(cause.to_string()))
    }

    /// One failing query parameter or body member.
    pub fn field(field: &str, message: &str) -> Self {
        ApiError::Validation(FieldErrors(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }]))
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Validation(_) => 422,
            ApiError::Malformed(_) => 400,
            ApiError::Unauthenticated => 401,
            ApiError::Forbidden(_) | ApiError::FeatureDisabled => 403,
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Conflict(_) => 409,
            ApiError::PreconditionFailed => 412,
            ApiError::Throttled(_) => 429,
            ApiError::Unavailable(_) | ApiError::Busy => 503,
            ApiError::Internal(_) => 500,
        }
    }

    /// Seconds the caller should wait before trying again, where that is known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Throttled(secs) => Some(*secs),
            ApiError::Unavailable(_) => Some(5),
            ApiError::Busy => Some(1),
            _ => None,
        }
    }

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
            ApiError::UnsupportedMediaType => (
                pt::MALFORMED,
                "Unsupported media type",
                Some("Send the body as application/json (edits also as application/merge-patch+json).".into()),
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
            ApiError::Unavailable(_) => (
                pt::UNAVAILABLE,
                "Temporarily unavailable",
                Some("The service cannot reach its database; try again shortly.".into()),
                vec![],
            ),
            ApiError::Busy => (
                pt::UNAVAILABLE,
                "Temporarily unavailable",
                Some("Too many sign-ins are being checked; try again shortly.".into()),
                vec![],
            ),
            ApiError::Internal(_) => (pt::INTERNAL, "Internal error", None, vec![]),
        };
        Problem {
            type_: type_.into(),
            title: title.into(),
            status: self.status(),
            detail,
            errors,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(f) => ApiError::Conflict(f),
            StoreError::Stale => ApiError::PreconditionFailed,
            StoreError::BadCursor => ApiError::field(
                "cursor",
                "The cursor is not valid; start again from the first page",
            ),
            StoreError::Invalid(f) => ApiError::Validation(f),
            StoreError::Refused(why) => ApiError::Forbidden(why),
            StoreError::Unavailable(msg) => ApiError::Unavailable(Cause(msg)),
            StoreError::Other(msg) => ApiError::Internal(Cause(msg)),
        }
    }
}

/// The error codes of RFC 6749 §5.2 (and RFC 6750's for a temporarily unavailable server):
/// every refusal of the token service is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidScope,
    UnsupportedGrantType,
    TemporarilyUnavailable,
    ServerError,
}

impl OAuthErrorCode {
    pub const ALL: [OAuthErrorCode; 6] = [
        OAuthErrorCode::InvalidRequest,
        OAuthErrorCode::InvalidClient,
        OAuthErrorCode::InvalidScope,
        OAuthErrorCode::UnsupportedGrantType,
        OAuthErrorCode::TemporarilyUnavailable,
        OAuthErrorCode::ServerError,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorCode::ServerError => "server_error",
        }
    }

    /// The status RFC 6749 §5.2 gives each code.
    pub const fn status(self) -> u16 {
        match self {
            OAuthErrorCode::InvalidClient => 401,
            OAuthErrorCode::TemporarilyUnavailable => 503,
            OAuthErrorCode::ServerError => 500,
            _ => 400,
        }
    }
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// When the code's own status is not the right one (413 for a large body, 429 for a
    /// throttled caller).
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    /// Why it failed on our side (server_error, temporarily_unavailable): logged, not sent.
    pub cause: Option<Cause>,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            status: None,
            retry_after: None,
            cause: None,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, d)
    }

    pub fn invalid_client() -> Self {
        Self::new(
            OAuthErrorCode::InvalidClient,
            "Client authentication failed",
        )
    }

    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(OAuthErrorCode::ServerError, "Internal error");
        e.cause = Some(Cause(cause.to_string()));
        e
    }

    pub fn status(&self) -> u16 {
        self.status.unwrap_or(self.code.status())
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn with_description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(msg) => {
                let mut e = OAuthError::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "The service is temporarily unavailable",
                );
                e.cause = Some(Cause(msg));
                e
            }
            other => OAuthError::server_error(other),
        }
    }
}
