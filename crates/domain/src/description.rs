use crate::error::{Field, FieldError};
use crate::text::char_len;
use serde::{Deserialize, Serialize};

/// An optional description: up to 1000 characters after trimming surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    pub const MAX: usize = 1000;
    pub const LENGTH_RULE: &'static str = "Description must be at most 1000 characters";
    pub const HIDDEN_RULE: &'static str =
        "Description must not contain control or text-direction characters (line breaks are fine)";

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        if char_len(t) > Self::MAX {
            return Err(FieldError::new(Field::Description, Self::LENGTH_RULE));
        }
        if crate::text::has_hidden_characters(t, true) {
            return Err(FieldError::new(Field::Description, Self::HIDDEN_RULE));
        }
        Ok(Self(t.to_owned()))
    }

    /// The optional field: blank means "no description".
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

impl TryFrom<String> for Description {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Description> for String {
    fn from(v: Description) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert!(Description::parse(&"d".repeat(1000)).is_ok());
        assert_eq!(
            Description::parse(&"d".repeat(1001)).unwrap_err().message,
            Description::LENGTH_RULE
        );
        assert!(Description::parse(&format!("  {}  ", "d".repeat(1000))).is_ok());
        assert!(Description::parse(&"ü".repeat(1000)).is_ok());
        assert!(Description::parse(&"ü".repeat(1001)).is_err());
        assert_eq!(Description::parse_optional(Some(" ")).unwrap(), None);
    }
}

#[cfg(test)]
mod hidden_tests {
    use super::*;

    #[test]
    fn hidden_characters_are_refused_line_breaks_kept() {
        assert!(Description::parse("line one\nline two\tand a tab").is_ok());
        assert!(Description::parse("nul \u{0} here").is_err());
        assert!(Description::parse("abc\u{202E}fed").is_err());
        assert!(crate::ClientName::parse("abc\u{0}def").is_err());
        assert!(crate::ClientName::parse("abc\u{2067}def").is_err());
        assert!(crate::ClientName::parse("Café 東京").is_ok());
    }
}
