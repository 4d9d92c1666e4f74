//! The addresses a client may ask for tokens from: IPv4 and IPv6 ranges in CIDR notation
//! (a bare address is a range of one). No list means any address.

use crate::error::{Field, FieldError};
use std::net::IpAddr;

/// One range: an address with its host bits cleared, and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    pub const RULE: &'static str = "Allowed addresses must be IPv4 or IPv6 addresses or CIDR ranges, such as 203.0.113.0/24 or 2001:db8::/32";

    /// `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`. Host bits set below the prefix are
    /// refused rather than cleared, so a typo cannot silently widen or move a range.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let written: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text}: not an address"))?;
        // An IPv4 range written as IPv6 (`::ffff:10.0.0.0/104`) is kept as the IPv4 range it is:
        // callers are compared as IPv4.
        let network = written.to_canonical();
        let mapped = network != written;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if mapped => p
                .parse::<u8>()
                .ok()
                .filter(|p| (96..=128).contains(p))
                .map(|p| p - 96)
                .ok_or_else(|| format!("{text}: the prefix must be 96–128"))?,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text}: the prefix must be 0–{max}"))?,
        };
        let range = Self { network, prefix };
        if range.masked(network) != network {
            return Err(format!(
                "{text}: bits are set below the /{prefix} prefix (the range starts at {})",
                range.masked(network)
            ));
        }
        Ok(range)
    }

    fn masked(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// Whether `addr` lies in the range. An IPv4 address written as IPv6 (`::ffff:a.b.c.d`,
    /// as dual-stack sockets report it) counts as the IPv4 address.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        addr.is_ipv4() == self.network.is_ipv4() && self.masked(addr) == self.network
    }
}

impl std::fmt::Display for AddressRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A client's allow-list: 1–50 ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressList(Vec<AddressRange>);

impl AddressList {
    pub const MAX: usize = 50;

    /// The list as sent; an empty one means "any address" (`None`). Every bad entry is named.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Option<Self>, FieldError> {
        if entries.len() > Self::MAX {
            return Err(FieldError::new(
                Field::AllowedAddresses,
                format!("Allowed addresses must be at most {} ranges", Self::MAX),
            ));
        }
        let mut ranges = Vec::with_capacity(entries.len());
        let mut bad = vec![];
        for e in entries {
            match AddressRange::parse(e.as_ref()) {
                Ok(r) if !ranges.contains(&r) => ranges.push(r),
                Ok(_) => {}
                Err(why) => bad.push(why),
            }
        }
        if !bad.is_empty() {
            return Err(FieldError::new(
                Field::AllowedAddresses,
                format!("{} ({})", AddressRange::RULE, bad.join("; ")),
            ));
        }
        Ok((!ranges.is_empty()).then_some(Self(ranges)))
    }

    pub fn allows(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(addr))
    }

    /// The ranges in CIDR notation, as stored and shown.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses_only() {
        let l = AddressList::parse(&["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
            .unwrap()
            .unwrap();
        assert!(l.allows(ip("203.0.113.255")));
        assert!(
            l.allows(ip("::ffff:203.0.113.9")),
            "IPv4 seen through a dual-stack socket"
        );
        assert!(!l.allows(ip("203.0.114.0")));
        assert!(l.allows(ip("2001:db8:ffff::1")));
        assert!(!l.allows(ip("2001:db9::1")));
        assert!(l.allows(ip("198.51.100.7")));
        assert!(!l.allows(ip("198.51.100.8")));
        assert_eq!(
            l.to_strings(),
            ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]
        );
        let mapped = AddressList::parse(&["::ffff:127.0.0.0/104"])
            .unwrap()
            .unwrap();
        assert_eq!(mapped.to_strings(), ["127.0.0.0/8"]);
        assert!(mapped.allows(ip("127.1.2.3")));
        let any = AddressList::parse(&["0.0.0.0/0"]).unwrap().unwrap();
        assert!(any.allows(ip("8.8.8.8")) && !any.allows(ip("::1")));
    }

    #[test]
    fn bad_entries_and_long_lists_are_refused_naming_the_field() {
        assert_eq!(AddressList::parse::<&str>(&[]).unwrap(), None);
        for bad in [
            "10.0.0.1/24",
            "10.0.0.0/33",
            "example.com",
            "10.0.0.0/",
            "::1/129",
        ] {
            let e = AddressList::parse(&[bad]).unwrap_err();
            assert_eq!(e.field, "allowed_addresses", "{bad}");
            assert!(e.message.contains(bad), "{}", e.message);
        }
        let many: Vec<String> = (0..51).map(|i| format!("10.0.0.{i}")).collect();
        assert!(
            AddressList::parse(&many)
                .unwrap_err()
                .message
                .contains("at most 50")
        );
    }
}
