//! The `_locales` catalog against the code: every message name the code asks for exists in English with as many placeholders as the call passes, every English message is asked for, and no admin-visible text is written into the Rust-drawn pages outside the catalog.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn catalog() -> Value {
    serde_json::from_str(&read(&Path::new(ROOT).join("extension/_locales/en/messages.json")))
        .expect("messages.json is JSON")
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Source text with `//` comments blanked out (strings kept), so that examples in doc comments
/// count neither as calls nor as text.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' {
                    out.extend(chars.next());
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '/' && chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            None => {
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// The text from `start` up to the bracket that closes the one just before `start` (one of `)`,
/// `]`), split into its top-level comma-separated parts, each trimmed; a trailing comma adds none.
/// Strings (`"…"`, and in JavaScript `'…'` and `` `…` ``) and Rust char literals are skipped whole.
fn parts(text: &str, start: usize, js: bool) -> Vec<String> {
    let bytes: Vec<char> = text[start..].chars().collect();
    let (mut depth, mut i, mut current, mut out) = (0i32, 0usize, String::new(), Vec::new());
    while i < bytes.len() {
        let c = bytes[i];
        let string_quote = c == '"' || (js && (c == '\'' || c == '`'));
        if string_quote {
            current.push(c);
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                if bytes[i] == '\\' {
                    current.push(bytes[i]);
                    i += 1;
                }
                current.push(bytes[i]);
                i += 1;
            }
            current.push(c);
        } else if c == '\'' && !js {
            // A char literal ('x', '\n'); a lifetime ('a) has no closing quote right after.
            let len = if bytes.get(i + 1) == Some(&'\\') { 4 } else { 3 };
            if bytes.get(i + len - 1) == Some(&'\'') {
                current.extend(&bytes[i..i + len]);
                i += len - 1;
            } else {
                current.push(c);
            }
        } else if "([{".contains(c) {
            depth += 1;
            current.push(c);
        } else if ")]}".contains(c) {
            if depth == 0 {
                break;
            }
            depth -= 1;
            current.push(c);
        } else if c == ',' && depth == 0 {
            out.push(current.trim().to_string());
            current.clear();
        } else {
            current.push(c);
        }
        i += 1;
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// Every call `name(` in `text` where `name` is not the tail of a longer identifier or a method,
/// as its argument list.
fn calls(text: &str, name: &str, js: bool) -> Vec<Vec<String>> {
    let opening = format!("{name}(");
    text.match_indices(&opening)
        .filter(|(at, _)| {
            let before = text[..*at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == ':')
        })
        .map(|(at, _)| parts(text, at + opening.len(), js))
        .collect()
}

/// The text of a string literal argument (`"…"`, or `'…'` in JavaScript), if `arg` is one.
fn literal(arg: &str) -> Option<&str> {
    let q = arg.chars().next()?;
    (matches!(q, '"' | '\'') && arg.len() >= 2 && arg.ends_with(q)).then(|| &arg[1..arg.len() - 1])
}

/// How many elements an array argument (`&[a, b]`, `[a, b]`) has; `None` for anything else.
fn array_len(arg: &str) -> Option<usize> {
    let inner = arg.strip_prefix('&').unwrap_or(arg).trim_start();
    let inner = inner.strip_prefix('[')?;
    Some(parts(inner, 0, false).len())
}

/// One place a message is asked for: the name and how many substitutions go with it.
#[derive(Debug)]
struct Use {
    name: String,
    args: usize,
    at: String,
}

/// Every message name used with its substitution count: `t`, `t_with` and `words!` in the Rust
/// code, the strength module's names, `say` in the content script, the worker's fallback reply,
/// and `__MSG_…__` in the manifests.
fn uses() -> Vec<Use> {
    let mut found = Vec::new();
    let mut push = |name: &str, args: usize, at: &Path| {
        let at = at.strip_prefix(ROOT).unwrap_or(at).display().to_string();
        found.push(Use { name: name.to_string(), args, at });
    };
    for path in rust_files(&Path::new(ROOT).join("src")) {
        if path.ends_with("web/i18n.rs") || path.ends_with("engine/words.rs") {
            continue;
        }
        let text = without_comments(&read(&path));
        for args in calls(&text, "t", false) {
            if let Some(name) = args.first().and_then(|a| literal(a)) {
                assert_eq!(args.len(), 1, "{}: t({name:?}) takes the name only", path.display());
                push(name, 0, &path);
            }
        }
        for args in calls(&text, "t_with", false) {
            if let Some(name) = args.first().and_then(|a| literal(a)) {
                let n = args.get(1).and_then(|a| array_len(a));
                let n = n.unwrap_or_else(|| {
                    panic!("{}: t_with({name:?}, …) needs its substitutions as an array literal", path.display())
                });
                push(name, n, &path);
            }
        }
        for args in calls(&text, "words!", false) {
            let name = args.first().and_then(|a| literal(a));
            let name = name.unwrap_or_else(|| panic!("{}: words!({args:?}) needs a literal name", path.display()));
            push(name, args.len() - 1, &path);
        }
    }
    // The strength module: summaries through `said(name, [..])`, every other name alone.
    let strength = Path::new(ROOT).join("strength/src/lib.rs");
    let text = without_comments(&read(&strength));
    let mut summaries = BTreeSet::new();
    for args in calls(&text, "said", false) {
        if let Some(name) = args.first().and_then(|a| literal(a)) {
            push(name, args.get(1).and_then(|a| array_len(a)).expect("said(name, [..])"), &strength);
            summaries.insert(name.to_string());
        }
    }
    for (at, _) in text.match_indices("\"strength") {
        let name: String = text[at + 1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let ends = text[at + 1 + name.len()..].starts_with('"');
        if ends && !summaries.contains(&name) && name != "strength" {
            push(&name, 0, &strength);
        }
    }
    let content = Path::new(ROOT).join("extension/content.js");
    for args in calls(&without_comments(&read(&content)), "say", true) {
        if let Some(name) = args.first().and_then(|a| literal(a)) {
            push(name, args.len() - 1, &content);
        }
    }
    let worker = Path::new(ROOT).join("extension/worker.js");
    for (at, _) in read(&worker).match_indices("name: '") {
        let rest = &read(&worker)[at + "name: '".len()..];
        push(&rest[..rest.find('\'').unwrap()], 0, &worker);
    }
    for file in ["manifest.base.json", "manifest.chrome.json", "manifest.firefox.json"] {
        let path = Path::new(ROOT).join("extension").join(file);
        let text = read(&path);
        for (at, _) in text.match_indices("__MSG_") {
            let rest = &text[at + "__MSG_".len()..];
            push(&rest[..rest.find("__").expect("__MSG_name__")], 0, &path);
        }
    }
    found
}

fn used() -> BTreeSet<String> {
    uses().into_iter().map(|u| u.name).collect()
}

/// How many `$1…$n` substitutions the entry `name` takes: its placeholders' highest `$n`.
fn placeholder_count(entry: &Value) -> usize {
    let Some(placeholders) = entry.get("placeholders").and_then(Value::as_object) else { return 0 };
    placeholders
        .values()
        .filter_map(|p| p["content"].as_str()?.strip_prefix('$')?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
}

#[test]
fn every_message_the_code_uses_is_in_english() {
    let catalog = catalog();
    let used = used();
    assert!(used.len() > 200, "the scan finds the calls: {}", used.len());
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
fn every_call_passes_as_many_substitutions_as_its_message_has_placeholders() {
    let catalog = catalog();
    let uses = uses();
    assert!(uses.iter().any(|u| u.args >= 3), "the scan counts substitutions");
    let mut wrong = BTreeMap::new();
    for u in &uses {
        if let Some(entry) = catalog.get(&u.name) {
            let wanted = placeholder_count(entry);
            if u.args != wanted {
                wrong.insert(
                    format!("{} in {}", u.name, u.at),
                    format!("passes {}, the message takes {wanted}", u.args),
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
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
        // Placeholders are $1…$n, each once, so the count the calls pass is the highest.
        let mut contents: Vec<String> =
            placeholders.values().map(|p| p["content"].as_str().unwrap_or_default().to_string()).collect();
        contents.sort_by_key(|c| c.trim_start_matches('$').parse::<usize>().unwrap_or(usize::MAX));
        let expected: Vec<String> = (1..=contents.len()).map(|i| format!("${i}")).collect();
        assert_eq!(contents, expected, "{name}: placeholders are $1…$n");
    }
}

// Admin-visible text in the Rust-drawn pages

/// Attributes whose value the admin reads or hears.
const VISIBLE_ATTRIBUTES: [&str; 7] =
    ["aria-label", "title", "placeholder", "alt", "aria-description", "aria-roledescription", "aria-valuetext"];

/// Whether a string literal's text would be read as words: it holds a letter. Ids, classes, tag
/// and attribute names are never text arguments or visible-attribute values, so they are not
/// looked at; separators, dashes and digits alone are not words.
fn is_words(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
}

/// Admin-visible string literals in `text` (one Rust source under `src/web/`): the text argument
/// of the DOM builders (`add`, `button`, `action`: their last argument; `form`: its submit
/// label), visible attributes given as `("aria-label", "…")` pairs or to `set_attribute`, and
/// literal `set_text_content` / `append_with_str_1` text.
fn visible_literals(text: &str) -> Vec<String> {
    let text = without_comments(text);
    let mut found = Vec::new();
    let mut note = |what: &str, arg: &str| {
        if let Some(s) = literal(arg).filter(|s| is_words(s)) {
            found.push(format!("{what}: {s:?}"));
        }
    };
    for builder in ["add", "button", "action"] {
        for args in calls(&text, builder, false) {
            if args.len() >= 3 {
                note(builder, args.last().unwrap());
            }
        }
    }
    for args in calls(&text, "form", false) {
        if let Some(label) = args.get(3) {
            note("form", label);
        }
    }
    // Pairs in attribute lists, and `set_attribute("title", …)` alike.
    for attribute in VISIBLE_ATTRIBUTES {
        let pair = format!("(\"{attribute}\",");
        for (at, _) in text.match_indices(&pair) {
            let args = parts(&text, at + 1, false);
            note(attribute, &args[1]);
        }
    }
    for method in ["set_text_content", "append_with_str_1"] {
        for (at, _) in text.match_indices(&format!(".{method}(")) {
            let args = parts(&text, at + method.len() + 2, false);
            let arg = args.first().map(String::as_str).unwrap_or_default();
            note(method, arg.strip_prefix("Some(").and_then(|a| a.strip_suffix(')')).unwrap_or(arg));
        }
    }
    found
}

#[test]
fn no_admin_visible_text_is_written_into_the_rust_drawn_pages_outside_the_catalog() {
    let mut found = Vec::new();
    for path in rust_files(&Path::new(ROOT).join("src/web")) {
        for literal in visible_literals(&read(&path)) {
            found.push(format!("{}: {literal}", path.strip_prefix(ROOT).unwrap().display()));
        }
    }
    assert!(found.is_empty(), "admin-visible text belongs in messages.json (t, t_with): {found:#?}");
}

#[test]
fn the_visible_text_rule_flags_text_and_leaves_ids_classes_tags_and_attribute_names_alone() {
    let flagged = visible_literals(
        r#"
        add(&bar, "h1", &[("id", "vault-title")], "Keywarden vault")?;
        button(&tools, &[("class", "quiet"), ("aria-label", "Settings")], "")?;
        action(&item, "copy", "Copy")?;
        let (f, l) = form(section, "auto-lock", &fields, "Save", move |v| ())?;
        status.set_attribute("title", "Locked");
        line.set_text_content(Some("Done."));
        text.append_with_str_1(" · revoked")?;
        "#,
    );
    assert_eq!(
        flagged,
        [
            "add: \"Keywarden vault\"",
            "action: \"Copy\"",
            "form: \"Save\"",
            "aria-label: \"Settings\"",
            "title: \"Locked\"",
            "set_text_content: \"Done.\"",
            "append_with_str_1: \" · revoked\"",
        ]
    );
    let quiet = visible_literals(
        r#"
        // add(&p, "p", &[], "a comment is not drawn");
        add(&list, "ul", &[("id", "entries"), ("class", "rows"), ("data-action", "open")], "")?;
        add(&row, "dd", &[], "—")?;
        add(&head, "span", &[("class", "meta")], &t("popupKey"))?;
        button(&bar, &[("data-action", "undo"), ("aria-label", &label)], &t("popupUndo"))?;
        field.set_attribute("aria-invalid", "true");
        el.set_attribute("class", "form-status error");
        head.append_with_str_1(" ")?;
        "#,
    );
    assert!(quiet.is_empty(), "{quiet:?}");
}

#[test]
fn the_scan_counts_substitutions_through_nesting_strings_and_chars() {
    let text = r#"t_with("a", &[&x.join(", "), &f(1, 2), ','.to_string().as_str()]) words!("b", v, w(1, 2),) say('c', x || 'key', `${y},`)"#;
    assert_eq!(calls(text, "t_with", false)[0].len(), 2);
    assert_eq!(array_len(&calls(text, "t_with", false)[0][1]), Some(3));
    assert_eq!(calls(text, "words!", false)[0].len(), 3);
    assert_eq!(calls(text, "say", true)[0].len(), 3);
}
