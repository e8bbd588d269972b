//! The vault service as the worker drives it: captures saved locked and unlocked, unlock and lock, copy, replacement, backups and sharing.

mod common;

use common::popup;
use keywarden::engine::controller::CapturedKey;
use keywarden::engine::keeper::{Keeper, Session, VaultOutcome};
use keywarden::engine::protocol::{
    admit, Admitted, CaptureState, EntryTrust, ErrorCode, ExtensionPage, PageRequest as Request, Reply, Sender,
    VaultStatus, VERSION,
};
use keywarden::engine::recipe::FieldName;
use keywarden::engine::secret::SecretString;
use keywarden::engine::vault::store::{MemoryStore, Store};
use keywarden::engine::vault::{EntryState, KdfParams};
use serde_json::json;
use std::collections::BTreeMap;

const PASS: &str = "correct horse battery staple";
const KEY_A: &str = "Aa1-first-predicthq-token_0123456789abcd";
const KEY_B: &str = "Bb2-second-predicthq-token_0123456789abc";

fn weak() -> KdfParams {
    KdfParams::weak_for_tests(1024, 1)
}

thread_local! {
    /// The private area (the extension origin's IndexedDB in the browser) of this test's vault.
    static PRIVATE: std::cell::RefCell<MemoryStore> = std::cell::RefCell::new(MemoryStore::new());
}

/// Writes an outcome the way the worker does: local batches in order, then the private area.
fn write(store: &mut MemoryStore, out: &VaultOutcome) {
    store.apply(&out.changes).expect("writes fit");
    for batch in &out.later {
        store.apply(batch).expect("writes fit");
    }
    PRIVATE.with(|p| p.borrow_mut().apply(&out.private).expect("writes fit"));
}

fn run(keeper: &mut Keeper, store: &mut MemoryStore, request: Request) -> VaultOutcome {
    let private = PRIVATE.with(|p| p.borrow().clone());
    let out = keeper.handle(store, &private, request, 1_000, &mut weak);
    write(store, &out);
    out
}

fn captured(vendor: &str, tenant: &str, key: &str, name: &str, replaces_previous: bool) -> CapturedKey {
    CapturedKey {
        secret: SecretString::new(key.into()),
        vendor: vendor.into(),
        host: "control.predicthq.com".into(),
        tenant: tenant.into(),
        page_url: "https://control.predicthq.com/tokens".into(),
        fields: BTreeMap::from([
            (FieldName::KeyName, name.to_string()),
            (FieldName::Scopes, "Account, Events".to_string()),
        ]),
        replaces_previous,
    }
}

fn save(keeper: &mut Keeper, store: &mut MemoryStore, c: CapturedKey) -> VaultOutcome {
    let private = PRIVATE.with(|p| p.borrow().clone());
    let out = keeper.save_capture(store, &private, c, 2_000);
    write(store, &out);
    out
}

fn status(keeper: &mut Keeper, store: &mut MemoryStore) -> VaultStatus {
    match run(keeper, store, Request::VaultStatus).reply {
        Reply::Vault(s) => s,
        other => panic!("{other:?}"),
    }
}

fn pass(s: &str) -> SecretString {
    SecretString::new(s.into())
}

fn set_up() -> (Keeper, MemoryStore) {
    let (mut keeper, mut store) = (Keeper::new(vec!["planningspace".into()]), MemoryStore::new());
    let out = run(&mut keeper, &mut store, Request::VaultSetup { passphrase: pass(PASS) });
    assert!(matches!(out.session, Session::Store(_)), "setup leaves the vault unlocked for this session");
    (keeper, store)
}

#[test]
fn capture_without_a_vault_is_acknowledged_and_keeps_nothing() {
    let (mut keeper, mut store) = (Keeper::new(vec![]), MemoryStore::new());
    let out = save(&mut keeper, &mut store, captured("predicthq", "t", KEY_A, "n", false));
    assert_eq!(out.reply, Reply::Captured { state: CaptureState::Received, vendor: "predicthq".into(), hint: None });
    assert!(store.items().is_empty(), "nothing stored, not even temporarily");
}

#[test]
fn captures_save_unlocked_and_locked_and_list_after_unlock() {
    let (mut keeper, mut store) = set_up();
    let out = save(&mut keeper, &mut store, captured("predicthq", "control.predicthq.com", KEY_A, "nightly", false));
    assert_eq!(
        out.reply,
        Reply::Captured { state: CaptureState::Saved, vendor: "predicthq".into(), hint: Some("…abcd".into()) },
        "the save control is told the last four characters, never more"
    );
    let s = status(&mut keeper, &mut store);
    assert_eq!(s.entries.len(), 1);
    assert_eq!((s.entries[0].key_name.as_str(), s.entries[0].hint.as_str()), ("nightly", "…abcd"));
    assert_eq!(s.entries[0].scopes, vec!["Account".to_string(), "Events".to_string()]);

    let out = run(&mut keeper, &mut store, Request::Lock);
    assert!(matches!(out.session, Session::Clear));
    let out = save(&mut keeper, &mut store, captured("predicthq", "control.predicthq.com", KEY_B, "warehouse", false));
    assert!(matches!(out.reply, Reply::Captured { state: CaptureState::Saved, .. }), "saving works while locked");
    let Reply::Captured { hint: Some(hint), .. } = &out.reply else { panic!("{:?}", out.reply) };
    assert_eq!(hint.chars().count(), 5, "{hint}");
    assert!(KEY_B.ends_with(hint.trim_start_matches('…')), "{hint}");
    let s = status(&mut keeper, &mut store);
    assert_eq!((s.unlocked, s.items, s.entries.len()), (false, 2, 0), "locked: counted, not listed");

    let wrong = run(&mut keeper, &mut store, Request::Unlock { passphrase: pass("not the passphrase") });
    assert!(matches!(wrong.reply, Reply::Error { code: ErrorCode::Refused, .. }));
    assert!(!keeper.is_unlocked());
    run(&mut keeper, &mut store, Request::Unlock { passphrase: pass(PASS) });
    let s = status(&mut keeper, &mut store);
    assert_eq!(s.entries.len(), 2);
    assert!(s.entries.iter().all(|e| e.trust == EntryTrust::Verified), "the locked capture is vouched for at unlock");
    assert!(s.entries.iter().all(|e| e.state == EntryState::Active), "PredictHQ allows many tokens: none replaced");
    let listed = format!("{s:?}");
    assert!(!listed.contains(KEY_A) && !listed.contains(KEY_B), "listings never carry keys");
}

#[test]
fn copy_returns_the_key_only_when_unlocked() {
    let (mut keeper, mut store) = set_up();
    save(&mut keeper, &mut store, captured("predicthq", "t", KEY_A, "n", false));
    let id = status(&mut keeper, &mut store).entries[0].id.clone();
    match run(&mut keeper, &mut store, Request::CopyKey { id: id.clone() }).reply {
        Reply::Key { key } => assert_eq!(key.expose(), KEY_A),
        other => panic!("{other:?}"),
    }
    run(&mut keeper, &mut store, Request::Lock);
    assert!(matches!(
        run(&mut keeper, &mut store, Request::CopyKey { id }).reply,
        Reply::Error { code: ErrorCode::Locked, .. }
    ));
}

#[test]
fn one_key_per_account_vendors_mark_the_previous_key_replaced() {
    let (mut keeper, mut store) = set_up();
    save(&mut keeper, &mut store, captured("planningspace", "srv/ACME", KEY_A, "", true));
    save(&mut keeper, &mut store, captured("planningspace", "srv/ACME", KEY_B, "", true));
    let s = status(&mut keeper, &mut store);
    let state_of = |hint: &str| s.entries.iter().find(|e| e.hint == hint).unwrap().state;
    assert_eq!(state_of("…abcd"), EntryState::Replaced);
    assert_eq!(state_of("…9abc"), EntryState::Active);
}

#[test]
fn a_replacing_key_captured_while_locked_retires_the_old_one_at_unlock() {
    let (mut keeper, mut store) = set_up();
    save(&mut keeper, &mut store, captured("planningspace", "srv/ACME", KEY_A, "", true));
    run(&mut keeper, &mut store, Request::Lock);
    save(&mut keeper, &mut store, captured("planningspace", "srv/ACME", KEY_B, "", true));
    run(&mut keeper, &mut store, Request::Unlock { passphrase: pass(PASS) });
    let s = status(&mut keeper, &mut store);
    assert_eq!(s.entries.iter().filter(|e| e.state == EntryState::Replaced).count(), 1);
}

#[test]
fn backups_and_shares_come_out_as_armored_age() {
    let (mut keeper, mut store) = set_up();
    save(&mut keeper, &mut store, captured("predicthq", "t", KEY_A, "n", false));
    let id = status(&mut keeper, &mut store).entries[0].id.clone();
    let backup = keeper.handle(
        &store,
        &MemoryStore::new(),
        Request::ExportBackup { passphrase: pass("backup passphrase 123"), vault_passphrase: pass(PASS) },
        5,
        &mut weak,
    );
    let Reply::Armored { text, entries, .. } = backup.reply else { panic!("{:?}", backup.reply) };
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert_eq!(entries, 1);
    assert!(!text.contains(KEY_A));
    let share = run(
        &mut keeper,
        &mut store,
        Request::ShareKey { id, recipient: "age1notarecipient".into(), vault_passphrase: pass(PASS) },
    );
    assert!(matches!(share.reply, Reply::Error { code: ErrorCode::Refused, .. }));
}

#[test]
fn auto_lock_minutes_are_bounded() {
    let (mut keeper, mut store) = set_up();
    assert!(matches!(run(&mut keeper, &mut store, Request::SetAutoLock { minutes: 0 }).reply, Reply::Error { .. }));
    assert!(matches!(run(&mut keeper, &mut store, Request::SetAutoLock { minutes: 5 }).reply, Reply::Vault(_)));
    assert_eq!(keeper.auto_lock_minutes, 5);
}

#[test]
fn vault_requests_cannot_even_be_expressed_by_content_scripts_or_the_panel() {
    let content = Sender::Content { tab: 1, frame: 0, url: "https://control.predicthq.com/".into() };
    let panel = Sender::Page { page: ExtensionPage::Panel, tab: Some(1) };
    let options = Sender::Page { page: ExtensionPage::Options, tab: Some(4) };
    let bodies = [
        json!({ "type": "vault_status" }),
        json!({ "type": "copy_key", "id": "x" }),
        json!({ "type": "unlock", "passphrase": "p" }),
        json!({ "type": "export_backup", "passphrase": "p", "vault_passphrase": "q" }),
        json!({ "type": "share_key", "id": "x", "recipient": "r", "vault_passphrase": "q" }),
        json!({ "type": "adopt_entries", "ids": ["x"] }),
    ];
    let wire = |body: &serde_json::Value| json!({ "v": VERSION, "body": body }).to_string();
    for body in &bodies {
        for sender in [&content, &panel] {
            let refused = admit(sender, wire(body).as_str()).expect_err("refused");
            assert_eq!(refused.code, ErrorCode::Forbidden, "{body} from {sender:?}");
        }
        assert!(matches!(admit(&options, wire(body).as_str()), Ok(Admitted::Page { .. })), "{body}");
    }
    assert!(admit(&popup(), wire(&bodies[1]).as_str()).is_ok(), "copy is one click in the popup");
    let export = admit(&popup(), wire(&bodies[3]).as_str()).expect_err("export is the options page's");
    assert_eq!(export.code, ErrorCode::Forbidden);
}

/// Runs `request` at `now` (ms), writing its outcome.
fn run_at(keeper: &mut Keeper, store: &mut MemoryStore, request: Request, now: u64) -> VaultOutcome {
    let private = PRIVATE.with(|p| p.borrow().clone());
    let out = keeper.handle(store, &private, request, now, &mut weak);
    write(store, &out);
    out
}

fn one_entry() -> (Keeper, MemoryStore, String) {
    let (mut keeper, mut store) = set_up();
    save(&mut keeper, &mut store, captured("predicthq", "control.predicthq.com", KEY_A, "nightly", false));
    let id = status(&mut keeper, &mut store).entries[0].id.clone();
    (keeper, store, id)
}

#[test]
fn the_listing_names_the_vendor_and_carries_page_and_notes_but_never_the_key() {
    use keywarden::engine::protocol::VendorCard;
    let card = VendorCard {
        id: "predicthq".into(),
        name: "PredictHQ".into(),
        key_page_url: Some("https://control.predicthq.com/tokens".into()),
        self_hosted: false,
        hosts: vec!["control.predicthq.com".into()],
        server_pages: Vec::new(),
    };
    let (keeper, mut store) = set_up();
    let mut keeper = keeper.with_vendors(vec![card.clone()]);
    let mut c = captured("predicthq", "control.predicthq.com", KEY_A, "nightly", false);
    c.fields.insert(FieldName::Description, "for the warehouse".into());
    save(&mut keeper, &mut store, c);
    let s = status(&mut keeper, &mut store);
    assert_eq!(s.vendors, vec![card]);
    let e = &s.entries[0];
    assert_eq!(e.vendor_name, "PredictHQ");
    assert_eq!(e.page_url, "https://control.predicthq.com/tokens");
    assert_eq!(e.notes, "for the warehouse");
    assert!(!format!("{s:?}").contains(KEY_A));
    assert!(!serde_json::to_string(&s).unwrap().contains(KEY_A));
}

#[test]
fn rename_and_notes_are_sealed_into_the_entry_and_the_key_is_kept() {
    let (mut keeper, mut store, id) = one_entry();
    let out = run(&mut keeper, &mut store, Request::RenameEntry { id: id.clone(), name: "  warehouse export ".into() });
    assert_eq!(out.reply, Reply::Done);
    let out = run(&mut keeper, &mut store, Request::SetEntryNotes { id: id.clone(), notes: "rotate in May\n".into() });
    assert_eq!(out.reply, Reply::Done);
    // A fresh keeper (a restarted worker) reads the same from storage.
    let mut fresh = Keeper::new(vec![]);
    run(&mut fresh, &mut store, Request::Unlock { passphrase: pass(PASS) });
    let e = status(&mut fresh, &mut store).entries.remove(0);
    assert_eq!(
        (e.key_name.as_str(), e.notes.as_str(), e.id.as_str()),
        ("warehouse export", "rotate in May", id.as_str())
    );
    assert!(
        !store.items().iter().any(|(_, v)| v.to_string().contains("warehouse")),
        "the new name is sealed, not in clear"
    );
    match run(&mut fresh, &mut store, Request::CopyKey { id: id.clone() }).reply {
        Reply::Key { key } => assert_eq!(key.expose(), KEY_A),
        other => panic!("{other:?}"),
    }
    let too_long = "n".repeat(10_000);
    let out = run(&mut fresh, &mut store, Request::RenameEntry { id: id.clone(), name: too_long });
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Refused, .. }), "{:?}", out.reply);
    run(&mut fresh, &mut store, Request::Lock);
    let out = run(&mut fresh, &mut store, Request::RenameEntry { id, name: "x".into() });
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Locked, .. }));
}

#[test]
fn a_deleted_entry_comes_back_within_the_undo_window() {
    use keywarden::engine::keeper::UNDO_DELETE_MS;
    let (mut keeper, mut store, id) = one_entry();
    let before = store.get(&format!("entry:{id}")).expect("stored");
    let out = run_at(&mut keeper, &mut store, Request::DeleteEntry { id: id.clone() }, 10_000);
    assert_eq!(out.reply, Reply::Deleted { id: id.clone(), undo_until: 10_000 + UNDO_DELETE_MS });
    assert!(store.get(&format!("entry:{id}")).is_none(), "gone from storage at once");
    let s = status(&mut keeper, &mut store);
    assert!(s.entries.is_empty());
    assert_eq!(s.deleted.len(), 1, "listed as restorable");
    assert_eq!((s.deleted[0].key_name.as_str(), s.deleted[0].undo_until), ("nightly", 10_000 + UNDO_DELETE_MS));
    let trash = keeper.take_trash_change().expect("the deletion is to be kept in storage.session");
    assert!(!serde_json::to_string(&trash).unwrap().contains(KEY_A), "kept sealed, never in clear");

    let out = run_at(&mut keeper, &mut store, Request::UndoDelete { id: id.clone() }, 10_000 + UNDO_DELETE_MS - 1);
    assert_eq!(out.reply, Reply::Done);
    assert_eq!(store.get(&format!("entry:{id}")), Some(before), "the item is back as it was");
    let s = status(&mut keeper, &mut store);
    assert_eq!((s.entries.len(), s.deleted.len()), (1, 0));
    assert_eq!(s.entries[0].trust, EntryTrust::Verified, "vouched for again: back in the index");
    assert!(s.alarm.is_none());
    assert_eq!(keeper.take_trash_change(), Some(Vec::new()));
    // A second undo has nothing to put back.
    let again = run_at(&mut keeper, &mut store, Request::UndoDelete { id }, 10_001);
    assert!(matches!(again.reply, Reply::Error { code: ErrorCode::Refused, .. }));
}

#[test]
fn undo_is_refused_once_the_window_has_passed() {
    use keywarden::engine::keeper::UNDO_DELETE_MS;
    let (mut keeper, mut store, id) = one_entry();
    run_at(&mut keeper, &mut store, Request::DeleteEntry { id: id.clone() }, 10_000);
    let late = run_at(&mut keeper, &mut store, Request::UndoDelete { id: id.clone() }, 10_000 + UNDO_DELETE_MS);
    assert!(matches!(late.reply, Reply::Error { code: ErrorCode::Refused, .. }), "{:?}", late.reply);
    assert!(store.get(&format!("entry:{id}")).is_none());
    assert!(status(&mut keeper, &mut store).deleted.is_empty());
}

#[test]
fn undo_is_refused_after_a_lock_even_within_the_window() {
    let (mut keeper, mut store, id) = one_entry();
    run_at(&mut keeper, &mut store, Request::DeleteEntry { id: id.clone() }, 10_000);
    keeper.take_trash_change();
    run_at(&mut keeper, &mut store, Request::Lock, 10_001);
    assert_eq!(keeper.take_trash_change(), Some(Vec::new()), "locking drops the deletion from storage.session");
    let locked = run_at(&mut keeper, &mut store, Request::UndoDelete { id: id.clone() }, 10_002);
    assert!(matches!(locked.reply, Reply::Error { code: ErrorCode::Locked, .. }), "{:?}", locked.reply);
    run_at(&mut keeper, &mut store, Request::Unlock { passphrase: pass(PASS) }, 10_003);
    let after = run_at(&mut keeper, &mut store, Request::UndoDelete { id: id.clone() }, 10_004);
    assert!(matches!(after.reply, Reply::Error { code: ErrorCode::Refused, .. }), "{:?}", after.reply);
    assert!(store.get(&format!("entry:{id}")).is_none(), "the key stays deleted");
}

#[test]
fn undo_never_overwrites_an_item_stored_under_the_same_id_meanwhile() {
    let (mut keeper, mut store, id) = one_entry();
    let item = store.get(&format!("entry:{id}")).unwrap();
    run_at(&mut keeper, &mut store, Request::DeleteEntry { id: id.clone() }, 10_000);
    let mut other = item.clone();
    other["age"] = json!("AAAA");
    store.insert(&format!("entry:{id}"), other.clone());
    let out = run_at(&mut keeper, &mut store, Request::UndoDelete { id: id.clone() }, 10_001);
    assert!(matches!(out.reply, Reply::Error { .. }), "{:?}", out.reply);
    assert_eq!(store.get(&format!("entry:{id}")), Some(other));
}
