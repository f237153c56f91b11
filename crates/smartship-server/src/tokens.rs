//! Opaque access tokens. The token string is shown once; only its SHA-256 is
//! stored, so a database leak does not leak usable tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A fresh token: a kind prefix (for humans reading logs) and 256 random bits.
pub fn generate(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a secret someone gave is the expected one. Compares digests so
/// the comparison takes the same time wherever the strings first differ.
pub fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A random string of `len` characters from `[A-Za-z0-9]`.
pub fn random_alnum(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[rand::random_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = generate("app");
        let b = generate("app");
        assert_ne!(a, b);
        assert!(a.starts_with("app.") && a.len() > 40);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(random_alnum(43).len(), 43);
        assert!(token_matches(&a, &a));
        assert!(!token_matches(&a, &b));
        assert!(!token_matches("", &a));
    }
}
