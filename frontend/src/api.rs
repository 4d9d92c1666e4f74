//! The API, as the SPA sees it: one typed function per operation, with the domain crate's wire
//! types as bodies and answers. This is the only module that knows an `/api/v1` address or
//! writes a request body; pages call these functions and never build either by hand.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vitesse_domain::listing::{ClientListQuery, EventListQuery, percent_encode};
use vitesse_domain::usage::{AccountUsage, UsageReport};
use vitesse_domain::wire::{
    ApiRoleList, AuditEventList, CreateClientRequest, IdentityClient, IdentityClientList,
    IdentityClientWithSecret, Problem, RotateSecretRequest, Session, SignInRequest,
    UpdateClientRequest,
};

#[derive(Debug, Clone)]
pub enum ApiFailure {
    /// No (or an expired) session: back to sign-in.
    SignedOut,
    /// The server's problem+json.
    Problem(Problem),
    /// The server could not be reached.
    Network(String),
}

impl ApiFailure {
    pub fn message(&self) -> String {
        match self {
            ApiFailure::SignedOut => "Your session has ended. Sign in again.".into(),
            ApiFailure::Problem(p) => p
                .detail
                .clone()
                .map_or_else(|| p.title.clone(), |d| format!("{} {}", p.title, d)),
            ApiFailure::Network(e) => format!("The server could not be reached ({e})."),
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiFailure::Problem(p) => Some(p.status),
            _ => None,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;

/// A resource and the `ETag` of the version read, to send back in `If-Match`.
pub type Versioned<T> = (T, String);

// ---- Addresses --------------------------------------------------------------------------

const SESSION: &str = "/api/v1/session";
const API_ROLES: &str = "/api/v1/api-roles";
const CLIENTS: &str = "/api/v1/identity-clients";

fn client_url(id: &str) -> String {
    format!("{CLIENTS}/{}", percent_encode(id))
}

fn with_query(path: String, query: String) -> String {
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

// ---- Operations -------------------------------------------------------------------------

/// Who is signed in (`SignedOut` when nobody is).
pub async fn session() -> ApiResult<Session> {
    body(send(Request::get(SESSION)).await?).await
}

/// Signs in; wrong credentials answer `SignedOut`.
pub async fn sign_in(req: &SignInRequest) -> ApiResult<Session> {
    body(send_json(Request::post(SESSION), req).await?).await
}

pub async fn sign_out() -> ApiResult<()> {
    send(Request::delete(SESSION)).await.map(drop)
}

/// The roles a client may be given.
pub async fn api_roles() -> ApiResult<ApiRoleList> {
    body(send(Request::get(API_ROLES)).await?).await
}

/// One page of the account's clients: filters, search, order, page size and cursor as given.
pub async fn list_clients(query: &ClientListQuery) -> ApiResult<IdentityClientList> {
    let url = with_query(CLIENTS.to_owned(), query.to_query_string());
    body(send(Request::get(&url)).await?).await
}

/// One client, with the version to send back when editing it.
pub async fn client(id: &str) -> ApiResult<Versioned<IdentityClient>> {
    versioned(send(Request::get(&client_url(id))).await?).await
}

/// Creates a client; it is enabled at once.
/// Creates a client; with `generate_secret`, the answer carries the new secret, this once.
pub async fn create_client(req: &CreateClientRequest) -> ApiResult<IdentityClientWithSecret> {
    body(send_json(Request::post(CLIENTS), req).await?).await
}

/// Edits a client with a JSON merge patch: only the members present change, a `null` name or
/// description clears it. With `if_match`, a client changed since that version is refused (412).
pub async fn update_client(
    id: &str,
    patch: &UpdateClientRequest,
    if_match: Option<&str>,
) -> ApiResult<Versioned<IdentityClient>> {
    let req = if_matching(Request::patch(&client_url(id)), if_match);
    versioned(send_body(req, "application/merge-patch+json", patch).await?).await
}

/// Sets a new secret, the previous one working on for the grace period asked for.
pub async fn rotate_secret(
    id: &str,
    req: &RotateSecretRequest,
    if_match: Option<&str>,
) -> ApiResult<Versioned<IdentityClientWithSecret>> {
    let url = format!("{}/secret", client_url(id));
    let builder = if_matching(Request::post(&url), if_match);
    versioned(send_json(builder, req).await?).await
}

/// Ends every token the client holds, at once and for good.
pub async fn revoke_tokens(id: &str) -> ApiResult<Versioned<IdentityClient>> {
    let url = format!("{}/revoke-tokens", client_url(id));
    versioned(send(Request::post(&url)).await?).await
}

/// Ends the previous secret now, before its grace period runs out.
pub async fn end_previous_secret(id: &str) -> ApiResult<Versioned<IdentityClient>> {
    let url = format!("{}/previous-secret", client_url(id));
    versioned(send(Request::delete(&url)).await?).await
}

/// Deletes a client. The admin UI does not offer this (the seed has no delete step); it is here
/// so that the API's whole surface has one typed entry point.
#[allow(dead_code)]
pub async fn delete_client(id: &str, if_match: Option<&str>) -> ApiResult<()> {
    let req = if_matching(Request::delete(&client_url(id)), if_match);
    send(req).await.map(drop)
}

/// One page of a client's audit trail, newest first.
pub async fn client_events(id: &str, query: &EventListQuery) -> ApiResult<AuditEventList> {
    let url = with_query(
        format!("{}/events", client_url(id)),
        query.to_query_string(),
    );
    body(send(Request::get(&url)).await?).await
}

/// A client's usage since `from` (RFC 3339, UTC), per `hour` or `day`.
pub async fn client_usage(id: &str, granularity: &str, from: &str) -> ApiResult<UsageReport> {
    let url = format!(
        "{}/usage?granularity={granularity}&from={}",
        client_url(id),
        percent_encode(from)
    );
    body(send(Request::get(&url)).await?).await
}

/// The account's busiest clients over the last 24 hours.
pub async fn account_usage(limit: u32) -> ApiResult<AccountUsage> {
    body(send(Request::get(&format!("/api/v1/usage?limit={limit}"))).await?).await
}

// ---- Transport --------------------------------------------------------------------------

fn network(e: impl std::fmt::Display) -> ApiFailure {
    ApiFailure::Network(e.to_string())
}

async fn check(res: Response) -> ApiResult<Response> {
    if res.status() == 401 {
        return Err(ApiFailure::SignedOut);
    }
    if res.ok() {
        return Ok(res);
    }
    let status = res.status();
    Err(match res.json::<Problem>().await {
        Ok(p) => ApiFailure::Problem(p),
        Err(_) => ApiFailure::Problem(Problem {
            type_: "about:blank".into(),
            title: format!("The server answered {status}."),
            status,
            detail: None,
            errors: vec![],
        }),
    })
}

fn if_matching(req: RequestBuilder, if_match: Option<&str>) -> RequestBuilder {
    match if_match.filter(|t| !t.is_empty()) {
        Some(tag) => req.header("If-Match", tag),
        None => req,
    }
}

async fn send(req: RequestBuilder) -> ApiResult<Response> {
    check(req.send().await.map_err(network)?).await
}

async fn send_json<B: Serialize>(req: RequestBuilder, b: &B) -> ApiResult<Response> {
    send_body(req, "application/json", b).await
}

async fn send_body<B: Serialize>(
    req: RequestBuilder,
    content_type: &str,
    b: &B,
) -> ApiResult<Response> {
    let text = serde_json::to_string(b).map_err(network)?;
    let res = req
        .header("Content-Type", content_type)
        .body(text)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    check(res).await
}

async fn body<T: DeserializeOwned>(res: Response) -> ApiResult<T> {
    res.json::<T>().await.map_err(network)
}

async fn versioned<T: DeserializeOwned>(res: Response) -> ApiResult<Versioned<T>> {
    let tag = res.headers().get("etag").unwrap_or_default();
    Ok((body(res).await?, tag))
}
