//! The parameter decoder of every `/rest/2.0` request: never panics, and
//! what it accepts holds no control character but tab and line breaks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pairs) = smartship_server::openapi::params::decode_form(data) {
        for (k, v) in pairs {
            assert!(
                !v.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
                "{k}: {v:?}"
            );
        }
    }
});
