//! Secrets the server generates: `vsk_` + 43 base62 characters (256 random bits) + 6 base62
//! characters of CRC-32 over the rest. The fixed prefix and the checksum let a secret scanner
//! (GitHub's, a merchant's own) recognise a leaked one offline, without false positives, the
//! way GitHub's and Stripe's tokens can be recognised. 53 characters: within the seed's 6–100.

/// What every generated secret starts with.
pub const PREFIX: &str = "vsk_";
/// Random bytes in a secret: 256 bits.
pub const RANDOM_BYTES: usize = 32;
const BODY_LEN: usize = 43; // 62^43 > 2^256
const CHECK_LEN: usize = 6; // 62^6 > 2^32
/// The length of every generated secret.
pub const LEN: usize = PREFIX.len() + BODY_LEN + CHECK_LEN;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE 802.3, as zlib computes it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Base62 of a big-endian number, left-padded with `0` to `width` characters.
fn base62(bytes: &[u8], width: usize) -> String {
    let mut n: Vec<u8> = bytes.to_vec();
    let mut digits = Vec::with_capacity(width);
    while n.iter().any(|b| *b != 0) {
        let mut rem = 0u32;
        for b in n.iter_mut() {
            let acc = (rem << 8) | u32::from(*b);
            *b = (acc / 62) as u8;
            rem = acc % 62;
        }
        digits.push(ALPHABET[rem as usize]);
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// The secret made of `random` (from the OS's CSPRNG).
pub fn from_random(random: &[u8; RANDOM_BYTES]) -> String {
    let mut s = String::with_capacity(LEN);
    s.push_str(PREFIX);
    s.push_str(&base62(random, BODY_LEN));
    let check = base62(&crc32(s.as_bytes()).to_be_bytes(), CHECK_LEN);
    s.push_str(&check);
    s
}

/// Whether `s` has the shape of a generated secret and its checksum holds (a typo or a random
/// string does not): what a secret scanner checks, and what the token service uses to pick the
/// verification path without looking at any client.
pub fn is_generated(s: &str) -> bool {
    if s.len() != LEN || !s.starts_with(PREFIX) {
        return false;
    }
    let (head, check) = s.split_at(LEN - CHECK_LEN);
    head[PREFIX.len()..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric())
        && check == base62(&crc32(head.as_bytes()).to_be_bytes(), CHECK_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_standard_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn secrets_have_the_shape_and_pass_the_seed_rules() {
        let s = from_random(&[0xA5; RANDOM_BYTES]);
        assert_eq!(s.len(), LEN);
        assert!(s.starts_with("vsk_"));
        assert!(is_generated(&s));
        assert!(crate::ClientSecret::parse(&s).is_ok());
        let zero = from_random(&[0; RANDOM_BYTES]);
        assert!(is_generated(&zero), "{zero}");
        assert_ne!(zero, s);
    }

    #[test]
    fn a_typo_or_a_lookalike_fails_the_checksum() {
        let s = from_random(&[7; RANDOM_BYTES]);
        let mut typo = s.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!is_generated(std::str::from_utf8(&typo).unwrap()));
        assert!(!is_generated(&s[..LEN - 1]));
        assert!(!is_generated("correct-horse-battery"));
        assert!(!is_generated(&format!("vsk_{}", "a".repeat(49))));
    }
}
