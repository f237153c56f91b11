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
///
/// ```
/// use smartship_client::events::{EventReceiver, SUCCESS};
/// # let receiver = EventReceiver::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "t", "cid").unwrap();
/// # let body = b"not an envelope";
/// // Acknowledge only what was accepted; anything else makes the platform retry.
/// let answer = match receiver.receive(body) {
///     Ok(_event) => SUCCESS,
///     Err(_) => "retry",
/// };
/// assert_eq!(answer, "retry");
/// assert_eq!(SUCCESS, "success");
/// ```
pub const SUCCESS: &str = "success";

/// A verified, decrypted event.
///
/// ```
/// use smartship_client::events::PushEvent;
/// fn describe(event: &PushEvent) -> String {
///     match event {
///         PushEvent::AuditPass(e) => format!("package {} passed", e.package_id),
///         PushEvent::Unauthorized { app_id } => format!("app {app_id} revoked"),
///         PushEvent::Other { event, .. } => format!("unknown {event}"),
///         _ => "other".to_owned(),
///     }
/// }
/// assert_eq!(describe(&PushEvent::Unauthorized { app_id: 9 }), "app 9 revoked");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    /// `PACKAGE_AUDIT_PASS`: the package may be released.
    AuditPass(AuditEventPayload),
    /// `PACKAGE_AUDIT_FAIL`: `reason` says why.
    AuditFail(AuditEventPayload),
    /// `TICKET`: exchange it for the TP token
    /// ([`crate::OpenApiClient::tp_token`]).
    Ticket {
        /// The ticket.
        ticket: String,
        /// Unix seconds it was issued.
        create_time: i64,
    },
    /// `AUTHORIZED`: an app authorized the platform (new or again).
    Authorized {
        /// The app.
        app_id: i64,
        /// Granted scopes, comma separated.
        scopes: String,
    },
    /// `UPDATE_AUTHORIZED`: an active authorization was granted again.
    UpdateAuthorized {
        /// The app.
        app_id: i64,
        /// Granted scopes, comma separated.
        scopes: String,
    },
    /// `UNAUTHORIZED`: the app's tokens no longer work.
    Unauthorized {
        /// The app.
        app_id: i64,
    },
    /// A release event a platform subscribed to (`PACKAGE_BUILD_SUCCESS`,
    /// `PACKAGE_BUILD_FAIL`, `PACKAGE_RELEASE`, `PACKAGE_GRAY_RELEASE`,
    /// `PACKAGE_ROLLBACK`; docs/events.md): the package it is about.
    Release {
        /// The `event` field.
        event: String,
        /// App, package and version (`reason` for a failed build).
        package: AuditEventPayload,
        /// A phased release's percentage and status (`PACKAGE_GRAY_RELEASE`).
        gray_percentage: Option<i64>,
        /// `running`, `paused` or `reverted` (completion is `PACKAGE_RELEASE`).
        gray_status: Option<String>,
    },
    /// Any event this SDK version does not know, as its JSON object.
    Other {
        /// The `event` field.
        event: String,
        /// The whole decrypted object.
        payload: Value,
    },
}

/// Why a body was not accepted as an event (answer anything but
/// [`SUCCESS`]; the platform retries).
///
/// ```
/// use smartship_client::events::{EventReceiver, ReceiveError};
/// let r = EventReceiver::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "t", "cid").unwrap();
/// let err = r.receive(b"success").unwrap_err();
/// assert!(matches!(err, ReceiveError::NotAnEnvelope(_)));
/// assert!(err.to_string().starts_with("body is not an encrypted event envelope"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Not the `{Nonce, TimeStamp, Encrypt, MsgSignature}` JSON envelope.
    #[error("body is not an encrypted event envelope: {0}")]
    NotAnEnvelope(String),
    /// Signature mismatch, wrong key, wrong client_id, bad padding.
    #[error("envelope rejected: {0}")]
    Crypto(#[from] CryptoError),
    /// Decrypted, but not an event object.
    #[error("decrypted payload is not a valid event: {0}")]
    BadPayload(String),
}

/// Verifies and decrypts events for one third-party platform.
///
/// ```
/// use smartship_client::events::EventReceiver;
/// // One receiver per platform; it is cheap to clone into request handlers.
/// let receiver = EventReceiver::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "t", "cid").unwrap();
/// let for_handler = receiver.clone();
/// assert!(for_handler.receive(b"{}").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct EventReceiver {
    crypto: MsgCrypto,
}

impl EventReceiver {
    /// The platform's EncodingAESKey, message token and client_id.
    ///
    /// ```
    /// use smartship_client::events::EventReceiver;
    /// let r = EventReceiver::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "token", "cid");
    /// assert!(r.is_ok());
    /// assert!(EventReceiver::new("too-short", "token", "cid").is_err());
    /// ```
    pub fn new(
        encoding_aes_key: &str,
        msg_token: &str,
        client_id: &str,
    ) -> Result<EventReceiver, ReceiveError> {
        Ok(EventReceiver {
            crypto: MsgCrypto::new(encoding_aes_key, msg_token, client_id)?,
        })
    }

    /// Verifies, decrypts and parses a request body (see the module example;
    /// `docs/events.md` shows it inside an axum handler).
    ///
    /// ```
    /// use smartship_api::crypto::MsgCrypto;
    /// use smartship_client::events::{EventReceiver, PushEvent};
    /// let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    /// let receiver = EventReceiver::new(key, "msgtoken", "cid").unwrap();
    /// let json = br#"{"event":"UNAUTHORIZED","appId":42}"#;
    /// let envelope = MsgCrypto::new(key, "msgtoken", "cid").unwrap().seal(json, "1700000000", "nonce", [0; 16]);
    /// let body = serde_json::to_vec(&envelope).unwrap();
    /// assert_eq!(receiver.receive(&body).unwrap(), PushEvent::Unauthorized { app_id: 42 });
    /// ```
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
            "TICKET" => PushEvent::Ticket {
                ticket: str_field(&value, "Ticket")?,
                create_time: value["CreateTime"].as_i64().unwrap_or(0),
            },
            "AUTHORIZED" => PushEvent::Authorized {
                app_id: app_id(&value)?,
                scopes: value["scopes"].as_str().unwrap_or("").to_owned(),
            },
            "UPDATE_AUTHORIZED" => PushEvent::UpdateAuthorized {
                app_id: app_id(&value)?,
                scopes: value["scopes"].as_str().unwrap_or("").to_owned(),
            },
            "UNAUTHORIZED" => PushEvent::Unauthorized {
                app_id: app_id(&value)?,
            },
            "PACKAGE_BUILD_SUCCESS"
            | "PACKAGE_BUILD_FAIL"
            | "PACKAGE_RELEASE"
            | "PACKAGE_GRAY_RELEASE"
            | "PACKAGE_ROLLBACK" => PushEvent::Release {
                package: audit()?,
                gray_percentage: value["grayPercentage"].as_i64(),
                gray_status: value["grayStatus"].as_str().map(str::to_owned),
                event,
            },
            _ => PushEvent::Other {
                event,
                payload: value,
            },
        })
    }
}

fn str_field(v: &Value, key: &str) -> Result<String, ReceiveError> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ReceiveError::BadPayload(format!("no {key} field")))
}

fn app_id(v: &Value) -> Result<i64, ReceiveError> {
    v["appId"]
        .as_i64()
        .ok_or_else(|| ReceiveError::BadPayload("no appId field".to_owned()))
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
        let body = sealed(r#"{"event":"TICKET","Ticket":"t","CreateTime":5}"#, "token");
        assert_eq!(
            r.receive(&body).unwrap(),
            PushEvent::Ticket {
                ticket: "t".to_owned(),
                create_time: 5
            }
        );
        let body = sealed(r#"{"event":"UNAUTHORIZED","appId":9}"#, "token");
        assert_eq!(
            r.receive(&body).unwrap(),
            PushEvent::Unauthorized { app_id: 9 }
        );
        let body = sealed(r#"{"event":"AUTHORIZED"}"#, "token");
        assert!(matches!(r.receive(&body), Err(ReceiveError::BadPayload(_))));
        let body = sealed(r#"{"event":"SOMETHING_NEW","x":1}"#, "token");
        assert!(matches!(r.receive(&body).unwrap(), PushEvent::Other { .. }));
    }
}
