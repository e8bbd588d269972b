//! Scenarios for the worker service with in-memory storage and no browser: captures while locked, locks racing unlocks, alarms mid-operation, two tabs at once, clipboard clears, and a worker restarted between any two events.

mod common;

use common::{content_on, panel, popup, token_form, token_list, token_shown, KEY};
use keywarden::engine::clipboard::{ClipboardDigest, ClipboardJob, PendingClear, CLIPBOARD_ALARM};
use keywarden::engine::protocol::{
    admit, CaptureState, ClipboardStatus, EntryTrust, ErrorCode, ExtensionPage, Listed, PanelNonce, Push, Reply,
    Sender, VaultStatus, MAX_PANEL_HEIGHT, VERSION,
};
use keywarden::engine::secret::SecretString;
use keywarden::engine::service::{
    AlarmChange, Event, Icon, IdleState, PanelPort, Platform, Service, SessionKeyChange, AUTO_LOCK_ALARM, LOCK_COMMAND,
};
use keywarden::engine::storage::{self, Snapshot};
use keywarden::engine::vault::store::{MemoryStore, Store};
use keywarden::engine::vault::KdfParams;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const PASS: &str = "correct horse battery staple";
const OTHER_KEY: &str = "Yp6-SECONDTOKEN_a1Bc2De3Fg4Hi5Jk6Lm7No8P";

/// Fast Argon2 parameters: the scenarios are about ordering, not key stretching.
struct Weak;

impl Platform for Weak {
    fn calibrate(&mut self) -> KdfParams {
        KdfParams::weak_for_tests(1024, 1)
    }
}

/// The browser as the glue sees it: three storage areas, the session key, alarms and a clock.
/// `deliver` does exactly what `web::worker` does with one event: read what the service wants,
/// call it, apply the effects in order.
#[derive(Default)]
struct Browser {
    local: MemoryStore,
    session: MemoryStore,
    private: MemoryStore,
    session_key: Option<String>,
    alarms: BTreeMap<String, f64>,
    pushes: Vec<(u32, Push)>,
    /// Every job handed to the clipboard device, oldest first.
    clipboard_jobs: Vec<ClipboardJob>,
    /// The toolbar icon as the browser shows it (`None`: the manifest's default, never set).
    icon: Option<Icon>,
    /// How many times the service asked for an icon.
    icon_sets: usize,
    now: u64,
    /// Build a fresh service before every event, as if the worker had been stopped.
    restart_every_event: bool,
    service: Option<Service>,
    /// The vault items the last vault request read, and the generation that named them: as the
    /// worker's mirror does, the same number for the same items and a new one for any change.
    seen_items: Option<MemoryStore>,
    generation: u64,
    /// The reply of the last event that went out before its writes, if any.
    early: Option<Reply>,
}

impl Browser {
    fn new() -> Self {
        Browser { now: 1_767_225_600_000, ..Browser::default() }
    }

    fn restarting() -> Self {
        Browser { restart_every_event: true, ..Browser::new() }
    }

    fn snapshot(&mut self, service: &Service, event: &Event) -> Snapshot {
        let wants = service.wants(event);
        let mut local = MemoryStore::new();
        for (k, v) in self.local.items() {
            let small = storage::ALWAYS_READ.contains(&k.as_str());
            if small || (wants.vault && storage::is_vault_item(k)) {
                local.insert(k, v.clone());
            }
        }
        let local_generation = wants.vault.then(|| self.items_generation());
        let mut session = MemoryStore::new();
        for (k, v) in self.session.items() {
            let tab_wanted = wants.tabs.iter().any(|t| *k == storage::tab_key(*t));
            if tab_wanted || k == storage::COUNTERS || k == storage::CLIPBOARD || k == storage::TRASH {
                session.insert(k, v.clone());
            }
        }
        Snapshot {
            local: local.into(),
            local_generation,
            session,
            private: if wants.vault { self.private.clone() } else { MemoryStore::new() },
            session_key: self.session_key.clone().map(SecretString::new),
            granted_origins: Vec::new(),
            registered_scripts: Vec::new(),
        }
    }

    /// The generation of the vault items as they are now: the last one while they are the same.
    fn items_generation(&mut self) -> u64 {
        let mut items = MemoryStore::new();
        for (k, v) in self.local.items().iter().filter(|(k, _)| storage::is_vault_item(k)) {
            items.insert(k, v.clone());
        }
        if self.seen_items.as_ref() != Some(&items) {
            self.generation += 1;
            self.seen_items = Some(items);
        }
        self.generation
    }

    /// One event, start to finish; returns the reply (or `Done` for events without one).
    fn deliver(&mut self, event: Event) -> Reply {
        self.now += 1_000;
        let mut service = match self.service.take() {
            Some(s) if !self.restart_every_event => s,
            _ => Service::builtin(),
        };
        let snap = self.snapshot(&service, &event);
        let effects = service.handle(event, &snap, self.now, &mut Weak);
        // As the worker does: a reply it may send before the writes goes out first.
        self.early = effects.early_reply().cloned();
        let mut failure = None;
        for batch in &effects.local {
            if failure.is_none() {
                failure = self.local.apply(batch).err();
            }
        }
        if failure.is_none() {
            failure = self.private.apply(&effects.private).err();
        }
        if failure.is_none() {
            failure = self.session.apply(&effects.session).err();
        }
        if let Some(error) = failure {
            let reply = service.refused(&error, &effects);
            self.service = Some(service);
            return reply;
        }
        service.stored(Some(self.items_generation()));
        match &effects.session_key {
            SessionKeyChange::Keep => {}
            SessionKeyChange::Store(key) => self.session_key = Some(key.expose().to_string()),
            SessionKeyChange::Clear => self.session_key = None,
        }
        for alarm in &effects.alarms {
            match alarm {
                AlarmChange::Set { name, minutes } => self.alarms.insert(name.to_string(), *minutes),
                AlarmChange::Clear { name } => self.alarms.remove(*name),
            };
        }
        self.pushes.extend(effects.pushes);
        self.clipboard_jobs.extend(effects.clipboard);
        if let Some(icon) = effects.icon {
            self.icon = Some(icon);
            self.icon_sets += 1;
        }
        self.service = Some(service);
        effects.reply.unwrap_or(Reply::Done)
    }

    fn message(&mut self, sender: &Sender, body: Value) -> Reply {
        let wire = json!({ "v": VERSION, "body": body }).to_string();
        self.deliver(Event::Message(admit(sender, wire.as_str())))
    }

    fn options(&mut self, body: Value) -> Reply {
        self.message(&Sender::Page { page: ExtensionPage::Options, tab: None }, body)
    }

    fn setup(&mut self) {
        let reply = self.options(json!({ "type": "vault_setup", "passphrase": PASS }));
        assert!(matches!(reply, Reply::Vault(VaultStatus { unlocked: true, .. })), "{reply:?}");
    }

    fn unlock(&mut self) -> Reply {
        self.message(&popup(), json!({ "type": "unlock", "passphrase": PASS }))
    }

    fn lock(&mut self) {
        assert_eq!(self.message(&popup(), json!({ "type": "lock" })), Reply::Done);
    }

    fn status(&mut self) -> VaultStatus {
        match self.message(&popup(), json!({ "type": "vault_status" })) {
            Reply::Vault(s) => s,
            other => panic!("{other:?}"),
        }
    }

    /// The token screen reported from `tab`, then a capture of `key` shown there.
    fn show_and_capture(&mut self, tab: u32, seq: u64, key: &str) -> Reply {
        self.report_token_shown(tab, seq);
        self.capture(tab, seq, key)
    }

    fn report_token_shown(&mut self, tab: u32, seq: u64) {
        let page = token_shown().model;
        let reply = self.message(&content_on(tab, &page), json!({ "type": "report", "seq": seq, "page": page }));
        assert!(matches!(&reply, Reply::Draw(d) if d.capture.is_some()), "{reply:?}");
    }

    fn capture(&mut self, tab: u32, seq: u64, key: &str) -> Reply {
        let page = token_shown().model;
        self.message(&content_on(tab, &page), json!({ "type": "capture", "seq": seq, "key": key }))
    }
}

fn saved(reply: &Reply) -> bool {
    matches!(reply, Reply::Captured { state: CaptureState::Saved, .. })
}

#[test]
fn capture_while_locked_then_unlock_lists_it_verified() {
    let mut b = Browser::new();
    b.setup();
    b.lock();
    assert!(b.session_key.is_none());
    let reply = b.show_and_capture(1, 1, KEY);
    assert!(saved(&reply), "{reply:?}");
    let locked = b.status();
    assert_eq!((locked.unlocked, locked.items, locked.entries.len()), (false, 1, 0));
    assert_eq!(b.unlock(), Reply::Done);
    let open = b.status();
    assert_eq!(open.entries.len(), 1);
    assert_eq!(open.entries[0].trust, EntryTrust::Verified);
    assert_eq!(open.entries[0].hint, format!("…{}", &KEY[KEY.len() - 4..]));
}

/// The listing travels to the extension's pages as JSON text (`OutText`), read back as the very
/// reply the service gave: every field of every entry, and no key among them.
#[test]
fn the_vault_listing_survives_its_json_text_envelope() {
    use keywarden::engine::protocol::OutText;
    let mut b = Browser::new();
    b.setup();
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    let reply = Reply::Vault(b.status());
    let envelope = serde_json::to_string(&OutText::new(serde_json::to_string(&reply).unwrap())).unwrap();
    assert!(!envelope.contains(KEY), "the listing never carries the key");
    let text: OutText = serde_json::from_str(&envelope).unwrap();
    assert_eq!(text.v, keywarden::engine::protocol::VERSION);
    assert_eq!(serde_json::from_str::<Reply>(&text.json).unwrap(), reply);
}

#[test]
fn a_lock_arriving_during_an_unlock_runs_after_it_and_wins() {
    // The idle alarm fires while the unlock is still being written: the queue runs it next, over
    // a snapshot that already holds the unlock's writes, so the vault ends locked.
    let mut b = Browser::new();
    b.setup();
    b.lock();
    assert_eq!(b.unlock(), Reply::Done);
    assert!(b.session_key.is_some());
    b.deliver(Event::Alarm { name: AUTO_LOCK_ALARM.into() });
    assert!(b.session_key.is_none(), "the session key is gone");
    assert!(!b.alarms.contains_key(AUTO_LOCK_ALARM));
    assert!(!b.status().unlocked);
    // And the system locking does the same.
    b.unlock();
    b.deliver(Event::Idle { state: IdleState::Locked });
    assert!(!b.status().unlocked);
}

#[test]
fn a_session_key_cleared_elsewhere_locks_the_cached_vault() {
    // Another run of the worker locked (the key went from storage.session): this one must not
    // keep answering from the vault it still holds in memory.
    let mut b = Browser::new();
    b.setup();
    assert!(b.status().unlocked);
    b.session_key = None;
    let status = b.status();
    assert!(!status.unlocked);
    let copy = b.message(&popup(), json!({ "type": "copy_key", "id": "0123456789abcdef0123456789abcdef" }));
    assert!(matches!(copy, Reply::Error { code: ErrorCode::Locked, .. }), "{copy:?}");
}

#[test]
fn the_idle_alarm_firing_between_a_capture_and_the_next_request_keeps_the_key() {
    let mut b = Browser::new();
    b.setup();
    assert!(b.alarms.contains_key(AUTO_LOCK_ALARM), "activity arms the auto-lock");
    b.report_token_shown(1, 1);
    b.deliver(Event::Alarm { name: AUTO_LOCK_ALARM.into() });
    let reply = b.capture(1, 1, KEY);
    assert!(saved(&reply), "saved while locked: {reply:?}");
    assert!(!b.status().unlocked);
    b.unlock();
    let status = b.status();
    assert_eq!(status.entries.len(), 1);
    assert_eq!(status.entries[0].trust, EntryTrust::Verified);
}

#[test]
fn two_tabs_capturing_at_once_both_keep_their_key() {
    let mut b = Browser::new();
    b.setup();
    b.report_token_shown(1, 1);
    b.report_token_shown(2, 1);
    let first = b.capture(1, 1, KEY);
    let second = b.capture(2, 1, OTHER_KEY);
    assert!(saved(&first) && saved(&second), "{first:?} {second:?}");
    let status = b.status();
    let mut hints: Vec<_> = status.entries.iter().map(|e| e.hint.clone()).collect();
    hints.sort();
    let mut want = vec![format!("…{}", &KEY[KEY.len() - 4..]), format!("…{}", &OTHER_KEY[OTHER_KEY.len() - 4..])];
    want.sort();
    assert_eq!(hints, want);
    assert!(status.damaged.is_empty());
    // And the same while locked.
    b.lock();
    // Same shape as the key the page showed (the worker checks the outline), other characters.
    let third = format!("{}Tz9q", &KEY[..KEY.len() - 4]);
    let fourth = format!("{}Rw8p", &KEY[..KEY.len() - 4]);
    assert!(saved(&b.capture(1, 1, &third)));
    assert!(saved(&b.capture(2, 1, &fourth)));
    b.unlock();
    assert_eq!(b.status().entries.len(), 4);
}

#[test]
fn a_full_storage_says_the_key_was_not_saved_and_writes_nothing() {
    let mut b = Browser::new();
    b.setup();
    b.report_token_shown(1, 1);
    let before = b.local.clone();
    b.local.set_quota(Some(before.bytes_in_use() + 10));
    let reply = b.capture(1, 1, KEY);
    let Reply::Error { code: ErrorCode::StorageFull, message } = &reply else { panic!("{reply:?}") };
    assert!(message.is("errStorageFullKeyNotSaved"), "{message:?}");
    assert!(!format!("{message:?}").contains("LEAKCANARY"));
    b.local.set_quota(None);
    assert_eq!(b.local.items(), before.items());
    assert_eq!(b.status().entries.len(), 0, "and nothing is counted");
}

#[test]
fn the_popup_counts_only_keys_the_vault_kept() {
    let mut b = Browser::new();
    b.report_token_shown(1, 1);
    let reply = b.capture(1, 1, KEY);
    assert!(matches!(reply, Reply::Captured { state: CaptureState::Received, .. }), "no vault yet: {reply:?}");
    let count = |b: &mut Browser| match b.message(&popup(), json!({ "type": "status", "tab": 1 })) {
        Reply::Status { captures_received, .. } => captures_received,
        other => panic!("{other:?}"),
    };
    assert_eq!(count(&mut b), 0);
    b.setup();
    b.capture(1, 1, KEY);
    assert_eq!(count(&mut b), 1);
}

#[test]
fn settings_are_saved_by_the_service_and_survive_a_restart() {
    let mut b = Browser::restarting();
    b.setup();
    let reply = b.options(json!({ "type": "set_auto_lock", "minutes": 7 }));
    assert!(matches!(reply, Reply::Vault(VaultStatus { auto_lock_minutes: 7, .. })), "{reply:?}");
    assert_eq!(b.alarms.get(AUTO_LOCK_ALARM), Some(&7.0));
    assert_eq!(b.status().auto_lock_minutes, 7);
}

#[test]
fn the_vendors_link_to_the_key_page_on_each_added_server_across_restarts() {
    // One worker throughout (the cards follow its own changes), then a new one per event (they
    // follow the servers read back from storage).
    for mut b in [Browser::new(), Browser::restarting()] {
        vendors_follow_the_added_servers(&mut b);
    }
}

fn vendors_follow_the_added_servers(b: &mut Browser) {
    b.setup();
    let pages = |b: &mut Browser| -> Vec<(String, String)> {
        let status = b.status();
        let card = status.vendors.iter().find(|v| v.id == "planningspace").expect("PlanningSpace is listed");
        card.server_pages.iter().map(|p| (p.server.clone(), p.url.clone())).collect()
    };
    assert_eq!(pages(b), vec![]);
    let reply = b.options(
        json!({ "type": "add_server", "vendor": "planningspace", "url": "https://ps.acme.test/ACME/PlanningSpace/" }),
    );
    assert!(matches!(reply, Reply::Servers { .. }), "{reply:?}");
    let acme =
        ("ps.acme.test/ACME".to_string(), "https://ps.acme.test/ACME/PlanningSpace/#/generateApiKey".to_string());
    assert_eq!(pages(b), vec![acme.clone()]);
    b.options(json!({ "type": "add_server", "vendor": "planningspace", "url": "https://west.acme.test:8443/Energy" }));
    let west = (
        "west.acme.test:8443/Energy".to_string(),
        "https://west.acme.test:8443/Energy/PlanningSpace/#/generateApiKey".to_string(),
    );
    assert_eq!(pages(b), vec![acme.clone(), west]);
    b.options(json!({ "type": "remove_server", "host": "west.acme.test" }));
    assert_eq!(pages(b), vec![acme]);
    let fixed = b.status();
    let predicthq = fixed.vendors.iter().find(|v| v.id == "predicthq").unwrap();
    assert!(predicthq.server_pages.is_empty(), "a vendor on fixed hosts has no server pages");
}

fn list(b: &mut Browser, tab: u32, query: &str, rows: u32, detail: Option<&str>) -> Listed {
    let body = json!({ "type": "list_entries", "tab": tab, "query": query, "rows": rows, "detail": detail });
    match b.message(&popup(), body) {
        Reply::Listed(l) => l,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_popup_gets_only_the_rows_it_draws_with_this_sites_keys_first_and_the_open_entry_along() {
    let mut b = Browser::new();
    b.setup();
    b.report_token_shown(1, 1);
    for i in 0..12 {
        let key = format!("{}{i:02}", &KEY[..KEY.len() - 2]);
        assert!(saved(&b.capture(1, 1, &key)), "key {i}");
    }
    plant(&mut b, OTHER_KEY);
    // Tab 1 is on control.predicthq.com: its keys come first, newest first, five of them.
    let on_site = list(&mut b, 1, "", 5, None);
    assert_eq!((on_site.here.len(), on_site.groups.len(), on_site.shown, on_site.total), (5, 0, 12, 12));
    let times: Vec<u64> = on_site.here.iter().map(|e| e.created_at).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first: {times:?}");
    assert!(on_site.vault.unlocked);
    // Listed apart: the planted entry, and nothing else among the vault's entries.
    assert_eq!(on_site.vault.entries.len(), 1);
    assert_eq!(on_site.vault.entries[0].trust, EntryTrust::Foreign);
    // Another tab: the same keys under their vendor and tenant.
    let elsewhere = list(&mut b, 9, "", 5, None);
    assert!(elsewhere.here.is_empty());
    assert_eq!(elsewhere.groups.len(), 1);
    assert_eq!(
        (elsewhere.groups[0].vendor.as_str(), elsewhere.groups[0].tenant.as_str()),
        ("predicthq", "control.predicthq.com")
    );
    assert_eq!(elsewhere.groups[0].vendor_name, "PredictHQ");
    assert_eq!(elsewhere.rows(), 5);
    // The oldest key is not among the first five rows; with its details open it comes along.
    let all = list(&mut b, 1, "", 100, None);
    assert_eq!(all.rows(), 12);
    let oldest = all.here.last().unwrap().id.clone();
    let with_detail = list(&mut b, 1, "", 5, Some(&oldest));
    assert_eq!(with_detail.rows(), 5);
    assert!(with_detail.entry(&oldest).is_some());
    assert_eq!(with_detail.vault.entries.len(), 2);
    // A search the worker answers over every key, not only the rows drawn.
    let search = list(&mut b, 1, "no such words", 100, None);
    assert_eq!((search.rows(), search.shown, search.total), (0, 0, 12));
    let named = list(&mut b, 9, "predict", 3, None);
    assert_eq!((named.rows(), named.shown), (3, 12));
    // The JSON text the popup gets carries no key.
    let text = serde_json::to_string(&Reply::Listed(all)).unwrap();
    assert!(!text.contains("LEAKCANARY"), "no listing carries a key");
    // Locked: the state only, no row.
    b.lock();
    let locked = list(&mut b, 1, "", 100, None);
    assert!(!locked.vault.unlocked);
    assert_eq!((locked.rows(), locked.shown, locked.total), (0, 0, 0));
}

#[test]
fn a_list_request_from_a_content_script_is_refused() {
    let mut b = Browser::new();
    b.setup();
    let page = token_shown().model;
    let body = json!({ "type": "list_entries", "tab": 1, "query": "", "rows": 100 });
    let reply = b.message(&content_on(1, &page), body);
    assert!(matches!(reply, Reply::Error { .. }), "{reply:?}");
}

fn nonce(s: &str) -> PanelNonce {
    PanelNonce::parse(s).expect("hex")
}

#[test]
fn only_the_panel_frame_the_content_script_created_may_steer_its_tab() {
    let mut b = Browser::new();
    let page = token_form(true).model;
    let n1 = "0123456789abcdef0123456789abcdef";
    b.message(&content_on(1, &page), json!({ "type": "report", "seq": 1, "page": page, "panel": n1 }));
    // Unknown nonce, or no nonce: refused.
    for n in [None, Some(nonce("ffffffffffffffffffffffffffffffff"))] {
        b.deliver(Event::PanelConnected { tab: 1, nonce: n });
        assert!(b.service.as_ref().unwrap().live_panels().is_empty());
    }
    // A panel message without an accepted port is refused too.
    let forged = b.message(&panel(1), json!({ "type": "panel", "event": "dismiss" }));
    assert!(matches!(forged, Reply::Error { code: ErrorCode::Forbidden, .. }), "{forged:?}");
    // The right nonce is accepted and gets its view at once.
    b.pushes.clear();
    b.deliver(Event::PanelConnected { tab: 1, nonce: Some(nonce(n1)) });
    assert_eq!(b.service.as_ref().unwrap().live_panels().into_iter().collect::<Vec<_>>(), vec![1]);
    assert!(matches!(b.pushes.as_slice(), [(1, Push::Panel { view: Some(_) })]));
    // A second frame with the same nonce never replaces the live one.
    let effects_panel = {
        let mut svc = b.service.take().unwrap();
        let snap = b.snapshot(&svc, &Event::PanelConnected { tab: 1, nonce: Some(nonce(n1)) });
        let e = svc.handle(Event::PanelConnected { tab: 1, nonce: Some(nonce(n1)) }, &snap, b.now, &mut Weak);
        b.service = Some(svc);
        e.panel
    };
    assert_eq!(effects_panel, Some(PanelPort::Refuse));
    // The live panel steers its tab.
    assert_eq!(b.message(&panel(1), json!({ "type": "panel", "event": "dismiss" })), Reply::Done);
}

#[test]
fn only_the_live_panel_frame_reports_its_height_and_only_to_its_own_content_script() {
    let mut b = Browser::new();
    let page = token_form(true).model;
    let n1 = "0123456789abcdef0123456789abcdef";
    b.message(&content_on(1, &page), json!({ "type": "report", "seq": 1, "page": page, "panel": n1 }));
    // Before its port is accepted, a frame's height is refused and nothing reaches the page.
    b.pushes.clear();
    let early = b.message(&panel(1), json!({ "type": "fit", "height": 400 }));
    assert!(matches!(early, Reply::Error { code: ErrorCode::Forbidden, .. }), "{early:?}");
    assert!(b.pushes.is_empty(), "{:?}", b.pushes);
    b.deliver(Event::PanelConnected { tab: 1, nonce: Some(nonce(n1)) });
    // The live frame's height goes to the content script, named by the frame's nonce.
    b.pushes.clear();
    assert_eq!(b.message(&panel(1), json!({ "type": "fit", "height": 412 })), Reply::Done);
    assert_eq!(b.pushes, vec![(1, Push::PanelFit { panel: nonce(n1), height: 412 })]);
    // An absurd height is capped; a malformed one is refused and pushes nothing.
    b.pushes.clear();
    b.message(&panel(1), json!({ "type": "fit", "height": 4_000_000 }));
    assert_eq!(b.pushes, vec![(1, Push::PanelFit { panel: nonce(n1), height: MAX_PANEL_HEIGHT })]);
    for bad in
        [json!({ "type": "fit", "height": -5 }), json!({ "type": "fit", "height": "tall" }), json!({ "type": "fit" })]
    {
        b.pushes.clear();
        let reply = b.message(&panel(1), bad.clone());
        assert!(matches!(reply, Reply::Error { .. }), "{bad}: {reply:?}");
        assert!(b.pushes.is_empty(), "{bad}: {:?}", b.pushes);
    }
    // Neither a content script nor another tab's panel can size the frame.
    b.pushes.clear();
    let from_page = b.message(&content_on(1, &page), json!({ "type": "fit", "height": 300 }));
    assert!(matches!(from_page, Reply::Error { .. }), "{from_page:?}");
    let other_tab = b.message(&panel(2), json!({ "type": "fit", "height": 300 }));
    assert!(matches!(other_tab, Reply::Error { code: ErrorCode::Forbidden, .. }), "{other_tab:?}");
    assert!(b.pushes.is_empty(), "{:?}", b.pushes);
}

/// A script of events that touches every part of the service.
fn day(b: &mut Browser) -> Vec<String> {
    let mut replies = Vec::new();
    let mut note = |r: Reply| replies.push(serde_json::to_string(&keywarden::engine::protocol::Out::new(&r)).unwrap());
    let form = token_form(true).model;
    note(b.message(&content_on(1, &form), json!({ "type": "report", "seq": 1, "page": form })));
    note(b.message(&popup(), json!({ "type": "status", "tab": 1 })));
    note(b.options(json!({ "type": "vault_setup", "passphrase": PASS })));
    note(b.options(json!({ "type": "set_auto_lock", "minutes": 9 })));
    note(b.deliver(Event::Alarm { name: AUTO_LOCK_ALARM.into() }));
    note(b.show_and_capture(1, 2, KEY));
    note(b.message(&popup(), json!({ "type": "vault_status" })));
    note(b.unlock());
    note(b.show_and_capture(2, 1, OTHER_KEY));
    let status = b.status();
    note(Reply::Vault(status.clone()));
    let id = status.entries[0].id.clone();
    note(b.message(&popup(), json!({ "type": "set_entry_state", "id": id, "state": "revoked" })));
    note(b.message(&popup(), json!({ "type": "status", "tab": 2 })));
    note(b.deliver(Event::TabRemoved { tab: 2 }));
    note(b.message(&popup(), json!({ "type": "status", "tab": 2 })));
    note(b.deliver(Event::Idle { state: IdleState::Locked }));
    note(b.message(&popup(), json!({ "type": "vault_status" })));
    replies
}

#[test]
fn a_worker_restarted_between_any_two_events_answers_the_same() {
    let mut steady = Browser::new();
    let mut restarting = Browser::restarting();
    let a = day(&mut steady);
    let b = day(&mut restarting);
    // Entry ids and sizes are random: compare with them blanked out.
    let blank = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| {
                let mut value: Value = serde_json::from_str(s).unwrap();
                // age pads its files with a random stanza: sizes differ from run to run.
                if let Some(bytes) = value.pointer_mut("/body/bytes_in_use") {
                    *bytes = json!(0);
                }
                if let Some(entries) = value.pointer_mut("/body/entries").and_then(Value::as_array_mut) {
                    for e in entries {
                        e["id"] = json!("…");
                        e["created_at"] = json!(0);
                    }
                }
                value.to_string()
            })
            .collect()
    };
    assert_eq!(blank(&a), blank(&b));
    assert!(!a.iter().any(|r| r.contains("LEAKCANARY")), "no reply carries a key");
    assert_eq!(
        steady.session.items().keys().collect::<Vec<_>>(),
        restarting.session.items().keys().collect::<Vec<_>>()
    );
}

/// What anyone who can write `storage.local` (a content script, say) can plant: an entry sealed
/// to the vault's public recipient, without the capture tag only the worker can make.
fn plant(b: &mut Browser, key: &str) {
    use keywarden::engine::vault::{seal_locked, EntryMeta, EntryState};
    let meta = EntryMeta {
        vendor: "planningspace".into(),
        tenant: "ps.acme.example/ACME".into(),
        account: String::new(),
        key_name: "planted".into(),
        scopes: Vec::new(),
        created_at: 1,
        page_url: "https://ps.acme.example/ACME/PlanningSpace/#/generateApiKey".into(),
        notes: String::new(),
        state: EntryState::Active,
    };
    let sealed = seal_locked(&b.local, &MemoryStore::new(), &SecretString::new(key.into()), &meta).expect("sealed");
    b.local.apply(&sealed.changes).expect("planted");
}

#[test]
fn a_planted_entry_is_shown_as_foreign_and_kept_only_when_the_admin_confirms() {
    let mut b = Browser::new();
    b.setup();
    b.lock();
    assert!(saved(&b.show_and_capture(1, 1, KEY)), "a real capture while locked");
    plant(&mut b, "PLANTED-key-0123456789abcdefghijklmnopqrstuvwxyz");
    b.unlock();
    let status = b.status();
    let trust: BTreeMap<String, EntryTrust> = status.entries.iter().map(|e| (e.key_name.clone(), e.trust)).collect();
    assert_eq!(trust.get("planted"), Some(&EntryTrust::Foreign), "{trust:?}");
    assert_eq!(
        trust.values().filter(|t| **t == EntryTrust::Verified).count(),
        1,
        "our own capture is adopted: {trust:?}"
    );
    // Copying a foreign key works (the admin may want to look), but it stays foreign until confirmed.
    let planted = status.entries.iter().find(|e| e.key_name == "planted").unwrap().id.clone();
    assert_eq!(b.message(&popup(), json!({ "type": "adopt_entries", "ids": [planted] })), Reply::Done);
    let after = b.status();
    assert!(after.entries.iter().all(|e| e.trust == EntryTrust::Verified), "{:?}", after.entries);
}

#[test]
fn a_missing_index_raises_the_alarm_and_adopts_nothing_until_rebuilt() {
    let mut b = Browser::new();
    b.setup();
    b.lock();
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    b.local.remove("vault:index").expect("removed");
    b.unlock();
    let status = b.status();
    assert!(status.alarm.is_some(), "the popup shows an alarm");
    assert!(
        status.entries.iter().all(|e| e.trust != EntryTrust::Verified),
        "nothing adopted silently: {:?}",
        status.entries
    );
    assert_eq!(b.message(&popup(), json!({ "type": "rebuild_index" })), Reply::Done);
    assert!(b.status().alarm.is_none());
}

#[test]
fn export_and_share_ask_for_the_vault_passphrase_again() {
    let mut b = Browser::new();
    b.setup();
    b.show_and_capture(1, 1, KEY);
    let id = b.status().entries[0].id.clone();
    let wrong = b.options(json!({ "type": "export_backup", "passphrase": "a backup passphrase 42", "vault_passphrase": "not the passphrase" }));
    assert!(matches!(wrong, Reply::Error { code: ErrorCode::Refused, .. }), "{wrong:?}");
    assert!(b.local.get("vault:throttle").is_some(), "a wrong guess counts against the unlock throttle");
    let share = b.options(
        json!({ "type": "share_key", "id": id, "recipient": "age1qqqq", "vault_passphrase": "still wrong!!" }),
    );
    assert!(matches!(share, Reply::Error { code: ErrorCode::Refused, .. }), "{share:?}");
    b.now += 60 * 60 * 1000;
    let right =
        b.options(json!({ "type": "export_backup", "passphrase": "a backup passphrase 42", "vault_passphrase": PASS }));
    assert!(matches!(right, Reply::Armored { entries: 1, .. }), "{right:?}");
    // Copy stays one click.
    assert!(matches!(b.message(&popup(), json!({ "type": "copy_key", "id": id })), Reply::Key { .. }));
}

#[test]
fn a_passphrase_change_cut_short_by_a_full_storage_still_opens_with_one_passphrase() {
    const NEW: &str = "a whole new passphrase for the vault";
    let mut outcomes = Vec::new();
    for extra in [0usize, 200, 2_000, 4_000, 6_000, 10_000, 20_000, 1_000_000] {
        let mut b = Browser::new();
        b.setup();
        b.show_and_capture(1, 1, KEY);
        b.show_and_capture(2, 1, OTHER_KEY);
        b.local.set_quota(Some(b.local.bytes_in_use() + extra));
        let reply = b.options(json!({ "type": "change_passphrase", "old": PASS, "new": NEW }));
        outcomes.push(matches!(reply, Reply::Done));
        b.local.set_quota(None);
        b.lock();
        let old = b.unlock();
        let opened = if old == Reply::Done {
            true
        } else {
            b.now += 60 * 60 * 1000;
            b.message(&popup(), json!({ "type": "unlock", "passphrase": NEW })) == Reply::Done
        };
        assert!(opened, "extra {extra}: neither passphrase opens (change said {reply:?}, old said {old:?})");
        let status = b.status();
        assert_eq!(status.entries.len(), 2, "extra {extra}: {status:?}");
        assert!(status.damaged.is_empty(), "extra {extra}: {:?}", status.damaged);
    }
    assert!(
        outcomes.contains(&true) && outcomes.contains(&false),
        "some changes were cut short, some finished: {outcomes:?}"
    );
}

#[test]
fn a_storage_that_cannot_be_read_says_a_capture_was_not_saved() {
    let page = token_shown().model;
    let wire = json!({ "v": VERSION, "body": { "type": "capture", "seq": 1, "key": KEY } }).to_string();
    let capture = Event::Message(admit(&content_on(1, &page), wire.as_str()));
    let Reply::Error { code: ErrorCode::Internal, message } = Service::unreadable(&capture) else { panic!() };
    assert!(message.is("errStorageUnreadableKeyNotSaved") && message.args.is_empty(), "{message:?}");
    let Reply::Error { message, .. } = Service::unreadable(&Event::Alarm { name: AUTO_LOCK_ALARM.into() }) else {
        panic!()
    };
    assert!(message.is("errStorageUnreadable"), "{message:?}");
}

/// The last panel view pushed to `tab`.
fn last_panel(b: &Browser, tab: u32) -> Option<keywarden::engine::protocol::PanelView> {
    b.pushes.iter().rev().find_map(|(t, p)| match p {
        keywarden::engine::protocol::Push::Panel { view } if *t == tab => Some(view.clone()),
        _ => None,
    })?
}

#[test]
fn a_saved_capture_tells_the_panel_what_was_kept_and_only_a_kept_one_does() {
    // No vault: the report already says so, and a capture keeps nothing and tells the panel nothing.
    let mut b = Browser::restarting();
    b.report_token_shown(1, 1);
    assert!(last_panel(&b, 1).is_some_and(|v| v.needs_vault && v.saved.is_none()));
    let reply = b.capture(1, 1, KEY);
    assert!(matches!(reply, Reply::Captured { state: CaptureState::Received, .. }), "{reply:?}");
    assert!(last_panel(&b, 1).is_some_and(|v| v.saved.is_none()));
    // With a vault (read from storage by a restarted worker): the note names the entry and its hint.
    b.setup();
    b.report_token_shown(1, 2);
    assert!(last_panel(&b, 1).is_some_and(|v| !v.needs_vault));
    assert!(saved(&b.capture(1, 2, KEY)));
    let note = last_panel(&b, 1).and_then(|v| v.saved).expect("the note after a save");
    assert_eq!(note.hint, format!("…{}", &KEY[KEY.len() - 4..]));
    assert_eq!(note.vendor, "predicthq");
}

#[test]
fn dont_guide_me_is_kept_in_the_settings_across_restarts_and_the_options_bring_it_back() {
    // One worker while the panel's port is open (ports die with the worker), then a new one per event.
    let mut b = Browser::new();
    let page = token_list().model;
    let report = |b: &mut Browser, seq: u64| {
        let page = token_list().model;
        match b.message(&content_on(1, &page), json!({ "type": "report", "seq": seq, "page": page })) {
            Reply::Draw(d) => d.panel,
            other => panic!("{other:?}"),
        }
    };
    assert!(report(&mut b, 1));
    let nonce_hex = "0123456789abcdef0123456789abcdef";
    b.message(&content_on(1, &page), json!({ "type": "report", "seq": 2, "page": page, "panel": nonce_hex }));
    b.deliver(Event::PanelConnected { tab: 1, nonce: Some(nonce(nonce_hex)) });
    let panel = Sender::Page { page: ExtensionPage::Panel, tab: Some(1) };
    assert_eq!(b.message(&panel, json!({ "type": "panel", "event": "quiet" })), Reply::Done);
    let settings = b.local.get("settings").expect("settings written");
    assert_eq!(settings["quiet_vendors"], json!(["predicthq"]));
    b.restart_every_event = true;
    // Another tab, a new worker: still quiet.
    let other = token_list().model;
    match b.message(&content_on(2, &other), json!({ "type": "report", "seq": 1, "page": other })) {
        Reply::Draw(d) => assert!(!d.panel),
        r => panic!("{r:?}"),
    }
    let reply = b.options(json!({ "type": "set_guidance", "vendor": "predicthq", "on": true }));
    assert!(matches!(reply, Reply::Guidance { .. }), "{reply:?}");
    // (This visit stays dismissed; after a reload the walkthrough is back.)
    assert!(!report(&mut b, 3));
    assert!(report(&mut b, 1));
}

/// Delivers `event` and returns the icon the browser shows afterwards.
fn icon_after(b: &mut Browser, event: Event) -> Option<Icon> {
    b.deliver(event);
    b.icon
}

#[test]
fn the_toolbar_icon_follows_every_way_of_locking_and_unlocking() {
    for mut b in [Browser::new(), Browser::restarting()] {
        assert_eq!(icon_after(&mut b, Event::Started { install: true }), Some(Icon::Locked), "no vault yet");
        b.setup();
        assert_eq!(b.icon, Some(Icon::Unlocked), "set-up unlocks");
        b.lock();
        assert_eq!(b.icon, Some(Icon::Locked), "the popup's Lock");
        assert_eq!(b.unlock(), Reply::Done);
        assert_eq!(b.icon, Some(Icon::Unlocked), "unlock");
        assert_eq!(icon_after(&mut b, Event::Alarm { name: AUTO_LOCK_ALARM.into() }), Some(Icon::Locked), "auto-lock");
        b.unlock();
        assert_eq!(
            icon_after(&mut b, Event::Idle { state: IdleState::Idle }),
            Some(Icon::Unlocked),
            "idle is not locked"
        );
        assert_eq!(icon_after(&mut b, Event::Idle { state: IdleState::Locked }), Some(Icon::Locked), "system lock");
        b.unlock();
        let other = Event::Command { name: "something-else".into() };
        assert_eq!(icon_after(&mut b, other), Some(Icon::Unlocked), "another command locks nothing");
        let lock = Event::Command { name: LOCK_COMMAND.into() };
        assert_eq!(icon_after(&mut b, lock), Some(Icon::Locked), "the lock-now command");
        assert!(b.session_key.is_none());
    }
}

#[test]
fn a_wrong_passphrase_leaves_the_icon_locked() {
    let mut b = Browser::new();
    b.setup();
    b.lock();
    let reply = b.message(&popup(), json!({ "type": "unlock", "passphrase": "not the passphrase at all" }));
    assert!(matches!(reply, Reply::Error { .. }), "{reply:?}");
    assert_eq!(b.icon, Some(Icon::Locked));
}

#[test]
fn start_up_shows_the_icon_of_the_session_key_found() {
    // With the session key still in storage.session (a worker restart within the browser
    // session), the vault is unlocked; without it (a browser restart), locked.
    let mut b = Browser::new();
    b.setup();
    b.service = None;
    b.icon = None;
    assert_eq!(icon_after(&mut b, Event::Started { install: false }), Some(Icon::Unlocked));
    b.session_key = None;
    b.service = None;
    b.icon = None;
    assert_eq!(icon_after(&mut b, Event::Started { install: false }), Some(Icon::Locked));
}

#[test]
fn the_browser_icon_is_set_again_at_each_start_but_not_at_every_event() {
    let mut b = Browser::new();
    b.setup();
    let sets = b.icon_sets;
    b.status();
    b.report_token_shown(1, 1);
    assert_eq!(b.icon_sets, sets, "nothing changed: no icon call");
    // The browser shows the manifest's icon after a start, whatever the service last set.
    b.icon = None;
    assert_eq!(icon_after(&mut b, Event::Started { install: false }), Some(Icon::Unlocked));
}

#[test]
fn a_session_key_cleared_elsewhere_turns_the_icon_locked_at_the_next_event() {
    let mut b = Browser::new();
    b.setup();
    assert_eq!(b.icon, Some(Icon::Unlocked));
    b.session_key = None;
    assert_eq!(icon_after(&mut b, Event::TabRemoved { tab: 9 }), Some(Icon::Locked));
}

#[test]
fn a_damaged_session_key_is_cleared_and_shows_locked() {
    let mut b = Browser::new();
    b.setup();
    b.service = None;
    b.session_key = Some("not a session key".into());
    b.status();
    assert!(b.session_key.is_none(), "the unusable key is dropped");
    assert_eq!(b.icon, Some(Icon::Locked));
}

// ---------------------------------------------------------------------------
// The clipboard

fn digest_of(text: &str) -> ClipboardDigest {
    ClipboardDigest::of(text)
}

impl Browser {
    fn arm(&mut self, copied: &str) -> Reply {
        self.message(&popup(), json!({ "type": "arm_clipboard", "digest": digest_of(copied).as_str() }))
    }

    fn clears_in(&mut self, copied: &str) -> Option<u32> {
        match self.arm(copied) {
            Reply::Clipboard(ClipboardStatus { clears_in, .. }) => clears_in,
            other => panic!("{other:?}"),
        }
    }

    fn set_clipboard_clear(&mut self, seconds: u32) -> Reply {
        self.options(json!({ "type": "set_clipboard_clear", "seconds": seconds }))
    }

    fn clipboard_setting(&mut self) -> u32 {
        match self.message(&popup(), json!({ "type": "clipboard_status" })) {
            Reply::Clipboard(ClipboardStatus { clear_seconds, .. }) => clear_seconds,
            other => panic!("{other:?}"),
        }
    }

    fn pending_clear(&self) -> Option<PendingClear> {
        self.session.get(storage::CLIPBOARD).map(|v| serde_json::from_value(v).expect("a pending clear"))
    }

    fn fire(&mut self, alarm: &str) -> Reply {
        self.alarms.remove(alarm);
        self.deliver(Event::Alarm { name: alarm.into() })
    }

    fn last_job(&self) -> Option<&ClipboardJob> {
        self.clipboard_jobs.last()
    }
}

#[test]
fn a_copy_arms_a_clear_after_30_seconds_by_default_with_only_the_digest_kept() {
    let mut b = Browser::new();
    assert_eq!(b.clipboard_setting(), 30);
    assert_eq!(b.clears_in(KEY), Some(30));
    let armed_at = b.now;
    let pending = b.pending_clear().expect("recorded in storage.session");
    assert_eq!(pending, PendingClear { digest: digest_of(KEY), due_at: armed_at + 30_000 });
    assert_eq!(b.last_job(), Some(&ClipboardJob::Arm { digest: digest_of(KEY), due_at: armed_at + 30_000 }));
    assert_eq!(b.alarms.get(CLIPBOARD_ALARM), Some(&0.5));
    let stored = serde_json::to_string(b.session.items()).unwrap();
    assert!(!stored.contains(KEY), "the key itself is nowhere in storage.session: {stored}");

    b.now = armed_at + 30_000;
    b.fire(CLIPBOARD_ALARM);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Clear { only_if: Some(digest_of(KEY)) }));
    assert_eq!(b.pending_clear(), None);
    assert!(!b.alarms.contains_key(CLIPBOARD_ALARM));
}

#[test]
fn a_second_copy_re_arms_the_clear_for_the_new_text() {
    let mut b = Browser::new();
    b.clears_in(KEY);
    let first = b.pending_clear().unwrap();
    b.now += 20_000;
    assert_eq!(b.clears_in(OTHER_KEY), Some(30));
    let second = b.pending_clear().unwrap();
    assert_eq!(second.digest, digest_of(OTHER_KEY));
    assert_eq!(second.due_at, b.now + 30_000);
    assert!(second.due_at > first.due_at);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Arm { digest: digest_of(OTHER_KEY), due_at: second.due_at }));

    // The first copy's moment passes: nothing is due yet, the alarm is set again for the rest.
    b.now = first.due_at;
    let jobs = b.clipboard_jobs.len();
    b.fire(CLIPBOARD_ALARM);
    assert_eq!(b.clipboard_jobs.len(), jobs, "no clear before the second copy's time");
    assert!(b.alarms.contains_key(CLIPBOARD_ALARM));
    b.now = second.due_at;
    b.fire(CLIPBOARD_ALARM);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Clear { only_if: Some(digest_of(OTHER_KEY)) }));
}

#[test]
fn clear_now_clears_whatever_the_clipboard_holds_and_drops_the_pending_clear() {
    let mut b = Browser::new();
    b.clears_in(KEY);
    assert_eq!(b.message(&popup(), json!({ "type": "clear_clipboard" })), Reply::Done);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Clear { only_if: None }));
    assert_eq!(b.pending_clear(), None);
    assert!(!b.alarms.contains_key(CLIPBOARD_ALARM));
    // The alarm of the dropped clear, had it fired anyway, does nothing.
    let jobs = b.clipboard_jobs.len();
    b.now += 60_000;
    b.fire(CLIPBOARD_ALARM);
    assert_eq!(b.clipboard_jobs.len(), jobs);
    // With nothing pending, clearing is still asked of the device.
    assert_eq!(b.message(&popup(), json!({ "type": "clear_clipboard" })), Reply::Done);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Clear { only_if: None }));
}

#[test]
fn the_delay_is_the_options_page_s_to_choose_among_the_listed_choices() {
    let mut b = Browser::new();
    assert!(matches!(b.set_clipboard_clear(10), Reply::Clipboard(ClipboardStatus { clear_seconds: 10, .. })));
    assert_eq!(b.clipboard_setting(), 10);
    assert_eq!(b.clears_in(KEY), Some(10));
    assert_eq!(b.pending_clear().unwrap().due_at, b.now + 10_000);
    // Chrome fires no alarm sooner than 30 s: the device's timer clears at 10 s, the alarm after.
    assert_eq!(b.alarms.get(CLIPBOARD_ALARM), Some(&0.5));
    b.set_clipboard_clear(300);
    b.clears_in(KEY);
    assert_eq!(b.alarms.get(CLIPBOARD_ALARM), Some(&5.0));

    for refused in [1, 45, 600] {
        assert!(matches!(b.set_clipboard_clear(refused), Reply::Error { code: ErrorCode::Malformed, .. }), "{refused}");
    }
    let from_popup = b.message(&popup(), json!({ "type": "set_clipboard_clear", "seconds": 0 }));
    assert!(matches!(from_popup, Reply::Error { code: ErrorCode::Forbidden, .. }), "{from_popup:?}");
    assert_eq!(b.clipboard_setting(), 300);

    // Other settings leave it alone, and it outlives the worker.
    b.setup();
    assert!(matches!(b.options(json!({ "type": "set_auto_lock", "minutes": 7 })), Reply::Vault(_)));
    b.service = None;
    assert_eq!(b.clipboard_setting(), 300);
    assert_eq!(b.status().auto_lock_minutes, 7);
}

#[test]
fn a_stored_delay_that_is_not_a_choice_counts_as_the_default() {
    let mut b = Browser::new();
    b.local.insert(storage::SETTINGS, json!({ "auto_lock_minutes": 15, "clipboard_clear_seconds": 99999 }));
    assert_eq!(b.clipboard_setting(), 30);
    assert_eq!(b.clears_in(KEY), Some(30));
}

#[test]
fn a_worker_restarted_between_the_copy_and_the_clear_still_clears() {
    let mut b = Browser::restarting();
    b.set_clipboard_clear(60);
    assert_eq!(b.clears_in(KEY), Some(60));
    let due = b.pending_clear().unwrap().due_at;
    assert_eq!(b.alarms.get(CLIPBOARD_ALARM), Some(&1.0));
    // Unrelated events in between, each in a fresh worker.
    b.status();
    b.now = due - 5_000;
    b.fire(CLIPBOARD_ALARM);
    assert!(matches!(b.last_job(), Some(ClipboardJob::Arm { .. })), "not due yet: {:?}", b.last_job());
    b.now = due;
    b.fire(CLIPBOARD_ALARM);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Clear { only_if: Some(digest_of(KEY)) }));
    assert_eq!(b.pending_clear(), None);
}

#[test]
fn never_arms_nothing_and_cancels_an_earlier_clear() {
    let mut b = Browser::new();
    b.clears_in(KEY);
    b.set_clipboard_clear(0);
    assert_eq!(b.clears_in(OTHER_KEY), None);
    assert_eq!(b.last_job(), Some(&ClipboardJob::Cancel));
    assert_eq!(b.pending_clear(), None);
    assert!(!b.alarms.contains_key(CLIPBOARD_ALARM));
    let jobs = b.clipboard_jobs.len();
    assert_eq!(b.clears_in(KEY), None);
    assert_eq!(b.clipboard_jobs.len(), jobs, "nothing to cancel a second time");
    b.now += 10 * 60_000;
    b.fire(CLIPBOARD_ALARM);
    assert_eq!(b.clipboard_jobs.len(), jobs);
}

#[test]
fn only_a_digest_is_accepted_and_only_from_the_popup_or_options_page() {
    let mut b = Browser::new();
    for bad in [json!(KEY), json!("ABC"), json!(digest_of(KEY).as_str().to_uppercase()), json!(null)] {
        let reply = b.message(&popup(), json!({ "type": "arm_clipboard", "digest": bad }));
        assert!(matches!(reply, Reply::Error { code: ErrorCode::Malformed, .. }), "{bad}: {reply:?}");
    }
    let page = token_shown().model;
    let digest = digest_of(KEY);
    for body in [
        json!({ "type": "arm_clipboard", "digest": digest.as_str() }),
        json!({ "type": "clear_clipboard" }),
        json!({ "type": "set_clipboard_clear", "seconds": 0 }),
    ] {
        let reply = b.message(&content_on(1, &page), body.clone());
        assert!(matches!(reply, Reply::Error { code: ErrorCode::Forbidden, .. }), "{body}: {reply:?}");
    }
    assert!(b.clipboard_jobs.is_empty());
    assert_eq!(b.pending_clear(), None);
}

#[test]
fn a_deletion_can_be_undone_from_a_reopened_popup_and_a_restarted_worker_until_the_vault_locks() {
    let mut b = Browser::restarting();
    b.setup();
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    let id = b.status().entries[0].id.clone();
    let reply = b.message(&popup(), json!({ "type": "delete_entry", "id": id }));
    let Reply::Deleted { undo_until, .. } = reply else { panic!("{reply:?}") };
    assert!(undo_until > b.now);
    assert!(b.session.get(storage::TRASH).is_some(), "the deletion is kept in storage.session");
    assert!(!b.session.get(storage::TRASH).unwrap().to_string().contains(KEY), "sealed, never in clear");
    // The popup closed and opened again, served by a new worker: the deletion is still offered back.
    let status = b.status();
    assert!(status.entries.is_empty());
    assert_eq!(status.deleted.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    assert_eq!(b.message(&popup(), json!({ "type": "undo_delete", "id": id })), Reply::Done);
    assert_eq!(b.status().entries.len(), 1);
    assert!(b.session.get(storage::TRASH).is_none());

    // Deleted again, then the idle alarm locks the vault: the deletion is final.
    b.message(&popup(), json!({ "type": "delete_entry", "id": id }));
    b.deliver(Event::Alarm { name: AUTO_LOCK_ALARM.into() });
    assert!(b.session.get(storage::TRASH).is_none(), "locking forgets what could be undone");
    b.unlock();
    let refused = b.message(&popup(), json!({ "type": "undo_delete", "id": id }));
    assert!(matches!(refused, Reply::Error { code: ErrorCode::Refused, .. }), "{refused:?}");
    assert!(b.status().entries.is_empty());
}

#[test]
fn the_status_names_the_host_of_the_tab() {
    let mut b = Browser::new();
    b.report_token_shown(1, 1);
    let host = |b: &mut Browser, tab: u32| match b.message(&popup(), json!({ "type": "status", "tab": tab })) {
        Reply::Status { host, .. } => host,
        other => panic!("{other:?}"),
    };
    assert_eq!(host(&mut b, 1).as_deref(), Some("control.predicthq.com"));
    assert_eq!(host(&mut b, 2), None, "a tab that never reported");
}

#[test]
fn every_way_of_locking_takes_keywardens_copy_off_the_clipboard_only_if_it_is_still_there() {
    type Lock = (&'static str, fn(&mut Browser));
    let locks: [Lock; 4] = [
        ("the popup's Lock", |b| b.lock()),
        ("the lock-now command", |b| {
            b.deliver(Event::Command { name: LOCK_COMMAND.into() });
        }),
        ("the auto-lock alarm", |b| {
            b.fire(AUTO_LOCK_ALARM);
        }),
        ("the system locking", |b| {
            b.deliver(Event::Idle { state: IdleState::Locked });
        }),
    ];
    for (how, lock) in locks {
        for mut b in [Browser::new(), Browser::restarting()] {
            b.setup();
            assert_eq!(b.clears_in(KEY), Some(30));
            lock(&mut b);
            assert!(b.session_key.is_none(), "{how} locks");
            // The device clears only when the clipboard's digest is still the copied key's, so
            // text the admin copied since stays where it is.
            assert_eq!(b.last_job(), Some(&ClipboardJob::Clear { only_if: Some(digest_of(KEY)) }), "{how}");
            assert_eq!(b.pending_clear(), None, "{how}: nothing is left to clear");
            assert!(!b.alarms.contains_key(CLIPBOARD_ALARM), "{how}: the clear's alarm goes too");
        }
    }
}

#[test]
fn a_lock_with_nothing_copied_or_already_cleared_leaves_the_clipboard_alone() {
    let mut b = Browser::new();
    b.setup();
    b.lock();
    assert_eq!(b.last_job(), None, "nothing was copied");
    b.unlock();
    b.clears_in(KEY);
    b.now += 30_000;
    b.fire(CLIPBOARD_ALARM);
    let jobs = b.clipboard_jobs.len();
    b.lock();
    assert_eq!(b.clipboard_jobs.len(), jobs, "the copy was cleared already");
    // "Never" keeps no digest: the admin asked keywarden to leave the clipboard alone.
    b.unlock();
    b.set_clipboard_clear(0);
    assert_eq!(b.clears_in(KEY), None);
    let jobs = b.clipboard_jobs.len();
    b.lock();
    assert!(
        b.clipboard_jobs[jobs..].iter().all(|j| !matches!(j, ClipboardJob::Clear { .. })),
        "{:?}",
        b.clipboard_jobs
    );
}

/// What a worker started afresh would list over the same storage: the status no kept listing
/// may ever differ from.
fn fresh_status(b: &Browser) -> VaultStatus {
    let mut fresh = Browser { service: None, seen_items: None, generation: 0, ..b.clone_storage() };
    fresh.restart_every_event = true;
    fresh.status()
}

impl Browser {
    /// The same storage, session key and clock, without the service.
    fn clone_storage(&self) -> Browser {
        Browser {
            local: self.local.clone(),
            session: self.session.clone(),
            private: self.private.clone(),
            session_key: self.session_key.clone(),
            now: self.now,
            ..Browser::default()
        }
    }

    /// The popup's status, checked against a fresh worker's over the same storage.
    fn checked_status(&mut self, after: &str) -> VaultStatus {
        let expected = fresh_status(self);
        let status = self.status();
        assert_eq!(status, expected, "after {after}, the listing is the one storage holds now");
        status
    }

    fn first_id(&mut self) -> String {
        self.status().entries[0].id.clone()
    }
}

/// Flips one bit of the base64 field `field` of the item `key`, as a content script could.
fn flip(b: &mut Browser, key: &str, field: &str) {
    use base64::Engine;
    let e = base64::engine::general_purpose::STANDARD;
    let mut item = b.local.get(key).expect("item to flip");
    let mut bytes = e.decode(item[field].as_str().expect("a base64 field")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    item[field] = json!(e.encode(bytes));
    b.local.insert(key, item);
}

#[test]
fn a_second_status_with_nothing_changed_reuses_the_listing() {
    let mut b = Browser::new();
    b.setup();
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    assert!(saved(&b.show_and_capture(2, 1, OTHER_KEY)));
    let first = b.status();
    // The first listing may have refreshed the summaries; the one after lists them as stored.
    let settled = b.status();
    let taken = b.service.as_ref().unwrap().listings_taken();
    for _ in 0..3 {
        assert_eq!(b.status(), settled);
    }
    assert_eq!(b.service.as_ref().unwrap().listings_taken(), taken, "nothing changed: no listing taken again");
    assert_eq!(first.entries, settled.entries);
    // Copying one key reads that entry alone and takes no listing either.
    let id = settled.entries[0].id.clone();
    assert!(matches!(b.message(&popup(), json!({ "type": "copy_key", "id": id })), Reply::Key { .. }));
    assert_eq!(b.service.as_ref().unwrap().listings_taken(), taken);

    // Unlocking lists the vault once; the popup's list right after reuses that listing.
    b.lock();
    assert_eq!(b.unlock(), Reply::Done);
    let taken = b.service.as_ref().unwrap().listings_taken();
    assert_eq!(b.checked_status("an unlock").entries, settled.entries);
    assert_eq!(b.service.as_ref().unwrap().listings_taken(), taken, "the list after unlocking lists nothing again");
}

#[test]
fn the_popups_list_requests_with_nothing_changed_reuse_the_listing() {
    let mut b = Browser::new();
    b.setup();
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    assert!(saved(&b.show_and_capture(2, 1, OTHER_KEY)));
    // The first listing may have refreshed the summaries; the one after lists them as stored.
    list(&mut b, 1, "", 100, None);
    let settled = list(&mut b, 1, "", 100, None);
    let taken = b.service.as_ref().unwrap().listings_taken();
    for query in ["", "p", "pr", "predicthq", "nothing like it"] {
        list(&mut b, 1, query, 100, None);
    }
    assert_eq!(list(&mut b, 1, "", 100, None), settled);
    assert_eq!(b.service.as_ref().unwrap().listings_taken(), taken, "keystrokes take no listing again");
    // After a change the next list sees it.
    assert!(saved(&b.show_and_capture(3, 1, &format!("{}x", &KEY[..KEY.len() - 1]))));
    assert_eq!(list(&mut b, 1, "", 100, None).total, settled.total + 1);
}

#[test]
fn no_kept_listing_survives_any_kind_of_change() {
    const NEW: &str = "a whole new passphrase for the vault";
    let mut b = Browser::new();
    b.setup();
    b.checked_status("setup");
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    b.checked_status("a save");
    assert!(saved(&b.show_and_capture(2, 1, OTHER_KEY)));
    let status = b.checked_status("a second save");
    assert_eq!(status.entries.len(), 2);
    b.checked_status("nothing");
    let id = b.first_id();

    let rename = b.message(&popup(), json!({ "type": "rename_entry", "id": id, "name": "renamed" }));
    assert_eq!(rename, Reply::Done);
    let status = b.checked_status("a rename");
    assert!(status.entries.iter().any(|e| e.key_name == "renamed"), "{:?}", status.entries);

    let notes = b.message(&popup(), json!({ "type": "set_entry_notes", "id": id, "notes": "rotated monthly" }));
    assert_eq!(notes, Reply::Done);
    assert!(b.checked_status("new notes").entries.iter().any(|e| e.notes == "rotated monthly"));

    let revoke = b.message(&popup(), json!({ "type": "set_entry_state", "id": id, "state": "revoked" }));
    assert_eq!(revoke, Reply::Done);
    b.checked_status("a revocation");

    let deleted = b.message(&popup(), json!({ "type": "delete_entry", "id": id }));
    assert!(matches!(deleted, Reply::Deleted { .. }), "{deleted:?}");
    let status = b.checked_status("a deletion");
    assert_eq!((status.entries.len(), status.deleted.len()), (1, 1));
    assert_eq!(b.message(&popup(), json!({ "type": "undo_delete", "id": id })), Reply::Done);
    let status = b.checked_status("an undone deletion");
    assert_eq!((status.entries.len(), status.deleted.len()), (2, 0));

    // A backup of the two keys, both deleted, then imported back.
    let backup =
        b.options(json!({ "type": "export_backup", "passphrase": "a backup passphrase 42", "vault_passphrase": PASS }));
    let Reply::Armored { text, .. } = backup else { panic!("{backup:?}") };
    for entry in b.status().entries {
        b.message(&popup(), json!({ "type": "delete_entry", "id": entry.id }));
    }
    assert!(b.checked_status("deleting every key").entries.is_empty());
    let imported = b.options(json!({ "type": "import_backup", "text": text, "passphrase": "a backup passphrase 42" }));
    assert!(matches!(imported, Reply::Imported { imported: 2, .. }), "{imported:?}");
    assert_eq!(b.checked_status("an import").entries.len(), 2);

    b.lock();
    assert!(b.checked_status("a lock").entries.is_empty(), "a locked vault lists nothing");
    assert_eq!(b.unlock(), Reply::Done);
    assert_eq!(b.checked_status("an unlock").entries.len(), 2);

    let changed = b.options(json!({ "type": "change_passphrase", "old": PASS, "new": NEW }));
    assert_eq!(changed, Reply::Done);
    assert_eq!(b.checked_status("a passphrase change").entries.len(), 2);

    // Changes made from outside the worker: a flipped byte, a planted entry, a removed item, a
    // damaged summary chunk.
    let id = b.first_id();
    flip(&mut b, &format!("entry:{id}"), "age");
    let status = b.checked_status("a flipped byte in an entry");
    assert_eq!(status.damaged.len(), 1, "{:?}", status.damaged);
    assert_eq!(status.entries.len(), 1);
    b.local.insert(&format!("entry:{id}"), json!("not an entry"));
    assert_eq!(b.checked_status("an entry overwritten").damaged.len(), 1);
    b.local.remove(&format!("entry:{id}")).unwrap();
    let status = b.checked_status("an entry removed");
    assert!(status.damaged.is_empty());
    assert_eq!(status.entries.len(), 1);
    plant(&mut b, "PLANTED-key-0123456789abcdefghijklmnopqrstuvwxyz");
    let status = b.checked_status("a planted entry");
    assert!(status.entries.iter().any(|e| e.trust == EntryTrust::Foreign), "{:?}", status.entries);
    let chunk = b.local.keys_with_prefix("vault:summaries:").into_iter().next().expect("a summary chunk");
    flip(&mut b, &chunk, "ciphertext");
    b.checked_status("a flipped byte in a summary chunk");
    b.local.remove("vault:index").unwrap();
    assert!(b.checked_status("the index removed").alarm.is_some());
}

#[test]
fn a_status_served_by_a_kept_listing_still_follows_a_lock_elsewhere() {
    let mut b = Browser::new();
    b.setup();
    assert!(saved(&b.show_and_capture(1, 1, KEY)));
    assert_eq!(b.status().entries.len(), 1);
    // The options page locked in another context: the session key is gone, the items are not.
    b.session_key = None;
    let status = b.status();
    assert!(!status.unlocked && status.entries.is_empty(), "{status:?}");
    assert_eq!(b.unlock(), Reply::Done);
    assert_eq!(b.checked_status("an unlock after a lock elsewhere").entries.len(), 1);
}

#[test]
fn a_rehearsal_draws_every_fixed_key_page_and_leaves_the_service_as_it_was() {
    let service = Service::builtin();
    let replies = service.rehearse(|sender, text| admit(sender, text).ok());
    assert_eq!(replies.len(), 2, "PredictHQ and Predictive Index have a fixed key page");
    for reply in &replies {
        assert!(matches!(reply, Reply::Draw(_)), "the sample report was refused: {reply:?}");
    }
    // The rehearsal used no tab of the service's own: tab 0 has no status, and no panel lives.
    assert!(service.live_panels().is_empty());
    let mut b = Browser { service: Some(service), ..Browser::default() };
    let popup_of_tab = Sender::Page { page: ExtensionPage::Popup, tab: Some(0) };
    match b.message(&popup_of_tab, json!({ "type": "status", "tab": 0 })) {
        Reply::Status { tab, host, .. } => assert!(tab.is_none() && host.is_none(), "tab 0 is known: {tab:?} {host:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_a_draw_without_a_key_is_answered_before_the_writes() {
    let mut b = Browser::new();
    b.setup();
    b.report_token_shown(1, 1);
    assert!(
        matches!(&b.early, Some(Reply::Draw(d)) if d.capture.is_some()),
        "a report's draw goes first: {:?}",
        b.early
    );
    let reply = b.capture(1, 1, KEY);
    assert!(saved(&reply), "{reply:?}");
    assert!(b.early.is_none(), "a capture's reply waits for its write: {:?}", b.early);
    // A full storage turns the reply into an error, which was never sent ahead either.
    b.report_token_shown(1, 2);
    b.local.set_quota(Some(b.local.bytes_in_use() + 10));
    let refused = b.capture(1, 2, OTHER_KEY);
    assert!(matches!(refused, Reply::Error { code: ErrorCode::StorageFull, .. }), "{refused:?}");
    assert!(b.early.is_none(), "{:?}", b.early);
    b.local.set_quota(None);
    b.status();
    assert!(b.early.is_none(), "the popup's status waits for the writes: {:?}", b.early);
}
