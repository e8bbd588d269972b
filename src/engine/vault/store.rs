//! The storage seam: a small key → JSON store trait, the changesets the vault asks to write, and an in-memory store for tests.
//!
//! Design: every vault operation *reads* through [`Store`] and *returns* a [`Changeset`] instead of
//! writing. The browser glue loads the items (or keeps a snapshot), calls the core, and hands the
//! changeset to `storage.local.set` / `storage.local.remove` in one go; nothing is written when
//! an operation fails, and the size of every write is known before it is attempted. Tests apply
//! changesets to [`MemoryStore`], which can be given a quota to model a full disk.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// A key → JSON value store, read synchronously. Writes go through [`Store::apply`].
pub trait Store {
    /// The item stored under `key`, if any, borrowed: what the vault reads item by item.
    fn peek(&self, key: &str) -> Option<&Value>;

    /// The item stored under `key`, if any.
    fn get(&self, key: &str) -> Option<Value> {
        self.peek(key).cloned()
    }

    /// Every key starting with `prefix`, in ascending order.
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String>;

    /// Bytes every item whose key starts with `prefix` takes, counted like [`item_bytes`].
    fn bytes_with_prefix(&self, prefix: &str) -> usize {
        self.keys_with_prefix(prefix).iter().filter_map(|k| self.peek(k).map(|v| item_bytes(k, v))).sum()
    }

    /// Applies a changeset all at once: either every write and removal happens or none does.
    fn apply(&mut self, changes: &Changeset) -> Result<(), StoreError>;

    /// Writes one item (a changeset of one).
    fn set(&mut self, key: &str, value: Value) -> Result<(), StoreError> {
        let mut c = Changeset::default();
        c.put(key, value);
        self.apply(&c)
    }

    /// Removes one item (a changeset of one).
    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        let mut c = Changeset::default();
        c.delete(key);
        self.apply(&c)
    }
}

/// One item to write, with its size as the browser counts it (key length plus JSON length).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Write {
    pub key: String,
    pub value: Value,
    pub bytes: usize,
}

/// What an operation asks the glue to write and remove. Holds only ciphertext and clear
/// metadata, never a secret, so it may be logged or passed to JavaScript as is.
///
/// JSON shape: `{ "set": [ { "key": …, "value": …, "bytes": n } ], "remove": [ key, … ] }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Changeset {
    pub set: Vec<Write>,
    pub remove: Vec<String>,
}

/// The size a browser charges for `key` holding `value`.
pub fn item_bytes(key: &str, value: &Value) -> usize {
    key.len() + json_len(value)
}

/// The length of `value` written as compact JSON (as `value.to_string()` writes it), counted
/// without writing it.
pub fn json_len(value: &Value) -> usize {
    fn text_len(s: &str) -> usize {
        // Most strings (base64, ids, names) need no escape: one branch-free pass tells, and only
        // the others are counted byte by byte.
        let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        if s.bytes().fold(0usize, |n, b| n + special(b) as usize) == 0 {
            return 2 + s.len();
        }
        let escapes: usize = s
            .bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum();
        2 + s.len() + escapes
    }
    match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => n.to_string().len(),
        Value::String(s) => text_len(s),
        Value::Array(items) => 2 + items.len().saturating_sub(1) + items.iter().map(json_len).sum::<usize>(),
        Value::Object(map) => {
            2 + map.len().saturating_sub(1) + map.iter().map(|(k, v)| text_len(k) + 1 + json_len(v)).sum::<usize>()
        }
    }
}

impl Changeset {
    /// Adds a write, replacing an earlier write or removal of the same key in this changeset.
    pub fn put(&mut self, key: &str, value: Value) {
        self.set.retain(|w| w.key != key);
        self.remove.retain(|k| k != key);
        let bytes = item_bytes(key, &value);
        self.set.push(Write { key: key.to_string(), value, bytes });
    }

    /// Adds a removal, dropping an earlier write of the same key in this changeset.
    pub fn delete(&mut self, key: &str) {
        self.set.retain(|w| w.key != key);
        if !self.remove.iter().any(|k| k == key) {
            self.remove.push(key.to_string());
        }
    }

    /// Folds `later` into this changeset; where both touch a key, `later` wins.
    pub fn merge(&mut self, later: Changeset) {
        for w in later.set {
            self.put(&w.key, w.value);
        }
        for k in later.remove {
            self.delete(&k);
        }
    }

    /// Total bytes of all writes.
    pub fn bytes(&self) -> usize {
        self.set.iter().map(|w| w.bytes).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The value this changeset writes under `key`, if it writes one.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.set.iter().find(|w| w.key == key).map(|w| &w.value)
    }
}

/// A store seen with changesets applied on top, without copying it: reads fall through to
/// `base` for every key the changesets did not touch. Writes land on top only.
pub struct Overlay<'a, S: Store> {
    base: &'a S,
    /// Keys the changesets wrote (`Some`) or removed (`None`).
    top: BTreeMap<String, Option<Value>>,
}

impl<'a, S: Store> Overlay<'a, S> {
    /// `base` as it will be once `batches` are written, in order.
    pub fn new(base: &'a S, batches: &[Changeset]) -> Self {
        let mut overlay = Overlay { base, top: BTreeMap::new() };
        for batch in batches {
            overlay.lay(batch);
        }
        overlay
    }

    fn lay(&mut self, changes: &Changeset) {
        for k in &changes.remove {
            self.top.insert(k.clone(), None);
        }
        for w in &changes.set {
            self.top.insert(w.key.clone(), Some(w.value.clone()));
        }
    }
}

impl<S: Store> Store for Overlay<'_, S> {
    fn peek(&self, key: &str) -> Option<&Value> {
        match self.top.get(key) {
            Some(laid) => laid.as_ref(),
            None => self.base.peek(key),
        }
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut keys: std::collections::BTreeSet<String> =
            self.base.keys_with_prefix(prefix).into_iter().filter(|k| !matches!(self.top.get(k), Some(None))).collect();
        let laid = self.top.range(prefix.to_string()..).take_while(|(k, _)| k.starts_with(prefix));
        keys.extend(laid.filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()));
        keys.into_iter().collect()
    }

    /// Never refuses: the overlay has no quota of its own.
    fn apply(&mut self, changes: &Changeset) -> Result<(), StoreError> {
        self.lay(changes);
        Ok(())
    }
}

/// A shared store reads as the store it shares; a write copies it first unless nothing else
/// holds it (`Rc::make_mut`), so a snapshot handed out is never changed under its reader.
impl<S: Store + Clone> Store for std::rc::Rc<S> {
    fn peek(&self, key: &str) -> Option<&Value> {
        (**self).peek(key)
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        (**self).keys_with_prefix(prefix)
    }

    fn bytes_with_prefix(&self, prefix: &str) -> usize {
        (**self).bytes_with_prefix(prefix)
    }

    fn apply(&mut self, changes: &Changeset) -> Result<(), StoreError> {
        std::rc::Rc::make_mut(self).apply(changes)
    }
}

/// Why the store refused a changeset. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The storage area is full.
    QuotaExceeded { needed: usize, available: usize },
    /// The browser refused for another reason (its message, which never holds item values).
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::QuotaExceeded { needed, available } => {
                write!(f, "storage is full: {needed} bytes needed, {available} available; nothing was saved")
            }
            StoreError::Failed(m) => write!(f, "storage refused the write ({m}); nothing was saved"),
        }
    }
}

impl std::error::Error for StoreError {}

/// An in-memory [`Store`], optionally with a quota in bytes (counted like [`item_bytes`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryStore {
    items: BTreeMap<String, Value>,
    quota: Option<usize>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that refuses any changeset that would take it past `quota` bytes.
    pub fn with_quota(quota: usize) -> Self {
        MemoryStore { items: BTreeMap::new(), quota: Some(quota) }
    }

    /// Changes the quota (for tests that fill the store first).
    pub fn set_quota(&mut self, quota: Option<usize>) {
        self.quota = quota;
    }

    /// Bytes in use, counted like [`item_bytes`].
    pub fn bytes_in_use(&self) -> usize {
        self.items.iter().map(|(k, v)| item_bytes(k, v)).sum()
    }

    /// Every item, for tests that inspect or tamper with storage.
    pub fn items(&self) -> &BTreeMap<String, Value> {
        &self.items
    }

    /// Direct write that bypasses the quota, for tests that plant damaged items.
    pub fn insert(&mut self, key: &str, value: Value) {
        self.items.insert(key.to_string(), value);
    }
}

impl Store for MemoryStore {
    fn peek(&self, key: &str) -> Option<&Value> {
        self.items.get(key)
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.items.range(prefix.to_string()..).map(|(k, _)| k).take_while(|k| k.starts_with(prefix)).cloned().collect()
    }

    fn bytes_with_prefix(&self, prefix: &str) -> usize {
        self.items
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| item_bytes(k, v))
            .sum()
    }

    fn apply(&mut self, changes: &Changeset) -> Result<(), StoreError> {
        if let Some(quota) = self.quota {
            let mut after = self.items.clone();
            for k in &changes.remove {
                after.remove(k);
            }
            for w in &changes.set {
                after.insert(w.key.clone(), w.value.clone());
            }
            let used_after: usize = after.iter().map(|(k, v)| item_bytes(k, v)).sum();
            if used_after > quota {
                let available = quota.saturating_sub(self.bytes_in_use());
                return Err(StoreError::QuotaExceeded { needed: changes.bytes(), available });
            }
        }
        for k in &changes.remove {
            self.items.remove(k);
        }
        for w in &changes.set {
            self.items.insert(w.key.clone(), w.value.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_changes_win_and_sizes_add_up() {
        let mut c = Changeset::default();
        c.put("a", json!(1));
        c.delete("a");
        c.put("b", json!("xy"));
        let mut d = Changeset::default();
        d.put("a", json!(true));
        c.merge(d);
        assert_eq!(c.remove, Vec::<String>::new());
        assert_eq!(c.bytes(), ("b".len() + "\"xy\"".len()) + ("a".len() + "true".len()));
    }

    #[test]
    fn quota_refuses_the_whole_changeset() {
        let mut s = MemoryStore::with_quota(20);
        s.set("k", json!("0123456789")).unwrap();
        let before = s.clone();
        let mut c = Changeset::default();
        c.put("x", json!(1));
        c.put("y", json!("0123456789"));
        assert!(matches!(s.apply(&c), Err(StoreError::QuotaExceeded { .. })));
        assert_eq!(s, before);
    }

    #[test]
    fn json_len_counts_what_to_string_writes() {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-12.5),
            json!(18446744073709551615u64),
            json!(""),
            json!("plain"),
            json!("quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} del \u{7f}"),
            json!("é ü 日本 🔑"),
            json!([]),
            json!([1, "two", [3], {}]),
            json!({}),
            json!({ "a\"b": { "c": [null, false, 1.0e300] }, "": "" }),
        ];
        for v in values {
            assert_eq!(json_len(&v), v.to_string().len(), "{v}");
        }
    }

    #[test]
    fn prefix_listing_is_ordered_and_bounded() {
        let mut s = MemoryStore::new();
        for k in ["entry:b", "entry:a", "entrz", "vault", "entry"] {
            s.insert(k, json!(0));
        }
        assert_eq!(s.keys_with_prefix("entry:"), vec!["entry:a", "entry:b"]);
    }

    #[test]
    fn overlay_reads_like_a_copy_with_the_batches_applied() {
        let mut base = MemoryStore::new();
        for k in ["entry:a", "entry:b", "entry:c", "settings"] {
            base.insert(k, Value::from(k));
        }
        let mut first = Changeset::default();
        first.put("entry:d", Value::from(1));
        first.delete("entry:b");
        let mut second = Changeset::default();
        second.put("entry:b", Value::from(2));
        second.delete("entry:c");
        second.put("entry:a", Value::from(3));
        let batches = [first, second];
        let mut copy = base.clone();
        for b in &batches {
            copy.apply(b).unwrap();
        }
        let overlay = Overlay::new(&base, &batches);
        assert_eq!(overlay.keys_with_prefix("entry:"), copy.keys_with_prefix("entry:"));
        assert_eq!(overlay.keys_with_prefix(""), copy.keys_with_prefix(""));
        for k in copy.keys_with_prefix("").iter().chain(["entry:c".to_string(), "nothing".to_string()].iter()) {
            assert_eq!(overlay.get(k), copy.get(k), "{k}");
        }
        assert_eq!(overlay.bytes_with_prefix("entry:"), copy.bytes_with_prefix("entry:"));
        // The base is untouched.
        assert_eq!(base.get("entry:b"), Some(Value::from("entry:b")));
    }
}
