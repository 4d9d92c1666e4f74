use crate::error::{Field, FieldError};
use crate::text::within;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// A client secret: 6–100 printable characters, never trimmed. Its `Debug` is redacted and it
/// has no `Serialize`, so it cannot leak into a response or a log line by accident.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct ClientSecret(SecretString);

impl ClientSecret {
    pub const MIN: usize = 6;
    pub const MAX: usize = 100;
    pub const LENGTH_RULE: &'static str = "Client secret must be 6–100 characters";
    pub const PRINTABLE_RULE: &'static str =
        "Client secret may contain only printable characters (no control characters)";

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if !within(s, Self::MIN, Self::MAX) {
            return Err(FieldError::new(Field::ClientSecret, Self::LENGTH_RULE));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(Field::ClientSecret, Self::PRINTABLE_RULE));
        }
        Ok(Self(SecretString::from(s)))
    }

    pub const GENERATED_PREFIX_RULE: &'static str =
        "Client secret must not start with vsk_: that prefix marks secrets the server generates";

    /// A secret a person chose: the seed's rules, and not in the form of a generated one (so
    /// the token service can tell the two apart by their form alone).
    pub fn parse_typed(s: &str) -> Result<Self, FieldError> {
        let secret = Self::parse(s)?;
        if s.starts_with(crate::generated_secret::PREFIX) {
            return Err(FieldError::new(
                Field::ClientSecret,
                Self::GENERATED_PREFIX_RULE,
            ));
        }
        Ok(secret)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl TryFrom<String> for ClientSecret {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_boundaries_in_characters() {
        assert!(ClientSecret::parse("12345").is_err());
        assert!(ClientSecret::parse("123456").is_ok());
        assert!(ClientSecret::parse(&"x".repeat(100)).is_ok());
        assert_eq!(
            ClientSecret::parse(&"x".repeat(101)).unwrap_err().message,
            ClientSecret::LENGTH_RULE
        );
        // 100 three-byte characters are 300 bytes but 100 characters: allowed.
        assert!(ClientSecret::parse(&"€".repeat(100)).is_ok());
        assert!(ClientSecret::parse(&"€".repeat(101)).is_err());
        assert!(ClientSecret::parse(&"€".repeat(5)).is_err());
        assert!(ClientSecret::parse(&"€".repeat(6)).is_ok());
    }

    #[test]
    fn never_trimmed_and_printable_only() {
        assert_eq!(
            ClientSecret::parse("  abcd  ").unwrap().expose(),
            "  abcd  "
        );
        assert_eq!(
            ClientSecret::parse("abc\ndef").unwrap_err().message,
            ClientSecret::PRINTABLE_RULE
        );
    }

    #[test]
    fn debug_is_redacted() {
        let s = ClientSecret::parse("super-secret-value").unwrap();
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }
}
