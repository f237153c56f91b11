//! The console's operators, sessions and review queue pages.

use super::*;

console_store!(SqliteStore);
