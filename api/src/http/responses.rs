//! The problem responses the REST API shares, documented once each and listed per operation
//! (`responses((status = 200, …), NotSignedIn, NotFound, …)`).

#![allow(dead_code)] // documentation types: built by utoipa, never by the handlers

use super::respond::OAuthErrorBody;
use vitesse_domain::wire::Problem;

/// Not signed in (no session, an expired one, or no valid bearer token).
#[derive(utoipa::IntoResponses)]
#[response(status = 401, content_type = "application/problem+json")]
pub struct NotSignedIn(Problem);

/// Not allowed: the user's role, the account's identity-client switch, a role the calling
/// client does not hold itself, or a cross-site write.
#[derive(utoipa::IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
pub struct Forbidden(Problem);

/// No such client in the caller's account.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
pub struct NotFound(Problem);

/// The body is not JSON, or the query string cannot be read (e.g. a parameter given twice).
#[derive(utoipa::IntoResponses)]
#[response(status = 400, content_type = "application/problem+json")]
pub struct Malformed(Problem);

/// The body's `Content-Type` is not JSON (`application/json`, or `application/merge-patch+json`
/// for edits).
#[derive(utoipa::IntoResponses)]
#[response(status = 415, content_type = "application/problem+json")]
pub struct NotJson(Problem);

/// The client ID is already in use.
#[derive(utoipa::IntoResponses)]
#[response(status = 409, content_type = "application/problem+json")]
pub struct ClientIdTaken(Problem);

/// Changed by someone else since you read it (a stale `If-Match`); nothing was changed.
#[derive(utoipa::IntoResponses)]
#[response(status = 412, content_type = "application/problem+json")]
pub struct Stale(Problem);

/// A field or parameter breaks a rule, or is not part of the contract; every failing one is
/// listed in `errors`, and nothing was changed.
#[derive(utoipa::IntoResponses)]
#[response(status = 422, content_type = "application/problem+json")]
pub struct Invalid(Problem);

/// Too many failed attempts from this address; see `Retry-After`.
#[derive(utoipa::IntoResponses)]
#[response(status = 429, content_type = "application/problem+json")]
pub struct Throttled(Problem);

/// The RFC 6749 §5.2 errors every endpoint that authenticates a client may answer: the token
/// endpoint, introspection and revocation.
#[derive(utoipa::IntoResponses)]
pub enum OAuthErrors {
    /// RFC 6749 §5.2: invalid_request; at the token endpoint also invalid_scope and
    /// unsupported_grant_type.
    #[response(status = 400)]
    BadRequest(OAuthErrorBody<'static>),
    /// invalid_client: unknown client, wrong secret, disabled client (all alike), or no
    /// client authentication.
    #[response(status = 401)]
    InvalidClient(OAuthErrorBody<'static>),
    /// invalid_request: the body is larger than 8 KiB.
    #[response(status = 413)]
    TooLarge(OAuthErrorBody<'static>),
    /// temporarily_unavailable: too many failed authentications from this address (for this
    /// client ID, or in all); see Retry-After.
    #[response(status = 429)]
    Throttled(OAuthErrorBody<'static>),
    /// temporarily_unavailable: the database cannot be reached, or too many verifications wait;
    /// see Retry-After.
    #[response(status = 503)]
    Unavailable(OAuthErrorBody<'static>),
}
