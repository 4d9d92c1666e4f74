//! `POST /oauth2/token`: the client-credentials grant (RFC 6749 §4.4) issuing RFC 9068 JWTs.

use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::clients as client_store;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    let too_large = || {
        OAuthError::invalid_request("The request body is too large")
            .with_status(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE)
    };
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

/// Issue an access token (client-credentials grant).
#[utoipa::path(
    post, path = "/oauth2/token", tag = "OAuth 2.0", operation_id = "requestToken",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "client_id and client_secret here (client_secret_post) or in HTTP Basic (client_secret_basic), not both"),
    responses(
        (status = 200, description = "An RFC 9068 JWT access token", body = Object),
        (status = 400, description = "RFC 6749 §5.2 error: invalid_request, invalid_scope, unsupported_grant_type", body = Object),
        (status = 401, description = "RFC 6749 §5.2 error: invalid_client", body = Object),
        (status = 413, description = "invalid_request: the body is larger than 8 KiB", body = Object),
        (status = 429, description = "temporarily_unavailable: too many failed authentications from this address for this client ID; see Retry-After", body = Object),
        (status = 503, description = "temporarily_unavailable: the database cannot be reached; see Retry-After", body = Object),
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
        Err(e) => state.metrics.token_refused(e.error, started.elapsed()),
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
                "unsupported_grant_type",
                "Only the client_credentials grant is supported",
            ));
        }
    }
    let client = authenticate(&req, state, &form).await?;

    let granted: Vec<&str> = match form.get("scope").map(str::trim) {
        None | Some("") => client.role_names().collect(),
        Some(requested) => {
            let mut asked: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
            asked.sort_unstable();
            asked.dedup();
            if let Some(missing) = asked
                .iter()
                .find(|s| !client.role_names().any(|r| r == **s))
            {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("The client does not hold the role {missing}"),
                ));
            }
            asked
        }
    };
    let scope = granted.join(" ");
    let lifetime = Duration::from_secs(client.token_duration_minutes as u64 * 60);
    let access_token = sign(state, &client, &scope, lifetime)?;
    record_last_use(state, &client);

    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: &access_token,
            token_type: "Bearer",
            expires_in: lifetime.as_secs(),
            scope: &scope,
        }))
}

/// The successful response (RFC 6749 §5.1).
#[derive(serde::Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    scope: &'a str,
}

/// Client authentication (RFC 6749 §2.3.1): exactly one method, then the current row and
/// the secret. Unknown, disabled and wrong-secret clients get the same answer after the same
/// work; repeated failures from one address for one client ID are throttled.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    form: &Form,
) -> Result<client_store::ClientRow, OAuthError> {
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

    let throttle_key = format!(
        "{client_id}|{}",
        crate::auth::source_ip(req).unwrap_or_default()
    );
    if let Some(wait) = state.token_throttle.check(&throttle_key) {
        return Err(OAuthError::new(
            "temporarily_unavailable",
            "Too many failed attempts; try again later",
        )
        .with_status(actix_web::http::StatusCode::TOO_MANY_REQUESTS)
        .with_retry_after(wait));
    }

    // Always read the current row: an edit applies at the very next request.
    let lookup_id = client_id.clone();
    let row = state
        .db(move |c| client_store::find_by_client_id(c, &lookup_id))
        .await?;
    let mut verified = state
        .hasher
        .verify(&secret, row.as_ref().map(|r| r.secret_hash.as_str()), true)
        .await;
    if !verified {
        // During a rotation's grace period the previous secret works too.
        if let Some(prev) = row
            .as_ref()
            .filter(|r| r.previous_secret_at(crate::store::now()).is_some())
        {
            verified = state
                .hasher
                .verify(&secret, prev.previous_secret_hash.as_deref(), true)
                .await;
        }
    }
    match row {
        Some(r) if verified && r.enabled => {
            state.token_throttle.succeeded(&throttle_key);
            Ok(r)
        }
        _ => {
            state.token_throttle.failed(&throttle_key);
            Err(OAuthError::invalid_client())
        }
    }
}

/// "Last used", written at most once a minute per client and off the response's path.
fn record_last_use(state: &web::Data<AppState>, client: &client_store::ClientRow) {
    let at = crate::store::now();
    if client
        .last_used_at
        .is_some_and(|t| at - t < chrono::Duration::minutes(1))
    {
        return;
    }
    let (state, id) = (state.clone(), client.id.clone());
    actix_web::rt::spawn(async move {
        if let Err(e) = state
            .db(move |c| client_store::touch_last_used(c, &id, at))
            .await
        {
            log::warn!("could not record last use: {e}");
        }
    });
}

/// RFC 9068 access-token claims.
#[derive(serde::Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
    client_id: &'a str,
    scope: &'a str,
    account_id: &'a str,
}

fn sign(
    state: &AppState,
    client: &client_store::ClientRow,
    scope: &str,
    lifetime: Duration,
) -> Result<String, OAuthError> {
    // NumericDate is whole seconds (RFC 7519 §2).
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = AccessTokenClaims {
        iss: &state.config.issuer,
        sub: &client.client_id,
        aud: &state.config.audience,
        iat,
        exp: iat + lifetime.as_secs(),
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: &client.client_id,
        scope,
        account_id: &client.account_id,
    };
    state.keys().sign(&claims).map_err(|e| {
        log::error!("token signing failed: {e}");
        OAuthError::new("server_error", "Internal error")
    })
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
            parse_basic(b"Bearer abc").unwrap_err().error,
            "invalid_client"
        );
        assert_eq!(
            parse_basic(b"Basic !!!").unwrap_err().error,
            "invalid_client"
        );
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
