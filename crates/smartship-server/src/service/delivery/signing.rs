//! The Ed25519 keys that sign update answers.
//!
//! The keys live in the database, so every node signs with the same key
//! and publishes the same list. The newest key that is not retired signs.
//! A rotation adds a key and retires the others at `now + overlap`: until
//! then they stay published, so a host holding an answer the old key
//! signed still verifies it, and nodes that have not yet re-read the list
//! (at most [`REFRESH`] later) sign with a key that is still published.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};
use smartship_store::{SigningKeyRecord, Store};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a node uses the list it read before reading it again.
pub const REFRESH: Duration = Duration::from_secs(5);
/// The id of the first key of an installation (see `add_signing_key`).
const FIRST_KEY_ID: &str = "k1";

/// The signer and the published keys, as last read.
#[derive(Clone)]
pub struct KeySet {
    pub signer: SigningKey,
    pub signer_id: String,
    pub keys: Vec<SigningKeyRecord>,
}

#[derive(Default)]
pub struct SigningKeys {
    cached: Mutex<Option<(Instant, KeySet)>>,
}

/// A new key: a random 32-byte seed.
pub fn generate(key_id: String, now: i64) -> SigningKeyRecord {
    let seed: [u8; 32] = rand::random();
    let key = SigningKey::from_bytes(&seed);
    SigningKeyRecord {
        key_id,
        secret: B64.encode(seed),
        public_key: B64.encode(key.verifying_key().as_bytes()),
        created_at: now,
        retired_at: None,
    }
}

fn decode(rec: &SigningKeyRecord) -> anyhow::Result<SigningKey> {
    let seed: [u8; 32] = B64
        .decode(&rec.secret)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("signing key {} is not 32 bytes", rec.key_id))?;
    Ok(SigningKey::from_bytes(&seed))
}

impl SigningKeys {
    /// The current key set, read again after [`REFRESH`]. An installation
    /// without a key gets its first one here.
    pub async fn current(&self, store: &dyn Store) -> anyhow::Result<KeySet> {
        if let Some((at, set)) = &*self.cached.lock().expect("key cache lock")
            && at.elapsed() < REFRESH
        {
            return Ok(set.clone());
        }
        let set = load(store).await?;
        *self.cached.lock().expect("key cache lock") = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    /// Forgets the cached set (after a rotation on this node).
    pub fn forget(&self) {
        *self.cached.lock().expect("key cache lock") = None;
    }
}

async fn load(store: &dyn Store) -> anyhow::Result<KeySet> {
    let mut keys = store.signing_keys().await?;
    if !keys.iter().any(|k| k.retired_at.is_none()) {
        let now = crate::clock::now_ms();
        // A second node adding the first key at once loses the insert and
        // reads the winner's.
        store
            .add_signing_key(generate(FIRST_KEY_ID.to_owned(), now), None)
            .await?;
        keys = store.signing_keys().await?;
    }
    let signer_rec = keys
        .iter()
        .find(|k| k.retired_at.is_none())
        .ok_or_else(|| anyhow::anyhow!("no signing key"))?;
    Ok(KeySet {
        signer: decode(signer_rec)?,
        signer_id: signer_rec.key_id.clone(),
        keys,
    })
}

/// Adds a new signing key; the others are published until `now + overlap`.
pub async fn rotate(store: &dyn Store, overlap_ms: i64) -> anyhow::Result<SigningKeyRecord> {
    let now = crate::clock::now_ms();
    let id = format!("k{}", hex::encode(rand::random::<[u8; 6]>()));
    let rec = generate(id, now);
    store
        .add_signing_key(rec.clone(), Some(now + overlap_ms))
        .await?;
    Ok(rec)
}

impl KeySet {
    /// Base64 of the signature of `message`.
    pub fn sign(&self, message: &str) -> String {
        B64.encode(self.signer.sign(message.as_bytes()).to_bytes())
    }

    /// The keys a host should trust at `now`: the signer and the retired
    /// keys whose overlap has not ended.
    pub fn published(&self, now: i64) -> impl Iterator<Item = &SigningKeyRecord> {
        self.keys
            .iter()
            .filter(move |k| k.retired_at.is_none_or(|at| at > now))
    }
}
