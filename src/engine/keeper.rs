//! The vault service: answers the vault's requests and saves captures over a storage snapshot, returning what to write.

use crate::engine::controller::CapturedKey;
use crate::engine::listing;
use crate::engine::protocol::{
    DamagedSummary, DeletedSummary, EntrySummary, EntryTrust, ErrorCode, Listed, ListedGroup, PageRequest, Reply,
    Revealed, VaultStatus, VendorCard,
};
use crate::engine::recipe::FieldName;
use crate::engine::secret::SecretString;
use crate::engine::vault::replace::{replaced_by, stale_actives};
use crate::engine::vault::secrets::{hint, Passphrase};
use crate::engine::vault::share::share;
use crate::engine::vault::store::{Changeset, MemoryStore, Overlay, Store};
use crate::engine::vault::{
    is_set_up, resume, seal_locked, setup, unlock, verify_passphrase, EntryId, EntryMeta, EntryState, IndexState,
    KdfParams, OpenEntry, Summaries, Trust, UnlockError, UnlockedVault, ENTRY_PREFIX, HEADER_KEY, INDEX_KEY,
    SUMMARY_PREFIX,
};
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// Default minutes of inactivity before the vault locks itself.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 15;
/// Longest idle period an admin may choose.
pub const MAX_AUTO_LOCK_MINUTES: u32 = 24 * 60;
/// How long a deleted entry can be put back (milliseconds), unless the vault locks first.
pub const UNDO_DELETE_MS: u64 = 30_000;

/// An entry deleted moments ago: its storage item exactly as it was, kept in `storage.session`
/// (trusted contexts only, gone with the browser) until the undo window passes or the vault locks.
/// The item is the sealed entry (ciphertext and MAC), never the key in clear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trashed {
    pub id: String,
    pub item: serde_json::Value,
    /// Unix ms of the deletion.
    pub deleted_at: u64,
}

impl Trashed {
    fn undo_until(&self) -> u64 {
        self.deleted_at.saturating_add(UNDO_DELETE_MS)
    }
}

/// What happens to the unlocked state kept for this browser session (`storage.session`).
#[derive(Debug)]
pub enum Session {
    /// Nothing changes.
    Keep,
    /// Unlocked: keep this key so a restarted worker can resume.
    Store(SecretString),
    /// Locked: forget it.
    Clear,
}

/// The answer to a vault request: the reply, the storage writes (possibly empty), what to do with
/// the session, and whether this counts as activity (restarting the auto-lock timer).
#[derive(Debug)]
pub struct VaultOutcome {
    pub reply: Reply,
    pub changes: Changeset,
    /// Further `storage.local` batches, written in order after `changes` (a passphrase change).
    pub later: Vec<Changeset>,
    /// Writes to the private area (the capture key), applied after the local writes.
    pub private: Changeset,
    pub session: Session,
    pub activity: bool,
    /// The admin chose a new auto-lock delay (minutes): the service keeps it in the settings.
    pub auto_lock_minutes: Option<u32>,
    /// A key was sealed into the vault.
    pub saved: bool,
}

impl VaultOutcome {
    fn reply(reply: Reply) -> Self {
        VaultOutcome {
            reply,
            changes: Changeset::default(),
            later: Vec::new(),
            private: Changeset::default(),
            session: Session::Keep,
            activity: false,
            auto_lock_minutes: None,
            saved: false,
        }
    }

    fn error(code: ErrorCode, message: Words) -> Self {
        VaultOutcome::reply(Reply::Error { code, message })
    }
}

/// The most rows one list request returns (the popup asks for a hundred more at a time).
pub const MAX_LIST_ROWS: u32 = 10_000;
/// The longest search query read, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The vault's state in this worker: unlocked or not, and the auto-lock setting.
pub struct Keeper {
    unlocked: Option<UnlockedVault>,
    pub auto_lock_minutes: u32,
    /// Vendors with one key per account, whose older keys a new one marks replaced.
    replacing: Vec<String>,
    /// The vendors the pages name and link to.
    vendors: Vec<VendorCard>,
    /// Entries deleted moments ago, restorable while unlocked (see [`Trashed`]).
    trash: Vec<Trashed>,
    /// `trash` changed and must be written to `storage.session`.
    trash_changed: bool,
    /// The last listing, kept for the vault items it was taken over (see [`KeptListing`]).
    kept: Option<KeptListing>,
    /// The number of entry items and the bytes the vault's items take, with the generation of the
    /// items they were counted over: a status over the same items counts nothing again.
    counted: Option<(u64, u32, u64)>,
    /// How many listings were taken over the items (not reused): for tests and diagnostics.
    listings_taken: u64,
    /// The generation of the vault items the requests now see, when the glue knows it.
    generation: Option<u64>,
    /// A listing that holds for the items once this request's writes are stored (see
    /// [`Keeper::stored`]).
    after_writes: Option<Summaries>,
    /// This request also writes what no listing of it accounts for (a resumed passphrase change).
    unaccounted_writes: bool,
}

/// Whether `changes` leave a listing as it was: they touch no entry, no index and no summary
/// chunk but those the listing's own `refresh` writes, exactly as it writes them.
fn leaves_listing(changes: &[&Changeset], refresh: &Changeset) -> bool {
    let listed = |key: &str| key.starts_with(ENTRY_PREFIX) || key == INDEX_KEY || key.starts_with(SUMMARY_PREFIX);
    changes.iter().all(|c| {
        c.set.iter().all(|w| !listed(&w.key) || refresh.value(&w.key) == Some(&w.value))
            && c.remove.iter().all(|k| !listed(k) || refresh.remove.contains(k))
    })
}

/// A listing of the unlocked vault, valid for one generation of `storage.local`'s vault items.
///
/// The glue names the items it hands in with a generation ([`Snapshot::local_generation`]): the
/// same number only ever stands for the same items, and any change to them (a write of its own,
/// one seen through `storage.onChanged`, a fresh read) gives a new number. A listing is reused
/// only for its own generation and only while the vault that took it stays unlocked: any lock,
/// unlock, set-up, resumption or passphrase change drops it.
///
/// [`Snapshot::local_generation`]: crate::engine::storage::Snapshot::local_generation
struct KeptListing {
    generation: u64,
    summaries: Summaries,
    /// Its entries as the pages list them, once a status asked for them.
    presented: Option<Rc<Presented>>,
}

/// The entries of a listing as the pages see them, with each one's search text: worth keeping
/// while nothing changes, since the popup asks for its rows at every keystroke.
pub struct Presented {
    pub entries: Vec<EntrySummary>,
    /// `listing::search_text` of each entry, in order.
    pub texts: Vec<String>,
}

/// A listing's findings besides its entries, as the pages are told them.
struct Findings {
    damaged: Vec<DamagedSummary>,
    alarm: Option<Words>,
    refresh: Changeset,
}

fn findings(listing: &Summaries) -> Findings {
    Findings {
        damaged: listing
            .damaged
            .iter()
            .map(|d| DamagedSummary { item: d.key.clone(), reason: d.reason.words() })
            .collect(),
        alarm: match listing.index {
            IndexState::Ok => None,
            IndexState::Missing => Some(words!("alarmIndexMissing")),
            IndexState::Damaged => Some(words!("alarmIndexDamaged")),
        },
        refresh: listing.refresh.clone(),
    }
}

/// What resuming a session asks to write: a passphrase change to finish, the capture key to restore.
#[derive(Debug, Default)]
pub struct Resumed {
    pub local: Vec<Changeset>,
    pub private: Changeset,
}

impl Keeper {
    /// `replacing`: the vendors whose new keys replace the account's previous key.
    pub fn new(replacing: Vec<String>) -> Self {
        Keeper {
            unlocked: None,
            auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES,
            replacing,
            vendors: Vec::new(),
            trash: Vec::new(),
            trash_changed: false,
            kept: None,
            counted: None,
            listings_taken: 0,
            generation: None,
            after_writes: None,
            unaccounted_writes: false,
        }
    }

    /// The same keeper, naming `vendors` in what it lists.
    pub fn with_vendors(self, vendors: Vec<VendorCard>) -> Self {
        Keeper { vendors, ..self }
    }

    /// Names `vendors` from now on (the servers the admin added changed).
    pub fn set_vendors(&mut self, vendors: Vec<VendorCard>) {
        self.vendors = vendors;
    }

    /// Takes up the deleted entries kept in `storage.session` (the snapshot is the truth).
    pub fn restore_trash(&mut self, trash: Vec<Trashed>) {
        self.trash = trash;
    }

    /// The deleted entries to write to `storage.session`, when they changed since the last call
    /// (an empty list: remove the item).
    pub fn take_trash_change(&mut self) -> Option<Vec<Trashed>> {
        std::mem::take(&mut self.trash_changed).then(|| self.trash.clone())
    }

    fn set_trash(&mut self, trash: Vec<Trashed>) {
        if trash != self.trash {
            self.trash = trash;
            self.trash_changed = true;
        }
    }

    /// Forgets deletions whose undo window has passed.
    fn prune_trash(&mut self, now: u64) {
        let kept = self.trash.iter().filter(|t| t.undo_until() > now).cloned().collect();
        self.set_trash(kept);
    }

    fn vendor_name(&self, vendor: &str) -> String {
        self.vendors.iter().find(|v| v.id == vendor).map_or_else(|| vendor.to_string(), |v| v.name.clone())
    }
}

fn unlock_message(e: &UnlockError) -> (ErrorCode, Words) {
    let code = match e {
        UnlockError::WrongPassphrase { .. } | UnlockError::Throttled { .. } => ErrorCode::Refused,
        UnlockError::NotSetUp => ErrorCode::Unexpected,
        _ => ErrorCode::Internal,
    };
    (code, e.words())
}

impl Keeper {
    pub fn is_unlocked(&self) -> bool {
        self.unlocked.is_some()
    }

    /// Resumes the unlocked state kept for this browser session after a worker restart; `None`
    /// when the key no longer opens the vault. Returns what to write: the rest of a passphrase
    /// change a stopped worker left half done, and the capture key if the private area lost it.
    pub fn resume(&mut self, store: &impl Store, private: &impl Store, key: &SecretString) -> Option<Resumed> {
        let vault = resume(store, key).ok()?;
        let resumed = Resumed {
            local: vault.finish_rotation(store),
            private: vault.restore_capture_key(private).changeset().clone(),
        };
        self.set_unlocked(Some(vault));
        self.unaccounted_writes |= resumed.local.iter().any(|c| !c.is_empty());
        Some(resumed)
    }

    /// Locks: the vault key and identity are dropped (and zeroized), and deletions can no longer
    /// be undone.
    pub fn lock(&mut self) {
        self.set_unlocked(None);
        self.set_trash(Vec::new());
    }

    /// Every change of the unlocked vault goes through here: a kept listing belongs to the vault
    /// that took it, so it goes too.
    fn set_unlocked(&mut self, vault: Option<UnlockedVault>) {
        self.unlocked = vault;
        self.kept = None;
    }

    /// How many listings went over the vault items since this keeper was made (a listing reused
    /// for an unchanged generation does not count).
    pub fn listings_taken(&self) -> u64 {
        self.listings_taken
    }

    /// Names the vault items the next requests read (the snapshot's
    /// [`local_generation`](crate::engine::storage::Snapshot::local_generation)); `None` when the
    /// glue cannot vouch that the same number means the same items, which turns reuse off.
    pub fn see_generation(&mut self, generation: Option<u64>) {
        self.generation = generation;
        self.after_writes = None;
        self.unaccounted_writes = false;
    }

    /// The glue stored every `storage.local` batch of the last request, and the vault items are
    /// now `generation`: a listing that request took and that its writes leave as it was is kept
    /// for it. Called right after the writes, before any other change can reach the items.
    pub fn stored(&mut self, generation: Option<u64>) {
        if let (Some(summaries), Some(generation), true) = (self.after_writes.take(), generation, self.is_unlocked()) {
            self.kept = Some(KeptListing { generation, summaries, presented: None });
        }
    }

    /// Keeps `listing` for [`Keeper::stored`] when `writes` (every batch still to be written after
    /// the items it was taken over) leave it as it was.
    fn keep_after(&mut self, listing: &Summaries, writes: &[&Changeset]) {
        self.after_writes = (!self.unaccounted_writes && leaves_listing(writes, &listing.refresh)).then(|| Summaries {
            refresh: Changeset::default(),
            set_aside: Vec::new(),
            ..listing.clone()
        });
    }

    /// The listing of the unlocked vault over `store` (`None` while locked): the kept one when
    /// the items are the generation it was taken over, else a new one, kept for that generation.
    /// `store` must be the items of that generation: an overlay of writes not made yet is listed
    /// afresh and never kept.
    fn summaries(&mut self, store: &impl Store, as_stored: bool) -> Option<Summaries> {
        let vault = self.unlocked.as_ref()?;
        let generation = self.generation.filter(|_| as_stored);
        if let (Some(kept), Some(generation)) = (&self.kept, generation) {
            if kept.generation == generation {
                return Some(kept.summaries.clone());
            }
        }
        let listing = vault.summaries(store);
        self.listings_taken += 1;
        self.kept =
            generation.map(|generation| KeptListing { generation, summaries: listing.clone(), presented: None });
        Some(listing)
    }

    /// What the popup and options page show, over the items as stored.
    pub fn status(&mut self, store: &impl Store) -> VaultStatus {
        self.status_and_refresh(store, true).0
    }

    /// [`Keeper::status`], and the writes that bring the entry summaries in line with the items
    /// (empty when they already are, or while locked). `as_stored`: `store` is the items of the
    /// generation last seen, not an overlay of writes still to be made.
    fn status_and_refresh(&mut self, store: &impl Store, as_stored: bool) -> (VaultStatus, Changeset) {
        let (mut status, refresh, presented) = self.status_parts(store, as_stored);
        if let Some(presented) = presented {
            status.entries = presented.entries.clone();
        }
        (status, refresh)
    }

    /// The entries of the unlocked vault as the pages list them, with the listing's other
    /// findings: those kept with the listing of the items' generation when it has them, else
    /// made anew (and kept with it).
    fn presented(&mut self, store: &impl Store, as_stored: bool) -> Option<(Rc<Presented>, Findings)> {
        self.unlocked.as_ref()?;
        let generation = self.generation.filter(|_| as_stored);
        if let (Some(kept), Some(now)) = (&self.kept, generation) {
            if let (true, Some(presented)) = (kept.generation == now, &kept.presented) {
                return Some((Rc::clone(presented), findings(&kept.summaries)));
            }
        }
        let listing = self.summaries(store, as_stored)?;
        let entries: Vec<EntrySummary> = listing
            .entries
            .iter()
            .map(|e| EntrySummary {
                id: e.id.as_str().to_string(),
                vendor_name: self.vendor_name(&e.meta.vendor),
                vendor: e.meta.vendor.clone(),
                tenant: e.meta.tenant.clone(),
                account: e.meta.account.clone(),
                key_name: e.meta.key_name.clone(),
                scopes: e.meta.scopes.clone(),
                created_at: e.meta.created_at,
                page_url: e.meta.page_url.clone(),
                notes: e.meta.notes.clone(),
                state: e.meta.state,
                trust: match e.trust {
                    Trust::Authenticated => EntryTrust::Verified,
                    Trust::Foreign => EntryTrust::Foreign,
                    _ => EntryTrust::Pending,
                },
                hint: e.hint.clone(),
            })
            .collect();
        let texts = entries.iter().map(listing::search_text).collect();
        let presented = Rc::new(Presented { entries, texts });
        if let (Some(kept), Some(now)) = (&mut self.kept, generation) {
            if kept.generation == now {
                kept.presented = Some(Rc::clone(&presented));
            }
        }
        Some((presented, findings(&listing)))
    }

    /// [`Keeper::status_and_refresh`] with the entries apart, as the listing presents them.
    fn status_parts(&mut self, store: &impl Store, as_stored: bool) -> (VaultStatus, Changeset, Option<Rc<Presented>>) {
        let set_up = is_set_up(store);
        let generation = self.generation.filter(|_| as_stored);
        let (items, bytes_in_use) = match (self.counted, generation) {
            (Some((at, items, bytes)), Some(now)) if at == now => (items, bytes),
            _ => {
                let items = store.keys_with_prefix(ENTRY_PREFIX).len() as u32;
                let bytes = (store.bytes_with_prefix(HEADER_KEY) + store.bytes_with_prefix(ENTRY_PREFIX)) as u64;
                self.counted = generation.map(|g| (g, items, bytes));
                (items, bytes)
            }
        };
        let mut status = VaultStatus {
            set_up,
            unlocked: self.unlocked.is_some(),
            items,
            bytes_in_use,
            entries: Vec::new(),
            damaged: Vec::new(),
            auto_lock_minutes: self.auto_lock_minutes,
            alarm: None,
            deleted: Vec::new(),
            vendors: self.vendors.clone(),
        };
        let mut refresh = Changeset::default();
        let mut presented = None;
        if let Some((entries, found)) = self.presented(store, as_stored) {
            let Some(vault) = &self.unlocked else { return (status, refresh, None) };
            status.deleted = self.trash.iter().filter_map(|t| self.deleted_summary(vault, t)).collect();
            status.damaged = found.damaged;
            status.alarm = found.alarm;
            refresh = found.refresh;
            presented = Some(entries);
        }
        (status, refresh, presented)
    }

    /// Saves a captured key: sealed to the vault's public recipient when locked (it lists once the
    /// vault is unlocked), or sealed and authenticated when unlocked, where older keys for the same
    /// vendor, tenant and account are marked replaced at once.
    pub fn save_capture(
        &mut self,
        store: &impl Store,
        private: &impl Store,
        captured: CapturedKey,
        now: u64,
    ) -> VaultOutcome {
        if !is_set_up(store) {
            // No vault to seal into yet: acknowledge, keep nothing (the page still shows the key,
            // and the control says why it was not saved).
            return VaultOutcome::reply(Reply::Captured {
                state: crate::engine::protocol::CaptureState::Received,
                vendor: captured.vendor,
                hint: None,
            });
        }
        let field = |name| captured.fields.get(&name).cloned().unwrap_or_default();
        let meta = EntryMeta {
            vendor: captured.vendor.clone(),
            tenant: captured.tenant.clone(),
            account: field(FieldName::Account),
            key_name: field(FieldName::KeyName),
            scopes: field(FieldName::Scopes)
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            created_at: now,
            page_url: captured.page_url.clone(),
            notes: field(FieldName::Description),
            state: EntryState::Active,
        };
        let saved = match &self.unlocked {
            None => seal_locked(store, private, &captured.secret, &meta),
            Some(vault) => vault.seal(store, &captured.secret, &meta),
        };
        let mut sealed = match saved {
            Ok(s) => s,
            Err(e) => return VaultOutcome::error(ErrorCode::Internal, words!("errKeyNotSaved", e.words())),
        };
        let listing = if captured.replaces_previous { self.summaries(store, true) } else { None };
        if let (Some(listing), Some(vault)) = (listing, &self.unlocked) {
            let older = vault.open_many(store, &replaced_by(&sealed.id, &meta, &listing.entries));
            let older: Vec<_> = older.iter().collect();
            if !older.is_empty() {
                if let Ok(changes) = vault.set_state(store, &older, EntryState::Replaced) {
                    sealed.changes.merge(changes);
                }
            }
        }
        VaultOutcome {
            reply: Reply::Captured {
                state: crate::engine::protocol::CaptureState::Saved,
                vendor: captured.vendor,
                hint: Some(hint(&captured.secret)),
            },
            changes: sealed.changes,
            activity: true,
            saved: true,
            ..VaultOutcome::reply(Reply::Done)
        }
    }

    /// The unlocked vault, once the admin has typed its passphrase again (export and share hand
    /// keys out of the browser: someone at an unlocked browser must not walk away with them).
    /// Wrong guesses count against the same throttle as unlocking. The throttle's change is
    /// written whatever the outcome, through [`VaultOutcome::changes`] of the error.
    fn reconfirmed(
        &self,
        store: &impl Store,
        passphrase: SecretString,
        now: u64,
    ) -> Result<&UnlockedVault, Box<VaultOutcome>> {
        let vault = self.unlocked_vault()?;
        let attempt = verify_passphrase(store, &Passphrase::from(passphrase), now);
        match attempt.result {
            Ok(()) => Ok(vault),
            Err(e) => {
                let (code, message) = unlock_message(&e);
                Err(Box::new(VaultOutcome { changes: attempt.changes, ..VaultOutcome::error(code, message) }))
            }
        }
    }

    /// A deletion as listed: the entry's names, read from its sealed item.
    fn deleted_summary(&self, vault: &UnlockedVault, t: &Trashed) -> Option<DeletedSummary> {
        let id = EntryId::parse(&t.id)?;
        let mut alone = MemoryStore::new();
        alone.insert(&id.item_key(), t.item.clone());
        let entry = vault.open(&alone, &id).ok()?;
        Some(DeletedSummary {
            id: t.id.clone(),
            vendor_name: self.vendor_name(&entry.meta.vendor),
            key_name: entry.meta.key_name.clone(),
            undo_until: t.undo_until(),
        })
    }

    /// Rewrites one entry's metadata with `change`, refusing entries found in storage unconfirmed.
    fn edit(&self, store: &impl Store, id: &str, change: impl FnOnce(&mut EntryMeta)) -> VaultOutcome {
        let (vault, entry) = match self.entry(store, id) {
            Ok(found) => found,
            Err(out) => return *out,
        };
        let mut meta = entry.meta.clone();
        change(&mut meta);
        match vault.update(store, &entry, &meta) {
            Ok(changes) => VaultOutcome { changes, activity: true, ..VaultOutcome::reply(Reply::Done) },
            Err(e) => VaultOutcome::error(ErrorCode::Refused, e.words()),
        }
    }

    fn unlocked_vault(&self) -> Result<&UnlockedVault, Box<VaultOutcome>> {
        self.unlocked.as_ref().ok_or_else(|| Box::new(VaultOutcome::error(ErrorCode::Locked, words!("errUnlockFirst"))))
    }

    /// The unlocked vault and one of its entries, or the outcome explaining why not.
    fn entry(&self, store: &impl Store, id: &str) -> Result<(&UnlockedVault, OpenEntry), Box<VaultOutcome>> {
        let vault = self.unlocked_vault()?;
        let id = EntryId::parse(id)
            .ok_or_else(|| Box::new(VaultOutcome::error(ErrorCode::Malformed, words!("errNotEntryId"))))?;
        let entry = vault.open(store, &id).map_err(|e| {
            Box::new(VaultOutcome::error(ErrorCode::Unexpected, words!("errKeyDoesNotOpen", e.words())))
        })?;
        Ok((vault, entry))
    }

    /// Answers a vault request (the caller routes only vault requests here, after authorization).
    /// `calibrate` picks Argon2 parameters for this machine; it runs only at setup and passphrase change.
    pub fn handle(
        &mut self,
        store: &impl Store,
        private: &impl Store,
        request: PageRequest,
        now: u64,
        calibrate: &mut dyn FnMut() -> KdfParams,
    ) -> VaultOutcome {
        self.prune_trash(now);
        match request {
            PageRequest::VaultStatus => self.status_outcome(store),
            // Without the glue's word on the active tab, no site's keys come first.
            PageRequest::ListEntries { query, rows, detail, .. } => {
                self.list_outcome(store, None, &query, rows, detail.as_deref())
            }
            PageRequest::VaultSetup { passphrase } => {
                if is_set_up(store) {
                    return VaultOutcome::error(ErrorCode::Unexpected, words!("errAlreadySetUp"));
                }
                match setup(store, &Passphrase::from(passphrase), calibrate(), now) {
                    Ok(done) => {
                        let key = done.vault.session_key();
                        self.set_unlocked(Some(done.vault));
                        let overlay = Overlay::new(store, std::slice::from_ref(&done.changes));
                        let status = self.status_and_refresh(&overlay, false).0;
                        VaultOutcome {
                            changes: done.changes,
                            private: done.private.changeset().clone(),
                            session: Session::Store(key),
                            activity: true,
                            ..VaultOutcome::reply(Reply::Vault(status))
                        }
                    }
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.words()),
                }
            }
            PageRequest::Unlock { passphrase } => {
                let passphrase = Passphrase::from(passphrase);
                let attempt = unlock(store, &passphrase, now);
                match attempt.result {
                    Ok(vault) => {
                        // Finish a pending passphrase change first (its batches, in order), then
                        // look at the vault as it will be: vouch for captures this extension
                        // sealed while locked, retire keys they replaced, and raise weak KDF
                        // parameters to today's floor.
                        let mut later = attempt.pending;
                        let store =
                            &Overlay::new(store, &[std::slice::from_ref(&attempt.changes), later.as_slice()].concat());
                        let private_changes = vault.restore_capture_key(private).changeset().clone();
                        let mut changes = vault.adopt_unverified(store).1;
                        if attempt.upgrade_needed {
                            if let Ok(rewrapped) = vault.rewrap(store, &passphrase, calibrate()) {
                                changes.merge(rewrapped);
                            }
                        }
                        let listing = vault.summaries(store);
                        let mut stale = stale_actives(&listing.entries);
                        let one_per_account: std::collections::BTreeSet<&EntryId> = listing
                            .entries
                            .iter()
                            .filter(|e| self.replacing.contains(&e.meta.vendor))
                            .map(|e| &e.id)
                            .collect();
                        stale.retain(|id| one_per_account.contains(id));
                        // The summaries as they are now, so the first list after unlocking opens nothing.
                        changes.merge(listing.refresh.clone());
                        let stale = vault.open_many(store, &stale);
                        let stale: Vec<_> = stale.iter().collect();
                        if !stale.is_empty() {
                            if let Ok(more) = vault.set_state(store, &stale, EntryState::Replaced) {
                                changes.merge(more);
                            }
                        }
                        let key = vault.session_key();
                        self.set_unlocked(Some(vault));
                        self.set_trash(Vec::new());
                        // Taken over the items as they will be but for this last batch: the list
                        // right after unlocking reuses it when that batch leaves it as it was.
                        self.keep_after(&listing, &[&changes]);
                        later.push(changes);
                        VaultOutcome {
                            changes: attempt.changes,
                            later,
                            private: private_changes,
                            session: Session::Store(key),
                            activity: true,
                            ..VaultOutcome::reply(Reply::Done)
                        }
                    }
                    Err(e) => {
                        let (code, message) = unlock_message(&e);
                        VaultOutcome { changes: attempt.changes, ..VaultOutcome::error(code, message) }
                    }
                }
            }
            PageRequest::Lock => {
                self.lock();
                VaultOutcome { session: Session::Clear, ..VaultOutcome::reply(Reply::Done) }
            }
            PageRequest::CopyKey { id } => match self.entry(store, &id) {
                Ok((_, entry)) => VaultOutcome {
                    activity: true,
                    ..VaultOutcome::reply(Reply::Key { key: Revealed::new(entry.secret) })
                },
                Err(out) => *out,
            },
            PageRequest::SetEntryState { id, state } => {
                let (vault, entry) = match self.entry(store, &id) {
                    Ok(found) => found,
                    Err(out) => return *out,
                };
                match vault.set_state(store, &[&entry], state) {
                    Ok(changes) => VaultOutcome { changes, activity: true, ..VaultOutcome::reply(Reply::Done) },
                    Err(e) => VaultOutcome::error(ErrorCode::Internal, e.words()),
                }
            }
            PageRequest::ChangePassphrase { old, new } => {
                if self.unlocked.is_none() {
                    return VaultOutcome::error(ErrorCode::Locked, words!("errUnlockFirst"));
                }
                let attempt = unlock(store, &Passphrase::from(old), now);
                let vault = match attempt.result {
                    Ok(v) => v,
                    Err(e) => {
                        let (code, message) = unlock_message(&e);
                        return VaultOutcome { changes: attempt.changes, ..VaultOutcome::error(code, message) };
                    }
                };
                match vault.change_passphrase(store, &Passphrase::from(new), calibrate()) {
                    Ok(rotation) => {
                        let key = rotation.vault.session_key();
                        self.set_unlocked(Some(rotation.vault));
                        VaultOutcome {
                            changes: attempt.changes,
                            later: rotation.batches,
                            private: rotation.private.changeset().clone(),
                            session: Session::Store(key),
                            activity: true,
                            ..VaultOutcome::reply(Reply::Done)
                        }
                    }
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.words()),
                }
            }
            PageRequest::ExportBackup { passphrase, vault_passphrase } => {
                let vault = match self.reconfirmed(store, vault_passphrase, now) {
                    Ok(v) => v,
                    Err(out) => return *out,
                };
                match vault.export_backup(store, &Passphrase::from(passphrase), now) {
                    Ok(b) => VaultOutcome {
                        activity: true,
                        ..VaultOutcome::reply(Reply::Armored {
                            text: b.armored,
                            entries: b.entries as u32,
                            left_out: b.left_out.len() as u32,
                        })
                    },
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.words()),
                }
            }
            PageRequest::ImportBackup { text, passphrase } => {
                let vault = match self.unlocked_vault() {
                    Ok(v) => v,
                    Err(out) => return *out,
                };
                match vault.import_backup(store, text.as_bytes(), &Passphrase::from(passphrase)) {
                    Ok(report) => VaultOutcome {
                        reply: Reply::Imported {
                            imported: report.imported.len() as u32,
                            duplicates: report.duplicates.len() as u32,
                            renamed: report.renamed.len() as u32,
                        },
                        changes: report.changes,
                        activity: true,
                        ..VaultOutcome::reply(Reply::Done)
                    },
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.words()),
                }
            }
            PageRequest::ShareKey { id, recipient, vault_passphrase } => {
                if let Err(out) = self.reconfirmed(store, vault_passphrase, now) {
                    return *out;
                }
                let entry = match self.entry(store, &id) {
                    Ok((_, entry)) => entry,
                    Err(out) => return *out,
                };
                match share(&entry, &recipient) {
                    Ok(text) => VaultOutcome {
                        activity: true,
                        ..VaultOutcome::reply(Reply::Armored { text, entries: 1, left_out: 0 })
                    },
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.words()),
                }
            }
            PageRequest::SetAutoLock { minutes } => {
                if minutes == 0 || minutes > MAX_AUTO_LOCK_MINUTES {
                    return VaultOutcome::error(
                        ErrorCode::Malformed,
                        words!("errAutoLockRange", MAX_AUTO_LOCK_MINUTES),
                    );
                }
                self.auto_lock_minutes = minutes;
                VaultOutcome { activity: true, auto_lock_minutes: Some(minutes), ..self.status_outcome(store) }
            }
            PageRequest::DeleteEntry { id } => {
                let (changes, id) = match self.entry(store, &id) {
                    Ok((vault, entry)) => (vault.delete(store, &entry.id), entry.id),
                    Err(out) => return *out,
                };
                let Some(item) = store.get(&id.item_key()) else {
                    return VaultOutcome::error(ErrorCode::Unexpected, words!("errKeyGone"));
                };
                let mut trash = self.trash.clone();
                trash.retain(|t| t.id != id.as_str());
                let trashed = Trashed { id: id.as_str().to_string(), item, deleted_at: now };
                let undo_until = trashed.undo_until();
                trash.push(trashed);
                self.set_trash(trash);
                VaultOutcome {
                    changes,
                    activity: true,
                    ..VaultOutcome::reply(Reply::Deleted { id: id.as_str().to_string(), undo_until })
                }
            }
            PageRequest::UndoDelete { id } => {
                let vault = match self.unlocked_vault() {
                    Ok(v) => v,
                    Err(out) => return *out,
                };
                let Some(trashed) = self.trash.iter().find(|t| t.id == id).cloned() else {
                    return VaultOutcome::error(ErrorCode::Refused, words!("errTooLateToUndo"));
                };
                let Some(entry_id) = EntryId::parse(&trashed.id) else {
                    return VaultOutcome::error(ErrorCode::Malformed, words!("errNotEntryId"));
                };
                if store.get(&entry_id.item_key()).is_some() {
                    return VaultOutcome::error(ErrorCode::Unexpected, words!("errIdTaken"));
                }
                match vault.restore(store, &entry_id, &trashed.item) {
                    Ok(changes) => {
                        let rest = self.trash.iter().filter(|t| t.id != id).cloned().collect();
                        self.set_trash(rest);
                        VaultOutcome { changes, activity: true, ..VaultOutcome::reply(Reply::Done) }
                    }
                    Err(e) => VaultOutcome::error(ErrorCode::Unexpected, words!("errNotPutBack", e.words())),
                }
            }
            PageRequest::RenameEntry { id, name } => {
                self.edit(store, &id, |meta| meta.key_name = name.trim().to_string())
            }
            PageRequest::SetEntryNotes { id, notes } => {
                self.edit(store, &id, |meta| meta.notes = notes.trim_end().to_string())
            }
            PageRequest::AdoptEntries { ids } => {
                let vault = match self.unlocked_vault() {
                    Ok(v) => v,
                    Err(out) => return *out,
                };
                let Some(ids) = ids.iter().map(|id| EntryId::parse(id)).collect::<Option<Vec<_>>>() else {
                    return VaultOutcome::error(ErrorCode::Malformed, words!("errNotEntryId"));
                };
                match vault.adopt_confirmed(store, &ids) {
                    Ok(changes) => VaultOutcome { changes, activity: true, ..VaultOutcome::reply(Reply::Done) },
                    Err(e) => VaultOutcome::error(ErrorCode::Unexpected, e.words()),
                }
            }
            PageRequest::RebuildIndex => match self.unlocked_vault() {
                Ok(vault) => VaultOutcome {
                    changes: vault.rebuild_index(store),
                    activity: true,
                    ..VaultOutcome::reply(Reply::Done)
                },
                Err(out) => *out,
            },
            other => VaultOutcome::error(ErrorCode::Unexpected, words!("errNotVaultRequest", other.name())),
        }
    }

    /// The popup's list for `query` with the active tab on `host`: the vault's state and the first
    /// `rows` entries as the popup lays them out, plus those it lists apart and the entry `detail`.
    pub fn list_outcome(
        &mut self,
        store: &impl Store,
        host: Option<&str>,
        query: &str,
        rows: u32,
        detail: Option<&str>,
    ) -> VaultOutcome {
        let (mut outcome, presented) = self.status_outcome_parts(store);
        let status = match std::mem::replace(&mut outcome.reply, Reply::Done) {
            Reply::Vault(status) => status,
            other => {
                outcome.reply = other;
                return outcome;
            }
        };
        let presented = presented.unwrap_or_else(|| Rc::new(Presented { entries: Vec::new(), texts: Vec::new() }));
        let (entries, texts) = (&presented.entries, &presented.texts);
        // A query longer than anything a key's fields hold matches nothing anyway.
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let arranged = listing::arrange_searched(entries, texts, &query, host);
        let (shown, total) = (arranged.shown as u32, arranged.total as u32);
        let mut budget = rows.clamp(1, MAX_LIST_ROWS) as usize;
        let take = |list: &[&EntrySummary], budget: &mut usize| -> Vec<EntrySummary> {
            let taken: Vec<EntrySummary> = list.iter().take(*budget).map(|e| (*e).clone()).collect();
            *budget -= taken.len();
            taken
        };
        let here = take(&arranged.here, &mut budget);
        let mut groups = Vec::new();
        for g in &arranged.groups {
            if budget == 0 {
                break;
            }
            let entries = take(&g.entries, &mut budget);
            groups.push(ListedGroup {
                vendor: g.vendor.to_string(),
                vendor_name: g.vendor_name.to_string(),
                tenant: g.tenant.to_string(),
                entries,
            });
        }
        let mut listed = Listed { vault: status, here, groups, shown, total };
        let apart: Vec<EntrySummary> = entries.iter().filter(|e| e.trust == EntryTrust::Foreign).cloned().collect();
        listed.vault.entries = apart;
        if let Some(id) = detail.filter(|id| listed.entry(id).is_none()) {
            listed.vault.entries.extend(entries.iter().find(|e| e.id == id).cloned());
        }
        outcome.reply = Reply::Listed(listed);
        outcome
    }

    fn status_outcome(&mut self, store: &impl Store) -> VaultOutcome {
        let (mut outcome, presented) = self.status_outcome_parts(store);
        if let (Reply::Vault(status), Some(presented)) = (&mut outcome.reply, presented) {
            status.entries = presented.entries.clone();
        }
        outcome
    }

    /// [`Keeper::status_outcome`] with the entries apart (the status in the reply has none).
    fn status_outcome_parts(&mut self, store: &impl Store) -> (VaultOutcome, Option<Rc<Presented>>) {
        let (status, changes, presented) = self.status_parts(store, true);
        // The listing just taken, when it was kept for the items as they are: once its refresh
        // is stored, it still holds.
        if !changes.is_empty() {
            let taken =
                self.kept.as_ref().filter(|k| Some(k.generation) == self.generation).map(|k| k.summaries.clone());
            if let Some(taken) = taken {
                self.keep_after(&taken, &[&changes]);
            }
        }
        (VaultOutcome { changes, ..VaultOutcome::reply(Reply::Vault(status)) }, presented)
    }
}
