//! The device cookie: a browser that signed in to an account gets a value
//! the server signed for that account, and later sign-ins to it from that
//! browser are throttled on their own (`sign_in_throttle::Client`), so
//! nobody else's failures can lock its owner out.
//!
//! The value is a random device id and an HMAC-SHA256 of the account name
//! and that id, under a key derived from the installation's admin token:
//! every node verifies it without a database row, and rotating the admin
//! token retires every device cookie. It proves only "this browser signed
//! in to this account before"; it grants nothing else.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const DEVICE_COOKIE: &str = "smartship_console_device";
/// How long a browser stays trusted after its last sign-in (90 days).
pub const DEVICE_COOKIE_SECS: i64 = 90 * 24 * 3600;

fn mac(secret: &str, username: &str, device: &str) -> Hmac<Sha256> {
    let key = Sha256::new()
        .chain_update(b"smartship-console-device-v1\n")
        .chain_update(secret.as_bytes())
        .finalize();
    let mut m = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    m.update(username.as_bytes());
    m.update(b"\n");
    m.update(device.as_bytes());
    m
}

/// A new cookie value for `username`.
pub fn issue(secret: &str, username: &str) -> String {
    let device = hex::encode(rand::random::<[u8; 16]>());
    let tag = hex::encode(mac(secret, username, &device).finalize().into_bytes());
    format!("{device}.{tag}")
}

/// The device id in `value` when it was issued for `username`.
pub fn verify<'v>(secret: &str, username: &str, value: &'v str) -> Option<&'v str> {
    let (device, tag) = value.split_once('.')?;
    if device.len() != 32 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tag = hex::decode(tag).ok()?;
    mac(secret, username, device).verify_slice(&tag).ok()?;
    Some(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_holds_for_its_account_and_secret_only() {
        let v = issue("secret", "demo-admin");
        let id = verify("secret", "demo-admin", &v).expect("valid");
        assert_eq!(id.len(), 32);
        assert_eq!(verify("secret", "other", &v), None);
        assert_eq!(verify("rotated", "demo-admin", &v), None);
        let mut forged = v.clone();
        forged.replace_range(0..1, if v.starts_with('0') { "1" } else { "0" });
        assert_eq!(verify("secret", "demo-admin", &forged), None);
        assert_eq!(verify("secret", "demo-admin", "junk"), None);
    }
}
