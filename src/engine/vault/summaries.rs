//! Entry summaries: what the vault's list shows of each entry (its metadata and the key's last characters, never the key), sealed under a vault-key subkey in small chunks, so listing opens no entry whose item has not changed.
//!
//! The summaries are a cache, never a source of truth. A chunk `vault:summaries:<c>` holds the
//! entries whose id starts with the character `c` (one of the 64 of base64url, so a vault of
//! 10,000 keys has chunks of about 160 entries, and a change rewrites one chunk):
//!
//! ```json
//! { "format": "keywarden-summaries", "version": 1, "chunk": "<c>",
//!   "nonce": "<24 bytes, base64>", "ciphertext": "<XChaCha20-Poly1305, base64>" }
//! ```
//!
//! sealed under HKDF(vault key, `"keywarden-vault/1/summary-key"`) with the associated data
//! `"keywarden-summaries/1/" ‖ c`. Its plaintext maps each id to a digest of the entry item as
//! it was when the entry last opened (its verified MAC or capture tag, else SHA-256 over its id
//! and ciphertext: see [`digest`]), the entry's metadata and its hint:
//!
//! ```json
//! { "<id>": { "digest": "<32 bytes, base64>", "meta": { … }, "hint": "…abcd" } }
//! ```
//!
//! Listing still reads every entry item's outer layer and checks its MAC or capture tag, so
//! trust, a flipped byte and a stripped MAC are found exactly as before; only the age
//! decryption is skipped, and only for an item whose id and ciphertext are byte for byte the ones
//! that opened before (the digest matches). An adopted capture gets a MAC in place of its
//! capture tag, so its summary is refreshed once. Any other item is opened in full and its summary
//! rewritten. A chunk that is missing, damaged, from another vault key (after a passphrase
//! change) or from a newer version is set aside and rebuilt the same way: nothing is lost, the
//! listing only costs more once. Writes of entries (save, rename, delete, import, undo) leave
//! the summaries alone; the next listing notices the new digests and refreshes the chunks
//! concerned.

use crate::engine::vault::crypto::{self, b64, unb64, unb64_array, NONCE_LEN};
use crate::engine::vault::entry::{EntryId, EntryMeta, Trust};
use crate::engine::vault::store::{Changeset, Store};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use zeroize::Zeroizing;

/// Prefix of the summary chunks: `vault:summaries:<c>`.
pub const SUMMARY_PREFIX: &str = "vault:summaries:";
/// The `format` of a summary chunk.
pub const SUMMARY_FORMAT: &str = "keywarden-summaries";
/// Summary chunk version this code writes and reads.
pub const SUMMARY_VERSION: u32 = 1;
const SUMMARY_AAD: &[u8] = b"keywarden-summaries/1/";
const DIGEST_LABEL: &[u8] = b"keywarden-summaries/entry-digest";

/// An entry as the list shows it: no secret, only its last characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedEntry {
    pub id: EntryId,
    pub meta: EntryMeta,
    /// The key's last characters ("…abcd"), as [`hint`](crate::engine::vault::secrets::hint) gives them.
    pub hint: String,
    pub trust: Trust,
}

/// What a chunk remembers of one entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cached {
    pub(crate) digest: String,
    pub(crate) meta: EntryMeta,
    pub(crate) hint: String,
}

/// The digest a summary is valid for. For an item whose MAC or capture tag verified, that tag
/// (`"t:"` and the tag): it is keyed and covers the id and the ciphertext, so hashing them again
/// would add nothing. For an item without one (found in storage), SHA-256 over its id and
/// ciphertext (`"h:"` and the hash).
pub(crate) fn digest(id: &EntryId, verified_tag: Option<&[u8]>, ciphertext: &[u8]) -> String {
    match verified_tag {
        Some(tag) => format!("t:{}", b64(tag)),
        None => format!("h:{}", b64(&crypto::digest(&[DIGEST_LABEL, id.as_str().as_bytes(), ciphertext]))),
    }
}

/// The chunk an id belongs to: its first character.
pub(crate) fn chunk_of(id: &EntryId) -> char {
    id.as_str().chars().next().expect("entry ids are 22 characters")
}

fn chunk_key(chunk: char) -> String {
    format!("{SUMMARY_PREFIX}{chunk}")
}

fn aad(chunk: char) -> Vec<u8> {
    let mut aad = SUMMARY_AAD.to_vec();
    aad.extend_from_slice(chunk.to_string().as_bytes());
    aad
}

/// Why a chunk was set aside. None of these carries its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkProblem {
    /// Not a summary chunk of this format, or stored under another chunk's key.
    Malformed,
    /// Written by a newer keywarden.
    UnknownVersion,
    /// Does not open under this vault's key: altered, or sealed before a passphrase change.
    Unopenable,
}

/// Opens the chunk stored under `key` with `summary_key`.
fn open_chunk(
    key: &str,
    item: &Value,
    summary_key: &[u8; 32],
) -> Result<(char, BTreeMap<EntryId, Cached>), ChunkProblem> {
    let mut name = key.strip_prefix(SUMMARY_PREFIX).ok_or(ChunkProblem::Malformed)?.chars();
    let (Some(chunk), None) = (name.next(), name.next()) else { return Err(ChunkProblem::Malformed) };
    if item.get("format").and_then(Value::as_str) != Some(SUMMARY_FORMAT) {
        return Err(ChunkProblem::Malformed);
    }
    match item.get("version").and_then(Value::as_u64) {
        Some(v) if v == SUMMARY_VERSION as u64 => {}
        Some(_) => return Err(ChunkProblem::UnknownVersion),
        None => return Err(ChunkProblem::Malformed),
    }
    if item.get("chunk").and_then(Value::as_str) != Some(chunk.to_string().as_str()) {
        return Err(ChunkProblem::Malformed);
    }
    let nonce: [u8; NONCE_LEN] =
        item.get("nonce").and_then(Value::as_str).and_then(unb64_array).ok_or(ChunkProblem::Malformed)?;
    let ct = item.get("ciphertext").and_then(Value::as_str).and_then(unb64).ok_or(ChunkProblem::Malformed)?;
    let plain = crypto::open(summary_key, &nonce, &aad(chunk), &ct).ok_or(ChunkProblem::Unopenable)?;
    let map: BTreeMap<EntryId, Cached> = serde_json::from_slice(&plain).map_err(|_| ChunkProblem::Malformed)?;
    if map.keys().any(|id| chunk_of(id) != chunk) {
        return Err(ChunkProblem::Malformed);
    }
    Ok((chunk, map))
}

/// Every chunk in storage that opens, and the keys of those that did not, with why.
pub(crate) fn load(store: &impl Store, summary_key: &[u8; 32]) -> (Loaded, Vec<(String, ChunkProblem)>) {
    let mut loaded = Loaded::default();
    let mut problems = Vec::new();
    for key in store.keys_with_prefix(SUMMARY_PREFIX) {
        let Some(item) = store.peek(&key) else { continue };
        match open_chunk(&key, item, summary_key) {
            Ok((chunk, map)) => {
                loaded.chunks.insert(chunk, map);
            }
            Err(problem) => {
                loaded.unreadable.push(key.clone());
                problems.push((key, problem));
            }
        }
    }
    (loaded, problems)
}

/// The chunks as read from storage.
#[derive(Default)]
pub(crate) struct Loaded {
    pub(crate) chunks: BTreeMap<char, BTreeMap<EntryId, Cached>>,
    /// Keys of chunks that did not open: rewritten (or removed) by the next refresh.
    pub(crate) unreadable: Vec<String>,
}

impl Loaded {
    /// The summary of `id`, if it is valid for `digest`.
    pub(crate) fn hit(&self, id: &EntryId, digest: &str) -> Option<&Cached> {
        self.chunks.get(&chunk_of(id))?.get(id).filter(|c| c.digest == digest)
    }

    /// The writes that bring the chunks in line with the listing: `hits`, the ids whose stored
    /// summary was still valid, and `fresh`, the entries opened in full. A chunk is sealed
    /// again only when it gains a fresh entry or lost one of its entries; chunks left empty or
    /// unreadable are removed.
    pub(crate) fn refresh(
        &self,
        hits: &BTreeSet<EntryId>,
        fresh: BTreeMap<EntryId, Cached>,
        summary_key: &[u8; 32],
    ) -> Changeset {
        let mut hit_count: BTreeMap<char, usize> = BTreeMap::new();
        for id in hits {
            *hit_count.entry(chunk_of(id)).or_default() += 1;
        }
        let mut fresh_by_chunk: BTreeMap<char, Vec<(EntryId, Cached)>> = BTreeMap::new();
        for (id, cached) in fresh {
            fresh_by_chunk.entry(chunk_of(&id)).or_default().push((id, cached));
        }
        let mut changes = Changeset::default();
        for key in &self.unreadable {
            changes.delete(key);
        }
        let chunks: BTreeSet<char> =
            self.chunks.keys().chain(hit_count.keys()).chain(fresh_by_chunk.keys()).copied().collect();
        for chunk in chunks {
            let kept = hit_count.get(&chunk).copied().unwrap_or(0);
            let stored = self.chunks.get(&chunk);
            let added = fresh_by_chunk.remove(&chunk).unwrap_or_default();
            if added.is_empty() && stored.map_or(0, BTreeMap::len) == kept {
                // The same entries with the same summaries (or an empty chunk that is not stored).
                continue;
            }
            let mut map: BTreeMap<EntryId, Cached> = stored
                .map(|m| m.iter().filter(|(id, _)| hits.contains(*id)).map(|(id, c)| (id.clone(), c.clone())).collect())
                .unwrap_or_default();
            map.extend(added);
            if map.is_empty() {
                changes.delete(&chunk_key(chunk));
            } else if let Some(value) = seal_chunk(chunk, &map, summary_key) {
                // A chunk that cannot be sealed (no randomness) is simply left stale: it is a cache.
                changes.put(&chunk_key(chunk), value);
            }
        }
        changes
    }
}

fn seal_chunk(chunk: char, map: &BTreeMap<EntryId, Cached>, summary_key: &[u8; 32]) -> Option<Value> {
    let plain = Zeroizing::new(serde_json::to_vec(map).ok()?);
    let (nonce, ct) = crypto::seal(summary_key, &aad(chunk), &plain).ok()?;
    Some(json!({
        "format": SUMMARY_FORMAT,
        "version": SUMMARY_VERSION,
        "chunk": chunk.to_string(),
        "nonce": b64(&nonce),
        "ciphertext": b64(&ct),
    }))
}
