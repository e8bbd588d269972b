//! Entries: one storage item per captured key, sealed to the vault's age recipient (even while locked), authenticated with the vault key once unlocked, and opened one by one so damage stays contained.
//!
//! An item `entry:<id>` holds only
//!
//! ```json
//! { "format": "keywarden-entry", "version": 1, "id": "<id>",
//!   "age": "<age ciphertext, base64>", "mac": "<HMAC-SHA256, base64>" }
//! ```
//!
//! (`mac` absent until the vault has authenticated it). The ciphertext is a binary age file to
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
//! `"keywarden-entry/mac"`, version (4 bytes, big-endian), id and ciphertext. Opening checks,
//! in order: shape, version, that the storage key names the item's id, the MAC (or its absence),
//! decryption, and that the id and version inside match the ones outside; any failure marks that
//! one item damaged with its reason.
//!
//! The index item [`INDEX_KEY`] lists, under a MAC, the ids the vault has authenticated, so an
//! attacker cannot strip an entry's MAC and swap in their own ciphertext to pass it off as a
//! fresh capture awaiting adoption.

use crate::engine::secret::SecretString;
use crate::engine::vault::agefile::{self, AgeFailure};
use crate::engine::vault::crypto::{self, b64, unb64, RandomFailed};
use crate::engine::vault::header::{Header, HeaderProblem, UnlockedVault};
use crate::engine::vault::store::{Changeset, Store};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use std::collections::BTreeSet;
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
    /// Sealed while locked and not adopted yet. Anyone able to write extension storage could
    /// have made it (the recipient is public); [`UnlockedVault::adopt_unverified`] vouches for it.
    Unverified,
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
#[derive(Debug, Default)]
pub struct Listing {
    /// Entries that opened, oldest first.
    pub entries: Vec<OpenEntry>,
    /// Items under `entry:` that did not open, each with its reason; nothing else is affected.
    pub damaged: Vec<Damaged>,
    /// Ids the index vouches for whose items are gone.
    pub missing: Vec<EntryId>,
    /// The index item is missing or fails its MAC (it is rebuilt by the next write).
    pub index_damaged: bool,
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
}

fn mac_parts<'a>(version: &'a [u8; 4], id: &'a EntryId, ciphertext: &'a [u8]) -> [&'a [u8]; 4] {
    [ENTRY_MAC_LABEL, version, id.as_str().as_bytes(), ciphertext]
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
    // Room for everything up front: growing the buffer would leave copies of the secret behind.
    let room = secret.expose().len() + meta.notes.len() + meta.page_url.len() + 4096;
    let mut plain = Zeroizing::new(Vec::with_capacity(room));
    serde_json::to_writer(&mut *plain, &payload).expect("plain JSON");
    agefile::encrypt(recipient, &plain, false).map_err(|_| SealError::Encrypt)
}

fn item_value(id: &EntryId, ciphertext: &[u8], mac: Option<&[u8]>) -> Value {
    serde_json::to_value(ItemJson {
        format: ENTRY_FORMAT.into(),
        version: ENTRY_VERSION,
        id: id.as_str().into(),
        age: b64(ciphertext),
        mac: mac.map(b64),
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
}

/// Seals a capture while the vault is locked: encrypted to the stored recipient, without a MAC
/// (it lists as [`Trust::Unverified`] until adopted). Writes one new item and touches nothing else.
pub fn seal_locked(store: &impl Store, secret: &SecretString, meta: &EntryMeta) -> Result<Sealed, SealError> {
    let header = Header::load(store).map_err(SealError::Header)?;
    let id = fresh_id(store)?;
    let ct = seal_payload(header.recipient(), &id, secret, meta)?;
    let mut changes = Changeset::default();
    changes.put(&id.item_key(), item_value(&id, &ct, None));
    Ok(Sealed { id, changes })
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
    Random,
    /// age failed to encrypt (should not happen).
    Encrypt,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Header(p) => write!(f, "cannot save the key: {p}"),
            SealError::Invalid { field, problem } => write!(f, "cannot save the key: its {field} {problem}"),
            SealError::Random => f.write_str("cannot save the key: the system's random number generator failed"),
            SealError::Encrypt => f.write_str("cannot save the key: encryption failed"),
        }
    }
}

impl std::error::Error for SealError {}

/// An item read as far as its outer layer: id, ciphertext, MAC state.
struct Outer {
    id: EntryId,
    ciphertext: Vec<u8>,
    trust: Trust,
}

/// The authenticated set of ids, or `None` when the index is missing or fails its MAC.
fn load_index(store: &impl Store, vault: &UnlockedVault) -> Option<BTreeSet<EntryId>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct IndexJson {
        format: String,
        version: u32,
        ids: Vec<EntryId>,
        mac: String,
    }
    let index: IndexJson = serde_json::from_value(store.get(INDEX_KEY)?).ok()?;
    if index.format != INDEX_FORMAT || index.version != INDEX_VERSION {
        return None;
    }
    let tag = unb64(&index.mac)?;
    let ids: BTreeSet<EntryId> = index.ids.into_iter().collect();
    let parts = index_mac_parts(&ids);
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    crypto::mac_verify(vault.index_mac_key(), &refs, &tag).then_some(ids)
}

fn index_mac_parts(ids: &BTreeSet<EntryId>) -> Vec<Vec<u8>> {
    let mut parts = vec![INDEX_MAC_LABEL.to_vec(), INDEX_VERSION.to_be_bytes().to_vec()];
    parts.extend(ids.iter().map(|id| id.as_str().as_bytes().to_vec()));
    parts
}

/// A changeset writing the index with exactly `ids`.
pub(crate) fn index_changes(vault: &UnlockedVault, ids: &[EntryId]) -> Changeset {
    let ids: BTreeSet<EntryId> = ids.iter().cloned().collect();
    let parts = index_mac_parts(&ids);
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let tag = crypto::mac(vault.index_mac_key(), &refs);
    let mut c = Changeset::default();
    c.put(INDEX_KEY, json!({ "format": INDEX_FORMAT, "version": INDEX_VERSION, "ids": ids, "mac": b64(&tag) }));
    c
}

impl UnlockedVault {
    /// Reads an item's outer layer and checks its MAC against the vault key and the index.
    fn outer(&self, key: &str, item: &Value, index: Option<&BTreeSet<EntryId>>) -> Result<Outer, OpenError> {
        if item.get("format").and_then(Value::as_str) != Some(ENTRY_FORMAT) {
            return Err(OpenError::Malformed("not a keywarden entry"));
        }
        match item.get("version").and_then(Value::as_u64) {
            Some(v) if v == ENTRY_VERSION as u64 => {}
            Some(v) => return Err(OpenError::UnknownVersion(v)),
            None => return Err(OpenError::Malformed("version")),
        }
        let json: ItemJson = serde_json::from_value(item.clone()).map_err(|_| OpenError::Malformed("fields"))?;
        let id = EntryId::parse(&json.id).ok_or(OpenError::Malformed("id"))?;
        if key != id.item_key() {
            return Err(OpenError::WrongKey);
        }
        let ciphertext = unb64(&json.age).ok_or(OpenError::Malformed("ciphertext encoding"))?;
        let version = ENTRY_VERSION.to_be_bytes();
        let trust = match &json.mac {
            Some(mac) => {
                let tag = unb64(mac).ok_or(OpenError::Malformed("mac encoding"))?;
                if !crypto::mac_verify(self.entry_mac_key(), &mac_parts(&version, &id, &ciphertext), &tag) {
                    return Err(OpenError::BadMac);
                }
                Trust::Authenticated
            }
            None if index.is_some_and(|ids| ids.contains(&id)) => return Err(OpenError::MacRemoved),
            None => Trust::Unverified,
        };
        Ok(Outer { id, ciphertext, trust })
    }

    fn open_item(&self, key: &str, item: &Value, index: Option<&BTreeSet<EntryId>>) -> Result<OpenEntry, OpenError> {
        let outer = self.outer(key, item, index)?;
        let plain =
            agefile::decrypt(self.identity().inner(), &outer.ciphertext, false, MAX_PAYLOAD).map_err(|e| match e {
                AgeFailure::Truncated => OpenError::Truncated,
                _ => OpenError::Undecryptable,
            })?;
        let payload: PayloadIn = serde_json::from_slice(&plain).map_err(|_| OpenError::BadPayload)?;
        if payload.format != ENTRY_FORMAT || payload.version != ENTRY_VERSION || payload.id != outer.id.as_str() {
            return Err(OpenError::Mismatch);
        }
        Ok(OpenEntry { id: outer.id, meta: payload.meta, secret: payload.secret, trust: outer.trust })
    }

    /// Opens one entry.
    pub fn open(&self, store: &impl Store, id: &EntryId) -> Result<OpenEntry, OpenError> {
        let key = id.item_key();
        let item = store.get(&key).ok_or(OpenError::Missing)?;
        self.open_item(&key, &item, load_index(store, self).as_ref())
    }

    /// Opens every item under `entry:`; damaged ones are listed with their reason and never stop
    /// the others from opening.
    pub fn list(&self, store: &impl Store) -> Listing {
        let index = load_index(store, self);
        let mut listing = Listing { index_damaged: index.is_none(), ..Listing::default() };
        let mut present = BTreeSet::new();
        for key in store.keys_with_prefix(ENTRY_PREFIX) {
            if let Some(id) = EntryId::from_item_key(&key) {
                present.insert(id);
            }
            let Some(item) = store.get(&key) else { continue };
            match self.open_item(&key, &item, index.as_ref()) {
                Ok(entry) => listing.entries.push(entry),
                Err(reason) => listing.damaged.push(Damaged { key, reason }),
            }
        }
        if let Some(ids) = &index {
            listing.missing = ids.difference(&present).cloned().collect();
        }
        listing.entries.sort_by(|a, b| (a.meta.created_at, &a.id).cmp(&(b.meta.created_at, &b.id)));
        listing
    }

    /// Ids of items that carry a valid MAC now (to rebuild a lost index).
    fn authenticated_ids(&self, store: &impl Store) -> BTreeSet<EntryId> {
        store
            .keys_with_prefix(ENTRY_PREFIX)
            .into_iter()
            .filter_map(|key| {
                let item = store.get(&key)?;
                self.outer(&key, &item, None).ok().filter(|o| o.trust == Trust::Authenticated).map(|o| o.id)
            })
            .collect()
    }

    /// The index after adding and removing ids; a lost index is rebuilt from the items' MACs.
    fn updated_index(&self, store: &impl Store, add: &[EntryId], remove: &[EntryId]) -> Changeset {
        let mut ids = load_index(store, self).unwrap_or_else(|| self.authenticated_ids(store));
        ids.extend(add.iter().cloned());
        for id in remove {
            ids.remove(id);
        }
        index_changes(self, &ids.into_iter().collect::<Vec<_>>())
    }

    fn authenticated_item(&self, id: &EntryId, ciphertext: &[u8]) -> Value {
        let version = ENTRY_VERSION.to_be_bytes();
        let tag = crypto::mac(self.entry_mac_key(), &mac_parts(&version, id, ciphertext));
        item_value(id, ciphertext, Some(&tag))
    }

    /// Seals a capture while unlocked: encrypted to the vault's own (verified) recipient, with
    /// its MAC, and added to the index.
    pub fn seal(&self, store: &impl Store, secret: &SecretString, meta: &EntryMeta) -> Result<Sealed, SealError> {
        let id = fresh_id(store)?;
        let changes = self.reseal_all(store, &[(&id, secret, meta)])?;
        Ok(Sealed { id, changes })
    }

    /// Writes each `(id, secret, meta)` authenticated, and the index once for all of them.
    pub(crate) fn reseal_all(
        &self,
        store: &impl Store,
        items: &[(&EntryId, &SecretString, &EntryMeta)],
    ) -> Result<Changeset, SealError> {
        let mut changes = Changeset::default();
        for (id, secret, meta) in items {
            let ct = seal_payload(self.age_recipient(), id, secret, meta)?;
            changes.put(&id.item_key(), self.authenticated_item(id, &ct));
        }
        let ids: Vec<EntryId> = items.iter().map(|(id, _, _)| (*id).clone()).collect();
        changes.merge(self.updated_index(store, &ids, &[]));
        Ok(changes)
    }

    /// Rewrites an opened entry with new metadata (notes, state…), keeping id and secret.
    pub fn update(&self, store: &impl Store, entry: &OpenEntry, meta: &EntryMeta) -> Result<Changeset, SealError> {
        self.reseal_all(store, &[(&entry.id, &entry.secret, meta)])
    }

    /// Rewrites opened entries with another state (e.g. the ids [`replaced_by`] or
    /// [`stale_actives`] picked, with [`EntryState::Replaced`]).
    ///
    /// [`replaced_by`]: crate::engine::vault::replace::replaced_by
    /// [`stale_actives`]: crate::engine::vault::replace::stale_actives
    pub fn set_state(
        &self,
        store: &impl Store,
        entries: &[&OpenEntry],
        state: EntryState,
    ) -> Result<Changeset, SealError> {
        let metas: Vec<EntryMeta> = entries.iter().map(|e| EntryMeta { state, ..e.meta.clone() }).collect();
        let items: Vec<_> = entries.iter().zip(&metas).map(|(e, m)| (&e.id, &e.secret, m)).collect();
        self.reseal_all(store, &items)
    }

    /// Removes an entry (damaged or not) and drops it from the index.
    pub fn delete(&self, store: &impl Store, id: &EntryId) -> Changeset {
        let mut changes = Changeset::default();
        changes.delete(&id.item_key());
        changes.merge(self.updated_index(store, &[], std::slice::from_ref(id)));
        changes
    }

    /// Vouches for entries sealed while locked: every unverified item that opens cleanly gets its
    /// MAC and joins the index. The glue calls it right after each unlock.
    ///
    /// What this does and does not prove: a capture sealed while locked is encrypted to a public
    /// recipient, so anything able to write extension storage could have planted it. Adoption
    /// checks that it is well formed and meant for this vault, and from then on any change to it
    /// is detected; it cannot tell a capture by the worker from a planted one. That is why
    /// listings mark such entries [`Trust::Unverified`] until adopted. And while the index is
    /// lost ([`Listing::index_damaged`]), an entry whose MAC was stripped cannot be told from such
    /// a capture either: the glue should show that flag as a warning.
    pub fn adopt_unverified(&self, store: &impl Store) -> (Vec<EntryId>, Changeset) {
        let index = load_index(store, self);
        let mut adopted = Vec::new();
        let mut changes = Changeset::default();
        for key in store.keys_with_prefix(ENTRY_PREFIX) {
            let Some(item) = store.get(&key) else { continue };
            let Ok(entry) = self.open_item(&key, &item, index.as_ref()) else { continue };
            if entry.trust != Trust::Unverified {
                continue;
            }
            let Ok(outer) = self.outer(&key, &item, index.as_ref()) else { continue };
            changes.put(&key, self.authenticated_item(&outer.id, &outer.ciphertext));
            adopted.push(outer.id);
        }
        // Also fold in every item whose MAC is valid, so an index update lost to a concurrent
        // write (or a lost index) is repaired here.
        let mut ids = index.clone().unwrap_or_default();
        ids.extend(self.authenticated_ids(store));
        ids.extend(adopted.iter().cloned());
        if index.as_ref() != Some(&ids) {
            changes.merge(index_changes(self, &ids.into_iter().collect::<Vec<_>>()));
        }
        (adopted, changes)
    }
}
