//! Which entries a new key makes obsolete: pure functions over opened entries, so "replaced" needs no storage of its own.
//!
//! A key *slot* is vendor + tenant + account, compared trimmed and ignoring ASCII case (host
//! names and most account names are case-insensitive). In each slot only the newest active key
//! stays active. [`Trust::Foreign`] entries take no part: one found in storage is never taken
//! as a newer key, nor rewritten as replaced (which would vouch for it).

use crate::engine::vault::entry::{EntryId, EntryMeta, EntryState, OpenEntry, Trust};
use crate::engine::vault::summaries::ListedEntry;
use std::collections::BTreeMap;

/// An entry as far as replacement looks at it: an opened entry or a listed one.
pub trait Slotted {
    fn id(&self) -> &EntryId;
    fn meta(&self) -> &EntryMeta;
    fn trust(&self) -> Trust;
}

/// Both entry kinds carry the same three fields under the same names.
macro_rules! slotted {
    ($($kind:ty),*) => {$(
        impl Slotted for $kind {
            fn id(&self) -> &EntryId {
                &self.id
            }
            fn meta(&self) -> &EntryMeta {
                &self.meta
            }
            fn trust(&self) -> Trust {
                self.trust
            }
        }
    )*};
}
slotted!(OpenEntry, ListedEntry);

fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

fn slot(meta: &EntryMeta) -> (String, String, String) {
    (norm(&meta.vendor), norm(&meta.tenant), norm(&meta.account))
}

/// Whether two entries hold keys for the same vendor, tenant and account.
pub fn same_slot(a: &EntryMeta, b: &EntryMeta) -> bool {
    slot(a) == slot(b)
}

/// Whether two entries are for the same vendor and tenant (the account may differ).
pub fn same_vendor_and_tenant(a: &EntryMeta, b: &EntryMeta) -> bool {
    norm(&a.vendor) == norm(&b.vendor) && norm(&a.tenant) == norm(&b.tenant)
}

/// Entries that count for replacement: active and not [`Trust::Foreign`].
fn counts(e: &impl Slotted) -> bool {
    e.meta().state == EntryState::Active && e.trust() != Trust::Foreign
}

/// The active entries that the newly saved `new` (with id `new_id`) replaces: same slot, not
/// newer than it, not foreign. Mark them [`EntryState::Replaced`] with
/// [`UnlockedVault::set_state`](crate::engine::vault::UnlockedVault::set_state).
pub fn replaced_by<E: Slotted>(new_id: &EntryId, new: &EntryMeta, entries: &[E]) -> Vec<EntryId> {
    entries
        .iter()
        .filter(|e| e.id() != new_id && counts(*e) && same_slot(e.meta(), new))
        .filter(|e| e.meta().created_at <= new.created_at)
        .map(|e| e.id().clone())
        .collect()
}

/// Every active entry that is not the newest active one of its slot (newest by `created_at`,
/// then id), foreign entries left out on both sides. Catches up after captures made while
/// locked, when older entries could not be read.
pub fn stale_actives<E: Slotted>(entries: &[E]) -> Vec<EntryId> {
    let mut newest: BTreeMap<(String, String, String), &E> = BTreeMap::new();
    for e in entries.iter().filter(|e| counts(*e)) {
        let best = newest.entry(slot(e.meta())).or_insert(e);
        if (e.meta().created_at, e.id()) > (best.meta().created_at, best.id()) {
            *best = e;
        }
    }
    entries
        .iter()
        .filter(|e| counts(*e) && newest.get(&slot(e.meta())).is_some_and(|n| n.id() != e.id()))
        .map(|e| e.id().clone())
        .collect()
}
