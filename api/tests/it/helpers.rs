use actix_web::web;
use diesel::{Connection, PgConnection, RunQueryDsl};
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsVerifier, RS256};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use vitesse_api::app;
use vitesse_api::config::Config;
use vitesse_api::state::AppState;
use vitesse_api::store::accounts;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend for each named async fn taking a `Backend`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name(crate::helpers::Backend::Sqlite).await
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name(crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}
pub(crate) use on_both_backends;

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestApp {
    pub addr: String,
    pub database_url: String,
    pub state: web::Data<AppState>,
    cleanup: Cleanup,
    server: actix_web::dev::ServerHandle,
    /// The server runs on a thread of its own, so dropping the app can stop it and wait: no
    /// worker thread is left running when the test process exits.
    server_thread: Option<std::thread::JoinHandle<()>>,
}

enum Cleanup {
    Nothing,
    Dir(PathBuf),
    PgDatabase(String),
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.server.clone();
        let _ =
            std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true)))
                .join();
        if let Some(t) = self.server_thread.take() {
            let _ = t.join();
        }
        self.cleanup.run();
    }
}

impl Cleanup {
    fn run(&self) {
        match self {
            Cleanup::Nothing => {}
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::PgDatabase(name) => {
                let name = name.clone();
                // The server's pool still holds connections: FORCE ends them.
                let _ = std::thread::spawn(move || {
                    if let Ok(mut c) = PgConnection::establish(PG_ADMIN_URL) {
                        let _ = diesel::sql_query(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c);
                    }
                })
                .join();
            }
        }
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A fresh, empty database of `backend` that nothing has touched yet (not even migrations),
/// removed when dropped: for tests that run the binary against it, then perhaps the app
/// ([`spawn_app_on`]; drop the app first, as a later local is).
pub struct FreshDatabase {
    pub url: String,
    cleanup: Cleanup,
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        self.cleanup.run();
    }
}

pub fn fresh_database(backend: Backend) -> FreshDatabase {
    let (url, cleanup) = new_database(backend);
    FreshDatabase { url, cleanup }
}

fn new_database(backend: Backend) -> (String, Cleanup) {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(unique("vitesse-test-"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = dir.join("vitesse.sqlite3").to_string_lossy().into_owned();
            (url, Cleanup::Dir(dir))
        }
        Backend::Postgres => {
            let name = unique("vitesse_test_");
            let mut c = PgConnection::establish(PG_ADMIN_URL)
                .expect("PostgreSQL on 127.0.0.1:5432 (user postgres) must be running");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .expect("create test database");
            (
                format!("postgres://postgres@127.0.0.1:5432/{name}"),
                Cleanup::PgDatabase(name),
            )
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// The app on a database this test manages itself.
pub async fn spawn_app_on(database_url: &str) -> TestApp {
    spawn_app_on_with(database_url, |_| {}).await
}

/// The app on a database this test manages itself, with some configuration changed.
pub async fn spawn_app_on_with(database_url: &str, adjust: impl FnOnce(&mut Config)) -> TestApp {
    start(database_url.to_owned(), Cleanup::Nothing, adjust).await
}

/// The app with some configuration changed by `adjust`.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (database_url, cleanup) = new_database(backend);
    start(database_url, cleanup, adjust).await
}

async fn start(
    database_url: String,
    cleanup: Cleanup,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let addr = format!("http://{}", listener.local_addr().expect("local addr"));
    let mut config = Config {
        bcrypt_cost: 4,
        static_dir: Some(PathBuf::from("/nonexistent")),
        ..Config::new(database_url.clone(), addr.clone())
    };
    adjust(&mut config);
    let state = web::block(move || AppState::new(config))
        .await
        .expect("blocking")
        .expect("app state");
    let state = web::Data::new(state);
    let (tx, rx) = std::sync::mpsc::channel();
    let server_state = state.clone();
    let server_thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = app::run(listener, server_state).expect("server");
            tx.send(server.handle())
                .expect("hand over the server handle");
            let _ = server.await;
        })
    });
    let server = rx.recv().expect("the server started");
    TestApp {
        addr,
        database_url,
        state,
        cleanup,
        server,
        server_thread: Some(server_thread),
    }
}

pub fn browser(origin: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", origin.parse().expect("origin header"));
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .expect("client")
}

pub struct Admin {
    pub account_id: String,
    pub email: String,
    pub password: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(
            &mut vitesse_api::store::AnyConnection,
        ) -> Result<T, vitesse_api::store::StoreError>
        + Send
        + 'static,
    ) -> T {
        self.state.db(f).await.expect("test set-up in the store")
    }

    pub async fn new_account(&self, identity_clients_enabled: bool) -> String {
        self.db(move |c| accounts::create_account(c, "Test Merchant", identity_clients_enabled))
            .await
            .id
    }

    /// A user in `account_id` with `role`, created the way the CLI does.
    pub async fn new_user(&self, account_id: &str, role: &str) -> Admin {
        let email = format!("{}@example.com", unique("u"));
        let password = unique("pw-");
        let hash = self.state.hasher.hash(&password).await.expect("hash");
        let (a, e, r) = (account_id.to_owned(), email.clone(), role.to_owned());
        self.db(move |c| accounts::create_user(c, &a, &e, &r, &hash))
            .await;
        Admin {
            account_id: account_id.to_owned(),
            email,
            password,
        }
    }

    /// A signed-in browser-like client for a fresh merchant admin of a fresh enabled account.
    pub async fn signed_in_admin(&self) -> (reqwest::Client, Admin) {
        let account = self.new_account(true).await;
        let admin = self.new_user(&account, "merchant-admin").await;
        let client = self.sign_in(&admin).await;
        (client, admin)
    }

    pub async fn sign_in(&self, admin: &Admin) -> reqwest::Client {
        let client = browser(&self.addr);
        let res = client
            .post(self.url("/api/v1/session"))
            .json(&json!({"email": admin.email, "password": admin.password}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(res.status(), StatusCode::OK, "sign-in failed");
        client
    }

    pub async fn create_client(&self, as_: &reqwest::Client, body: &Value) -> reqwest::Response {
        as_.post(self.url("/api/v1/identity-clients"))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut req = reqwest::Client::new()
            .post(self.url("/oauth2/token"))
            .form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(form_encode(id), Some(form_encode(secret)));
        }
        req.send().await.expect("token request")
    }
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
pub fn form_encode(s: &str) -> String {
    url_encode(s)
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn valid_client(client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_secret": "correct-horse-battery",
        "name": "Shop backend",
        "description": "Creates payments",
        "token_duration_minutes": 15,
        "roles": ["payments:read", "refunds:write"]
    })
}

pub async fn json(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

/// The only grant there is.
pub const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

/// The API path of a client as the API returned it.
pub fn path_of(c: &Value) -> String {
    format!("/api/v1/identity-clients/{}", c["id"].as_str().unwrap())
}

/// Creates [`valid_client`]`(client_id)` as `admin`, which must succeed; returns the client and
/// its ETag.
pub async fn create_client_as(
    app: &TestApp,
    admin: &reqwest::Client,
    client_id: &str,
) -> (Value, String) {
    let res = app.create_client(admin, &valid_client(client_id)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    (json(res).await, etag)
}

/// A fresh merchant admin's client with this secret and token lifetime; returns the admin.
pub async fn setup_client(app: &TestApp, client_id: &str, secret: &str, minutes: i64) -> Admin {
    let (admin, user) = app.signed_in_admin().await;
    let mut body = valid_client(client_id);
    body["client_secret"] = json!(secret);
    body["token_duration_minutes"] = json!(minutes);
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    user
}

/// Client `c`'s audit trail (first page, newest first) as `who` reads it.
pub async fn audit_trail(app: &TestApp, who: &reqwest::Client, c: &Value) -> Value {
    let res = who
        .get(app.url(&format!("{}/events", path_of(c))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

/// PATCHes client `c` as `who`, with `If-Match: etag` when given.
pub async fn patch(
    app: &TestApp,
    who: &reqwest::Client,
    c: &Value,
    body: Value,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut req = who.patch(app.url(&path_of(c))).json(&body);
    if let Some(e) = etag {
        req = req.header("if-match", e);
    }
    req.send().await.unwrap()
}

/// An access token for client `id`, which has [`valid_client`]'s secret.
pub async fn access_token(app: &TestApp, id: &str) -> String {
    let body = json(app.token(&GRANT, Some((id, "correct-horse-battery"))).await).await;
    body["access_token"].as_str().unwrap().to_owned()
}

/// RFC 7662 introspection of `token` by the client `caller` (id, secret); must answer 200.
pub async fn introspect(app: &TestApp, caller: (&str, &str), token: &str) -> Value {
    let res = reqwest::Client::new()
        .post(app.url("/oauth2/introspect"))
        .basic_auth(caller.0, Some(caller.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

/// The JOSE header of a compact JWS, unverified.
pub fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice(&header).unwrap()
}

/// The key ids the JWKS publishes, in its order.
pub async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks = json(reqwest::get(app.url("/oauth2/jwks")).await.unwrap()).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Verifies `token` against the live JWKS with the algorithm its key names; returns
/// (header, claims).
pub async fn verify(app: &TestApp, token: &str) -> (Value, Value) {
    let jwks = reqwest::get(app.url("/oauth2/jwks"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let set = JwkSet::from_bytes(&jwks).unwrap();
    let header = jwt_header(token);
    let kid = header["kid"].as_str().unwrap();
    let jwk = set
        .get(kid)
        .into_iter()
        .next()
        .expect("the token's kid is in the JWKS");
    let verifier: Box<dyn JwsVerifier> = match jwk.algorithm() {
        Some("ES256") => Box::new(ES256.verifier_from_jwk(jwk).unwrap()),
        Some("RS256") => Box::new(RS256.verifier_from_jwk(jwk).unwrap()),
        other => panic!("unexpected key algorithm {other:?}"),
    };
    let (payload, _) =
        josekit::jwt::decode_with_verifier(token, &*verifier).expect("signature verifies");
    (header, Value::Object(payload.claims_set().clone()))
}
