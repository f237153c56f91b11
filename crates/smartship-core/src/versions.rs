//! Dotted version numbers (`3.2`, `3.10.1`), as base libraries and host
//! apps number their releases, and the app's minimum base-library version.
//!
//! Versions compare number by number, a missing number counting as 0
//! (`3.2` = `3.2.0` < `3.10`), never as text (`"3.10" < "3.2"`).

use std::cmp::Ordering;
use std::fmt;

/// The longest version text accepted (bytes).
pub const MAX_LEN: usize = 32;
/// The most numbers a version has.
pub const MAX_PARTS: usize = 4;

/// The base-library versions a fresh installation declares available
/// (`base_library_versions` in the configuration replaces them).
pub const DEFAULT_BASE_LIBRARIES: [&str; 4] = ["3.0", "3.1", "3.2", "3.3"];

/// A dotted version: 1 to 4 numbers of at most 9 digits each.
#[derive(Debug, Clone)]
pub struct Version {
    parts: Vec<u32>,
    text: String,
}

/// Why a text is no version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAVersion(pub String);

impl fmt::Display for NotAVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Version {
    /// Reads `text` (surrounding spaces ignored).
    pub fn parse(text: &str) -> Result<Version, NotAVersion> {
        let text = text.trim();
        let refuse = || {
            NotAVersion(format!(
                "须为 1 到 {MAX_PARTS} 段以点分隔的数字 (如 3.2.1)，至多 {MAX_LEN} 个字符，收到 {:?}",
                text.chars().take(MAX_LEN + 8).collect::<String>()
            ))
        };
        if text.is_empty() || text.len() > MAX_LEN {
            return Err(refuse());
        }
        let mut parts = Vec::with_capacity(MAX_PARTS);
        for part in text.split('.') {
            if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refuse());
            }
            parts.push(part.parse().map_err(|_| refuse())?);
        }
        if parts.len() > MAX_PARTS {
            return Err(refuse());
        }
        Ok(Version {
            parts,
            text: text.to_owned(),
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn part(&self, i: usize) -> u32 {
        self.parts.get(i).copied().unwrap_or(0)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        (0..MAX_PARTS)
            .map(|i| self.part(i).cmp(&other.part(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a minimum base-library version is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinimumRefusal {
    NotAVersion(NotAVersion),
    /// Not one of the versions the operator declared available.
    NotAvailable {
        available: Vec<String>,
    },
}

impl fmt::Display for MinimumRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinimumRefusal::NotAVersion(e) => e.fmt(f),
            MinimumRefusal::NotAvailable { available } => {
                write!(f, "须为可用的基础库版本之一: {}", available.join(", "))
            }
        }
    }
}

/// The minimum an app may ask for: one of the `available` base-library
/// versions (compared as versions, answered as the operator wrote it).
pub fn choose_minimum(asked: &str, available: &[String]) -> Result<String, MinimumRefusal> {
    let asked = Version::parse(asked).map_err(MinimumRefusal::NotAVersion)?;
    available
        .iter()
        .find(|v| Version::parse(v).is_ok_and(|v| v == asked))
        .cloned()
        .ok_or_else(|| MinimumRefusal::NotAvailable {
            available: available.to_vec(),
        })
}

/// The declared versions, oldest first and without repeats, or why one
/// is no version.
pub fn sorted(declared: &[String]) -> Result<Vec<String>, NotAVersion> {
    let mut parsed = declared
        .iter()
        .map(|v| Version::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    parsed.sort();
    parsed.dedup();
    Ok(parsed.into_iter().map(|v| v.text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(t: &str) -> Version {
        Version::parse(t).unwrap()
    }

    #[test]
    fn versions_compare_number_by_number() {
        assert!(v("3.10") > v("3.2"), "not as text");
        assert_eq!(v("3.2"), v("3.2.0"));
        assert!(v("3.2.1") > v("3.2"));
        assert!(v("10") > v("9.9.9.9"));
        assert_eq!(v(" 3.1 ").as_str(), "3.1");
        for bad in [
            "",
            "3.",
            ".3",
            "3..1",
            "a.1",
            "3.1-beta",
            "1.2.3.4.5",
            "1234567890",
            "+1",
            "-1",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Version::parse(&"1.".repeat(20)).is_err());
    }

    #[test]
    fn the_minimum_is_one_of_the_available_versions() {
        let available: Vec<String> = DEFAULT_BASE_LIBRARIES.map(str::to_owned).to_vec();
        assert_eq!(choose_minimum("3.2", &available).unwrap(), "3.2");
        assert_eq!(choose_minimum("3.2.0", &available).unwrap(), "3.2");
        assert!(matches!(
            choose_minimum("3.4", &available),
            Err(MinimumRefusal::NotAvailable { .. })
        ));
        assert!(matches!(
            choose_minimum("x", &available),
            Err(MinimumRefusal::NotAVersion(_))
        ));
        let declared = ["3.10".to_owned(), "3.2".to_owned(), "3.2.0".to_owned()];
        assert_eq!(sorted(&declared).unwrap(), ["3.2", "3.10"]);
    }
}
