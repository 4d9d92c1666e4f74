//! The token service's endpoints: `POST /oauth2/token` (the client-credentials grant, RFC 6749
//! §4.4, issuing RFC 9068 JWTs), introspection (RFC 7662) and revocation (RFC 7009). Reading
//! the form and the client's credentials is here; the decisions are in `service::tokens`.

use super::caller::client_address;
use super::responses::OAuthErrors;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::oauth::assertion;
use crate::service::tokens::{self, Credentials};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::HashMap;
use vitesse_domain::IdentityClient;

/// Far more than any honest token request needs.
const MAX_BODY: usize = 8 * 1024;

/// A form body's parameters; each may appear at most once (RFC 6749 §3.2).
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "The {k} parameter is repeated"
                )));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Form-urlencoded decoding of one Basic credential half (RFC 6749 §2.3.1).
fn form_decode(s: &str) -> Option<String> {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// `(client_id, client_secret)` from an `Authorization: Basic` header, if one was sent.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    match req.headers().get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => parse_basic(value.as_bytes()).map(Some),
    }
}

/// The value of an `Authorization: Basic` header: base64 of form-urlencoded `id:secret`.
fn parse_basic(value: &[u8]) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client().with_description("Malformed Basic credentials");
    let value = std::str::from_utf8(value).map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client().with_description(
            "Only Basic client authentication is supported in the Authorization header",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    Ok((
        form_decode(id).ok_or_else(bad)?,
        form_decode(secret).ok_or_else(bad)?,
    ))
}

pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::BytesMut, OAuthError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "The request must be sent as application/x-www-form-urlencoded",
        ));
    }
    let too_large =
        || OAuthError::invalid_request("The request body is too large").with_status(413);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| OAuthError::invalid_request("The request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The token request's form fields (documentation; the handler parses the form itself so that
/// a repeated parameter is an error, as RFC 6749 §3.2 requires).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// Always `client_credentials`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// Space-separated roles, a subset of the client's; absent means all of them.
    #[schema(example = "payments:read")]
    scope: Option<String>,
    /// With `client_secret_post` only.
    client_id: Option<String>,
    /// With `client_secret_post` only.
    #[schema(format = Password)]
    client_secret: Option<String>,
}

/// The form of introspection and revocation (documentation; parsed like the token request).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenParameter {
    /// The access token.
    token: String,
    /// Ignored: only access tokens exist here.
    token_type_hint: Option<String>,
    /// With `client_secret_post` only.
    client_id: Option<String>,
    /// With `client_secret_post` only.
    #[schema(format = Password)]
    client_secret: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse<'a> {
    /// An RFC 9068 JWT (`typ: at+jwt`), signed with a key published at /oauth2/jwks.
    pub access_token: &'a str,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires: the client's token duration.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// The granted roles, space-separated.
    #[schema(example = "payments:read refunds:write")]
    pub scope: &'a str,
}

impl TokenResponse<'_> {
    /// The response body: byte for byte what serde_json writes for it, built directly. The
    /// token (base64url and dots) and role names never need escaping, and serde_json's
    /// character-by-character escaping of the ~600-byte token was most of the cost of writing it.
    fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.access_token.len() + self.scope.len() + 80);
        out.push_str("{\"access_token\":");
        push_json_str(&mut out, self.access_token);
        out.push_str(",\"token_type\":");
        push_json_str(&mut out, self.token_type);
        out.push_str(",\"expires_in\":");
        out.push_str(&self.expires_in.to_string());
        out.push_str(",\"scope\":");
        push_json_str(&mut out, self.scope);
        out.push('}');
        out
    }
}

/// `s` as a JSON string, as serde_json writes it: as is when nothing in it needs escaping
/// (control characters, `"` and `\`), else through serde_json.
fn push_json_str(out: &mut String, s: &str) {
    // A fold, not `all`: without the early exit the compiler checks many bytes at a time.
    let plain = !s.bytes().fold(false, |escape, b| {
        escape | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// An introspection response (RFC 7662 §2.2): `active`, and for an active token its claims.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Always `Bearer` for an active token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// The merchant account the client belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl IntrospectionResponse {
    fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            sub: None,
            aud: None,
            iss: None,
            exp: None,
            iat: None,
            jti: None,
            token_type: None,
            account_id: None,
        }
    }
}

/// Client authentication: exactly one method — HTTP Basic, `client_secret` in the body
/// (RFC 6749 §2.3.1), or a signed assertion (RFC 7523 §2.2).
fn credentials(req: &HttpRequest, form: &Form) -> Result<Credentials, OAuthError> {
    if form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some() {
        if req.headers().contains_key(header::AUTHORIZATION) || form.get("client_secret").is_some()
        {
            return Err(OAuthError::invalid_request(
                "Use one client authentication method: a client assertion, HTTP Basic or client_secret, not several",
            ));
        }
        if form.get("client_assertion_type") != Some(assertion::ASSERTION_TYPE) {
            return Err(OAuthError::invalid_client().with_description(format!(
                "client_assertion_type must be {}",
                assertion::ASSERTION_TYPE
            )));
        }
        let Some(jwt) = form.get("client_assertion") else {
            return Err(OAuthError::invalid_request(
                "The client_assertion parameter is missing",
            ));
        };
        return Ok(Credentials::Assertion {
            assertion: jwt.to_owned(),
            client_id: form.get("client_id").map(str::to_owned),
        });
    }
    let (client_id, secret) = match (basic_credentials(req)?, form.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Use one client authentication method: HTTP Basic or client_secret in the body, not both",
            ));
        }
        (Some((id, secret)), None) => {
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            (id, secret)
        }
        (None, Some(secret)) => match form.get("client_id") {
            Some(id) => (id.to_owned(), secret.to_owned()),
            None => {
                return Err(OAuthError::invalid_request(
                    "The client_id parameter is missing",
                ));
            }
        },
        (None, None) => {
            return Err(
                OAuthError::invalid_client().with_description("Client authentication is missing")
            );
        }
    };
    Ok(Credentials::Secret { client_id, secret })
}

/// Reads the form and authenticates the client that sent it.
async fn authenticated_form(
    req: &HttpRequest,
    state: &std::sync::Arc<AppState>,
    payload: web::Payload,
) -> Result<(std::sync::Arc<IdentityClient>, Form), OAuthError> {
    let form = Form::parse(&read_body(req, payload).await?)?;
    let credentials = credentials(req, &form)?;
    let client = tokens::authenticate(state, credentials, client_address(req).as_deref())
        .await?
        .client;
    Ok((client, form))
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    res
}

/// Issue an access token (client-credentials grant).
#[utoipa::path(
    post, path = "/oauth2/token", tag = "OAuth 2.0", operation_id = "requestToken",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "client_id and client_secret here (client_secret_post) or in HTTP Basic (client_secret_basic), not both"),
    responses(
        (status = 200, description = "An RFC 9068 JWT access token", body = TokenResponse),
        OAuthErrors,
    ),
    security((), ("client_secret_basic" = []))
)]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let started = std::time::Instant::now();
    let result = issue(req, &state, payload).await;
    match &result {
        Ok(_) => state.metrics.token_issued(started.elapsed()),
        Err(e) => state.metrics.token_refused(e.code, started.elapsed()),
    }
    result
}

async fn issue(
    req: HttpRequest,
    state: &web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = Form::parse(&read_body(&req, payload).await?)?;
    match form.get("grant_type") {
        None => {
            return Err(OAuthError::invalid_request(
                "The grant_type parameter is missing",
            ));
        }
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "Only the client_credentials grant is supported",
            ));
        }
    }
    let credentials = credentials(&req, &form)?;
    let authenticated =
        tokens::authenticate(state, credentials, client_address(&req).as_deref()).await?;
    let issued = tokens::issue(state, &authenticated, form.get("scope")).await?;
    let body = TokenResponse {
        access_token: &issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scope.as_str(),
    }
    .to_json();
    Ok(no_store(HttpResponse::Ok())
        .insert_header((
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        ))
        .body(body))
}

/// Is a token active? The caller authenticates as a client (as at the token endpoint) and
/// learns about tokens of its own account only; anything else is `{"active": false}`.
#[utoipa::path(
    post, path = "/oauth2/introspect", tag = "OAuth 2.0", operation_id = "introspectToken",
    request_body(content = TokenParameter, content_type = "application/x-www-form-urlencoded",
        description = "Client authentication as at the token endpoint"),
    responses(
        (status = 200, description = "RFC 7662 response: active, and when active the token's claims", body = IntrospectionResponse),
        OAuthErrors,
    ),
    security(("client_secret_basic" = []))
)]
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let (caller, form) = authenticated_form(&req, &state, payload).await?;
    let token = token_parameter(&form)?;
    let body = match tokens::introspect(&state, &caller, token).await? {
        Some(c) => IntrospectionResponse {
            active: true,
            scope: Some(c.scope),
            client_id: Some(c.client_id),
            sub: Some(c.sub),
            aud: Some(c.aud),
            iss: Some(c.iss),
            exp: Some(c.exp),
            iat: Some(c.iat),
            jti: Some(c.jti),
            token_type: Some("Bearer"),
            account_id: Some(c.account_id),
        },
        None => IntrospectionResponse::inactive(),
    };
    Ok(no_store(HttpResponse::Ok()).json(body))
}

fn token_parameter(form: &Form) -> Result<&str, OAuthError> {
    form.get("token")
        .ok_or_else(|| OAuthError::invalid_request("The token parameter is missing"))
}

/// Revoke a token: a client revokes its own tokens. Always 200, as RFC 7009 asks, also for a
/// token that is unknown, expired or not the caller's.
#[utoipa::path(
    post, path = "/oauth2/revoke", tag = "OAuth 2.0", operation_id = "revokeToken",
    request_body(content = TokenParameter, content_type = "application/x-www-form-urlencoded",
        description = "Client authentication as at the token endpoint"),
    responses(
        (status = 200, description = "Revoked (or nothing to revoke)"),
        OAuthErrors,
    ),
    security(("client_secret_basic" = []))
)]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let (caller, form) = authenticated_form(&req, &state, payload).await?;
    tokens::revoke(&state, &caller, token_parameter(&form)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_credentials_are_form_urlencoded() {
        let header = format!("Basic {}", STANDARD.encode("shop-client:a+b%3Ac%25"));
        assert_eq!(
            parse_basic(header.as_bytes()).unwrap(),
            ("shop-client".to_owned(), "a b:c%".to_owned())
        );
        assert_eq!(
            parse_basic(b"Bearer abc").unwrap_err().code,
            OAuthErrorCode::InvalidClient
        );
        assert_eq!(
            parse_basic(b"Basic !!!").unwrap_err().code,
            OAuthErrorCode::InvalidClient
        );
    }

    #[test]
    fn token_response_is_what_serde_json_writes() {
        for (token, scope) in [
            (
                "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
                "payments:read refunds:write",
            ),
            ("", ""),
            ("a\"b\\c", "tab\there\u{1}, quote \" and é"),
        ] {
            let r = TokenResponse {
                access_token: token,
                token_type: "Bearer",
                expires_in: 900,
                scope,
            };
            assert_eq!(r.to_json(), serde_json::to_string(&r).unwrap());
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Form::parse(b"grant_type=a&grant_type=b").is_err());
        let f = Form::parse(b"grant_type=client_credentials&scope=a+b").unwrap();
        assert_eq!(f.get("scope"), Some("a b"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever a client sends, the parsers answer (a value or an RFC 6749 error), never panic.
        #[test]
        fn token_request_parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300),
                                             header in proptest::collection::vec(any::<u8>(), 0..200),
                                             text in "\\PC{0,80}") {
            let _ = Form::parse(&body);
            let _ = parse_basic(&header);
            let _ = parse_basic(format!("Basic {}", STANDARD.encode(text.as_bytes())).as_bytes());
            let _ = form_decode(&text);
        }
    }
}
