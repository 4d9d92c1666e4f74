use crate::error::{Field, FieldError};
use crate::text::within;
use serde::{Deserialize, Serialize};

/// The name of an API role in the platform's catalogue, e.g. `payments:write`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleName(String);

impl RoleName {
    pub const MAX: usize = 64;
    pub const RULE: &'static str =
        "Role names must be 1–64 characters of a–z, 0–9 and the characters : . _ -";
    pub const PATTERN: &'static str = "^[a-z0-9:._-]{1,64}$";

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = within(s, 1, Self::MAX)
            && s.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ':' | '.' | '_' | '-')
            });
        if !ok {
            return Err(FieldError::new(Field::Roles, Self::RULE));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RoleName {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RoleName> for String {
    fn from(v: RoleName) -> Self {
        v.0
    }
}

impl std::fmt::Display for RoleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The roles of a client: at least one, no duplicates, kept sorted. Whether each role exists
/// in the catalogue is data, checked by the store against the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct RoleSet(Vec<RoleName>);

impl RoleSet {
    pub const EMPTY_RULE: &'static str = "At least one role must be selected";

    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, FieldError> {
        if names.is_empty() {
            return Err(FieldError::new(Field::Roles, Self::EMPTY_RULE));
        }
        let mut roles = Vec::with_capacity(names.len());
        for n in names {
            roles.push(RoleName::parse(n.as_ref())?);
        }
        roles.sort();
        if let Some(w) = roles.windows(2).find(|w| w[0] == w[1]) {
            return Err(FieldError::new(
                Field::Roles,
                format!(
                    "Roles must not repeat a role: \"{}\" is selected twice",
                    w[0]
                ),
            ));
        }
        Ok(Self(roles))
    }

    pub fn iter(&self) -> impl Iterator<Item = &RoleName> {
        self.0.iter()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|r| r.as_str() == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.0.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<String>> for RoleSet {
    type Error = FieldError;
    fn try_from(v: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}

impl From<RoleSet> for Vec<String> {
    fn from(v: RoleSet) -> Self {
        v.0.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_one_role() {
        let err = RoleSet::parse::<&str>(&[]).unwrap_err();
        assert_eq!(err.field, "roles");
        assert_eq!(err.message, "At least one role must be selected");
    }

    #[test]
    fn no_duplicates() {
        let err = RoleSet::parse(&["payments:read", "refunds:write", "payments:read"]).unwrap_err();
        assert!(err.message.contains("payments:read"), "{}", err.message);
    }

    #[test]
    fn sorted_and_checked() {
        let set = RoleSet::parse(&["refunds:write", "payments:read"]).unwrap();
        assert_eq!(set.names(), vec!["payments:read", "refunds:write"]);
        assert!(set.contains("refunds:write"));
        assert!(RoleSet::parse(&["Payments:Read"]).is_err());
        assert!(RoleSet::parse(&[""]).is_err());
        assert!(RoleSet::parse(&["x".repeat(65)]).is_err());
    }
}
