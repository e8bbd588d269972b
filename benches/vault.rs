//! Prints `@figure` lines for the vault core at 10, 1,000 and 10,000 entries — unlock to list (beyond the KDF), list, save, search — run natively (`cargo bench --bench vault`, part of `./build.sh bench`).
//!
//! Each figure is the median of [`RUNS`] runs after one warm-up, measured on the worker's own
//! path: [`Keeper`] over a [`MemoryStore`] holding the items as `storage.local` would. Argon2
//! runs with the smallest parameters it takes (8 KiB, one pass), so unlock figures are what an
//! unlock costs beyond the key derivation. The `before` figures list the way the vault did
//! before the entry summaries (every entry decrypted), for comparison; they have no goal.

use keywarden::engine::controller::CapturedKey;
use keywarden::engine::keeper::{Keeper, VaultOutcome};
use keywarden::engine::protocol::{PageRequest, Reply};
use keywarden::engine::recipe::FieldName;
use keywarden::engine::secret::SecretString;
use keywarden::engine::vault::store::{Changeset, MemoryStore, Store};
use keywarden::engine::vault::{sample, KdfParams, Passphrase};
use std::collections::BTreeMap;
use std::time::Instant;

const RUNS: usize = 15;
const PASSPHRASE: &str = "bench passphrase, long enough";
const NOW: u64 = 1_767_225_600_000;

/// Argon2's smallest parameters: the derivation costs next to nothing.
fn minimal() -> KdfParams {
    KdfParams::weak_for_tests(8, 1)
}

fn apply(store: &mut MemoryStore, changes: &Changeset) {
    store.apply(changes).expect("a memory store without a quota takes every write");
}

fn write(store: &mut MemoryStore, private: &mut MemoryStore, out: &VaultOutcome) {
    apply(store, &out.changes);
    for batch in &out.later {
        apply(store, batch);
    }
    apply(private, &out.private);
}

/// A vault of `n` sample entries, set up and locked: the items and the private store.
fn vault_of(n: usize) -> (MemoryStore, MemoryStore) {
    sample::vault(n, PASSPHRASE, minimal(), NOW).expect("a sample vault")
}

fn median(mut runs: Vec<f64>) -> (f64, f64, f64) {
    runs.sort_by(|a, b| a.total_cmp(b));
    (runs[runs.len() / 2], runs[0], runs[runs.len() - 1])
}

fn figure(id: &str, label: &str, goal: Option<f64>, runs: Vec<f64>, note: Option<&str>) {
    let n = runs.len();
    let (value, min, max) = median(runs);
    let mut line = serde_json::json!({
        "id": id, "label": label, "value": (value * 1000.0).round() / 1000.0, "unit": "ms",
        "goal": goal, "min": (min * 1000.0).round() / 1000.0, "max": (max * 1000.0).round() / 1000.0, "runs": n,
    });
    if let Some(note) = note {
        line["note"] = note.into();
    }
    println!("@figure {line}");
}

fn time(mut work: impl FnMut()) -> Vec<f64> {
    work();
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

fn unlock_request() -> PageRequest {
    PageRequest::Unlock { passphrase: SecretString::new(PASSPHRASE.into()) }
}

fn status(keeper: &mut Keeper, store: &MemoryStore) -> usize {
    keeper.status(store).entries.len()
}

fn captured(i: usize) -> CapturedKey {
    let (vendor, tenant) = sample::VENDORS[i % sample::VENDORS.len()];
    CapturedKey {
        secret: SecretString::new(format!("saved_{i:08}_0123456789abcdefghijklmnopqrstuv")),
        vendor: vendor.into(),
        host: tenant.split('/').next().unwrap_or(tenant).into(),
        tenant: tenant.into(),
        page_url: format!("https://{tenant}/api-tokens"),
        fields: BTreeMap::from([(FieldName::KeyName, format!("saved {i}"))]),
        replaces_previous: false,
    }
}

fn bench(n: usize) {
    let label_n = match n {
        10 => "10".to_string(),
        1_000 => "1,000".to_string(),
        _ => "10,000".to_string(),
    };
    let (mut store, mut private) = vault_of(n);
    let mut keeper = Keeper::new(Vec::new());
    let mut calibrate = minimal;

    // The first unlock of a vault written before the summaries (or after a passphrase change)
    // opens every entry once and writes the summaries.
    let first = Instant::now();
    let out = keeper.handle(&store, &private, unlock_request(), NOW, &mut calibrate);
    write(&mut store, &mut private, &out);
    let first_ms = first.elapsed().as_secs_f64() * 1e3;
    assert!(matches!(out.reply, Reply::Done), "{:?}", out.reply);
    assert_eq!(status(&mut keeper, &store), n);

    let unlock = time(|| {
        keeper.lock();
        let out = keeper.handle(&store, &private, unlock_request(), NOW, &mut calibrate);
        assert!(matches!(out.reply, Reply::Done));
        assert_eq!(status(&mut keeper, &store), n);
    });
    figure(
        &format!("vault.core.unlock_list.{n}"),
        &format!("vault of {label_n} keys, native core: unlock → list, beyond the KDF (Argon2 at 8 KiB, 1 pass)"),
        Some(200.0),
        unlock,
        Some(&format!("first unlock after the summaries were missing: {first_ms:.1} ms")),
    );

    let list = time(|| {
        assert_eq!(status(&mut keeper, &store), n);
    });
    figure(
        &format!("vault.core.list.{n}"),
        &format!("vault of {label_n} keys, native core: list (status for the popup)"),
        Some(100.0),
        list,
        None,
    );

    // The items named by a generation, as the worker's mirror names them: a second status with
    // nothing changed reuses the listing kept for it.
    keeper.see_generation(Some(1));
    assert_eq!(status(&mut keeper, &store), n);
    let again = time(|| {
        assert_eq!(status(&mut keeper, &store), n);
    });
    keeper.see_generation(None);
    figure(
        &format!("vault.core.list_again.{n}"),
        &format!("vault of {label_n} keys, native core: list again with nothing changed (the kept listing)"),
        Some(100.0),
        again,
        None,
    );

    let vault = keeper_vault(&store, &private);
    let before = time(|| {
        assert_eq!(vault.list(&store).entries.len(), n);
    });
    figure(
        &format!("vault.core.list_before.{n}"),
        &format!("vault of {label_n} keys, native core: list by decrypting every entry (before the summaries)"),
        None,
        before,
        None,
    );

    let mut i = n;
    let save = time(|| {
        i += 1;
        let out = keeper.save_capture(&store, &private, captured(i), NOW + i as u64);
        assert!(out.saved);
        write(&mut store, &mut private, &out);
    });
    figure(
        &format!("vault.core.save.{n}"),
        &format!("vault of {label_n} keys, native core: save a captured key"),
        Some(30.0),
        save,
        None,
    );

    // What the popup asks: the first hundred rows of a search, laid out by the worker, over
    // items named by a generation (the worker's mirror names them), nothing changed between.
    // As the worker does: the first request's writes (summaries brought in line) are stored and
    // the items take a new generation, for which the listing is kept.
    keeper.see_generation(Some(2));
    let first = keeper.list_outcome(&store, Some("control.predicthq.com"), "", 100, None);
    write(&mut store, &mut private, &first);
    keeper.stored(Some(3));
    keeper.see_generation(Some(3));
    let rows = |keeper: &mut Keeper, query: &str| match keeper
        .list_outcome(&store, Some("control.predicthq.com"), query, 100, None)
        .reply
    {
        Reply::Listed(l) => (l.shown as usize, l.total as usize),
        other => panic!("{other:?}"),
    };
    let popup = time(|| {
        let (shown, total) = rows(&mut keeper, "");
        assert_eq!(shown, total);
    });
    figure(
        &format!("vault.core.list_entries.{n}"),
        &format!("vault of {label_n} keys, native core: the popup's first hundred rows (list_entries)"),
        Some(100.0),
        popup,
        None,
    );
    let queries = ["p", "pr", "pre", "pred", "predi", "predic", "predict", "predicth", "predicthq", "predicthq 7"];
    let mut q = 0;
    let search = time(|| {
        q = (q + 1) % queries.len();
        let (shown, total) = rows(&mut keeper, queries[q]);
        assert!(shown <= total);
    });
    keeper.see_generation(None);
    figure(
        &format!("vault.core.search.{n}"),
        &format!("vault of {label_n} keys, native core: one search keystroke (the worker filters, groups and returns 100 rows)"),
        Some(16.0),
        search,
        None,
    );
}

/// The vault unlocked directly, to list it the way it was listed before the summaries.
fn keeper_vault(store: &MemoryStore, _private: &MemoryStore) -> keywarden::engine::vault::UnlockedVault {
    keywarden::engine::vault::unlock(store, &Passphrase::new(PASSPHRASE.into()), NOW).result.expect("unlock")
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter may follow.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for n in [10, 1_000, 10_000] {
        if filter.as_deref().is_none_or(|f| n.to_string() == f) {
            bench(n);
        }
    }
}
