//! docs/requesting-tokens.md: its examples are the files in docs/examples, verbatim, and the
//! Rust one works against a live server (the curl, Python and Node ones run in e2e/).
use crate::helpers::*;
use reqwest::StatusCode;

#[path = "../../../docs/examples/request_token.rs"]
mod rust_example;

const DOC: &str = include_str!("../../../docs/requesting-tokens.md");

#[test]
fn the_page_shows_every_example_verbatim() {
    for example in [
        include_str!("../../../docs/examples/request_token.sh"),
        include_str!("../../../docs/examples/request_token.py"),
        include_str!("../../../docs/examples/request_token.mjs"),
        include_str!("../../../docs/examples/request_token.rs"),
        include_str!("../../../docs/examples/private_key_jwt.py"),
    ] {
        assert!(
            DOC.contains(example),
            "docs/requesting-tokens.md is missing:\n{example}"
        );
    }
}

on_both_backends!(the_rust_example_gets_a_token);

async fn the_rust_example_gets_a_token(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let mut body = valid_client("docs-example");
    body["client_secret"] = serde_json::json!("a secret: with spaces & symbols %+");
    assert_eq!(
        app.create_client(&admin, &body).await.status(),
        StatusCode::CREATED
    );
    let token = rust_example::request_token(
        &app.addr,
        "docs-example",
        "a secret: with spaces & symbols %+",
        Some("payments:read"),
    )
    .await
    .unwrap();
    assert_eq!(token["scope"], "payments:read");
    assert_eq!(token["expires_in"], 900);
    let err = rust_example::request_token(&app.addr, "docs-example", "wrong", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

/// Every flag of `serve` is in the README's settings table, with its environment variable.
#[test]
fn the_readme_lists_every_setting_of_serve() {
    let readme = include_str!("../../../README.md");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_vitesse-identity"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let flags: Vec<&str> = help
        .split_whitespace()
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| w.starts_with("--") && *w != "--help")
        .collect();
    assert!(flags.len() > 15, "{help}");
    for flag in flags {
        assert!(readme.contains(&format!("`{flag}`")), "README lacks {flag}");
    }
    for env in help.split("[env: ").skip(1) {
        let name = env.split('=').next().unwrap();
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
}

/// The Rust example builds as a project of its own, with exactly the dependencies its first
/// lines list (a reader copies those into Cargo.toml). Slow (it compiles reqwest): run with the
/// ignored tests.
#[test]
#[ignore = "compiles reqwest from scratch; run by `just test` with the ignored tests"]
fn the_rust_example_builds_alone_with_the_dependencies_it_lists() {
    let example = include_str!("../../../docs/examples/request_token.rs");
    let deps = example
        .lines()
        .find_map(|l| l.strip_prefix("// Cargo.toml: "))
        .expect("the example lists its dependencies");
    // `a = "1", b = { … }` → one line each.
    let mut toml = String::from(
        "[package]\nname = \"request-token-example\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n",
    );
    let mut depth = 0;
    for c in deps.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            toml.push('\n');
        } else {
            toml.push(c);
        }
    }
    let dir = std::env::temp_dir().join(unique("rust-example-"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), toml + "\n").unwrap();
    std::fs::write(dir.join("src/lib.rs"), example).unwrap();
    let out = std::process::Command::new(env!("CARGO"))
        .args(["check", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
