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
}

async fn read<T: DeserializeOwned>(res: Response) -> Result<T, ApiFailure> {
    if res.status() == 401 {
        return Err(ApiFailure::SignedOut);
    }
    if !res.ok() {
        let status = res.status();
        return Err(match res.json::<Problem>().await {
            Ok(p) => ApiFailure::Problem(p),
            Err(_) => ApiFailure::Problem(Problem {
                type_: "about:blank".into(),
                title: format!("The server answered {status}"),
                status,
                detail: None,
                errors: vec![],
            }),
        });
    }
    res.json::<T>()
        .await
        .map_err(|e| ApiFailure::Network(e.to_string()))
}

async fn send(req: RequestBuilder) -> Result<Response, ApiFailure> {
    req.send()
        .await
        .map_err(|e| ApiFailure::Network(e.to_string()))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    read(send(Request::get(path)).await?).await
}

pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiFailure> {
    let req = Request::post(path)
        .json(body)
        .map_err(|e| ApiFailure::Network(e.to_string()))?;
    read(
        req.send()
            .await
            .map_err(|e| ApiFailure::Network(e.to_string()))?,
    )
    .await
}

pub async fn delete(path: &str) -> Result<(), ApiFailure> {
    let res = send(Request::delete(path)).await?;
    if res.ok() || res.status() == 401 {
        Ok(())
    } else {
        Err(ApiFailure::Network(format!("status {}", res.status())))
    }
}
