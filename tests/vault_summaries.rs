//! The entry summaries against the entries: after every kind of write the summaries list exactly what opening every entry lists, a damaged summary chunk or item costs nothing else, and a vault written before the summaries existed gets them.

#[path = "vault_support/mod.rs"]
mod support;

use keywarden::engine::vault::secrets::hint;
use keywarden::engine::vault::*;
use serde_json::Value;
use support::*;

/// What a listing says about each entry, in order, and about the rest of the vault.
#[derive(Debug, PartialEq)]
struct Seen {
    entries: Vec<(String, EntryMeta, String, Trust)>,
    damaged: Vec<(String, OpenError)>,
    missing: Vec<EntryId>,
    index: IndexState,
}

/// Lists through the summaries, checks that it says exactly what opening every entry says,
/// writes the refresh, and checks that a second listing then decrypts nothing and writes nothing.
/// Returns how many entries the first listing decrypted.
fn consistent(store: &mut MemoryStore, vault: &UnlockedVault) -> usize {
    let full = vault.list(store);
    let expected = Seen {
        entries: full.entries.iter().map(|e| (e.id.to_string(), e.meta.clone(), hint(&e.secret), e.trust)).collect(),
        damaged: full.damaged.iter().map(|d| (d.key.clone(), d.reason)).collect(),
        missing: full.missing.clone(),
        index: full.index,
    };
    let seen = |s: &Summaries| Seen {
        entries: s.entries.iter().map(|e| (e.id.to_string(), e.meta.clone(), e.hint.clone(), e.trust)).collect(),
        damaged: s.damaged.iter().map(|d| (d.key.clone(), d.reason)).collect(),
        missing: s.missing.clone(),
        index: s.index,
    };
    let first = vault.summaries(store);
    assert_eq!(seen(&first), expected);
    apply(store, &first.refresh);
    let again = vault.summaries(store);
    assert_eq!(seen(&again), expected);
    assert_eq!(again.opened, 0, "a listing right after a refresh decrypts nothing");
    assert!(again.refresh.is_empty(), "and has nothing to write");
    assert!(again.set_aside.is_empty());
    first.opened
}

fn chunks(store: &MemoryStore) -> Vec<String> {
    store.keys_with_prefix(SUMMARY_PREFIX)
}

fn save(store: &mut MemoryStore, vault: &UnlockedVault, key: &str, name: &str, at: u64) -> EntryId {
    let sealed = vault.seal(store, &secret(key), &meta("predicthq", "control.predicthq.com", "ops@x.test", name, at));
    let sealed = sealed.expect("seal");
    apply(store, &sealed.changes);
    sealed.id
}

#[test]
fn summaries_follow_saves_renames_state_changes_and_deletions() {
    let (mut store, vault) = fresh();
    assert_eq!(consistent(&mut store, &vault), 0, "an empty vault");
    let ids: Vec<EntryId> = (0..12).map(|i| save(&mut store, &vault, &format!("phq_{i:040}"), "k", NOW + i)).collect();
    assert_eq!(consistent(&mut store, &vault), 12, "every new entry is opened once");
    assert!(!chunks(&store).is_empty());

    // A save opens only the new entry at the next listing.
    save(&mut store, &vault, "phq_new_key_0000000000000000000000000000", "new", NOW + 100);
    assert_eq!(consistent(&mut store, &vault), 1);

    // A rename rewrites the item: its summary is refreshed, the others are not opened.
    let entry = vault.open(&store, &ids[3]).unwrap();
    let renamed = EntryMeta { key_name: "renamed".into(), ..entry.meta.clone() };
    let c = vault.update(&store, &entry, &renamed).unwrap();
    apply(&mut store, &c);
    assert_eq!(consistent(&mut store, &vault), 1);
    let listed = vault.summaries(&store);
    assert_eq!(listed.entries.iter().find(|e| e.id == ids[3]).unwrap().meta.key_name, "renamed");

    let entry = vault.open(&store, &ids[4]).unwrap();
    let c = vault.set_state(&store, &[&entry], EntryState::Revoked).unwrap();
    apply(&mut store, &c);
    assert_eq!(consistent(&mut store, &vault), 1);

    // A deletion leaves no summary behind, and the undo brings the entry back as it was.
    let deleted_item = store.get(&ids[5].item_key()).unwrap();
    let c = vault.delete(&store, &ids[5]);
    apply(&mut store, &c);
    assert_eq!(consistent(&mut store, &vault), 0);
    assert!(vault.summaries(&store).entries.iter().all(|e| e.id != ids[5]));
    let c = vault.restore(&store, &ids[5], &deleted_item).unwrap();
    apply(&mut store, &c);
    assert_eq!(consistent(&mut store, &vault), 1);

    // Deleting everything removes every chunk.
    for e in vault.summaries(&store).entries {
        let c = vault.delete(&store, &e.id);
        apply(&mut store, &c);
    }
    assert_eq!(consistent(&mut store, &vault), 0);
    assert!(chunks(&store).is_empty(), "{:?}", chunks(&store));
}

#[test]
fn summaries_follow_an_import_an_adoption_and_a_rebuilt_index() {
    let (mut store, private, vault) = fresh_with_private();
    for i in 0..3 {
        save(&mut store, &vault, &format!("phq_{i:040}"), "k", NOW + i);
    }
    consistent(&mut store, &vault);
    let backup = vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap();

    // Another vault imports the backup.
    let (mut other, other_vault) = fresh();
    save(&mut other, &other_vault, "phq_own_000000000000000000000000000000000", "own", NOW);
    consistent(&mut other, &other_vault);
    let report = other_vault.import_backup(&other, backup.armored.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap();
    apply(&mut other, &report.changes);
    assert_eq!(consistent(&mut other, &other_vault), 3);

    // A capture sealed while locked, then adopted: its ciphertext is kept, so is its summary.
    let sealed = seal_locked(
        &store,
        &private,
        &secret("phq_locked_00000000000000000000000000000000"),
        &meta("predicthq", "t", "a", "locked", NOW + 50),
    )
    .unwrap();
    apply(&mut store, &sealed.changes);
    assert_eq!(consistent(&mut store, &vault), 1);
    let (adopted, changes) = vault.adopt_unverified(&store);
    assert_eq!(adopted, vec![sealed.id.clone()]);
    apply(&mut store, &changes);
    assert_eq!(consistent(&mut store, &vault), 1, "the adopted capture's summary is refreshed once");

    // The index lost, then rebuilt: the listing says so exactly as opening every entry does.
    store.remove(INDEX_KEY).unwrap();
    consistent(&mut store, &vault);
    assert_eq!(vault.summaries(&store).index, IndexState::Missing);
    let c = vault.rebuild_index(&store);
    apply(&mut store, &c);
    consistent(&mut store, &vault);
    assert_eq!(vault.summaries(&store).index, IndexState::Ok);
}

#[test]
fn a_flipped_byte_in_an_item_damages_only_that_item_even_with_its_summary_in_place() {
    let (mut store, vault) = fresh();
    let ids: Vec<EntryId> = (0..6).map(|i| save(&mut store, &vault, &format!("phq_{i:040}"), "k", NOW + i)).collect();
    consistent(&mut store, &vault);
    let key = ids[2].item_key();
    let mut item = store.get(&key).unwrap();
    item["age"] = Value::String(flip_b64(item["age"].as_str().unwrap(), 200));
    store.insert(&key, item);
    assert_eq!(consistent(&mut store, &vault), 0, "nothing else is opened");
    let listed = vault.summaries(&store);
    assert_eq!(listed.damaged.len(), 1);
    assert_eq!((listed.damaged[0].key.as_str(), listed.damaged[0].reason), (key.as_str(), OpenError::BadMac));
    assert_eq!(listed.entries.len(), 5);

    // A stripped MAC is still told from a capture awaiting adoption.
    let key = ids[3].item_key();
    let mut item = store.get(&key).unwrap();
    item.as_object_mut().unwrap().remove("mac");
    store.insert(&key, item);
    consistent(&mut store, &vault);
    let listed = vault.summaries(&store);
    assert!(listed.damaged.iter().any(|d| d.key == key && d.reason == OpenError::MacRemoved));
}

#[test]
fn a_flipped_byte_in_a_summary_chunk_is_reported_and_rebuilt_and_loses_nothing() {
    let (mut store, vault) = fresh();
    for i in 0..20 {
        save(&mut store, &vault, &format!("phq_{i:040}"), "k", NOW + i);
    }
    consistent(&mut store, &vault);
    let before = vault.summaries(&store).entries;
    let chunk = chunks(&store)[0].clone();
    let in_chunk = before.iter().filter(|e| chunk.ends_with(&e.id.as_str()[..1])).count();
    let mut item = store.get(&chunk).unwrap();
    item["ciphertext"] = Value::String(flip_b64(item["ciphertext"].as_str().unwrap(), 5));
    store.insert(&chunk, item);

    let listed = vault.summaries(&store);
    assert_eq!(listed.entries, before, "every entry is still listed, the same");
    assert_eq!(listed.set_aside, vec![(chunk.clone(), ChunkProblem::Unopenable)]);
    assert_eq!(listed.opened, in_chunk, "only that chunk's entries are opened again");
    assert!(listed.refresh.value(&chunk).is_some(), "and the chunk is written again");
    consistent(&mut store, &vault);
}

#[test]
fn a_chunk_moved_under_another_key_or_from_a_newer_keywarden_is_set_aside() {
    let (mut store, vault) = fresh();
    for i in 0..30 {
        save(&mut store, &vault, &format!("phq_{i:040}"), "k", NOW + i);
    }
    consistent(&mut store, &vault);
    let names = chunks(&store);
    let (a, b) = (names[0].clone(), names[1].clone());
    let moved = store.get(&a).unwrap();
    store.insert(&b, moved);
    let mut newer = store.get(&a).unwrap();
    newer["version"] = 99.into();
    store.insert(&a, newer);
    let listed = vault.summaries(&store);
    let mut problems = listed.set_aside.clone();
    problems.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(problems, vec![(a.clone(), ChunkProblem::UnknownVersion), (b.clone(), ChunkProblem::Malformed)]);
    consistent(&mut store, &vault);
}

#[test]
fn after_a_passphrase_change_the_old_summaries_open_nothing_and_are_rebuilt() {
    let (mut store, vault) = fresh();
    for i in 0..5 {
        save(&mut store, &vault, &format!("phq_{i:040}"), "k", NOW + i);
    }
    consistent(&mut store, &vault);
    let rotation = vault.change_passphrase(&store, &pass("a new passphrase entirely"), weak()).unwrap();
    for batch in &rotation.batches {
        apply(&mut store, batch);
    }
    let vault = rotation.vault;
    let listed = vault.summaries(&store);
    assert!(listed.set_aside.iter().all(|(_, p)| *p == ChunkProblem::Unopenable));
    assert!(!listed.set_aside.is_empty());
    assert_eq!(consistent(&mut store, &vault), 5);
}

#[test]
fn no_summary_chunk_holds_a_key_in_clear_and_a_listing_holds_no_secret() {
    let (mut store, vault) = fresh();
    let key = "phq_LEAKCANARY_secret_value_0000000000000000";
    save(&mut store, &vault, key, "k", NOW);
    consistent(&mut store, &vault);
    for name in chunks(&store) {
        let text = store.get(&name).unwrap().to_string();
        assert!(!text.contains("LEAKCANARY") && !text.contains("ops@x.test"), "{text}");
    }
    let listed = vault.summaries(&store);
    assert!(!format!("{listed:?}").contains("LEAKCANARY"));
    assert_eq!(listed.entries[0].hint, hint(&secret(key)));
}

/// The vault a build before the summaries wrote (tests/data/vault/vault-v2.json: an
/// authenticated, an unverified and a foreign entry): it lists the same through the summaries,
/// which its first listing writes.
#[test]
fn a_vault_written_before_the_summaries_lists_the_same_and_gets_them() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vault/vault-v2.json");
    let vector: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut store = MemoryStore::new();
    for (k, v) in vector["items"].as_object().unwrap() {
        store.insert(k, v.clone());
    }
    assert!(chunks(&store).is_empty());
    let vault = unlocked_with(&mut store, vector["passphrase"].as_str().unwrap());
    assert_eq!(consistent(&mut store, &vault), 3);
    assert!(!chunks(&store).is_empty());
    let expected: Vec<(String, String)> = vector["expect"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_string(), e["trust"].as_str().unwrap().to_string()))
        .collect();
    let listed: Vec<(String, String)> = vault
        .summaries(&store)
        .entries
        .iter()
        .map(|e| (e.id.to_string(), serde_json::to_value(e.trust).unwrap().as_str().unwrap().to_string()))
        .collect();
    assert_eq!(listed, expected);
}
