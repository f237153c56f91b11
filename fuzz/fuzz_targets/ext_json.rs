//! `ext_json` validation: never panics, and what it accepts names only safe
//! package paths in `extPages` and `tabBar`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smartship_core::package_path::is_safe;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ext) = smartship_core::ext_json::parse(text, 42) {
        for page in ext.ext_pages.keys() {
            assert!(is_safe(page), "{page:?}");
        }
        if let Some(list) = ext
            .tab_bar
            .as_ref()
            .and_then(|t| t.get("list"))
            .and_then(|l| l.as_array())
        {
            for item in list {
                for field in ["pagePath", "iconPath", "selectedIconPath"] {
                    if let Some(p) = item.get(field).and_then(|v| v.as_str()) {
                        assert!(is_safe(p), "{field} {p:?}");
                    }
                }
            }
        }
    }
});
