//! The `_locales` catalog against the code: every message name the code asks for exists in English, and every English message is asked for.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn catalog() -> Value {
    serde_json::from_str(&read(&Path::new(ROOT).join("extension/_locales/en/messages.json")))
        .expect("messages.json is JSON")
}

/// The first argument of every call `name(<quote>literal<quote>` in `text`, where `name` is not
/// the tail of a longer identifier.
fn literal_args(text: &str, name: &str, quote: char) -> Vec<String> {
    let opening = format!("{name}({quote}");
    let mut found = Vec::new();
    for (at, _) in text.match_indices(&opening) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &text[at + opening.len()..];
        let end = rest.find(quote).expect("a closed literal");
        found.push(rest[..end].to_string());
    }
    found
}

/// Every message name used: `t`/`t_with` in the Rust glue, `say` in the content script, and
/// `__MSG_…__` in the manifests.
fn used() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let web = Path::new(ROOT).join("src/web");
    for entry in std::fs::read_dir(&web).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
            let text = read(&path);
            names.extend(literal_args(&text, "t", '"'));
            names.extend(literal_args(&text, "t_with", '"'));
        }
    }
    names.extend(literal_args(&read(&Path::new(ROOT).join("extension/content.js")), "say", '\''));
    for file in ["manifest.base.json", "manifest.chrome.json", "manifest.firefox.json"] {
        let text = read(&Path::new(ROOT).join("extension").join(file));
        for (at, _) in text.match_indices("__MSG_") {
            let rest = &text[at + "__MSG_".len()..];
            names.insert(rest[..rest.find("__").expect("__MSG_name__")].to_string());
        }
    }
    names
}

#[test]
fn every_message_the_code_uses_is_in_english() {
    let catalog = catalog();
    let used = used();
    assert!(used.len() > 20, "the scan finds the calls: {used:?}");
    let missing: Vec<&String> = used.iter().filter(|n| catalog.get(n.as_str()).is_none()).collect();
    assert!(missing.is_empty(), "used but not in messages.json: {missing:?}");
}

#[test]
fn every_english_message_is_used() {
    let used = used();
    let catalog = catalog();
    let unused: Vec<&String> = catalog.as_object().unwrap().keys().filter(|k| !used.contains(*k)).collect();
    assert!(unused.is_empty(), "in messages.json but used nowhere: {unused:?}");
}

#[test]
fn every_message_is_well_formed() {
    for (name, entry) in catalog().as_object().unwrap() {
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}");
        let message = entry["message"].as_str().unwrap_or_else(|| panic!("{name} has a message"));
        assert!(entry["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} has a description");
        // Each $NAME$ in the text has a placeholder, and each placeholder is used once.
        let placeholders = entry.get("placeholders").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut pieces = message.split('$');
        pieces.next();
        let named: Vec<String> = pieces.step_by(2).map(str::to_lowercase).collect();
        for key in placeholders.keys() {
            assert_eq!(named.iter().filter(|n| *n == key).count(), 1, "{name}: ${key}$ once");
        }
        assert_eq!(named.len(), placeholders.len(), "{name}: every $…$ is a placeholder");
    }
}
