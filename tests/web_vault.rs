//! wasm-bindgen tests of the options page's vault sections in headless Chromium: alarms first, keys found in storage apart and never copied or shared, the vault passphrase asked again, entries described in catalog words.
#![cfg(target_arch = "wasm32")]

use keywarden::engine::protocol::{EntrySummary, EntryTrust, VaultStatus};
use keywarden::engine::vault::EntryState;
use keywarden::engine::words::Words;
use keywarden::web::dom::{add, document, take_secret};
use keywarden::web::vault_ui::{draw, Rerender};
use keywarden::words;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn alarm() -> Words {
    words!("alarmIndexDamaged")
}

fn entry(id: &str, trust: EntryTrust) -> EntrySummary {
    EntrySummary {
        id: id.into(),
        vendor: "predicthq".into(),
        vendor_name: "PredictHQ".into(),
        tenant: "control.predicthq.com".into(),
        account: String::new(),
        key_name: format!("key {id}"),
        scopes: Vec::new(),
        created_at: 1_760_000_000_000,
        page_url: "https://control.predicthq.com/tokens".into(),
        notes: String::new(),
        state: EntryState::Active,
        trust,
        hint: "…wxyz".into(),
    }
}

fn unlocked(entries: Vec<EntrySummary>, alarm: Option<Words>) -> VaultStatus {
    VaultStatus {
        set_up: true,
        unlocked: true,
        items: entries.len() as u32,
        bytes_in_use: 2_450_000,
        entries,
        damaged: Vec::new(),
        auto_lock_minutes: 15,
        alarm,
        deleted: Vec::new(),
        vendors: Vec::new(),
    }
}

/// Draws the section for `status` into a fresh element of the test page, passes it to `check`, and removes it.
/// Outside an extension the message catalog is absent: a message's name stands in for its text.
fn with_section(status: &VaultStatus, check: impl FnOnce(&Element)) {
    let body: Element = document().body().expect("test page body").into();
    let root = add(&body, "div", &[], "").unwrap();
    let section = add(&root, "section", &[("id", "vault")], "").unwrap();
    let rerender: Rerender = Rc::new(|_| {});
    let mut listeners = draw(&section, status, &rerender).expect("the section draws");
    // The options page also draws Backup and sharing (its own section) while unlocked.
    if status.unlocked {
        listeners.extend(keywarden::web::vault_ui::backup_section(&root, status, &rerender).expect("backup draws"));
    }
    check(&root);
    drop(listeners);
    root.remove();
}

fn all(el: &Element, css: &str) -> Vec<Element> {
    let list = el.query_selector_all(css).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| wasm_bindgen::JsCast::dyn_into::<Element>(n).ok())
        .collect()
}

fn attrs(el: &Element, css: &str, name: &str) -> Vec<String> {
    all(el, css).iter().filter_map(|e| e.get_attribute(name)).collect()
}

#[wasm_bindgen_test]
fn an_alarm_is_the_first_thing_under_the_heading_in_every_state() {
    let locked = VaultStatus { unlocked: false, ..unlocked(Vec::new(), Some(alarm())) };
    for status in [unlocked(Vec::new(), Some(alarm())), locked] {
        with_section(&status, |s| {
            let shown = s.query_selector("h2 + p").unwrap().expect("something follows the heading");
            assert_eq!(shown.id(), "vault-alarm");
            assert_eq!(shown.get_attribute("role").as_deref(), Some("alert"));
            assert_eq!(shown.text_content().unwrap(), "alarmIndexDamaged", "the core's words, worded by the page");
        });
    }
    with_section(&unlocked(Vec::new(), None), |s| assert!(s.query_selector("#vault-alarm").unwrap().is_none()));
}

#[wasm_bindgen_test]
fn storage_use_is_shown_for_a_vault_locked_or_not_and_not_before_setup() {
    let locked = VaultStatus { unlocked: false, ..unlocked(vec![entry("a", EntryTrust::Verified)], None) };
    for status in [unlocked(vec![entry("a", EntryTrust::Verified), entry("b", EntryTrust::Verified)], None), locked] {
        with_section(&status, |s| {
            let shown = s.query_selector("#storage-use").unwrap().expect("storage use is shown");
            // Outside an extension a message's name stands in for its text.
            let want = if status.items == 1 { "storageUseOne" } else { "storageUseMany" };
            assert_eq!(shown.text_content().unwrap(), want);
        });
    }
    let new = VaultStatus { set_up: false, unlocked: false, ..unlocked(Vec::new(), None) };
    with_section(&new, |s| assert!(s.query_selector("#storage-use").unwrap().is_none()));
}

#[wasm_bindgen_test]
fn foreign_entries_are_listed_apart_with_keep_and_delete_and_are_never_copied_or_shared() {
    let status = unlocked(vec![entry("mine", EntryTrust::Verified), entry("planted", EntryTrust::Foreign)], None);
    with_section(&status, |s| {
        assert_eq!(attrs(s, "#entries li[data-entry-id]", "data-entry-id"), ["mine"]);
        assert_eq!(attrs(s, "#entries li[data-entry-id] button", "data-action"), ["copy", "revoke"]);
        let apart = s.query_selector("section#foreign").unwrap().expect("a section of its own");
        assert_eq!(apart.query_selector("h3").unwrap().unwrap().text_content().unwrap(), "foreignTitle");
        assert_eq!(attrs(&apart, "li[data-entry-id]", "data-entry-id"), ["planted"]);
        assert_eq!(attrs(&apart, "li[data-entry-id]", "data-trust"), ["foreign"]);
        assert_eq!(attrs(&apart, "li button", "data-action"), ["adopt", "delete"]);
        let keep = all(&apart, "li button[data-action='adopt']");
        assert_eq!(keep[0].text_content().unwrap(), "adopt");
        assert_eq!(attrs(s, "#share-entry option", "value"), ["mine"], "only keys keywarden saved can be shared");
    });
}

#[wasm_bindgen_test]
fn without_foreign_entries_there_is_no_foreign_section() {
    with_section(&unlocked(vec![entry("a", EntryTrust::Verified), entry("b", EntryTrust::Pending)], None), |s| {
        assert!(s.query_selector("#foreign").unwrap().is_none());
        assert_eq!(attrs(s, "#entries li", "data-entry-id"), ["b", "a"], "newest first");
        let texts: Vec<String> = all(s, "#entries li").iter().map(|li| li.text_content().unwrap()).collect();
        assert!(texts[0].starts_with("entryHead") && texts[0].contains("…wxyz"), "{texts:?}");
        assert!(texts[0].contains("entrySavedWhileLocked"), "{texts:?}");
        assert!(!texts[1].contains("entrySavedWhileLocked"), "{texts:?}");
    });
}

#[wasm_bindgen_test]
fn export_and_share_ask_for_the_vault_passphrase_next_to_the_action() {
    with_section(&unlocked(vec![entry("a", EntryTrust::Verified)], None), |s| {
        for (form, field) in [("export-backup", "backup-vault-passphrase"), ("share-key", "share-vault-passphrase")] {
            let input = s
                .query_selector(&format!("form#{form} input#{field}"))
                .unwrap()
                .unwrap_or_else(|| panic!("#{field} in #{form}"));
            assert_eq!(input.get_attribute("type").as_deref(), Some("password"));
            assert_eq!(input.get_attribute("autocomplete").as_deref(), Some("current-password"));
            assert!(
                s.query_selector(&format!("form#{form} .form-status[role='status']")).unwrap().is_some(),
                "#{form} has its own message line"
            );
        }
    });
}

#[wasm_bindgen_test]
fn forms_asking_for_the_same_passphrase_are_named_by_their_headings() {
    with_section(&unlocked(vec![entry("a", EntryTrust::Verified)], None), |s| {
        let mut names = Vec::new();
        for form in all(s, "form") {
            let id = form.get_attribute("aria-labelledby").unwrap_or_else(|| panic!("form#{} has a name", form.id()));
            let heading = s.query_selector(&format!("#{id}")).unwrap().expect("its heading");
            assert!(matches!(heading.tag_name().as_str(), "H2" | "H3"), "form#{} is named by a heading", form.id());
            names.push(heading.text_content().unwrap_or_default());
        }
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len(), "each form has a name of its own: {names:?}");
        assert!(names.len() >= 3, "backup, import and share at least: {names:?}");
    });
}

#[wasm_bindgen_test]
fn new_passphrases_get_a_verdict_slot_right_after_the_field() {
    let new = VaultStatus { set_up: false, unlocked: false, ..unlocked(Vec::new(), None) };
    with_section(&new, |s| {
        let out = s
            .query_selector("#setup-passphrase + #setup-strength")
            .unwrap()
            .expect("the verdict sits right after the field");
        assert_eq!(out.get_attribute("aria-live").as_deref(), Some("polite"));
    });
}

#[wasm_bindgen_test]
fn a_secret_taken_from_a_field_empties_it() {
    let body: Element = document().body().unwrap().into();
    let input = add(&body, "input", &[("id", "take-me"), ("type", "password")], "").unwrap();
    js_sys::Reflect::set(&input, &JsValue::from_str("value"), &JsValue::from_str("hunter2 hunter2")).unwrap();
    let secret = take_secret("take-me");
    assert_eq!(secret.expose(), "hunter2 hunter2");
    assert_eq!(js_sys::Reflect::get(&input, &JsValue::from_str("value")).unwrap().as_string().as_deref(), Some(""));
    input.remove();
}

#[wasm_bindgen_test]
fn before_the_strength_module_loads_no_passphrase_is_judged_acceptable() {
    assert!(keywarden::web::strength::judge("gravel orbit tundra mosaic lantern").is_err());
}
