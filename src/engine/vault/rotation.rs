//! Changing the passphrase: a new vault key and a new age identity, every entry re-sealed under them, written as a journal of batches so that a change stopped after any batch still opens with the old or the new passphrase.
//!
//! # The rotation record
//!
//! The first batch writes [`ROTATION_KEY`]:
//!
//! ```json
//! { "format": "keywarden-rotation", "version": 1,
//!   "from": "age1… (the recipient of the header being replaced)",
//!   "header": { …the complete new header, version 2 with its checksum, wrapped under the new passphrase… },
//!   "next_key":     { "alg": "xchacha20poly1305", "nonce": "<24 bytes>", "ciphertext": "<48 bytes>" },
//!   "previous_key": { "alg": "xchacha20poly1305", "nonce": "<24 bytes>", "ciphertext": "<48 bytes>" } }
//! ```
//!
//! `next_key` is the new vault key sealed under a subkey of the old one (purpose
//! `keywarden-vault/1/rotation-next-key`), `previous_key` the old vault key sealed under a subkey
//! of the new one (`keywarden-vault/1/rotation-previous-key`); both have
//! `"keywarden-vault/1/rotation" ‖ 0 ‖ from ‖ 0 ‖ new recipient` as associated data. So the old
//! passphrase reaches the new keys, and the new passphrase reaches the old ones.
//!
//! # The batches
//!
//! 1. the record (and the throttle cleared);
//! 2. entries re-sealed, [`RESEAL_BATCH_ENTRIES`] at a time: decrypted with the old identity,
//!    encrypted to the new recipient, and given the MAC (authenticated entries) or capture tag
//!    (captures awaiting adoption) under the new keys; items of neither kind are re-encrypted
//!    without either, so they still need the admin's confirmation afterwards;
//! 3. both header copies replaced by the record's header, the index under the new key, and the
//!    record removed — one atomic batch, after which only the new passphrase opens the vault.
//!
//! Each batch is atomic; the sequence may stop after any of them. Until the last one, an unlock
//! with either passphrase (or a resume with either session key) yields a vault holding both
//! generations of keys, which opens every item whichever generation it is under and writes
//! under the new one, and [`UnlockedVault::finish_rotation`] returns what is left: the entries
//! still under the old keys, then the last batch. There is no way back: a pending change is
//! always finished, whichever passphrase was typed.
//!
//! A record the vault key does not authenticate (planted, or damaged) is ignored: it opens
//! nothing, and captures sealed while locked are sealed to its recipient only when the private
//! store's capture key names it (see [`seal_locked`](crate::engine::vault::seal_locked)).

use crate::engine::vault::capture::PrivateChanges;
use crate::engine::vault::crypto::{self, NONCE_LEN};
use crate::engine::vault::entry::{index_changes, IndexLoad};
use crate::engine::vault::header::{
    header_changes, new_header, Header, HeaderProblem, KeySet, SealedJson, UnlockedVault, WrapFailed,
    MIN_PASSPHRASE_CHARS,
};
use crate::engine::vault::kdf::KdfParams;
use crate::engine::vault::secrets::{Passphrase, VaultKey};
use crate::engine::vault::store::{Changeset, MemoryStore, Store};
use crate::engine::vault::throttle::THROTTLE_KEY;
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Storage key of the rotation record, present only while a passphrase change is being written.
pub const ROTATION_KEY: &str = "vault:rotation";
/// The record's `format`.
pub const ROTATION_FORMAT: &str = "keywarden-rotation";
const ROTATION_VERSION: u32 = 1;
/// How many entries one re-sealing batch rewrites.
pub const RESEAL_BATCH_ENTRIES: usize = 8;

const NEXT_INFO: &[u8] = b"keywarden-vault/1/rotation-next-key";
const PREVIOUS_INFO: &[u8] = b"keywarden-vault/1/rotation-previous-key";
const ROTATION_AAD: &[u8] = b"keywarden-vault/1/rotation";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordJson {
    format: String,
    version: u32,
    from: String,
    header: Value,
    next_key: SealedJson,
    previous_key: SealedJson,
}

fn aad(from: &str, to: &str) -> Vec<u8> {
    let mut aad = ROTATION_AAD.to_vec();
    aad.push(0);
    aad.extend_from_slice(from.as_bytes());
    aad.push(0);
    aad.extend_from_slice(to.as_bytes());
    aad
}

/// A parsed rotation record whose `from` names the stored header (nothing decrypted yet).
pub(crate) struct Record {
    header: Header,
    header_value: Value,
    aad: Vec<u8>,
    next: ([u8; NONCE_LEN], Vec<u8>),
    previous: ([u8; NONCE_LEN], Vec<u8>),
}

impl Record {
    /// The record in `store`, when there is one that parses and continues from `header`.
    pub(crate) fn load_for(store: &impl Store, header: &Header) -> Option<Record> {
        let json: RecordJson = serde_json::from_value(store.get(ROTATION_KEY)?).ok()?;
        if json.format != ROTATION_FORMAT || json.version != ROTATION_VERSION || json.from != header.recipient_text() {
            return None;
        }
        let new = Header::parse(json.header.clone()).ok()?;
        let next = json.next_key.parse("next key").ok()?;
        let previous = json.previous_key.parse("previous key").ok()?;
        let aad = aad(&json.from, new.recipient_text());
        Some(Record { header: new, header_value: json.header, aad, next, previous })
    }

    /// The header the change leads to.
    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// The new vault key, given the old one.
    pub(crate) fn open_next(&self, old: &VaultKey) -> Option<VaultKey> {
        let k = crypto::subkey(old.bytes(), NEXT_INFO);
        VaultKey::from_slice(&crypto::open(&k, &self.next.0, &self.aad, &self.next.1)?)
    }

    /// The old vault key, given the new one.
    pub(crate) fn open_previous(&self, new: &VaultKey) -> Option<VaultKey> {
        let k = crypto::subkey(new.bytes(), PREVIOUS_INFO);
        VaultKey::from_slice(&crypto::open(&k, &self.previous.0, &self.aad, &self.previous.1)?)
    }
}

/// A passphrase change, ready to write.
#[derive(Debug)]
pub struct Rotation {
    /// Writes for `storage.local`, to apply in order, each on its own (see the module docs).
    pub batches: Vec<Changeset>,
    /// The new capture key for the private store: write it once `batches[0]` is written.
    pub private: PrivateChanges,
    /// The vault under its new keys, also holding the old ones (so it opens storage at any point
    /// of the batches; they go when it is dropped, at lock).
    /// Its [`UnlockedVault::session_key`] replaces the one kept for the session.
    pub vault: UnlockedVault,
}

/// The batches after the record: entries still under the previous keys, then the swap.
fn completion(vault: &UnlockedVault, store: &impl Store, header: &Value) -> Vec<Changeset> {
    let rewrites = vault.rotation_rewrites(store);
    let mut batches: Vec<Changeset> = rewrites
        .chunks(RESEAL_BATCH_ENTRIES)
        .map(|chunk| {
            let mut c = Changeset::default();
            for (key, value) in chunk {
                c.put(key, value.clone());
            }
            c
        })
        .collect();
    let mut last = header_changes(header);
    if let IndexLoad::Ok { ids } = vault.index_load(store) {
        last.merge(index_changes(vault, &ids.into_iter().collect::<Vec<_>>()));
    }
    last.delete(ROTATION_KEY);
    batches.push(last);
    batches
}

impl UnlockedVault {
    /// Changes the passphrase: a new random vault key and a new age identity (so a new public
    /// recipient), the new header wrapped under `new` with a fresh salt and `params`, and every
    /// entry re-sealed under the new keys. The glue asks for the old passphrase and checks it
    /// with [`unlock`](crate::engine::vault::unlock) first. Afterwards a copy of storage taken
    /// before the change, even with the old passphrase, opens nothing sealed since.
    pub fn change_passphrase(
        &self,
        store: &impl Store,
        new: &Passphrase,
        params: KdfParams,
    ) -> Result<Rotation, ChangePassphraseError> {
        if new.char_count() < MIN_PASSPHRASE_CHARS {
            return Err(ChangePassphraseError::PassphraseTooShort { min: MIN_PASSPHRASE_CHARS });
        }
        let header = Header::load(store).map_err(ChangePassphraseError::Header)?;
        if Record::load_for(store, &header).is_some() {
            return Err(ChangePassphraseError::RotationPending);
        }
        let old = self.current();
        if header.recipient_text() != old.recipient_text() {
            return Err(ChangePassphraseError::NotThisVault);
        }
        let next = KeySet::generate().map_err(|_| ChangePassphraseError::Random)?;
        let new_header = new_header(new, params, &next, header.created_at()).map_err(|e| match e {
            WrapFailed::Random => ChangePassphraseError::Random,
            WrapFailed::Kdf => ChangePassphraseError::Kdf,
        })?;
        let aad = aad(old.recipient_text(), next.recipient_text());
        let seal = |wrapping: &VaultKey, info: &[u8], wrapped: &VaultKey| {
            let k = crypto::subkey(wrapping.bytes(), info);
            crypto::seal(&k, &aad, wrapped.bytes()).map(|(n, ct)| SealedJson::new(&n, &ct))
        };
        let next_key = seal(old.key(), NEXT_INFO, next.key()).map_err(|_| ChangePassphraseError::Random)?;
        let previous_key = seal(next.key(), PREVIOUS_INFO, old.key()).map_err(|_| ChangePassphraseError::Random)?;
        let record = RecordJson {
            format: ROTATION_FORMAT.into(),
            version: ROTATION_VERSION,
            from: old.recipient_text().into(),
            header: new_header.clone(),
            next_key,
            previous_key,
        };
        let mut first = Changeset::default();
        first.put(ROTATION_KEY, serde_json::to_value(&record).expect("plain JSON"));
        first.delete(THROTTLE_KEY);
        let vault = UnlockedVault::from_keys(next, Some(old.duplicate()));
        let mut batches = vec![first];
        batches.extend(completion(&vault, store, &new_header));
        let private = vault.restore_capture_key(&MemoryStore::new());
        Ok(Rotation { batches, private, vault })
    }

    /// The writes that finish a passphrase change left half-written, in order (each batch on
    /// its own); empty when none is pending. [`unlock`](crate::engine::vault::unlock) returns them
    /// as [`UnlockAttempt::pending`](crate::engine::vault::UnlockAttempt::pending); after
    /// [`resume`](crate::engine::vault::resume) the glue asks here.
    pub fn finish_rotation(&self, store: &impl Store) -> Vec<Changeset> {
        let Some(previous) = self.previous() else { return Vec::new() };
        let Ok(header) = Header::load(store) else { return Vec::new() };
        if header.recipient_text() != previous.recipient_text() {
            return Vec::new();
        }
        match Record::load_for(store, &header) {
            Some(rec) if rec.header().recipient_text() == self.current().recipient_text() => {
                completion(self, store, &rec.header_value)
            }
            _ => Vec::new(),
        }
    }
}

/// Why changing the passphrase failed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangePassphraseError {
    PassphraseTooShort {
        min: usize,
    },
    Header(HeaderProblem),
    /// The stored header belongs to another vault than the unlocked one.
    NotThisVault,
    /// An earlier change is not fully written yet: finish it first.
    RotationPending,
    Random,
    Kdf,
}

impl fmt::Display for ChangePassphraseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangePassphraseError::PassphraseTooShort { min } => {
                write!(f, "the new passphrase needs at least {min} characters")
            }
            ChangePassphraseError::Header(p) => write!(f, "cannot change the passphrase: {p}"),
            ChangePassphraseError::NotThisVault => {
                f.write_str("the stored vault is not the one that is unlocked: lock and unlock again")
            }
            ChangePassphraseError::RotationPending => {
                f.write_str("an earlier passphrase change is not finished yet: unlock again to finish it first")
            }
            ChangePassphraseError::Random => f.write_str("the system's random number generator failed"),
            ChangePassphraseError::Kdf => {
                f.write_str("the passphrase could not be processed (Argon2 failed; not enough memory?)")
            }
        }
    }
}

impl ChangePassphraseError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            ChangePassphraseError::PassphraseTooShort { min } => words!("errNewPassphraseShort", *min),
            ChangePassphraseError::Header(p) => words!("errChangeHeader", p.words()),
            ChangePassphraseError::NotThisVault => words!("errNotThisVault"),
            ChangePassphraseError::RotationPending => words!("errRotationPending"),
            ChangePassphraseError::Random => words!("errRandomFailed"),
            ChangePassphraseError::Kdf => words!("errKdfFailed"),
        }
    }
}

impl std::error::Error for ChangePassphraseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChangePassphraseError::Header(p) => Some(p),
            _ => None,
        }
    }
}
