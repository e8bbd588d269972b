//! The capture key: a subkey of the vault key kept in a private storage area that content scripts cannot write, so that a capture sealed while locked can show it was sealed by keywarden here.
//!
//! The private store holds one item, [`CAPTURE_KEY`]:
//!
//! ```json
//! { "format": "keywarden-capture-key", "version": 1, "key": "<32 bytes, base64>",
//!   "recipient": "age1…" }
//! ```
//!
//! `key` is HKDF-SHA256 of the vault key (purpose `keywarden-vault/1/capture-key`), so it changes
//! with the vault key and every unlock can write it again when the private store lost it.
//! `recipient` is the vault recipient it belongs to: a capture sealed while locked goes to that
//! recipient only when storage names it too (see [`seal_locked`](crate::engine::vault::seal_locked)).

use crate::engine::vault::crypto::{b64, unb64_array};
use crate::engine::vault::store::{Changeset, Store};
use serde::Deserialize;
use serde_json::{json, Value};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Key of the capture key's item in the private store.
pub const CAPTURE_KEY: &str = "capture-key";
/// The item's `format`.
pub const CAPTURE_KEY_FORMAT: &str = "keywarden-capture-key";
const CAPTURE_KEY_VERSION: u32 = 1;

/// The capture key as the private store holds it.
pub(crate) struct StoredCaptureKey {
    pub(crate) key: Zeroizing<[u8; 32]>,
    pub(crate) recipient: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemJson {
    format: String,
    version: u32,
    key: String,
    recipient: String,
}

/// The capture key in the private store, if it is there and well formed.
pub(crate) fn load(private: &impl Store) -> Option<StoredCaptureKey> {
    let mut item: ItemJson = serde_json::from_value(private.get(CAPTURE_KEY)?).ok()?;
    let key = unb64_array::<32>(&item.key).map(Zeroizing::new);
    item.key.zeroize();
    if item.format != CAPTURE_KEY_FORMAT || item.version != CAPTURE_KEY_VERSION {
        return None;
    }
    Some(StoredCaptureKey { key: key?, recipient: item.recipient })
}

/// The private store's item for `key`, belonging to `recipient`.
fn item(key: &[u8; 32], recipient: &str) -> Value {
    json!({ "format": CAPTURE_KEY_FORMAT, "version": CAPTURE_KEY_VERSION, "key": b64(key), "recipient": recipient })
}

/// The write that puts `key` into the private store, or nothing when it is there already.
pub(crate) fn changes(private: &impl Store, key: &[u8; 32], recipient: &str) -> PrivateChanges {
    let wanted = item(key, recipient);
    let mut c = Changeset::default();
    if private.get(CAPTURE_KEY).as_ref() != Some(&wanted) {
        c.put(CAPTURE_KEY, wanted);
    }
    PrivateChanges(c)
}

/// Writes for the private store (the extension origin's own storage, which content scripts
/// cannot reach), kept apart from the [`Changeset`]s for `storage.local`. Its value is the
/// capture key: never log it. Debug shows the item keys only.
#[derive(Clone, Default, PartialEq)]
pub struct PrivateChanges(Changeset);

impl PrivateChanges {
    /// The writes, for the glue to apply to the private store.
    pub fn changeset(&self) -> &Changeset {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for PrivateChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = self.0.set.iter().map(|w| w.key.as_str()).collect();
        f.debug_struct("PrivateChanges").field("set", &set).field("remove", &self.0.remove).finish()
    }
}
