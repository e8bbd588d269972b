//! Service-worker entry points: each browser event is classified, handed to the controller, and its pushes delivered.

use super::api::{self, Listener, Port};
use super::{out, parse_request};
use crate::engine::controller::Controller;
use crate::engine::protocol::{authorize, ErrorCode, ExtensionPage, Push, RawSender, Reply, Request, Sender};
use crate::engine::recipe::{Catalog, Server};
use crate::engine::registration;
use crate::engine::walkthrough::Progress;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

/// The step panel of one tab, connected by a port; its listeners go when it is dropped.
struct PanelPort {
    port: Port,
    _on_message: Listener,
    _on_disconnect: Listener,
}

struct Worker {
    controller: Controller,
    own_id: String,
    own_origin: String,
    panels: HashMap<u32, PanelPort>,
    restored: HashSet<u32>,
    drift_loaded: bool,
    servers_loaded: bool,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Worker) -> R) -> R {
    WORKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let worker = slot.get_or_insert_with(|| Worker {
            controller: Controller::new(Catalog::builtin().expect("built-in recipes are validated by the test suite")),
            own_id: api::extension_id(),
            own_origin: api::extension_origin(),
            panels: HashMap::new(),
            restored: HashSet::new(),
            drift_loaded: false,
            servers_loaded: false,
        });
        f(worker)
    })
}

fn error(code: ErrorCode, message: &str) -> JsValue {
    out(&Reply::Error { code, message: message.into() })
}

/// storage.local item holding the drift events, so recipe maintainers can see what broke.
const DRIFT_KEY: &str = "drift";

fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// Loads drift events recorded by earlier runs, once per run.
async fn load_drift() {
    if with(|w| std::mem::replace(&mut w.drift_loaded, true)) {
        return;
    }
    let Ok(saved) = JsFuture::from(api::local_get(DRIFT_KEY)).await else { return };
    if let Ok(events) = serde_wasm_bindgen::from_value(saved) {
        with(|w| {
            if w.controller.drift_events().is_empty() {
                w.controller.restore_drift(events);
            }
        });
    }
}

/// storage.local item holding the self-hosted servers the admin added.
const SERVERS_KEY: &str = "servers";

/// Loads the servers added in earlier runs, once per run.
async fn load_servers() {
    if with(|w| std::mem::replace(&mut w.servers_loaded, true)) {
        return;
    }
    let Ok(saved) = JsFuture::from(api::local_get(SERVERS_KEY)).await else { return };
    if let Ok(servers) = serde_wasm_bindgen::from_value::<Vec<Server>>(saved) {
        with(|w| w.controller.restore_servers(servers));
    }
}

/// Registers the content script on every added server whose origin is granted, and removes
/// registrations for servers removed or revoked. Browsers drop such registrations on updates and
/// some restarts, so this runs at start-up too.
async fn sync_server_scripts() -> Result<(), JsValue> {
    let servers = with(|w| w.controller.servers().to_vec());
    let mut granted = Vec::with_capacity(servers.len());
    for s in &servers {
        granted.push(JsFuture::from(api::has_origin(&registration::match_pattern(&s.host))).await?.is_truthy());
    }
    let registered: Vec<String> = serde_wasm_bindgen::from_value(JsFuture::from(api::registered_script_ids()).await?)?;
    let plan = registration::plan(&servers, &granted, &registered);
    JsFuture::from(api::unregister_scripts(plan.unregister)).await?;
    let ids = plan.register.iter().map(|h| registration::script_id(h)).collect();
    let patterns = plan.register.iter().map(|h| registration::match_pattern(h)).collect();
    JsFuture::from(api::register_server_scripts(ids, patterns)).await?;
    Ok(())
}

fn save_servers() {
    let value = super::to_js(&with(|w| w.controller.servers().to_vec()));
    spawn_local(async move {
        let _ = JsFuture::from(api::local_set(SERVERS_KEY, &value)).await;
        let _ = sync_server_scripts().await;
    });
}

/// `runtime.onStartup` / `runtime.onInstalled`: restore server registrations; on a fresh install,
/// open the options page so the admin can set keywarden up.
#[wasm_bindgen]
pub async fn on_started(first_install: bool) {
    load_servers().await;
    let _ = sync_server_scripts().await;
    if first_install {
        let _ = JsFuture::from(api::open_options_page()).await;
    }
}

fn session_key(tab: u32) -> String {
    format!("walkthrough:{tab}")
}

/// Loads a tab's walkthrough progress saved before the worker was last stopped, once per run.
async fn restore(tab: u32) {
    if !with(|w| w.restored.insert(tab)) {
        return;
    }
    let Ok(saved) = JsFuture::from(api::session_get(&session_key(tab))).await else { return };
    if let Ok(progress) = serde_wasm_bindgen::from_value::<Progress>(saved) {
        with(|w| {
            if w.controller.progress(tab).is_none() {
                w.controller.restore(tab, progress);
            }
        });
    }
}

fn persist(tab: u32, progress: Progress) {
    let value = super::to_js(&progress);
    spawn_local(async move {
        // A failed write only costs the progress after a worker restart; the walkthrough re-derives it.
        let _ = JsFuture::from(api::session_set(&session_key(tab), &value)).await;
    });
}

fn deliver(pushes: Vec<(u32, Push)>) {
    for (tab, push) in pushes {
        let message = out(&push);
        match push {
            Push::Draw(_) => spawn_local(async move {
                let _ = JsFuture::from(api::send_to_tab(tab, 0, &message)).await;
            }),
            Push::Panel { .. } => with(|w| {
                if let Some(panel) = w.panels.get(&tab) {
                    panel.port.post_message(&message);
                }
            }),
        }
    }
}

fn tab_of(sender: &Sender, request: &Request) -> Option<u32> {
    match (sender, request) {
        (_, Request::Resume { tab } | Request::Status { tab: Some(tab) }) => Some(*tab),
        (Sender::Content { tab, .. } | Sender::Page { tab: Some(tab), .. }, _) => Some(*tab),
        _ => None,
    }
}

async fn dispatch(sender: Sender, request: Request) -> Reply {
    if let Err(code) = authorize(&request, &sender) {
        return Reply::Error { code, message: format!("{} may not be sent from here", request.name()) };
    }
    if request.is_vault() {
        return super::vault::handle(request).await;
    }
    let tab = tab_of(&sender, &request);
    if let Some(tab) = tab {
        restore(tab).await;
    }
    load_drift().await;
    load_servers().await;
    let (outcome, changed, drift) = with(|w| {
        let before = tab.and_then(|t| w.controller.progress(t).cloned());
        let drift_before = w.controller.drift_events().to_vec();
        let outcome = w.controller.handle_at(&sender, request, now());
        let after = tab.and_then(|t| w.controller.progress(t).cloned());
        let drift = w.controller.drift_events();
        (outcome, if after != before { after } else { None }, (drift != drift_before.as_slice()).then(|| drift.to_vec()))
    });
    if let (Some(tab), Some(progress)) = (tab, changed) {
        persist(tab, progress);
    }
    if let Some(events) = drift {
        let value = super::to_js(&events);
        spawn_local(async move {
            let _ = JsFuture::from(api::local_set(DRIFT_KEY, &value)).await;
        });
    }
    if outcome.servers_changed {
        save_servers();
    }
    deliver(outcome.pushes);
    match outcome.captured {
        // The key was checked against the vendor's recipe: seal it into the vault.
        Some(captured) => super::vault::save(captured).await,
        None => outcome.reply,
    }
}

fn classify(sender: JsValue) -> Result<Sender, ErrorCode> {
    let raw: RawSender = serde_wasm_bindgen::from_value(sender).map_err(|_| ErrorCode::Forbidden)?;
    with(|w| raw.classify(&w.own_id, &w.own_origin))
}

/// `runtime.onMessage`: one request, one reply.
#[wasm_bindgen]
pub async fn on_message(message: JsValue, sender: JsValue) -> JsValue {
    let sender = match classify(sender) {
        Ok(s) => s,
        Err(code) => return error(code, "messages are accepted from this extension only"),
    };
    match parse_request(&message) {
        Ok(request) => out(&dispatch(sender, request).await),
        Err(code) => error(code, "not a keywarden message of this version"),
    }
}

/// `runtime.onConnect`: the step panel of a tab keeps a port open to receive its view.
#[wasm_bindgen]
pub fn on_connect(port: Port) {
    let tab = match classify(port.sender()) {
        Ok(Sender::Page { page: ExtensionPage::Panel, tab: Some(tab) }) if port.name().starts_with("panel:") => tab,
        _ => return port.disconnect(),
    };
    let on_message = Listener::new(port.on_message(), move |message| {
        let sender = Sender::Page { page: ExtensionPage::Panel, tab: Some(tab) };
        if let Ok(request) = parse_request(&message) {
            spawn_local(async move {
                dispatch(sender, request).await;
            });
        }
    });
    let on_disconnect = Listener::new(port.on_disconnect(), move |_| {
        // Dropping the listener that is running is not allowed: remove the port after this call.
        spawn_local(async move {
            with(|w| w.panels.remove(&tab));
        });
    });
    spawn_local(async move {
        restore(tab).await;
        let view = with(|w| w.controller.panel_view(tab, now()));
        port.post_message(&out(&Push::Panel { view }));
        with(|w| w.panels.insert(tab, PanelPort { port, _on_message: on_message, _on_disconnect: on_disconnect }));
    });
}

/// `tabs.onRemoved`: forget everything about a closed tab.
#[wasm_bindgen]
pub fn on_tab_removed(tab: u32) {
    with(|w| {
        w.controller.forget_tab(tab);
        w.panels.remove(&tab);
        w.restored.remove(&tab);
    });
    spawn_local(async move {
        let _ = JsFuture::from(api::session_remove(&session_key(tab))).await;
    });
}

/// `alarms.onAlarm`: the auto-lock timer ran out.
#[wasm_bindgen]
pub async fn on_alarm(name: String) {
    if name == super::vault::AUTO_LOCK_ALARM {
        super::vault::lock().await;
    }
}

/// `idle.onStateChanged`: lock the vault when the system locks.
#[wasm_bindgen]
pub async fn on_idle_state(state: String) {
    if state == "locked" {
        super::vault::lock().await;
    }
}
