//! Every item keywarden keeps in browser storage, declared in one place: its key, its area and its format.
//!
//! | area      | key                | format                                                        | owner        |
//! |-----------|--------------------|---------------------------------------------------------------|--------------|
//! | local     | `vault`            | vault header (see `vault::header`)                            | vault        |
//! | local     | `vault:header-copy`| second copy of the header, for telling damage from a wrong passphrase | vault |
//! | local     | `vault:index`      | ids the vault has authenticated, under a MAC                  | vault        |
//! | local     | `vault:throttle`   | failed-unlock counter                                          | vault        |
//! | local     | `vault:rotation`   | a passphrase change in progress (journal)                     | vault        |
//! | local     | `entry:<id>`       | one sealed key                                                 | vault        |
//! | local     | `settings`         | [`Settings`] as JSON                                           | service      |
//! | local     | `servers`          | `[Server]`: self-hosted servers the admin added                | service      |
//! | local     | `drift`            | `[DriftEvent]`: step targets found missing, newest last        | service      |
//! | session   | `vault:session`    | the unlocked vault's session key, as bytes (never a string)   | service      |
//! | session   | `tab:<id>`         | [`TabRecord`](crate::engine::controller::TabRecord): a tab's last report and walkthrough progress | service |
//! | session   | `counters`         | [`Counters`] as JSON                                           | service      |
//! | session   | `clipboard`        | [`PendingClear`](crate::engine::clipboard::PendingClear): the digest of what was copied and when to clear it | service |
//! | session   | `trash`            | `[Trashed]`: sealed items of entries deleted moments ago, for undo | keeper   |
//! | private   | `capture-key`      | the key that tags captures sealed while locked                | vault        |
//!
//! *local* is `storage.local`: it survives restarts, and content scripts can read and write it,
//! so nothing there is trusted without a MAC. *session* is `storage.session` at its default access
//! level (trusted extension contexts only; gone when the browser closes). *private* is the
//! extension origin's IndexedDB: it survives restarts and no content script can reach it.

use crate::engine::vault::store::MemoryStore;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// The three storage areas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Local,
    Session,
    Private,
}

/// `storage.local`: the admin's settings.
pub const SETTINGS: &str = "settings";
/// `storage.local`: the self-hosted servers the admin added.
pub const SERVERS: &str = "servers";
/// `storage.local`: drift events.
pub const DRIFT: &str = "drift";
/// The `storage.local` items read for every event: the settings, servers and drift, and the
/// vault header (whose presence says a vault is set up).
pub const ALWAYS_READ: [&str; 4] = [SETTINGS, SERVERS, DRIFT, crate::engine::vault::HEADER_KEY];
/// `storage.session`: the unlocked vault's session key.
pub const SESSION_KEY: &str = "vault:session";
/// `storage.session`: counters for the popup.
pub const COUNTERS: &str = "counters";
/// `storage.session`: the pending clipboard clear.
pub use crate::engine::clipboard::CLIPBOARD_KEY as CLIPBOARD;
/// `storage.session`: entries deleted moments ago ([`Trashed`](crate::engine::keeper::Trashed)),
/// restorable until the undo window passes or the vault locks.
pub const TRASH: &str = "trash";
/// `storage.session`: prefix of per-tab records.
pub const TAB_PREFIX: &str = "tab:";
/// Private area: the capture-tag key (declared with its format in `vault::capture`).
pub use crate::engine::vault::CAPTURE_KEY;

/// The storage key of a tab's record.
pub fn tab_key(tab: u32) -> String {
    format!("{TAB_PREFIX}{tab}")
}

/// Storage keys in `storage.local` that belong to the vault (header, index, throttle, rotation, entries).
pub fn is_vault_item(key: &str) -> bool {
    key == crate::engine::vault::HEADER_KEY
        || key.starts_with("vault:")
        || key.starts_with(crate::engine::vault::ENTRY_PREFIX)
}

/// `settings` in `storage.local`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub auto_lock_minutes: u32,
    /// Vendors whose walkthrough the admin asked not to see by itself ("don't guide me on …").
    pub quiet_vendors: std::collections::BTreeSet<String>,
    /// Seconds after a copy before the clipboard is cleared; 0 is never (see [`crate::engine::clipboard`]).
    pub clipboard_clear_seconds: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_lock_minutes: crate::engine::keeper::DEFAULT_AUTO_LOCK_MINUTES,
            quiet_vendors: Default::default(),
            clipboard_clear_seconds: crate::engine::clipboard::DEFAULT_SECONDS,
        }
    }
}

/// `counters` in `storage.session`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Keys sealed into the vault in this browser session.
    pub captures_saved: u32,
}

/// What the glue read before an event: the parts of each area the service asked for (see
/// [`Wants`](crate::engine::service::Wants)), plus the facts only the browser knows.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The `storage.local` items read, shared rather than copied: the worker hands in the mirror
    /// it keeps of the area (about 11 MB at 10,000 keys) without copying it per event.
    pub local: Rc<MemoryStore>,
    /// Names the vault items of `local`: the same number only ever stands for the same items in
    /// this worker, and any change to them gives a new one. `None` when the reader cannot vouch
    /// for that; the keeper then reuses nothing ([`Keeper::see_generation`]).
    ///
    /// [`Keeper::see_generation`]: crate::engine::keeper::Keeper::see_generation
    pub local_generation: Option<u64>,
    pub session: MemoryStore,
    pub private: MemoryStore,
    /// The session key, read from `storage.session` as bytes.
    pub session_key: Option<crate::engine::secret::SecretString>,
    /// Origins granted now (`permissions.getAll`), when asked for.
    pub granted_origins: Vec<String>,
    /// Ids of content scripts registered now, when asked for.
    pub registered_scripts: Vec<String>,
}
