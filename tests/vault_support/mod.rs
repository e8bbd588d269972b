//! Shared fixtures for the vault tests: cheap Argon2 parameters, a known passphrase, sample metadata and store shortcuts.
#![allow(dead_code)]

use keywarden::engine::secret::SecretString;
use keywarden::engine::vault::{
    setup, unlock, Changeset, EntryMeta, EntryState, KdfParams, MemoryStore, Passphrase, Store, UnlockedVault,
};
use serde_json::Value;

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
    let (store, _, vault) = fresh_with_private();
    (store, vault)
}

/// The same, with the private store setup wrote (the capture key).
pub fn fresh_with_private() -> (MemoryStore, MemoryStore, UnlockedVault) {
    let mut store = MemoryStore::new();
    let s = setup(&store, &pass(PASSPHRASE), weak(), NOW).expect("setup");
    apply(&mut store, &s.changes);
    let mut private = MemoryStore::new();
    apply(&mut private, s.private.changeset());
    (store, private, s.vault)
}

/// A private store holding `vault`'s capture key, as the glue keeps it.
pub fn private_for(vault: &UnlockedVault) -> MemoryStore {
    let mut private = MemoryStore::new();
    apply(&mut private, vault.restore_capture_key(&MemoryStore::new()).changeset());
    private
}

/// Recomputes a version-2 header's checksum as documented (SHA-256 over the length-prefixed
/// fields), the way anyone able to write storage could after editing it.
pub fn with_checksum(mut header: Value) -> Value {
    use sha2::Digest;
    let text = |v: &Value| v.as_str().unwrap().as_bytes().to_vec();
    let u32be = |v: &Value| (v.as_u64().unwrap() as u32).to_be_bytes().to_vec();
    let k = &header["kdf"];
    let parts: Vec<Vec<u8>> = vec![
        b"keywarden-vault/header-checksum".to_vec(),
        u32be(&header["version"]),
        header["created_at"].as_u64().unwrap().to_be_bytes().to_vec(),
        text(&k["alg"]),
        u32be(&k["version"]),
        u32be(&k["m_cost_kib"]),
        u32be(&k["t_cost"]),
        u32be(&k["p_cost"]),
        text(&k["salt"]),
        text(&header["check"]),
        text(&header["wrapped_key"]["alg"]),
        text(&header["wrapped_key"]["nonce"]),
        text(&header["wrapped_key"]["ciphertext"]),
        text(&header["recipient"]),
        text(&header["identity"]["alg"]),
        text(&header["identity"]["nonce"]),
        text(&header["identity"]["ciphertext"]),
    ];
    let mut hash = sha2::Sha256::new();
    for p in &parts {
        hash.update((p.len() as u64).to_be_bytes());
        hash.update(p);
    }
    use base64::Engine;
    header["checksum"] = base64::engine::general_purpose::STANDARD.encode(hash.finalize()).into();
    header
}

/// Puts `header` under both header keys, bypassing the quota.
pub fn put_header(store: &mut MemoryStore, header: Value) {
    store.insert(keywarden::engine::vault::HEADER_KEY, header.clone());
    store.insert(keywarden::engine::vault::HEADER_COPY_KEY, header);
}

/// Unlocks `store` with the test passphrase, writing the throttle changes, and panics on failure.
pub fn unlocked(store: &mut MemoryStore) -> UnlockedVault {
    unlocked_with(store, PASSPHRASE)
}

/// The same with another passphrase; also writes whatever the unlock returns to finish.
pub fn unlocked_with(store: &mut MemoryStore, passphrase: &str) -> UnlockedVault {
    let attempt = unlock(store, &pass(passphrase), NOW);
    apply(store, &attempt.changes);
    for batch in &attempt.pending {
        apply(store, batch);
    }
    attempt.result.expect("unlock")
}

/// `value` (base64) with one bit flipped in its byte at `at` (or its last byte).
pub fn flip_b64(value: &str, at: usize) -> String {
    use base64::Engine;
    let e = base64::engine::general_purpose::STANDARD;
    let mut bytes = e.decode(value).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    e.encode(bytes)
}
