//! A client's secrets as the service keeps them: what verifies each (never the secret), how it
//! was made, when it was made, when it expires and when it was last used; which of them a
//! presented secret may match at a given moment; and the expiry rule a new secret is set with.

use crate::error::FieldError;
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What verifies a secret (a bcrypt hash, or `sha256$…` for a generated secret), never the
/// secret itself. `Debug` is redacted: a hash is still material an attacker could grind on.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// The stored form of a generated secret's verifier starts with this; see
    /// docs/security.md for why a digest is enough for 256 random bits.
    pub const GENERATED_SCHEME: &'static str = "sha256$";

    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How the secret it verifies was made, read off the stored scheme.
    pub fn origin(&self) -> SecretOrigin {
        if self.0.starts_with(Self::GENERATED_SCHEME) {
            SecretOrigin::Generated
        } else {
            SecretOrigin::Typed
        }
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// How a secret was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecretOrigin {
    /// By the server: 256 random bits, verified by digest.
    Generated,
    /// By a person: the seed's rules, verified by bcrypt.
    Typed,
}

/// Which of a client's secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecretSlot {
    Current,
    /// The one a rotation replaced, during its grace period.
    Previous,
}

/// One secret: its verifier and its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub hash: SecretHash,
    pub created_at: DateTime<Utc>,
    /// `None`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredSecret {
    /// A secret made at `now`, not yet used.
    pub fn new(hash: SecretHash, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        Self {
            hash,
            created_at: now,
            expires_at,
            last_used_at: None,
        }
    }

    fn unexpired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// The secret a rotation replaced, and until when it keeps working: the end of the grace
/// period or its own expiry, whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub secret: StoredSecret,
    pub valid_until: DateTime<Utc>,
}

/// A client's secrets: the current one and, during a rotation's grace period, one previous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretState {
    pub current: StoredSecret,
    pub previous: Option<PreviousSecret>,
}

impl SecretState {
    pub fn new(current: StoredSecret) -> Self {
        Self {
            current,
            previous: None,
        }
    }

    /// The previous secret, if it still works at `now`.
    fn previous_at(&self, now: DateTime<Utc>) -> Option<&PreviousSecret> {
        self.previous.as_ref().filter(|p| p.valid_until > now)
    }

    /// Until when the previous secret still works, if it still does at `now`.
    pub fn previous_valid_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.previous_at(now).map(|p| p.valid_until)
    }

    /// The stored secrets a presented one may match at `now`: the current one unless it has
    /// expired, then the previous one while it still works.
    pub fn accepted_at(
        &self,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = (SecretSlot, &SecretHash)> {
        let current = Some(&self.current)
            .filter(|c| c.unexpired_at(now))
            .map(|c| (SecretSlot::Current, &c.hash));
        let previous = self
            .previous_at(now)
            .map(|p| (SecretSlot::Previous, &p.secret.hash));
        current.into_iter().chain(previous)
    }

    /// A new secret. With a grace period the one it replaces keeps working until `now + grace`
    /// (or its own expiry, if sooner; an expired one does not come back, and an earlier previous
    /// secret is dropped: at most one is kept); without, it stops at once.
    pub fn replace(&mut self, new: StoredSecret, grace: Option<Duration>, now: DateTime<Utc>) {
        let old = std::mem::replace(&mut self.current, new);
        self.previous = grace
            .filter(|g| *g > Duration::zero())
            .map(|g| {
                let until = old.expires_at.map_or(now + g, |e| e.min(now + g));
                PreviousSecret {
                    secret: old,
                    valid_until: until,
                }
            })
            .filter(|p| p.valid_until > now);
    }

    /// Ends the previous secret now. Whether there was one still working.
    pub fn end_previous(&mut self, now: DateTime<Utc>) -> bool {
        let working = self.previous_at(now).is_some();
        self.previous = None;
        working
    }

    /// The secret in `slot`, if the client has one there.
    pub fn get(&self, slot: SecretSlot) -> Option<&StoredSecret> {
        match slot {
            SecretSlot::Current => Some(&self.current),
            SecretSlot::Previous => self.previous.as_ref().map(|p| &p.secret),
        }
    }

    /// "Last used" is written at most once a minute per secret: whether a use at `now` of the
    /// secret in `slot` needs recording. The first use of the previous secret after it was
    /// replaced always does: "still used since the change?" is what its last use answers.
    pub fn use_is_stale(&self, slot: SecretSlot, now: DateTime<Utc>) -> bool {
        let replaced_at = (slot == SecretSlot::Previous).then_some(self.current.created_at);
        self.get(slot).is_some_and(|s| {
            s.last_used_at.is_none_or(|t| {
                now - t >= Duration::minutes(1) || replaced_at.is_some_and(|r| t < r)
            })
        })
    }

    /// The secrets as the API shows them: how each was made and its dates, never the verifier.
    pub fn to_wire(&self, now: DateTime<Utc>) -> Vec<SecretInfo> {
        let info = |slot, s: &StoredSecret, expires_at| SecretInfo {
            slot,
            origin: s.hash.origin(),
            created_at: s.created_at,
            expires_at,
            last_used_at: s.last_used_at,
        };
        let mut out = vec![info(
            SecretSlot::Current,
            &self.current,
            self.current.expires_at,
        )];
        if let Some(p) = self.previous_at(now) {
            out.push(info(SecretSlot::Previous, &p.secret, Some(p.valid_until)));
        }
        out
    }
}

/// One of a client's secrets as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SecretInfo {
    pub slot: SecretSlot,
    pub origin: SecretOrigin,
    pub created_at: DateTime<Utc>,
    /// When it stops working (`null`: never). For the previous secret: the end of its grace
    /// period or its own expiry, whichever comes first.
    pub expires_at: Option<DateTime<Utc>>,
    /// When a token was last issued for it (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The member that sets a new secret's expiry (RFC 3339; absent or `null`: never).
pub const SECRET_EXPIRES_FIELD: &str = "secret_expires_at";
/// How far ahead a secret's expiry may be.
pub const MAX_SECRET_LIFETIME_MONTHS: u32 = 24;
pub const SECRET_EXPIRY_RULE: &str =
    "Secret expiry must be a date and time (RFC 3339) in the future, at most two years ahead";

/// The latest expiry a secret made at `now` may have.
pub fn latest_secret_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(MAX_SECRET_LIFETIME_MONTHS))
        .unwrap_or(now)
}

/// Reads a new secret's expiry: absent or `null` for none; otherwise an RFC 3339 time after
/// `now` and at most two years ahead of it.
pub fn parse_secret_expiry(
    value: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    let refuse = || FieldError {
        field: SECRET_EXPIRES_FIELD.into(),
        message: SECRET_EXPIRY_RULE.into(),
    };
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(refuse()),
    };
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| refuse())?
        .with_timezone(&Utc);
    if at <= now || at > latest_secret_expiry(now) {
        return Err(refuse());
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn secret(h: &str, made: i64, expires: Option<i64>) -> StoredSecret {
        StoredSecret::new(SecretHash::new(h.into()), expires.map(at), at(made))
    }

    fn hashes(s: &SecretState, now: DateTime<Utc>) -> Vec<(SecretSlot, &str)> {
        s.accepted_at(now).map(|(k, h)| (k, h.as_str())).collect()
    }

    #[test]
    fn the_previous_secret_works_only_during_its_grace_period() {
        let mut s = SecretState::new(secret("h1", 0, None));
        s.replace(secret("h2", 0, None), Some(Duration::minutes(10)), at(0));
        assert_eq!(
            hashes(&s, at(0)),
            [(SecretSlot::Current, "h2"), (SecretSlot::Previous, "h1")]
        );
        assert_eq!(s.previous_valid_until(at(0)), Some(at(600)));
        assert_eq!(hashes(&s, at(600)), [(SecretSlot::Current, "h2")]);
        assert_eq!(s.previous_valid_until(at(600)), None);
        // Without grace the replaced secret stops at once, and no older one survives.
        s.replace(secret("h3", 0, None), None, at(0));
        assert_eq!(hashes(&s, at(0)), [(SecretSlot::Current, "h3")]);
    }

    #[test]
    fn an_expired_secret_is_not_accepted_and_does_not_return_as_previous() {
        let mut s = SecretState::new(secret("h1", 0, Some(100)));
        assert_eq!(hashes(&s, at(99)).len(), 1);
        assert!(hashes(&s, at(100)).is_empty());
        // Replaced with a grace longer than its life: it works until its own expiry only.
        s.replace(secret("h2", 50, None), Some(Duration::minutes(10)), at(50));
        assert_eq!(s.previous_valid_until(at(50)), Some(at(100)));
        assert_eq!(hashes(&s, at(100)), [(SecretSlot::Current, "h2")]);
        // Replaced after it expired: nothing to keep.
        let mut s = SecretState::new(secret("h1", 0, Some(100)));
        s.replace(
            secret("h2", 200, None),
            Some(Duration::minutes(10)),
            at(200),
        );
        assert!(s.previous.is_none());
    }

    #[test]
    fn ending_the_previous_secret_stops_it_at_once() {
        let mut s = SecretState::new(secret("h1", 0, None));
        assert!(!s.end_previous(at(0)));
        s.replace(secret("h2", 0, None), Some(Duration::days(1)), at(0));
        assert!(s.end_previous(at(5)));
        assert_eq!(hashes(&s, at(5)), [(SecretSlot::Current, "h2")]);
        assert_eq!(s.to_wire(at(5)).len(), 1);
    }

    #[test]
    fn last_use_is_recorded_per_secret_at_most_once_a_minute() {
        let mut s = SecretState::new(secret("h1", 0, None));
        s.replace(secret("h2", 0, None), Some(Duration::days(1)), at(0));
        s.current.last_used_at = Some(at(0));
        assert!(!s.use_is_stale(SecretSlot::Current, at(59)));
        assert!(s.use_is_stale(SecretSlot::Current, at(60)));
        assert!(s.use_is_stale(SecretSlot::Previous, at(1)));
        // Used just before the change: its next use, after it, is recorded at once.
        let mut changed = SecretState::new(secret("h1", 0, None));
        changed.current.last_used_at = Some(at(100));
        changed.replace(secret("h2", 110, None), Some(Duration::days(1)), at(110));
        assert!(changed.use_is_stale(SecretSlot::Previous, at(115)));
        let wire = s.to_wire(at(1));
        assert_eq!(wire[0].last_used_at, Some(at(0)));
        assert_eq!(wire[1].last_used_at, None);
        assert_eq!(wire[1].expires_at, Some(at(86_400)));
    }

    #[test]
    fn origin_is_read_off_the_stored_scheme() {
        assert_eq!(
            SecretHash::new("sha256$ab".into()).origin(),
            SecretOrigin::Generated
        );
        assert_eq!(
            SecretHash::new("$2b$12$x".into()).origin(),
            SecretOrigin::Typed
        );
        assert!(!format!("{:?}", SecretHash::new("$2b$12$x".into())).contains("2b"));
    }

    #[test]
    fn expiry_is_in_the_future_and_at_most_two_years_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .to_utc();
        let p = |v: Value| parse_secret_expiry(Some(&v), now);
        assert_eq!(parse_secret_expiry(None, now), Ok(None));
        assert_eq!(p(Value::Null), Ok(None));
        assert!(p(json!("2028-11-27T10:00:00Z")).unwrap().is_some());
        assert!(p(json!("2028-11-27T12:00:00+02:00")).unwrap().is_some());
        for bad in [
            json!("2028-11-27T10:00:01Z"),
            json!("2026-11-27T10:00:00Z"),
            json!("2025-01-01T00:00:00Z"),
            json!("tomorrow"),
            json!("2027-01-01"),
            json!(1_900_000_000),
        ] {
            let e = p(bad.clone()).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.message.as_str()),
                (SECRET_EXPIRES_FIELD, SECRET_EXPIRY_RULE),
                "{bad}"
            );
        }
    }
}
