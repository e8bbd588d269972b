//! The service worker's brain: per-tab state, and the reply and pushes for every authorized request.

use crate::engine::detect::key_on_screen;
use crate::engine::page::{Location, PageModel, SecretShape};
use crate::engine::protocol::{
    CaptureMark, CaptureState, ContentRequest, Draw, DriftEvent, ErrorCode, FieldMark, Mark, PageRequest, PanelNonce,
    PanelRequest, PanelView, Pill, Push, Reply, SelfHostedVendor, TabStatus,
};
use crate::engine::recipe::{Catalog, FieldName, Server, ServerError, Step};
use crate::engine::recognize::{describe, recognize, Recognition, Scene};
use crate::engine::secret::SecretString;
use crate::engine::walkthrough::{visit_of, Event, Progress, SavedNote};
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::collections::{BTreeMap, HashMap};

/// How long a recognized page may lack its step's target before the panel says so.
pub const MISSING_GRACE_MS: u64 = 4000;
/// Longest metadata value accepted with a capture.
pub const MAX_FIELD: usize = 200;
/// Most drift events kept.
const MAX_DRIFT: usize = 50;

/// What one tab last reported and what the admin did with the walkthrough there; kept in
/// `storage.session` (`tab:<id>`) so a restarted worker carries on where it stopped. Holds no
/// secret: key-like text reaches the worker only as an outline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TabRecord {
    seq: u64,
    host: String,
    model: Option<PageModel>,
    progress: Progress,
    /// A step whose target is missing on the recognized page.
    missing: Option<Missing>,
    /// The step-panel frame the content script last said it created.
    panel: Option<PanelNonce>,
}

type Tab = TabRecord;

/// A step target absent from a recognized page: since when, and whether it was logged as drift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Missing {
    step: String,
    since: u64,
    logged: bool,
}

/// A key the admin handed over, checked against the vendor's recipe, with what is known about it.
#[derive(Debug, PartialEq)]
pub struct CapturedKey {
    pub secret: SecretString,
    pub vendor: String,
    pub host: String,
    /// The tenant the key belongs to, per the recipe (the host, or server plus first path segment).
    pub tenant: String,
    pub page_url: String,
    pub fields: BTreeMap<FieldName, String>,
    /// The vendor keeps one key per account: this one retires the previous one.
    pub replaces_previous: bool,
}

/// What the toolbar badge of a tab says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Badge {
    /// Nothing: keywarden has nothing to offer here.
    None,
    /// A vendor console keywarden can guide on.
    Guide,
    /// A key is on screen and not saved yet.
    Key,
}

/// A reply to the sender, messages to push to tabs, and a captured key for the vault. What changed
/// in the controller's own state is collected apart ([`Controller::take_changes`]).
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub reply: Reply,
    pub pushes: Vec<(u32, Push)>,
    pub captured: Option<CapturedKey>,
    /// The admin switched a vendor's walkthrough off (`false`) or on again: the service keeps it
    /// in the settings.
    pub guidance: Option<(String, bool)>,
    /// Open the options page (vault setup).
    pub open_options: bool,
}

/// What changed in the controller since the last [`Controller::take_changes`], to persist.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Tabs whose record changed (or went away).
    pub tabs: BTreeSet<u32>,
    pub drift: bool,
    pub servers: bool,
}

impl Outcome {
    fn reply(reply: Reply) -> Self {
        Outcome { reply, pushes: Vec::new(), captured: None, guidance: None, open_options: false }
    }

    fn error(code: ErrorCode, message: Words) -> Self {
        Outcome::reply(Reply::Error { code, message })
    }
}

/// Everything the worker decides, with no browser in sight.
pub struct Controller {
    catalog: Catalog,
    tabs: HashMap<u32, Tab>,
    drift: Vec<DriftEvent>,
    changes: Changes,
    /// Vendors whose walkthrough the admin asked not to see by itself (from the settings).
    quiet: BTreeSet<String>,
    /// Whether a vault is set up (from storage), so a key shown now can be kept.
    vault_set_up: bool,
    /// Toolbar badges decided since the last [`Controller::take_badges`].
    badges: Vec<(u32, Badge)>,
}

/// The view of one tab: what to draw there and what its panel shows.
struct View {
    draw: Draw,
    panel: Option<PanelView>,
    status: Option<TabStatus>,
}

/// The scene of `model`, with what this tab showed of the host's vendor a short while before `now`.
fn scene_of<'m>(catalog: &Catalog, progress: &Progress, model: &'m PageModel, now: Option<u64>) -> Option<Scene<'m>> {
    let location = model.validate().ok()?;
    let memory = catalog.for_host(&location.host).map(|r| progress.recall(&r.vendor.id, now)).unwrap_or_default();
    Some(Scene::new(model, location).remembering(memory))
}

/// What the panel says right after a save: what was kept, and what comes next.
fn saved_view(rec: &Recognition<'_>, note: &SavedNote) -> PanelView {
    let vendor = &rec.recipe.vendor;
    PanelView {
        vendor: vendor.id.clone(),
        vendor_name: vendor.name.clone(),
        step: "saved".into(),
        title: format!("Saved: {} {}", note.name, note.hint),
        body: format!(
            "The {} is in your keywarden vault as \u{201c}{}\u{201d}. Next: test it and use it from the keywarden popup, where one click copies it.",
            rec.recipe.key.label, note.name
        ),
        why: None,
        position: 0,
        total: 0,
        can_back: false,
        warning: None,
        prerequisites: Vec::new(),
        missing: false,
        can_next: false,
        needs_vault: false,
        key_label: rec.recipe.key.label.clone(),
        saved: Some(note.clone()),
    }
}

fn panel_view(rec: &Recognition<'_>, step: &Step, can_back: bool, can_next: bool, missing: bool) -> PanelView {
    let (position, total) = rec.recipe.position(&step.id);
    let (title, body) = if missing {
        let what = step.target.first().map(describe).unwrap_or_default();
        let body = step.missing.clone().unwrap_or_else(|| {
            format!(
                "keywarden expected {what} here but cannot see it; {} may have changed this page. What to do: {}",
                rec.recipe.vendor.name, step.body
            )
        });
        (format!("Not found: {}", step.title), body)
    } else {
        (step.title.clone(), step.body.clone())
    };
    PanelView {
        vendor: rec.recipe.vendor.id.clone(),
        vendor_name: rec.recipe.vendor.name.clone(),
        step: step.id.clone(),
        title,
        body,
        why: step.why.clone(),
        position: position as u32,
        total: total as u32,
        can_back,
        warning: step.warning.clone(),
        prerequisites: rec.recipe.prerequisites.clone(),
        missing,
        can_next,
        needs_vault: false,
        key_label: rec.recipe.key.label.clone(),
        saved: None,
    }
}

/// Does `key` have the outline the report gave for element `at`, the key beside the save control?
fn outline_matches(model: &PageModel, at: usize, key: &str) -> bool {
    model.elements.get(at).and_then(|e| e.secret.as_ref()).is_some_and(|shown| *shown == SecretShape::of(key))
}

impl Controller {
    pub fn new(catalog: Catalog) -> Self {
        Controller {
            catalog,
            tabs: HashMap::new(),
            drift: Vec::new(),
            changes: Changes::default(),
            quiet: BTreeSet::new(),
            vault_set_up: false,
            badges: Vec::new(),
        }
    }

    /// The toolbar badges decided since the last call, latest per tab.
    pub fn take_badges(&mut self) -> Vec<(u32, Badge)> {
        let mut latest: BTreeMap<u32, Badge> = BTreeMap::new();
        for (tab, badge) in self.badges.drain(..) {
            latest.insert(tab, badge);
        }
        latest.into_iter().collect()
    }

    /// What the controller reads from storage before each event: the vendors the admin silenced
    /// and whether a vault is set up.
    pub fn set_context(&mut self, quiet: BTreeSet<String>, vault_set_up: bool) {
        self.quiet = quiet;
        self.vault_set_up = vault_set_up;
    }

    /// Every vendor, and whether its walkthrough appears by itself.
    pub fn guidance(&self) -> Vec<crate::engine::protocol::Guidance> {
        self.catalog
            .recipes
            .iter()
            .map(|r| crate::engine::protocol::Guidance {
                vendor: r.vendor.id.clone(),
                name: r.vendor.name.clone(),
                on: !self.quiet.contains(&r.vendor.id),
            })
            .collect()
    }

    /// A key from `tab` was sealed into the vault as `name`: the panel says so (then closes),
    /// the guided walkthrough ends. Returns the pushes that redraw the tab.
    pub fn saved(&mut self, tab: u32, vendor: &str, name: String, hint: String, now: u64) -> Vec<(u32, Push)> {
        let Some(state) = self.tabs.get_mut(&tab) else { return Vec::new() };
        let vendor = vendor.to_string();
        let visit = state.model.as_ref().map(|m| visit_of(&m.url)).unwrap_or_default();
        let recipe = self.catalog.recipes.iter().find(|r| r.vendor.id == vendor);
        let label = recipe.map(|r| r.key.label.clone()).unwrap_or_default();
        // The key is kept: the tab no longer "just generated" one.
        if let Some(r) = recipe {
            state.progress.forget(&vendor, &r.key.generated_by);
        }
        state.progress.saved(SavedNote { vendor, name, hint, label, visit });
        self.changes.tabs.insert(tab);
        self.refresh(tab, now)
    }

    /// The walkthrough progress of a tab.
    pub fn progress(&self, tab: u32) -> Option<&Progress> {
        self.tabs.get(&tab).map(|t| &t.progress)
    }

    /// Restores a tab's walkthrough progress (the rest of its record comes with its next report).
    pub fn restore(&mut self, tab: u32, progress: Progress) {
        self.tabs.entry(tab).or_default().progress = progress;
    }

    /// Whether this run of the worker knows `tab` (else its record is restored from storage).
    pub fn knows_tab(&self, tab: u32) -> bool {
        self.tabs.contains_key(&tab)
    }

    /// The host of `tab`'s page, as its content script last reported it.
    pub fn tab_host(&self, tab: u32) -> Option<&str> {
        self.tabs.get(&tab).map(|t| t.host.as_str())
    }

    /// A tab's record, to persist across worker restarts.
    pub fn tab_record(&self, tab: u32) -> Option<&TabRecord> {
        self.tabs.get(&tab)
    }

    /// Restores a tab's record saved by an earlier run of the worker.
    pub fn restore_tab(&mut self, tab: u32, record: TabRecord) {
        self.tabs.insert(tab, record);
    }

    /// The step-panel frame the content script of `tab` last reported creating.
    pub fn panel_nonce(&self, tab: u32) -> Option<&PanelNonce> {
        self.tabs.get(&tab).and_then(|t| t.panel.as_ref())
    }

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Steps whose targets went missing on recognized pages, newest last, to persist and list.
    pub fn drift_events(&self) -> &[DriftEvent] {
        &self.drift
    }

    /// Restores drift events saved by an earlier run of the worker.
    pub fn restore_drift(&mut self, mut events: Vec<DriftEvent>) {
        let skip = events.len().saturating_sub(MAX_DRIFT);
        events.drain(..skip);
        self.drift = events;
    }

    /// The recipes and servers this controller works with.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The servers the admin added for self-hosted products, to persist.
    pub fn servers(&self) -> &[Server] {
        &self.catalog.servers
    }

    /// Restores servers saved by an earlier run; entries that no longer validate are dropped.
    pub fn restore_servers(&mut self, servers: Vec<Server>) {
        for s in &self.catalog.servers.clone() {
            self.catalog.remove_server(&s.host);
        }
        for s in servers {
            // A server that no longer validates (its product was dropped, say) is left out; an
            // address that does not check out leaves only the host known.
            let added = if Location::parse(&s.address).is_ok_and(|l| l.host == s.host) {
                self.catalog.add_server_at(&s.vendor, &s.address)
            } else {
                self.catalog.add_server(&s.vendor, &s.host)
            };
            if added.is_err() {
                continue;
            }
        }
    }

    fn servers_reply(&self) -> Reply {
        let vendors = self
            .catalog
            .recipes
            .iter()
            .filter(|r| r.vendor.self_hosted)
            .map(|r| SelfHostedVendor { id: r.vendor.id.clone(), name: r.vendor.name.clone() })
            .collect();
        Reply::Servers { vendors, servers: self.catalog.servers.clone() }
    }

    pub fn forget_tab(&mut self, tab: u32) {
        self.tabs.remove(&tab);
        self.changes.tabs.insert(tab);
    }

    /// What the step panel of `tab` shows now.
    pub fn panel_view(&mut self, tab: u32, now: u64) -> Option<PanelView> {
        self.view(tab, now).and_then(|v| v.panel)
    }

    fn log_drift(drift: &mut Vec<DriftEvent>, rec: &Recognition<'_>, step: &str, now: u64) {
        let (vendor, page) = (&rec.recipe.vendor.id, &rec.page.id);
        match drift.iter().position(|d| d.vendor == *vendor && d.page == *page && d.step == step) {
            Some(i) => {
                let mut event = drift.remove(i);
                event.count = event.count.saturating_add(1);
                event.at = now;
                drift.push(event);
            }
            None => {
                if drift.len() == MAX_DRIFT {
                    drift.remove(0);
                }
                drift.push(DriftEvent {
                    vendor: vendor.clone(),
                    page: page.clone(),
                    step: step.into(),
                    at: now,
                    count: 1,
                });
            }
        }
    }

    fn view(&mut self, tab: u32, now: u64) -> Option<View> {
        let catalog = &self.catalog;
        let state = self.tabs.get_mut(&tab)?;
        // Entering a page and noticing a missing target both change the record.
        self.changes.tabs.insert(tab);
        let model = state.model.as_ref()?;
        let scene = scene_of(catalog, &state.progress, model, Some(now))?;
        let rec = recognize(catalog, &scene);
        state.progress.enter(rec.as_ref());
        let visit = visit_of(&model.url);
        state.progress.visit(&visit);
        let mut draw = Draw { seq: state.seq, ..Draw::default() };
        let Some(rec) = rec else {
            state.missing = None;
            self.badges.push((tab, Badge::None));
            return Some(View { draw, panel: None, status: None });
        };
        let key = &rec.recipe.key;
        let vendor = &rec.recipe.vendor;
        let mut badge = Badge::Guide;
        if let Some((step, copy, at)) = key_on_screen(&rec, &scene) {
            let guards = step.guard.iter().filter_map(|m| scene.find(m, key)).map(|i| i as u32).collect();
            draw.capture = Some(CaptureMark {
                key: at as u32,
                copy: Some(copy as u32),
                vendor: vendor.id.clone(),
                label: key.label.clone(),
                guards,
                vault: self.vault_set_up,
            });
            if state.progress.saved.is_none() {
                badge = Badge::Key;
            }
        }
        draw.fields = rec
            .page
            .fields
            .iter()
            .filter_map(|f| {
                scene.find_any(&f.target, key).map(|i| FieldMark { name: f.name, element: i as u32, read: f.read })
            })
            .collect();
        let wanted = state.progress.wanted(&rec, &visit, self.quiet.contains(&vendor.id));
        let current = if wanted { state.progress.current(&rec, &scene) } else { None };
        let mut newly_missing = None;
        let panel = match (&state.progress.saved, current) {
            (Some(note), _) if note.vendor == vendor.id => {
                state.missing = None;
                Some(saved_view(&rec, note))
            }
            (_, Some(c)) => {
                state.missing = None;
                draw.highlight =
                    Some(Mark { element: c.target as u32, vendor: vendor.id.clone(), step: c.step.id.clone() });
                Some(panel_view(&rec, c.step, c.can_back, c.can_next, false))
            }
            _ if !wanted => {
                state.missing = None;
                None
            }
            _ => {
                // Nothing to point at: is a step of this page expected but absent?
                let absent = rec
                    .page
                    .steps
                    .iter()
                    .find(|s| !state.progress.acked.contains(&s.id) && scene.find_any(&s.target, key).is_none());
                match absent {
                    None => {
                        state.missing = None;
                        None
                    }
                    Some(step) => {
                        let missing = match &mut state.missing {
                            Some(m) if m.step == step.id => m,
                            slot => slot.insert(Missing { step: step.id.clone(), since: now, logged: false }),
                        };
                        let waited = now.saturating_sub(missing.since);
                        if waited >= MISSING_GRACE_MS {
                            // A step with a `missing` note anticipates its target being absent
                            // (a closed menu, a lacking role): explained, but not vendor drift.
                            if !missing.logged && step.missing.is_none() {
                                missing.logged = true;
                                newly_missing = Some(step.id.clone());
                            }
                            Some(panel_view(&rec, step, false, false, true))
                        } else {
                            draw.recheck_ms = Some((MISSING_GRACE_MS - waited) as u32);
                            None
                        }
                    }
                }
            }
        };
        let panel = panel.map(|mut p| {
            p.needs_vault = p.saved.is_none() && !self.vault_set_up;
            p
        });
        draw.panel = panel.is_some();
        draw.pill = panel.as_ref().map(|p| Pill {
            vendor_name: p.vendor_name.clone(),
            position: p.position,
            total: p.total,
            saved: p.saved.is_some(),
        });
        let status = Some(TabStatus {
            vendor: vendor.id.clone(),
            vendor_name: vendor.name.clone(),
            step_title: panel.as_ref().map(|p| p.title.clone()),
            dismissed: state.progress.dismissed.as_deref() == Some(visit.as_str()),
            guiding: state.progress.guide.as_ref() == Some(&vendor.id),
            key_page: rec.page.key_page,
            quiet: self.quiet.contains(&vendor.id),
        });
        if let Some(step) = newly_missing {
            Self::log_drift(&mut self.drift, &rec, &step, now);
            self.changes.drift = true;
        }
        self.badges.push((tab, badge));
        Some(View { draw, panel, status })
    }

    /// The draw for the content script and the panel update, as pushes to `tab`.
    fn refresh(&mut self, tab: u32, now: u64) -> Vec<(u32, Push)> {
        match self.view(tab, now) {
            Some(v) => vec![(tab, Push::Draw(v.draw)), (tab, Push::Panel { view: v.panel })],
            None => Vec::new(),
        }
    }

    /// Answers a content script in the top frame of `tab`, on `url`; `now` is Unix ms.
    pub fn content(&mut self, tab: u32, url: &str, request: ContentRequest, now: u64) -> Outcome {
        let sender_host = Location::parse(url).map(|l| l.host).ok();
        match request {
            ContentRequest::Report { seq, page, panel } => {
                let location = match page.validate() {
                    Ok(l) => l,
                    Err(e) => return Outcome::error(ErrorCode::Malformed, e.words()),
                };
                if sender_host.as_deref() != Some(location.host.as_str()) {
                    return Outcome::error(ErrorCode::Forbidden, words!("errReportOtherSite"));
                }
                let state = self.tabs.entry(tab).or_default();
                // Numbers start again in a new document (a reload, a full navigation): a new visit.
                if state.model.is_some() && seq <= state.seq {
                    state.progress.new_document();
                }
                state.seq = seq;
                state.host = location.host;
                state.model = Some(page);
                state.panel = panel;
                let view = self.view(tab, now).expect("model just stored");
                Outcome {
                    pushes: vec![(tab, Push::Panel { view: view.panel })],
                    ..Outcome::reply(Reply::Draw(view.draw))
                }
            }
            ContentRequest::Capture { seq, key, fields } => match sender_host {
                Some(host) => self.capture(tab, &host, seq, key, fields),
                None => Outcome::error(ErrorCode::Forbidden, words!("errCaptureNotHttps")),
            },
            ContentRequest::Dismiss { seq } => match self.tabs.get(&tab) {
                Some(state) if state.seq == seq => self.step_event(tab, Event::Dismiss, now),
                _ => Outcome::reply(Reply::Done),
            },
            ContentRequest::OpenSetup => Outcome { open_options: true, ..Outcome::reply(Reply::Done) },
            ContentRequest::Pressed { seq, element } => {
                self.pressed(tab, seq, element as usize, now);
                Outcome::reply(Reply::Done)
            }
        }
    }

    /// The admin clicked element `element` of report `seq` in `tab`: every step of the recognized
    /// page that points at it was performed, and the tab remembers it (a user just created, a key
    /// just generated). A click on a stale report, or on nothing a step points at, is forgotten.
    fn pressed(&mut self, tab: u32, seq: u64, element: usize, now: u64) {
        let catalog = &self.catalog;
        let Some(state) = self.tabs.get_mut(&tab) else { return };
        let Some(model) = state.model.as_ref().filter(|_| state.seq == seq) else { return };
        if element >= model.elements.len() {
            return;
        }
        let Some(scene) = scene_of(catalog, &state.progress, model, Some(now)) else { return };
        let Some(rec) = recognize(catalog, &scene) else { return };
        let performed: Vec<&str> = rec
            .page
            .steps
            .iter()
            .filter(|s| scene.find_any(&s.target, &rec.recipe.key) == Some(element))
            .map(|s| s.id.as_str())
            .collect();
        if !performed.is_empty() {
            state.progress.remember(&rec.recipe.vendor.id, performed, now);
            self.changes.tabs.insert(tab);
        }
    }

    /// Answers the step panel of `tab` (its size is the service's business: it knows the live frame).
    pub fn panel(&mut self, tab: u32, request: PanelRequest, now: u64) -> Outcome {
        match request {
            PanelRequest::Panel { event } => self.step_event(tab, event.into(), now),
            PanelRequest::Fit { .. } => Outcome::reply(Reply::Done),
        }
    }

    fn step_event(&mut self, tab: u32, event: Event, now: u64) -> Outcome {
        let Some(state) = self.tabs.get_mut(&tab) else {
            return Outcome::error(ErrorCode::Unexpected, words!("errNoPageYet"));
        };
        let model = state.model.as_ref();
        let scene = model.and_then(|m| scene_of(&self.catalog, &state.progress, m, Some(now)));
        let rec = scene.as_ref().and_then(|s| recognize(&self.catalog, s));
        let visit = model.map(|m| visit_of(&m.url));
        let changed = match (event, self.catalog.for_host(&state.host)) {
            // Asked for from the popup: the vendor is the site's, even while the page is still
            // loading and not recognized yet.
            (Event::Resume, Some(recipe)) => {
                let before = state.progress.clone();
                state.progress.guide(&recipe.vendor.id);
                state.progress != before
            }
            (Event::Resume, None) => return Outcome::error(ErrorCode::Unexpected, words!("errNoWalkthrough")),
            _ => state.progress.apply(event, rec.as_ref(), scene.as_ref(), visit.as_deref()),
        };
        let guidance = match (event, &rec) {
            (Event::Quiet, Some(rec)) => {
                self.quiet.insert(rec.recipe.vendor.id.clone());
                Some((rec.recipe.vendor.id.clone(), false))
            }
            _ => None,
        };
        let pushes = if changed {
            self.changes.tabs.insert(tab);
            self.refresh(tab, now)
        } else {
            Vec::new()
        };
        Outcome { pushes, guidance, ..Outcome::reply(Reply::Done) }
    }

    /// Answers the walkthrough part of what the popup and options page ask (the service sends
    /// vault requests to the keeper). `captures_saved` is the count the popup shows.
    pub fn page(&mut self, request: PageRequest, captures_saved: u32, now: u64) -> Outcome {
        match request {
            PageRequest::Resume { tab } => self.step_event(tab, Event::Resume, now),
            PageRequest::Servers => Outcome::reply(self.servers_reply()),
            PageRequest::Guidance => Outcome::reply(Reply::Guidance { vendors: self.guidance() }),
            PageRequest::SetGuidance { vendor, on } => {
                if !self.catalog.recipes.iter().any(|r| r.vendor.id == vendor) {
                    return Outcome::error(ErrorCode::Malformed, words!("errNoSuchVendor"));
                }
                if on {
                    self.quiet.remove(&vendor);
                } else {
                    self.quiet.insert(vendor.clone());
                }
                Outcome { guidance: Some((vendor, on)), ..Outcome::reply(Reply::Guidance { vendors: self.guidance() }) }
            }
            PageRequest::AddServer { vendor, url } => match self.catalog.add_server_at(&vendor, &url) {
                Ok(_) => {
                    self.changes.servers = true;
                    Outcome::reply(self.servers_reply())
                }
                Err(e @ ServerError::BadAddress) => Outcome::error(ErrorCode::Malformed, e.words()),
                Err(e) => Outcome::error(ErrorCode::Unexpected, e.words()),
            },
            PageRequest::RemoveServer { host } => {
                if self.catalog.remove_server(&host) {
                    self.changes.servers = true;
                }
                Outcome::reply(self.servers_reply())
            }
            PageRequest::Status { tab } => {
                let status = tab.and_then(|t| self.view(t, now)).and_then(|v| v.status);
                let host = tab.and_then(|t| self.tabs.get(&t)).map(|s| s.host.clone()).filter(|h| !h.is_empty());
                Outcome::reply(Reply::Status {
                    tab: status,
                    host,
                    captures_received: captures_saved,
                    drift: self.drift.clone(),
                })
            }
            other => Outcome::error(ErrorCode::Unexpected, words!("errVaultsRequest", other.name())),
        }
    }

    fn capture(
        &mut self,
        tab: u32,
        sender_host: &str,
        seq: u64,
        key: SecretString,
        fields: BTreeMap<FieldName, String>,
    ) -> Outcome {
        let Some(state) = self.tabs.get(&tab) else {
            return Outcome::error(ErrorCode::Unexpected, words!("errNoPageYet"));
        };
        if state.seq != seq {
            return Outcome::error(ErrorCode::Unexpected, words!("errPageChanged"));
        }
        if sender_host != state.host {
            return Outcome::error(ErrorCode::Forbidden, words!("errKeyOtherSite"));
        }
        let Some(model) = state.model.as_ref() else {
            return Outcome::error(ErrorCode::Unexpected, words!("errNoPageYet"));
        };
        let Ok(location) = model.validate() else {
            return Outcome::error(ErrorCode::Unexpected, words!("errNoVendorPage"));
        };
        let tenant_location = location.clone();
        let memory = self.catalog.for_host(&location.host).map(|r| state.progress.recall(&r.vendor.id, None));
        let scene = Scene::new(model, location).remembering(memory.unwrap_or_default());
        let Some(rec) = recognize(&self.catalog, &scene) else {
            return Outcome::error(ErrorCode::Unexpected, words!("errNoVendorPage"));
        };
        let Some((_, _, at)) = key_on_screen(&rec, &scene) else {
            return Outcome::error(ErrorCode::Unexpected, words!("errNoKeyExpected"));
        };
        let spec = &rec.recipe.key;
        if !spec.accepts(key.expose()) {
            return Outcome::error(
                ErrorCode::Unexpected,
                words!("errNotShapedLike", &rec.recipe.vendor.name, &spec.label),
            );
        }
        if !outline_matches(model, at, key.expose()) {
            return Outcome::error(ErrorCode::Refused, words!("errNotTheKeyShown", &spec.label));
        }
        let bad_field = fields.iter().find(|(_, v)| {
            v.chars().count() > MAX_FIELD || v.chars().any(char::is_control) || v.contains(key.expose())
        });
        if let Some((name, _)) = bad_field {
            return Outcome::error(ErrorCode::Malformed, words!("errFieldTooLong", format!("{name:?}")));
        }
        let vendor = rec.recipe.vendor.id.clone();
        let tenant = rec.recipe.vendor.tenant_of(&tenant_location, fields.get(&FieldName::Tenant).map(String::as_str));
        let captured = CapturedKey {
            secret: key,
            vendor: vendor.clone(),
            host: state.host.clone(),
            tenant: tenant.clone().unwrap_or_else(|| tenant_location.host.clone()),
            page_url: model.url.clone(),
            fields,
            // Where the page did not say which organization it is, the previous key is unknown.
            replaces_previous: spec.replaces_previous && tenant.is_some(),
        };
        Outcome {
            captured: Some(captured),
            ..Outcome::reply(Reply::Captured { state: CaptureState::Received, vendor, hint: None })
        }
    }
}
