//! Where the sign-in page may send a person afterwards: only to the app's own pages. A `next`
//! parameter is the attacker's to choose; an open redirect would lend our origin to phishing.

/// The app's own pages all live under this prefix.
pub const APP_PREFIX: &str = "/administration/";

/// `next` when it is a path of the app's own pages: under `/administration/`, with no `//`,
/// backslash (browsers read `/\evil.example` as another host), scheme, or control or space
/// characters. Anything else is refused, and the caller goes to its default page.
pub fn safe_return_path(next: &str) -> Option<&str> {
    let path_only = next.split(['?', '#']).next().unwrap_or("");
    let ok = next.starts_with(APP_PREFIX)
        && !path_only.contains("//")
        && !next.contains('\\')
        && !path_only.contains(':')
        && !path_only.split('/').any(|seg| seg == ".." || seg == ".")
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_the_apps_own_pages() {
        for good in [
            "/administration/identity-clients",
            "/administration/identity-clients/abc/edit",
            "/administration/identity-clients?search=a%2Fb&status=enabled",
        ] {
            assert_eq!(safe_return_path(good), Some(good), "{good}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/administration/",
            "/\\evil.example",
            "/administration/\\\\evil.example",
            "/administration//evil.example",
            "/administration/../api/v1/session",
            "/administration/x\n",
            "/api/v1/session",
            "javascript:alert(1)",
            "/administration/javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }
}
