//! What a host runtime gets and verifies (SPEC §7, docs/release.md): the
//! update check's answer, the published keys, and the bytes an answer's
//! Ed25519 signatures cover. The server sends and signs them and the SDK
//! reads and checks them, so both take them from here.

use serde::{Deserialize, Serialize};

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

/// What a host gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpdateAnswer {
    pub app_id: i64,
    pub package_id: i64,
    pub version: String,
    /// `online`, or `gray` when a phased release serves this user.
    pub channel: String,
    /// The host runs this package already (its `current_package_id` or
    /// `current_sha256`, or a `current_version` no other served package
    /// carries).
    pub up_to_date: bool,
    /// Bytes of the zip.
    pub size: i64,
    /// Lower-case hex SHA-256 of the zip.
    pub sha256: String,
    pub download_url: String,
    pub key_id: String,
    /// Base64 Ed25519 signature of
    /// `smartship-package-v1\n{app_id}\n{package_id}\n{version}\n{sha256}`
    /// (format v1: it never expires; hosts should check `signature_v2`).
    pub signature: String,
    /// The app's release sequence: raised by every release, rollback and
    /// phased-release change. A host refuses an answer whose sequence is
    /// below the one it runs.
    pub sequence: i64,
    /// When the answer was signed (Unix seconds).
    pub issued_at: i64,
    /// After this (Unix seconds) a host must not act on the answer.
    pub expires_at: i64,
    /// Base64 Ed25519 signature (same key) of
    /// `smartship-update-v2\n{app_id}\n{package_id}\n{version}\n{sha256}\n{sequence}\n{issued_at}\n{expires_at}`.
    pub signature_v2: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<Incremental>,
}

/// The incremental package from the host's version: `delta.json` (what to
/// remove, and every file's SHA-256 after applying) and the new or changed
/// files under `files/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incremental {
    pub from_package_id: i64,
    pub from_version: String,
    pub size: i64,
    pub sha256: String,
    pub download_url: String,
    pub key_id: String,
    /// Base64 Ed25519 signature of
    /// `smartship-delta-v1\n{app_id}\n{from_package_id}\n{package_id}\n{version}\n{sha256}`
    /// (`sha256` of this zip).
    pub signature: String,
}

impl UpdateAnswer {
    /// What the v2 signature adds to the package.
    pub fn freshness(&self) -> Freshness {
        Freshness {
            sequence: self.sequence,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }
}

/// One published public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicKey {
    pub key_id: String,
    /// Base64 of the 32 raw bytes of the Ed25519 public key.
    pub public_key: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which the key is no longer published; null for
    /// the key that signs.
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyList {
    pub keys: Vec<PublicKey>,
}
