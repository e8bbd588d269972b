//! The manifests the build writes: in Chrome the step panel is reachable only through its per-session URL.

use serde_json::Value;
use std::process::Command;

fn manifest(browser: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden-tool"))
        .args(["manifest", concat!(env!("CARGO_MANIFEST_DIR"), "/extension"), browser, "0.0.1"])
        .output()
        .expect("keywarden-tool runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the manifest is JSON")
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
