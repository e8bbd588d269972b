//! Fixed vault test vectors kept as data files in tests/data/vault/: version-1 and version-2 vaults, a half-written passphrase change and a backup that must keep opening, and negative vectors that must keep failing the same way.
//!
//! Each file is JSON with a one-line `_comment` saying what it holds (or what is wrong with it),
//! the passphrase, the stored items (`items` for `storage.local`, `private` for the private
//! store) or the backup file, and what is expected. The version-1 files were written by an
//! earlier keywarden and are kept as they are; the others were written once by
//! `regenerate_vectors` (`cargo test --test vault_vectors -- --ignored`). If a change to the code
//! makes one of these tests fail, the stored format changed incompatibly.

#[path = "vault_support/mod.rs"]
mod support;

use keywarden::engine::vault::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::*;

const DIR: &str = "tests/data/vault";

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join(name)
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let comment = v["_comment"].as_str().unwrap_or_else(|| panic!("{name} has no _comment"));
    assert!(!comment.trim().is_empty() && !comment.contains('\n'), "{name}: the comment is one line");
    v
}

fn store_of(vector: &Value) -> MemoryStore {
    area_of(vector, "items")
}

/// One storage area of a vector (`items` or `private`; an absent one is empty).
fn area_of(vector: &Value, area: &str) -> MemoryStore {
    let mut store = MemoryStore::new();
    for (k, v) in vector[area].as_object().into_iter().flatten() {
        store.insert(k, v.clone());
    }
    store
}

fn unlock_vector(vector: &Value) -> (MemoryStore, Result<UnlockedVault, UnlockError>) {
    let (store, attempt) = attempt_vector(vector);
    (store, attempt.result)
}

fn attempt_vector(vector: &Value) -> (MemoryStore, UnlockAttempt) {
    let store = store_of(vector);
    let attempt = unlock(&store, &pass(vector["passphrase"].as_str().unwrap()), NOW);
    (store, attempt)
}

fn unlock_name(e: &UnlockError) -> &'static str {
    match e {
        UnlockError::NotSetUp => "not_set_up",
        UnlockError::Throttled { .. } => "throttled",
        UnlockError::WrongPassphrase { .. } => "wrong_passphrase",
        UnlockError::UnknownVersion(_) => "unknown_version",
        UnlockError::Damaged(_) => "damaged",
        UnlockError::Kdf => "kdf",
        UnlockError::StaleSession => "stale_session",
    }
}

fn open_name(e: &OpenError) -> &'static str {
    match e {
        OpenError::Missing => "missing",
        OpenError::Malformed(_) => "malformed",
        OpenError::UnknownVersion(_) => "unknown_version",
        OpenError::WrongKey => "wrong_key",
        OpenError::BadMac => "bad_mac",
        OpenError::MacRemoved => "mac_removed",
        OpenError::Truncated => "truncated",
        OpenError::Undecryptable => "undecryptable",
        OpenError::BadPayload => "bad_payload",
        OpenError::Mismatch => "mismatch",
    }
}

fn import_name(e: &ImportError) -> &'static str {
    match e {
        ImportError::NotAge => "not_age",
        ImportError::Truncated => "truncated",
        ImportError::NotPassphraseProtected => "not_passphrase_protected",
        ImportError::WrongPassphrase => "wrong_passphrase",
        ImportError::TooMuchWork { .. } => "too_much_work",
        ImportError::UnsupportedAge => "unsupported_age",
        ImportError::Damaged => "damaged",
        ImportError::TooLarge => "too_large",
        ImportError::NotABackup => "not_a_backup",
        ImportError::UnknownVersion(_) => "unknown_version",
        ImportError::BadContents(_) => "bad_contents",
        ImportError::Seal(_) => "seal",
    }
}

/// An opened entry as the vectors write it.
fn entry_json(e: &OpenEntry) -> Value {
    json!({
        "id": e.id,
        "secret": e.secret.expose(),
        "meta": e.meta,
        "trust": e.trust,
    })
}

/// Every object key path in a JSON value ("kdf.salt", "entries[].meta.vendor", …).
fn shape(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, at: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let here = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    out.insert(here.clone());
                    walk(x, &here, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, &format!("{at}[]"), out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out
}

const VECTORS: &[&str] = &[
    "vault-v1.json",
    "vault-v2.json",
    "vault-v2-rotation-pending.json",
    "bad-header-v2-salt-flipped.json",
    "bad-header-v2-check-flipped.json",
    "bad-header-v2-wrapped-key-flipped.json",
    "bad-header-v2-checksum-flipped.json",
    "bad-header-v2-primary-flipped.json",
    "bad-backup-work-factor-too-high.json",
    "bad-wrong-passphrase.json",
    "bad-wrapped-key-tag.json",
    "bad-header-future-version.json",
    "bad-entry-flipped-byte.json",
    "bad-entry-flipped-byte-unverified.json",
    "bad-entry-truncated.json",
    "bad-entry-swapped-id.json",
    "bad-entry-swapped-payload.json",
    "bad-entry-future-version.json",
    "bad-entry-mac-removed.json",
    "backup-v1.json",
    "bad-backup-wrong-passphrase.json",
    "bad-backup-truncated.json",
    "bad-backup-foreign-json.json",
    "bad-backup-not-age.json",
    "bad-backup-future-version.json",
];

#[test]
fn every_vector_is_present_and_commented() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let listed: BTreeSet<String> = VECTORS.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, listed, "every vector file is checked by a test");
    for name in VECTORS {
        load(name);
    }
    assert!(path("BACKUP-FORMAT.md").exists());
}

/// Lists the vault and checks it against the vector's `expect.entries`.
fn assert_entries(vault: &UnlockedVault, store: &MemoryStore, v: &Value) {
    let listing = vault.list(store);
    assert!(listing.damaged.is_empty() && listing.missing.is_empty(), "{:?}", listing.damaged);
    assert_eq!(listing.index, IndexState::Ok);
    let got: Vec<Value> = listing.entries.iter().map(entry_json).collect();
    assert_eq!(Value::Array(got), v["expect"]["entries"]);
}

#[test]
fn the_fixed_version_1_vault_opens_with_every_entry_and_is_migrated() {
    let v = load("vault-v1.json");
    let (mut store, attempt) = attempt_vector(&v);
    let vault = attempt.result.expect("the version-1 vault unlocks");
    assert_eq!(vault.recipient(), v["expect"]["recipient"]);
    let params = stored_params(&store).unwrap();
    assert_eq!((params.m_cost_kib(), params.t_cost(), params.p_cost()), (8 * 1024, 1, 1));
    assert!(attempt.upgrade_needed, "test-only Argon2 parameters are below the floor");
    assert_entries(&vault, &store, &v);
    // The unlock rewrites the header as version 2, under both keys; it opens the same after.
    let written: Vec<&str> = attempt.changes.set.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(written, vec![HEADER_KEY, HEADER_COPY_KEY]);
    apply(&mut store, &attempt.changes);
    assert_eq!(store.get(HEADER_KEY).unwrap()["version"], 2);
    assert_eq!(store.get(HEADER_KEY), store.get(HEADER_COPY_KEY));
    let again = unlock(&store, &pass(v["passphrase"].as_str().unwrap()), NOW);
    assert!(again.changes.is_empty());
    assert_entries(&again.result.unwrap(), &store, &v);
}

#[test]
fn the_fixed_version_2_vault_opens_with_every_entry() {
    let v = load("vault-v2.json");
    let (store, attempt) = attempt_vector(&v);
    let vault = attempt.result.expect("the version-2 vault unlocks");
    assert!(attempt.changes.is_empty() && attempt.pending.is_empty(), "both copies intact, nothing pending");
    assert_eq!(vault.recipient(), v["expect"]["recipient"]);
    assert_entries(&vault, &store, &v);
    // The capture key is derived the same way as when the vector was written.
    let private = area_of(&v, "private");
    assert!(vault.restore_capture_key(&private).is_empty(), "the stored capture key is this vault's");
    let trust: Vec<&Value> = v["expect"]["entries"].as_array().unwrap().iter().map(|e| &e["trust"]).collect();
    assert_eq!(trust, [&json!("authenticated"), &json!("unverified"), &json!("foreign")]);
}

#[test]
fn a_half_written_passphrase_change_opens_with_either_passphrase_and_finishes() {
    let v = load("vault-v2-rotation-pending.json");
    assert!(v["items"].get(ROTATION_KEY).is_some());
    let store = store_of(&v);
    for p in ["passphrase", "new_passphrase"] {
        let attempt = unlock(&store, &pass(v[p].as_str().unwrap()), NOW);
        let vault = attempt.result.unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(vault.recipient(), v["expect"]["recipient"], "{p}: the new keys are in effect");
        assert!(vault.rotation_pending());
        assert_entries(&vault, &store, &v);
        assert!(!attempt.pending.is_empty());
        let mut done = store.clone();
        apply(&mut done, &attempt.changes);
        for b in &attempt.pending {
            apply(&mut done, b);
        }
        assert!(done.get(ROTATION_KEY).is_none());
        let old = unlock(&done, &pass(v["passphrase"].as_str().unwrap()), NOW);
        assert!(matches!(old.result, Err(UnlockError::WrongPassphrase { .. })), "{p}");
        let new = unlock(&done, &pass(v["new_passphrase"].as_str().unwrap()), NOW);
        assert!(new.pending.is_empty());
        assert_entries(&new.result.unwrap(), &done, &v);
    }
}

#[test]
fn newly_written_items_have_the_same_shape_as_the_vectors() {
    let v = load("vault-v2.json");
    let (mut store, private, vault) = fresh_with_private();
    let id = vault.seal(&store, &secret("k"), &meta("predicthq", "t", "", "", NOW)).unwrap();
    apply(&mut store, &id.changes);
    let locked = seal_locked(&store, &private, &secret("k2"), &meta("predicthq", "t", "", "", NOW)).unwrap();
    apply(&mut store, &locked.changes);
    let items = v["items"].as_object().unwrap();
    assert_eq!(shape(&store.get(HEADER_KEY).unwrap()), shape(&items[HEADER_KEY]));
    assert_eq!(shape(&store.get(HEADER_COPY_KEY).unwrap()), shape(&items[HEADER_COPY_KEY]));
    assert_eq!(shape(&store.get(INDEX_KEY).unwrap()), shape(&items[INDEX_KEY]));
    let find =
        |field: &str| items.iter().find(|(k, x)| k.starts_with(ENTRY_PREFIX) && x.get(field).is_some()).unwrap().1;
    assert_eq!(shape(&store.get(&id.id.item_key()).unwrap()), shape(find("mac")));
    assert_eq!(shape(&store.get(&locked.id.item_key()).unwrap()), shape(find("capture")));
    assert_eq!(shape(&private.get(CAPTURE_KEY).unwrap()), shape(&v["private"][CAPTURE_KEY]));
    let rotation = vault.change_passphrase(&store, &pass("another passphrase"), weak()).unwrap();
    let pending = load("vault-v2-rotation-pending.json");
    assert_eq!(shape(rotation.batches[0].value(ROTATION_KEY).unwrap()), shape(&pending["items"][ROTATION_KEY]));
}

#[test]
fn negative_header_vectors_fail_as_described() {
    for name in [
        "bad-wrong-passphrase.json",
        "bad-wrapped-key-tag.json",
        "bad-header-future-version.json",
        "bad-header-v2-salt-flipped.json",
        "bad-header-v2-check-flipped.json",
        "bad-header-v2-wrapped-key-flipped.json",
        "bad-header-v2-checksum-flipped.json",
    ] {
        let v = load(name);
        let (_, attempt) = attempt_vector(&v);
        let err = attempt.result.err().unwrap_or_else(|| panic!("{name} unlocked"));
        assert_eq!(unlock_name(&err), v["expect"]["unlock"], "{name}: {err:?}");
        if matches!(err, UnlockError::Damaged(_)) {
            assert!(attempt.changes.is_empty(), "{name}: damage does not count as a wrong passphrase");
        }
    }
}

#[test]
fn a_damaged_first_header_copy_is_repaired_from_the_second() {
    let v = load("bad-header-v2-primary-flipped.json");
    let (mut store, attempt) = attempt_vector(&v);
    assert_eq!(v["expect"]["unlock"], "ok");
    let vault = attempt.result.expect("the intact copy opens");
    assert_entries(&vault, &store, &v);
    let written: Vec<Value> = attempt.changes.set.iter().map(|w| w.key.as_str().into()).collect();
    assert_eq!(Value::Array(written), v["expect"]["repaired"]);
    apply(&mut store, &attempt.changes);
    assert_eq!(store.get(HEADER_KEY), store.get(HEADER_COPY_KEY));
}

#[test]
fn negative_entry_vectors_damage_one_item_only() {
    for name in [
        "bad-entry-flipped-byte.json",
        "bad-entry-flipped-byte-unverified.json",
        "bad-entry-truncated.json",
        "bad-entry-swapped-id.json",
        "bad-entry-swapped-payload.json",
        "bad-entry-future-version.json",
        "bad-entry-mac-removed.json",
    ] {
        let v = load(name);
        let (store, vault) = unlock_vector(&v);
        let listing = vault.unwrap_or_else(|e| panic!("{name}: {e}")).list(&store);
        let damaged: Map<String, Value> =
            listing.damaged.iter().map(|d| (d.key.clone(), open_name(&d.reason).into())).collect();
        assert_eq!(Value::Object(damaged), v["expect"]["damaged"], "{name}");
        let opened: Vec<Value> = listing.entries.iter().map(|e| e.id.as_str().into()).collect();
        assert_eq!(Value::Array(opened), v["expect"]["opened"], "{name}");
    }
}

fn import_vector(name: &str) -> (Value, Result<(MemoryStore, UnlockedVault, ImportReport), ImportError>) {
    let v = load(name);
    let (store, vault) = fresh();
    let file = v["file"].as_str().unwrap().as_bytes().to_vec();
    let result =
        vault.import_backup(&store, &file, &pass(v["passphrase"].as_str().unwrap())).map(|r| (store, vault, r));
    (v, result)
}

#[test]
fn the_fixed_backup_imports_every_entry() {
    let (v, result) = import_vector("backup-v1.json");
    let (mut store, vault, report) = result.expect("the version-1 backup imports");
    assert_eq!(report.imported.len(), v["expect"]["entries"].as_array().unwrap().len());
    apply(&mut store, &report.changes);
    let got: Vec<Value> = vault
        .list(&store)
        .entries
        .iter()
        .map(|e| json!({ "id": e.id, "secret": e.secret.expose(), "meta": e.meta }))
        .collect();
    assert_eq!(Value::Array(got), v["expect"]["entries"]);
}

#[test]
fn a_new_backup_has_the_same_plaintext_shape_as_the_vector() {
    let (v, _) = import_vector("backup-v1.json");
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
    let old: Value =
        serde_json::from_slice(&age::decrypt(&identity, v["file"].as_str().unwrap().as_bytes()).unwrap()).unwrap();
    let (mut store, vault) = fresh();
    let s = vault.seal(&store, &secret("k"), &meta("predicthq", "t", "", "", NOW)).unwrap();
    apply(&mut store, &s.changes);
    let new = vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap();
    let new: Value = serde_json::from_slice(&age::decrypt(&identity, new.armored.as_bytes()).unwrap()).unwrap();
    assert_eq!(shape(&new), shape(&old));
    assert_eq!((&new["format"], &new["version"]), (&json!("keywarden-backup"), &json!(1)));
}

#[test]
fn negative_backup_vectors_fail_as_described() {
    for name in [
        "bad-backup-wrong-passphrase.json",
        "bad-backup-truncated.json",
        "bad-backup-foreign-json.json",
        "bad-backup-not-age.json",
        "bad-backup-future-version.json",
        "bad-backup-work-factor-too-high.json",
    ] {
        let (v, result) = import_vector(name);
        let err = result.err().unwrap_or_else(|| panic!("{name} imported"));
        assert_eq!(import_name(&err), v["expect"]["import"], "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The generator. Run only on purpose: the files it writes are the reference. It writes the
// version-2 files; the version-1 ones (vault-v1.json, backup-v1.json, bad-entry-*, bad-backup-*
// but the work-factor one, bad-wrong-passphrase, bad-wrapped-key-tag, bad-header-future-version)
// come from an earlier keywarden and are never rewritten.

fn write(name: &str, comment: &str, mut body: Value) {
    body["_comment"] = comment.into();
    let text = serde_json::to_string_pretty(&body).unwrap() + "\n";
    std::fs::write(path(name), text).unwrap();
}

fn with_item(items: &Map<String, Value>, key: &str, change: impl Fn(&mut Value)) -> Map<String, Value> {
    let mut items = items.clone();
    change(items.get_mut(key).unwrap());
    items
}

/// Both header copies changed the same way.
fn with_header(items: &Map<String, Value>, change: impl Fn(&mut Value)) -> Map<String, Value> {
    with_item(&with_item(items, HEADER_KEY, &change), HEADER_COPY_KEY, &change)
}

fn flip(b64: &str, at: usize) -> String {
    use base64::Engine;
    let e = base64::engine::general_purpose::STANDARD;
    let mut bytes = e.decode(b64).unwrap();
    bytes[at] ^= 0x01;
    e.encode(bytes)
}

fn flip_at(v: &mut Value, at: usize) {
    *v = flip(v.as_str().unwrap(), at).into();
}

fn items_of(store: &MemoryStore) -> Map<String, Value> {
    store.items().clone().into_iter().collect()
}

#[test]
#[ignore = "rewrites the reference vectors; run only when the format is meant to change"]
fn regenerate_vectors() {
    const NEW_PASSPHRASE: &str = "a new passphrase entirely";
    let params = KdfParams::weak_for_tests(8 * 1024, 1);
    let mut store = MemoryStore::new();
    let s = setup(&store, &pass(PASSPHRASE), params, NOW).unwrap();
    apply(&mut store, &s.changes);
    let mut private = MemoryStore::new();
    apply(&mut private, s.private.changeset());
    let vault = s.vault;
    let mut m_a = meta("predicthq", "control.predicthq.com", "ops@example.com", "CI token", NOW + 1_000);
    m_a.notes = "rotated monthly".into();
    let a = vault.seal(&store, &secret("phq_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), &m_a).unwrap();
    apply(&mut store, &a.changes);
    let m_b = EntryMeta {
        scopes: vec!["account".into()],
        ..meta("predicthq", "control.predicthq.com", "dev@example.com", "Local dev", NOW + 2_000)
    };
    let b = seal_locked(&store, &private, &secret("phq_test_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"), &m_b).unwrap();
    apply(&mut store, &b.changes);
    let m_c = meta("predicthq", "control.predicthq.com", "", "Planted", NOW + 3_000);
    let c =
        seal_locked(&store, &MemoryStore::new(), &secret("phq_test_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"), &m_c)
            .unwrap();
    apply(&mut store, &c.changes);
    let items = items_of(&store);
    let private_items = items_of(&private);
    let entries: Vec<Value> = vault.list(&store).entries.iter().map(entry_json).collect();
    let body = |items: &Map<String, Value>, passphrase: &str, expect: Value| json!({ "passphrase": passphrase, "items": items, "expect": expect });
    let damaged = json!({ "unlock": "damaged" });

    write(
        "vault-v2.json",
        "A valid version-2 vault (test-only Argon2id 8 MiB, t=1) with its header copy and private store: entry A sealed while unlocked (authenticated), B sealed while locked with the capture key (unverified), C sealed to the public recipient without it (foreign).",
        json!({
            "passphrase": PASSPHRASE,
            "items": items,
            "private": private_items,
            "expect": { "recipient": vault.recipient(), "entries": entries },
        }),
    );
    write(
        "bad-header-v2-salt-flipped.json",
        "The version-2 vault with one salt byte flipped in both header copies, right passphrase: the checksum fails, damaged, not wrong passphrase.",
        body(&with_header(&items, |h| flip_at(&mut h["kdf"]["salt"], 3)), PASSPHRASE, damaged.clone()),
    );
    write(
        "bad-header-v2-check-flipped.json",
        "The version-2 vault with one byte of the passphrase check flipped in both header copies: damaged, not wrong passphrase.",
        body(&with_header(&items, |h| flip_at(&mut h["check"], 5)), PASSPHRASE, damaged.clone()),
    );
    write(
        "bad-header-v2-wrapped-key-flipped.json",
        "The version-2 vault with one byte of the wrapped vault key flipped in both header copies: damaged, not wrong passphrase.",
        body(&with_header(&items, |h| flip_at(&mut h["wrapped_key"]["ciphertext"], 40)), PASSPHRASE, damaged.clone()),
    );
    write(
        "bad-header-v2-checksum-flipped.json",
        "The version-2 vault with one byte of the checksum itself flipped in both header copies: damaged.",
        body(&with_header(&items, |h| flip_at(&mut h["checksum"], 0)), PASSPHRASE, damaged),
    );
    write(
        "bad-header-v2-primary-flipped.json",
        "The version-2 vault with one salt byte flipped in the first header copy only: the second opens it, and the unlock repairs the first.",
        body(
            &with_item(&items, HEADER_KEY, |h| flip_at(&mut h["kdf"]["salt"], 3)),
            PASSPHRASE,
            json!({ "unlock": "ok", "repaired": [HEADER_KEY], "entries": entries }),
        ),
    );

    // A passphrase change stopped after the record and the (only) re-sealing batch.
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), params).unwrap();
    assert_eq!(rotation.batches.len(), 3);
    let mut half = store.clone();
    for batch in &rotation.batches[..2] {
        apply(&mut half, batch);
    }
    write(
        "vault-v2-rotation-pending.json",
        "The version-2 vault part way through a passphrase change (record and re-sealed entries written, header not swapped yet): both passphrases open it with every entry, and finishing leaves only the new one.",
        json!({
            "passphrase": PASSPHRASE,
            "new_passphrase": NEW_PASSPHRASE,
            "items": items_of(&half),
            "expect": { "recipient": rotation.vault.recipient(), "entries": entries },
        }),
    );

    // A backup asking for more scrypt work than keywarden accepts.
    let backup =
        vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW + 4_000, TEST_WORK_FACTOR).unwrap();
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
    let plain = age::decrypt(&identity, backup.armored.as_bytes()).unwrap();
    let mut greedy = age::scrypt::Recipient::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
    greedy.set_work_factor(backup::MAX_IMPORT_WORK_FACTOR + 1);
    write(
        "bad-backup-work-factor-too-high.json",
        "A genuine keywarden backup whose scrypt work factor is 20 (1 GiB of memory), one above what keywarden accepts: too much work, refused before any scrypt run.",
        json!({
            "passphrase": BACKUP_PASSPHRASE,
            "file": age::encrypt_and_armor(&greedy, &plain).unwrap(),
            "expect": { "import": "too_much_work" },
        }),
    );
}
