//! Vault glue in the worker: storage snapshots in, changesets out, the session kept in storage.session, auto-lock by alarm.

use super::api;
use super::js_error;
use crate::engine::controller::CapturedKey;
use crate::engine::keeper::{Keeper, Session, VaultOutcome};
use crate::engine::protocol::{ErrorCode, Reply, Request};
use crate::engine::secret::SecretString;
use crate::engine::vault::kdf::{bench_run, calibrate};
use crate::engine::vault::store::{Changeset, MemoryStore};
use crate::engine::vault::{ENTRY_PREFIX, HEADER_KEY};
use js_sys::{Object, Promise, Reflect};
use std::cell::RefCell;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// storage.session item holding the unlocked state for this browser session.
const SESSION_KEY: &str = "vault:session";
/// storage.local item with the admin's vault settings.
const SETTINGS_KEY: &str = "settings";
/// The alarm that locks the vault after inactivity.
pub const AUTO_LOCK_ALARM: &str = "auto-lock";

thread_local! {
    static KEEPER: RefCell<Keeper> = RefCell::new(Keeper::new(
        crate::engine::recipe::Catalog::builtin().map(|c| c.recipes.iter().filter(|r| r.key.replaces_previous).map(|r| r.vendor.id.clone()).collect()).unwrap_or_default(),
    ));
    static SETTINGS_LOADED: RefCell<bool> = const { RefCell::new(false) };
    /// The tail of the queue of vault operations: each waits for the one before it.
    static QUEUE: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Settings {
    auto_lock_minutes: u32,
}

/// Runs vault operations one at a time, so two tabs saving at once cannot interleave their
/// read-modify-write of storage.
async fn exclusive<T>(work: impl std::future::Future<Output = T>) -> T {
    let mut release = None;
    let mine = Promise::new(&mut |resolve, _| release = Some(resolve));
    let before = QUEUE.with(|q| q.borrow_mut().replace(mine));
    if let Some(before) = before {
        let _ = JsFuture::from(before).await;
    }
    let out = work.await;
    if let Some(release) = release {
        let _ = release.call0(&JsValue::UNDEFINED);
    }
    out
}

/// The vault's items as they are in storage.local now.
async fn snapshot() -> Result<MemoryStore, String> {
    let all = JsFuture::from(api::local_get_all()).await.map_err(js_error)?;
    let mut store = MemoryStore::new();
    for key in Object::keys(all.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()) {
        if key == HEADER_KEY || key.starts_with("vault:") || key.starts_with(ENTRY_PREFIX) {
            let value = Reflect::get(&all, &JsValue::from_str(&key)).map_err(js_error)?;
            let json: serde_json::Value = serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())?;
            store.insert(&key, json);
        }
    }
    Ok(store)
}

/// Writes a changeset; a refusal (full storage, say) means nothing the caller relies on was kept.
async fn write(changes: &Changeset) -> Result<(), String> {
    if changes.is_empty() {
        return Ok(());
    }
    let items = Object::new();
    for w in &changes.set {
        Reflect::set(&items, &JsValue::from_str(&w.key), &super::to_js(&w.value)).map_err(js_error)?;
    }
    JsFuture::from(api::local_write(&items, changes.remove.clone())).await.map(|_| ()).map_err(js_error)
}

async fn load_settings() {
    if SETTINGS_LOADED.with(|l| l.replace(true)) {
        return;
    }
    if let Ok(saved) = JsFuture::from(api::local_get(SETTINGS_KEY)).await {
        if let Ok(s) = serde_wasm_bindgen::from_value::<Settings>(saved) {
            KEEPER.with(|k| k.borrow_mut().auto_lock_minutes = s.auto_lock_minutes);
        }
    }
}

/// After a worker restart: pick up the unlocked state kept for this browser session.
async fn resume(store: &MemoryStore) {
    if KEEPER.with(|k| k.borrow().is_unlocked()) {
        return;
    }
    let Ok(saved) = JsFuture::from(api::session_get(SESSION_KEY)).await else { return };
    if let Some(key) = saved.as_string().map(SecretString::new) {
        if !KEEPER.with(|k| k.borrow_mut().resume(store, &key)) {
            let _ = JsFuture::from(api::session_remove(SESSION_KEY)).await;
        }
    }
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// Argon2 parameters for this machine: 64 MiB, passes raised until one run takes about 0.75 s.
fn calibrated() -> crate::engine::vault::KdfParams {
    calibrate(|params| {
        let start = js_sys::Date::now();
        bench_run(params);
        Duration::from_micros(((js_sys::Date::now() - start) * 1000.0) as u64)
    })
}

/// Applies an outcome's writes, session change and activity; returns the reply to send.
async fn finish(outcome: VaultOutcome) -> Reply {
    if let Err(e) = write(&outcome.changes).await {
        let full = e.to_ascii_lowercase().contains("quota");
        let code = if full { ErrorCode::StorageFull } else { ErrorCode::Internal };
        let what = if full { "extension storage is full" } else { "extension storage refused the write" };
        return Reply::Error { code, message: format!("{what}: nothing was saved. Copy the key by hand now.") };
    }
    match outcome.session {
        Session::Keep => {}
        Session::Store(key) => {
            let _ = JsFuture::from(api::session_set(SESSION_KEY, &JsValue::from_str(key.expose()))).await;
        }
        Session::Clear => {
            let _ = JsFuture::from(api::session_remove(SESSION_KEY)).await;
            let _ = JsFuture::from(api::clear_alarm(AUTO_LOCK_ALARM)).await;
        }
    }
    let (unlocked, minutes) = KEEPER.with(|k| (k.borrow().is_unlocked(), k.borrow().auto_lock_minutes));
    if outcome.activity && unlocked {
        let _ = JsFuture::from(api::start_alarm(AUTO_LOCK_ALARM, minutes as f64)).await;
    }
    outcome.reply
}

/// Runs one vault operation, alone, over a fresh snapshot of storage (resuming the session if
/// the worker restarted), then writes what it returns.
async fn run(unread: &'static str, op: impl FnOnce(&mut Keeper, &MemoryStore) -> VaultOutcome) -> Reply {
    exclusive(async move {
        load_settings().await;
        let store = match snapshot().await {
            Ok(s) => s,
            Err(e) => return Reply::Error { code: ErrorCode::Internal, message: format!("could not read storage: {e}{unread}") },
        };
        resume(&store).await;
        let outcome = KEEPER.with(|k| op(&mut k.borrow_mut(), &store));
        finish(outcome).await
    })
    .await
}

/// Answers an authorized vault request.
pub async fn handle(request: Request) -> Reply {
    let saves_settings = matches!(request, Request::SetAutoLock { .. });
    let reply = run("", |keeper, store| keeper.handle(store, request, now(), &mut calibrated)).await;
    if saves_settings && matches!(reply, Reply::Vault(_)) {
        let minutes = KEEPER.with(|k| k.borrow().auto_lock_minutes);
        let _ = JsFuture::from(api::local_set(SETTINGS_KEY, &super::to_js(&Settings { auto_lock_minutes: minutes }))).await;
    }
    reply
}

/// Saves a key the controller accepted.
pub async fn save(captured: CapturedKey) -> Reply {
    run("; the key was NOT saved", |keeper, store| keeper.save_capture(store, captured, now())).await
}

/// Locks now (auto-lock alarm, system lock): the keys in memory are dropped and the session forgotten.
pub async fn lock() {
    KEEPER.with(|k| k.borrow_mut().lock());
    let _ = JsFuture::from(api::session_remove(SESSION_KEY)).await;
}
