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
