//! Service-worker glue: every browser event goes through one queue, gets a storage snapshot, is answered by the engine's service, and has its effects applied.

use super::api::{self, Listener, Port};
use super::i18n::t;
use super::{out, JsError, JsInbound};
use crate::engine::clipboard::ClipboardJob;
use crate::engine::protocol::{admit, ErrorCode, ExtensionPage, PanelNonce, Push, RawSender, Reply, Sender};
use crate::engine::secret::SecretString;
use crate::engine::service::{
    AlarmChange, Badge, Effects, Event, Icon, IdleState, PanelPort, Platform, Service, SessionKeyChange, Wants,
};
use crate::engine::storage::{self, Snapshot};
use crate::engine::vault::kdf::{bench_run, calibrate};
use crate::engine::vault::store::{Changeset, MemoryStore, Store, StoreError};
use crate::engine::vault::KdfParams;
use crate::words;
use js_sys::{Object, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use zeroize::Zeroizing;

/// Where a panel's port stands. Its disconnect listener is added as the port arrives, so a tab
/// that closes while the connection waits in the queue is known to be gone when it is answered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PortState {
    /// Waiting for the service to accept or refuse it.
    Pending,
    /// Accepted and kept in `PANELS`.
    Kept,
    /// The other end went away.
    Gone,
}

/// The step panel of one tab, connected by a port; its listeners go when it is dropped.
struct PanelPortHandle {
    /// Tells this port from a later one of the same tab.
    id: u64,
    port: Port,
    state: Rc<Cell<PortState>>,
    _on_message: Option<Listener>,
    _on_disconnect: Listener,
}

impl PanelPortHandle {
    /// Takes a port that just connected, noting from now on when it goes.
    fn new(tab: u32, port: Port) -> Self {
        let id = NEXT_PORT.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        let state = Rc::new(Cell::new(PortState::Pending));
        let seen = state.clone();
        let on_disconnect = Listener::new(port.on_disconnect(), move |_| {
            // A port still waiting in the queue is let go when its turn comes (`apply`).
            if seen.replace(PortState::Gone) != PortState::Kept {
                return;
            }
            // Dropping the listener that is running is not allowed: remove the port after this call.
            spawn_local(async move {
                let kept = PANELS.with(|p| {
                    let mut panels = p.borrow_mut();
                    if panels.get(&tab).is_some_and(|h| h.id == id) {
                        panels.remove(&tab)
                    } else {
                        None
                    }
                });
                drop(kept);
                run(Event::PanelDisconnected { tab }, None).await;
            });
        });
        PanelPortHandle { id, port, state, _on_message: None, _on_disconnect: on_disconnect }
    }

    /// Closes a port the service refused; one whose other end has gone needs nothing.
    fn refuse(self) {
        if self.state.get() != PortState::Gone {
            self.port.disconnect().ok();
        }
    }
}

thread_local! {
    static SERVICE: RefCell<Option<Service>> = const { RefCell::new(None) };
    /// Whether this worker ran its rehearsal ([`Service::rehearse`]) already.
    static REHEARSED: Cell<bool> = const { Cell::new(false) };
    static PANELS: RefCell<HashMap<u32, PanelPortHandle>> = RefCell::new(HashMap::new());
    /// The tail of the event queue: each event waits for the one before it.
    static QUEUE: RefCell<Option<Promise>> = const { RefCell::new(None) };
    static NEXT_PORT: Cell<u64> = const { Cell::new(0) };
    /// The worker's copy of the vault's `storage.local` items (see [`Mirror`]).
    static MIRROR: RefCell<Option<Mirror>> = const { RefCell::new(None) };
    /// Keys of the mirror that `storage.onChanged` reported changed since they were last read.
    static DIRTY: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    /// The last generation handed out: never reused while the worker lives.
    static GENERATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The `storage.local` items a vault request reads (the vault's items and the few read for every
/// event), kept between events so that a request reads only what changed, never the whole area.
///
/// Storage stays the truth; the mirror follows it three ways, all inside the event queue except
/// the first: `storage.onChanged` (any context, the worker's own writes included) only marks keys
/// dirty, and the next vault request reads those keys again before it runs, so an event never
/// runs on a key it was told had changed; the worker's own writes land in the mirror once
/// storage has taken them; and a write that failed or was refused drops the mirror, as does
/// anything it cannot follow, so the next vault request reads the whole area again. Its
/// generation names its vault items for the keeper's kept listing
/// ([`Snapshot::local_generation`]): any change to them takes a new number.
struct Mirror {
    items: Rc<MemoryStore>,
    generation: u64,
}

/// A generation never handed out before.
fn next_generation() -> u64 {
    GENERATIONS.with(|g| {
        g.set(g.get() + 1);
        g.get()
    })
}

/// Whether `key` is one the mirror holds.
fn mirrored(key: &str) -> bool {
    storage::ALWAYS_READ.contains(&key) || storage::is_vault_item(key)
}

/// Forgets the mirror: the next vault request reads the whole area.
fn drop_mirror() {
    MIRROR.with(|m| m.borrow_mut().take());
}

/// Most read-again rounds a request makes while `storage.onChanged` keeps reporting changes
/// before it stops following them and reads the whole area.
const FOLLOW_ROUNDS: usize = 4;

/// The vault's `storage.local` items as storage holds them now, and their generation: the mirror,
/// brought up to date (read whole when there is none, else the dirty keys and the small items
/// read for every event), shared with the snapshot rather than copied.
async fn vault_items() -> Result<(Rc<MemoryStore>, Option<u64>), JsError> {
    let read = follow_storage().await;
    if read.is_err() {
        // The keys marked dirty may have been taken without being read again.
        drop_mirror();
    }
    read
}

async fn follow_storage() -> Result<(Rc<MemoryStore>, Option<u64>), JsError> {
    for _ in 0..FOLLOW_ROUNDS {
        if MIRROR.with(|m| m.borrow().is_none()) {
            // Changes reported from here on are read again below, whatever this read saw.
            DIRTY.with(|d| d.borrow_mut().clear());
            let all = JsFuture::from(api::local_get_json(JsValue::NULL)).await?;
            let items = store_of(&all, mirrored)?;
            let generation = next_generation();
            MIRROR.with(|m| *m.borrow_mut() = Some(Mirror { items: Rc::new(items), generation }));
        }
        let mut keys: BTreeSet<String> = DIRTY.with(|d| std::mem::take(&mut *d.borrow_mut()));
        keys.extend(storage::ALWAYS_READ.iter().map(|k| k.to_string()));
        let keys: Vec<String> = keys.into_iter().collect();
        let fresh = store_of(&JsFuture::from(api::local_get_json(super::to_js(&keys))).await?, |_| true)?;
        let changed = MIRROR.with(|m| {
            let m = m.borrow();
            let mirror = m.as_ref()?;
            let mut changed = Changeset::default();
            for key in &keys {
                match fresh.peek(key) {
                    Some(value) if mirror.items.peek(key) != Some(value) => changed.put(key, value.clone()),
                    None if mirror.items.peek(key).is_some() => changed.delete(key),
                    _ => {}
                }
            }
            Some(changed)
        });
        if let Some(changed) = changed {
            follow_mirror(&changed);
        }
        if DIRTY.with(|d| d.borrow().is_empty()) {
            let shared = MIRROR.with(|m| m.borrow().as_ref().map(|m| (Rc::clone(&m.items), Some(m.generation))));
            if let Some(shared) = shared {
                return Ok(shared);
            }
        }
    }
    // Storage keeps changing under the reads: this request reads it whole and keeps nothing.
    drop_mirror();
    let all = JsFuture::from(api::local_get_json(JsValue::NULL)).await?;
    Ok((Rc::new(store_of(&all, mirrored)?), None))
}

/// Lays `changes`, which storage now holds, on the mirror; a change to a vault item takes a new
/// generation.
fn follow(mirror: &mut Mirror, changes: &Changeset) -> Result<(), StoreError> {
    let kept = |key: &String| mirrored(key);
    let mut mine = Changeset::default();
    for w in changes.set.iter().filter(|w| kept(&w.key)) {
        mine.put(&w.key, w.value.clone());
    }
    for key in changes.remove.iter().filter(|k| kept(k)) {
        mine.delete(key);
    }
    if mine.is_empty() {
        return Ok(());
    }
    // The snapshot that shared the items was dropped before any write: this copies nothing.
    Rc::make_mut(&mut mirror.items).apply(&mine)?;
    if mine.set.iter().map(|w| &w.key).chain(&mine.remove).any(|k| storage::is_vault_item(k)) {
        mirror.generation = next_generation();
    }
    Ok(())
}

/// Lays `changes` on the mirror, if there is one; one it cannot take drops it.
fn follow_mirror(changes: &Changeset) {
    MIRROR.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(mirror) = m.as_mut() {
            if follow(mirror, changes).is_err() {
                *m = None;
            }
        }
    });
}

/// `storage.onChanged`: marks the mirror's keys that changed in `storage.local`, to be read again
/// by the next vault request. A report it cannot read drops the mirror.
#[wasm_bindgen]
pub fn on_storage_changed(changes: JsValue, area: String) {
    if area != "local" {
        return;
    }
    if !changes.is_object() {
        drop_mirror();
        return;
    }
    let keys = Object::keys(changes.unchecked_ref::<Object>());
    DIRTY.with(|d| {
        let mut d = d.borrow_mut();
        for key in keys.iter() {
            match key.as_string() {
                Some(key) if mirrored(&key) => {
                    d.insert(key);
                }
                Some(_) => {}
                None => {
                    drop_mirror();
                    return;
                }
            }
        }
    });
}

fn with<R>(f: impl FnOnce(&mut Service) -> R) -> R {
    SERVICE.with(|cell| f(cell.borrow_mut().get_or_insert_with(Service::builtin)))
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// Argon2 calibration with the browser's clock.
struct Browser;

impl Platform for Browser {
    fn calibrate(&mut self) -> KdfParams {
        calibrate(|params| {
            let start = js_sys::Date::now();
            bench_run(params);
            Duration::from_micros(((js_sys::Date::now() - start) * 1000.0) as u64)
        })
    }
}

/// Runs `work` after every earlier event has finished, and before any later one starts.
async fn exclusive<T>(work: impl std::future::Future<Output = T>) -> T {
    let mut release = None;
    let mine = Promise::new(&mut |resolve, _| release = Some(resolve));
    let before = QUEUE.with(|q| q.borrow_mut().replace(mine));
    if let Some(before) = before {
        // The promise before only ever resolves; a rejection cannot happen.
        JsFuture::from(before).await.ok();
    }
    let out = work.await;
    if let Some(release) = release {
        release.call0(&JsValue::UNDEFINED).ok();
    }
    out
}

/// The kept items of one JSON object text, as `api.js` reads an area.
fn store_of(text: &JsValue, keep: impl Fn(&str) -> bool) -> Result<MemoryStore, JsError> {
    let text = text.as_string().ok_or_else(|| JsError::Failed("storage read gave no text".into()))?;
    let items: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| JsError::Failed(format!("storage read unreadable: {e}")))?;
    let mut store = MemoryStore::new();
    for (key, value) in items {
        if keep(&key) {
            store.insert(&key, value);
        }
    }
    Ok(store)
}

/// Every item of the private area (a handful), converted object by object.
fn private_store(items: &JsValue) -> Result<MemoryStore, JsError> {
    let mut store = MemoryStore::new();
    if !items.is_object() {
        return Ok(store);
    }
    for key in Object::keys(items.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()) {
        let value = Reflect::get(items, &JsValue::from_str(&key))?;
        let json: serde_json::Value =
            serde_wasm_bindgen::from_value(value).map_err(|e| JsError::Failed(e.to_string()))?;
        store.insert(&key, json);
    }
    Ok(store)
}

/// Reads what the service asked for.
async fn snapshot(wants: &Wants) -> Result<Snapshot, JsError> {
    // Every read is asked for at once and awaited in turn: each is a round trip to the browser,
    // and a page report waits for all of them.
    let mut session_keys: Vec<String> = wants.tabs.iter().map(|t| storage::tab_key(*t)).collect();
    session_keys.push(storage::COUNTERS.into());
    session_keys.push(storage::CLIPBOARD.into());
    session_keys.push(storage::TRASH.into());
    let session_read = JsFuture::from(api::session_get_json(super::to_js(&session_keys)));
    let key_read = JsFuture::from(api::session_key_get());
    let private_read = wants.vault.then(|| JsFuture::from(api::private_get_all()));
    let (local, local_generation) = if wants.vault {
        vault_items().await?
    } else {
        let keys: Vec<String> = storage::ALWAYS_READ.iter().map(|s| s.to_string()).collect();
        (Rc::new(store_of(&JsFuture::from(api::local_get_json(super::to_js(&keys))).await?, |_| true)?), None)
    };
    let session = store_of(&session_read.await?, |_| true)?;
    let session_key = session_key(key_read.await?)?;
    let private = match private_read {
        Some(read) => private_store(&read.await?)?,
        None => MemoryStore::new(),
    };
    let (granted_origins, registered_scripts) = if wants.browser {
        let granted = serde_wasm_bindgen::from_value(JsFuture::from(api::granted_origins()).await?).unwrap_or_default();
        let registered =
            serde_wasm_bindgen::from_value(JsFuture::from(api::registered_script_ids()).await?).unwrap_or_default();
        (granted, registered)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Snapshot { local, local_generation, session, private, session_key, granted_origins, registered_scripts })
}

/// The session key from `storage.session`: bytes, copied into Rust and wiped on the JS side.
fn session_key(value: JsValue) -> Result<Option<SecretString>, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let array = js_sys::Uint8Array::new(&value);
    let bytes = Zeroizing::new(array.to_vec());
    array.fill(0, 0, array.length());
    Ok(std::str::from_utf8(&bytes).ok().map(|s| SecretString::new(s.to_string())))
}

fn items_of(changes: &Changeset) -> Result<JsValue, JsError> {
    let items = Object::new();
    for w in &changes.set {
        Reflect::set(&items, &JsValue::from_str(&w.key), &super::to_js(&w.value))?;
    }
    Ok(items.into())
}

/// Writes one `storage.local` batch; once storage took it, the mirror takes it too, and a batch
/// that failed or was refused drops the mirror (part of it may have landed).
async fn write_local(changes: &Changeset) -> Result<(), JsError> {
    if changes.is_empty() {
        return Ok(());
    }
    let items = match items_of(changes) {
        Ok(items) => items,
        Err(e) => {
            drop_mirror();
            return Err(e);
        }
    };
    match JsFuture::from(api::local_write(&items, changes.remove.clone(), changes.bytes() as f64)).await {
        Ok(_) => {
            follow_mirror(changes);
            Ok(())
        }
        Err(e) => {
            drop_mirror();
            Err(e.into())
        }
    }
}

async fn write_session(changes: &Changeset) -> Result<(), JsError> {
    if changes.is_empty() {
        return Ok(());
    }
    JsFuture::from(api::session_write(&items_of(changes)?, changes.remove.clone())).await?;
    Ok(())
}

async fn write_private(changes: &Changeset) -> Result<(), JsError> {
    if changes.is_empty() {
        return Ok(());
    }
    JsFuture::from(api::private_write(&items_of(changes)?, changes.remove.clone())).await?;
    Ok(())
}

async fn write_session_key(change: &SessionKeyChange) -> Result<(), JsError> {
    match change {
        SessionKeyChange::Keep => {}
        SessionKeyChange::Store(key) => {
            // Handed over as bytes that api.js wipes once stored: never a JS string.
            let bytes = js_sys::Uint8Array::from(key.expose().as_bytes());
            let stored = JsFuture::from(api::session_key_set(&bytes)).await;
            bytes.fill(0, 0, bytes.length());
            stored?;
        }
        SessionKeyChange::Clear => {
            JsFuture::from(api::session_remove(storage::SESSION_KEY)).await?;
        }
    }
    Ok(())
}

/// Applies the storage part of `effects`; on a refusal, the error and how much was being written.
async fn write_all(effects: &Effects) -> Result<(), (JsError, usize)> {
    for batch in &effects.local {
        write_local(batch).await.map_err(|e| (e, batch.bytes()))?;
    }
    write_private(&effects.private).await.map_err(|e| (e, effects.private.bytes()))?;
    write_session(&effects.session).await.map_err(|e| (e, effects.session.bytes()))?;
    write_session_key(&effects.session_key).await.map_err(|e| (e, 0))?;
    Ok(())
}

fn report(what: &str, e: &JsError) {
    // Messages of browser failures never contain stored values; they help whoever reads the console.
    web_sys::console::warn_1(&JsValue::from_str(&format!("keywarden: {what} failed: {e}")));
}

/// Applies everything but the reply, which it returns. `port` is the panel port of a
/// `PanelConnected` event, kept only when the service accepts it and its tab is still there.
async fn apply(mut effects: Effects, port: Option<(u32, PanelPortHandle)>) -> Option<Reply> {
    if let Err((e, needed)) = write_all(&effects).await {
        let error = e.into_store_error(needed);
        return Some(with(|s| s.refused(&error, &effects)));
    }
    // Nothing but this event's own writes has changed the mirror since its snapshot.
    let generation = MIRROR.with(|m| m.borrow().as_ref().map(|m| m.generation));
    with(|s| s.stored(generation));
    for alarm in &effects.alarms {
        let done = match alarm {
            AlarmChange::Set { name, minutes } => JsFuture::from(api::start_alarm(name, *minutes)).await,
            AlarmChange::Clear { name } => JsFuture::from(api::clear_alarm(name)).await,
        };
        if let Err(e) = done {
            report("an alarm change", &JsError::from_js(e));
        }
    }
    if let Some(job) = &effects.clipboard {
        if let Err(e) = clipboard_job(job).await {
            report("the clipboard", &e);
            // Only a clear the admin asked for has someone waiting to hear that it failed.
            if matches!(job, ClipboardJob::Clear { only_if: None }) {
                effects.reply =
                    Some(Reply::Error { code: ErrorCode::Internal, message: words!("errClipboardNotCleared") });
            }
        }
    }
    if let Some(scripts) = &effects.scripts {
        if let Err(e) = sync_scripts(scripts).await {
            report("updating content-script registrations", &e);
        }
    }
    match (effects.panel, port) {
        (Some(PanelPort::Accept), Some((tab, port))) if port.state.get() == PortState::Gone => {
            // Its tab closed while the connection waited: the service forgets the panel it just
            // took, after this event, and the view pushed to it goes nowhere.
            effects.pushes.retain(|(t, push)| !(*t == tab && matches!(push, Push::Panel { .. })));
            spawn_local(async move {
                run(Event::PanelDisconnected { tab }, None).await;
            });
        }
        (Some(PanelPort::Accept), Some((tab, port))) => keep_panel(tab, port),
        (_, Some((_, port))) => port.refuse(),
        _ => {}
    }
    deliver(std::mem::take(&mut effects.pushes));
    toolbar(effects.icon, &effects.badges).await;
    if effects.open_options {
        if let Err(e) = JsFuture::from(api::open_options_page()).await {
            report("opening the options page", &JsError::from_js(e));
        }
    }
    effects.reply
}

/// The badge's text, colour and tooltip. Blue for a console keywarden can guide on; amber, the
/// save control's colour, for a key on screen that is not saved yet. Both carry white text at a
/// contrast above 4.5:1.
fn badge_look(badge: Badge) -> (&'static str, &'static str, String) {
    match badge {
        Badge::None => ("", "#1d4ed8", t("actionTitle")),
        Badge::Guide => ("•", "#1d4ed8", t("badgeGuideTitle")),
        Badge::Key => ("KEY", "#b45309", t("badgeKeyTitle")),
    }
}

/// Shows the icon and badges an event asked for. A tab that closed meanwhile simply misses its badge.
async fn toolbar(icon: Option<Icon>, badges: &[(u32, Badge)]) {
    if let Some(icon) = icon {
        if let Err(e) = JsFuture::from(api::set_icon(icon == Icon::Locked)).await {
            report("setting the toolbar icon", &JsError::from_js(e));
        }
    }
    for &(tab, badge) in badges {
        let (text, color, title) = badge_look(badge);
        JsFuture::from(api::set_badge(tab, text, color, &title)).await.ok();
    }
}

/// Hands a clipboard job to the device: Chrome's offscreen document or Firefox's background page
/// (`api.js` picks). Only digests travel; the device reads the clipboard itself at clearing time.
async fn clipboard_job(job: &ClipboardJob) -> Result<(), JsError> {
    let done = match job {
        ClipboardJob::Arm { digest, due_at } => api::clipboard_arm(digest.as_str(), *due_at as f64),
        ClipboardJob::Clear { only_if } => api::clipboard_clear(only_if.as_ref().map(|d| d.as_str().to_string())),
        ClipboardJob::Cancel => api::clipboard_cancel(),
    };
    JsFuture::from(done).await?;
    Ok(())
}

async fn sync_scripts(scripts: &crate::engine::service::Scripts) -> Result<(), JsError> {
    JsFuture::from(api::unregister_scripts(scripts.unregister.clone())).await?;
    let ids = scripts.register.iter().map(|(id, _)| id.clone()).collect();
    let patterns = scripts.register.iter().map(|(_, p)| p.clone()).collect();
    JsFuture::from(api::register_server_scripts(ids, patterns)).await?;
    Ok(())
}

fn deliver(pushes: Vec<(u32, Push)>) {
    for (tab, push) in pushes {
        let message = out(&push);
        match push {
            // A tab that went away or has no content script simply misses the draw.
            Push::Draw(_) | Push::PanelFit { .. } => spawn_local(async move {
                JsFuture::from(api::send_to_tab(tab, 0, &message)).await.ok();
            }),
            // A port whose other end has just gone refuses the view; its disconnect event follows.
            Push::Panel { .. } => PANELS.with(|p| {
                if let Some(panel) = p.borrow().get(&tab) {
                    panel.port.post_message(&message).ok();
                }
            }),
        }
    }
}

/// Where a message's reply goes as soon as it is known: for a page report, before the event's
/// own writes and the toolbar badge are done (the queue still keeps the next event waiting for
/// them). Only the first reply sent counts.
struct Answer {
    resolve: RefCell<Option<js_sys::Function>>,
    sender: Sender,
}

impl Answer {
    /// An answer for `sender`, and the promise that settles with it.
    fn new(sender: Sender) -> (Rc<Answer>, Promise) {
        let mut resolve = None;
        let answered = Promise::new(&mut |r, _| resolve = Some(r));
        (Rc::new(Answer { resolve: RefCell::new(resolve), sender }), answered)
    }

    fn send(&self, reply: &Reply) {
        if let Some(resolve) = self.resolve.borrow_mut().take() {
            resolve.call1(&JsValue::UNDEFINED, &reply_value(&self.sender, reply)).ok();
        }
    }
}

/// A reply as its sender receives it. The vault's listing (up to thousands of entries, never a
/// key) goes to the extension's pages as one JSON text: building and reading back that many JS
/// objects field by field costs far more than one text each way.
fn reply_value(sender: &Sender, reply: &Reply) -> JsValue {
    if let (Sender::Page { .. }, Reply::Vault(_) | Reply::Listed(_)) = (sender, reply) {
        if let Ok(text) = serde_json::to_string(reply) {
            return super::to_js(&crate::engine::protocol::OutText::new(text));
        }
    }
    out(reply)
}

/// One event through the queue: snapshot, decide, apply. Returns the reply, if any.
async fn run(event: Event, port: Option<(u32, PanelPortHandle)>) -> Option<Reply> {
    run_answering(event, port, None).await
}

/// [`run`], handing a reply that does not depend on the event's writes to `answer` early.
async fn run_answering(
    event: Event,
    port: Option<(u32, PanelPortHandle)>,
    answer: Option<Rc<Answer>>,
) -> Option<Reply> {
    exclusive(async move {
        let wants = with(|s| s.wants(&event));
        let snap = match snapshot(&wants).await {
            Ok(s) => s,
            Err(e) => {
                report("reading storage", &e);
                if let Some((_, port)) = port {
                    port.refuse();
                }
                return Some(Service::unreadable(&event));
            }
        };
        let effects = with(|s| s.handle(event, &snap, now(), &mut Browser));
        drop(snap);
        if let (Some(answer), Some(reply)) = (&answer, effects.early_reply()) {
            answer.send(reply);
        }
        apply(effects, port).await
    })
    .await
}

fn classify(sender: JsValue) -> Result<Sender, crate::engine::protocol::ErrorCode> {
    let raw: RawSender =
        serde_wasm_bindgen::from_value(sender).map_err(|_| crate::engine::protocol::ErrorCode::Forbidden)?;
    raw.classify(&api::extension_id(), &api::extension_origin())
}

fn error(code: crate::engine::protocol::ErrorCode, message: crate::engine::words::Words) -> JsValue {
    out(&Reply::Error { code, message })
}

/// `runtime.onMessage`: one request, one reply.
#[wasm_bindgen]
pub async fn on_message(message: JsValue, sender: JsValue) -> JsValue {
    let sender = match classify(sender) {
        Ok(s) => s,
        Err(code) => return error(code, words!("errOnlyThisExtension")),
    };
    let admitted = admit(&sender, JsInbound(&message));
    let (answer, answered) = Answer::new(sender);
    let early = answer.clone();
    spawn_local(async move {
        let reply = run_answering(Event::Message(admitted), None, Some(early)).await.unwrap_or(Reply::Done);
        answer.send(&reply);
    });
    JsFuture::from(answered).await.unwrap_or(JsValue::UNDEFINED)
}

fn keep_panel(tab: u32, mut panel: PanelPortHandle) {
    panel._on_message = Some(Listener::new(panel.port.on_message(), move |message| {
        let sender = Sender::Page { page: ExtensionPage::Panel, tab: Some(tab) };
        let admitted = admit(&sender, JsInbound(&message));
        spawn_local(async move {
            run(Event::Message(admitted), None).await;
        });
    }));
    panel.state.set(PortState::Kept);
    let replaced = PANELS.with(|p| p.borrow_mut().insert(tab, panel));
    drop(replaced);
}

/// `runtime.onConnect`: the step panel of a tab opens a port named `panel:<nonce>` to receive
/// its view; the service keeps it only if the content script of that tab reported that nonce.
/// Any other port is closed at once (a content script opens one as its page starts loading, only
/// so that a stopped worker starts then).
#[wasm_bindgen]
pub fn on_connect(port: Port) {
    let tab = match classify(port.sender()) {
        Ok(Sender::Page { page: ExtensionPage::Panel, tab: Some(tab) }) => tab,
        _ => {
            port.disconnect().ok();
            // A page starting to load woke this worker: the service (its recipes read) is made,
            // and a sample report goes through a scratch walkthrough and back out as the page's
            // reply would, now rather than while that page's first report waits.
            let read = |sender: &Sender, text: &str| {
                let message = js_sys::JSON::parse(text).ok()?;
                admit(sender, JsInbound(&message)).ok()
            };
            // Once per start: a warm worker has nothing left to compile.
            if !REHEARSED.with(|r| r.replace(true)) {
                for reply in with(|s| s.rehearse(read)) {
                    drop(out(&reply));
                }
            }
            return;
        }
    };
    let nonce = port.name().strip_prefix("panel:").and_then(PanelNonce::parse);
    let port = PanelPortHandle::new(tab, port);
    spawn_local(async move {
        run(Event::PanelConnected { tab, nonce }, Some((tab, port))).await;
    });
}

/// `tabs.onRemoved`.
#[wasm_bindgen]
pub async fn on_tab_removed(tab: u32) {
    PANELS.with(|p| p.borrow_mut().remove(&tab));
    run(Event::TabRemoved { tab }, None).await;
}

/// `runtime.onStartup` / `runtime.onInstalled`.
#[wasm_bindgen]
pub async fn on_started(first_install: bool) {
    run(Event::Started { install: first_install }, None).await;
}

/// `alarms.onAlarm`.
#[wasm_bindgen]
pub async fn on_alarm(name: String) {
    run(Event::Alarm { name }, None).await;
}

/// `idle.onStateChanged`.
#[wasm_bindgen]
pub async fn on_idle_state(state: String) {
    if let Some(state) = IdleState::parse(&state) {
        run(Event::Idle { state }, None).await;
    }
}

/// `permissions.onRemoved`.
#[wasm_bindgen]
pub async fn on_permissions_removed(origins: Vec<String>) {
    run(Event::PermissionsRemoved { origins }, None).await;
}

/// `commands.onCommand`: a keyboard shortcut of the manifest (opening the popup never comes here).
#[wasm_bindgen]
pub async fn on_command(name: String) {
    run(Event::Command { name }, None).await;
}
