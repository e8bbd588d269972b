//! The vault core end to end on an in-memory store: setup, unlock and its throttle, captures while locked and unlocked, damaged items, replacement, quota, backup, import and sharing.

#[path = "vault_support/mod.rs"]
mod support;

use keywarden::engine::vault::throttle::FREE_FAILURES;
use keywarden::engine::vault::*;
use serde_json::{json, Value};
use support::*;

fn item(store: &MemoryStore, key: &str) -> Value {
    store.get(key).unwrap_or_else(|| panic!("no item {key}"))
}

fn flip_b64(value: &str, at: usize) -> String {
    use base64::Engine;
    let e = base64::engine::general_purpose::STANDARD;
    let mut bytes = e.decode(value).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    e.encode(bytes)
}

fn capture(store: &mut MemoryStore, vault: Option<&UnlockedVault>, key: &str, m: &EntryMeta) -> EntryId {
    let sealed = match vault {
        Some(v) => v.seal(store, &secret(key), m),
        None => seal_locked(store, &secret(key), m),
    }
    .expect("seal");
    apply(store, &sealed.changes);
    sealed.id
}

// ---------------------------------------------------------------------------------------------
// Setup, unlock, throttle, passphrase change, session resume

#[test]
fn setup_writes_only_the_header_and_index() {
    let (store, vault) = fresh();
    let keys: Vec<_> = store.items().keys().cloned().collect();
    assert_eq!(keys, vec![HEADER_KEY, INDEX_KEY]);
    let header = item(&store, HEADER_KEY);
    assert_eq!(header["format"], "keywarden-vault");
    assert_eq!(header["version"], 1);
    assert_eq!(header["created_at"], NOW);
    assert_eq!(header["kdf"]["alg"], "argon2id");
    assert_eq!(header["kdf"]["m_cost_kib"], 1024);
    assert_eq!(header["kdf"]["p_cost"], 1);
    assert_eq!(header["recipient"], vault.recipient());
    assert!(vault.recipient().starts_with("age1"));
    let all = serde_json::to_string(store.items()).unwrap();
    assert!(!all.contains("horse") && !all.contains("AGE-SECRET-KEY"), "nothing secret in clear");
    assert_eq!(stored_recipient(&store).unwrap(), vault.recipient());
    assert_eq!(stored_params(&store).unwrap(), weak());
}

#[test]
fn setup_refuses_a_second_vault_and_short_passphrases() {
    let (store, _) = fresh();
    assert_eq!(setup(&store, &pass(PASSPHRASE), weak(), NOW).unwrap_err(), SetupError::AlreadySetUp);
    let empty = MemoryStore::new();
    let err = setup(&empty, &pass("short"), weak(), NOW).unwrap_err();
    assert_eq!(err, SetupError::PassphraseTooShort { min: 8 });
    assert_eq!(err.to_string(), "the passphrase needs at least 8 characters");
}

#[test]
fn wrong_passphrase_is_its_own_error_and_delays_grow() {
    let (mut store, _) = fresh();
    let mut now = NOW;
    let mut waits = Vec::new();
    for n in 1..=FREE_FAILURES + 2 {
        let attempt = unlock(&store, &pass("not the passphrase"), now);
        let err = attempt.result.unwrap_err();
        let UnlockError::WrongPassphrase { wait_ms } = err else { panic!("{err:?}") };
        assert!(err.to_string().starts_with("wrong passphrase"));
        waits.push(wait_ms);
        apply(&mut store, &attempt.changes);
        let t = Throttle::from_item(store.get(THROTTLE_KEY));
        assert_eq!(t, Throttle { failures: n, last_failure_at: now });
        now = t.earliest_next_attempt().max(now) + 10;
    }
    assert_eq!(waits, vec![0, 0, 1_000, 2_000, 4_000]);
    now -= 20;
    // The counter lives in storage, so a fresh worker (a new call with the same store) sees it.
    let t = Throttle::from_item(store.get(THROTTLE_KEY));
    assert!(t.delay_ms() > 0);
    let early = unlock(&store, &pass(PASSPHRASE), now);
    let Err(UnlockError::Throttled { wait_ms }) = early.result else { panic!("not throttled") };
    assert!(wait_ms > 0 && wait_ms <= t.delay_ms());
    assert!(early.changes.is_empty(), "a refused attempt changes nothing");
    // After the wait the right passphrase works and clears the counter.
    let later = unlock(&store, &pass(PASSPHRASE), t.earliest_next_attempt());
    assert!(later.result.is_ok());
    apply(&mut store, &later.changes);
    assert!(store.get(THROTTLE_KEY).is_none());
}

#[test]
fn a_clock_set_back_does_not_lock_the_admin_out_for_ever() {
    let (mut store, _) = fresh();
    store.insert(THROTTLE_KEY, Throttle { failures: 6, last_failure_at: NOW + 86_400_000 }.to_item());
    let attempt = unlock(&store, &pass(PASSPHRASE), NOW);
    let Err(UnlockError::Throttled { wait_ms }) = attempt.result else { panic!("not throttled") };
    apply(&mut store, &attempt.changes);
    assert!(unlock(&store, &pass(PASSPHRASE), NOW + wait_ms).result.is_ok());
}

#[test]
fn damaged_or_newer_headers_are_not_wrong_passphrases() {
    let (store, _) = fresh();
    let header = item(&store, HEADER_KEY);

    let mut flipped = store.clone();
    let mut h = header.clone();
    h["wrapped_key"]["ciphertext"] = flip_b64(h["wrapped_key"]["ciphertext"].as_str().unwrap(), 3).into();
    flipped.insert(HEADER_KEY, h);
    let attempt = unlock(&flipped, &pass(PASSPHRASE), NOW);
    assert_eq!(attempt.result.unwrap_err(), UnlockError::Damaged("the wrapped vault key failed authentication"));
    assert!(attempt.changes.is_empty(), "damage does not count as a guess");

    let mut newer = store.clone();
    let mut h = header.clone();
    h["version"] = json!(2);
    newer.insert(HEADER_KEY, h);
    let err = unlock(&newer, &pass(PASSPHRASE), NOW).result.unwrap_err();
    assert_eq!(err, UnlockError::UnknownVersion(2));
    assert!(err.to_string().contains("version 2"));

    let mut foreign = store.clone();
    foreign.insert(HEADER_KEY, json!({ "hello": "world" }));
    assert!(matches!(unlock(&foreign, &pass(PASSPHRASE), NOW).result, Err(UnlockError::Damaged(_))));

    assert_eq!(unlock(&MemoryStore::new(), &pass(PASSPHRASE), NOW).result.unwrap_err(), UnlockError::NotSetUp);
}

#[test]
fn a_swapped_recipient_is_caught_at_unlock() {
    let (mut store, _) = fresh();
    let attacker = age::x25519::Identity::generate().to_public().to_string();
    let mut h = item(&store, HEADER_KEY);
    h["recipient"] = attacker.into();
    store.insert(HEADER_KEY, h);
    let err = unlock(&store, &pass(PASSPHRASE), NOW).result.unwrap_err();
    assert!(matches!(err, UnlockError::Damaged(m) if m.contains("recipient")), "{err:?}");
}

#[test]
fn absurd_stored_argon2_costs_are_refused_before_running() {
    let (mut store, _) = fresh();
    let mut h = item(&store, HEADER_KEY);
    h["kdf"]["m_cost_kib"] = json!(64u64 * 1024 * 1024);
    store.insert(HEADER_KEY, h);
    assert_eq!(
        unlock(&store, &pass(PASSPHRASE), NOW).result.unwrap_err(),
        UnlockError::Damaged("Argon2 parameters out of bounds")
    );
}

#[test]
fn changing_the_passphrase_rewraps_the_key_and_leaves_entries_alone() {
    let (mut store, vault) = fresh();
    let id = capture(
        &mut store,
        Some(&vault),
        "phq_live_0123456789abcdef",
        &meta("predicthq", "acme", "ops@acme.test", "CI", NOW),
    );
    let entry_before = item(&store, &id.item_key());
    let header_before = item(&store, HEADER_KEY);

    let changes = vault.change_passphrase(&store, &pass("a new passphrase entirely"), weak()).unwrap();
    assert_eq!(changes.set.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(), vec![HEADER_KEY]);
    apply(&mut store, &changes);
    let header_after = item(&store, HEADER_KEY);
    assert_ne!(header_after["kdf"]["salt"], header_before["kdf"]["salt"]);
    assert_ne!(header_after["wrapped_key"], header_before["wrapped_key"]);
    assert_eq!(header_after["identity"], header_before["identity"]);
    assert_eq!(header_after["recipient"], header_before["recipient"]);
    assert_eq!(item(&store, &id.item_key()), entry_before);

    assert!(matches!(unlock(&store, &pass(PASSPHRASE), NOW).result, Err(UnlockError::WrongPassphrase { .. })));
    let reopened = unlock(&store, &pass("a new passphrase entirely"), NOW).result.unwrap();
    assert_eq!(reopened.open(&store, &id).unwrap().secret.expose(), "phq_live_0123456789abcdef");
    assert!(vault.change_passphrase(&store, &pass("short"), weak()).is_err());
}

#[test]
fn a_session_key_resumes_the_same_vault_only() {
    let (store, vault) = fresh();
    let session = vault.session_key();
    assert_eq!(format!("{session:?}"), "SecretString(<redacted>)");
    assert_eq!(resume(&store, &session).unwrap().recipient(), vault.recipient());
    assert_eq!(resume(&store, &secret("not base64!")).unwrap_err(), UnlockError::StaleSession);
    let (other, _) = fresh();
    assert_eq!(resume(&other, &session).unwrap_err(), UnlockError::StaleSession);
}

// ---------------------------------------------------------------------------------------------
// Entries

#[test]
fn a_capture_while_locked_writes_one_opaque_item() {
    let (mut store, _) = fresh();
    let before = store.clone();
    let m = meta("predicthq", "acme-corp", "ops@acme.test", "Production token", NOW);
    let sealed = seal_locked(&store, &secret("phq_live_SECRETSECRET"), &m).unwrap();
    assert_eq!(sealed.changes.remove, Vec::<String>::new());
    assert_eq!(sealed.changes.set.len(), 1);
    let w = &sealed.changes.set[0];
    assert_eq!(w.key, format!("entry:{}", sealed.id));
    assert_eq!(w.bytes, w.key.len() + w.value.to_string().len());
    let mut fields: Vec<_> = w.value.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, vec!["age", "format", "id", "version"]);
    let clear = w.value.to_string();
    for leak in ["phq_live", "predicthq", "acme", "ops@", "Production", "events"] {
        assert!(!clear.contains(leak), "{leak} is visible in the stored item");
    }
    apply(&mut store, &sealed.changes);
    assert_eq!(store.items().len(), before.items().len() + 1);
}

#[test]
fn captures_while_locked_are_unverified_until_adopted() {
    let (mut store, _) = fresh();
    let id = capture(&mut store, None, "phq_live_A", &meta("predicthq", "acme", "a@acme.test", "k", NOW));
    let vault = unlocked(&mut store);
    let listing = vault.list(&store);
    assert_eq!(listing.entries.len(), 1);
    assert_eq!(listing.entries[0].trust, Trust::Unverified);
    assert_eq!(listing.entries[0].secret.expose(), "phq_live_A");

    let (adopted, changes) = vault.adopt_unverified(&store);
    assert_eq!(adopted, vec![id.clone()]);
    apply(&mut store, &changes);
    assert!(item(&store, &id.item_key())["mac"].is_string());
    let listing = vault.list(&store);
    assert_eq!(listing.entries[0].trust, Trust::Authenticated);
    assert!(!listing.index_damaged);
    let (again, changes) = vault.adopt_unverified(&store);
    assert!(again.is_empty() && changes.is_empty());
}

#[test]
fn captures_while_unlocked_are_authenticated_at_once() {
    let (mut store, vault) = fresh();
    let m = meta("predicthq", "acme", "a@acme.test", "k", NOW);
    let id = capture(&mut store, Some(&vault), "phq_live_B", &m);
    let e = vault.open(&store, &id).unwrap();
    assert_eq!((e.trust, e.meta, e.secret.expose()), (Trust::Authenticated, m, "phq_live_B"));
}

#[test]
fn one_damaged_item_never_takes_the_others_with_it() {
    let (mut store, vault) = fresh();
    let mut ids = Vec::new();
    for i in 0..9 {
        let m = meta("predicthq", &format!("tenant-{i}"), "a@acme.test", &format!("key {i}"), NOW + i);
        let locked = i % 2 == 1;
        ids.push(capture(&mut store, if locked { None } else { Some(&vault) }, &format!("phq_live_{i}"), &m));
    }
    let good = capture(&mut store, Some(&vault), "phq_live_good", &meta("predicthq", "fine", "", "", NOW + 50));
    let key = |i: usize| ids[i].item_key();
    let mut expected = Vec::new();

    // 0 (authenticated): a byte flipped in the ciphertext.
    let mut v = item(&store, &key(0));
    v["age"] = flip_b64(v["age"].as_str().unwrap(), 200).into();
    store.insert(&key(0), v);
    expected.push((key(0), OpenError::BadMac));
    // 1 (unverified): a byte flipped in the ciphertext.
    let mut v = item(&store, &key(1));
    v["age"] = flip_b64(v["age"].as_str().unwrap(), 200).into();
    store.insert(&key(1), v);
    expected.push((key(1), OpenError::Undecryptable));
    // 2: the item moved under another key.
    let moved = EntryId::random().unwrap().item_key();
    store.insert(&moved, item(&store, &key(2)));
    expected.push((moved, OpenError::WrongKey));
    // 3 (unverified): its ciphertext cut off inside the age header.
    let mut v = item(&store, &key(3));
    let ct = {
        use base64::Engine;
        let e = base64::engine::general_purpose::STANDARD;
        let b = e.decode(v["age"].as_str().unwrap()).unwrap();
        e.encode(&b[..100])
    };
    v["age"] = ct.into();
    store.insert(&key(3), v);
    expected.push((key(3), OpenError::Truncated));
    // 4: a future format version.
    let mut v = item(&store, &key(4));
    v["version"] = json!(2);
    store.insert(&key(4), v);
    expected.push((key(4), OpenError::UnknownVersion(2)));
    // 5 (unverified): outer id rewritten to another fresh id; the payload still names the old one.
    let mut v = item(&store, &key(5));
    let renamed = EntryId::random().unwrap();
    v["id"] = renamed.as_str().into();
    store.remove(&key(5)).unwrap();
    store.insert(&renamed.item_key(), v);
    expected.push((renamed.item_key(), OpenError::Mismatch));
    // 6 (authenticated): MAC stripped and ciphertext replaced by one made by "anyone".
    let forged = seal_locked(&store, &secret("attacker key"), &meta("predicthq", "tenant-6", "", "", NOW)).unwrap();
    let mut v = forged.changes.set[0].value.clone();
    v["id"] = ids[6].as_str().into();
    store.insert(&key(6), v);
    expected.push((key(6), OpenError::MacRemoved));
    // 7 (unverified): not JSON of ours at all.
    store.insert(&key(7), json!("garbage"));
    expected.push((key(7), OpenError::Malformed("not a keywarden entry")));
    // 8 (authenticated): a wrong MAC.
    let mut v = item(&store, &key(8));
    v["mac"] = flip_b64(v["mac"].as_str().unwrap(), 0).into();
    store.insert(&key(8), v);
    expected.push((key(8), OpenError::BadMac));
    // An item sealed to another vault.
    let (other_store, _) = fresh();
    let stranger = seal_locked(&other_store, &secret("x"), &meta("predicthq", "t", "", "", NOW)).unwrap();
    store.insert(&stranger.changes.set[0].key, stranger.changes.set[0].value.clone());
    expected.push((stranger.changes.set[0].key.clone(), OpenError::Undecryptable));

    let listing = vault.list(&store);
    let mut damaged: Vec<_> = listing.damaged.iter().map(|d| (d.key.clone(), d.reason)).collect();
    damaged.sort_by_key(|d| d.0.clone());
    expected.sort_by_key(|d| d.0.clone());
    assert_eq!(damaged, expected);
    let opened: Vec<_> = listing.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(opened, vec![ids[2].clone(), good.clone()], "the untouched original of 2 and the good one still open");
    assert!(listing.missing.is_empty());
    for d in &listing.damaged {
        let text = d.reason.to_string();
        assert!(!text.contains("phq_live") && !text.is_empty());
    }
    // Adoption never vouches for a damaged item.
    let (adopted, _) = vault.adopt_unverified(&store);
    assert!(adopted.is_empty(), "{adopted:?}");
}

#[test]
fn two_tabs_capturing_at_once_do_not_clobber_each_other() {
    let (mut store, vault) = fresh();
    // Both captures are planned against the same snapshot, as two tabs racing would.
    let locked_a = seal_locked(&store, &secret("phq_live_tab_a"), &meta("predicthq", "a", "", "", NOW)).unwrap();
    let locked_b = seal_locked(&store, &secret("phq_live_tab_b"), &meta("predicthq", "b", "", "", NOW)).unwrap();
    let open_c = vault.seal(&store, &secret("phq_live_tab_c"), &meta("predicthq", "c", "", "", NOW)).unwrap();
    let open_d = vault.seal(&store, &secret("phq_live_tab_d"), &meta("predicthq", "d", "", "", NOW)).unwrap();
    for c in [&locked_a.changes, &locked_b.changes, &open_c.changes, &open_d.changes] {
        apply(&mut store, c);
    }
    let listing = vault.list(&store);
    assert_eq!(listing.entries.len(), 4, "every capture is kept");
    assert!(listing.damaged.is_empty());
    // The index update of c was lost to d's; the adoption after the next unlock repairs it.
    let (_, changes) = vault.adopt_unverified(&store);
    apply(&mut store, &changes);
    let mut v = item(&store, &open_c.id.item_key());
    v.as_object_mut().unwrap().remove("mac");
    store.insert(&open_c.id.item_key(), v);
    assert_eq!(vault.open(&store, &open_c.id).unwrap_err(), OpenError::MacRemoved);
}

#[test]
fn deleting_updates_the_index_and_vanished_items_are_reported() {
    let (mut store, vault) = fresh();
    let a = capture(&mut store, Some(&vault), "k1", &meta("predicthq", "a", "", "", NOW));
    let b = capture(&mut store, Some(&vault), "k2", &meta("predicthq", "b", "", "", NOW));
    let c = vault.delete(&store, &a);
    apply(&mut store, &c);
    let listing = vault.list(&store);
    assert_eq!(listing.entries.len(), 1);
    assert!(listing.missing.is_empty());
    store.remove(&b.item_key()).unwrap();
    assert_eq!(vault.list(&store).missing, vec![b]);
}

#[test]
fn a_lost_index_is_reported_and_rebuilt_from_the_macs() {
    let (mut store, vault) = fresh();
    let a = capture(&mut store, Some(&vault), "k1", &meta("predicthq", "a", "", "", NOW));
    store.insert(INDEX_KEY, json!({ "format": "keywarden-index", "version": 1, "ids": [], "mac": "AAAA" }));
    let listing = vault.list(&store);
    assert!(listing.index_damaged);
    assert_eq!(listing.entries.len(), 1);
    let (_, changes) = vault.adopt_unverified(&store);
    apply(&mut store, &changes);
    assert!(!vault.list(&store).index_damaged);
    // The rebuilt index protects `a` again.
    let mut v = item(&store, &a.item_key());
    v.as_object_mut().unwrap().remove("mac");
    store.insert(&a.item_key(), v);
    assert_eq!(vault.open(&store, &a).unwrap_err(), OpenError::MacRemoved);
}

#[test]
fn a_new_key_replaces_the_previous_one_for_the_same_slot() {
    let (mut store, vault) = fresh();
    let old = capture(&mut store, Some(&vault), "old", &meta("predicthq", "Acme", "ops@acme.test", "k", NOW));
    let other_account = capture(&mut store, Some(&vault), "x", &meta("predicthq", "acme", "dev@acme.test", "k", NOW));
    let other_tenant = capture(&mut store, Some(&vault), "y", &meta("predicthq", "globex", "ops@acme.test", "k", NOW));
    let new_meta = meta("predicthq", "acme", "OPS@acme.test", "k2", NOW + 1000);
    let new = capture(&mut store, None, "new", &new_meta);

    let listing = vault.list(&store);
    assert_eq!(replaced_by(&new, &new_meta, &listing.entries), vec![old.clone()]);
    assert_eq!(stale_actives(&listing.entries), vec![old.clone()]);
    let targets: Vec<&OpenEntry> = listing.entries.iter().filter(|e| e.id == old).collect();
    let c = vault.set_state(&store, &targets, EntryState::Replaced).unwrap();
    apply(&mut store, &c);

    let listing = vault.list(&store);
    let state = |id: &EntryId| listing.entries.iter().find(|e| &e.id == id).unwrap().meta.state;
    assert_eq!(state(&old), EntryState::Replaced);
    assert_eq!(state(&new), EntryState::Active);
    assert_eq!(state(&other_account), EntryState::Active);
    assert_eq!(state(&other_tenant), EntryState::Active);
    assert!(stale_actives(&listing.entries).is_empty());
    assert_eq!(vault.open(&store, &old).unwrap().secret.expose(), "old");
}

#[test]
fn a_full_store_refuses_the_capture_loudly_and_changes_nothing() {
    let (mut store, vault) = fresh();
    capture(&mut store, Some(&vault), "first", &meta("predicthq", "a", "", "", NOW));
    store.set_quota(Some(store.bytes_in_use() + 200));
    let before = store.clone();
    for sealed in [
        seal_locked(&store, &secret("phq_live_second"), &meta("predicthq", "b", "", "", NOW)).unwrap(),
        vault.seal(&store, &secret("phq_live_second"), &meta("predicthq", "b", "", "", NOW)).unwrap(),
    ] {
        assert!(sealed.changes.bytes() > 200, "the glue sees the size up front");
        let err = store.apply(&sealed.changes).unwrap_err();
        let StoreError::QuotaExceeded { needed, available } = err.clone() else { panic!("{err:?}") };
        assert_eq!((needed, available), (sealed.changes.bytes(), 200));
        assert!(err.to_string().starts_with("storage is full"));
        assert!(!err.to_string().contains("phq_live"));
        assert_eq!(store, before, "nothing was written");
    }
    assert_eq!(vault.list(&store).entries.len(), 1);
}

#[test]
fn entry_fields_are_bounded_and_secrets_required() {
    let (store, vault) = fresh();
    let m = meta("predicthq", "a", "", "", NOW);
    assert_eq!(
        vault.seal(&store, &secret(""), &m).unwrap_err(),
        SealError::Invalid { field: "secret", problem: "is empty" }
    );
    let long = EntryMeta { notes: "n".repeat(100_000), ..m.clone() };
    let err = seal_locked(&store, &secret("k"), &long).unwrap_err();
    assert_eq!(err.to_string(), "cannot save the key: its notes is too long");
    let no_vendor = EntryMeta { vendor: " ".into(), ..m };
    assert!(matches!(seal_locked(&store, &secret("k"), &no_vendor), Err(SealError::Invalid { field: "vendor", .. })));
    assert_eq!(
        seal_locked(&MemoryStore::new(), &secret("k"), &meta("v", "t", "", "", 0)).unwrap_err(),
        SealError::Header(HeaderProblem::Missing)
    );
}

#[test]
fn no_secret_in_debug_output_errors_or_changesets() {
    let (mut store, vault) = fresh();
    let id = capture(&mut store, Some(&vault), "phq_live_TOPSECRET", &meta("predicthq", "a", "", "", NOW));
    let entry = vault.open(&store, &id).unwrap();
    let listing = vault.list(&store);
    let attempt = unlock(&store, &pass(PASSPHRASE), NOW);
    let shown = format!("{entry:?} {listing:?} {vault:?} {attempt:?} {:?}", pass(PASSPHRASE));
    for secret in ["phq_live_TOPSECRET", "horse", "AGE-SECRET-KEY"] {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
    let sealed = vault.seal(&store, &secret("phq_live_TOPSECRET"), &meta("predicthq", "a", "", "", NOW)).unwrap();
    assert!(!serde_json::to_string(&sealed.changes).unwrap().contains("TOPSECRET"));
}

// ---------------------------------------------------------------------------------------------
// Backup and import

fn vault_with_three() -> (MemoryStore, UnlockedVault, Vec<EntryId>) {
    let (mut store, vault) = fresh();
    let ids = vec![
        capture(&mut store, Some(&vault), "phq_live_one", &meta("predicthq", "acme", "a@acme.test", "one", NOW)),
        capture(&mut store, None, "phq_live_two", &meta("predicthq", "globex", "b@globex.test", "two", NOW + 1)),
        capture(&mut store, Some(&vault), "phq_live_three", &meta("predicthq", "initech", "", "three", NOW + 2)),
    ];
    (store, vault, ids)
}

fn export(store: &MemoryStore, vault: &UnlockedVault) -> String {
    vault.export_backup_with_work_factor(store, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap().armored
}

#[test]
fn a_backup_restores_into_an_empty_vault() {
    let (store, vault, ids) = vault_with_three();
    let backup = vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap();
    assert_eq!(backup.entries, 3);
    assert!(backup.armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
    assert!(backup.armored.trim_end().ends_with("-----END AGE ENCRYPTED FILE-----"));
    assert!(!backup.armored.contains("phq_live"));

    let (mut target, other) = fresh();
    let report = other.import_backup(&target, backup.armored.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap();
    assert_eq!(report.imported, ids);
    assert_eq!(report.exported_at, NOW);
    assert!(report.duplicates.is_empty() && report.renamed.is_empty());
    apply(&mut target, &report.changes);
    let restored = other.list(&target);
    let original = vault.list(&store);
    assert_eq!(restored.entries.len(), 3);
    for (a, b) in restored.entries.iter().zip(&original.entries) {
        assert_eq!((&a.id, &a.meta, a.secret.expose()), (&b.id, &b.meta, b.secret.expose()));
        assert_eq!(a.trust, Trust::Authenticated);
    }
}

#[test]
fn importing_merges_without_overwriting() {
    let (mut store, vault, ids) = vault_with_three();
    let armored = export(&store, &vault);

    // Same vault: everything is a duplicate, nothing to write.
    let report = vault.import_backup(&store, armored.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap();
    assert_eq!(report.duplicates, ids);
    assert!(report.imported.is_empty() && report.changes.is_empty());

    // One entry deleted, another id reused by a different key (planted through a crafted
    // backup): the first comes back, the second is added under a new id, the occupant stays.
    let c = vault.delete(&store, &ids[0]);
    apply(&mut store, &c);
    let c = vault.delete(&store, &ids[1]);
    apply(&mut store, &c);
    let crafted = passphrase_file(&json!({
        "format": "keywarden-backup", "version": 1, "exported_at": NOW,
        "entries": [{ "id": ids[1], "secret": "phq_live_other", "meta": meta("predicthq", "globex", "", "else", NOW) }]
    }).to_string());
    let planted = vault.import_backup(&store, crafted.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap();
    assert_eq!(planted.imported, vec![ids[1].clone()]);
    apply(&mut store, &planted.changes);
    let occupant_item = item(&store, &ids[1].item_key());
    let report = vault.import_backup(&store, armored.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap();
    assert_eq!(report.imported, vec![ids[0].clone()]);
    assert_eq!(report.duplicates, vec![ids[2].clone()]);
    assert_eq!(report.renamed.len(), 1);
    assert_eq!(report.renamed[0].0, ids[1]);
    assert!(report.changes.set.iter().all(|w| w.key != ids[1].item_key()), "the occupant is not overwritten");
    apply(&mut store, &report.changes);
    assert_eq!(item(&store, &ids[1].item_key()), occupant_item);
    let listing = vault.list(&store);
    let secrets: Vec<_> = listing.entries.iter().map(|e| e.secret.expose().to_string()).collect();
    assert_eq!(secrets.len(), 4);
    for s in ["phq_live_one", "phq_live_two", "phq_live_three", "phq_live_other"] {
        assert!(secrets.iter().any(|x| x == s), "{s} missing");
    }
}

/// Imports `bytes` into a vault holding three entries and returns the error.
fn import_error(bytes: &[u8], passphrase: &str) -> ImportError {
    let (store, vault) = shared_vault();
    vault.import_backup(store, bytes, &pass(passphrase)).map(|r| r.changes).unwrap_err()
}

fn shared_vault() -> &'static (MemoryStore, UnlockedVault) {
    static V: std::sync::OnceLock<(MemoryStore, UnlockedVault)> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let (store, vault, _) = vault_with_three();
        (store, vault)
    })
}

#[test]
fn a_wrong_passphrase_or_a_cut_backup_is_refused() {
    let (store, vault) = shared_vault();
    let armored = export(store, vault);
    assert_eq!(import_error(armored.as_bytes(), "not the backup passphrase"), ImportError::WrongPassphrase);
    assert_eq!(import_error(&armored.as_bytes()[..armored.len() / 2], BACKUP_PASSPHRASE), ImportError::Truncated);
    // Binary files: a cut inside the header reads as truncated (a cut inside the last chunk
    // cannot be told from damage, and reads as damaged).
    let binary = passphrase_file_binary(b"{}");
    assert_eq!(import_error(&binary[..50], BACKUP_PASSPHRASE), ImportError::Truncated);
    let mut flipped = armored.into_bytes();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    assert_eq!(import_error(&flipped, BACKUP_PASSPHRASE), ImportError::Damaged);
}

#[test]
fn foreign_files_are_told_apart() {
    let json = b"{\"format\":\"keywarden-backup\",\"version\":1,\"entries\":[]}";
    assert_eq!(import_error(json, BACKUP_PASSPHRASE), ImportError::NotAge);
    assert_eq!(import_error(b"", BACKUP_PASSPHRASE), ImportError::NotAge);
    let to_keys = age::x25519::Identity::generate().to_public();
    let for_keys = age::encrypt_and_armor(&to_keys, b"{}").unwrap();
    assert_eq!(import_error(for_keys.as_bytes(), BACKUP_PASSPHRASE), ImportError::NotPassphraseProtected);
    assert_eq!(
        import_error(passphrase_file("{\"hello\":\"world\"}").as_bytes(), BACKUP_PASSPHRASE),
        ImportError::NotABackup
    );
    assert_eq!(import_error(passphrase_file("plain text").as_bytes(), BACKUP_PASSPHRASE), ImportError::NotABackup);
}

#[test]
fn newer_or_invalid_backups_are_refused() {
    let newer = passphrase_file("{\"format\":\"keywarden-backup\",\"version\":2,\"entries\":[]}");
    assert_eq!(import_error(newer.as_bytes(), BACKUP_PASSPHRASE), ImportError::UnknownVersion(2));
    let bad = passphrase_file(
        "{\"format\":\"keywarden-backup\",\"version\":1,\"exported_at\":0,\"entries\":[{\"id\":\"x\"}]}",
    );
    assert_eq!(import_error(bad.as_bytes(), BACKUP_PASSPHRASE), ImportError::BadContents("entries"));
    // A file demanding 2^23 scrypt work (edited header): refused before any work is done.
    let binary = passphrase_file_binary(b"{}");
    let text = String::from_utf8_lossy(&binary[..120]).to_string();
    let at = text.find(&format!(" {TEST_WORK_FACTOR}\n")).expect("work factor in the stanza");
    let mut greedy = binary[..at + 1].to_vec();
    greedy.extend_from_slice(b"23");
    greedy.extend_from_slice(&binary[at + 1 + TEST_WORK_FACTOR.to_string().len()..]);
    assert_eq!(import_error(&greedy, BACKUP_PASSPHRASE), ImportError::TooMuchWork);
    for e in [
        ImportError::NotAge,
        ImportError::Truncated,
        ImportError::WrongPassphrase,
        ImportError::NotABackup,
        ImportError::UnknownVersion(2),
    ] {
        assert!(!e.to_string().is_empty());
    }
    let (store, vault) = shared_vault();
    assert_eq!(
        vault.export_backup(store, &pass("short"), NOW).unwrap_err(),
        BackupError::PassphraseTooShort { min: 8 }
    );
}

// ---------------------------------------------------------------------------------------------
// Sharing

#[test]
fn a_shared_key_opens_with_the_teammates_identity_only() {
    let (mut store, vault) = fresh();
    let mut m = meta("predicthq", "acme", "", "CI\ntoken", NOW);
    m.notes = "not shared".into();
    let id = capture(&mut store, Some(&vault), "phq_live_SHARED", &m);
    let entry = vault.open(&store, &id).unwrap();
    let teammate = age::x25519::Identity::generate();
    let armored = share(&entry, &format!("  {}\n", teammate.to_public())).unwrap();
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!armored.contains("phq_live"));
    let plain = String::from_utf8(age::decrypt(&teammate, armored.as_bytes()).unwrap()).unwrap();
    assert_eq!(
        plain,
        "# keywarden shared key, format 1\nvendor: predicthq\nname: CI token\ntenant: acme\nsecret: phq_live_SHARED\n"
    );
    assert!(age::decrypt(&age::x25519::Identity::generate(), armored.as_bytes()).is_err());
    assert_eq!(share(&entry, "ssh-ed25519 AAAA").unwrap_err(), ShareError::BadRecipient);
    assert_eq!(share(&entry, "age1notakey").unwrap_err(), ShareError::BadRecipient);
}
