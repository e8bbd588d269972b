//! Fixed vault test vectors kept as data files in tests/data/vault/: a version-1 vault and backup that must keep opening, and negative vectors that must keep failing the same way.
//!
//! Each file is JSON with a one-line `_comment` saying what it holds (or what is wrong with it),
//! the passphrase, the stored items (or the backup file) and what is expected. They were written
//! once by `regenerate_vectors` (`cargo test --test vault_vectors -- --ignored`); if a change to
//! the code makes one of these tests fail, the stored format changed incompatibly.

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
    let mut store = MemoryStore::new();
    for (k, v) in vector["items"].as_object().expect("items") {
        store.insert(k, v.clone());
    }
    store
}

fn unlock_vector(vector: &Value) -> (MemoryStore, Result<UnlockedVault, UnlockError>) {
    let store = store_of(vector);
    let result = unlock(&store, &pass(vector["passphrase"].as_str().unwrap()), NOW).result;
    (store, result)
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
        ImportError::TooMuchWork => "too_much_work",
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

#[test]
fn the_fixed_vault_opens_with_every_entry() {
    let v = load("vault-v1.json");
    let (store, vault) = unlock_vector(&v);
    let vault = vault.expect("the version-1 vault unlocks");
    assert_eq!(vault.recipient(), v["expect"]["recipient"]);
    let params = stored_params(&store).unwrap();
    assert_eq!((params.m_cost_kib(), params.t_cost(), params.p_cost()), (8 * 1024, 1, 1));
    let listing = vault.list(&store);
    assert!(listing.damaged.is_empty() && listing.missing.is_empty() && !listing.index_damaged);
    let got: Vec<Value> = listing.entries.iter().map(entry_json).collect();
    assert_eq!(Value::Array(got), v["expect"]["entries"]);
}

#[test]
fn newly_written_items_have_the_same_shape_as_the_vectors() {
    let v = load("vault-v1.json");
    let (mut store, vault) = fresh();
    let id = vault.seal(&store, &secret("k"), &meta("predicthq", "t", "", "", NOW)).unwrap();
    apply(&mut store, &id.changes);
    let items = v["items"].as_object().unwrap();
    assert_eq!(shape(&store.get(HEADER_KEY).unwrap()), shape(&items[HEADER_KEY]));
    assert_eq!(shape(&store.get(INDEX_KEY).unwrap()), shape(&items[INDEX_KEY]));
    let authenticated = items.iter().find(|(k, x)| k.starts_with(ENTRY_PREFIX) && x.get("mac").is_some()).unwrap().1;
    assert_eq!(shape(&store.get(&id.id.item_key()).unwrap()), shape(authenticated));
}

#[test]
fn negative_header_vectors_fail_as_described() {
    for name in ["bad-wrong-passphrase.json", "bad-wrapped-key-tag.json", "bad-header-future-version.json"] {
        let v = load(name);
        let (_, result) = unlock_vector(&v);
        let err = result.err().unwrap_or_else(|| panic!("{name} unlocked"));
        assert_eq!(unlock_name(&err), v["expect"]["unlock"], "{name}: {err:?}");
    }
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
    ] {
        let (v, result) = import_vector(name);
        let err = result.err().unwrap_or_else(|| panic!("{name} imported"));
        assert_eq!(import_name(&err), v["expect"]["import"], "{name}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The generator. Run only on purpose: the files it writes are the reference.

fn write(name: &str, comment: &str, mut body: Value) {
    body["_comment"] = comment.into();
    let text = serde_json::to_string_pretty(&body).unwrap() + "\n";
    std::fs::write(path(name), text).unwrap();
}

fn with_item(items: &Map<String, Value>, key: &str, change: impl FnOnce(&mut Value)) -> Map<String, Value> {
    let mut items = items.clone();
    change(items.get_mut(key).unwrap());
    items
}

fn flip(b64: &str, at: usize) -> String {
    use base64::Engine;
    let e = base64::engine::general_purpose::STANDARD;
    let mut bytes = e.decode(b64).unwrap();
    bytes[at] ^= 0x01;
    e.encode(bytes)
}

#[test]
#[ignore = "rewrites the reference vectors; run only when the format is meant to change"]
fn regenerate_vectors() {
    let mut store = MemoryStore::new();
    let s = setup(&store, &pass(PASSPHRASE), KdfParams::weak_for_tests(8 * 1024, 1), NOW).unwrap();
    apply(&mut store, &s.changes);
    let vault = s.vault;
    let mut m_a = meta("predicthq", "control.predicthq.com", "ops@example.com", "CI token", NOW + 1_000);
    m_a.notes = "rotated monthly".into();
    let a = vault.seal(&store, &secret("phq_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), &m_a).unwrap();
    apply(&mut store, &a.changes);
    let m_b = EntryMeta {
        scopes: vec!["account".into()],
        ..meta("predicthq", "control.predicthq.com", "dev@example.com", "Local dev", NOW + 2_000)
    };
    let b = seal_locked(&store, &secret("phq_test_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"), &m_b).unwrap();
    apply(&mut store, &b.changes);
    let items: Map<String, Value> = store.items().clone().into_iter().collect();
    let listing = vault.list(&store);
    let entries: Vec<Value> = listing.entries.iter().map(entry_json).collect();
    let (ka, kb) = (a.id.item_key(), b.id.item_key());
    let body = |items: &Map<String, Value>, passphrase: &str, expect: Value| json!({ "passphrase": passphrase, "items": items, "expect": expect });

    write(
        "vault-v1.json",
        "A valid version-1 vault (test-only Argon2id 8 MiB, t=1): entry A sealed while unlocked (authenticated), entry B sealed while locked (unverified).",
        body(&items, PASSPHRASE, json!({ "recipient": vault.recipient(), "entries": entries })),
    );
    write(
        "bad-wrong-passphrase.json",
        "The valid vault with the wrong passphrase: unlock must say wrong passphrase, not damaged.",
        body(&items, "Correct horse battery staple", json!({ "unlock": "wrong_passphrase" })),
    );
    write(
        "bad-wrapped-key-tag.json",
        "One byte of the wrapped vault key's ciphertext flipped (its Poly1305 tag fails) with the right passphrase: damaged, not wrong passphrase.",
        body(
            &with_item(&items, HEADER_KEY, |h| h["wrapped_key"]["ciphertext"] = flip(h["wrapped_key"]["ciphertext"].as_str().unwrap(), 40).into()),
            PASSPHRASE,
            json!({ "unlock": "damaged" }),
        ),
    );
    write(
        "bad-header-future-version.json",
        "The header claims format version 2, which does not exist yet: unknown version.",
        body(
            &with_item(&items, HEADER_KEY, |h| h["version"] = json!(2)),
            PASSPHRASE,
            json!({ "unlock": "unknown_version" }),
        ),
    );
    let one_damaged = |items: Map<String, Value>, key: &str, reason: &str, opened: &EntryId| {
        body(&items, PASSPHRASE, json!({ "damaged": { key: reason }, "opened": [opened.as_str()] }))
    };
    write(
        "bad-entry-flipped-byte.json",
        "Entry A (authenticated): one ciphertext byte flipped; its MAC fails, entry B still opens.",
        one_damaged(
            with_item(&items, &ka, |e| e["age"] = flip(e["age"].as_str().unwrap(), 250).into()),
            &ka,
            "bad_mac",
            &b.id,
        ),
    );
    write(
        "bad-entry-flipped-byte-unverified.json",
        "Entry B (unverified, no MAC): one byte of its age payload flipped; age's tag fails, entry A still opens.",
        one_damaged(
            with_item(&items, &kb, |e| e["age"] = flip(e["age"].as_str().unwrap(), 250).into()),
            &kb,
            "undecryptable",
            &a.id,
        ),
    );
    write(
        "bad-entry-truncated.json",
        "Entry B (unverified): its age ciphertext cut to its first 100 bytes (inside the age header); entry A still opens.",
        one_damaged(
            with_item(&items, &kb, |e| {
                use base64::Engine;
                let x = base64::engine::general_purpose::STANDARD;
                let bytes = x.decode(e["age"].as_str().unwrap()).unwrap();
                e["age"] = x.encode(&bytes[..100]).into();
            }),
            &kb,
            "truncated",
            &a.id,
        ),
    );
    let mut swapped = items.clone();
    swapped.insert(kb.clone(), items[&ka].clone());
    write(
        "bad-entry-swapped-id.json",
        "Entry A's item copied over entry B's key: the item names id A under key B, so B is damaged; A still opens.",
        one_damaged(swapped, &kb, "wrong_key", &a.id),
    );
    let renamed = EntryId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let mut moved = items.clone();
    let mut item_b = moved.remove(&kb).unwrap();
    item_b["id"] = renamed.as_str().into();
    moved.insert(renamed.item_key(), item_b);
    write(
        "bad-entry-swapped-payload.json",
        "Entry B (unverified) re-labelled as id AAAAAAAAAAAAAAAAAAAAAA outside while its encrypted payload still names B: mismatch; A still opens.",
        one_damaged(moved, &renamed.item_key(), "mismatch", &a.id),
    );
    write(
        "bad-entry-future-version.json",
        "Entry B claims entry format version 2, which does not exist yet: unknown version; A still opens.",
        one_damaged(with_item(&items, &kb, |e| e["version"] = json!(2)), &kb, "unknown_version", &a.id),
    );
    write(
        "bad-entry-mac-removed.json",
        "Entry A's MAC removed although the vault's index lists A as authenticated (a downgrade): damaged; B still opens.",
        one_damaged(with_item(&items, &ka, |e| { e.as_object_mut().unwrap().remove("mac"); }), &ka, "mac_removed", &b.id),
    );

    // Backups.
    let backup =
        vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW + 3_000, TEST_WORK_FACTOR).unwrap();
    let backup_entries: Vec<Value> =
        listing.entries.iter().map(|e| json!({ "id": e.id, "secret": e.secret.expose(), "meta": e.meta })).collect();
    let file_body = |file: &str, passphrase: &str, expect: Value| json!({ "passphrase": passphrase, "file": file, "expect": expect });
    write(
        "backup-v1.json",
        "A valid version-1 backup of the vault in vault-v1.json: armored age, scrypt work factor 2 (test-only), passphrase below; `age -d` opens it too.",
        file_body(&backup.armored, BACKUP_PASSPHRASE, json!({ "import": "ok", "entries": backup_entries })),
    );
    write(
        "bad-backup-wrong-passphrase.json",
        "The valid backup with the wrong passphrase: wrong passphrase.",
        file_body(&backup.armored, "backup passphrasE", json!({ "import": "wrong_passphrase" })),
    );
    let cut = &backup.armored[..backup.armored.len() * 2 / 3];
    write(
        "bad-backup-truncated.json",
        "The valid backup cut after two thirds of its text (no end marker): truncated.",
        file_body(cut, BACKUP_PASSPHRASE, json!({ "import": "truncated" })),
    );
    write(
        "bad-backup-foreign-json.json",
        "A genuine passphrase-protected age file whose plaintext is some other program's JSON: not a keywarden backup.",
        file_body(
            &passphrase_file("{\"format\":\"someone-elses-export\",\"items\":[1,2,3]}\n"),
            BACKUP_PASSPHRASE,
            json!({ "import": "not_a_backup" }),
        ),
    );
    write(
        "bad-backup-not-age.json",
        "Not an age file at all (a plain JSON backup someone pasted): not age.",
        file_body(
            "{\"format\":\"keywarden-backup\",\"version\":1,\"entries\":[]}\n",
            BACKUP_PASSPHRASE,
            json!({ "import": "not_age" }),
        ),
    );
    write(
        "bad-backup-future-version.json",
        "A genuine age file holding a keywarden backup of version 2, which does not exist yet: unknown version.",
        file_body(
            &passphrase_file("{\"format\":\"keywarden-backup\",\"version\":2,\"exported_at\":0,\"entries\":[]}\n"),
            BACKUP_PASSPHRASE,
            json!({ "import": "unknown_version" }),
        ),
    );
}
