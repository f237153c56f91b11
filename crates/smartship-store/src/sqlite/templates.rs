//! Drafts and the templates made from them.

use super::*;

template_store!(SqliteStore);
