//! Shared fixtures for the vault tests: cheap Argon2 parameters, a known passphrase, sample metadata and store shortcuts.
#![allow(dead_code)]

use keywarden::engine::secret::SecretString;
use keywarden::engine::vault::{
    setup, unlock, Changeset, EntryMeta, EntryState, KdfParams, MemoryStore, Passphrase, Store, UnlockedVault,
};

/// The passphrase the fixed vectors and most tests use.
pub const PASSPHRASE: &str = "correct horse battery staple";
/// A fixed "now" in unix milliseconds (2026-01-01T00:00:00Z).
pub const NOW: u64 = 1_767_225_600_000;
/// scrypt work factor (log2 N) for test backups: tiny, so debug builds stay fast. The age CLI
/// accepts any factor from 1 up.
pub const TEST_WORK_FACTOR: u8 = 2;
/// The passphrase of test backups.
pub const BACKUP_PASSPHRASE: &str = "backup passphrase";

/// An armored age file of `plain` under [`BACKUP_PASSPHRASE`]. (The recipient is made once:
/// making one times scrypt, which is slow in debug builds.)
pub fn passphrase_file(plain: &str) -> String {
    age::encrypt_and_armor(backup_recipient(), plain.as_bytes()).unwrap()
}

/// The same, binary.
pub fn passphrase_file_binary(plain: &[u8]) -> Vec<u8> {
    age::encrypt(backup_recipient(), plain).unwrap()
}

fn backup_recipient() -> &'static age::scrypt::Recipient {
    static R: std::sync::OnceLock<age::scrypt::Recipient> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let mut r = age::scrypt::Recipient::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
        r.set_work_factor(TEST_WORK_FACTOR);
        r
    })
}

/// Argon2 cost for the in-memory tests only: 1 MiB, one pass (the data-file vectors use 8 MiB).
pub fn weak() -> KdfParams {
    KdfParams::weak_for_tests(1024, 1)
}

pub fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_string())
}

pub fn secret(s: &str) -> SecretString {
    SecretString::new(s.to_string())
}

pub fn meta(vendor: &str, tenant: &str, account: &str, key_name: &str, created_at: u64) -> EntryMeta {
    EntryMeta {
        vendor: vendor.into(),
        tenant: tenant.into(),
        account: account.into(),
        key_name: key_name.into(),
        scopes: vec!["events".into(), "places".into()],
        created_at,
        page_url: format!("https://{tenant}/api-tokens"),
        notes: String::new(),
        state: EntryState::Active,
    }
}

pub fn apply(store: &mut MemoryStore, changes: &Changeset) {
    store.apply(changes).expect("the store accepts the changes");
}

/// A store with a freshly set-up vault, and that vault unlocked.
pub fn fresh() -> (MemoryStore, UnlockedVault) {
    let mut store = MemoryStore::new();
    let s = setup(&store, &pass(PASSPHRASE), weak(), NOW).expect("setup");
    apply(&mut store, &s.changes);
    (store, s.vault)
}

/// Unlocks `store` with the test passphrase, writing the throttle changes, and panics on failure.
pub fn unlocked(store: &mut MemoryStore) -> UnlockedVault {
    let attempt = unlock(store, &pass(PASSPHRASE), NOW);
    apply(store, &attempt.changes);
    attempt.result.expect("unlock")
}
