//! What a host runtime verifies (SPEC §7, docs/release.md): the bytes an
//! update answer's Ed25519 signatures cover. The server signs them and the
//! SDK checks them, so both take them from here.

/// The bytes an Ed25519 signature of a package covers.
pub fn signed_message(app_id: i64, package_id: i64, version: &str, sha256: &str) -> String {
    format!("smartship-package-v1\n{app_id}\n{package_id}\n{version}\n{sha256}")
}

/// The bytes an Ed25519 signature of an incremental package covers: its
/// own kind and its base, so that it can never pass for a whole package
/// (nor for the delta from another version).
pub fn signed_delta_message(
    app_id: i64,
    from_package_id: i64,
    package_id: i64,
    version: &str,
    sha256: &str,
) -> String {
    format!("smartship-delta-v1\n{app_id}\n{from_package_id}\n{package_id}\n{version}\n{sha256}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_are_the_documented_lines() {
        assert_eq!(
            signed_message(7, 12, "1.0.2", "ab"),
            "smartship-package-v1\n7\n12\n1.0.2\nab"
        );
        assert_eq!(
            signed_delta_message(7, 11, 12, "1.0.2", "ab"),
            "smartship-delta-v1\n7\n11\n12\n1.0.2\nab"
        );
    }
}
