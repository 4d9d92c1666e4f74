// Request a Vitesse access token from Rust with reqwest (client_secret_basic).
// Cargo.toml: reqwest = { version = "0.12", features = ["json"] }, serde_json = "1", form_urlencoded = "1"

/// Returns the token response: access_token, token_type, expires_in, scope.
pub async fn request_token(
    base_url: &str,
    client_id: &str,
    client_secret: &str,
    scope: Option<&str>,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    // Client IDs never need escaping; a secret may: form-urlencode it (RFC 6749 §2.3.1).
    let secret: String = form_urlencoded::byte_serialize(client_secret.as_bytes()).collect();
    let res = reqwest::Client::new()
        .post(format!("{base_url}/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(&form)
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    if !status.is_success() {
        return Err(format!("{}: {}", body["error"], body["error_description"]).into());
    }
    Ok(body)
}
