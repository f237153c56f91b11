//! The app's basic information and settings: examinations, images, domains, violations.

use super::*;
use parties::refresh_approval;

profile_store!(SqliteStore);
