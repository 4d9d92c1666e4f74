use crate::error::{Field, FieldError};
use crate::text::within;
use serde::{Deserialize, Serialize};

/// A client ID: 6–100 characters of ASCII letters, digits and `-._~`, so it never needs escaping
/// in a URL or an HTTP Basic header. Compared case-sensitively; the store rejects a new ID that
/// differs from an existing one only by case (see [`ClientId::uniqueness_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const MIN: usize = 6;
    pub const MAX: usize = 100;
    pub const LENGTH_RULE: &'static str = "Client ID must be 6–100 characters";
    pub const CHARSET_RULE: &'static str =
        "Client ID may contain only letters A–Z and a–z, digits 0–9 and the characters - . _ ~";
    pub const PATTERN: &'static str = "^[A-Za-z0-9._~-]{6,100}$";

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if !within(s, Self::MIN, Self::MAX) {
            return Err(FieldError::new(Field::ClientId, Self::LENGTH_RULE));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        {
            return Err(FieldError::new(Field::ClientId, Self::CHARSET_RULE));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form under which IDs must be unique: two IDs that differ only by case collide.
    pub fn uniqueness_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl TryFrom<String> for ClientId {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ClientId> for String {
    fn from(v: ClientId) -> Self {
        v.0
    }
}

impl AsRef<str> for ClientId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_boundaries() {
        assert!(ClientId::parse(&"a".repeat(5)).is_err());
        assert!(ClientId::parse(&"a".repeat(6)).is_ok());
        assert!(ClientId::parse(&"a".repeat(100)).is_ok());
        let err = ClientId::parse(&"a".repeat(101)).unwrap_err();
        assert_eq!(err.field, "client_id");
        assert_eq!(err.message, "Client ID must be 6–100 characters");
        assert!(ClientId::parse("").is_err());
    }

    #[test]
    fn character_set() {
        assert!(ClientId::parse("Shop-01.prod_~x").is_ok());
        for bad in [
            "shop 01", "shop/01", "shop:01", "shop@01", "shöp-01", "shop%01", "shop+01",
        ] {
            let err = ClientId::parse(bad).unwrap_err();
            assert_eq!(err.message, ClientId::CHARSET_RULE, "{bad}");
        }
    }

    #[test]
    fn never_trimmed() {
        assert!(ClientId::parse(" abcdef").is_err());
        assert!(ClientId::parse("abcdef ").is_err());
    }

    #[test]
    fn multibyte_counted_as_characters_then_refused_by_charset() {
        // 6 characters but 12 bytes: passes length, fails the character set.
        let err = ClientId::parse("éééééé").unwrap_err();
        assert_eq!(err.message, ClientId::CHARSET_RULE);
        // 101 characters of multi-byte text fails on length first.
        let err = ClientId::parse(&"é".repeat(101)).unwrap_err();
        assert_eq!(err.message, ClientId::LENGTH_RULE);
    }

    #[test]
    fn case_only_duplicates_share_a_uniqueness_key() {
        let a = ClientId::parse("Shop-Client").unwrap();
        let b = ClientId::parse("shop-client").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.uniqueness_key(), b.uniqueness_key());
    }

    #[test]
    fn deserialises_through_the_same_check() {
        let ok: ClientId = serde_json::from_str("\"abcdef\"").unwrap();
        assert_eq!(ok.as_str(), "abcdef");
        let err = serde_json::from_str::<ClientId>("\"abc\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("Client ID must be 6–100 characters")
        );
    }
}
