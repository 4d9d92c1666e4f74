//! SHA-256, the one way the server computes it.

/// SHA-256 of the concatenated `parts`. OpenSSL's one-shot `SHA256()` looks the algorithm up
/// by name on every call (OpenSSL 3), which showed on the token path; the incremental
/// interface does not.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = openssl::sha::Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_standard_test_vector() {
        // FIPS 180-2 appendix B.1: SHA-256("abc").
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = super::sha256(&[b"a", b"bc"])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }
}
