//! Looks up the extension's messages (`_locales/<lang>/messages.json`) for the text Rust draws.
//!
//! Every name used here is checked against `messages.json` by a native test, which reads the
//! source for `t("…")`, `t_with("…", …)` and `words!("…", …)` calls: keep the name a literal at
//! the call, and pass as many substitutions as the message has placeholders.

use super::api;
use crate::engine::words::{Arg, Words};

/// The message `name` in the browser's language, falling back to the default locale; the bare
/// name when the catalog lacks it, so a missing entry shows instead of a blank.
pub fn t(name: &str) -> String {
    t_with(name, &[])
}

/// The message `name` with `$1`…`$9` placeholders filled from `substitutions`, in order.
pub fn t_with(name: &str, substitutions: &[&str]) -> String {
    let text = api::message(name, substitutions.iter().map(|s| s.to_string()).collect());
    if text.is_empty() {
        name.to_string()
    } else {
        text
    }
}

/// What the core said (an error, the vault's alarm), worded: nested words first, then the
/// message with its substitutions.
pub fn word(words: &Words) -> String {
    let args: Vec<String> = words
        .args
        .iter()
        .map(|a| match a {
            Arg::Text(text) => text.clone(),
            Arg::Words(inner) => word(inner),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    t_with(&words.name, &args)
}
