use crate::error::{Field, FieldError};
use crate::text::within;
use serde::{Deserialize, Serialize};

/// An optional label: when given, 3–100 characters after trimming surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientName(String);

impl ClientName {
    pub const MIN: usize = 3;
    pub const MAX: usize = 100;
    pub const LENGTH_RULE: &'static str = "Client name must be 3–100 characters";
    pub const HIDDEN_RULE: &'static str =
        "Client name must not contain control or text-direction characters";

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        if !within(t, Self::MIN, Self::MAX) {
            return Err(FieldError::new(Field::Name, Self::LENGTH_RULE));
        }
        if crate::text::has_hidden_characters(t, false) {
            return Err(FieldError::new(Field::Name, Self::HIDDEN_RULE));
        }
        Ok(Self(t.to_owned()))
    }

    /// The optional field: blank means "no name".
    pub fn parse_optional(s: Option<&str>) -> Result<Option<Self>, FieldError> {
        match s.map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => Self::parse(t).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientName {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ClientName> for String {
    fn from(v: ClientName) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_after_trimming() {
        assert!(ClientName::parse("ab").is_err());
        assert!(ClientName::parse("  ab  ").is_err());
        assert_eq!(ClientName::parse("  abc  ").unwrap().as_str(), "abc");
        assert!(ClientName::parse(&"n".repeat(100)).is_ok());
        assert_eq!(
            ClientName::parse(&"n".repeat(101)).unwrap_err().message,
            ClientName::LENGTH_RULE
        );
        assert!(ClientName::parse("日本語").is_ok());
        assert!(ClientName::parse("日本").is_err());
        assert!(ClientName::parse(&"é".repeat(100)).is_ok());
        assert!(ClientName::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn blank_is_absent() {
        assert_eq!(ClientName::parse_optional(None).unwrap(), None);
        assert_eq!(ClientName::parse_optional(Some("   ")).unwrap(), None);
        assert!(ClientName::parse_optional(Some("x")).is_err());
    }
}
