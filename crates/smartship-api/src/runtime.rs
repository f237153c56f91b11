//! What a host runtime verifies (SPEC §7, docs/release.md): the bytes an
//! update answer's Ed25519 signatures cover. The server signs them and the
//! SDK checks them, so both take them from here.

/// The bytes an Ed25519 signature of a package covers.
pub fn signed_message(app_id: i64, package_id: i64, version: &str, sha256: &str) -> String {
    format!("smartship-package-v1\n{app_id}\n{package_id}\n{version}\n{sha256}")
}

/// What a v2 signature of an update answer adds to the package: when the
/// answer was issued and until when a host may act on it (Unix seconds),
/// and the app's release sequence at that time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub sequence: i64,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// The bytes the v2 signature of an update answer (`signature_v2`) covers:
/// the package as v1, plus its [`Freshness`], so that an old answer cannot
/// be replayed to pin hosts to a version rolled back since (a host refuses
/// an expired answer, and one whose sequence is below what it runs).
pub fn signed_message_v2(
    app_id: i64,
    package_id: i64,
    version: &str,
    sha256: &str,
    f: Freshness,
) -> String {
    format!(
        "smartship-update-v2\n{app_id}\n{package_id}\n{version}\n{sha256}\n{}\n{}\n{}",
        f.sequence, f.issued_at, f.expires_at
    )
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
            signed_message_v2(
                7,
                12,
                "1.0.2",
                "ab",
                Freshness {
                    sequence: 3,
                    issued_at: 1_800_000_000,
                    expires_at: 1_800_086_400
                }
            ),
            "smartship-update-v2\n7\n12\n1.0.2\nab\n3\n1800000000\n1800086400"
        );
        assert_eq!(
            signed_delta_message(7, 11, 12, "1.0.2", "ab"),
            "smartship-delta-v1\n7\n11\n12\n1.0.2\nab"
        );
    }
}
