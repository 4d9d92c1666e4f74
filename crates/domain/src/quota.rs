//! Token quotas: at most so many tokens per hour and/or per day for one client, enforced (the
//! token endpoint refuses past the limit) or reported (tokens past it are counted, not
//! refused). Windows are calendar hours and days in UTC, the same buckets usage is kept in.

use crate::error::{Field, FieldError};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::Value;

/// What happens past a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum QuotaMode {
    /// The token endpoint answers 429 until the window ends.
    #[default]
    Enforce,
    /// Tokens are still issued; each one past the limit is counted as over quota.
    Report,
}

impl QuotaMode {
    pub const RULE: &'static str = "Quota mode must be enforce or report";

    pub const fn as_str(self) -> &'static str {
        match self {
            QuotaMode::Enforce => "enforce",
            QuotaMode::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "enforce" => Ok(QuotaMode::Enforce),
            "report" => Ok(QuotaMode::Report),
            _ => Err(FieldError::new(Field::TokenQuotaMode, Self::RULE)),
        }
    }

    /// The member as JSON carries it: a string, absent or `null` for the default.
    pub fn from_json(v: Option<&Value>) -> Result<Option<Self>, FieldError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Self::parse(s).map(Some),
            Some(_) => Err(FieldError::new(Field::TokenQuotaMode, Self::RULE)),
        }
    }
}

/// The calendar window a limit counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaWindow {
    Hour,
    Day,
}

impl QuotaWindow {
    pub const fn as_str(self) -> &'static str {
        match self {
            QuotaWindow::Hour => "hour",
            QuotaWindow::Day => "day",
        }
    }

    pub fn length(self) -> Duration {
        match self {
            QuotaWindow::Hour => Duration::hours(1),
            QuotaWindow::Day => Duration::days(1),
        }
    }

    /// The start of the window `at` falls in (UTC).
    pub fn start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.duration_trunc(self.length()).unwrap_or(at)
    }

    /// Whole seconds from `at` until the window ends (at least 1): the `Retry-After`.
    pub fn seconds_left(self, at: DateTime<Utc>) -> u64 {
        let left = self.start(at) + self.length() - at;
        (left.num_milliseconds().max(1) as u64).div_ceil(1000)
    }
}

/// The limits of one client. No limit at all is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TokenQuota {
    pub per_hour: Option<u32>,
    pub per_day: Option<u32>,
    pub mode: QuotaMode,
}

impl TokenQuota {
    pub const MAX: u32 = 10_000_000;

    /// The rule of a limit's field, as a person reads it.
    pub fn rule(field: Field) -> String {
        format!(
            "{} must be a whole number from 1 to 10,000,000, or empty for no limit",
            field.label()
        )
    }

    /// A limit as JSON carries it: a whole number, `null` or absent for none.
    pub fn limit_from_json(field: Field, v: Option<&Value>) -> Result<Option<u32>, FieldError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(x) if (1..=u64::from(Self::MAX)).contains(&x) => Ok(Some(x as u32)),
                _ => Err(FieldError::new(field, Self::rule(field))),
            },
            Some(_) => Err(FieldError::new(field, Self::rule(field))),
        }
    }

    /// A limit as a person types it; empty for none.
    pub fn limit_from_text(field: Field, s: &str) -> Result<Option<u32>, FieldError> {
        let s = s.trim().replace([',', '_', ' '], "");
        if s.is_empty() {
            return Ok(None);
        }
        let n: u64 = s
            .parse()
            .map_err(|_| FieldError::new(field, Self::rule(field)))?;
        Self::limit_from_json(field, Some(&Value::from(n)))
    }

    pub fn is_set(&self) -> bool {
        self.per_hour.is_some() || self.per_day.is_some()
    }

    /// Each limit that is set, with its window.
    pub fn limits(&self) -> impl Iterator<Item = (QuotaWindow, u32)> {
        [
            self.per_hour.map(|n| (QuotaWindow::Hour, n)),
            self.per_day.map(|n| (QuotaWindow::Day, n)),
        ]
        .into_iter()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn limits_are_whole_numbers_in_range() {
        let f = Field::TokenQuotaPerHour;
        assert_eq!(TokenQuota::limit_from_json(f, None), Ok(None));
        assert_eq!(TokenQuota::limit_from_json(f, Some(&json!(null))), Ok(None));
        assert_eq!(TokenQuota::limit_from_json(f, Some(&json!(1))), Ok(Some(1)));
        assert_eq!(
            TokenQuota::limit_from_json(f, Some(&json!(10_000_000))),
            Ok(Some(10_000_000))
        );
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("5"),
            json!(10_000_001),
        ] {
            let e = TokenQuota::limit_from_json(f, Some(&bad)).unwrap_err();
            assert_eq!(e.field, "token_quota_per_hour");
            assert!(e.message.starts_with("Tokens per hour must be"), "{e}");
        }
        assert_eq!(
            TokenQuota::limit_from_text(Field::TokenQuotaPerDay, " 10,000 "),
            Ok(Some(10_000))
        );
        assert_eq!(
            TokenQuota::limit_from_text(Field::TokenQuotaPerDay, ""),
            Ok(None)
        );
        assert!(TokenQuota::limit_from_text(Field::TokenQuotaPerDay, "ten").is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(QuotaMode::from_json(None), Ok(None));
        assert_eq!(
            QuotaMode::from_json(Some(&json!("report"))),
            Ok(Some(QuotaMode::Report))
        );
        let e = QuotaMode::from_json(Some(&json!("block"))).unwrap_err();
        assert_eq!(e.field, "token_quota_mode");
    }

    #[test]
    fn windows_are_utc_calendar_hours_and_days() {
        let t = at("2026-11-27T13:59:30.500Z");
        assert_eq!(QuotaWindow::Hour.start(t), at("2026-11-27T13:00:00Z"));
        assert_eq!(QuotaWindow::Day.start(t), at("2026-11-27T00:00:00Z"));
        assert_eq!(QuotaWindow::Hour.seconds_left(t), 30);
        assert_eq!(QuotaWindow::Day.seconds_left(t), 10 * 3600 + 30);
        assert_eq!(
            QuotaWindow::Hour.seconds_left(at("2026-11-27T13:59:59.999Z")),
            1
        );
    }
}
