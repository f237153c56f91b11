//! The message encryption of pushed events (SPEC §5, the public "消息加解密"
//! scheme), implemented once: the server seals, the SDK opens.
//!
//! - key = base64-decode(EncodingAESKey + "="), 32 bytes; IV = its first 16;
//! - plaintext = 16 random bytes ‖ 4-byte big-endian length ‖ message ‖ client_id;
//! - PKCS#7 padding to **32-byte** blocks, AES-256-CBC without further padding,
//!   Base64 of the ciphertext = `Encrypt`;
//! - `MsgSignature` = hex SHA-1 of the byte-wise sorted concatenation of the
//!   message token, `TimeStamp`, `Nonce` and `Encrypt`.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use sha2::Sha256;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// A 43-character EncodingAESKey often has non-zero trailing bits; the
/// public platform's own decoders ignore them, and so must we.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Padding block size of the scheme (not the AES block size).
const PAD_BLOCK: usize = 32;

/// The encrypted body POSTed to a receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Nonce")]
    pub nonce: String,
    #[serde(rename = "TimeStamp")]
    pub timestamp: String,
    #[serde(rename = "Encrypt")]
    pub encrypt: String,
    #[serde(rename = "MsgSignature")]
    pub msg_signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("EncodingAESKey must be 43 base64 characters decoding to 32 bytes")]
    BadKey,
    #[error("signature mismatch")]
    BadSignature,
    #[error("Encrypt is not valid base64")]
    BadBase64,
    #[error("ciphertext length is not a multiple of the AES block size")]
    BadLength,
    #[error("padding is invalid (wrong key or tampered ciphertext)")]
    BadPadding,
    #[error("message length field is out of bounds")]
    BadMessageLength,
    #[error("message was encrypted for client_id {0:?}")]
    WrongClientId(String),
}

/// Seals and opens messages for one third-party platform.
#[derive(Clone)]
pub struct MsgCrypto {
    key: [u8; 32],
    token: String,
    client_id: String,
}

impl std::fmt::Debug for MsgCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgCrypto")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl MsgCrypto {
    /// `encoding_aes_key` is the TP's 43-character key, `token` its message
    /// token, `client_id` its key on the platform.
    pub fn new(encoding_aes_key: &str, token: &str, client_id: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != 43 {
            return Err(CryptoError::BadKey);
        }
        let raw = LENIENT_B64
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = raw.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(MsgCrypto {
            key,
            token: token.to_owned(),
            client_id: client_id.to_owned(),
        })
    }

    /// The `Encrypt` field for `message`, with the given 16 random bytes.
    pub fn encrypt(&self, message: &[u8], random: [u8; 16]) -> String {
        let mut buf = Vec::with_capacity(16 + 4 + message.len() + self.client_id.len() + PAD_BLOCK);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&(message.len() as u32).to_be_bytes());
        buf.extend_from_slice(message);
        buf.extend_from_slice(self.client_id.as_bytes());
        let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
        buf.extend(std::iter::repeat_n(pad as u8, pad));
        let len = buf.len();
        let iv: [u8; 16] = self.key[..16].try_into().expect("16 bytes");
        Encryptor::new(&self.key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .expect("the buffer is a whole number of blocks");
        base64::engine::general_purpose::STANDARD.encode(&buf)
    }

    /// Decrypts an `Encrypt` field, checking padding, length and client_id.
    pub fn decrypt(&self, encrypt: &str) -> Result<Vec<u8>, CryptoError> {
        let mut buf = base64::engine::general_purpose::STANDARD
            .decode(encrypt.trim())
            .map_err(|_| CryptoError::BadBase64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(CryptoError::BadLength);
        }
        let iv: [u8; 16] = self.key[..16].try_into().expect("16 bytes");
        let plain = Decryptor::new(&self.key.into(), &iv.into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::BadLength)?;
        let pad = *plain.last().ok_or(CryptoError::BadPadding)? as usize;
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptoError::BadPadding);
        }
        if !plain[plain.len() - pad..]
            .iter()
            .all(|&b| b as usize == pad)
        {
            return Err(CryptoError::BadPadding);
        }
        let body = &plain[..plain.len() - pad];
        if body.len() < 20 {
            return Err(CryptoError::BadMessageLength);
        }
        let len = u32::from_be_bytes(body[16..20].try_into().expect("4 bytes")) as usize;
        if len > body.len() - 20 {
            return Err(CryptoError::BadMessageLength);
        }
        let message = &body[20..20 + len];
        let client = &body[20 + len..];
        if client != self.client_id.as_bytes() {
            return Err(CryptoError::WrongClientId(
                String::from_utf8_lossy(client).into_owned(),
            ));
        }
        Ok(message.to_vec())
    }

    /// `MsgSignature` for these fields.
    pub fn sign(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut h = Sha1::new();
        for p in parts {
            h.update(p.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Encrypts and signs `message` into an envelope.
    pub fn seal(&self, message: &[u8], timestamp: &str, nonce: &str, random: [u8; 16]) -> Envelope {
        let encrypt = self.encrypt(message, random);
        Envelope {
            msg_signature: self.sign(timestamp, nonce, &encrypt),
            nonce: nonce.to_owned(),
            timestamp: timestamp.to_owned(),
            encrypt,
        }
    }

    /// Verifies the signature (in constant time) and decrypts.
    pub fn open(&self, env: &Envelope) -> Result<Vec<u8>, CryptoError> {
        let expected = self.sign(&env.timestamp, &env.nonce, &env.encrypt);
        if !constant_time_eq(
            expected.as_bytes(),
            env.msg_signature.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(CryptoError::BadSignature);
        }
        self.decrypt(&env.encrypt)
    }
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard Webhooks signature (`webhook-signature` header): `v1,` + base64
/// HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's bytes (the
/// part after `whsec_`, base64-decoded).
pub fn standard_webhook_signature(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, CryptoError> {
    let raw = secret.strip_prefix("whsec_").ok_or(CryptoError::BadKey)?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|_| CryptoError::BadKey)?;
    // Standard Webhooks secrets are 24 to 64 random bytes.
    if key.len() < 16 {
        return Err(CryptoError::BadKey);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| CryptoError::BadKey)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vector, produced independently with Python's
    /// `cryptography` package (see tests/crypto_interop.rs for the script).
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const TOKEN: &str = "msgtoken";
    const CLIENT: &str = "clientid42";
    const RANDOM: [u8; 16] = *b"0123456789abcdef";
    const MESSAGE: &str = r#"{"appId":1452365,"event":"PACKAGE_AUDIT_PASS"}"#;

    /// `python3 tests/python/msgcrypto.py encrypt KEY CLIENT RANDOM_HEX MESSAGE`
    const EXPECTED_ENCRYPT: &str = "Q3stYC6hdFzMh9T8HCvyDPBdd3J3j1Qbtlzv74Wu8TuaxpoSMjCRqHPSL2nExs2fiC0cstMIU0A/bsJtabEFwAhCkSRQK/sVDhH+mOnPQtiA1qoqSQ/O9KYNCycIdFub";

    fn crypto() -> MsgCrypto {
        MsgCrypto::new(KEY, TOKEN, CLIENT).unwrap()
    }

    #[test]
    fn known_answer() {
        let c = crypto();
        assert_eq!(c.encrypt(MESSAGE.as_bytes(), RANDOM), EXPECTED_ENCRYPT);
        assert_eq!(c.decrypt(EXPECTED_ENCRYPT).unwrap(), MESSAGE.as_bytes());
        assert_eq!(
            c.sign("1700000000", "nonce1", "X"),
            "6058c15eb695faa5d384f3673242cd7eb75e8654"
        );
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let c = crypto();
        let env = c.seal(MESSAGE.as_bytes(), "1700000000", "nonce1", RANDOM);
        assert_eq!(c.open(&env).unwrap(), MESSAGE.as_bytes());
        // 32-byte padding: ciphertext is a whole number of 32-byte blocks.
        let ct = base64::engine::general_purpose::STANDARD
            .decode(&env.encrypt)
            .unwrap();
        assert_eq!(ct.len() % 32, 0);

        let mut bad = env.clone();
        bad.msg_signature = "0".repeat(40);
        assert_eq!(c.open(&bad), Err(CryptoError::BadSignature));

        // A changed ciphertext no longer matches its signature.
        let mut tampered = env.clone();
        let mut bytes = ct.clone();
        bytes[5] ^= 1;
        tampered.encrypt = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(c.open(&tampered), Err(CryptoError::BadSignature));
        // Even re-signed (by someone holding the token), a damaged last
        // block fails the padding check instead of yielding garbage.
        let mut bytes = ct.clone();
        let n = bytes.len();
        bytes[n - 17] ^= 0x80;
        tampered.encrypt = base64::engine::general_purpose::STANDARD.encode(&bytes);
        tampered.msg_signature = c.sign(&tampered.timestamp, &tampered.nonce, &tampered.encrypt);
        assert_eq!(c.open(&tampered), Err(CryptoError::BadPadding));

        let other = MsgCrypto::new(KEY, TOKEN, "someone-else").unwrap();
        assert!(matches!(
            other.decrypt(&env.encrypt),
            Err(CryptoError::WrongClientId(_))
        ));
    }

    #[test]
    fn keys_with_trailing_bits_are_accepted_and_bad_keys_refused() {
        // 'G' as the 43rd character leaves non-zero trailing bits.
        assert!(MsgCrypto::new(KEY, TOKEN, CLIENT).is_ok());
        assert_eq!(
            MsgCrypto::new("short", TOKEN, CLIENT).unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(
            MsgCrypto::new(&"*".repeat(43), TOKEN, CLIENT).unwrap_err(),
            CryptoError::BadKey
        );
    }

    #[test]
    fn length_field_is_bounds_checked() {
        let c = crypto();
        // A valid-looking plaintext whose length field claims more than present.
        let mut buf = Vec::new();
        buf.extend_from_slice(&RANDOM);
        buf.extend_from_slice(&1000u32.to_be_bytes());
        buf.extend_from_slice(b"short");
        let pad = 32 - buf.len() % 32;
        buf.extend(std::iter::repeat_n(pad as u8, pad));
        let len = buf.len();
        let iv: [u8; 16] = c.key[..16].try_into().unwrap();
        Encryptor::new(&c.key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .unwrap();
        let enc = base64::engine::general_purpose::STANDARD.encode(&buf);
        assert_eq!(c.decrypt(&enc), Err(CryptoError::BadMessageLength));
    }

    #[test]
    fn signature_sorts_bytewise() {
        let c = crypto();
        // sorted: "1700000000" < "Encrypted" < "msgtoken" < "nonce"
        let mut h = Sha1::new();
        h.update(b"1700000000Encryptedmsgtokennonce");
        assert_eq!(
            c.sign("1700000000", "nonce", "Encrypted"),
            hex::encode(h.finalize())
        );
    }

    #[test]
    fn standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let sig = standard_webhook_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
