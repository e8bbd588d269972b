//! Generated vaults of any size, for the benchmarks and `keywarden-tool vault-image`: made-up keys and metadata, never a real key.

use crate::engine::secret::SecretString;
use crate::engine::vault::store::{MemoryStore, Store};
use crate::engine::vault::{setup, EntryMeta, EntryState, KdfParams, Passphrase, SetupError};

/// The vendors the sample entries take turns at, with a tenant each.
pub const VENDORS: [(&str, &str); 4] = [
    ("predicthq", "control.predicthq.com"),
    ("predictiveindex", "app.predictiveindex.com"),
    ("planningspace", "planning.example-energy.test/PlanningSpace"),
    ("gotransverse", "partners.gotransverse.com"),
];

/// The metadata of sample entry `i`, created at `now + i`.
pub fn meta(i: usize, now: u64) -> EntryMeta {
    let (vendor, tenant) = VENDORS[i % VENDORS.len()];
    EntryMeta {
        vendor: vendor.into(),
        tenant: tenant.into(),
        account: format!("admin{}@example.com", i % 37),
        key_name: format!("integration {i} nightly export"),
        scopes: vec!["events".into(), "places".into()],
        created_at: now + i as u64,
        page_url: format!("https://{tenant}/api-tokens"),
        notes: String::new(),
        state: EntryState::Active,
    }
}

const UNBOUNDED: &str = "a memory store without a quota takes every write";

/// The (generated) key of sample entry `i`.
pub fn secret(i: usize) -> SecretString {
    SecretString::new(format!("bench{i:08}0123456789abcdefghijklmnopqrstuvw"))
}

/// A vault set up under `passphrase` with `n` sample entries, locked: its `storage.local` items
/// and its private area.
pub fn vault(
    n: usize,
    passphrase: &str,
    params: KdfParams,
    now: u64,
) -> Result<(MemoryStore, MemoryStore), SetupError> {
    let mut store = MemoryStore::new();
    let made = setup(&store, &Passphrase::new(passphrase.into()), params, now)?;
    store.apply(&made.changes).expect(UNBOUNDED);
    let mut private = MemoryStore::new();
    private.apply(made.private.changeset()).expect(UNBOUNDED);
    // Each entry is sealed against the empty vault, so no write rewrites a growing index; the
    // index is written once at the end.
    let base = store.clone();
    for i in 0..n {
        // The sample metadata is within every bound: sealing can only fail for want of randomness.
        let sealed = made.vault.seal(&base, &secret(i), &meta(i, now)).map_err(|_| SetupError::Random)?;
        for w in sealed.changes.set.iter().filter(|w| w.key.starts_with(crate::engine::vault::ENTRY_PREFIX)) {
            store.insert(&w.key, w.value.clone());
        }
    }
    let index = made.vault.rebuild_index(&store);
    store.apply(&index).expect(UNBOUNDED);
    Ok((store, private))
}
