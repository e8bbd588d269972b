//! The vault core end to end on an in-memory store: setup, unlock and its throttle, the header and its copy, passphrase changes stopped at every step, captures while locked and unlocked and their trust, damaged items, replacement, quota, backup, import and sharing.

#[path = "vault_support/mod.rs"]
mod support;

use keywarden::engine::vault::backup::{BACKUP_WORK_FACTOR, MAX_IMPORT_WORK_FACTOR};
use keywarden::engine::vault::kdf::MIN_T_COST;
use keywarden::engine::vault::rotation::RESEAL_BATCH_ENTRIES;
use keywarden::engine::vault::throttle::FREE_FAILURES;
use keywarden::engine::vault::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::*;

/// The passphrase the change tests move to.
const NEW_PASSPHRASE: &str = "a new passphrase entirely";

fn item(store: &MemoryStore, key: &str) -> Value {
    store.get(key).unwrap_or_else(|| panic!("no item {key}"))
}

/// How a test capture is sealed.
#[derive(Clone, Copy)]
enum By<'a> {
    /// Unlocked, with a MAC.
    Vault(&'a UnlockedVault),
    /// Locked, with the private store of the glue (holding the capture key, or not).
    Locked(&'a MemoryStore),
}

fn capture(store: &mut MemoryStore, by: By, key: &str, m: &EntryMeta) -> EntryId {
    let sealed = match by {
        By::Vault(v) => v.seal(store, &secret(key), m),
        By::Locked(private) => seal_locked(store, private, &secret(key), m),
    }
    .expect("seal");
    apply(store, &sealed.changes);
    sealed.id
}

// ---------------------------------------------------------------------------------------------
// Setup, unlock, throttle, passphrase change, session resume

#[test]
fn setup_writes_only_the_header_its_copy_and_the_index_and_the_capture_key_privately() {
    let (store, private, vault) = fresh_with_private();
    let keys: Vec<_> = store.items().keys().cloned().collect();
    assert_eq!(keys, vec![HEADER_KEY, HEADER_COPY_KEY, INDEX_KEY]);
    let header = item(&store, HEADER_KEY);
    assert_eq!(item(&store, HEADER_COPY_KEY), header);
    assert_eq!(header["format"], "keywarden-vault");
    assert_eq!(header["version"], 2);
    assert_eq!(with_checksum(header.clone()), header, "the checksum is the documented one");
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
    let keys: Vec<_> = private.items().keys().cloned().collect();
    assert_eq!(keys, vec![CAPTURE_KEY]);
    assert_eq!(item(&private, CAPTURE_KEY)["recipient"], vault.recipient());
    assert!(vault.restore_capture_key(&private).is_empty(), "nothing to restore right after setup");
}

#[test]
fn setup_refuses_a_second_vault_and_short_passphrases() {
    let (store, _) = fresh();
    assert_eq!(setup(&store, &pass(PASSPHRASE), weak(), NOW).unwrap_err(), SetupError::AlreadySetUp);
    let empty = MemoryStore::new();
    let err = setup(&empty, &pass("short"), weak(), NOW).unwrap_err();
    assert_eq!(err, SetupError::PassphraseTooShort { min: 12 });
    assert_eq!(err.to_string(), "the passphrase needs at least 12 characters");
}

#[test]
fn passphrases_need_twelve_characters_for_setup_and_change() {
    assert_eq!(MIN_PASSPHRASE_CHARS, 12);
    let empty = MemoryStore::new();
    // Characters, not bytes: eleven accented letters are still too short.
    for short in ["elevenchars", "ééééééééééé"] {
        assert_eq!(setup(&empty, &pass(short), weak(), NOW).unwrap_err(), SetupError::PassphraseTooShort { min: 12 });
    }
    assert!(setup(&empty, &pass("twelve chars"), weak(), NOW).is_ok());
    let (store, vault) = fresh();
    assert_eq!(
        vault.change_passphrase(&store, &pass("elevenchars"), weak()).unwrap_err(),
        ChangePassphraseError::PassphraseTooShort { min: 12 }
    );
    assert!(vault.change_passphrase(&store, &pass("twelve chars"), weak()).is_ok());
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

    // Damage with a checksum to match (only a deliberate edit does that) still reads as damage.
    let mut flipped = store.clone();
    let mut h = header.clone();
    h["wrapped_key"]["ciphertext"] = flip_b64(h["wrapped_key"]["ciphertext"].as_str().unwrap(), 3).into();
    put_header(&mut flipped, with_checksum(h));
    let attempt = unlock(&flipped, &pass(PASSPHRASE), NOW);
    assert_eq!(attempt.result.unwrap_err(), UnlockError::Damaged("the wrapped vault key failed authentication"));
    assert!(attempt.changes.is_empty(), "damage does not count as a guess");

    let mut newer = store.clone();
    let mut h = header.clone();
    h["version"] = json!(3);
    newer.insert(HEADER_KEY, h);
    let err = unlock(&newer, &pass(PASSPHRASE), NOW).result.unwrap_err();
    assert_eq!(err, UnlockError::UnknownVersion(3));
    assert!(err.to_string().contains("version 3"));

    let mut foreign = store.clone();
    put_header(&mut foreign, json!({ "hello": "world" }));
    assert!(matches!(unlock(&foreign, &pass(PASSPHRASE), NOW).result, Err(UnlockError::Damaged(_))));

    assert_eq!(unlock(&MemoryStore::new(), &pass(PASSPHRASE), NOW).result.unwrap_err(), UnlockError::NotSetUp);
}

#[test]
fn a_swapped_recipient_is_caught_at_unlock() {
    let (mut store, _) = fresh();
    let attacker = age::x25519::Identity::generate().to_public().to_string();
    let mut h = item(&store, HEADER_KEY);
    h["recipient"] = attacker.into();
    put_header(&mut store, with_checksum(h));
    let err = unlock(&store, &pass(PASSPHRASE), NOW).result.unwrap_err();
    assert!(matches!(err, UnlockError::Damaged(m) if m.contains("recipient")), "{err:?}");
}

#[test]
fn absurd_stored_argon2_costs_are_refused_before_running() {
    let (mut store, _) = fresh();
    let mut h = item(&store, HEADER_KEY);
    h["kdf"]["m_cost_kib"] = json!(64u64 * 1024 * 1024);
    put_header(&mut store, with_checksum(h));
    assert_eq!(
        unlock(&store, &pass(PASSPHRASE), NOW).result.unwrap_err(),
        UnlockError::Damaged("Argon2 parameters out of bounds")
    );
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
    let (mut store, private, _) = fresh_with_private();
    let before = store.clone();
    let m = meta("predicthq", "acme-corp", "ops@acme.test", "Production token", NOW);
    let sealed = seal_locked(&store, &private, &secret("phq_live_SECRETSECRET"), &m).unwrap();
    assert!(!sealed.needs_confirmation);
    assert_eq!(sealed.changes.remove, Vec::<String>::new());
    assert_eq!(sealed.changes.set.len(), 1);
    let w = &sealed.changes.set[0];
    assert_eq!(w.key, format!("entry:{}", sealed.id));
    assert_eq!(w.bytes, w.key.len() + w.value.to_string().len());
    let mut fields: Vec<_> = w.value.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, vec!["age", "capture", "format", "id", "version"]);
    let clear = w.value.to_string();
    for leak in ["phq_live", "predicthq", "acme", "ops@", "Production", "events"] {
        assert!(!clear.contains(leak), "{leak} is visible in the stored item");
    }
    apply(&mut store, &sealed.changes);
    assert_eq!(store.items().len(), before.items().len() + 1);
}

#[test]
fn captures_while_locked_are_unverified_until_adopted() {
    let (mut store, private, _) = fresh_with_private();
    let id =
        capture(&mut store, By::Locked(&private), "phq_live_A", &meta("predicthq", "acme", "a@acme.test", "k", NOW));
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
    assert_eq!(listing.index, IndexState::Ok);
    let (again, changes) = vault.adopt_unverified(&store);
    assert!(again.is_empty() && changes.is_empty());
}

#[test]
fn captures_while_unlocked_are_authenticated_at_once() {
    let (mut store, vault) = fresh();
    let m = meta("predicthq", "acme", "a@acme.test", "k", NOW);
    let id = capture(&mut store, By::Vault(&vault), "phq_live_B", &m);
    let e = vault.open(&store, &id).unwrap();
    assert_eq!((e.trust, e.meta, e.secret.expose()), (Trust::Authenticated, m, "phq_live_B"));
}

#[test]
fn one_damaged_item_never_takes_the_others_with_it() {
    let (mut store, private, vault) = fresh_with_private();
    let mut ids = Vec::new();
    for i in 0..9 {
        let m = meta("predicthq", &format!("tenant-{i}"), "a@acme.test", &format!("key {i}"), NOW + i);
        let locked = i % 2 == 1;
        let by = if locked { By::Locked(&private) } else { By::Vault(&vault) };
        ids.push(capture(&mut store, by, &format!("phq_live_{i}"), &m));
    }
    let good = capture(&mut store, By::Vault(&vault), "phq_live_good", &meta("predicthq", "fine", "", "", NOW + 50));
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
    let forged =
        seal_locked(&store, &MemoryStore::new(), &secret("attacker key"), &meta("predicthq", "tenant-6", "", "", NOW))
            .unwrap();
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
    let stranger =
        seal_locked(&other_store, &MemoryStore::new(), &secret("x"), &meta("predicthq", "t", "", "", NOW)).unwrap();
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
    let (mut store, private, vault) = fresh_with_private();
    // Both captures are planned against the same snapshot, as two tabs racing would.
    let locked_a =
        seal_locked(&store, &private, &secret("phq_live_tab_a"), &meta("predicthq", "a", "", "", NOW)).unwrap();
    let locked_b =
        seal_locked(&store, &private, &secret("phq_live_tab_b"), &meta("predicthq", "b", "", "", NOW)).unwrap();
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
    let a = capture(&mut store, By::Vault(&vault), "k1", &meta("predicthq", "a", "", "", NOW));
    let b = capture(&mut store, By::Vault(&vault), "k2", &meta("predicthq", "b", "", "", NOW));
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
    let a = capture(&mut store, By::Vault(&vault), "k1", &meta("predicthq", "a", "", "", NOW));
    store.insert(INDEX_KEY, json!({ "format": "keywarden-index", "version": 1, "ids": [], "mac": "AAAA" }));
    let listing = vault.list(&store);
    assert_eq!(listing.index, IndexState::Damaged);
    assert_eq!(listing.entries.len(), 1);
    let (_, changes) = vault.adopt_unverified(&store);
    assert!(changes.is_empty(), "adoption does not rebuild the index behind the admin's back");
    let changes = vault.rebuild_index(&store);
    apply(&mut store, &changes);
    assert_eq!(vault.list(&store).index, IndexState::Ok);
    // The rebuilt index protects `a` again.
    let mut v = item(&store, &a.item_key());
    v.as_object_mut().unwrap().remove("mac");
    store.insert(&a.item_key(), v);
    assert_eq!(vault.open(&store, &a).unwrap_err(), OpenError::MacRemoved);
}

#[test]
fn a_new_key_replaces_the_previous_one_for_the_same_slot() {
    let (mut store, private, vault) = fresh_with_private();
    let old = capture(&mut store, By::Vault(&vault), "old", &meta("predicthq", "Acme", "ops@acme.test", "k", NOW));
    let other_account =
        capture(&mut store, By::Vault(&vault), "x", &meta("predicthq", "acme", "dev@acme.test", "k", NOW));
    let other_tenant =
        capture(&mut store, By::Vault(&vault), "y", &meta("predicthq", "globex", "ops@acme.test", "k", NOW));
    let new_meta = meta("predicthq", "acme", "OPS@acme.test", "k2", NOW + 1000);
    let new = capture(&mut store, By::Locked(&private), "new", &new_meta);

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
    capture(&mut store, By::Vault(&vault), "first", &meta("predicthq", "a", "", "", NOW));
    store.set_quota(Some(store.bytes_in_use() + 200));
    let before = store.clone();
    for sealed in [
        seal_locked(&store, &private_for(&vault), &secret("phq_live_second"), &meta("predicthq", "b", "", "", NOW))
            .unwrap(),
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
    let err = seal_locked(&store, &private_for(&vault), &secret("k"), &long).unwrap_err();
    assert_eq!(err.to_string(), "cannot save the key: its notes is too long");
    let no_vendor = EntryMeta { vendor: " ".into(), ..m };
    assert!(matches!(
        seal_locked(&store, &MemoryStore::new(), &secret("k"), &no_vendor),
        Err(SealError::Invalid { field: "vendor", .. })
    ));
    assert_eq!(
        seal_locked(&MemoryStore::new(), &MemoryStore::new(), &secret("k"), &meta("v", "t", "", "", 0)).unwrap_err(),
        SealError::Header(HeaderProblem::Missing)
    );
}

#[test]
fn no_secret_in_debug_output_errors_or_changesets() {
    let (mut store, vault) = fresh();
    let id = capture(&mut store, By::Vault(&vault), "phq_live_TOPSECRET", &meta("predicthq", "a", "", "", NOW));
    let entry = vault.open(&store, &id).unwrap();
    let listing = vault.list(&store);
    let attempt = unlock(&store, &pass(PASSPHRASE), NOW);
    let shown = format!("{entry:?} {listing:?} {vault:?} {attempt:?} {:?}", pass(PASSPHRASE));
    for secret in ["phq_live_TOPSECRET", "horse", "AGE-SECRET-KEY"] {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
    let sealed = vault.seal(&store, &secret("phq_live_TOPSECRET"), &meta("predicthq", "a", "", "", NOW)).unwrap();
    assert!(!serde_json::to_string(&sealed.changes).unwrap().contains("TOPSECRET"));

    // Nor the capture key, which the private store's writes carry.
    let s = setup(&MemoryStore::new(), &pass(PASSPHRASE), weak(), NOW).unwrap();
    let capture_key = s.private.changeset().set[0].value["key"].as_str().unwrap().to_string();
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    let shown = format!("{s:?} {rotation:?}");
    let rotated_key = rotation.private.changeset().set[0].value["key"].as_str().unwrap().to_string();
    for secret in [capture_key.as_str(), rotated_key.as_str(), "TOPSECRET", "horse", "entirely", "AGE-SECRET-KEY"] {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
    let batches = serde_json::to_string(&rotation.batches).unwrap();
    for secret in ["TOPSECRET", "AGE-SECRET-KEY", rotated_key.as_str()] {
        assert!(!batches.contains(secret), "{secret} is in a batch for storage.local");
    }
}

// ---------------------------------------------------------------------------------------------
// The header's checksum and its copy; version-1 headers; re-asking and strengthening

#[test]
fn a_flipped_byte_in_the_header_is_damage_not_a_wrong_passphrase() {
    let (store, _) = fresh();
    let header = item(&store, HEADER_KEY);
    let fields: [&[&str]; 7] = [
        &["kdf", "salt"],
        &["check"],
        &["wrapped_key", "ciphertext"],
        &["wrapped_key", "nonce"],
        &["identity", "ciphertext"],
        &["identity", "nonce"],
        &["checksum"],
    ];
    for path in fields {
        let mut h = header.clone();
        let target = path.iter().fold(&mut h, |v, k| &mut v[*k]);
        *target = flip_b64(target.as_str().unwrap(), 2).into();
        let mut damaged = store.clone();
        put_header(&mut damaged, h);
        // Right passphrase or wrong, again and again: damaged each time, and no delay builds up.
        for attempt_with in [PASSPHRASE, "not the passphrase at all"].repeat(FREE_FAILURES as usize + 1) {
            let attempt = unlock(&damaged, &pass(attempt_with), NOW);
            assert_eq!(attempt.result.unwrap_err(), UnlockError::Damaged("its checksum does not match"), "{path:?}");
            assert!(attempt.changes.is_empty(), "{path:?}: damage does not count as a guess");
        }
        assert!(damaged.get(THROTTLE_KEY).is_none());
    }
    // Each copy damaged its own way.
    let mut damaged = store.clone();
    let mut h = header.clone();
    h["check"] = flip_b64(h["check"].as_str().unwrap(), 0).into();
    damaged.insert(HEADER_KEY, h);
    damaged.insert(HEADER_COPY_KEY, json!({ "format": "keywarden-vault", "version": 2 }));
    let attempt = unlock(&damaged, &pass(PASSPHRASE), NOW);
    assert_eq!(attempt.result.unwrap_err(), UnlockError::Damaged("both copies of the header are damaged"));
    assert!(attempt.changes.is_empty());
}

#[test]
fn a_damaged_or_missing_header_copy_is_restored_from_the_other() {
    let (store, vault) = fresh();
    let header = item(&store, HEADER_KEY);
    let mut flipped = header.clone();
    flipped["kdf"]["salt"] = flip_b64(flipped["kdf"]["salt"].as_str().unwrap(), 0).into();
    for broken in [HEADER_KEY, HEADER_COPY_KEY] {
        for damage in [Some(flipped.clone()), Some(json!("garbage")), None] {
            let mut s = store.clone();
            match &damage {
                Some(v) => s.insert(broken, v.clone()),
                None => s.remove(broken).unwrap(),
            }
            assert!(is_set_up(&s));
            assert_eq!(stored_recipient(&s).unwrap(), vault.recipient(), "readable while locked too");
            let attempt = unlock(&s, &pass(PASSPHRASE), NOW);
            assert!(attempt.result.is_ok(), "{broken} {damage:?}");
            let written: Vec<_> = attempt.changes.set.iter().map(|w| w.key.as_str()).collect();
            assert_eq!(written, vec![broken], "the damaged copy is repaired");
            apply(&mut s, &attempt.changes);
            assert_eq!(item(&s, broken), header);
            assert!(unlock(&s, &pass(PASSPHRASE), NOW).changes.is_empty(), "nothing left to repair");
        }
    }
}

#[test]
fn version_1_headers_still_open_and_become_version_2_at_unlock() {
    let (mut store, vault) = fresh();
    let id = capture(&mut store, By::Vault(&vault), "phq_live_old", &meta("predicthq", "a", "", "", NOW));
    let mut v1 = item(&store, HEADER_KEY);
    v1["version"] = json!(1);
    v1.as_object_mut().unwrap().remove("checksum");
    store.insert(HEADER_KEY, v1.clone());
    store.remove(HEADER_COPY_KEY).unwrap();
    assert_eq!(stored_recipient(&store).unwrap(), vault.recipient());

    let attempt = unlock(&store, &pass(PASSPHRASE), NOW);
    let reopened = attempt.result.unwrap();
    assert_eq!(reopened.open(&store, &id).unwrap().secret.expose(), "phq_live_old");
    let written: Vec<_> = attempt.changes.set.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(written, vec![HEADER_KEY, HEADER_COPY_KEY]);
    apply(&mut store, &attempt.changes);
    let v2 = item(&store, HEADER_KEY);
    assert_eq!((v2["version"].clone(), item(&store, HEADER_COPY_KEY)), (json!(2), v2.clone()));
    assert_eq!(with_checksum(v2.clone()), v2);
    assert!(unlock(&store, &pass(PASSPHRASE), NOW).changes.is_empty());

    // A version-1 header with a checksum, or a version-2 one without, is damaged.
    let mut odd = store.clone();
    let mut h = v1.clone();
    h["checksum"] = v2["checksum"].clone();
    put_header(&mut odd, h);
    assert!(matches!(unlock(&odd, &pass(PASSPHRASE), NOW).result, Err(UnlockError::Damaged(_))));
    let mut h = v2.clone();
    h.as_object_mut().unwrap().remove("checksum");
    put_header(&mut odd, h);
    assert!(matches!(unlock(&odd, &pass(PASSPHRASE), NOW).result, Err(UnlockError::Damaged(_))));
}

#[test]
fn verifying_the_passphrase_again_is_throttled_like_unlocking() {
    let (mut store, _) = fresh();
    let mut now = NOW;
    for n in 1..=FREE_FAILURES + 1 {
        let v = verify_passphrase(&store, &pass("not the passphrase"), now);
        assert!(matches!(v.result, Err(UnlockError::WrongPassphrase { .. })));
        apply(&mut store, &v.changes);
        let t = Throttle::from_item(store.get(THROTTLE_KEY));
        assert_eq!(t.failures, n);
        now = t.earliest_next_attempt().max(now);
    }
    let early = verify_passphrase(&store, &pass(PASSPHRASE), now - 1);
    assert!(matches!(early.result, Err(UnlockError::Throttled { .. })), "even the right one waits");
    let v = verify_passphrase(&store, &pass(PASSPHRASE), now);
    assert_eq!(v.result, Ok(()));
    assert_eq!(v.changes.remove, vec![THROTTLE_KEY.to_string()]);
    assert!(v.changes.set.is_empty());
}

#[test]
fn weak_stored_argon2_parameters_are_flagged_and_rewrapped_under_calibrated_ones() {
    let (mut store, vault) = fresh();
    let id = capture(&mut store, By::Vault(&vault), "phq_live_kept", &meta("predicthq", "a", "", "", NOW));
    let attempt = unlock(&store, &pass(PASSPHRASE), NOW);
    assert!(attempt.upgrade_needed, "1 MiB and one pass are below the floor");
    let v = attempt.result.unwrap();
    let strong = KdfParams::production(MIN_T_COST);
    assert!(strong.is_production_strength());
    assert_eq!(v.rewrap(&store, &pass(PASSPHRASE), weak()).unwrap_err(), RewrapError::TooWeak);
    assert_eq!(v.rewrap(&store, &pass("not the passphrase"), strong).unwrap_err(), RewrapError::WrongPassphrase);
    let entries_before: Vec<_> = store.items().iter().filter(|(k, _)| k.starts_with(ENTRY_PREFIX)).collect();
    let entries_before: Vec<_> = entries_before.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();

    let changes = v.rewrap(&store, &pass(PASSPHRASE), strong).unwrap();
    let written: Vec<_> = changes.set.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(written, vec![HEADER_KEY, HEADER_COPY_KEY]);
    apply(&mut store, &changes);
    assert_eq!(stored_params(&store).unwrap(), strong);
    for (k, v) in &entries_before {
        assert_eq!(&item(&store, k), v, "entries are untouched");
    }
    let again = unlock(&store, &pass(PASSPHRASE), NOW);
    assert!(!again.upgrade_needed);
    let v = again.result.unwrap();
    assert_eq!(v.recipient(), vault.recipient());
    assert_eq!(v.open(&store, &id).unwrap().secret.expose(), "phq_live_kept");
}

// ---------------------------------------------------------------------------------------------
// Changing the passphrase: a new key and identity, every entry re-sealed, crash-safe

/// What a listing shows of each entry (secret included), and the damaged items' keys.
type Contents = (BTreeMap<EntryId, (String, EntryMeta, Trust)>, Vec<String>);

fn contents(vault: &UnlockedVault, store: &MemoryStore) -> Contents {
    let listing = vault.list(store);
    let entries = listing
        .entries
        .into_iter()
        .map(|e| (e.id.clone(), (e.secret.expose().to_string(), e.meta.clone(), e.trust)))
        .collect();
    (entries, listing.damaged.into_iter().map(|d| d.key).collect())
}

/// A vault holding every kind of item, with more entries than one re-sealing batch takes:
/// authenticated entries, a tagged capture awaiting adoption, a foreign one, a damaged one.
fn rich_vault() -> (MemoryStore, MemoryStore, UnlockedVault) {
    let (mut store, private, vault) = fresh_with_private();
    for i in 0..RESEAL_BATCH_ENTRIES + 3 {
        let m = meta("predicthq", &format!("tenant-{i}"), "ops@acme.test", "k", NOW + i as u64);
        capture(&mut store, By::Vault(&vault), &format!("phq_live_auth_{i}"), &m);
    }
    capture(&mut store, By::Locked(&private), "phq_live_tagged", &meta("predicthq", "t", "", "", NOW + 100));
    capture(
        &mut store,
        By::Locked(&MemoryStore::new()),
        "phq_live_foreign",
        &meta("predicthq", "f", "", "", NOW + 101),
    );
    store.insert(&EntryId::random().unwrap().item_key(), json!({ "format": "keywarden-entry", "version": 1 }));
    (store, private, vault)
}

/// A finished change: only the new passphrase opens, every entry with it, the old keys nothing.
fn assert_finished(store: &MemoryStore, old: &UnlockedVault, rotation: &Rotation, expected: &Contents) {
    assert!(store.get(ROTATION_KEY).is_none());
    assert_eq!(item(store, HEADER_KEY), item(store, HEADER_COPY_KEY));
    assert_eq!(stored_recipient(store).unwrap(), rotation.vault.recipient());
    assert!(matches!(unlock(store, &pass(PASSPHRASE), NOW).result, Err(UnlockError::WrongPassphrase { .. })));
    let attempt = unlock(store, &pass(NEW_PASSPHRASE), NOW);
    assert!(attempt.pending.is_empty() && attempt.changes.is_empty());
    let new = attempt.result.unwrap();
    assert!(!new.rotation_pending());
    assert_eq!(&contents(&new, store), expected);
    assert_eq!(new.list(store).index, IndexState::Ok);
    // The old keys themselves open nothing any more.
    assert!(old.list(store).entries.is_empty(), "an old key opens nothing in current storage");
    assert_eq!(resume(store, &old.session_key()).unwrap_err(), UnlockError::StaleSession);
}

#[test]
fn a_passphrase_change_rotates_the_key_and_the_identity_and_reseals_every_entry() {
    let (store, private, vault) = rich_vault();
    let expected = contents(&vault, &store);
    assert_eq!(expected.0.len(), RESEAL_BATCH_ENTRIES + 5);
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    assert_ne!(rotation.vault.recipient(), vault.recipient(), "a new age identity");
    assert_ne!(rotation.vault.session_key().expose(), vault.session_key().expose(), "a new vault key");
    let new_private = rotation.private.changeset().value(CAPTURE_KEY).unwrap();
    assert_ne!(new_private["key"], item(&private, CAPTURE_KEY)["key"], "a new capture key");
    assert_eq!(new_private["recipient"], rotation.vault.recipient());
    assert!(rotation.batches.len() >= 4, "record, two re-sealing batches, swap");
    assert!(rotation.batches.iter().all(|b| b.value(HEADER_KEY).is_none() || b.remove.contains(&ROTATION_KEY.into())));

    let mut done = store.clone();
    for b in &rotation.batches {
        apply(&mut done, b);
    }
    for (key, before) in store.items().iter().filter(|(k, _)| k.starts_with(ENTRY_PREFIX)) {
        let damaged = expected.1.contains(key);
        assert_eq!(&item(&done, key) == before, damaged, "{key}: every entry re-sealed, the damaged one left alone");
    }
    assert_finished(&done, &vault, &rotation, &expected);
    // The vault the change returned works on the result, and after a resume from its key.
    assert_eq!(contents(&rotation.vault, &done), expected);
    assert_eq!(contents(&resume(&done, &rotation.vault.session_key()).unwrap(), &done), expected);
    // A copy of storage from before the change, with the old passphrase, opens nothing of now.
    let old = unlock(&store, &pass(PASSPHRASE), NOW).result.unwrap();
    assert!(old.list(&done).entries.is_empty());
}

#[test]
fn a_passphrase_change_stopped_after_any_batch_opens_with_the_old_or_the_new_passphrase() {
    let (store, _, vault) = rich_vault();
    let expected = contents(&vault, &store);
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    let n = rotation.batches.len();
    for stop in 0..=n {
        let mut s = store.clone();
        for b in &rotation.batches[..stop] {
            apply(&mut s, b);
        }
        let mut opened_with = Vec::new();
        for p in [PASSPHRASE, NEW_PASSPHRASE] {
            let attempt = unlock(&s, &pass(p), NOW);
            let Ok(v) = attempt.result else { continue };
            opened_with.push(p);
            assert_eq!(contents(&v, &s), expected, "stopped after {stop} of {n}, unlocked with {p:?}");
            assert_eq!(v.rotation_pending(), stop > 0 && stop < n);
            assert_eq!(attempt.pending.is_empty(), stop == 0 || stop == n);
            // Writing what the unlock returns finishes the change (or there was none).
            let mut finished = s.clone();
            apply(&mut finished, &attempt.changes);
            for b in &attempt.pending {
                apply(&mut finished, b);
            }
            if stop == 0 {
                assert_eq!(stored_recipient(&finished).unwrap(), vault.recipient(), "nothing had changed yet");
            } else {
                assert_finished(&finished, &vault, &rotation, &expected);
            }
        }
        let expect_open: &[&str] = match stop {
            0 => &[PASSPHRASE],
            s if s == n => &[NEW_PASSPHRASE],
            _ => &[PASSPHRASE, NEW_PASSPHRASE],
        };
        assert_eq!(opened_with, expect_open, "stopped after {stop} of {n}");
        // Either session key resumes while the change is pending.
        for (key, usable) in [(vault.session_key(), stop < n), (rotation.vault.session_key(), stop > 0)] {
            match resume(&s, &key) {
                Ok(v) => {
                    assert!(usable, "stopped after {stop}");
                    assert_eq!(contents(&v, &s), expected);
                    let pending = v.finish_rotation(&s);
                    assert_eq!(pending.is_empty(), stop == 0 || stop == n);
                }
                Err(e) => assert!(!usable, "stopped after {stop}: {e}"),
            }
        }
    }
}

#[test]
fn a_passphrase_change_refused_part_way_by_a_full_store_still_opens() {
    let (store, _, vault) = rich_vault();
    let expected = contents(&vault, &store);
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    let mut refused_somewhere = false;
    for start in 0..rotation.batches.len() {
        let mut s = store.clone();
        for b in &rotation.batches[..start] {
            apply(&mut s, b);
        }
        // No room for anything that grows storage from here on.
        s.set_quota(Some(s.bytes_in_use()));
        for b in &rotation.batches[start..] {
            let before = s.clone();
            if s.apply(b).is_err() {
                assert_eq!(s, before, "a refused batch writes nothing");
                refused_somewhere = true;
                break;
            }
        }
        s.set_quota(None);
        let opened: Vec<_> =
            [PASSPHRASE, NEW_PASSPHRASE].into_iter().filter_map(|p| unlock(&s, &pass(p), NOW).result.ok()).collect();
        assert!(!opened.is_empty(), "starting at batch {start}: neither passphrase opens");
        for v in &opened {
            assert_eq!(contents(v, &s), expected, "starting at batch {start}");
        }
    }
    assert!(refused_somewhere, "the quota refused at least the record");
}

#[test]
fn captures_after_a_change_go_to_the_new_recipient_out_of_reach_of_old_copies() {
    let (mut store, mut private, vault) = fresh_with_private();
    capture(&mut store, By::Vault(&vault), "phq_live_before", &meta("predicthq", "a", "", "", NOW));
    let copy_before = store.clone();
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    apply(&mut store, &rotation.batches[0]);
    apply(&mut private, rotation.private.changeset());
    // While the change is being written, and after it is.
    let during =
        seal_locked(&store, &private, &secret("phq_live_during"), &meta("predicthq", "b", "", "", NOW)).unwrap();
    assert!(!during.needs_confirmation);
    apply(&mut store, &during.changes);
    for b in &rotation.batches[1..] {
        apply(&mut store, b);
    }
    let after = seal_locked(&store, &private, &secret("phq_live_after"), &meta("predicthq", "c", "", "", NOW)).unwrap();
    assert!(!after.needs_confirmation);
    apply(&mut store, &after.changes);

    let old = unlock(&copy_before, &pass(PASSPHRASE), NOW).result.expect("the old copy opens with the old passphrase");
    let mut mixed = copy_before.clone();
    for id in [&during.id, &after.id] {
        mixed.insert(&id.item_key(), item(&store, &id.item_key()));
        assert_eq!(old.open(&mixed, id).unwrap_err(), OpenError::Undecryptable);
    }
    let shown = format!("{:?}", contents(&old, &mixed));
    assert!(!shown.contains("phq_live_during") && !shown.contains("phq_live_after"));

    let new = unlocked_with(&mut store, NEW_PASSPHRASE);
    let (adopted, changes) = new.adopt_unverified(&store);
    assert_eq!(adopted.len(), 2, "both were sealed by keywarden here");
    apply(&mut store, &changes);
    let secrets: Vec<_> = new.list(&store).entries.iter().map(|e| (e.secret.expose().to_string(), e.trust)).collect();
    for s in ["phq_live_before", "phq_live_during", "phq_live_after"] {
        assert!(secrets.contains(&(s.to_string(), Trust::Authenticated)), "{s}: {secrets:?}");
    }
}

#[test]
fn a_pending_change_must_finish_before_another_and_an_unrelated_record_is_ignored() {
    let (mut store, _, vault) = rich_vault();
    let expected = contents(&vault, &store);
    let rotation = vault.change_passphrase(&store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    // A record planted from another vault's change opens nothing here and changes nothing.
    let (other_store, other) = fresh();
    let foreign = other.change_passphrase(&other_store, &pass(NEW_PASSPHRASE), weak()).unwrap();
    let mut planted = store.clone();
    planted.insert(ROTATION_KEY, foreign.batches[0].value(ROTATION_KEY).unwrap().clone());
    let attempt = unlock(&planted, &pass(PASSPHRASE), NOW);
    assert!(attempt.pending.is_empty());
    assert_eq!(contents(&attempt.result.unwrap(), &planted), expected);
    assert!(matches!(unlock(&planted, &pass(NEW_PASSPHRASE), NOW).result, Err(UnlockError::WrongPassphrase { .. })));

    apply(&mut store, &rotation.batches[0]);
    let mid = unlock(&store, &pass(PASSPHRASE), NOW).result.unwrap();
    assert_eq!(
        mid.change_passphrase(&store, &pass("yet another passphrase"), weak()).unwrap_err(),
        ChangePassphraseError::RotationPending
    );
    assert_eq!(
        mid.rewrap(&store, &pass(NEW_PASSPHRASE), KdfParams::production(MIN_T_COST)).unwrap_err(),
        RewrapError::RotationPending
    );
}

// ---------------------------------------------------------------------------------------------
// Captures while locked: the capture key, foreign items, the index alarm

#[test]
fn only_captures_tagged_with_the_capture_key_are_adopted_at_unlock() {
    let (mut store, private, _) = fresh_with_private();
    let ours = capture(&mut store, By::Locked(&private), "phq_live_ours", &meta("predicthq", "a", "", "", NOW));
    // Planted by anyone who can write storage.local: sealed to the public recipient, no tag...
    let planted =
        capture(&mut store, By::Locked(&MemoryStore::new()), "phq_live_planted", &meta("predicthq", "b", "", "", NOW));
    // ...or a made-up tag.
    let forged =
        capture(&mut store, By::Locked(&MemoryStore::new()), "phq_live_forged", &meta("predicthq", "c", "", "", NOW));
    let mut v = item(&store, &forged.item_key());
    v["capture"] = json!("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=");
    store.insert(&forged.item_key(), v);

    let vault = unlocked(&mut store);
    let trust = |store: &MemoryStore, id: &EntryId| vault.open(store, id).unwrap().trust;
    assert_eq!(
        [trust(&store, &ours), trust(&store, &planted), trust(&store, &forged)],
        [Trust::Unverified, Trust::Foreign, Trust::Foreign]
    );
    let (adopted, changes) = vault.adopt_unverified(&store);
    assert_eq!(adopted, vec![ours.clone()]);
    apply(&mut store, &changes);
    assert_eq!([trust(&store, &ours), trust(&store, &planted)], [Trust::Authenticated, Trust::Foreign]);
    assert!(vault.adopt_unverified(&store).0.is_empty(), "foreign items stay foreign");

    // The admin confirms one: now it is authenticated and indexed.
    let changes = vault.adopt_confirmed(&store, &[planted.clone(), ours.clone()]).unwrap();
    assert_eq!(changes.set.iter().filter(|w| w.key.starts_with(ENTRY_PREFIX)).count(), 1, "ours was already");
    apply(&mut store, &changes);
    assert_eq!(trust(&store, &planted), Trust::Authenticated);
    let mut stripped = item(&store, &planted.item_key());
    stripped.as_object_mut().unwrap().remove("mac");
    store.insert(&planted.item_key(), stripped);
    assert_eq!(vault.open(&store, &planted).unwrap_err(), OpenError::MacRemoved);
    let gone = EntryId::random().unwrap();
    assert_eq!(
        vault.adopt_confirmed(&store, &[forged, gone.clone()]).unwrap_err(),
        AdoptError::NotOpen { id: gone, reason: OpenError::Missing }
    );
}

#[test]
fn foreign_entries_never_mark_others_replaced_and_are_never_rewritten_unconfirmed() {
    let (mut store, vault) = fresh();
    let slot = |at| meta("planningspace", "srv/ACME", "ops@acme.test", "k", at);
    let real = capture(&mut store, By::Vault(&vault), "real", &slot(NOW));
    let planted = capture(&mut store, By::Locked(&MemoryStore::new()), "planted", &slot(NOW + 10_000));
    let listing = vault.list(&store);
    assert!(stale_actives(&listing.entries).is_empty(), "a newer foreign key does not retire the real one");

    let newer = capture(&mut store, By::Vault(&vault), "newer", &slot(NOW + 20_000));
    let listing = vault.list(&store);
    assert_eq!(replaced_by(&newer, &slot(NOW + 20_000), &listing.entries), vec![real.clone()]);
    assert_eq!(stale_actives(&listing.entries), vec![real.clone()]);
    let foreign = listing.entries.iter().find(|e| e.id == planted).unwrap();
    assert_eq!(foreign.trust, Trust::Foreign);
    assert_eq!(vault.set_state(&store, &[foreign], EntryState::Replaced).unwrap_err(), SealError::Unconfirmed);
    assert_eq!(vault.update(&store, foreign, &foreign.meta).unwrap_err(), SealError::Unconfirmed);
}

#[test]
fn a_missing_or_damaged_index_is_an_alarm_and_nothing_is_adopted_until_rebuilt() {
    let (mut store, private, vault) = fresh_with_private();
    let a = capture(&mut store, By::Vault(&vault), "phq_live_a", &meta("predicthq", "a", "", "", NOW));
    let b = capture(&mut store, By::Locked(&private), "phq_live_b", &meta("predicthq", "b", "", "", NOW));
    for (broken, state) in [(None, IndexState::Missing), (Some(json!({ "format": "junk" })), IndexState::Damaged)] {
        let mut s = store.clone();
        match broken {
            Some(v) => s.insert(INDEX_KEY, v),
            None => s.remove(INDEX_KEY).unwrap(),
        }
        let listing = vault.list(&s);
        assert_eq!(listing.index, state);
        assert_eq!(listing.entries.len(), 2, "everything still lists");
        let (adopted, changes) = vault.adopt_unverified(&s);
        assert!(adopted.is_empty() && changes.is_empty(), "not even a tagged capture is adopted");
        // Ordinary writes leave the alarm standing.
        let c = vault.seal(&s, &secret("phq_live_c"), &meta("predicthq", "c", "", "", NOW)).unwrap();
        assert!(c.changes.value(INDEX_KEY).is_none());
        apply(&mut s, &c.changes);
        assert_eq!(vault.list(&s).index, state);
        // The admin looked and rebuilds it: then the tagged capture is adopted.
        let rebuilt = vault.rebuild_index(&s);
        apply(&mut s, &rebuilt);
        assert_eq!(vault.list(&s).index, IndexState::Ok);
        assert_eq!(vault.adopt_unverified(&s).0, vec![b.clone()]);
    }
    // With the index intact, replaying a capture's pre-adoption item is caught.
    let before_adoption = item(&store, &b.item_key());
    let (_, changes) = vault.adopt_unverified(&store);
    apply(&mut store, &changes);
    store.insert(&b.item_key(), before_adoption);
    assert_eq!(vault.open(&store, &b).unwrap_err(), OpenError::MacRemoved);
    assert_eq!(vault.open(&store, &a).unwrap().trust, Trust::Authenticated);
}

#[test]
fn a_capture_without_the_capture_key_is_kept_but_needs_confirmation_and_unlock_restores_the_key() {
    let (mut store, _, vault) = fresh_with_private();
    let cleared = MemoryStore::new();
    let sealed = seal_locked(&store, &cleared, &secret("phq_live_kept"), &meta("predicthq", "a", "", "", NOW)).unwrap();
    assert!(sealed.needs_confirmation);
    apply(&mut store, &sealed.changes);
    // A capture key for another recipient (a stale one) does not divert the capture either.
    let (_, other) = fresh();
    let stale =
        seal_locked(&store, &private_for(&other), &secret("phq_live_stale"), &meta("predicthq", "b", "", "", NOW))
            .unwrap();
    assert!(stale.needs_confirmation);
    apply(&mut store, &stale.changes);

    let listing = vault.list(&store);
    let mut found: Vec<_> = listing.entries.iter().map(|e| (e.secret.expose(), e.trust)).collect();
    found.sort_by_key(|f| f.0);
    assert_eq!(found, vec![("phq_live_kept", Trust::Foreign), ("phq_live_stale", Trust::Foreign)]);

    let mut private = cleared.clone();
    let restore = vault.restore_capture_key(&private);
    assert!(!restore.is_empty());
    apply(&mut private, restore.changeset());
    assert!(vault.restore_capture_key(&private).is_empty());
    let again =
        seal_locked(&store, &private, &secret("phq_live_tagged"), &meta("predicthq", "c", "", "", NOW)).unwrap();
    assert!(!again.needs_confirmation);
}

// ---------------------------------------------------------------------------------------------
// Backup and import

fn vault_with_three() -> (MemoryStore, UnlockedVault, Vec<EntryId>) {
    let (mut store, private, vault) = fresh_with_private();
    let ids = vec![
        capture(&mut store, By::Vault(&vault), "phq_live_one", &meta("predicthq", "acme", "a@acme.test", "one", NOW)),
        capture(
            &mut store,
            By::Locked(&private),
            "phq_live_two",
            &meta("predicthq", "globex", "b@globex.test", "two", NOW + 1),
        ),
        capture(&mut store, By::Vault(&vault), "phq_live_three", &meta("predicthq", "initech", "", "three", NOW + 2)),
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
    assert_eq!(
        import_error(&greedy, BACKUP_PASSPHRASE),
        ImportError::TooMuchWork { work_factor: 23, max: MAX_IMPORT_WORK_FACTOR }
    );
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
        BackupError::PassphraseTooShort { min: 12 }
    );
}

#[test]
fn backups_demanding_more_scrypt_work_than_allowed_are_refused_and_write_nothing() {
    const { assert!(MAX_IMPORT_WORK_FACTOR == BACKUP_WORK_FACTOR + 1, "a little above what export writes") };
    let mut greedy = age::scrypt::Recipient::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
    greedy.set_work_factor(MAX_IMPORT_WORK_FACTOR + 1);
    let plain = json!({ "format": "keywarden-backup", "version": 1, "exported_at": NOW, "entries": [] });
    let file = age::encrypt_and_armor(&greedy, plain.to_string().as_bytes()).unwrap();
    let (store, vault) = fresh();
    let before = store.clone();
    let err = vault.import_backup(&store, file.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap_err();
    assert_eq!(err, ImportError::TooMuchWork { work_factor: MAX_IMPORT_WORK_FACTOR + 1, max: MAX_IMPORT_WORK_FACTOR });
    assert_eq!(
        err.to_string(),
        "the backup asks for scrypt work factor 20 (1 GiB of memory); keywarden opens backups up to work factor 19 \
         (512 MiB): re-encrypt it with age's default"
    );
    assert_eq!(store, before, "nothing was written");
    // One step lower opens.
    let mut fine = age::scrypt::Recipient::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
    fine.set_work_factor(TEST_WORK_FACTOR);
    let file = age::encrypt_and_armor(&fine, plain.to_string().as_bytes()).unwrap();
    assert!(vault.import_backup(&store, file.as_bytes(), &pass(BACKUP_PASSPHRASE)).is_ok());
}

#[test]
fn backups_leave_foreign_entries_out_and_say_so() {
    let (mut store, vault) = fresh();
    capture(&mut store, By::Vault(&vault), "phq_live_ours", &meta("predicthq", "a", "", "", NOW));
    let planted =
        capture(&mut store, By::Locked(&MemoryStore::new()), "phq_live_planted", &meta("predicthq", "b", "", "", NOW));
    let backup = vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap();
    assert_eq!((backup.entries, backup.unconfirmed.clone()), (1, vec![planted.clone()]));
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(BACKUP_PASSPHRASE.to_string()));
    let plain = String::from_utf8(age::decrypt(&identity, backup.armored.as_bytes()).unwrap()).unwrap();
    assert!(plain.contains("phq_live_ours") && !plain.contains("phq_live_planted"));
    // Importing a backup that holds the same key vouches for it: the foreign copy is no duplicate.
    let (other_store, other) = fresh();
    let mut with_planted = other_store.clone();
    let c = other.seal(&other_store, &secret("phq_live_planted"), &meta("predicthq", "b", "", "", NOW)).unwrap();
    apply(&mut with_planted, &c.changes);
    let file =
        other.export_backup_with_work_factor(&with_planted, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap();
    let report = vault.import_backup(&store, file.armored.as_bytes(), &pass(BACKUP_PASSPHRASE)).unwrap();
    assert_eq!(report.imported.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Sharing

#[test]
fn a_shared_key_opens_with_the_teammates_identity_only() {
    let (mut store, vault) = fresh();
    let mut m = meta("predicthq", "acme", "", "CI\ntoken", NOW);
    m.notes = "not shared".into();
    let id = capture(&mut store, By::Vault(&vault), "phq_live_SHARED", &m);
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
