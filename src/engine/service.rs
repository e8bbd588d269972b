//! The worker's one decision-maker: every browser event goes in with a storage snapshot, one typed [`Effects`] value comes out.
//!
//! The glue (`web::worker`) runs events one at a time through a single queue: it asks
//! [`Service::wants`] what to read, reads it into a [`Snapshot`], calls [`Service::handle`], and
//! applies the [`Effects`] — storage writes, session changes, alarms, content-script registrations,
//! pushes to tabs, the reply — before the next event starts. It decides nothing. Because each
//! event sees the writes of the one before, a lock that arrives while an unlock is being written
//! simply runs after it.
//!
//! The service keeps caches (tab records, the unlocked vault, servers), but the snapshot is the
//! truth: a service built from nothing in a restarted worker answers the next event the same way,
//! because everything it needs is restored from storage (tab records from `storage.session`, the
//! unlocked vault from the session key, settings, servers and drift from `storage.local`).

use crate::engine::clipboard::{self, ClipboardJob, PendingClear, CLIPBOARD_ALARM};
use crate::engine::controller::{Controller, Outcome};
use crate::engine::keeper::{Keeper, Session, VaultOutcome};
use crate::engine::protocol::VendorCard;
use crate::engine::protocol::{
    Admitted, CaptureState, ClipboardStatus, ContentRequest, ErrorCode, PageRequest, PanelNonce, PanelRequest, Push,
    Refusal, Reply, Sender, MAX_PANEL_HEIGHT,
};
use crate::engine::recipe::FieldName;
use crate::engine::recipe::{Catalog, HostPattern, Server, Vendor};
use crate::engine::registration;
use crate::engine::secret::SecretString;
use crate::engine::storage::{self, Counters, Settings, Snapshot};
use crate::engine::vault::store::{Changeset, Store, StoreError};
use crate::engine::vault::KdfParams;
use crate::words;
use std::collections::{BTreeSet, HashMap};

/// The alarm that locks the vault after inactivity.
pub const AUTO_LOCK_ALARM: &str = "auto-lock";

/// One thing the browser told the worker.
#[derive(Debug)]
pub enum Event {
    /// A message, already classified and admitted (or refused) by [`crate::engine::protocol::admit`].
    Message(Result<Admitted, Refusal>),
    /// A step panel opened its port from `tab`, naming the frame nonce it was given.
    PanelConnected { tab: u32, nonce: Option<PanelNonce> },
    /// The accepted panel port of `tab` closed.
    PanelDisconnected { tab: u32 },
    /// An alarm went off.
    Alarm { name: String },
    /// `idle.onStateChanged`.
    Idle { state: IdleState },
    /// A tab was closed.
    TabRemoved { tab: u32 },
    /// `runtime.onStartup` (`install: false`) or `runtime.onInstalled` (`install` on a first install).
    Started { install: bool },
    /// The admin withdrew host permissions in the browser's settings.
    PermissionsRemoved { origins: Vec<String> },
    /// A keyboard shortcut of the manifest's `commands` (other than opening the popup).
    Command { name: String },
}

/// The manifest command that locks the vault.
pub const LOCK_COMMAND: &str = "lock-now";

pub use crate::engine::controller::Badge;

/// The toolbar icon, which shows whether the vault is locked.
///
/// The vault counts as unlocked exactly while `storage.session` holds its session key, so the
/// icon follows the session key as an event leaves it. The service says which icon to show on
/// every start-up, on the first event a (re)started worker answers, and whenever it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    Unlocked,
    Locked,
}

/// The system's idle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleState {
    Active,
    Idle,
    Locked,
}

impl IdleState {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(IdleState::Active),
            "idle" => Some(IdleState::Idle),
            "locked" => Some(IdleState::Locked),
            _ => None,
        }
    }
}

/// What the glue must read for an event. The small items (settings, servers, drift, counters, the
/// pending clipboard clear and the session key) are always read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wants {
    /// Every vault item of `storage.local` and the private area.
    pub vault: bool,
    /// The records of these tabs from `storage.session`.
    pub tabs: Vec<u32>,
    /// Granted origins and registered content scripts.
    pub browser: bool,
}

/// A change to an alarm.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmChange {
    Set { name: &'static str, minutes: f64 },
    Clear { name: &'static str },
}

/// What becomes of the session key in `storage.session`.
#[derive(Debug, Default)]
pub enum SessionKeyChange {
    #[default]
    Keep,
    Store(SecretString),
    Clear,
}

/// Whether a step panel's port is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelPort {
    Accept,
    Refuse,
}

/// Content-script registrations to change on self-hosted servers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scripts {
    /// Hosts to register the content script on: `(registration id, match pattern)`.
    pub register: Vec<(String, String)>,
    /// Registration ids to remove.
    pub unregister: Vec<String>,
}

/// Everything one event asks of the browser, in the order the glue applies it: the
/// `storage.local` batches in order (each atomic; stop at the first refusal and call
/// [`Service::refused`]), then the private area, then `storage.session` and the session key, then
/// alarms, registrations, the panel port decision, pushes, and finally the reply. (The private
/// area after the local batches: a new capture key is only written once the vault it belongs to is.)
#[derive(Debug, Default)]
pub struct Effects {
    pub reply: Option<Reply>,
    pub pushes: Vec<(u32, Push)>,
    pub private: Changeset,
    pub local: Vec<Changeset>,
    pub session: Changeset,
    pub session_key: SessionKeyChange,
    pub alarms: Vec<AlarmChange>,
    pub scripts: Option<Scripts>,
    pub panel: Option<PanelPort>,
    pub open_options: bool,
    /// Toolbar badges to set, per tab.
    pub badges: Vec<(u32, Badge)>,
    /// The toolbar icon to show in every tab, when it changes.
    pub icon: Option<Icon>,
    /// The writes carry a key the admin is saving: a refusal must say the key was not saved.
    pub carries_key: bool,
    /// What the clipboard device must do (after the session writes, which record it).
    pub clipboard: Option<ClipboardJob>,
}

impl Effects {
    /// The reply the sender may have before this event's writes are done: what to draw on a
    /// page says nothing about storage. A reply about a key, and every other reply, waits for
    /// the writes (a failed write turns it into an error).
    pub fn early_reply(&self) -> Option<&Reply> {
        self.reply.as_ref().filter(|r| matches!(r, Reply::Draw(_)) && !self.carries_key)
    }

    fn put_local(&mut self, key: &str, value: serde_json::Value) {
        match self.local.last_mut() {
            Some(batch) => batch.put(key, value),
            None => {
                let mut batch = Changeset::default();
                batch.put(key, value);
                self.local.push(batch);
            }
        }
    }
}

/// What the service needs from the machine it runs on.
pub trait Platform {
    /// Argon2 parameters for this machine (runs at setup and passphrase change only).
    fn calibrate(&mut self) -> KdfParams;
}

/// The worker's state: the walkthrough controller, the vault keeper, the settings, and which
/// step-panel port is live in which tab.
pub struct Service {
    controller: Controller,
    keeper: Keeper,
    settings: Settings,
    counters: Counters,
    /// The clipboard clear that is waiting, as `storage.session` holds it.
    pending_clear: Option<PendingClear>,
    /// The nonce of the accepted panel port of each tab.
    live_panels: HashMap<u32, PanelNonce>,
    /// The icon last asked for, `None` when the browser's icon is not known to match it.
    icon_shown: Option<Icon>,
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("plain data serializes")
}

fn read<T: serde::de::DeserializeOwned>(store: &impl Store, key: &str) -> Option<T> {
    store.get(key).and_then(|v| serde_json::from_value(v).ok())
}

/// The vendors as the pages present them, with their key pages on the servers `catalog` holds.
fn vendor_cards(catalog: &Catalog) -> Vec<VendorCard> {
    catalog
        .recipes
        .iter()
        .map(|r| VendorCard { server_pages: catalog.server_key_pages(&r.vendor.id), ..vendor_card(&r.vendor) })
        .collect()
}

/// A vendor as the pages present it.
fn vendor_card(vendor: &Vendor) -> VendorCard {
    VendorCard {
        id: vendor.id.clone(),
        name: vendor.name.clone(),
        key_page_url: vendor.key_page_url.clone(),
        self_hosted: vendor.self_hosted,
        hosts: vendor
            .hosts
            .iter()
            .map(|h| match h {
                HostPattern::Exact(host) => host.clone(),
                HostPattern::Subdomains(domain) => format!("*.{domain}"),
            })
            .collect(),
        server_pages: Vec::new(),
    }
}

impl Service {
    /// A service over `catalog` (parsed once, by the caller).
    pub fn new(catalog: Catalog) -> Self {
        let replacing =
            catalog.recipes.iter().filter(|r| r.key.replaces_previous).map(|r| r.vendor.id.clone()).collect();
        let vendors = vendor_cards(&catalog);
        Service {
            controller: Controller::new(catalog),
            keeper: Keeper::new(replacing).with_vendors(vendors),
            settings: Settings::default(),
            counters: Counters::default(),
            pending_clear: None,
            live_panels: HashMap::new(),
            icon_shown: None,
        }
    }

    /// The built-in recipes.
    pub fn builtin() -> Self {
        Service::new(Catalog::builtin().expect("built-in recipes are validated by the test suite"))
    }

    pub fn is_unlocked(&self) -> bool {
        self.keeper.is_unlocked()
    }

    /// The glue stored every `storage.local` batch of the last event, and the vault items are now
    /// `generation` (`None` when it cannot vouch for a number): what the keeper listed and the
    /// writes left as it was is kept for that generation.
    pub fn stored(&mut self, generation: Option<u64>) {
        self.keeper.stored(generation);
    }

    /// How many listings of the vault items the keeper has taken (a reused one does not count).
    pub fn listings_taken(&self) -> u64 {
        self.keeper.listings_taken()
    }

    /// What to read before `event`.
    pub fn wants(&self, event: &Event) -> Wants {
        match event {
            Event::Message(Ok(Admitted::Content { tab, request, .. })) => {
                Wants { vault: matches!(request, ContentRequest::Capture { .. }), tabs: vec![*tab], browser: false }
            }
            // A frame's height is only relayed: the live frame is known in memory, nothing is read.
            Event::Message(Ok(Admitted::Panel { request: PanelRequest::Fit { .. }, .. })) => Wants::default(),
            Event::Message(Ok(Admitted::Panel { tab, .. })) => Wants { tabs: vec![*tab], ..Wants::default() },
            Event::Message(Ok(Admitted::Page { request, .. })) => Wants {
                vault: request.is_vault(),
                tabs: match request {
                    PageRequest::Status { tab: Some(tab) }
                    | PageRequest::Resume { tab }
                    | PageRequest::ListEntries { tab: Some(tab), .. } => vec![*tab],
                    _ => Vec::new(),
                },
                browser: matches!(request, PageRequest::AddServer { .. } | PageRequest::RemoveServer { .. }),
            },
            Event::PanelConnected { tab, .. } => Wants { tabs: vec![*tab], ..Wants::default() },
            Event::Started { .. } | Event::PermissionsRemoved { .. } => Wants { browser: true, ..Wants::default() },
            Event::Message(Err(_))
            | Event::PanelDisconnected { .. }
            | Event::Alarm { .. }
            | Event::Idle { .. }
            | Event::TabRemoved { .. }
            | Event::Command { .. } => Wants::default(),
        }
    }

    /// Brings the caches in line with storage: the snapshot is the truth.
    fn sync(&mut self, snap: &Snapshot, wants: &Wants, effects: &mut Effects) {
        // Only a request that reads the vault items may reuse a listing of them.
        self.keeper.see_generation(snap.local_generation.filter(|_| wants.vault));
        self.settings = read(&snap.local, storage::SETTINGS).unwrap_or_default();
        self.keeper.auto_lock_minutes = self.settings.auto_lock_minutes;
        let vault_set_up = snap.local.get(crate::engine::vault::HEADER_KEY).is_some();
        self.controller.set_context(self.settings.quiet_vendors.clone(), vault_set_up);
        self.settings.clipboard_clear_seconds = clipboard::sanitize(self.settings.clipboard_clear_seconds);
        self.counters = read(&snap.session, storage::COUNTERS).unwrap_or_default();
        self.pending_clear = read(&snap.session, storage::CLIPBOARD);
        self.keeper.restore_trash(read(&snap.session, storage::TRASH).unwrap_or_default());
        let servers: Vec<Server> = read(&snap.local, storage::SERVERS).unwrap_or_default();
        if servers.as_slice() != self.controller.servers() {
            self.controller.restore_servers(servers);
            self.keeper.set_vendors(vendor_cards(self.controller.catalog()));
        }
        self.controller.restore_drift(read(&snap.local, storage::DRIFT).unwrap_or_default());
        for &tab in &wants.tabs {
            if !self.controller.knows_tab(tab) {
                if let Some(record) = read(&snap.session, &storage::tab_key(tab)) {
                    self.controller.restore_tab(tab, record);
                }
            }
        }
        match &snap.session_key {
            // Locked elsewhere (the key was cleared): forget the vault here too.
            None => self.keeper.lock(),
            Some(key) if wants.vault && !self.keeper.is_unlocked() => {
                match self.keeper.resume(&snap.local, &snap.private, key) {
                    Some(resumed) => {
                        effects.local.extend(resumed.local.into_iter().filter(|c| !c.is_empty()));
                        effects.private.merge(resumed.private);
                    }
                    None => effects.session_key = SessionKeyChange::Clear,
                }
            }
            Some(_) => {}
        }
        // Changes made by restoring are not news; a deletion dropped by a lock elsewhere is.
        self.controller.take_changes();
    }

    /// Answers one event over `snap`, read as [`Service::wants`] asked. `now` is Unix ms.
    pub fn handle(&mut self, event: Event, snap: &Snapshot, now: u64, platform: &mut dyn Platform) -> Effects {
        let wants = self.wants(&event);
        let mut effects = Effects::default();
        self.sync(snap, &wants, &mut effects);
        // The browser shows the manifest's icon again after a start.
        if matches!(event, Event::Started { .. }) {
            self.icon_shown = None;
        }
        match event {
            Event::Message(Err(refusal)) => effects.reply = Some(refusal.reply()),
            Event::Message(Ok(Admitted::Content { tab, url, request })) => {
                let outcome = self.controller.content(tab, &url, request, now);
                self.walkthrough(Some(tab), outcome, snap, now, &mut effects);
            }
            Event::Message(Ok(Admitted::Panel { tab, request })) => match (self.live_panels.get(&tab), request) {
                (None, _) => {
                    effects.reply =
                        Some(Reply::Error { code: ErrorCode::Forbidden, message: words!("errNotThisPanel") });
                }
                // The live frame's content height goes to its content script, named by its nonce.
                (Some(nonce), PanelRequest::Fit { height }) => {
                    let fit = Push::PanelFit { panel: nonce.clone(), height: height.min(MAX_PANEL_HEIGHT) };
                    effects.pushes.push((tab, fit));
                    effects.reply = Some(Reply::Done);
                }
                (Some(_), request) => {
                    let outcome = self.controller.panel(tab, request, now);
                    self.walkthrough(Some(tab), outcome, snap, now, &mut effects);
                }
            },
            Event::Message(Ok(Admitted::Page { request, .. })) => {
                if request.is_clipboard() {
                    effects.reply = Some(self.clipboard(request, now, &mut effects));
                } else if let PageRequest::ListEntries { tab, query, rows, detail } = request {
                    // The active tab's site, as its content script last reported it.
                    let host = tab.and_then(|t| self.controller.tab_host(t)).filter(|h| !h.is_empty());
                    let outcome = self.keeper.list_outcome(&snap.local, host, &query, rows, detail.as_deref());
                    self.vault(outcome, &mut effects);
                } else if request.is_vault() {
                    let outcome =
                        self.keeper.handle(&snap.local, &snap.private, request, now, &mut || platform.calibrate());
                    self.vault(outcome, &mut effects);
                } else {
                    let outcome = self.controller.page(request, self.counters.captures_saved, now);
                    self.walkthrough(None, outcome, snap, now, &mut effects);
                }
            }
            Event::PanelConnected { tab, nonce } => {
                let reported = self.controller.panel_nonce(tab);
                let fresh = nonce.is_some() && nonce.as_ref() == reported && !self.live_panels.contains_key(&tab);
                match (fresh, nonce) {
                    (true, Some(nonce)) => {
                        self.live_panels.insert(tab, nonce);
                        effects.panel = Some(PanelPort::Accept);
                        effects.pushes.push((tab, Push::Panel { view: self.controller.panel_view(tab, now) }));
                    }
                    _ => effects.panel = Some(PanelPort::Refuse),
                }
            }
            Event::PanelDisconnected { tab } => {
                self.live_panels.remove(&tab);
            }
            Event::Alarm { name } => {
                if name == AUTO_LOCK_ALARM {
                    self.lock(&mut effects);
                } else if name == CLIPBOARD_ALARM {
                    self.clipboard_alarm(now, &mut effects);
                }
            }
            Event::Idle { state } => {
                if state == IdleState::Locked {
                    self.lock(&mut effects);
                }
            }
            Event::TabRemoved { tab } => {
                self.controller.forget_tab(tab);
                self.live_panels.remove(&tab);
            }
            Event::Started { install } => {
                effects.scripts = Some(self.scripts(snap));
                effects.open_options = install;
            }
            Event::PermissionsRemoved { .. } => effects.scripts = Some(self.scripts(snap)),
            Event::Command { name } => {
                if name == LOCK_COMMAND {
                    self.lock(&mut effects);
                }
            }
        }
        self.persist(snap, &mut effects);
        self.icon(snap, &mut effects);
        effects
    }

    /// Sets `effects.icon` when the vault's state after `effects` differs from the icon shown.
    fn icon(&mut self, snap: &Snapshot, effects: &mut Effects) {
        let unlocked = match effects.session_key {
            SessionKeyChange::Store(_) => true,
            SessionKeyChange::Clear => false,
            SessionKeyChange::Keep => snap.session_key.is_some(),
        };
        let icon = if unlocked { Icon::Unlocked } else { Icon::Locked };
        if self.icon_shown != Some(icon) {
            self.icon_shown = Some(icon);
            effects.icon = Some(icon);
        }
    }

    fn lock(&mut self, effects: &mut Effects) {
        self.keeper.lock();
        self.locked(effects);
    }

    /// What every lock does once the keeper has forgotten the vault: the session key goes, the
    /// auto-lock alarm too, and a key keywarden copied leaves the clipboard if it is still there
    /// (the device compares digests, so text copied since stays).
    fn locked(&mut self, effects: &mut Effects) {
        effects.session_key = SessionKeyChange::Clear;
        effects.alarms.push(AlarmChange::Clear { name: AUTO_LOCK_ALARM });
        if let Some(pending) = self.pending_clear.clone() {
            self.forget_clear(effects);
            effects.clipboard = Some(ClipboardJob::Clear { only_if: Some(pending.digest) });
        }
    }

    /// The clipboard setting as the pages see it.
    fn clipboard_status(&self, clears_in: Option<u32>) -> Reply {
        Reply::Clipboard(ClipboardStatus {
            clear_seconds: self.settings.clipboard_clear_seconds,
            choices: clipboard::CHOICES.to_vec(),
            clears_in,
        })
    }

    /// Drops the pending clear, its record and its alarm.
    fn forget_clear(&mut self, effects: &mut Effects) {
        self.pending_clear = None;
        effects.session.delete(storage::CLIPBOARD);
        effects.alarms.push(AlarmChange::Clear { name: CLIPBOARD_ALARM });
    }

    /// The clipboard requests (see [`crate::engine::clipboard`] for the design).
    fn clipboard(&mut self, request: PageRequest, now: u64, effects: &mut Effects) -> Reply {
        match request {
            PageRequest::ArmClipboard { digest } => {
                let seconds = self.settings.clipboard_clear_seconds;
                if seconds == 0 {
                    // Never: an earlier copy's clear has nothing left to do either, since the
                    // clipboard now holds this text.
                    if self.pending_clear.is_some() {
                        self.forget_clear(effects);
                        effects.clipboard = Some(ClipboardJob::Cancel);
                    }
                    return self.clipboard_status(None);
                }
                let pending = PendingClear { digest, due_at: now + seconds as u64 * 1_000 };
                effects.session.put(storage::CLIPBOARD, to_json(&pending));
                effects.alarms.push(AlarmChange::Set { name: CLIPBOARD_ALARM, minutes: pending.alarm_minutes(now) });
                effects.clipboard = Some(ClipboardJob::Arm { digest: pending.digest.clone(), due_at: pending.due_at });
                self.pending_clear = Some(pending);
                self.clipboard_status(Some(seconds))
            }
            PageRequest::ClearClipboard => {
                if self.pending_clear.is_some() {
                    self.forget_clear(effects);
                }
                effects.clipboard = Some(ClipboardJob::Clear { only_if: None });
                Reply::Done
            }
            PageRequest::ClipboardStatus => self.clipboard_status(None),
            PageRequest::SetClipboardClear { seconds } => {
                if !clipboard::is_choice(seconds) {
                    return Reply::Error { code: ErrorCode::Malformed, message: words!("errClipboardChoice") };
                }
                // A copy already made keeps the delay it was promised; the new one applies from
                // the next copy on.
                self.settings.clipboard_clear_seconds = seconds;
                effects.put_local(storage::SETTINGS, to_json(&self.settings));
                self.clipboard_status(None)
            }
            other => {
                Reply::Error { code: ErrorCode::Unexpected, message: words!("errNotClipboardRequest", other.name()) }
            }
        }
    }

    /// The clipboard alarm: a due clear is done (again, if the device's timer already did it);
    /// one not due yet gets its alarm again.
    fn clipboard_alarm(&mut self, now: u64, effects: &mut Effects) {
        let Some(pending) = self.pending_clear.clone() else {
            return;
        };
        if pending.is_due(now) {
            self.forget_clear(effects);
            effects.clipboard = Some(ClipboardJob::Clear { only_if: Some(pending.digest) });
        } else {
            effects.alarms.push(AlarmChange::Set { name: CLIPBOARD_ALARM, minutes: pending.alarm_minutes(now) });
        }
    }

    /// The registrations that make exactly the granted servers run the content script.
    fn scripts(&self, snap: &Snapshot) -> Scripts {
        let servers = self.controller.servers();
        let granted: Vec<bool> = servers
            .iter()
            .map(|s| {
                let pattern = registration::match_pattern(&s.host);
                snap.granted_origins
                    .iter()
                    .any(|o| *o == pattern || o.trim_end_matches('/') == pattern.trim_end_matches("/*"))
            })
            .collect();
        let plan = registration::plan(servers, &granted, &snap.registered_scripts);
        Scripts {
            register: plan
                .register
                .iter()
                .map(|h| (registration::script_id(h), registration::match_pattern(h)))
                .collect(),
            unregister: plan.unregister,
        }
    }

    /// The walkthrough's outcome, with a captured key sealed into the vault (and the tab's panel
    /// told what was saved) and a vendor's walkthrough switched on or off in the settings.
    fn walkthrough(&mut self, tab: Option<u32>, outcome: Outcome, snap: &Snapshot, now: u64, effects: &mut Effects) {
        effects.pushes.extend(outcome.pushes);
        effects.open_options |= outcome.open_options;
        if let Some((vendor, on)) = outcome.guidance {
            let changed = if on {
                self.settings.quiet_vendors.remove(&vendor)
            } else {
                self.settings.quiet_vendors.insert(vendor)
            };
            if changed {
                effects.put_local(storage::SETTINGS, to_json(&self.settings));
            }
        }
        match outcome.captured {
            Some(captured) => {
                let name = captured.fields.get(&FieldName::KeyName).cloned().unwrap_or_default();
                let saved = self.keeper.save_capture(&snap.local, &snap.private, captured, now);
                effects.carries_key = true;
                self.vault(saved, effects);
                if let (Some(tab), Some(Reply::Captured { state: CaptureState::Saved, vendor, hint: Some(hint) })) =
                    (tab, &effects.reply)
                {
                    let pushes = self.controller.saved(tab, vendor, name, hint.clone(), now);
                    effects.pushes.extend(pushes);
                }
            }
            None => effects.reply = Some(outcome.reply),
        }
    }

    /// The vault's outcome as effects.
    fn vault(&mut self, outcome: VaultOutcome, effects: &mut Effects) {
        effects.local.extend(std::iter::once(outcome.changes).chain(outcome.later).filter(|c| !c.is_empty()));
        effects.private.merge(outcome.private);
        match outcome.session {
            Session::Keep => {}
            Session::Store(key) => effects.session_key = SessionKeyChange::Store(key),
            Session::Clear => self.locked(effects),
        }
        if let Some(minutes) = outcome.auto_lock_minutes {
            self.settings.auto_lock_minutes = minutes;
            effects.put_local(storage::SETTINGS, to_json(&self.settings));
        }
        if outcome.saved {
            self.counters.captures_saved = self.counters.captures_saved.saturating_add(1);
            effects.session.put(storage::COUNTERS, to_json(&self.counters));
        }
        if outcome.activity && self.keeper.is_unlocked() {
            effects
                .alarms
                .push(AlarmChange::Set { name: AUTO_LOCK_ALARM, minutes: self.settings.auto_lock_minutes as f64 });
        }
        effects.reply = Some(outcome.reply);
    }

    /// Turns what changed in the controller and the keeper's deleted entries into writes.
    fn persist(&mut self, snap: &Snapshot, effects: &mut Effects) {
        effects.badges.extend(self.controller.take_badges());
        match self.keeper.take_trash_change() {
            Some(trash) if trash.is_empty() => effects.session.delete(storage::TRASH),
            Some(trash) => effects.session.put(storage::TRASH, to_json(&trash)),
            None => {}
        }
        let changes = self.controller.take_changes();
        for tab in changes.tabs {
            match self.controller.tab_record(tab) {
                Some(record) => effects.session.put(&storage::tab_key(tab), to_json(record)),
                None => effects.session.delete(&storage::tab_key(tab)),
            }
        }
        if changes.drift {
            effects.put_local(storage::DRIFT, to_json(&self.controller.drift_events()));
        }
        if changes.servers {
            self.keeper.set_vendors(vendor_cards(self.controller.catalog()));
            effects.put_local(storage::SERVERS, to_json(&self.controller.servers()));
            effects.scripts = Some(self.scripts(snap));
        }
    }

    /// Storage refused part of `effects`: the reply to send instead. Nothing the reply promised
    /// can be relied on, so the caches are dropped and rebuilt from storage at the next event.
    pub fn refused(&mut self, error: &StoreError, effects: &Effects) -> Reply {
        self.controller = Controller::new(self.controller.catalog().clone());
        self.keeper.lock();
        // The icon change, if any, was not applied either.
        self.icon_shown = None;
        let (code, message) = match (error, effects.carries_key) {
            (StoreError::QuotaExceeded { .. }, true) => (ErrorCode::StorageFull, words!("errStorageFullKeyNotSaved")),
            (StoreError::QuotaExceeded { .. }, false) => (ErrorCode::StorageFull, words!("errStorageFull")),
            (StoreError::Failed(_), true) => (ErrorCode::Internal, words!("errStorageRefusedKeyNotSaved")),
            (StoreError::Failed(_), false) => (ErrorCode::Internal, words!("errStorageRefused")),
        };
        Reply::Error { code, message }
    }

    /// Storage could not even be read for `event`: the reply to send. A key being saved is
    /// named as not saved, so the admin copies it by hand.
    pub fn unreadable(event: &Event) -> Reply {
        let carries_key =
            matches!(event, Event::Message(Ok(Admitted::Content { request: ContentRequest::Capture { .. }, .. })));
        let message =
            if carries_key { words!("errStorageUnreadableKeyNotSaved") } else { words!("errStorageUnreadable") };
        Reply::Error { code: ErrorCode::Internal, message }
    }

    /// Runs a sample page report for every vendor with a fixed key page through a scratch
    /// walkthrough, and returns what it would have replied; nothing of the service changes. A
    /// worker woken by a vendor page that starts loading does this, so that the code that page's
    /// first report needs is ready (compiled) before the report comes. `read` admits a message
    /// text from a sender the way the glue admits what arrives.
    pub fn rehearse(&self, read: impl Fn(&Sender, &str) -> Option<Admitted>) -> Vec<Reply> {
        let catalog = self.controller.catalog();
        let mut scratch = Controller::new(catalog.clone());
        let mut replies = Vec::new();
        for url in catalog.recipes.iter().filter_map(|r| r.vendor.key_page_url.as_deref()) {
            let sender = Sender::Content { tab: 0, frame: 0, url: url.to_string() };
            if let Some(Admitted::Content { request, .. }) = read(&sender, &rehearsal_report(url)) {
                replies.push(scratch.content(0, url, request, 0).reply);
            }
        }
        replies
    }

    /// Tabs with an accepted step panel (for tests and diagnostics).
    pub fn live_panels(&self) -> BTreeSet<u32> {
        self.live_panels.keys().copied().collect()
    }
}

/// A page report as a content script sends it, of a key page at `url`: a heading, a name field,
/// a button and a key on screen (its outline only), for [`Service::rehearse`].
fn rehearsal_report(url: &str) -> String {
    let secret = serde_json::json!({ "len": 40, "lower": true, "upper": true, "digit": true, "symbols": "", "hex": false, "guid": false });
    serde_json::json!({
        "v": crate::engine::protocol::VERSION,
        "body": { "type": "report", "seq": 1, "panel": null, "page": { "url": url, "title": "API keys", "elements": [
            { "role": "heading", "text": "API keys", "level": 1 },
            { "role": "textbox", "label": "Name", "filled": true },
            { "role": "button", "text": "Create" },
            { "role": "text", "text": "Copy your new key now: •", "secret": secret },
            { "role": "button", "text": "Copy" },
        ] } },
    })
    .to_string()
}
