//! The encrypted vault's pure core: key hierarchy, storage items, sealing captures (even while locked), unlocking, backup and sharing, with no browser API in sight.
//!
//! # Storage items
//!
//! | key              | holds                                                                   |
//! |------------------|-------------------------------------------------------------------------|
//! | `vault`          | the header ([`header`]): Argon2id parameters and salt, passphrase check, wrapped vault key, public `age1…` recipient, encrypted age identity |
//! | `vault:throttle` | failed-unlock counter ([`throttle`])                                    |
//! | `vault:index`    | the ids the vault has authenticated, under a MAC ([`entry`])           |
//! | `entry:<id>`     | one captured key ([`entry`]): version, id, age ciphertext, MAC         |
//!
//! Nothing else is stored in clear: every entry's metadata sits inside its ciphertext.
//!
//! # Keys
//!
//! ```text
//! passphrase ─Argon2id(salt, params)─► master ─HKDF─► key-encryption key ─XChaCha20-Poly1305─► wraps vault key
//!                                             └HKDF─► check key ─HMAC─► "check" (wrong passphrase ≠ damage)
//! vault key (32 random bytes) ─HKDF─► identity key ─XChaCha20-Poly1305─► wraps the age X25519 identity
//!                             ├HKDF─► entry MAC key (HMAC-SHA256 over version ‖ id ‖ ciphertext)
//!                             └HKDF─► index MAC key
//! age identity ◄──► recipient age1… (clear): entries are age files to it
//! ```
//!
//! Changing the passphrase re-wraps the vault key only. Argon2 parameters are calibrated once at
//! setup ([`kdf::calibrate`]: 64 MiB, p = 1, passes for ~0.75 s) and stored, so a slower machine
//! still unlocks, only more slowly.
//!
//! # Locked and unlocked
//!
//! Locked, the core can still [`seal_locked`] a capture: it needs only the public recipient. The
//! item carries no MAC yet, and lists as [`Trust::Unverified`]. Unlocking ([`unlock`], throttled
//! by [`throttle`]) yields an [`UnlockedVault`], which lists and opens entries, seals with a MAC,
//! and [adopts](UnlockedVault::adopt_unverified) items sealed while locked by adding their MAC.
//!
//! Why both age and a MAC: anyone who can write extension storage can encrypt to the public
//! recipient, so age alone cannot tell our captures from planted ones or from an item whose
//! contents were swapped for another ciphertext. The MAC under a vault-key subkey can; the index
//! of authenticated ids stops an attacker from stripping a MAC to make a replaced item look like
//! a fresh locked capture. What stays open by design: a capture sealed while locked is only as
//! trustworthy as storage until the next unlock adopts it, and the recipient it is sealed to is
//! read from storage (a swapped recipient is detected at the next unlock, which then refuses).
//!
//! # Storage seam
//!
//! Operations read through the synchronous [`Store`] trait and return a [`Changeset`] to write
//! instead of writing; see [`store`] for why. Every write states its size in bytes, so the glue
//! can refuse a capture loudly when storage is full, and a refused changeset leaves everything
//! as it was.
//!
//! # What the glue does
//!
//! Keeps the [`UnlockedVault::session_key`] in `storage.session` while unlocked and [`resume`]s
//! from it after a worker restart; drops it on lock, idle timeout or system lock; enforces the
//! throttle's wait; calls [`UnlockedVault::adopt_unverified`] after each unlock and marks entries
//! [`replace::stale_actives`] names as replaced.

mod agefile;
pub mod backup;
mod crypto;
pub mod entry;
pub mod header;
pub mod kdf;
pub mod replace;
pub mod secrets;
pub mod share;
pub mod store;
pub mod throttle;

pub use backup::{Backup, BackupError, ImportError, ImportReport, BACKUP_FORMAT, BACKUP_VERSION};
pub use crypto::RandomFailed;
pub use entry::{
    seal_locked, Damaged, EntryId, EntryMeta, EntryState, Listing, OpenEntry, OpenError, SealError, Sealed, Trust,
    ENTRY_PREFIX, INDEX_KEY,
};
pub use header::{
    is_set_up, resume, setup, stored_params, stored_recipient, unlock, ChangePassphraseError, HeaderProblem, Setup,
    SetupError, UnlockAttempt, UnlockError, UnlockedVault, HEADER_KEY,
};
pub use kdf::{calibrate, KdfParams};
pub use replace::{replaced_by, stale_actives};
pub use secrets::Passphrase;
pub use share::{share, ShareError};
pub use store::{Changeset, MemoryStore, Store, StoreError, Write};
pub use throttle::{Throttle, THROTTLE_KEY};
