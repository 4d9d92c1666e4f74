//! The client list's query: how the URL carries it (written by the SPA, read by the API) and
//! what it means once checked.

use crate::error::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

/// Page sizes of every list.
pub const PAGE_MIN: i64 = 1;
pub const PAGE_MAX: i64 = 200;
pub const PAGE_DEFAULT: i64 = 50;
/// The longest search text.
pub const SEARCH_MAX: usize = 100;
/// What `status` accepts.
pub const STATUS_PATTERN: &str = "^(enabled|disabled)$";
/// What `filter` accepts.
pub const FILTER_PATTERN: &str = "^(never_used|not_used_30_days|secret_expires_30_days)$";
/// What `sort` accepts.
pub const SORT_PATTERN: &str = "^-?(client_id|created_at|updated_at)$";

const LIMIT_RULE: &str = "limit must be 1–200";
const STATUS_RULE: &str = "status must be enabled or disabled";
const SORT_RULE: &str =
    "sort must be client_id, created_at or updated_at, optionally prefixed with -";
const FILTER_RULE: &str = "filter must be never_used, not_used_30_days or secret_expires_30_days";
const SEARCH_RULE: &str = "search must be at most 100 characters";
const SEARCH_CONTROL_RULE: &str = "search must not contain control characters";

/// `GET /api/v1/identity-clients`'s query string, member for member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ClientListQuery {
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::page_limit))]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `enabled` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::status_filter))]
    pub status: Option<String>,
    /// Case-insensitive text found in the client ID or the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::search_text))]
    pub search: Option<String>,
    /// `client_id`, `created_at` or `updated_at`; prefix `-` for descending. Default `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::sort_order))]
    pub sort: Option<String>,
    /// `never_used` (no token ever issued), `not_used_30_days` (no token for 30 days, counting
    /// a never-used client from its creation) or `secret_expires_30_days` (the current secret
    /// expires within 30 days, or has expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::list_filter))]
    pub filter: Option<String>,
}

/// The list's filters for clients that need attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageFilter {
    /// No token was ever issued to it.
    NeverUsed,
    /// No token for [`USAGE_WINDOW_DAYS`] days; a never-used client counts from its creation.
    NotUsedRecently,
    /// Its current secret expires within [`USAGE_WINDOW_DAYS`] days (or already has).
    SecretExpiresSoon,
}

/// The window of "not used for 30 days" and "expires within 30 days".
pub const USAGE_WINDOW_DAYS: i64 = 30;

impl UsageFilter {
    pub const fn wire_name(self) -> &'static str {
        match self {
            UsageFilter::NeverUsed => "never_used",
            UsageFilter::NotUsedRecently => "not_used_30_days",
            UsageFilter::SecretExpiresSoon => "secret_expires_30_days",
        }
    }

    /// What a person reads in the list's filter.
    pub const fn label(self) -> &'static str {
        match self {
            UsageFilter::NeverUsed => "Never used",
            UsageFilter::NotUsedRecently => "Not used for 30 days",
            UsageFilter::SecretExpiresSoon => "A secret expires within 30 days",
        }
    }

    pub const ALL: [UsageFilter; 3] = [
        UsageFilter::NeverUsed,
        UsageFilter::NotUsedRecently,
        UsageFilter::SecretExpiresSoon,
    ];
}

/// A list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    ClientId,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    pub const fn wire_name(self) -> &'static str {
        match self {
            SortKey::ClientId => "client_id",
            SortKey::CreatedAt => "created_at",
            SortKey::UpdatedAt => "updated_at",
        }
    }
}

/// A checked list query: filters, order, page size and where the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientListing {
    /// `Some(true)`: enabled clients only; `Some(false)`: disabled only.
    pub enabled: Option<bool>,
    /// Trimmed, never empty.
    pub search: Option<String>,
    pub usage: Option<UsageFilter>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: i64,
    /// Opaque to everyone but the server that made it.
    pub cursor: Option<String>,
}

/// A page size: 1–200, 50 when absent.
pub fn page_limit(limit: Option<i64>) -> Result<i64, FieldError> {
    let limit = limit.unwrap_or(PAGE_DEFAULT);
    if (PAGE_MIN..=PAGE_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(FieldError {
            field: "limit".into(),
            message: LIMIT_RULE.into(),
        })
    }
}

fn query_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

impl ClientListQuery {
    /// Checks every parameter, reporting every failure.
    pub fn validate(&self) -> Result<ClientListing, FieldErrors> {
        let mut errs = FieldErrors::default();
        let limit = errs.take(page_limit(self.limit));
        let enabled = match self.status.as_deref() {
            None | Some("") => None,
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            Some(_) => {
                errs.push(query_error("status", STATUS_RULE));
                None
            }
        };
        let sort_text = self.sort.as_deref().unwrap_or("client_id");
        let (descending, key) = match sort_text.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, sort_text),
        };
        let sort = match key {
            "client_id" => SortKey::ClientId,
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => {
                errs.push(query_error("sort", SORT_RULE));
                SortKey::ClientId
            }
        };
        let usage = match self.filter.as_deref() {
            None | Some("") => None,
            Some(f) => {
                let found = UsageFilter::ALL.into_iter().find(|u| u.wire_name() == f);
                if found.is_none() {
                    errs.push(query_error("filter", FILTER_RULE));
                }
                found
            }
        };
        let search = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > SEARCH_MAX) {
            errs.push(query_error("search", SEARCH_RULE));
        }
        if search.is_some_and(|s| s.chars().any(char::is_control)) {
            // No client ID or name holds one; a NUL would also cut the index's query short.
            errs.push(query_error("search", SEARCH_CONTROL_RULE));
        }
        match limit {
            Some(limit) if errs.is_empty() => Ok(ClientListing {
                enabled,
                search: search.map(str::to_owned),
                usage,
                sort,
                descending,
                limit,
                cursor: self.cursor.clone().filter(|c| !c.is_empty()),
            }),
            _ => Err(errs),
        }
    }

    /// The query string (without `?`), members in a fixed order, empty ones left out: what the
    /// SPA puts in its own URL and sends to the API.
    pub fn to_query_string(&self) -> String {
        let members = [
            ("search", self.search.clone()),
            ("status", self.status.clone()),
            ("filter", self.filter.clone()),
            ("sort", self.sort.clone()),
            ("limit", self.limit.map(|l| l.to_string())),
            ("cursor", self.cursor.clone()),
        ];
        members
            .into_iter()
            .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
            .map(|(k, v)| format!("{k}={}", percent_encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `GET …/events`'s query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventListQuery {
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(schema_with = crate::schema::page_limit))]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl EventListQuery {
    pub fn to_query_string(&self) -> String {
        let mut parts = vec![];
        if let Some(l) = self.limit {
            parts.push(format!("limit={l}"));
        }
        if let Some(c) = self.cursor.as_deref().filter(|c| !c.is_empty()) {
            parts.push(format!("cursor={}", percent_encode(c)));
        }
        parts.join("&")
    }
}

/// Percent-encoding of a query value: everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_every_failure_reported() {
        let ok = ClientListQuery::default().validate().unwrap();
        assert_eq!(
            (ok.limit, ok.sort, ok.descending),
            (50, SortKey::ClientId, false)
        );
        let bad = ClientListQuery {
            limit: Some(0),
            status: Some("on".into()),
            sort: Some("-name".into()),
            search: Some("x".repeat(101)),
            cursor: None,
            filter: Some("unused".into()),
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["limit", "status", "sort", "filter", "search"]);
        let q = ClientListQuery {
            filter: Some("secret_expires_30_days".into()),
            ..Default::default()
        };
        assert_eq!(
            q.validate().unwrap().usage,
            Some(UsageFilter::SecretExpiresSoon)
        );
    }

    #[test]
    fn query_string_encodes_every_member() {
        let q = ClientListQuery {
            search: Some("shop & co/é".into()),
            status: Some("disabled".into()),
            sort: Some("-created_at".into()),
            limit: None,
            cursor: Some("abc_-".into()),
            filter: Some("never_used".into()),
        };
        let s = q.to_query_string();
        assert_eq!(
            s,
            "search=shop%20%26%20co%2F%C3%A9&status=disabled&filter=never_used&sort=-created_at&cursor=abc_-"
        );
        assert_eq!(ClientListQuery::default().to_query_string(), "");
    }
}
