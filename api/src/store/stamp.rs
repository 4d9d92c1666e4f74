//! Timestamps read from a client's row without chrono's format machinery. SQLite keeps them as
//! text, and diesel parses each by trying chrono format strings in turn: the five timestamps of
//! a client's row cost a third of reading it on the token path (~13k of ~38k instructions per
//! warm token, callgrind). The text this server writes (`%F %T%.f`, diesel's own encoding) is
//! parsed by hand here; anything else (another format, an integer or a real) goes to diesel's
//! parser as before. On PostgreSQL the value is binary and goes to diesel unchanged.

use super::MultiBackend;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteType};

/// A `Timestamp` column, read as described above (`#[diesel(deserialize_as = Stamp)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A `Nullable<Timestamp>` column, read as described above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct OptStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<OptStamp> for Option<NaiveDateTime> {
    fn from(s: OptStamp) -> Self {
        s.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits (chrono's `%F %T%.f` for
/// four-digit years); `None` for anything else, which then goes to diesel's parser.
fn parse(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20..b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let second = num(17..19)?;
    if second > 59 {
        // A leap second: chrono's own parser knows what to make of it.
        return None;
    }
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?.and_hms_nano_opt(
        num(11..13)?,
        num(14..16)?,
        second,
        nanos,
    )
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text)
            && let Some(t) = parse(value.read_text())
        {
            return Ok(Stamp(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `NULL` is `None`; a value is read as [`Stamp`] reads it.
impl<DB: Backend> FromSql<Nullable<Timestamp>, DB> for OptStamp
where
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Stamp::from_sql(value).map(|s| OptStamp(Some(s.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            None => Ok(OptStamp(None)),
            Some(v) => Self::from_sql(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use chrono::NaiveDateTime;

    /// What diesel's parser makes of the text (its first format is the one it writes).
    fn chrono(s: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(s, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_the_server_writes_as_chrono_does() {
        let base = chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(13, 5, 9)
            .unwrap();
        for nanos in [0, 1_000, 123_456_000, 999_999_000, 500_000_000, 7] {
            for days in [0, 1, 31, 366, 3650, -20_000] {
                let t = base + chrono::Duration::days(days) + chrono::Duration::nanoseconds(nanos);
                // diesel writes `%F %T%.f`: no fraction when it is zero, else 3, 6 or 9 digits.
                let text = t.format("%F %T%.f").to_string();
                assert_eq!(parse(&text), Some(t), "{text}");
                assert_eq!(parse(&text), chrono(&text), "{text}");
            }
        }
    }

    #[test]
    fn anything_else_is_left_to_diesel() {
        for text in [
            "",
            "2026-11-27",
            "2026-11-27T13:05:09",
            "2026-11-27 13:05:09Z",
            "2026-11-27 13:05:09+01:00",
            "2026-11-27 13:05:09.",
            "2026-11-27 13:05:09.1234567890",
            "2026-11-27 13:05:60",
            "2026-02-30 13:05:09",
            "2026-11-27 24:05:09",
            "2026-1a-27 13:05:09",
            "+2026-11-27 13:05:09",
            "2026-11-27 13:05:09.12a",
            "20261-11-27 13:05:09",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        // Fractions of any length from 1 to 9 digits, as chrono's %.f reads them.
        for text in ["2026-11-27 13:05:09.5", "2026-11-27 13:05:09.0000001"] {
            assert_eq!(parse(text), chrono(text), "{text}");
        }
    }
}
