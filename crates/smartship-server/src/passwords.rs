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

/// A hash of nothing anyone knows, with the cost of real ones: checking a
/// password for an unknown account runs the same work as for a known one,
/// so the answer's timing does not tell which accounts exist.
static DUMMY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash(&crate::tokens::random_alnum(32)));

/// Checks `password` against `stored`, or against a dummy hash of the same
/// cost when there is no account: false then, after the same work.
pub fn verify_or_dummy(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => verify(password, stored),
        None => {
            verify(password, &DUMMY);
            false
        }
    }
}

/// The iteration count of a stored hash (its cost).
pub fn cost(stored: &str) -> Option<u32> {
    stored.split('$').nth(1)?.parse().ok()
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

    #[test]
    fn an_unknown_account_costs_as_much_as_a_known_one() {
        // The dummy has the cost of every stored hash, and never verifies.
        assert_eq!(cost(&DUMMY), cost(&hash("x")));
        assert_eq!(cost(&DUMMY), Some(ITERATIONS));
        assert!(!verify_or_dummy("anything", None));
        let h = hash("right");
        assert!(verify_or_dummy("right", Some(&h)));
        assert!(!verify_or_dummy("wrong", Some(&h)));
    }
}
