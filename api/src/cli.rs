//! The command line: serve, and the operators' tasks (accounts, users, migrations, OpenAPI).

use crate::app;
use crate::config::Config;
use crate::oauth::keys::SigningAlg;
use crate::oauth::secrets::SecretHasher;
use crate::service::operator;
use crate::state::AppState;
use crate::store;
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use vitesse_domain::user_role;

#[derive(Parser)]
#[command(
    name = "vitesse-identity",
    version,
    about = "Vitesse Identity: identity clients and OAuth 2.0 tokens"
)]
struct Cli {
    /// postgres://… for PostgreSQL; otherwise a SQLite file path (default: DATA_DIR/vitesse.sqlite3).
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Where the embedded SQLite database lives.
    #[arg(long, env = "VITESSE_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// bcrypt cost for client secrets and passwords.
    #[arg(long, env = "VITESSE_BCRYPT_COST", default_value_t = 12, global = true,
          value_parser = clap::value_parser!(u32).range(4..=31))]
    bcrypt_cost: u32,
    /// Log lines as `text` or as one JSON object per line (`json`), for log shippers.
    #[arg(
        long,
        env = "VITESSE_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API, the token service and the web UI on one port.
    Serve(ServeArgs),
    /// Merchant accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Admin users of an account.
    #[command(subcommand)]
    User(UserCommand),
    /// The API-role catalogue.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Token-signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy the SQLite database, consistently, while the server keeps running (PostgreSQL:
    /// use pg_dump; see docs/operating.md).
    Backup {
        /// The copy to make; it must not exist yet.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The address and port to listen on (`0.0.0.0:8080` for every interface).
    #[arg(long, env = "VITESSE_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Public base URL: the tokens' `iss` and the metadata's URLs; https makes cookies Secure
    /// and sends HSTS (default: https://BIND with --tls-cert, else http://BIND).
    #[arg(long, env = "VITESSE_ISSUER")]
    issuer: Option<String>,
    /// The tokens' `aud`.
    #[arg(long, env = "VITESSE_AUDIENCE", default_value = "vitesse-api")]
    audience: String,
    /// Serve the web UI from this folder (Trunk's dist) instead of the copy built into the
    /// binary: for development. Default: the built-in copy.
    #[arg(long, env = "VITESSE_STATIC_DIR")]
    static_dir: Option<PathBuf>,
    /// Database connections (default: twice the CPU cores, at least 4). More than the cores can
    /// keep busy only adds switching: on 2 cores, 4 served a third more tokens/s than 16.
    #[arg(long, env = "VITESSE_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pool_size: Option<u32>,
    /// Minutes of inactivity after which a sign-in session ends.
    #[arg(long, env = "VITESSE_SESSION_IDLE_MINUTES", default_value_t = 30)]
    session_idle_minutes: u64,
    /// Hours after which a sign-in session ends regardless.
    #[arg(long, env = "VITESSE_SESSION_MAX_HOURS", default_value_t = 12)]
    session_max_hours: u64,
    /// Seconds between re-reads of the signing keys (a rotation reaches this instance within it).
    #[arg(long, env = "VITESSE_KEY_RELOAD_SECONDS", default_value_t = 30)]
    key_reload_seconds: u64,
    /// The algorithm tokens are signed with. Changing it rotates the key at the next start;
    /// the old key stays published until its tokens have expired.
    #[arg(
        long,
        env = "VITESSE_TOKEN_SIGNING_ALG",
        value_enum,
        default_value = "ES256"
    )]
    token_signing_alg: SigningAlg,
    /// Comma-separated addresses or CIDRs of the proxies in front of this server (e.g.
    /// `10.0.0.0/8,::1`). From them, the caller's address is the right-most `X-Forwarded-For`
    /// entry that is not itself a trusted proxy; from anyone else the header is ignored.
    /// Throttling, the audit trail and the logs use that address. Default: none.
    #[arg(long, env = "VITESSE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Serve /metrics on this address instead of the public port (which then answers 404), so
    /// only the monitoring network reaches them. Default: on the public port.
    #[arg(long, env = "VITESSE_METRICS_BIND")]
    metrics_bind: Option<String>,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1) with this certificate chain (PEM); with --tls-key.
    /// Without them: plain HTTP, as behind a proxy that terminates TLS.
    #[arg(long, env = "VITESSE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "VITESSE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// How often each instance writes the usage it counted in memory (1–10 s); it also writes
    /// it when it stops.
    #[arg(long, env = "VITESSE_USAGE_FLUSH_SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=10))]
    usage_flush_seconds: u64,
    /// Count no usage per client (only to measure what counting costs; the usage pages and
    /// charts then stay empty).
    #[arg(long, env = "VITESSE_NO_USAGE_COUNTING")]
    no_usage_counting: bool,
    /// On first run, create a demo account and admin and print the credentials.
    #[arg(long, env = "VITESSE_DEMO")]
    demo: bool,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; prints only its id.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "identity-clients", value_enum)]
        identity_clients: Toggle,
    },
    /// Turn identity-client management on or off for an account.
    SetIdentityClients {
        #[arg(long)]
        account: String,
        #[arg(value_enum)]
        state: Toggle,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Toggle {
    Enabled,
    Disabled,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an admin user. Without --password-stdin a strong password is generated and printed.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: UserRole,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every admin user: email, role, account, state.
    List,
    /// Switch a user off: they cannot sign in, and their sessions end now.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Switch a user on again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Set a user's password (generated and printed, or --password-stdin); their sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// End every session of a user now (they sign in again).
    EndSessions {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// Add a role to the catalogue.
    Create {
        name: String,
        #[arg(long)]
        description: String,
    },
    /// List every role: name, state, description.
    List,
    /// Retire a role: it can no longer be assigned; clients holding it keep it.
    Retire { name: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Publish a new signing key now; it signs after the delay, when the current key retires.
    /// Retired keys stay published until every token they signed has expired.
    Rotate {
        /// Minutes between publishing the new key and signing with it (let JWKS caches refresh).
        #[arg(long, default_value_t = 10)]
        activate_after_minutes: i64,
        /// The new key's algorithm (the same setting `serve` reads).
        #[arg(
            long,
            env = "VITESSE_TOKEN_SIGNING_ALG",
            value_enum,
            default_value = "ES256"
        )]
        alg: SigningAlg,
    },
    /// List the keys: kid, algorithm, active from, retired at.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
enum UserRole {
    MerchantAdmin,
    ManageIdentityClients,
    Viewer,
}

impl UserRole {
    fn as_str(self) -> &'static str {
        match self {
            UserRole::MerchantAdmin => user_role::MERCHANT_ADMIN,
            UserRole::ManageIdentityClients => user_role::MANAGE_IDENTITY_CLIENTS,
            UserRole::Viewer => user_role::VIEWER,
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn database_url(cli: &Cli) -> String {
    cli.database_url.clone().unwrap_or_else(|| {
        cli.data_dir
            .join("vitesse.sqlite3")
            .to_string_lossy()
            .into_owned()
    })
}

fn dispatch(cli: Cli) -> CliResult {
    let url = database_url(&cli);
    // Every operator command but `openapi` works on the database, migrated first.
    let connect = || -> Result<store::Pool, store::StoreError> { store::connect(&url, 1) };
    match cli.command {
        Command::Openapi => {
            print!("{}", crate::openapi::document());
        }
        Command::Migrate => {
            connect()?;
            eprintln!("migrations applied");
        }
        Command::Backup { to } => {
            let conn = &mut *connect()?.get()?;
            store::backup_sqlite(conn, &to)?;
            println!("{}", to.display());
        }
        Command::Account(AccountCommand::Create {
            name,
            identity_clients,
        }) => {
            let enabled = matches!(identity_clients, Toggle::Enabled);
            let account = operator::create_account(&mut *connect()?.get()?, &name, enabled)?;
            println!("{}", account.id);
        }
        Command::Account(AccountCommand::SetIdentityClients { account, state }) => {
            let enabled = matches!(state, Toggle::Enabled);
            operator::set_identity_clients(&mut *connect()?.get()?, &account, enabled)?;
        }
        Command::User(UserCommand::Create {
            account,
            email,
            role,
            password_stdin,
        }) => {
            let (password, generated) = read_or_generate_password(password_stdin)?;
            // The rules first: nothing is stored, or connected to, for a refused request.
            operator::normalise_email(&email)?;
            let hasher = SecretHasher::new(cli.bcrypt_cost);
            let user = operator::create_user(
                &mut *connect()?.get()?,
                &hasher,
                &account,
                &email,
                role.as_str(),
                &password,
            )?;
            if generated {
                println!("{}\t{}", user.email, password);
            } else {
                println!("{}", user.id);
            }
        }
        Command::User(UserCommand::List) => {
            for u in operator::list_users(&mut *connect()?.get()?)? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{state}", u.email, u.role, u.account_id);
            }
        }
        Command::User(UserCommand::Disable { email }) => {
            operator::set_user_disabled(&mut *connect()?.get()?, &email, true)?;
        }
        Command::User(UserCommand::Enable { email }) => {
            operator::set_user_disabled(&mut *connect()?.get()?, &email, false)?;
        }
        Command::User(UserCommand::SetPassword {
            email,
            password_stdin,
        }) => {
            let (password, generated) = read_or_generate_password(password_stdin)?;
            operator::normalise_email(&email)?;
            let hasher = SecretHasher::new(cli.bcrypt_cost);
            operator::set_password(&mut *connect()?.get()?, &hasher, &email, &password)?;
            if generated {
                println!("{password}");
            }
        }
        Command::User(UserCommand::EndSessions { email }) => {
            operator::end_sessions(&mut *connect()?.get()?, &email)?;
        }
        Command::Role(cmd) => {
            let pool = connect()?;
            let conn = &mut *pool.get()?;
            match cmd {
                RoleCommand::Create { name, description } => {
                    operator::create_role(conn, &name, &description)?;
                }
                RoleCommand::List => {
                    for (name, description, retired) in operator::list_roles(conn)? {
                        let state = if retired { "retired" } else { "active" };
                        println!("{name}\t{state}\t{description}");
                    }
                }
                RoleCommand::Retire { name } => operator::retire_role(conn, &name)?,
            }
        }
        Command::Keys(cmd) => {
            let pool = connect()?;
            let conn = &mut *pool.get()?;
            match cmd {
                KeysCommand::Rotate {
                    activate_after_minutes,
                    alg,
                } => {
                    let key = operator::rotate_key(conn, alg, activate_after_minutes)?;
                    println!("{}", key.kid);
                }
                KeysCommand::List => {
                    for k in operator::list_keys(conn)? {
                        let retired = k
                            .retired_at
                            .map(|t| t.and_utc().to_rfc3339())
                            .unwrap_or_else(|| "-".into());
                        let active = k.active_from.and_utc().to_rfc3339();
                        println!("{}\t{}\t{active}\t{retired}", k.kid, k.alg);
                    }
                }
            }
        }
        Command::Serve(args) => serve(url, cli.bcrypt_cost, &cli.data_dir, args)?,
    }
    Ok(())
}

fn serve(url: String, bcrypt_cost: u32, data_dir: &Path, args: ServeArgs) -> CliResult {
    let listener = std::net::TcpListener::bind(&args.bind)?;
    let addr = listener.local_addr()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(app::tls_config(cert, key)?),
        _ => None,
    };
    // Served over TLS, the default public address is https (and cookies are Secure, HSTS sent).
    let scheme = if tls.is_some() { "https" } else { "http" };
    let issuer = args.issuer.unwrap_or_else(|| format!("{scheme}://{addr}"));
    let config = Config {
        database_url: url,
        pool_size: args.pool_size.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
            (2 * cores).max(4)
        }),
        bcrypt_cost,
        issuer: issuer.trim_end_matches('/').to_owned(),
        audience: args.audience,
        static_dir: args.static_dir,
        session_idle: Duration::from_secs(args.session_idle_minutes * 60),
        session_absolute: Duration::from_secs(args.session_max_hours * 3600),
        key_reload: Duration::from_secs(args.key_reload_seconds.max(1)),
        signing_alg: args.token_signing_alg,
        trusted_proxies: args.trusted_proxies,
        metrics_bind: args.metrics_bind.clone(),
        usage_counting: !args.no_usage_counting,
        usage_flush: Duration::from_secs(args.usage_flush_seconds),
        jwks_refetch: Duration::from_secs(60),
    };
    let state = AppState::new(config)?;
    if args.demo {
        demo_setup(&state, data_dir)?;
    }
    tracing::info!(issuer = %state.config.issuer, "Vitesse Identity listening");
    println!("Vitesse Identity is running: open {}/", state.config.issuer);
    std::io::stdout().flush()?;
    let metrics_listener = match &args.metrics_bind {
        Some(addr) => Some(std::net::TcpListener::bind(addr)?),
        None => None,
    };
    actix_web::rt::System::new().block_on(async move {
        let state = actix_web::web::Data::new(state);
        if let Some(l) = metrics_listener {
            actix_web::rt::spawn(app::run_metrics(l, state.clone())?);
        }
        app::run_with(listener, state.clone(), tls)?.await?;
        // What the last seconds noted is written before the process ends, and the quota
        // blocks this instance holds go back to the others.
        if let Err(e) = crate::service::tokens::flush_last_uses(&state).await {
            tracing::warn!(error = %e, "could not record last uses");
        }
        if let Err(e) = crate::service::usage::flush(&state).await {
            tracing::warn!(error = %e, "could not write usage");
        }
        if let Err(e) = crate::service::quotas::release(&state).await {
            tracing::warn!(error = %e, "could not give back quota blocks");
        }
        Ok::<(), std::io::Error>(())
    })?;
    Ok(())
}

/// First run of `just run`: a demo account and admin, with the credentials printed and kept
/// (owner-only) beside the database so a second run can show them again.
fn demo_setup(state: &AppState, data_dir: &Path) -> CliResult {
    let creds_file = data_dir.join("demo-admin.txt");
    let mut conn = state.pool.get()?;
    if let Some(password) = operator::demo_admin(&mut conn, &state.hasher)? {
        std::fs::create_dir_all(data_dir)?;
        let text = format!("email: admin@example.com\npassword: {password}\n");
        write_private(&creds_file, &text)?;
    }
    if let Ok(text) = std::fs::read_to_string(&creds_file) {
        println!("Demo sign-in (kept in {}):\n{text}", creds_file.display());
    }
    Ok(())
}

/// The password from standard input (one line), or a generated one (`true`: print it).
fn read_or_generate_password(
    from_stdin: bool,
) -> Result<(String, bool), Box<dyn std::error::Error>> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        Ok((s.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((operator::generate_password()?, true))
    }
}

/// A CIDR (`10.0.0.0/8`) or a single address (`192.0.2.1`, `::1`).
fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s} is not an IP address or CIDR"))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}
