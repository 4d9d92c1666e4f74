//! A database outage, on a throwaway PostgreSQL that this test starts and stops itself (the
//! shared server is never touched): 503s with Retry-After, nothing hangs, and everything
//! recovers when the database is back, with no restart.
use crate::helpers::*;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct ThrowawayPostgres {
    dir: PathBuf,
    pg_ctl: PathBuf,
    port: u16,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop().expect("initdb/pg_ctl")
}

/// initdb refuses to run as root: run the server's tools as the `postgres` user then.
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    let root = std::env::var("USER").map(|u| u == "root").unwrap_or(true);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

impl ThrowawayPostgres {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(unique("vitesse-pg-"));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let data = dir.join("data");
        let ok = as_postgres(
            &pg_bin("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
            ],
        )
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
        assert!(ok.success(), "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Self {
            dir,
            pg_ctl: pg_bin("pg_ctl"),
            port,
        };
        pg.up();
        pg
    }

    fn ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        let mut full = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-o",
            &opts,
            "-w",
        ];
        full.extend_from_slice(args);
        let ok = as_postgres(&self.pg_ctl, &full)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "pg_ctl {args:?}");
    }

    fn up(&self) {
        self.ctl(&["start"]);
    }

    fn down(&self) {
        self.ctl(&["stop", "-m", "fast"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.pg_ctl,
            &["-D", data.to_str().unwrap(), "stop", "-m", "immediate"],
        )
        .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_web::test]
async fn a_database_outage_is_503_and_recovers_without_restart() {
    let pg = ThrowawayPostgres::start();
    let app = spawn_app_on(&pg.url()).await;
    let (admin, _) = app.signed_in_admin().await;
    assert_eq!(
        app.create_client(&admin, &valid_client("outage-client"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let grant = [("grant_type", "client_credentials")];
    let creds = Some(("outage-client", "correct-horse-battery"));
    assert_eq!(app.token(&grant, creds).await.status(), StatusCode::OK);

    pg.down();
    let started = Instant::now();
    let token = app.token(&grant, creds).await;
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(token.headers().contains_key("retry-after"));
    assert_eq!(json(token).await["error"], "temporarily_unavailable");
    let api = admin
        .get(app.url("/api/v1/identity-clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    assert!(api.headers().contains_key("retry-after"));
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "nothing hangs: {:?}",
        started.elapsed()
    );

    pg.up();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = app.token(&grant, creds).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "recovered within 20 s (still {status})"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
    let list = admin
        .get(app.url("/api/v1/identity-clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.status(),
        StatusCode::OK,
        "the session survived the outage"
    );
}
