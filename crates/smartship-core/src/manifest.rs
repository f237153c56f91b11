//! Content-addressed file lists. A draft, a template and a built package are
//! each a [`Manifest`]: path → (SHA-256, size). The bytes live once in the
//! blob store, so packages built from one template share every file that the
//! build did not change.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Where one file's bytes are and how large they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
}

/// The files of a source tree or package, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub files: BTreeMap<String, FileRef>,
}

impl Manifest {
    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.values().map(|f| f.size).sum()
    }

    /// Adds (or replaces) a file, returning its reference.
    pub fn insert(&mut self, path: &str, content: &[u8]) -> FileRef {
        let r = FileRef {
            sha256: sha256_hex(content),
            size: content.len() as u64,
        };
        self.files.insert(path.to_owned(), r.clone());
        r
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// A package's manifest as the difference from its template's: the files
/// the build added or changed, and the template files it dropped. Packages
/// of one template differ from it in a few small files (`app.json`,
/// `ext.json`, page configs), so 10,000 packages store 10,000 short deltas
/// instead of 10,000 copies of the template's file list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestDelta {
    /// Files that are new or differ from the template's.
    pub set: BTreeMap<String, FileRef>,
    /// Template files that are not in the package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

impl Manifest {
    /// What turns `base` into `self`.
    pub fn delta_from(&self, base: &Manifest) -> ManifestDelta {
        ManifestDelta {
            set: self
                .files
                .iter()
                .filter(|(path, r)| base.files.get(*path) != Some(*r))
                .map(|(path, r)| (path.clone(), r.clone()))
                .collect(),
            removed: base
                .files
                .keys()
                .filter(|path| !self.files.contains_key(*path))
                .cloned()
                .collect(),
        }
    }
}

impl ManifestDelta {
    /// The manifest this delta describes over `base`.
    pub fn apply(&self, base: &Manifest) -> Manifest {
        let mut files = base.files.clone();
        for path in &self.removed {
            files.remove(path);
        }
        for (path, r) in &self.set {
            files.insert(path.clone(), r.clone());
        }
        Manifest { files }
    }
}

#[cfg(test)]
mod delta_tests {
    use super::*;

    #[test]
    fn a_delta_holds_only_what_changed_and_applies_back() {
        let mut base = Manifest::default();
        base.insert("app.json", b"{}");
        base.insert("pages/a.js", b"a");
        base.insert("pages/b.js", b"b");
        let mut built = base.clone();
        built.insert("app.json", br#"{"window":{}}"#);
        built.insert("ext.json", b"{}");
        built.files.remove("pages/b.js");
        let delta = built.delta_from(&base);
        assert_eq!(
            delta.set.keys().collect::<Vec<_>>(),
            ["app.json", "ext.json"]
        );
        assert_eq!(delta.removed, ["pages/b.js"]);
        assert_eq!(delta.apply(&base), built);
        assert_eq!(base.delta_from(&base), ManifestDelta::default());
    }
}
