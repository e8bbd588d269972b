//! The vault service: answers the vault's requests and saves captures over a storage snapshot, returning what to write.

use crate::engine::controller::CapturedKey;
use crate::engine::protocol::{DamagedSummary, EntrySummary, ErrorCode, Reply, Request, Revealed, VaultStatus};
use crate::engine::recipe::FieldName;
use crate::engine::secret::SecretString;
use crate::engine::vault::replace::{replaced_by, stale_actives};
use crate::engine::vault::secrets::Passphrase;
use crate::engine::vault::share::share;
use crate::engine::vault::store::{Changeset, Store};
use crate::engine::vault::{
    is_set_up, resume, seal_locked, setup, unlock, EntryId, EntryMeta, EntryState, KdfParams, OpenEntry, UnlockError,
    UnlockedVault, ENTRY_PREFIX,
};

/// Default minutes of inactivity before the vault locks itself.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 15;
/// Longest idle period an admin may choose.
pub const MAX_AUTO_LOCK_MINUTES: u32 = 24 * 60;

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
    pub session: Session,
    pub activity: bool,
}

impl VaultOutcome {
    fn reply(reply: Reply) -> Self {
        VaultOutcome { reply, changes: Changeset::default(), session: Session::Keep, activity: false }
    }

    fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        VaultOutcome::reply(Reply::Error { code, message: message.into() })
    }
}

/// The vault's state in this worker: unlocked or not, and the auto-lock setting.
pub struct Keeper {
    unlocked: Option<UnlockedVault>,
    pub auto_lock_minutes: u32,
    /// Vendors with one key per account, whose older keys a new one marks replaced.
    replacing: Vec<String>,
}

impl Keeper {
    /// `replacing`: the vendors whose new keys replace the account's previous key.
    pub fn new(replacing: Vec<String>) -> Self {
        Keeper { unlocked: None, auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES, replacing }
    }
}

/// The last four characters of a key, for telling keys apart without showing them.
fn hint(secret: &SecretString) -> String {
    let chars: Vec<char> = secret.expose().chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

fn unlock_message(e: &UnlockError) -> (ErrorCode, String) {
    let code = match e {
        UnlockError::WrongPassphrase { .. } | UnlockError::Throttled { .. } => ErrorCode::Refused,
        UnlockError::NotSetUp => ErrorCode::Unexpected,
        _ => ErrorCode::Internal,
    };
    (code, e.to_string())
}

impl Keeper {
    pub fn is_unlocked(&self) -> bool {
        self.unlocked.is_some()
    }

    /// Resumes the unlocked state kept for this browser session after a worker restart.
    pub fn resume(&mut self, store: &impl Store, key: &SecretString) -> bool {
        match resume(store, key) {
            Ok(vault) => {
                self.unlocked = Some(vault);
                true
            }
            Err(_) => false,
        }
    }

    /// Locks: the vault key and identity are dropped (and zeroized).
    pub fn lock(&mut self) {
        self.unlocked = None;
    }

    /// What the popup and options page show.
    pub fn status(&self, store: &impl Store) -> VaultStatus {
        let set_up = is_set_up(store);
        let mut status = VaultStatus {
            set_up,
            unlocked: self.unlocked.is_some(),
            items: store.keys_with_prefix(ENTRY_PREFIX).len() as u32,
            entries: Vec::new(),
            damaged: Vec::new(),
            auto_lock_minutes: self.auto_lock_minutes,
        };
        if let Some(vault) = &self.unlocked {
            let listing = vault.list(store);
            status.entries = listing
                .entries
                .iter()
                .map(|e| EntrySummary {
                    id: e.id.as_str().to_string(),
                    vendor: e.meta.vendor.clone(),
                    tenant: e.meta.tenant.clone(),
                    account: e.meta.account.clone(),
                    key_name: e.meta.key_name.clone(),
                    scopes: e.meta.scopes.clone(),
                    created_at: e.meta.created_at,
                    state: e.meta.state,
                    verified: e.trust == crate::engine::vault::Trust::Authenticated,
                    hint: hint(&e.secret),
                })
                .collect();
            status.damaged =
                listing.damaged.iter().map(|d| DamagedSummary { item: d.key.clone(), reason: d.reason.to_string() }).collect();
        }
        status
    }

    /// Saves a captured key: sealed to the vault's public recipient when locked (it lists once the
    /// vault is unlocked), or sealed and authenticated when unlocked, where older keys for the same
    /// vendor, tenant and account are marked replaced at once.
    pub fn save_capture(&mut self, store: &impl Store, captured: CapturedKey, now: u64) -> VaultOutcome {
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
            scopes: field(FieldName::Scopes).split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            created_at: now,
            page_url: captured.page_url.clone(),
            notes: field(FieldName::Description),
            state: EntryState::Active,
        };
        let saved = match &self.unlocked {
            None => seal_locked(store, &captured.secret, &meta),
            Some(vault) => vault.seal(store, &captured.secret, &meta),
        };
        let mut sealed = match saved {
            Ok(s) => s,
            Err(e) => return VaultOutcome::error(ErrorCode::Internal, format!("the key was NOT saved: {e}")),
        };
        if let (true, Some(vault)) = (captured.replaces_previous, &self.unlocked) {
            let listing = vault.list(store);
            let older = replaced_by(&sealed.id, &meta, &listing.entries);
            let older: Vec<_> = listing.entries.iter().filter(|e| older.contains(&e.id)).collect();
            if !older.is_empty() {
                if let Ok(changes) = vault.set_state(store, &older, EntryState::Replaced) {
                    sealed.changes.merge(changes);
                }
            }
        }
        VaultOutcome {
            reply: Reply::Captured {
                state: crate::engine::protocol::CaptureState::Saved,
                hint: Some(hint(&captured.secret)),
                vendor: captured.vendor,
            },
            changes: sealed.changes,
            session: Session::Keep,
            activity: true,
        }
    }

    fn unlocked_vault(&self) -> Result<&UnlockedVault, VaultOutcome> {
        self.unlocked.as_ref().ok_or_else(|| VaultOutcome::error(ErrorCode::Locked, "unlock the vault first"))
    }

    /// The unlocked vault and one of its entries, or the outcome explaining why not.
    fn entry(&self, store: &impl Store, id: &str) -> Result<(&UnlockedVault, OpenEntry), VaultOutcome> {
        let vault = self.unlocked_vault()?;
        let id = EntryId::parse(id).ok_or_else(|| VaultOutcome::error(ErrorCode::Malformed, "not an entry id"))?;
        let entry = vault.open(store, &id).map_err(|e| VaultOutcome::error(ErrorCode::Unexpected, e.to_string()))?;
        Ok((vault, entry))
    }

    /// Answers a vault request (the caller routes only vault requests here, after authorization).
    /// `calibrate` picks Argon2 parameters for this machine; it runs only at setup and passphrase change.
    pub fn handle(
        &mut self,
        store: &impl Store,
        request: Request,
        now: u64,
        calibrate: &mut dyn FnMut() -> KdfParams,
    ) -> VaultOutcome {
        match request {
            Request::VaultStatus => VaultOutcome::reply(Reply::Vault(self.status(store))),
            Request::VaultSetup { passphrase } => {
                if is_set_up(store) {
                    return VaultOutcome::error(ErrorCode::Unexpected, "the vault is already set up");
                }
                match setup(store, &Passphrase::from(passphrase), calibrate(), now) {
                    Ok(done) => {
                        let key = done.vault.session_key();
                        self.unlocked = Some(done.vault);
                        VaultOutcome { changes: done.changes, session: Session::Store(key), activity: true, ..self.status_outcome(store) }
                    }
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.to_string()),
                }
            }
            Request::Unlock { passphrase } => {
                let attempt = unlock(store, &Passphrase::from(passphrase), now);
                match attempt.result {
                    Ok(vault) => {
                        // Vouch for captures sealed while locked, then retire keys they replaced.
                        let (_, mut changes) = vault.adopt_unverified(store);
                        changes.merge(attempt.changes);
                        let listing = vault.list(store);
                        let mut stale = stale_actives(&listing.entries);
                        let one_per_account = |id: &EntryId| {
                            listing.entries.iter().any(|e| &e.id == id && self.replacing.contains(&e.meta.vendor))
                        };
                        stale.retain(one_per_account);
                        let stale: Vec<_> = listing.entries.iter().filter(|e| stale.contains(&e.id)).collect();
                        if !stale.is_empty() {
                            if let Ok(more) = vault.set_state(store, &stale, EntryState::Replaced) {
                                changes.merge(more);
                            }
                        }
                        let key = vault.session_key();
                        self.unlocked = Some(vault);
                        VaultOutcome { changes, session: Session::Store(key), activity: true, ..VaultOutcome::reply(Reply::Done) }
                    }
                    Err(e) => {
                        let (code, message) = unlock_message(&e);
                        VaultOutcome { changes: attempt.changes, ..VaultOutcome::error(code, message) }
                    }
                }
            }
            Request::Lock => {
                self.lock();
                VaultOutcome { session: Session::Clear, ..VaultOutcome::reply(Reply::Done) }
            }
            Request::CopyKey { id } => match self.entry(store, &id) {
                Ok((_, entry)) => VaultOutcome { activity: true, ..VaultOutcome::reply(Reply::Key { key: Revealed::new(entry.secret) }) },
                Err(out) => out,
            },
            Request::SetEntryState { id, state } => {
                let (vault, entry) = match self.entry(store, &id) {
                    Ok(found) => found,
                    Err(out) => return out,
                };
                match vault.set_state(store, &[&entry], state) {
                    Ok(changes) => VaultOutcome { changes, activity: true, ..VaultOutcome::reply(Reply::Done) },
                    Err(e) => VaultOutcome::error(ErrorCode::Internal, e.to_string()),
                }
            }
            Request::ChangePassphrase { old, new } => {
                if self.unlocked.is_none() {
                    return VaultOutcome::error(ErrorCode::Locked, "unlock the vault first");
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
                    Ok(mut changes) => {
                        let mut all = attempt.changes;
                        all.merge(std::mem::take(&mut changes));
                        VaultOutcome { changes: all, activity: true, ..VaultOutcome::reply(Reply::Done) }
                    }
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.to_string()),
                }
            }
            Request::ExportBackup { passphrase } => {
                let vault = match self.unlocked_vault() {
                    Ok(v) => v,
                    Err(out) => return out,
                };
                match vault.export_backup(store, &Passphrase::from(passphrase), now) {
                    Ok(b) => VaultOutcome {
                        activity: true,
                        ..VaultOutcome::reply(Reply::Armored { text: b.armored, entries: b.entries as u32, left_out: b.left_out.len() as u32 })
                    },
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.to_string()),
                }
            }
            Request::ImportBackup { text, passphrase } => {
                let vault = match self.unlocked_vault() {
                    Ok(v) => v,
                    Err(out) => return out,
                };
                match vault.import_backup(store, text.as_bytes(), &Passphrase::from(passphrase)) {
                    Ok(report) => VaultOutcome {
                        reply: Reply::Imported {
                            imported: report.imported.len() as u32,
                            duplicates: report.duplicates.len() as u32,
                            renamed: report.renamed.len() as u32,
                        },
                        changes: report.changes,
                        session: Session::Keep,
                        activity: true,
                    },
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.to_string()),
                }
            }
            Request::ShareKey { id, recipient } => {
                let entry = match self.entry(store, &id) {
                    Ok((_, entry)) => entry,
                    Err(out) => return out,
                };
                match share(&entry, &recipient) {
                    Ok(text) => VaultOutcome { activity: true, ..VaultOutcome::reply(Reply::Armored { text, entries: 1, left_out: 0 }) },
                    Err(e) => VaultOutcome::error(ErrorCode::Refused, e.to_string()),
                }
            }
            Request::SetAutoLock { minutes } => {
                if minutes == 0 || minutes > MAX_AUTO_LOCK_MINUTES {
                    return VaultOutcome::error(ErrorCode::Malformed, format!("choose 1 to {MAX_AUTO_LOCK_MINUTES} minutes"));
                }
                self.auto_lock_minutes = minutes;
                VaultOutcome { activity: true, ..self.status_outcome(store) }
            }
            other => VaultOutcome::error(ErrorCode::Unexpected, format!("{} is not a vault request", other.name())),
        }
    }

    fn status_outcome(&self, store: &impl Store) -> VaultOutcome {
        VaultOutcome::reply(Reply::Vault(self.status(store)))
    }
}
