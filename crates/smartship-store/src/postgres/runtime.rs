//! Delivery to host runtimes: host keys, signing keys, artifacts, phased releases.

use super::*;

use crate::{GrayChange, NewGray};

runtime_store!(PgStore);
