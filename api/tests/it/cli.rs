//! The operators' command line: the real binary on a fresh database, judged by what an operator
//! notices — the exit status, what it prints, and the effect through the API of a server started
//! on the same database.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use std::process::{ExitStatus, Stdio};
use tokio::io::AsyncWriteExt;

on_both_backends!(
    account_and_user_create_make_an_admin_who_signs_in,
    a_short_password_on_stdin_is_refused_and_creates_nothing,
    an_invalid_email_or_unknown_account_is_refused,
    roles_are_created_listed_and_retired,
    keys_are_rotated_and_listed,
    operators_disable_users_set_passwords_and_end_sessions,
    a_change_from_another_process_stops_a_warm_client_at_the_next_request,
);

/// One run of the binary.
struct Run {
    args: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// It succeeded; its standard output.
    fn ok(&self) -> &str {
        assert!(
            self.status.success(),
            "`{}` failed ({}): {}",
            self.args,
            self.status,
            self.stderr
        );
        &self.stdout
    }

    /// It failed and printed nothing on standard output; its standard error.
    fn refused(&self) -> &str {
        assert!(
            !self.status.success(),
            "`{}` should have failed: {}",
            self.args,
            self.stdout
        );
        assert_eq!(self.stdout, "", "`{}` prints nothing on failure", self.args);
        &self.stderr
    }
}

/// `vitesse-identity --bcrypt-cost 4 --database-url DB ARGS…`, with `stdin` piped in if given,
/// and none of the caller's DATABASE_URL or VITESSE_* settings.
async fn vitesse(db: &FreshDatabase, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_vitesse-identity"));
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if n == "DATABASE_URL" || n.starts_with("VITESSE_") {
            cmd.env_remove(&name);
        }
    }
    cmd.args(["--bcrypt-cost", "4", "--database-url", &db.url])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("run vitesse-identity");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).await.expect("write stdin");
    }
    let out = child
        .wait_with_output()
        .await
        .expect("vitesse-identity ran");
    Run {
        args: args.join(" "),
        status: out.status,
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 errors"),
    }
}

/// `account create`: the id it prints, its only line.
async fn create_account(db: &FreshDatabase, name: &str, identity_clients: &str) -> String {
    let run = vitesse(
        db,
        &[
            "account",
            "create",
            "--name",
            name,
            "--identity-clients",
            identity_clients,
        ],
        None,
    )
    .await;
    let out = run.ok();
    let id = out.strip_suffix('\n').expect("one line");
    assert!(
        !id.is_empty() && !id.contains(char::is_whitespace),
        "only the id: {out:?}"
    );
    id.to_owned()
}

/// `user create --account ACCOUNT --email EMAIL --role merchant-admin`, with `--password-stdin`
/// and that input when a password is given.
async fn user_create(
    db: &FreshDatabase,
    account: &str,
    email: &str,
    password_stdin: Option<&str>,
) -> Run {
    let mut args = vec![
        "user",
        "create",
        "--account",
        account,
        "--email",
        email,
        "--role",
        "merchant-admin",
    ];
    if password_stdin.is_some() {
        args.push("--password-stdin");
    }
    vitesse(db, &args, password_stdin).await
}

/// The signed-in user's session as the API describes it.
async fn session_of(app: &TestApp, admin: &Admin) -> serde_json::Value {
    let client = app.sign_in(admin).await;
    let res = client.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

async fn account_and_user_create_make_an_admin_who_signs_in(b: Backend) {
    let db = fresh_database(b);
    let refused = vitesse(
        &db,
        &[
            "account",
            "create",
            "--name",
            "  ",
            "--identity-clients",
            "enabled",
        ],
        None,
    )
    .await;
    assert!(refused.refused().contains("--name must not be empty"));

    let account = create_account(&db, "CLI Merchant", "enabled").await;
    let email = format!("{}@example.com", unique("ops-"));
    let run = user_create(&db, &account, &email, None).await;
    let line = run.ok().strip_suffix('\n').expect("one line").to_owned();
    let (printed_email, password) = line.split_once('\t').expect("email TAB password");
    assert_eq!(printed_email, email);
    assert!(
        password.chars().count() >= 12 && !password.contains(char::is_whitespace),
        "a strong generated password: {password:?}"
    );

    // A server on the same database lets the operator's new admin in, to manage clients.
    let app = spawn_app_on(&db.url).await;
    let admin = Admin {
        account_id: account.clone(),
        email: email.clone(),
        password: password.to_owned(),
    };
    let me = session_of(&app, &admin).await;
    assert_eq!(me["email"], email.as_str());
    assert_eq!(me["account_id"], account.as_str());
    assert_eq!(me["account_name"], "CLI Merchant");
    assert_eq!(me["role"], "merchant-admin");
    assert_eq!(me["can_manage_identity_clients"], true);
    let session = app.sign_in(&admin).await;
    create_client_as(&app, &session, "cli-made-admin-client").await;

    // An account created with identity clients disabled: its admin signs in but may not manage.
    let off = create_account(&db, "CLI Merchant Off", "disabled").await;
    assert_ne!(off, account);
    let off_admin = Admin {
        account_id: off.clone(),
        email: format!("{}@example.com", unique("off-")),
        password: "a-password-from-stdin".into(),
    };
    let run = user_create(&db, &off, &off_admin.email, Some("a-password-from-stdin\n")).await;
    let user_id = run.ok().trim_end().to_owned();
    let me = session_of(&app, &off_admin).await;
    assert_eq!(
        me["user_id"],
        user_id.as_str(),
        "with --password-stdin the id"
    );
    assert_eq!(me["account_id"], off.as_str());
    assert_eq!(me["identity_clients_enabled"], false);
    assert_eq!(me["can_manage_identity_clients"], false);
    let session = app.sign_in(&off_admin).await;
    let res = session
        .get(app.url("/api/v1/identity-clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn a_short_password_on_stdin_is_refused_and_creates_nothing(b: Backend) {
    let db = fresh_database(b);
    let account = create_account(&db, "CLI Merchant", "enabled").await;
    let email = format!("{}@example.com", unique("short-"));
    // Eleven characters (the line break is not part of it).
    let refused = user_create(&db, &account, &email, Some("eleven-char\n")).await;
    assert!(
        refused
            .refused()
            .contains("the password must be at least 12 characters"),
        "{}",
        refused.stderr
    );

    // Nothing was created: the short password does not sign in, and the same email is free.
    let app = spawn_app_on(&db.url).await;
    let res = browser(&app.addr)
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": "eleven-char"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    user_create(&db, &account, &email, Some("twelve-chars\n"))
        .await
        .ok();
    let me = session_of(
        &app,
        &Admin {
            account_id: account.clone(),
            email: email.clone(),
            password: "twelve-chars".into(),
        },
    )
    .await;
    assert_eq!(me["email"], email.as_str());
}

async fn an_invalid_email_or_unknown_account_is_refused(b: Backend) {
    let db = fresh_database(b);
    let account = create_account(&db, "CLI Merchant", "enabled").await;
    for email in ["not-an-email", "@"] {
        let run = user_create(&db, &account, email, None).await;
        assert!(
            run.refused().contains("--email must be an email address"),
            "{email}: {}",
            run.stderr
        );
    }
    let run = user_create(&db, "no-such-account", "someone@example.com", None).await;
    assert!(run.refused().contains("not found"), "{}", run.stderr);
    // The refused attempt for an unknown account created no user: the email is still free.
    let run = user_create(&db, &account, "someone@example.com", None).await;
    let line = run.ok();
    assert!(line.starts_with("someone@example.com\t"), "{line}");
}

async fn roles_are_created_listed_and_retired(b: Backend) {
    let db = fresh_database(b);
    let run = vitesse(
        &db,
        &[
            "role",
            "create",
            "billing:read",
            "--description",
            "Read invoices",
        ],
        None,
    )
    .await;
    run.ok();
    let listed = vitesse(&db, &["role", "list"], None).await.ok().to_owned();
    let lines: Vec<&str> = listed.lines().collect();
    assert!(
        lines.contains(&"billing:read\tactive\tRead invoices"),
        "{listed}"
    );
    assert!(
        lines.contains(&"payments:read\tactive\tView payments and their status"),
        "{listed}"
    );

    for (args, why) in [
        (
            ["role", "create", "billing:read", "--description", "Again"],
            "already exists",
        ),
        (
            [
                "role",
                "create",
                "Billing Read",
                "--description",
                "Bad name",
            ],
            "Role names must be",
        ),
    ] {
        let run = vitesse(&db, &args, None).await;
        assert!(run.refused().contains(why), "{}", run.stderr);
    }
    let again = vitesse(&db, &["role", "list"], None).await;
    assert_eq!(again.ok(), listed, "refused commands change nothing");

    // Assignable through the API, and carried into tokens.
    let app = spawn_app_on(&db.url).await;
    let (admin, _) = app.signed_in_admin().await;
    let roles = json(
        admin
            .get(app.url("/api/v1/api-roles"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        roles["items"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "billing:read", "description": "Read invoices"})),
        "{roles}"
    );
    let mut body = valid_client("billing-client");
    body["roles"] = json!(["billing:read"]);
    assert_eq!(
        app.create_client(&admin, &body).await.status(),
        StatusCode::CREATED
    );

    // Retired: listed as such, no longer offered or assignable, kept by its holder.
    vitesse(&db, &["role", "retire", "billing:read"], None)
        .await
        .ok();
    let listed = vitesse(&db, &["role", "list"], None).await.ok().to_owned();
    assert!(
        listed
            .lines()
            .any(|l| l == "billing:read\tretired\tRead invoices"),
        "{listed}"
    );
    let roles = json(
        admin
            .get(app.url("/api/v1/api-roles"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        !roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "billing:read")
    );
    body["client_id"] = json!("late-billing-client");
    let res = app.create_client(&admin, &body).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let token = json(
        app.token(&GRANT, Some(("billing-client", "correct-horse-battery")))
            .await,
    )
    .await;
    assert_eq!(token["scope"], "billing:read");

    let run = vitesse(&db, &["role", "retire", "no-such:role"], None).await;
    assert!(run.refused().contains("not found"), "{}", run.stderr);
}

/// `keys list`: (kid, alg, active from, retired at or "-") per line.
async fn key_list(db: &FreshDatabase) -> Vec<[String; 4]> {
    vitesse(db, &["keys", "list"], None)
        .await
        .ok()
        .lines()
        .map(|l| {
            let cols: Vec<String> = l.split('\t').map(str::to_owned).collect();
            cols.try_into().expect("kid, alg, active from, retired at")
        })
        .collect()
}

async fn keys_are_rotated_and_listed(b: Backend) {
    let db = fresh_database(b);
    // The first start makes the first key, which the list shows, signing.
    let app = spawn_app_on(&db.url).await;
    let (admin, _) = app.signed_in_admin().await;
    create_client_as(&app, &admin, "shop-backend").await;
    let first_token = access_token(&app, "shop-backend").await;
    let first = key_list(&db).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let first_kid = first[0][0].clone();
    assert_eq!(jwt_header(&first_token)["kid"], first_kid.as_str());
    assert_eq!(first[0][1], "ES256");
    assert!(
        chrono::DateTime::parse_from_rfc3339(&first[0][2]).is_ok(),
        "{first:?}"
    );
    assert_eq!(first[0][3], "-", "not retired");

    // Rotated now, to RS256: printed, listed, and signing once the server reloads its keys.
    let run = vitesse(
        &db,
        &[
            "keys",
            "rotate",
            "--activate-after-minutes",
            "0",
            "--alg",
            "RS256",
        ],
        None,
    )
    .await;
    let rs_kid = run.ok().trim_end().to_owned();
    let keys = key_list(&db).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0][0], first_kid);
    assert!(
        chrono::DateTime::parse_from_rfc3339(&keys[0][3]).is_ok(),
        "the old key is retired: {keys:?}"
    );
    assert_eq!(
        [
            keys[1][0].as_str(),
            keys[1][1].as_str(),
            keys[1][3].as_str()
        ],
        [rs_kid.as_str(), "RS256", "-"]
    );
    app.state.reload_keys().await.unwrap();
    let rs_token = access_token(&app, "shop-backend").await;
    let (header, _) = verify(&app, &rs_token).await;
    assert_eq!(header["kid"], rs_kid.as_str());
    assert_eq!(header["alg"], "RS256");
    let caller = ("shop-backend", "correct-horse-battery");
    assert_eq!(
        introspect(&app, caller, &first_token).await["active"],
        true,
        "tokens of the old key stay valid"
    );
    verify(&app, &first_token).await;

    // Rotated with the default delay: published at once, signing only later.
    let run = vitesse(&db, &["keys", "rotate"], None).await;
    let next_kid = run.ok().trim_end().to_owned();
    let keys = key_list(&db).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(
        [
            keys[2][0].as_str(),
            keys[2][1].as_str(),
            keys[2][3].as_str()
        ],
        [next_kid.as_str(), "ES256", "-"]
    );
    let active_from = |k: &[String; 4]| chrono::DateTime::parse_from_rfc3339(&k[2]).unwrap();
    assert!(
        active_from(&keys[2]) > active_from(&keys[1]),
        "activates later: {keys:?}"
    );
    app.state.reload_keys().await.unwrap();
    assert!(jwks_kids(&app).await.contains(&next_kid));
    assert_eq!(
        jwt_header(&access_token(&app, "shop-backend").await)["kid"],
        rs_kid.as_str(),
        "not signing yet"
    );

    let run = vitesse(
        &db,
        &["keys", "rotate", "--activate-after-minutes", "1441"],
        None,
    )
    .await;
    assert!(
        run.refused()
            .contains("--activate-after-minutes must be 0–1440"),
        "{}",
        run.stderr
    );
    assert_eq!(key_list(&db).await, keys, "a refused rotation adds no key");
}

/// An operator answers a compromised admin account: ends its sessions, sets a new password
/// (the old one stops, its sessions end), disables it (it cannot sign in, even with the right
/// password) and enables it again; `user list` shows each state.
async fn operators_disable_users_set_passwords_and_end_sessions(b: Backend) {
    let db = fresh_database(b);
    let account = create_account(&db, "Ops Merchant", "enabled").await;
    let email = format!("{}@example.com", unique("ops-"));
    let first = "first-password-long";
    user_create(&db, &account, &email, Some(first)).await.ok();
    let app = spawn_app_on(&db.url).await;
    let admin = |password: &str| Admin {
        account_id: account.clone(),
        email: email.clone(),
        password: password.to_owned(),
    };
    let signed_in = |client: &reqwest::Client| {
        let req = client.get(app.url("/api/v1/session"));
        async move { req.send().await.unwrap().status() == StatusCode::OK }
    };
    let sign_in_status = |password: &str| {
        let body = json!({"email": email, "password": password});
        let (http, url) = (browser(&app.addr), app.url("/api/v1/session"));
        async move { http.post(url).json(&body).send().await.unwrap().status() }
    };

    let session = app.sign_in(&admin(first)).await;
    assert!(signed_in(&session).await);
    vitesse(&db, &["user", "end-sessions", "--email", &email], None)
        .await
        .ok();
    assert!(!signed_in(&session).await, "end-sessions ends the session");

    let session = app.sign_in(&admin(first)).await;
    let second = "second-password-long";
    vitesse(
        &db,
        &[
            "user",
            "set-password",
            "--email",
            &email,
            "--password-stdin",
        ],
        Some(second),
    )
    .await
    .ok();
    assert!(
        !signed_in(&session).await,
        "a new password ends the old sessions"
    );
    assert_eq!(sign_in_status(first).await, StatusCode::UNAUTHORIZED);
    let session = app.sign_in(&admin(second)).await;
    assert!(
        vitesse(
            &db,
            &[
                "user",
                "set-password",
                "--email",
                &email,
                "--password-stdin"
            ],
            Some("short")
        )
        .await
        .refused()
        .contains("at least 12")
    );

    vitesse(&db, &["user", "disable", "--email", &email], None)
        .await
        .ok();
    assert!(!signed_in(&session).await, "disabling ends the sessions");
    assert_eq!(
        sign_in_status(second).await,
        StatusCode::UNAUTHORIZED,
        "nor can it sign in"
    );
    let list = vitesse(&db, &["user", "list"], None).await;
    assert!(
        list.ok()
            .contains(&format!("{email}\tmerchant-admin\t{account}\tdisabled"))
    );
    vitesse(&db, &["user", "enable", "--email", &email], None)
        .await
        .ok();
    assert_eq!(sign_in_status(second).await, StatusCode::OK);
    assert!(
        vitesse(
            &db,
            &["user", "disable", "--email", "nobody@example.com"],
            None
        )
        .await
        .refused()
        .contains("no user has the email nobody@example.com")
    );
}

/// `backup --to`: a consistent copy while clients are being created through the API; a server
/// started on the copy serves what it holds. It never overwrites, and PostgreSQL is told to
/// use pg_dump.
#[actix_web::test]
async fn a_backup_under_write_load_is_consistent_and_serves() {
    let db = fresh_database(Backend::Sqlite);
    let app = spawn_app_on(&db.url).await;
    let (admin, user) = app.signed_in_admin().await;
    create_client_as(&app, &admin, "before-the-backup").await;
    // Writers: clients created one after another until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, url, admin) = (
            stop.clone(),
            app.url("/api/v1/identity-clients"),
            admin.clone(),
        );
        tokio::spawn(async move {
            let mut made = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = admin
                    .post(&url)
                    .json(&valid_client(&unique("during-")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                made += 1;
            }
            made
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dir = std::path::Path::new(&db.url)
        .parent()
        .unwrap()
        .to_path_buf();
    let copy = dir.join("backup.sqlite3");
    let copy_path = copy.to_str().unwrap().to_owned();
    let run = vitesse(&db, &["backup", "--to", &copy_path], None).await;
    assert_eq!(run.ok().trim(), copy_path);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let made = writer.await.unwrap();
    assert!(made > 0, "the backup ran while clients were being created");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the copy is the owner's alone");
    }
    // Never to a SQLite URI, which would be written elsewhere and readable by all (review).
    let uri = format!("file:{}", dir.join("uri.sqlite3").display());
    let refused = vitesse(&db, &["backup", "--to", &uri], None).await;
    assert!(
        refused.refused().contains("not a file: URI"),
        "{}",
        refused.stderr
    );
    assert!(!dir.join("uri.sqlite3").exists());
    // Never over an existing file.
    let again = vitesse(&db, &["backup", "--to", &copy_path], None).await;
    assert!(
        again.refused().contains("cannot create"),
        "{}",
        again.stderr
    );

    // A server on the copy: sound, and holding the clients made before it.
    let restored = spawn_app_on(&copy_path).await;
    let admin = restored.sign_in(&user).await;
    let list = json(
        admin
            .get(restored.url("/api/v1/identity-clients?limit=200&search=before-the-backup"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["items"][0]["client_id"], "before-the-backup");
    let ok: String = restored
        .db(|c| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            Ok(diesel::sql_query("PRAGMA integrity_check")
                .load::<Check>(match c {
                    vitesse_api::store::AnyConnection::Sqlite(c) => c,
                    _ => unreachable!("a SQLite copy"),
                })?
                .remove(0)
                .integrity_check)
        })
        .await;
    assert_eq!(ok, "ok");
    drop(restored);
    drop(app);

    let pg = fresh_database(Backend::Postgres);
    let refused = vitesse(
        &pg,
        &["backup", "--to", &dir.join("pg.sqlite3").to_string_lossy()],
        None,
    )
    .await;
    assert!(refused.refused().contains("pg_dump"), "{}", refused.stderr);
}

/// A running server's warm client (its row remembered on SQLite) is stopped by a change that
/// another process makes — the operator switching the account's identity clients off — at the
/// very next request, and works again at the next one after it is switched back on.
async fn a_change_from_another_process_stops_a_warm_client_at_the_next_request(b: Backend) {
    let db = fresh_database(b);
    let app = spawn_app_on(&db.url).await;
    let admin = setup_client(&app, "warm-client", "warm-client-secret", 15).await;
    let token = || {
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("warm-client", "warm-client-secret")),
        )
    };
    for _ in 0..3 {
        assert_eq!(token().await.status(), StatusCode::OK);
    }
    let off = [
        "account",
        "set-identity-clients",
        "--account",
        &admin.account_id,
        "disabled",
    ];
    vitesse(&db, &off, None).await.ok();
    let res = token().await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"], "invalid_client");
    let on = [
        "account",
        "set-identity-clients",
        "--account",
        &admin.account_id,
        "enabled",
    ];
    vitesse(&db, &on, None).await.ok();
    assert_eq!(token().await.status(), StatusCode::OK);
}
