//! The machine's baseline for `just bench`: what one ES256 token signature costs here, with the
//! signer the server uses (`KeyRing::sign`: claims to JSON, base64url, SHA-256, ECDSA P-256),
//! over a typical claims set. The token endpoint's CPU per token is compared with it, so a
//! figure from a slow or busy machine still says how much the endpoint adds around the
//! signature. Prints the CPU time per signature in µs (this process's utime+stime, as the
//! bench reads the server's, so other work on the machine does not count), then the wall
//! time, then josekit's own ES256 signer for comparison.
//!
//! `cargo run --release -p vitesse-api --example sign_cost [N]`

use std::hint::black_box;
use std::time::Instant;
use vitesse_api::oauth::access_token::ClaimsToSign;
use vitesse_api::oauth::keys::{self, SigningAlg};

/// utime + stime of this process in seconds (/proc counts in USER_HZ, 100 on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 / 100.0
}

/// µs per call of `f`, CPU and wall, over `n` calls.
fn time(n: u32, mut f: impl FnMut()) -> (f64, f64) {
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    for _ in 0..n {
        f();
    }
    let per = |s: f64| s * 1e6 / f64::from(n);
    (per(cpu_seconds() - cpu), per(wall.elapsed().as_secs_f64()))
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(40_000);
    let pool = vitesse_api::store::connect(":memory:", 1).expect("an in-memory database");
    let conn = &mut *pool.get().expect("its connection");
    keys::ensure_signer(conn, SigningAlg::Es256).expect("a key");
    let ring = keys::load(conn).expect("the key ring");
    let claims = ClaimsToSign {
        iss: "http://127.0.0.1:8080",
        sub: "bench-client-1234",
        aud: "vitesse-api",
        iat: 1_790_000_000,
        exp: 1_790_000_900,
        jti: "6f1c7c5e-2b0a-4a53-9d3e-3f7f2b8c1a90".into(),
        client_id: "bench-client-1234",
        scope: "payments:read",
        account_id: "0b7f3e0e-93f5-4a8e-8f0e-0c9d1a2b3c4d",
        cpk: "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
        cgen: 0,
    };
    let sign = || {
        black_box(ring.sign(black_box(&claims)).expect("signed"));
    };
    time(n / 10, sign); // warm-up
    let (cpu, wall) = time(n, sign);

    let josekit_signer = {
        let pem = josekit::jws::ES256
            .generate_key_pair()
            .expect("a key pair")
            .to_pem_private_key();
        josekit::jws::ES256.signer_from_pem(&pem).expect("a signer")
    };
    let mut header = josekit::jws::JwsHeader::new();
    header.set_token_type("at+jwt");
    let payload = serde_json::to_vec(&claims).expect("JSON");
    let (jk_cpu, _) = time(n / 4, || {
        black_box(
            josekit::jws::serialize_compact(&payload, &header, &josekit_signer).expect("signed"),
        );
    });
    println!("{cpu:.2} µs CPU per ES256 signature (KeyRing::sign, {n} signatures)");
    println!("{wall:.2} µs wall per signature");
    println!("{jk_cpu:.2} µs CPU per signature with josekit's ES256 signer");
}
