//! Delivery to host runtimes: host keys, signing keys, artifacts, phased releases.

use super::*;

runtime_store!(SqliteStore);
