//! The draft zip reader: never panics, stays within its limits whatever the
//! archive claims, and what it accepts holds only safe paths and an app.json.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smartship_core::archive::{DraftLimits, read_draft};

const LIMITS: DraftLimits = DraftLimits {
    max_bytes: 1 << 20,
    max_files: 64,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(tree) = read_draft(data, LIMITS) {
        assert!(tree.len() <= LIMITS.max_files);
        assert!(tree.values().map(|b| b.len() as u64).sum::<u64>() <= LIMITS.max_bytes);
        assert!(tree.contains_key("app.json"));
        for path in tree.keys() {
            assert!(smartship_core::package_path::is_safe(path), "{path:?}");
        }
    }
});
