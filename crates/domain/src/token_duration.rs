use crate::error::{Field, FieldError};
use serde::{Deserialize, Serialize};

/// Token lifetime in whole minutes, 10–60.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct TokenDuration(u8);

impl TokenDuration {
    pub const MIN: i64 = 10;
    pub const MAX: i64 = 60;
    pub const RANGE_RULE: &'static str = "Token duration must be 10–60 minutes";
    pub const WHOLE_RULE: &'static str = "Token duration must be a whole number of minutes";

    pub fn parse(minutes: i64) -> Result<Self, FieldError> {
        if !(Self::MIN..=Self::MAX).contains(&minutes) {
            return Err(FieldError::new(Field::TokenDuration, Self::RANGE_RULE));
        }
        Ok(Self(minutes as u8))
    }

    /// What a person types into the form.
    pub fn parse_text(s: &str) -> Result<Self, FieldError> {
        let n: i64 = s
            .trim()
            .parse()
            .map_err(|_| FieldError::new(Field::TokenDuration, Self::WHOLE_RULE))?;
        Self::parse(n)
    }

    pub fn minutes(self) -> i64 {
        i64::from(self.0)
    }

    pub fn seconds(self) -> i64 {
        self.minutes() * 60
    }
}

impl TryFrom<i64> for TokenDuration {
    type Error = FieldError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Self::parse(v)
    }
}

impl From<TokenDuration> for i64 {
    fn from(v: TokenDuration) -> Self {
        v.minutes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert!(TokenDuration::parse(9).is_err());
        assert_eq!(TokenDuration::parse(10).unwrap().seconds(), 600);
        assert_eq!(TokenDuration::parse(60).unwrap().minutes(), 60);
        assert_eq!(
            TokenDuration::parse(61).unwrap_err().message,
            TokenDuration::RANGE_RULE
        );
        assert!(TokenDuration::parse(-10).is_err());
        assert!(TokenDuration::parse(i64::MAX).is_err());
    }

    #[test]
    fn text_must_be_whole_minutes() {
        assert_eq!(TokenDuration::parse_text(" 15 ").unwrap().minutes(), 15);
        assert_eq!(
            TokenDuration::parse_text("15.5").unwrap_err().message,
            TokenDuration::WHOLE_RULE
        );
        assert!(TokenDuration::parse_text("").is_err());
    }
}
