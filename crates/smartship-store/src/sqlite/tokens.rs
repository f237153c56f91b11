//! Access and refresh tokens, and the single-use codes of the authorization flow (all stored hashed).

use super::*;

token_store!(SqliteStore);
