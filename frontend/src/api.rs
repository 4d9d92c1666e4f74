//! Typed calls to the REST API with the domain crate's wire types.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vitesse_domain::wire::Problem;

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

fn network(e: impl std::fmt::Display) -> ApiFailure {
    ApiFailure::Network(e.to_string())
}

async fn check(res: Response) -> Result<Response, ApiFailure> {
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

async fn send(req: RequestBuilder) -> Result<Response, ApiFailure> {
    check(req.send().await.map_err(network)?).await
}

async fn send_json<B: Serialize>(req: RequestBuilder, body: &B) -> Result<Response, ApiFailure> {
    check(
        req.json(body)
            .map_err(network)?
            .send()
            .await
            .map_err(network)?,
    )
    .await
}

async fn body<T: DeserializeOwned>(res: Response) -> Result<T, ApiFailure> {
    res.json::<T>().await.map_err(network)
}

fn etag(res: &Response) -> String {
    res.headers().get("etag").unwrap_or_default()
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    body(send(Request::get(path)).await?).await
}

/// A resource with the `ETag` to send back in `If-Match`.
pub async fn get_versioned<T: DeserializeOwned>(path: &str) -> Result<(T, String), ApiFailure> {
    let res = send(Request::get(path)).await?;
    let tag = etag(&res);
    Ok((body(res).await?, tag))
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, b: &B) -> Result<T, ApiFailure> {
    body(send_json(Request::post(path), b).await?).await
}

/// An edit, refused with 412 when `if_match` is stale.
pub async fn patch<B: Serialize, T: DeserializeOwned>(
    path: &str,
    b: &B,
    if_match: Option<&str>,
) -> Result<(T, String), ApiFailure> {
    let mut req = Request::patch(path);
    if let Some(tag) = if_match.filter(|t| !t.is_empty()) {
        req = req.header("If-Match", tag);
    }
    let res = send_json(req, b).await?;
    let tag = etag(&res);
    Ok((body(res).await?, tag))
}

pub async fn delete(path: &str) -> Result<(), ApiFailure> {
    send(Request::delete(path)).await.map(|_| ())
}

/// `encodeURIComponent`, for query parameters.
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
