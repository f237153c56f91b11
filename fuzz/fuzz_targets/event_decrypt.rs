//! Opening a pushed event's envelope: never panics on any `Encrypt` or
//! signature, and whatever is sealed opens to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smartship_api::crypto::{Envelope, MsgCrypto};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fuzz_target!(|data: &[u8]| {
    let c = MsgCrypto::new(KEY, "token", "client").expect("a valid key");
    // Arbitrary envelopes, as JSON, and arbitrary Encrypt text.
    if let Ok(env) = serde_json::from_slice::<Envelope>(data) {
        let _ = c.open(&env);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = c.decrypt(text);
    }
    // Round trip.
    let env = c.seal(data, "1700000000", "nonce", [7; 16]);
    assert_eq!(c.open(&env).expect("a sealed message opens"), data);
});
