//! Entries: one storage item per captured key, sealed to the vault's age recipient (even while locked, then tagged with the capture key), authenticated with the vault key once unlocked, and opened one by one so damage stays contained.
//!
//! An item `entry:<id>` holds only
//!
//! ```json
//! { "format": "keywarden-entry", "version": 1, "id": "<id>",
//!   "age": "<age ciphertext, base64>", "mac": "<HMAC-SHA256, base64>" }
//! ```
//!
//! `mac` is absent until the vault has authenticated the item. A capture sealed while locked
//! carries `"capture": "<HMAC-SHA256, base64>"` instead, its capture tag, when the private store
//! held the capture key (see [`capture`]). The ciphertext is a binary age file to
//! the vault's X25519 recipient; its plaintext repeats format, version and id and adds the secret
//! and the metadata:
//!
//! ```json
//! { "format": "keywarden-entry", "version": 1, "id": "<id>", "secret": "<the key>",
//!   "meta": { "vendor": …, "tenant": …, "account": …, "key_name": …, "scopes": […],
//!             "created_at": …, "page_url": …, "notes": …, "state": "active" } }
//! ```
//!
//! The MAC is HMAC-SHA256 under a subkey of the vault key over the length-prefixed parts
//! `"keywarden-entry/mac"`, version (4 bytes, big-endian), id and ciphertext; the capture tag is
//! HMAC-SHA256 under the capture key over the same parts with the label
//! `"keywarden-entry/capture-tag"`. Opening checks, in order: shape, version, that the storage
//! key names the item's id, the MAC (or its absence, against the index), the capture tag,
//! decryption, and that the id and version inside match the ones outside; any failure marks that
//! one item damaged with its reason. What the MAC and tag say is the entry's [`Trust`].
//!
//! The index item [`INDEX_KEY`] lists, under a MAC, the ids the vault has authenticated, so an
//! attacker cannot strip an entry's MAC and swap in their own ciphertext (or replay the item as
//! it was before adoption) to pass it off as a capture awaiting adoption. A missing or damaged
//! index is an alarm ([`IndexState`]): while it lasts nothing is adopted without the admin, and
//! writes leave it as it is until [`UnlockedVault::rebuild_index`].

use crate::engine::secret::SecretString;
use crate::engine::vault::agefile::{self, AgeFailure};
use crate::engine::vault::capture;
use crate::engine::vault::crypto::{self, b64, unb64, RandomFailed};
use crate::engine::vault::header::{Header, HeaderProblem, UnlockedVault};
use crate::engine::vault::rotation::Record;
use crate::engine::vault::secrets::hint;
use crate::engine::vault::secrets::json_zeroizing;
use crate::engine::vault::store::{Changeset, Store};
use crate::engine::vault::summaries::{self, Cached, ChunkProblem, ListedEntry};
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use zeroize::Zeroizing;

/// Prefix of entry storage keys: `entry:<id>`.
pub const ENTRY_PREFIX: &str = "entry:";
/// The `format` of an entry item and of its payload.
pub const ENTRY_FORMAT: &str = "keywarden-entry";
/// Entry format version this code writes and reads.
pub const ENTRY_VERSION: u32 = 1;
/// Storage key of the authenticated id index.
pub const INDEX_KEY: &str = "vault:index";
/// The `format` of the index item.
pub const INDEX_FORMAT: &str = "keywarden-index";
const INDEX_VERSION: u32 = 1;
const ENTRY_MAC_LABEL: &[u8] = b"keywarden-entry/mac";
const CAPTURE_TAG_LABEL: &[u8] = b"keywarden-entry/capture-tag";
const INDEX_MAC_LABEL: &[u8] = b"keywarden-index/mac";
/// Largest decrypted payload accepted.
const MAX_PAYLOAD: usize = 64 * 1024;

/// Limits on what one entry may hold, so one item stays small.
pub const MAX_SECRET_BYTES: usize = 4096;
pub const MAX_FIELD_BYTES: usize = 512;
pub const MAX_URL_BYTES: usize = 4096;
pub const MAX_NOTES_BYTES: usize = 8192;
pub const MAX_SCOPES: usize = 128;

/// A random entry id: 16 bytes in unpadded base64url (22 characters).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(String);

impl EntryId {
    pub fn random() -> Result<Self, RandomFailed> {
        use base64::Engine;
        Ok(EntryId(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crypto::random::<16>()?)))
    }

    /// Accepts exactly the form [`EntryId::random`] makes.
    pub fn parse(s: &str) -> Option<Self> {
        use base64::Engine;
        let ok = s.len() == 22
            && base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 16)
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| EntryId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The storage key of this entry: `entry:<id>`.
    pub fn item_key(&self) -> String {
        format!("{ENTRY_PREFIX}{}", self.0)
    }

    /// The id named by a storage key, if it is a well-formed entry key.
    pub fn from_item_key(key: &str) -> Option<Self> {
        key.strip_prefix(ENTRY_PREFIX).and_then(EntryId::parse)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EntryId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EntryId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EntryId::parse(&s).ok_or_else(|| serde::de::Error::custom("not an entry id"))
    }
}

/// Where a key stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// In use.
    Active,
    /// A newer key for the same vendor, tenant and account was saved.
    Replaced,
    /// The admin revoked it at the vendor.
    Revoked,
}

/// What is known about a captured key. All of it lives inside the ciphertext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryMeta {
    /// The recipe's vendor id (`predicthq`).
    pub vendor: String,
    /// The tenant, organisation or host the key belongs to.
    pub tenant: String,
    /// The account (usually an email address) that created it; may be empty.
    pub account: String,
    /// The key's name as given at the vendor; may be empty.
    pub key_name: String,
    /// Scopes or API sets granted to the key.
    pub scopes: Vec<String>,
    /// Unix milliseconds of the capture, given by the caller.
    pub created_at: u64,
    /// The page the key was captured on.
    pub page_url: String,
    pub notes: String,
    pub state: EntryState,
}

impl EntryMeta {
    fn check(&self) -> Result<(), SealError> {
        let fields: [(&'static str, &str, usize); 6] = [
            ("vendor", &self.vendor, MAX_FIELD_BYTES),
            ("tenant", &self.tenant, MAX_FIELD_BYTES),
            ("account", &self.account, MAX_FIELD_BYTES),
            ("key_name", &self.key_name, MAX_FIELD_BYTES),
            ("page_url", &self.page_url, MAX_URL_BYTES),
            ("notes", &self.notes, MAX_NOTES_BYTES),
        ];
        if self.vendor.trim().is_empty() {
            return Err(SealError::Invalid { field: "vendor", problem: "is empty" });
        }
        for (field, value, max) in fields {
            if value.len() > max {
                return Err(SealError::Invalid { field, problem: "is too long" });
            }
        }
        if self.scopes.len() > MAX_SCOPES || self.scopes.iter().any(|s| s.len() > MAX_FIELD_BYTES) {
            return Err(SealError::Invalid { field: "scopes", problem: "are too many or too long" });
        }
        Ok(())
    }
}

/// Whether an opened entry is known to come from this vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Carries a valid MAC under the vault key: written while unlocked, or adopted since.
    Authenticated,
    /// Sealed while locked by keywarden here (its capture tag verifies under the capture key)
    /// and not adopted yet: the next [`UnlockedVault::adopt_unverified`] vouches for it, unless
    /// the index is missing or damaged.
    Unverified,
    /// Found in storage, not saved by keywarden here: no MAC and no valid capture tag. Anyone
    /// able to write `storage.local` could have made it (the recipient is public), or it was
    /// captured while the private store had lost the capture key. Shown, never adopted silently,
    /// never used to mark other entries replaced and never rewritten as authenticated, until the
    /// admin confirms it ([`UnlockedVault::adopt_confirmed`]).
    Foreign,
}

/// The state of the index of authenticated ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    Ok,
    /// No index item: an alarm (every vault has one from setup on).
    Missing,
    /// The index item does not parse or fails its MAC: an alarm.
    Damaged,
}

/// An opened entry. Its secret is a [`SecretString`]: redacted in Debug, never serialized.
#[derive(Debug)]
pub struct OpenEntry {
    pub id: EntryId,
    pub meta: EntryMeta,
    pub secret: SecretString,
    pub trust: Trust,
}

/// An item that did not open, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damaged {
    /// Its storage key.
    pub key: String,
    pub reason: OpenError,
}

/// Everything in the vault, as far as it opens.
#[derive(Debug)]
pub struct Listing {
    /// Entries that opened, oldest first, each with its [`Trust`].
    pub entries: Vec<OpenEntry>,
    /// Items under `entry:` that did not open, each with its reason; nothing else is affected.
    pub damaged: Vec<Damaged>,
    /// Ids the index vouches for whose items are gone.
    pub missing: Vec<EntryId>,
    /// Whether the index is there and intact. When it is not, show an alarm: an entry whose MAC
    /// was stripped cannot be told from a capture awaiting adoption, so nothing is adopted until
    /// the admin has looked and called [`UnlockedVault::rebuild_index`].
    pub index: IndexState,
}

/// Everything in the vault as the list shows it ([`UnlockedVault::summaries`]): no secrets.
#[derive(Clone, Debug)]
pub struct Summaries {
    /// Entries that open, oldest first, each with its [`Trust`] and the key's last characters.
    pub entries: Vec<ListedEntry>,
    /// Items under `entry:` that did not open, each with its reason, as [`Listing::damaged`].
    pub damaged: Vec<Damaged>,
    /// Ids the index vouches for whose items are gone.
    pub missing: Vec<EntryId>,
    /// Whether the index of authenticated ids is there and intact, as [`Listing::index`].
    pub index: IndexState,
    /// Summary chunks that did not open (damaged, older keys, newer format): set aside and
    /// rebuilt by `refresh`. Nothing in them was a source of truth, so nothing is lost.
    pub set_aside: Vec<(String, ChunkProblem)>,
    /// The writes that bring the summaries in line with the items (often empty).
    pub refresh: Changeset,
    /// How many entries had to be decrypted (their summary was missing or stale).
    pub opened: usize,
}

/// The plaintext inside an entry's age file.
#[derive(Serialize)]
struct PayloadOut<'a> {
    format: &'a str,
    version: u32,
    id: &'a str,
    secret: &'a str,
    meta: &'a EntryMeta,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadIn {
    format: String,
    version: u32,
    id: String,
    secret: SecretString,
    meta: EntryMeta,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemJson {
    format: String,
    version: u32,
    id: String,
    age: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capture: Option<String>,
}

/// [`ItemJson`] as read: borrowed from the stored value, so checking an item copies nothing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemRef<'a> {
    #[allow(dead_code)]
    format: &'a str,
    #[allow(dead_code)]
    version: u32,
    id: &'a str,
    age: &'a str,
    #[serde(default)]
    mac: Option<&'a str>,
    #[serde(default)]
    capture: Option<&'a str>,
}

fn mac_parts<'a>(label: &'a [u8], version: &'a [u8; 4], id: &'a EntryId, ciphertext: &'a [u8]) -> [&'a [u8]; 4] {
    [label, version, id.as_str().as_bytes(), ciphertext]
}

fn capture_tag(capture_key: &[u8; 32], id: &EntryId, ciphertext: &[u8]) -> [u8; crypto::MAC_LEN] {
    let version = ENTRY_VERSION.to_be_bytes();
    crypto::mac(capture_key, &mac_parts(CAPTURE_TAG_LABEL, &version, id, ciphertext))
}

/// The age ciphertext of an entry payload.
fn seal_payload(
    recipient: &age::x25519::Recipient,
    id: &EntryId,
    secret: &SecretString,
    meta: &EntryMeta,
) -> Result<Vec<u8>, SealError> {
    if secret.expose().is_empty() {
        return Err(SealError::Invalid { field: "secret", problem: "is empty" });
    }
    if secret.expose().len() > MAX_SECRET_BYTES {
        return Err(SealError::Invalid { field: "secret", problem: "is too long" });
    }
    meta.check()?;
    let payload =
        PayloadOut { format: ENTRY_FORMAT, version: ENTRY_VERSION, id: id.as_str(), secret: secret.expose(), meta };
    let plain = json_zeroizing(&payload, false);
    agefile::encrypt(recipient, &plain, false).map_err(|_| SealError::Encrypt)
}

fn item_value(id: &EntryId, ciphertext: &[u8], mac: Option<&[u8]>, capture: Option<&[u8]>) -> Value {
    serde_json::to_value(ItemJson {
        format: ENTRY_FORMAT.into(),
        version: ENTRY_VERSION,
        id: id.as_str().into(),
        age: b64(ciphertext),
        mac: mac.map(b64),
        capture: capture.map(b64),
    })
    .expect("plain JSON")
}

/// A fresh id whose key is not taken.
fn fresh_id(store: &impl Store) -> Result<EntryId, SealError> {
    for _ in 0..8 {
        let id = EntryId::random().map_err(|_| SealError::Random)?;
        if store.get(&id.item_key()).is_none() {
            return Ok(id);
        }
    }
    Err(SealError::Random)
}

/// A sealed capture: its new id and the items to write.
#[derive(Debug)]
pub struct Sealed {
    pub id: EntryId,
    pub changes: Changeset,
    /// Sealed while locked without the capture key (the private store had lost it): saved, but
    /// it lists as [`Trust::Foreign`] and needs the admin's confirmation after unlocking.
    pub needs_confirmation: bool,
}

/// Seals a capture while the vault is locked, writing one new item and touching nothing else.
///
/// `private` is the private store (the extension origin's own storage), which holds the capture
/// key and the recipient it belongs to. When storage names that recipient — the header's, or
/// the new one of a pending passphrase change — the capture is encrypted to it and tagged with
/// the capture key, and the next unlock adopts it. Otherwise (no capture key, or one for another
/// recipient) it is encrypted to the header's recipient without a tag: nothing is lost, but it
/// lists as [`Trust::Foreign`] until the admin confirms it ([`Sealed::needs_confirmation`]).
pub fn seal_locked(
    store: &impl Store,
    private: &impl Store,
    secret: &SecretString,
    meta: &EntryMeta,
) -> Result<Sealed, SealError> {
    let header = Header::load(store).map_err(SealError::Header)?;
    let record = Record::load_for(store, &header);
    let key = capture::load(private);
    let vouched = key.as_ref().and_then(|k| match &record {
        Some(rec) if rec.header().recipient_text() == k.recipient => Some((rec.header().recipient(), &*k.key)),
        _ if header.recipient_text() == k.recipient => Some((header.recipient(), &*k.key)),
        _ => None,
    });
    let id = fresh_id(store)?;
    let recipient = vouched.map_or(header.recipient(), |(r, _)| r);
    let ct = seal_payload(recipient, &id, secret, meta)?;
    let tag = vouched.map(|(_, k)| capture_tag(k, &id, &ct));
    let mut changes = Changeset::default();
    changes.put(&id.item_key(), item_value(&id, &ct, None, tag.as_ref().map(|t| t.as_slice())));
    Ok(Sealed { id, changes, needs_confirmation: tag.is_none() })
}

/// Why an item did not open. None of these carries item contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// No item under that key.
    Missing,
    /// Not an entry item of this format; names the part that is wrong.
    Malformed(&'static str),
    /// Written by a newer keywarden.
    UnknownVersion(u64),
    /// Stored under another key than its own id (renamed or swapped).
    WrongKey,
    /// The MAC does not match: the item was altered.
    BadMac,
    /// The vault had authenticated this entry but its MAC is gone: the item was replaced.
    MacRemoved,
    /// The ciphertext ends early.
    Truncated,
    /// The ciphertext does not decrypt with the vault's identity: altered, or not for this vault.
    Undecryptable,
    /// Decrypts, but the payload is not a valid entry.
    BadPayload,
    /// The payload names another id or version than its item (an item's content was swapped).
    Mismatch,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Missing => f.write_str("no such entry"),
            OpenError::Malformed(what) => write!(f, "not a valid entry item ({what})"),
            OpenError::UnknownVersion(v) => {
                write!(f, "entry format version {v} is newer than this version of keywarden knows")
            }
            OpenError::WrongKey => f.write_str("the entry is stored under another id than its own"),
            OpenError::BadMac => f.write_str("the entry was altered (its authentication tag does not match)"),
            OpenError::MacRemoved => f.write_str("the entry's authentication tag was removed (it was replaced)"),
            OpenError::Truncated => f.write_str("the entry's ciphertext is truncated"),
            OpenError::Undecryptable => f.write_str(
                "the entry does not decrypt with this vault's key (altered, cut short, or not for this vault)",
            ),
            OpenError::BadPayload => f.write_str("the entry decrypts to something that is not a keywarden entry"),
            OpenError::Mismatch => f.write_str("the entry's contents belong to another entry"),
        }
    }
}

impl OpenError {
    /// Why the entry did not open, in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            OpenError::Missing => words!("errEntryMissing"),
            OpenError::Malformed(what) => words!("errEntryMalformed", *what),
            OpenError::UnknownVersion(v) => words!("errEntryNewerVersion", *v),
            OpenError::WrongKey => words!("errEntryWrongKey"),
            OpenError::BadMac => words!("errEntryAltered"),
            OpenError::MacRemoved => words!("errEntryMacRemoved"),
            OpenError::Truncated => words!("errEntryTruncated"),
            OpenError::Undecryptable => words!("errEntryUndecryptable"),
            OpenError::BadPayload => words!("errEntryBadPayload"),
            OpenError::Mismatch => words!("errEntryMismatch"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Why a capture or an update could not be sealed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealError {
    /// The vault header is missing, newer or damaged.
    Header(HeaderProblem),
    /// A field of the entry is not acceptable.
    Invalid {
        field: &'static str,
        problem: &'static str,
    },
    /// The entry is [`Trust::Foreign`]: rewriting it would vouch for it. Confirm it first.
    Unconfirmed,
    Random,
    /// age failed to encrypt (should not happen).
    Encrypt,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Header(p) => write!(f, "cannot save the key: {p}"),
            SealError::Invalid { field, problem } => write!(f, "cannot save the key: its {field} {problem}"),
            SealError::Unconfirmed => f.write_str(
                "cannot change the entry: it was found in storage, not saved by keywarden here; confirm it first",
            ),
            SealError::Random => f.write_str("cannot save the key: the system's random number generator failed"),
            SealError::Encrypt => f.write_str("cannot save the key: encryption failed"),
        }
    }
}

impl SealError {
    /// The failure in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            SealError::Header(p) => words!("errSealHeader", p.words()),
            SealError::Invalid { field, problem } => words!("errSealInvalid", *field, *problem),
            SealError::Unconfirmed => words!("errSealUnconfirmed"),
            SealError::Random => words!("errSealRandom"),
            SealError::Encrypt => words!("errSealEncrypt"),
        }
    }
}

impl std::error::Error for SealError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SealError::Header(p) => Some(p),
            _ => None,
        }
    }
}

/// Why confirming entries failed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdoptError {
    /// That entry does not open, so there is nothing to confirm.
    NotOpen { id: EntryId, reason: OpenError },
    /// age failed to encrypt (should not happen).
    Encrypt,
}

impl fmt::Display for AdoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdoptError::NotOpen { id, reason } => write!(f, "entry {id} cannot be confirmed: {reason}"),
            AdoptError::Encrypt => f.write_str("the entry could not be confirmed: encryption failed"),
        }
    }
}

impl AdoptError {
    /// The failure in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            AdoptError::NotOpen { id, reason } => words!("errAdoptNotOpen", id.as_str(), reason.words()),
            AdoptError::Encrypt => words!("errAdoptEncrypt"),
        }
    }
}

impl std::error::Error for AdoptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdoptError::NotOpen { reason, .. } => Some(reason),
            AdoptError::Encrypt => None,
        }
    }
}

/// An item read as far as its outer layer: id, ciphertext, what its MAC or tag says.
struct Outer {
    id: EntryId,
    ciphertext: Vec<u8>,
    trust: Trust,
    /// Its MAC or capture tag is under the previous keys (a passphrase change is pending).
    previous_keys: bool,
    /// The MAC or capture tag that verified, if one did: it vouches for the id and ciphertext.
    tag: Option<Vec<u8>>,
}

/// An item opened all the way.
struct Inspected {
    outer: Outer,
    /// It decrypted with the previous identity (a passphrase change is pending).
    previous_identity: bool,
    plain: Zeroizing<Vec<u8>>,
    payload: PayloadIn,
}

impl Inspected {
    fn under_previous_keys(&self) -> bool {
        self.outer.previous_keys || self.previous_identity
    }
}

/// The index as loaded: its ids, or why not.
pub(crate) enum IndexLoad {
    Ok { ids: BTreeSet<EntryId> },
    Missing,
    Damaged,
}

impl IndexLoad {
    fn ids(&self) -> Option<&BTreeSet<EntryId>> {
        match self {
            IndexLoad::Ok { ids, .. } => Some(ids),
            _ => None,
        }
    }

    fn state(&self) -> IndexState {
        match self {
            IndexLoad::Ok { .. } => IndexState::Ok,
            IndexLoad::Missing => IndexState::Missing,
            IndexLoad::Damaged => IndexState::Damaged,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexJson {
    format: String,
    version: u32,
    ids: Vec<EntryId>,
    mac: String,
}

fn index_mac_parts(ids: &BTreeSet<EntryId>) -> Vec<Vec<u8>> {
    let mut parts = vec![INDEX_MAC_LABEL.to_vec(), INDEX_VERSION.to_be_bytes().to_vec()];
    parts.extend(ids.iter().map(|id| id.as_str().as_bytes().to_vec()));
    parts
}

/// A changeset writing the index with exactly `ids`, under the vault's current key.
pub(crate) fn index_changes(vault: &UnlockedVault, ids: &[EntryId]) -> Changeset {
    let ids: BTreeSet<EntryId> = ids.iter().cloned().collect();
    let parts = index_mac_parts(&ids);
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let tag = crypto::mac(vault.current().index_mac_key(), &refs);
    let mut c = Changeset::default();
    c.put(INDEX_KEY, json!({ "format": INDEX_FORMAT, "version": INDEX_VERSION, "ids": ids, "mac": b64(&tag) }));
    c
}

impl UnlockedVault {
    /// The index: verified under the current key, or the previous one while a change is pending.
    pub(crate) fn index_load(&self, store: &impl Store) -> IndexLoad {
        let Some(item) = store.get(INDEX_KEY) else { return IndexLoad::Missing };
        let Ok(index) = serde_json::from_value::<IndexJson>(item) else { return IndexLoad::Damaged };
        if index.format != INDEX_FORMAT || index.version != INDEX_VERSION {
            return IndexLoad::Damaged;
        }
        let Some(tag) = unb64(&index.mac) else { return IndexLoad::Damaged };
        let ids: BTreeSet<EntryId> = index.ids.into_iter().collect();
        let parts = index_mac_parts(&ids);
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        if self.keysets().any(|k| crypto::mac_verify(k.index_mac_key(), &refs, &tag)) {
            IndexLoad::Ok { ids }
        } else {
            IndexLoad::Damaged
        }
    }

    /// Reads an item's outer layer and checks its MAC (against the vault keys and the index) or
    /// its capture tag.
    fn outer(&self, key: &str, item: &Value, index: Option<&BTreeSet<EntryId>>) -> Result<Outer, OpenError> {
        if item.get("format").and_then(Value::as_str) != Some(ENTRY_FORMAT) {
            return Err(OpenError::Malformed("not a keywarden entry"));
        }
        match item.get("version").and_then(Value::as_u64) {
            Some(v) if v == ENTRY_VERSION as u64 => {}
            Some(v) => return Err(OpenError::UnknownVersion(v)),
            None => return Err(OpenError::Malformed("version")),
        }
        let json = ItemRef::deserialize(item).map_err(|_| OpenError::Malformed("fields"))?;
        let id = EntryId::parse(json.id).ok_or(OpenError::Malformed("id"))?;
        if key != id.item_key() {
            return Err(OpenError::WrongKey);
        }
        let ciphertext = unb64(json.age).ok_or(OpenError::Malformed("ciphertext encoding"))?;
        let version = ENTRY_VERSION.to_be_bytes();
        let (trust, previous_keys, tag) = match (&json.mac, &json.capture) {
            (Some(mac), _) => {
                let tag = unb64(mac).ok_or(OpenError::Malformed("mac encoding"))?;
                let parts = mac_parts(ENTRY_MAC_LABEL, &version, &id, &ciphertext);
                match self.keysets().position(|k| crypto::mac_verify(k.entry_mac_key(), &parts, &tag)) {
                    Some(at) => (Trust::Authenticated, at > 0, Some(tag)),
                    None => return Err(OpenError::BadMac),
                }
            }
            (None, _) if index.is_some_and(|ids| ids.contains(&id)) => return Err(OpenError::MacRemoved),
            (None, Some(capture)) => {
                let tag = unb64(capture).ok_or(OpenError::Malformed("capture tag encoding"))?;
                let parts = mac_parts(CAPTURE_TAG_LABEL, &version, &id, &ciphertext);
                match self.keysets().position(|k| crypto::mac_verify(k.capture_key(), &parts, &tag)) {
                    Some(at) => (Trust::Unverified, at > 0, Some(tag)),
                    None => (Trust::Foreign, false, None),
                }
            }
            (None, None) => (Trust::Foreign, false, None),
        };
        Ok(Outer { id, ciphertext, trust, previous_keys, tag })
    }

    /// Opens an item all the way: outer layer, decryption (current identity, then the previous
    /// one), payload.
    fn inspect(&self, key: &str, item: &Value, index: Option<&BTreeSet<EntryId>>) -> Result<Inspected, OpenError> {
        self.decrypt(self.outer(key, item, index)?)
    }

    /// Decrypts an item whose outer layer checked out, and checks its payload.
    fn decrypt(&self, outer: Outer) -> Result<Inspected, OpenError> {
        let mut opened = None;
        for (at, keys) in self.keysets().enumerate() {
            match agefile::decrypt(keys.identity().inner(), &outer.ciphertext, false, MAX_PAYLOAD) {
                Ok(plain) => {
                    opened = Some((plain, at > 0));
                    break;
                }
                Err(AgeFailure::Truncated) => return Err(OpenError::Truncated),
                Err(_) => {}
            }
        }
        let (plain, previous_identity) = opened.ok_or(OpenError::Undecryptable)?;
        let payload: PayloadIn = serde_json::from_slice(&plain).map_err(|_| OpenError::BadPayload)?;
        if payload.format != ENTRY_FORMAT || payload.version != ENTRY_VERSION || payload.id != outer.id.as_str() {
            return Err(OpenError::Mismatch);
        }
        Ok(Inspected { outer, previous_identity, plain, payload })
    }

    fn open_item(&self, key: &str, item: &Value, index: Option<&BTreeSet<EntryId>>) -> Result<OpenEntry, OpenError> {
        let i = self.inspect(key, item, index)?;
        Ok(OpenEntry { id: i.outer.id, meta: i.payload.meta, secret: i.payload.secret, trust: i.outer.trust })
    }

    /// Opens one entry.
    pub fn open(&self, store: &impl Store, id: &EntryId) -> Result<OpenEntry, OpenError> {
        let key = id.item_key();
        let item = store.get(&key).ok_or(OpenError::Missing)?;
        self.open_item(&key, &item, self.index_load(store).ids())
    }

    /// Opens every item under `entry:`; damaged ones are listed with their reason and never stop
    /// the others from opening.
    pub fn list(&self, store: &impl Store) -> Listing {
        let index = self.index_load(store);
        let mut listing =
            Listing { entries: Vec::new(), damaged: Vec::new(), missing: Vec::new(), index: index.state() };
        let mut present = BTreeSet::new();
        for key in store.keys_with_prefix(ENTRY_PREFIX) {
            if let Some(id) = EntryId::from_item_key(&key) {
                present.insert(id);
            }
            let Some(item) = store.peek(&key) else { continue };
            match self.open_item(&key, item, index.ids()) {
                Ok(entry) => listing.entries.push(entry),
                Err(reason) => listing.damaged.push(Damaged { key, reason }),
            }
        }
        if let Some(ids) = index.ids() {
            listing.missing = ids.difference(&present).cloned().collect();
        }
        listing.entries.sort_by(|a, b| (a.meta.created_at, &a.id).cmp(&(b.meta.created_at, &b.id)));
        listing
    }

    /// Every entry as the list shows it, without its secret, and the damaged items, as
    /// [`UnlockedVault::list`] finds them. Each item's outer layer (shape, id, MAC or capture tag,
    /// against the index) is checked as there; an item whose id and ciphertext match its sealed
    /// summary is not decrypted again ([`summaries`](crate::engine::vault::summaries)). Write
    /// [`Summaries::refresh`] to keep the summaries in step.
    pub fn summaries(&self, store: &impl Store) -> Summaries {
        let index = self.index_load(store);
        let summary_key = self.current().summary_key();
        let (loaded, set_aside) = summaries::load(store, summary_key);
        let mut out = Summaries {
            entries: Vec::new(),
            damaged: Vec::new(),
            missing: Vec::new(),
            index: index.state(),
            set_aside,
            refresh: Changeset::default(),
            opened: 0,
        };
        let mut hits = BTreeSet::new();
        let mut fresh = BTreeMap::new();
        let mut present = BTreeSet::new();
        for key in store.keys_with_prefix(ENTRY_PREFIX) {
            if let Some(id) = EntryId::from_item_key(&key) {
                present.insert(id);
            }
            let Some(item) = store.peek(&key) else { continue };
            let outer = match self.outer(&key, item, index.ids()) {
                Ok(outer) => outer,
                Err(reason) => {
                    out.damaged.push(Damaged { key, reason });
                    continue;
                }
            };
            let (id, trust) = (outer.id.clone(), outer.trust);
            let digest = summaries::digest(&id, outer.tag.as_deref(), &outer.ciphertext);
            let (meta, hint) = match loaded.hit(&id, &digest) {
                Some(cached) => {
                    hits.insert(id.clone());
                    (cached.meta.clone(), cached.hint.clone())
                }
                None => match self.decrypt(outer) {
                    Ok(opened) => {
                        out.opened += 1;
                        let cached = Cached { digest, meta: opened.payload.meta, hint: hint(&opened.payload.secret) };
                        let shown = (cached.meta.clone(), cached.hint.clone());
                        fresh.insert(id.clone(), cached);
                        shown
                    }
                    Err(reason) => {
                        out.damaged.push(Damaged { key, reason });
                        continue;
                    }
                },
            };
            out.entries.push(ListedEntry { id, meta, hint, trust });
        }
        if let Some(ids) = index.ids() {
            out.missing = ids.difference(&present).cloned().collect();
        }
        out.entries.sort_by(|a, b| (a.meta.created_at, &a.id).cmp(&(b.meta.created_at, &b.id)));
        out.refresh = loaded.refresh(&hits, fresh, summary_key);
        out
    }

    /// Opens the listed entries `ids` in full (to rewrite them); any that does not open is left out.
    pub fn open_many(&self, store: &impl Store, ids: &[EntryId]) -> Vec<OpenEntry> {
        let index = self.index_load(store);
        ids.iter()
            .filter_map(|id| {
                let key = id.item_key();
                let item = store.peek(&key)?;
                self.open_item(&key, item, index.ids()).ok()
            })
            .collect()
    }

    /// Ids of items that carry a valid MAC now.
    fn authenticated_ids(&self, store: &impl Store) -> BTreeSet<EntryId> {
        store
            .keys_with_prefix(ENTRY_PREFIX)
            .into_iter()
            .filter_map(|key| {
                let item = store.peek(&key)?;
                self.outer(&key, item, None).ok().filter(|o| o.trust == Trust::Authenticated).map(|o| o.id)
            })
            .collect()
    }

    /// The index after adding and removing ids. A missing or damaged index stays as it is (the
    /// alarm lasts until [`UnlockedVault::rebuild_index`]).
    fn updated_index(&self, store: &impl Store, add: &[EntryId], remove: &[EntryId]) -> Changeset {
        let IndexLoad::Ok { mut ids } = self.index_load(store) else { return Changeset::default() };
        ids.extend(add.iter().cloned());
        for id in remove {
            ids.remove(id);
        }
        index_changes(self, &ids.into_iter().collect::<Vec<_>>())
    }

    fn authenticated_item(&self, id: &EntryId, ciphertext: &[u8]) -> Value {
        let version = ENTRY_VERSION.to_be_bytes();
        let tag = crypto::mac(self.current().entry_mac_key(), &mac_parts(ENTRY_MAC_LABEL, &version, id, ciphertext));
        item_value(id, ciphertext, Some(&tag), None)
    }

    /// The ciphertext of an opened item for the current identity (re-encrypted when it was for
    /// the previous one).
    fn current_ciphertext(&self, item: &Inspected) -> Option<Vec<u8>> {
        if item.previous_identity {
            agefile::encrypt(self.current().recipient(), &item.plain, false).ok()
        } else {
            Some(item.outer.ciphertext.clone())
        }
    }

    /// An opened item, authenticated under the current keys.
    fn adopted_item(&self, item: &Inspected) -> Option<Value> {
        Some(self.authenticated_item(&item.outer.id, &self.current_ciphertext(item)?))
    }

    /// Items still under the previous keys, rewritten under the current ones with the same
    /// trust (a passphrase change re-sealing them). Damaged items are left as they are.
    pub(crate) fn rotation_rewrites(&self, store: &impl Store) -> Vec<(String, Value)> {
        if self.previous().is_none() {
            return Vec::new();
        }
        let index = self.index_load(store);
        let mut out = Vec::new();
        for key in store.keys_with_prefix(ENTRY_PREFIX) {
            let Some(item) = store.peek(&key) else { continue };
            let Ok(opened) = self.inspect(&key, item, index.ids()) else { continue };
            if !opened.under_previous_keys() {
                continue;
            }
            let Some(ct) = self.current_ciphertext(&opened) else { continue };
            let id = &opened.outer.id;
            let value = match opened.outer.trust {
                Trust::Authenticated => self.authenticated_item(id, &ct),
                Trust::Unverified => {
                    let tag = capture_tag(self.current().capture_key(), id, &ct);
                    item_value(id, &ct, None, Some(&tag))
                }
                Trust::Foreign => item_value(id, &ct, None, None),
            };
            out.push((key, value));
        }
        out
    }

    /// Seals a capture while unlocked: encrypted to the vault's own (verified) recipient, with
    /// its MAC, and added to the index.
    pub fn seal(&self, store: &impl Store, secret: &SecretString, meta: &EntryMeta) -> Result<Sealed, SealError> {
        let id = fresh_id(store)?;
        let changes = self.reseal_all(store, &[(&id, secret, meta)])?;
        Ok(Sealed { id, changes, needs_confirmation: false })
    }

    /// Writes each `(id, secret, meta)` authenticated, and the index once for all of them.
    pub(crate) fn reseal_all(
        &self,
        store: &impl Store,
        items: &[(&EntryId, &SecretString, &EntryMeta)],
    ) -> Result<Changeset, SealError> {
        let mut changes = Changeset::default();
        for (id, secret, meta) in items {
            let ct = seal_payload(self.current().recipient(), id, secret, meta)?;
            changes.put(&id.item_key(), self.authenticated_item(id, &ct));
        }
        let ids: Vec<EntryId> = items.iter().map(|(id, _, _)| (*id).clone()).collect();
        changes.merge(self.updated_index(store, &ids, &[]));
        Ok(changes)
    }

    /// Rewrites an opened entry with new metadata (notes, state…), keeping id and secret.
    /// Refuses a [`Trust::Foreign`] entry: confirm it first.
    pub fn update(&self, store: &impl Store, entry: &OpenEntry, meta: &EntryMeta) -> Result<Changeset, SealError> {
        if entry.trust == Trust::Foreign {
            return Err(SealError::Unconfirmed);
        }
        self.reseal_all(store, &[(&entry.id, &entry.secret, meta)])
    }

    /// Rewrites opened entries with another state (e.g. the ids [`replaced_by`] or
    /// [`stale_actives`] picked, with [`EntryState::Replaced`]). Refuses [`Trust::Foreign`]
    /// entries: rewriting them would vouch for them.
    ///
    /// [`replaced_by`]: crate::engine::vault::replace::replaced_by
    /// [`stale_actives`]: crate::engine::vault::replace::stale_actives
    pub fn set_state(
        &self,
        store: &impl Store,
        entries: &[&OpenEntry],
        state: EntryState,
    ) -> Result<Changeset, SealError> {
        if entries.iter().any(|e| e.trust == Trust::Foreign) {
            return Err(SealError::Unconfirmed);
        }
        let metas: Vec<EntryMeta> = entries.iter().map(|e| EntryMeta { state, ..e.meta.clone() }).collect();
        let items: Vec<_> = entries.iter().zip(&metas).map(|(e, m)| (&e.id, &e.secret, m)).collect();
        self.reseal_all(store, &items)
    }

    /// Puts back an item as it was stored before [`UnlockedVault::delete`] (an undone
    /// deletion). It must open under this vault's keys as the entry `id`; an authenticated item
    /// rejoins the index, any other keeps the trust it had. The caller checks that `id` is free.
    pub fn restore(&self, store: &impl Store, id: &EntryId, item: &Value) -> Result<Changeset, OpenError> {
        let key = id.item_key();
        let index = self.index_load(store);
        let opened = self.open_item(&key, item, index.ids())?;
        let mut changes = Changeset::default();
        changes.put(&key, item.clone());
        if opened.trust == Trust::Authenticated {
            changes.merge(self.updated_index(store, std::slice::from_ref(id), &[]));
        }
        Ok(changes)
    }

    /// Removes an entry (damaged or not) and drops it from the index.
    pub fn delete(&self, store: &impl Store, id: &EntryId) -> Changeset {
        let mut changes = Changeset::default();
        changes.delete(&id.item_key());
        changes.merge(self.updated_index(store, &[], std::slice::from_ref(id)));
        changes
    }

    /// Vouches for captures this extension sealed while locked: every [`Trust::Unverified`] item
    /// (its capture tag verifies) that opens cleanly gets its MAC and joins the index. The glue
    /// calls it right after each unlock. [`Trust::Foreign`] items are left for the admin
    /// ([`UnlockedVault::adopt_confirmed`]).
    ///
    /// While the index is missing or damaged ([`Listing::index`]) it adopts nothing at all, not
    /// even tagged captures: with the index gone, an entry's earlier, pre-adoption item (a
    /// genuine tagged capture, replayed by whoever can write `storage.local`) cannot be told
    /// from a fresh one, and adopting it would silently roll that entry back (a revoked key
    /// active again, marking its successor replaced). The admin rebuilds the index first.
    pub fn adopt_unverified(&self, store: &impl Store) -> (Vec<EntryId>, Changeset) {
        let IndexLoad::Ok { ids: index } = self.index_load(store) else {
            return (Vec::new(), Changeset::default());
        };
        let mut adopted = Vec::new();
        let mut changes = Changeset::default();
        // Every item whose MAC is valid is folded into the index too, so an index update lost to
        // a concurrent write is repaired here. One pass over the outer layers tells both apart;
        // only tagged captures are decrypted.
        let mut ids = index.clone();
        for key in store.keys_with_prefix(ENTRY_PREFIX) {
            let Some(item) = store.peek(&key) else { continue };
            let Ok(outer) = self.outer(&key, item, Some(&index)) else { continue };
            match outer.trust {
                Trust::Authenticated => {
                    ids.insert(outer.id);
                }
                Trust::Unverified => {
                    let Ok(opened) = self.decrypt(outer) else { continue };
                    let Some(value) = self.adopted_item(&opened) else { continue };
                    changes.put(&key, value);
                    ids.insert(opened.outer.id.clone());
                    adopted.push(opened.outer.id);
                }
                Trust::Foreign => {}
            }
        }
        if ids != index {
            changes.merge(index_changes(self, &ids.into_iter().collect::<Vec<_>>()));
        }
        (adopted, changes)
    }

    /// Adopts entries the admin confirmed, [`Trust::Foreign`] or [`Trust::Unverified`]: each
    /// gets its MAC (and joins the index when there is one). Already authenticated ones are left
    /// as they are; an id that does not open refuses the whole call.
    pub fn adopt_confirmed(&self, store: &impl Store, ids: &[EntryId]) -> Result<Changeset, AdoptError> {
        let index = self.index_load(store);
        let mut changes = Changeset::default();
        let mut added = Vec::new();
        for id in ids {
            let key = id.item_key();
            let not_open = |reason| AdoptError::NotOpen { id: id.clone(), reason };
            let item = store.get(&key).ok_or_else(|| not_open(OpenError::Missing))?;
            let opened = self.inspect(&key, &item, index.ids()).map_err(not_open)?;
            if opened.outer.trust == Trust::Authenticated {
                continue;
            }
            changes.put(&key, self.adopted_item(&opened).ok_or(AdoptError::Encrypt)?);
            added.push(id.clone());
        }
        changes.merge(self.updated_index(store, &added, &[]));
        Ok(changes)
    }

    /// Writes a new index of the items that carry a valid MAC now, ending a missing- or
    /// damaged-index alarm. Call it once the admin has seen the listing (with its
    /// [`Trust::Unverified`] and [`Trust::Foreign`] entries) and confirmed; the next
    /// [`UnlockedVault::adopt_unverified`] then adopts the tagged captures.
    pub fn rebuild_index(&self, store: &impl Store) -> Changeset {
        index_changes(self, &self.authenticated_ids(store).into_iter().collect::<Vec<_>>())
    }
}
