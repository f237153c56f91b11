//! Password hashing for app administrator accounts: PBKDF2-HMAC-SHA256 with
//! a random salt, stored as `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`
//! so the cost can be raised later without invalidating stored hashes.

use sha2::Sha256;

const ITERATIONS: u32 = 100_000;

pub fn hash(password: &str) -> String {
    let salt: [u8; 16] = rand::random();
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, ITERATIONS, &mut out);
    format!(
        "pbkdf2-sha256${ITERATIONS}${}${}",
        hex::encode(salt),
        hex::encode(out)
    )
}

pub fn verify(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [scheme, iterations, salt, expected] = parts[..] else {
        return false;
    };
    let (Ok(iterations), Ok(salt), Ok(expected)) = (
        iterations.parse::<u32>(),
        hex::decode(salt),
        hex::decode(expected),
    ) else {
        return false;
    };
    if scheme != "pbkdf2-sha256" || expected.len() != 32 || iterations == 0 {
        return false;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut out);
    smartship_api::crypto::constant_time_eq(&out, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password() {
        let h = hash("correct horse");
        assert!(verify("correct horse", &h));
        assert!(!verify("correct hors", &h));
        assert_ne!(h, hash("correct horse"), "salted");
        assert!(!verify("x", "garbage"));
        assert!(!verify("x", "pbkdf2-sha256$0$00$00"));
    }
}
