//! Receiving pushed events: verify the signature, decrypt, parse.
//!
//! Usable from any HTTP framework: hand [`EventReceiver::receive`] the raw
//! request body, answer [`SUCCESS`] when it returns `Ok` (after storing the
//! event), and anything else otherwise so that the platform retries.
//! De-duplicate on the `webhook-id` header: delivery is at least once.
//!
//! ```
//! use smartship_client::events::{EventReceiver, PushEvent};
//! # use smartship_api::crypto::MsgCrypto;
//! let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
//! let receiver = EventReceiver::new(key, "msgtoken", "my-client-id").unwrap();
//! # let body = serde_json::to_vec(&MsgCrypto::new(key, "msgtoken", "my-client-id").unwrap().seal(
//! #     br#"{"appId":1,"tpAppId":2,"eventTime":"2019-01-14 12:45:10","event":"PACKAGE_AUDIT_PASS","packageId":3,"version":"1.0"}"#,
//! #     "1700000000", "nonce", [0; 16])).unwrap();
//! match receiver.receive(&body).unwrap() {
//!     PushEvent::AuditPass(e) => assert_eq!(e.package_id, 3),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

use serde_json::Value;
use smartship_api::crypto::{CryptoError, Envelope, MsgCrypto};
use smartship_api::events::{AuditEventPayload, PACKAGE_AUDIT_FAIL, PACKAGE_AUDIT_PASS};

/// The body a receiver answers to acknowledge an event.
pub const SUCCESS: &str = "success";

/// A verified, decrypted event.
#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    AuditPass(AuditEventPayload),
    AuditFail(AuditEventPayload),
    /// Any other event (tickets, authorization changes), as its JSON object.
    Other {
        event: String,
        payload: Value,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("body is not an encrypted event envelope: {0}")]
    NotAnEnvelope(String),
    #[error("envelope rejected: {0}")]
    Crypto(#[from] CryptoError),
    #[error("decrypted payload is not a valid event: {0}")]
    BadPayload(String),
}

/// Verifies and decrypts events for one third-party platform.
#[derive(Debug, Clone)]
pub struct EventReceiver {
    crypto: MsgCrypto,
}

impl EventReceiver {
    /// The platform's EncodingAESKey, message token and client_id.
    pub fn new(
        encoding_aes_key: &str,
        msg_token: &str,
        client_id: &str,
    ) -> Result<EventReceiver, ReceiveError> {
        Ok(EventReceiver {
            crypto: MsgCrypto::new(encoding_aes_key, msg_token, client_id)?,
        })
    }

    /// Verifies, decrypts and parses a request body.
    pub fn receive(&self, body: &[u8]) -> Result<PushEvent, ReceiveError> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| ReceiveError::NotAnEnvelope(e.to_string()))?;
        let plain = self.crypto.open(&envelope)?;
        let value: Value =
            serde_json::from_slice(&plain).map_err(|e| ReceiveError::BadPayload(e.to_string()))?;
        let event = value["event"]
            .as_str()
            .ok_or_else(|| ReceiveError::BadPayload("no event field".to_owned()))?
            .to_owned();
        let audit = || -> Result<AuditEventPayload, ReceiveError> {
            serde_json::from_value(value.clone())
                .map_err(|e| ReceiveError::BadPayload(e.to_string()))
        };
        Ok(match event.as_str() {
            PACKAGE_AUDIT_PASS => PushEvent::AuditPass(audit()?),
            PACKAGE_AUDIT_FAIL => PushEvent::AuditFail(audit()?),
            _ => PushEvent::Other {
                event,
                payload: value,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn sealed(json: &str, token: &str) -> Vec<u8> {
        let c = MsgCrypto::new(KEY, token, "cid").unwrap();
        serde_json::to_vec(&c.seal(json.as_bytes(), "1", "n", [7; 16])).unwrap()
    }

    #[test]
    fn wrong_signature_and_garbage_are_refused() {
        let r = EventReceiver::new(KEY, "token", "cid").unwrap();
        let body = sealed(r#"{"event":"X"}"#, "other-token");
        assert!(matches!(
            r.receive(&body),
            Err(ReceiveError::Crypto(CryptoError::BadSignature))
        ));
        assert!(matches!(
            r.receive(b"success"),
            Err(ReceiveError::NotAnEnvelope(_))
        ));
        // A tampered ciphertext no longer matches the signature.
        let good = sealed(r#"{"event":"X"}"#, "token");
        assert!(r.receive(&good).is_ok());
        let mut env: Envelope = serde_json::from_slice(&good).unwrap();
        let mut chars: Vec<char> = env.encrypt.chars().collect();
        chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
        env.encrypt = chars.into_iter().collect();
        let err = r.receive(&serde_json::to_vec(&env).unwrap()).unwrap_err();
        assert!(matches!(
            err,
            ReceiveError::Crypto(CryptoError::BadSignature)
        ));
        assert_eq!(err.to_string(), "envelope rejected: signature mismatch");
        let body = sealed("not json", "token");
        assert!(matches!(r.receive(&body), Err(ReceiveError::BadPayload(_))));
        let body = sealed(r#"{"event":"TICKET","Ticket":"t"}"#, "token");
        assert!(matches!(r.receive(&body).unwrap(), PushEvent::Other { .. }));
    }
}
