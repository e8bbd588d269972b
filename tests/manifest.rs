//! The manifests the build writes: who may message keywarden, and how the step panel may be loaded.

use serde_json::Value;
use std::process::Command;

fn manifest(browser: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden-tool"))
        .args(["manifest", concat!(env!("CARGO_MANIFEST_DIR"), "/extension"), browser, "0.0.1"])
        .output()
        .expect("keywarden-tool runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON manifest")
}

#[test]
fn chrome_lets_no_other_extension_and_no_web_page_message_keywarden() {
    let m = manifest("chrome");
    let ec = &m["externally_connectable"];
    assert_eq!(ec["ids"], Value::Array(Vec::new()), "{ec}");
    assert_eq!(ec["matches"], Value::Array(Vec::new()), "{ec}");
}

#[test]
fn firefox_has_no_externally_connectable_key_it_does_not_support() {
    // Firefox never lets web pages message extensions, and keywarden listens to no external
    // messages; the key would only draw a linter warning there.
    assert!(manifest("firefox").get("externally_connectable").is_none());
}

#[test]
fn the_background_listens_to_no_external_messages() {
    let worker = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/extension/worker.js")).unwrap();
    assert!(!worker.contains("onMessageExternal") && !worker.contains("onConnectExternal"));
}

fn web_accessible(m: &Value) -> &Vec<Value> {
    m["web_accessible_resources"].as_array().expect("web_accessible_resources")
}

#[test]
fn chrome_serves_the_panel_only_under_a_dynamic_url() {
    let m = manifest("chrome");
    let entries = web_accessible(&m);
    assert!(!entries.is_empty());
    for entry in entries {
        assert_eq!(entry["use_dynamic_url"], Value::Bool(true), "{entry}");
    }
    assert!(entries.iter().any(|e| e["resources"].as_array().unwrap().contains(&Value::from("panel.html"))));
}

/// Firefox's manifest schema has no such key (it would warn at install); its moz-extension host
/// is random per install instead.
#[test]
fn firefox_manifest_has_no_dynamic_url_key() {
    let m = manifest("firefox");
    for entry in web_accessible(&m) {
        assert!(entry.get("use_dynamic_url").is_none(), "{entry}");
        assert!(entry["resources"].as_array().unwrap().contains(&Value::from("panel.html")));
    }
}

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/extension");
const SIZES: [&str; 4] = ["16", "32", "48", "128"];

/// The width and height a PNG file declares in its header.
fn png_size(path: &str) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{path} is a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

fn expect_icon_set(set: &Value, variant: &str) {
    for size in SIZES {
        let path = set[size].as_str().unwrap_or_else(|| panic!("no {size} px icon in {set}"));
        assert_eq!(path, format!("icons/{variant}-{size}.png"));
        let px: u32 = size.parse().unwrap();
        assert_eq!(png_size(&format!("{ROOT}/{path}")), (px, px), "{path}");
    }
}

#[test]
fn both_manifests_show_the_mark_and_start_the_toolbar_locked() {
    for browser in ["chrome", "firefox"] {
        let m = manifest(browser);
        expect_icon_set(&m["icons"], "keywarden");
        // A browser starts with the vault locked; the worker sets the icon at every start anyway.
        expect_icon_set(&m["action"]["default_icon"], "keywarden-locked");
        for size in SIZES {
            let px: u32 = size.parse().unwrap();
            let unlocked = format!("{ROOT}/icons/keywarden-{size}.png");
            assert_eq!(png_size(&unlocked), (px, px), "the worker's unlocked icon exists at {size} px");
        }
    }
}

#[test]
fn both_manifests_offer_the_popup_and_lock_shortcuts() {
    for browser in ["chrome", "firefox"] {
        let m = manifest(browser);
        let commands = m["commands"].as_object().expect("commands");
        let names: Vec<&str> = commands.keys().map(String::as_str).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        let lock = keywarden::engine::service::LOCK_COMMAND;
        for name in ["_execute_action", lock] {
            let command = &commands[name];
            let key = command["suggested_key"]["default"].as_str().expect("a suggested key");
            // Alt+Shift with a letter: valid in both browsers and taken by neither by default.
            assert!(key.starts_with("Alt+Shift+") && key.len() == "Alt+Shift+K".len(), "{name}: {key}");
            assert!(command["description"].as_str().unwrap().starts_with("__MSG_"), "{name}");
        }
        assert_ne!(commands["_execute_action"]["suggested_key"], commands[lock]["suggested_key"]);
    }
    let worker = std::fs::read_to_string(format!("{ROOT}/worker.js")).unwrap();
    assert!(worker.contains("commands.onCommand.addListener"), "the background listens to its commands");
}

#[test]
fn both_manifests_take_their_words_from_the_english_locale() {
    for browser in ["chrome", "firefox"] {
        let m = manifest(browser);
        assert_eq!(m["default_locale"], "en");
        for text in [&m["name"], &m["description"], &m["action"]["default_title"]] {
            assert!(text.as_str().unwrap().starts_with("__MSG_"), "{text}");
        }
    }
}

fn permissions(m: &Value) -> Vec<&str> {
    m["permissions"].as_array().expect("permissions").iter().filter_map(Value::as_str).collect()
}

/// Clearing the clipboard after a copy: both browsers write and read it back (to clear only
/// what keywarden put there); only Chrome needs an offscreen document for that, and Firefox's
/// manifest schema has no such permission (web-ext lint would warn).
#[test]
fn both_browsers_may_read_and_write_the_clipboard_and_only_chrome_asks_for_offscreen() {
    for browser in ["chrome", "firefox"] {
        let m = manifest(browser);
        let p = permissions(&m);
        for wanted in ["storage", "scripting", "alarms", "idle", "clipboardWrite", "clipboardRead"] {
            assert!(p.contains(&wanted), "{browser} lacks {wanted}: {p:?}");
        }
        assert_eq!(p.contains(&"offscreen"), browser == "chrome", "{browser}: {p:?}");
        let mut sorted = p.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), p.len(), "{browser} lists a permission twice: {p:?}");
    }
}

/// The permissions each browser's manifest asks for, exactly: a new one is a reviewed change.
/// `unlimitedStorage` lifts `storage.local`'s quota (10 MB in Chrome, about 9,000 keys at
/// 1.1 KB an entry): Chrome shows no warning for it, Firefox grants it at install (one line of
/// the install dialog, "Store unlimited amount of client-side data") and never asks at run time.
#[test]
fn the_permission_lists_are_the_reviewed_ones() {
    let common = ["storage", "unlimitedStorage", "scripting", "alarms", "idle", "clipboardWrite", "clipboardRead"];
    for browser in ["chrome", "firefox"] {
        let m = manifest(browser);
        let mut got = permissions(&m);
        got.sort();
        let mut reviewed: Vec<&str> = common.to_vec();
        if browser == "chrome" {
            reviewed.push("offscreen");
        }
        reviewed.sort();
        assert_eq!(got, reviewed, "{browser}");
    }
}

/// The clipboard device runs in Firefox's background page, loaded before the worker's glue; in
/// Chrome it runs in the offscreen document, which ships with the extension.
#[test]
fn the_clipboard_device_is_loaded_where_each_browser_clears_the_clipboard() {
    let firefox = manifest("firefox");
    assert_eq!(firefox["background"]["scripts"], serde_json::json!(["clipboard.js", "worker.js"]));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/extension");
    let offscreen = std::fs::read_to_string(format!("{dir}/offscreen.html")).unwrap();
    assert!(offscreen.contains(r#"src="clipboard.js""#) && offscreen.contains(r#"src="offscreen.js""#));
    assert!(std::path::Path::new(&format!("{dir}/clipboard.js")).exists());
}

#[test]
fn the_content_script_starts_before_the_page_is_parsed_wherever_it_is_injected() {
    // It describes the page as DOMContentLoaded is dispatched, ahead of the first frame, and
    // wakes a stopped worker while the page loads: both need it injected at document_start,
    // for the vendors' fixed hosts (manifest) and for added servers (registered at run time).
    for browser in ["chrome", "firefox"] {
        let m = manifest(browser);
        for script in m["content_scripts"].as_array().expect("content_scripts") {
            assert_eq!(script["run_at"], "document_start", "{browser}: {script}");
        }
    }
    let api = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/api.js")).unwrap();
    let registered: Vec<&str> = api.lines().filter(|l| l.contains("runAt:")).collect();
    assert!(
        !registered.is_empty() && registered.iter().all(|l| l.contains("runAt: 'document_start'")),
        "{registered:?}"
    );
}
