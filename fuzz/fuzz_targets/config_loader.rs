//! The configuration loader: never panics on any TOML text, and what it
//! accepts has passed validation (its derived values are usable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = smartship_server::config::Config::from_toml_str(text) {
        cfg.tz().expect("validated time zone");
        cfg.retry_schedule().expect("validated schedule");
        let _ = cfg.http_timeouts();
        let _ = cfg.sign_in_limits();
    }
});
