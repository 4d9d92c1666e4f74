//! Usage: what each client's token requests came to, per UTC hour, kept 90 days. The counts,
//! the reasons a request is refused, and the rules of a usage query.

use crate::error::{FieldError, FieldErrors};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How long hourly usage is kept.
pub const USAGE_RETENTION_DAYS: i64 = 90;

/// What a counted token request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsageKind {
    Issued,
    /// Issued past a limit in report-only mode.
    OverQuota,
    Refused(RefusalReason),
}

impl UsageKind {
    pub const COUNT: usize = 2 + RefusalReason::ALL.len();

    /// Its place in a [`UsageCounts`]' array.
    pub const fn index(self) -> usize {
        match self {
            UsageKind::Issued => 0,
            UsageKind::OverQuota => 1,
            UsageKind::Refused(r) => 2 + r as usize,
        }
    }
}

/// Why a known client's token request was refused. (A request naming no client is not any
/// client's usage.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// Wrong, expired or ended secret.
    WrongSecret = 0,
    /// The client, or the account's identity clients, switched off.
    Disabled = 1,
    /// A role the client does not hold was asked for.
    Scope = 2,
    /// Past an enforced quota.
    Quota = 3,
    /// From an address outside the client's allow-list (with the right secret).
    Address = 4,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 5] = [
        RefusalReason::WrongSecret,
        RefusalReason::Disabled,
        RefusalReason::Scope,
        RefusalReason::Quota,
        RefusalReason::Address,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RefusalReason::WrongSecret => "wrong_secret",
            RefusalReason::Disabled => "disabled",
            RefusalReason::Scope => "scope",
            RefusalReason::Quota => "quota",
            RefusalReason::Address => "address",
        }
    }

    /// As the screens name it.
    pub const fn label(self) -> &'static str {
        match self {
            RefusalReason::WrongSecret => "Wrong secret",
            RefusalReason::Disabled => "Disabled",
            RefusalReason::Scope => "Role not held",
            RefusalReason::Quota => "Over quota",
            RefusalReason::Address => "Address not allowed",
        }
    }
}

/// Counts of one client (or many) over one span, indexed by [`UsageKind::index`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageCounts(pub [u64; UsageKind::COUNT]);

impl UsageCounts {
    pub fn add(&mut self, kind: UsageKind, n: u64) {
        self.0[kind.index()] += n;
    }

    pub fn get(&self, kind: UsageKind) -> u64 {
        self.0[kind.index()]
    }

    pub fn merge(&mut self, other: &UsageCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub fn refused_total(&self) -> u64 {
        RefusalReason::ALL
            .iter()
            .map(|r| self.get(UsageKind::Refused(*r)))
            .sum()
    }

    pub fn refused(&self) -> RefusedCounts {
        let r = |x| self.get(UsageKind::Refused(x));
        RefusedCounts {
            wrong_secret: r(RefusalReason::WrongSecret),
            disabled: r(RefusalReason::Disabled),
            scope: r(RefusalReason::Scope),
            quota: r(RefusalReason::Quota),
            address: r(RefusalReason::Address),
        }
    }

    pub fn to_wire(&self) -> UsageTotals {
        UsageTotals {
            issued: self.get(UsageKind::Issued),
            over_quota: self.get(UsageKind::OverQuota),
            refused: self.refused(),
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Refused requests by reason; a reason with none is left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RefusedCounts {
    /// Wrong, expired or ended secret.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wrong_secret: u64,
    /// The client (or the account's identity clients) switched off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub disabled: u64,
    /// A role the client does not hold was asked for.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scope: u64,
    /// Past an enforced quota.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quota: u64,
    /// From an address outside the client's allow-list.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub address: u64,
}

impl RefusedCounts {
    pub fn total(&self) -> u64 {
        self.wrong_secret + self.disabled + self.scope + self.quota + self.address
    }

    pub fn get(&self, reason: RefusalReason) -> u64 {
        match reason {
            RefusalReason::WrongSecret => self.wrong_secret,
            RefusalReason::Disabled => self.disabled,
            RefusalReason::Scope => self.scope,
            RefusalReason::Quota => self.quota,
            RefusalReason::Address => self.address,
        }
    }
}

/// What a span came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UsageTotals {
    /// Tokens issued (including those over a report-only quota).
    pub issued: u64,
    /// Of those, issued past a report-only quota.
    #[serde(default)]
    pub over_quota: u64,
    pub refused: RefusedCounts,
}

/// One hour or one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UsageBucket {
    pub start: DateTime<Utc>,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// A client's usage over a span, bucket by bucket (empty buckets included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UsageReport {
    /// `hour` or `day`.
    pub granularity: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub buckets: Vec<UsageBucket>,
    pub totals: UsageTotals,
}

/// One client of the account overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClientUsage {
    /// The client's server-assigned id.
    pub id: String,
    pub client_id: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// The account's busiest clients over a span (most requests first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountUsage {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub clients: Vec<ClientUsage>,
    /// All the account's clients together over the span.
    pub totals: UsageTotals,
}

/// `GET /api/v1/identity-clients/{id}/usage`'s query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UsageParams {
    /// Start (RFC 3339). Default: 24 hours (hour) or 30 days (day) before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End (RFC 3339). Default and latest: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `hour` (the default; at most 31 days) or `day` (UTC days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<String>,
}

/// `GET /api/v1/usage`'s query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OverviewParams {
    /// Start (RFC 3339). Default: 24 hours before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End (RFC 3339). Default and latest: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// How many clients, 1–100 (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<i64>,
}

impl UsageParams {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<UsageQuery, FieldErrors> {
        UsageQuery::parse(
            self.from.as_deref(),
            self.to.as_deref(),
            self.granularity.as_deref(),
            now,
        )
    }
}

impl OverviewParams {
    pub const LIMIT_RULE: &'static str = "limit must be 1–100";

    /// The span (the last 24 hours by default, up to 90 days) and how many clients.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<(UsageQuery, usize), FieldErrors> {
        let limit = self.limit.unwrap_or(10);
        let to = self.to.as_deref();
        let mut q = UsageQuery::parse(self.from.as_deref(), to, Some("day"), now);
        if let Ok(query) = &mut q
            && self.from.is_none()
        {
            query.from = query.to - Duration::hours(24);
        }
        match (q, (1..=100).contains(&limit)) {
            (Ok(q), true) => Ok((q, limit as usize)),
            (r, ok) => {
                let mut errs = r.err().unwrap_or_default();
                if !ok {
                    errs.push(field_error("limit", Self::LIMIT_RULE));
                }
                Err(errs)
            }
        }
    }
}

/// The size of a usage bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn length(self) -> Duration {
        match self {
            Granularity::Hour => Duration::hours(1),
            Granularity::Day => Duration::days(1),
        }
    }

    pub fn floor(self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.duration_trunc(self.length()).unwrap_or(at)
    }

    /// The span asked for when `from` is left out: the last 24 hours, or the last 30 days.
    fn default_span(self) -> Duration {
        match self {
            Granularity::Hour => Duration::hours(24),
            Granularity::Day => Duration::days(30),
        }
    }
}

/// A usage query: buckets of `granularity` from the one holding `from` to the one holding `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageQuery {
    pub granularity: Granularity,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl UsageQuery {
    pub const GRANULARITY_RULE: &'static str = "granularity must be hour or day";
    /// The most hourly buckets one query answers (31 days).
    pub const MAX_HOURS: i64 = 31 * 24;

    /// Reads the query parameters (`from` and `to` RFC 3339, both optional; `to` defaults to
    /// now, `from` to 24 hours or 30 days before `to`). Every failure names its parameter.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        granularity: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::default();
        let granularity = match granularity.unwrap_or("hour") {
            "hour" => Some(Granularity::Hour),
            "day" => Some(Granularity::Day),
            _ => {
                errs.push(field_error("granularity", Self::GRANULARITY_RULE));
                None
            }
        };
        let instant = |name: &str, v: Option<&str>, errs: &mut FieldErrors| match v {
            None | Some("") => Some(None),
            Some(s) => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Some(Some(t.with_timezone(&Utc))),
                Err(_) => {
                    errs.push(field_error(
                        name,
                        &format!("{name} must be an RFC 3339 date-time, e.g. 2026-11-27T00:00:00Z"),
                    ));
                    None
                }
            },
        };
        let from = instant("from", from, &mut errs);
        let to = instant("to", to, &mut errs);
        let (Some(g), Some(from), Some(to)) = (granularity, from, to) else {
            return Err(errs);
        };
        let to = to.unwrap_or(now).min(now);
        let from = from.unwrap_or(to - g.default_span());
        let oldest = now - Duration::days(USAGE_RETENTION_DAYS);
        if from >= to {
            errs.push(field_error("from", "from must be before to"));
        } else if from < oldest - Duration::days(1) {
            errs.push(field_error(
                "from",
                "from must be within the last 90 days (usage is kept 90 days)",
            ));
        } else if g == Granularity::Hour && to - from > Duration::hours(Self::MAX_HOURS) {
            errs.push(field_error(
                "from",
                "Hourly usage covers at most 31 days: ask for granularity=day",
            ));
        }
        if errs.is_empty() {
            Ok(Self {
                granularity: g,
                from,
                to,
            })
        } else {
            Err(errs)
        }
    }

    /// The first instant counted: the start of the hour holding `from` (hours are what is kept).
    pub fn first_hour(&self) -> DateTime<Utc> {
        Granularity::Hour.floor(self.from)
    }

    /// The start of every bucket, oldest first.
    pub fn bucket_starts(&self) -> Vec<DateTime<Utc>> {
        let g = self.granularity;
        let mut at = g.floor(self.from);
        let mut starts = vec![];
        while at <= self.to {
            starts.push(at);
            at += g.length();
        }
        starts
    }
}

fn field_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_are_the_last_day_by_hour_and_the_last_month_by_day() {
        let now = at("2026-11-27T13:20:00Z");
        let q = UsageQuery::parse(None, None, None, now).unwrap();
        assert_eq!((q.from, q.to), (at("2026-11-26T13:20:00Z"), now));
        assert_eq!(q.bucket_starts().len(), 25);
        assert_eq!(q.bucket_starts()[0], at("2026-11-26T13:00:00Z"));
        let q = UsageQuery::parse(None, None, Some("day"), now).unwrap();
        assert_eq!(q.bucket_starts().len(), 31);
        assert_eq!(q.bucket_starts()[30], at("2026-11-27T00:00:00Z"));
    }

    #[test]
    fn bad_parameters_are_named() {
        let now = at("2026-11-27T13:20:00Z");
        let errs = UsageQuery::parse(Some("yesterday"), None, Some("week"), now).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["granularity", "from"]);
        let errs = UsageQuery::parse(Some("2026-11-27T14:00:00Z"), None, None, now).unwrap_err();
        assert_eq!(errs.0[0].message, "from must be before to");
        let errs =
            UsageQuery::parse(Some("2026-06-01T00:00:00Z"), None, Some("day"), now).unwrap_err();
        assert!(errs.0[0].message.contains("90 days"));
        let errs = UsageQuery::parse(Some("2026-10-01T00:00:00Z"), None, None, now).unwrap_err();
        assert!(errs.0[0].message.contains("granularity=day"));
    }

    #[test]
    fn counts_fold_into_the_wire_shape() {
        let mut c = UsageCounts::default();
        c.add(UsageKind::Issued, 12);
        c.add(UsageKind::Refused(RefusalReason::WrongSecret), 1);
        c.add(UsageKind::Refused(RefusalReason::Quota), 2);
        let json = serde_json::to_value(UsageBucket {
            start: at("2026-11-27T13:00:00Z"),
            totals: c.to_wire(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"start": "2026-11-27T13:00:00Z", "issued": 12, "over_quota": 0,
                "refused": {"wrong_secret": 1, "quota": 2}})
        );
        assert_eq!(c.refused_total(), 3);
    }
}
