//! The generated manifests: what the browser lets other extensions and web pages do with keywarden.

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
