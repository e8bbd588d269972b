//! The encrypted vault's pure core: key hierarchy, storage items, sealing captures (even while locked), unlocking, passphrase changes, backup and sharing, with no browser API in sight.
//!
//! # Storage items
//!
//! Two storage areas. `storage.local` holds everything below except the capture key; content
//! scripts can read and write it, so nothing in it is trusted until the vault checks it. The
//! *private* store is the extension origin's own storage (IndexedDB), which content scripts
//! cannot reach; in the core it is a second [`Store`].
//!
//! | key                 | area    | holds                                                                  |
//! |---------------------|---------|------------------------------------------------------------------------|
//! | `vault`             | local   | the header ([`header`]), version 2: Argon2id parameters and salt, passphrase check, wrapped vault key, public `age1…` recipient, encrypted age identity, SHA-256 checksum |
//! | `vault:header-copy` | local   | the same header again, always written together with `vault`            |
//! | `vault:rotation`    | local   | only while a passphrase change is being written: the new header and the two vault keys wrapped under each other ([`rotation`]) |
//! | `vault:throttle`    | local   | failed-unlock counter ([`throttle`])                                   |
//! | `vault:index`       | local   | the ids the vault has authenticated, under a MAC ([`entry`])          |
//! | `vault:summaries:<c>` | local | what the list shows of the entries whose id starts with `c`, sealed under a vault-key subkey: a cache that spares listing the decryption of unchanged entries ([`summaries`]) |
//! | `entry:<id>`        | local   | one captured key ([`entry`]): version, id, age ciphertext, then a MAC (authenticated) or a capture tag (sealed while locked) |
//! | `capture-key`       | private | the capture key and the recipient it belongs to ([`capture`])          |
//!
//! Nothing else is stored in clear: every entry's metadata sits inside its ciphertext.
//!
//! # Keys
//!
//! ```text
//! passphrase ─Argon2id(salt, params)─► master ─HKDF─► key-encryption key ─XChaCha20-Poly1305─► wraps vault key
//!                                             └HKDF─► check key ─HMAC─► "check" (wrong passphrase ≠ damage)
//! header fields ─SHA-256─► "checksum" (damage found before any Argon2 run; two copies)
//! vault key (32 random bytes) ─HKDF─► identity key ─XChaCha20-Poly1305─► wraps the age X25519 identity
//!                             ├HKDF─► entry MAC key (HMAC-SHA256 over version ‖ id ‖ ciphertext)
//!                             ├HKDF─► index MAC key
//!                             └HKDF─► capture key (private store) ─HMAC─► capture tag of a locked capture
//! age identity ◄──► recipient age1… (clear): entries are age files to it
//! passphrase change: old vault key ─HKDF─► wraps the new vault key; new vault key ─HKDF─► wraps the old one
//! ```
//!
//! Argon2 parameters are calibrated at setup and at every passphrase change
//! ([`kdf::calibrate`]: 64 MiB, p = 1, passes for ~0.75 s) and stored, so a slower machine still
//! unlocks, only more slowly. An unlock of a header whose parameters are below the production
//! floor says so ([`UnlockAttempt::upgrade_needed`]); [`UnlockedVault::rewrap`] then re-wraps the
//! same vault key under calibrated ones.
//!
//! # The header and its copy
//!
//! The header is written twice, `vault` and `vault:header-copy`, in the same changeset, each
//! with a checksum over all its fields. Loading takes the first copy that parses and passes its
//! checksum, and an unlock returns the writes that restore the other; when neither does, the
//! vault is [damaged](UnlockError::Damaged) — never a wrong passphrase, and the throttle does not
//! grow. Version-1 headers (no checksum, no copy) are still read; the first successful unlock
//! rewrites them as version 2 with both copies. In a version-1 header a flipped salt or check
//! byte still reads as a wrong passphrase: there was no checksum to tell.
//!
//! # Locked and unlocked
//!
//! Locked, the core can still [`seal_locked`] a capture: it needs only the public recipient,
//! and tags the item with the capture key read from the private store. Unlocking ([`unlock`],
//! throttled by [`throttle`]) yields an [`UnlockedVault`], which lists and opens entries, seals
//! with a MAC, and [adopts](UnlockedVault::adopt_unverified) the captures whose tag verifies by
//! adding their MAC. Each entry lists with its [`Trust`]:
//!
//! - [`Trust::Authenticated`]: a valid MAC under the vault key;
//! - [`Trust::Unverified`]: sealed while locked by keywarden here (valid capture tag), adopted at
//!   the next unlock;
//! - [`Trust::Foreign`]: found in storage, not saved by keywarden here (no MAC, no valid tag).
//!   Shown, never adopted silently, never taken into account for replacement and never rewritten
//!   as authenticated; [`UnlockedVault::adopt_confirmed`] adopts it once the admin confirms.
//!
//! Why a MAC, a capture tag and an index: anyone who can write `storage.local` (a content script,
//! so a hostile page through a compromised one) can encrypt to the public recipient, so age alone
//! cannot tell our captures from planted ones or from an item whose contents were swapped. The
//! MAC under a vault-key subkey can, once unlocked; the capture tag does the same for captures
//! sealed while locked, with a key no content script can reach; the index of authenticated ids
//! stops an attacker from stripping a MAC (or replaying an entry's pre-adoption item) to make it
//! look like a capture awaiting adoption. A missing or damaged index is therefore an alarm
//! ([`Listing::index`]): while it lasts nothing is adopted, not even tagged captures, until the
//! admin has looked and [rebuilt it](UnlockedVault::rebuild_index). If the private store loses
//! the capture key, captures are still saved (untagged, so [`Trust::Foreign`]) and the next
//! unlock writes the key back ([`UnlockedVault::restore_capture_key`]).
//!
//! What stays open by design: the recipient a capture is sealed to is read from `storage.local`;
//! whoever can swap it can also read the key the page showed, and a swap is detected at the next
//! unlock, which then refuses.
//!
//! # Changing the passphrase
//!
//! A change ([`UnlockedVault::change_passphrase`]) rotates everything a copy of old storage could
//! be opened with: a new vault key, a new age identity (so a new recipient), a new capture key,
//! the new header under the new passphrase, and every entry re-sealed. It is written as a
//! journal ([`rotation`]): a record first, then batches of re-sealed entries, then one batch that
//! swaps both header copies in and removes the record. Stopped after any batch, the vault opens
//! with the old or the new passphrase (or either session key) with every entry, and the next
//! unlock returns the rest ([`UnlockAttempt::pending`]). Once finished, the old passphrase opens
//! nothing in storage, and a copy of storage taken before the change opens nothing sealed since.
//!
//! # Storage seam
//!
//! Operations read through the synchronous [`Store`] trait and return a [`Changeset`] to write
//! instead of writing; see [`store`] for why. Every write states its size in bytes, so the glue
//! can refuse a capture loudly when storage is full, and a refused changeset leaves everything
//! as it was. Writes for the private store come apart, as [`PrivateChanges`].
//!
//! # What the glue does
//!
//! Keeps the [`UnlockedVault::session_key`] in `storage.session` while unlocked and [`resume`]s
//! from it after a worker restart; drops it on lock, idle timeout or system lock; enforces the
//! throttle's wait. After each unlock it writes [`UnlockAttempt::changes`], then each of
//! [`UnlockAttempt::pending`] in turn (after a resume: [`UnlockedVault::finish_rotation`]), then
//! [`UnlockedVault::restore_capture_key`] to the private store; calls
//! [`UnlockedVault::adopt_unverified`] over storage as it is then, marks entries
//! [`replace::stale_actives`] names as replaced, and shows [`Listing::index`] alarms and foreign
//! entries for the admin to confirm. It writes a [`Rotation`]'s batches in order, its
//! `private` after the first, and keeps its new session key.

mod agefile;
pub mod backup;
pub mod capture;
mod crypto;
pub mod entry;
pub mod header;
pub mod kdf;
pub mod replace;
pub mod rotation;
pub mod sample;
pub mod secrets;
pub mod share;
pub mod store;
pub mod summaries;
pub mod throttle;

pub use backup::{Backup, BackupError, ImportError, ImportReport, BACKUP_FORMAT, BACKUP_VERSION};
pub use capture::{PrivateChanges, CAPTURE_KEY};
pub use crypto::RandomFailed;
pub use entry::{
    seal_locked, AdoptError, Damaged, EntryId, EntryMeta, EntryState, IndexState, Listing, OpenEntry, OpenError,
    SealError, Sealed, Summaries, Trust, ENTRY_PREFIX, INDEX_KEY,
};
pub use header::{
    is_set_up, resume, setup, stored_params, stored_recipient, unlock, verify_passphrase, HeaderProblem, RewrapError,
    Setup, SetupError, UnlockAttempt, UnlockError, UnlockedVault, Verification, HEADER_COPY_KEY, HEADER_KEY,
    MIN_PASSPHRASE_CHARS,
};
pub use kdf::{calibrate, KdfParams};
pub use replace::{replaced_by, stale_actives};
pub use rotation::{ChangePassphraseError, Rotation, ROTATION_KEY};
pub use secrets::{hint, Passphrase};
pub use share::{share, ShareError};
pub use store::{Changeset, MemoryStore, Store, StoreError, Write};
pub use summaries::{ChunkProblem, ListedEntry, SUMMARY_PREFIX};
pub use throttle::{Throttle, THROTTLE_KEY};
