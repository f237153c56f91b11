//! What a host runtime is given (SPEC §7): the bytes a package signature
//! covers, and the incremental package between two versions.

use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether an app is served to host runtimes at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Normal,
    /// Paused by its owner (`app/pause`).
    Paused,
    /// Banned by an operator.
    Banned,
    /// Taken offline by an operator.
    ForcedOffline,
    /// Its traffic taken offline by its owner (`appflow/control` type 2).
    TrafficOffline,
}

impl ServiceStatus {
    pub const ALL: [ServiceStatus; 5] = [
        ServiceStatus::Normal,
        ServiceStatus::Paused,
        ServiceStatus::Banned,
        ServiceStatus::ForcedOffline,
        ServiceStatus::TrafficOffline,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Normal => "normal",
            ServiceStatus::Paused => "paused",
            ServiceStatus::Banned => "banned",
            ServiceStatus::ForcedOffline => "forced_offline",
            ServiceStatus::TrafficOffline => "traffic_offline",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceStatus> {
        ServiceStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// `status` of `app/info`, in the public platform's numbering: 1 in
    /// service, 4 paused, -1 banned, 5 forced offline, 7 traffic offline.
    pub const fn wire(self) -> i64 {
        match self {
            ServiceStatus::Normal => 1,
            ServiceStatus::Paused => 4,
            ServiceStatus::Banned => -1,
            ServiceStatus::ForcedOffline => 5,
            ServiceStatus::TrafficOffline => 7,
        }
    }
}

/// The path, inside an incremental package, of its [`DeltaManifest`]. The
/// carried files are under [`DELTA_FILES_DIR`], so no package file can
/// collide with it.
pub const DELTA_MANIFEST_PATH: &str = "delta.json";
/// The folder of an incremental package that holds the new and changed
/// files, at their paths in the package.
pub const DELTA_FILES_DIR: &str = "files/";

/// What an incremental package holds besides the changed files: what to
/// remove, and the SHA-256 of every file of the result, so that the host
/// checks the result file by file after applying it. Its digest is covered
/// by the signature of the incremental package, so these hashes are too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaManifest {
    pub from_package_id: i64,
    pub from_version: String,
    pub to_package_id: i64,
    pub to_version: String,
    /// Files of the old version that are not in the new one.
    pub removed: Vec<String>,
    /// Every file of the new version: path → lower-case hex SHA-256.
    pub files: BTreeMap<String, String>,
}

impl DeltaManifest {
    /// The delta from `from` to `to`, and the paths whose bytes it carries
    /// (new or changed files).
    pub fn between(
        from: (&Manifest, i64, &str),
        to: (&Manifest, i64, &str),
    ) -> (DeltaManifest, Vec<String>) {
        let (old, from_id, from_version) = from;
        let (new, to_id, to_version) = to;
        let changed = new
            .files
            .iter()
            .filter(|(p, f)| old.files.get(*p).is_none_or(|o| o.sha256 != f.sha256))
            .map(|(p, _)| p.clone())
            .collect();
        let removed = old
            .files
            .keys()
            .filter(|p| !new.files.contains_key(*p))
            .cloned()
            .collect();
        let files = new
            .files
            .iter()
            .map(|(p, f)| (p.clone(), f.sha256.clone()))
            .collect();
        (
            DeltaManifest {
                from_package_id: from_id,
                from_version: from_version.to_owned(),
                to_package_id: to_id,
                to_version: to_version.to_owned(),
                removed,
                files,
            },
            changed,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_carries_changed_files_and_names_removed_ones() {
        let mut old = Manifest::default();
        old.insert("a.js", b"a");
        old.insert("b.js", b"b");
        old.insert("gone.js", b"g");
        let mut new = Manifest::default();
        new.insert("a.js", b"a");
        new.insert("b.js", b"b2");
        new.insert("c.js", b"c");
        let (d, carried) = DeltaManifest::between((&old, 1, "1.0"), (&new, 2, "1.1"));
        assert_eq!(carried, vec!["b.js", "c.js"]);
        assert_eq!(d.removed, vec!["gone.js"]);
        assert_eq!(d.files.len(), 3);
    }
}
