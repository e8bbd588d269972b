//! Typed bindings to the extension APIs in `api.js`, and to the runtime port objects.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/api.js")]
extern "C" {
    #[wasm_bindgen(js_name = extensionId)]
    pub fn extension_id() -> String;
    #[wasm_bindgen(js_name = extensionOrigin)]
    pub fn extension_origin() -> String;
    #[wasm_bindgen(js_name = sendToTab)]
    pub fn send_to_tab(tab: u32, frame: u32, message: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(message: &JsValue) -> Promise;
    pub fn connect(name: &str) -> Port;
    /// `storage.session` items as one JSON object text.
    #[wasm_bindgen(js_name = sessionGetJson)]
    pub fn session_get_json(keys: JsValue) -> Promise;
    #[wasm_bindgen(js_name = sessionWrite)]
    pub fn session_write(items: &JsValue, removals: Vec<String>) -> Promise;
    #[wasm_bindgen(js_name = sessionRemove)]
    pub fn session_remove(key: &str) -> Promise;
    #[wasm_bindgen(js_name = sessionKeyGet)]
    pub fn session_key_get() -> Promise;
    #[wasm_bindgen(js_name = sessionKeySet)]
    pub fn session_key_set(bytes: &js_sys::Uint8Array) -> Promise;
    /// `storage.local` items (`null`: all of them) as one JSON object text.
    #[wasm_bindgen(js_name = localGetJson)]
    pub fn local_get_json(keys: JsValue) -> Promise;
    #[wasm_bindgen(js_name = privateGetAll)]
    pub fn private_get_all() -> Promise;
    #[wasm_bindgen(js_name = privateWrite)]
    pub fn private_write(items: &JsValue, removals: Vec<String>) -> Promise;
    #[wasm_bindgen(js_name = grantedOrigins)]
    pub fn granted_origins() -> Promise;
    #[wasm_bindgen(js_name = registeredScriptIds)]
    pub fn registered_script_ids() -> Promise;
    #[wasm_bindgen(js_name = registerServerScripts)]
    pub fn register_server_scripts(ids: Vec<String>, patterns: Vec<String>) -> Promise;
    #[wasm_bindgen(js_name = unregisterScripts)]
    pub fn unregister_scripts(ids: Vec<String>) -> Promise;
    #[wasm_bindgen(js_name = hasOrigin)]
    pub fn has_origin(pattern: &str) -> Promise;
    #[wasm_bindgen(js_name = requestOrigin)]
    pub fn request_origin(pattern: &str) -> Promise;
    #[wasm_bindgen(js_name = removeOrigin)]
    pub fn remove_origin(pattern: &str) -> Promise;
    #[wasm_bindgen(js_name = openOptionsPage)]
    pub fn open_options_page() -> Promise;
    #[wasm_bindgen(js_name = localWrite)]
    pub fn local_write(items: &JsValue, removals: Vec<String>, bytes: f64) -> Promise;
    #[wasm_bindgen(js_name = startAlarm)]
    pub fn start_alarm(name: &str, minutes: f64) -> Promise;
    #[wasm_bindgen(js_name = clearAlarm)]
    pub fn clear_alarm(name: &str) -> Promise;
    #[wasm_bindgen(js_name = copyText)]
    pub fn copy_text(text: &str) -> Promise;
    #[wasm_bindgen(js_name = clipboardArm)]
    pub fn clipboard_arm(digest: &str, due_at: f64) -> Promise;
    #[wasm_bindgen(js_name = clipboardClear)]
    pub fn clipboard_clear(only_if: Option<String>) -> Promise;
    #[wasm_bindgen(js_name = clipboardCancel)]
    pub fn clipboard_cancel() -> Promise;
    #[wasm_bindgen(js_name = activeTabId)]
    pub fn active_tab_id() -> Promise;
    #[wasm_bindgen(js_name = setIcon)]
    pub fn set_icon(locked: bool) -> Promise;
    #[wasm_bindgen(js_name = setBadge)]
    pub fn set_badge(tab: u32, text: &str, color: &str, title: &str) -> Promise;
    /// `i18n.getMessage`, or an empty string for a name `messages.json` lacks.
    pub fn message(name: &str, substitutions: Vec<String>) -> String;
    #[wasm_bindgen(js_name = storageChanged)]
    pub fn storage_changed() -> ApiEvent;
    /// The text of the file picked in the file input `input`.
    #[wasm_bindgen(js_name = fileText)]
    pub fn file_text(input: &web_sys::Element) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// A `runtime.Port`.
    pub type Port;
    #[wasm_bindgen(method, getter)]
    pub fn name(this: &Port) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn sender(this: &Port) -> JsValue;
    /// Throws once the other end has gone (its tab closed, the worker stopped): an `Err` here,
    /// never an exception through the caller's frames.
    #[wasm_bindgen(method, catch, js_name = postMessage)]
    pub fn post_message(this: &Port, message: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    pub fn disconnect(this: &Port) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter, js_name = onMessage)]
    pub fn on_message(this: &Port) -> ApiEvent;
    #[wasm_bindgen(method, getter, js_name = onDisconnect)]
    pub fn on_disconnect(this: &Port) -> ApiEvent;

    /// An extension API event (`addListener` / `removeListener`).
    pub type ApiEvent;
    #[wasm_bindgen(method, js_name = addListener)]
    pub fn add_listener(this: &ApiEvent, listener: &Function);
    #[wasm_bindgen(method, js_name = removeListener)]
    pub fn remove_listener(this: &ApiEvent, listener: &Function);
}

/// A listener on an extension API event, removed when dropped.
pub struct Listener {
    event: ApiEvent,
    closure: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    pub fn new(event: ApiEvent, f: impl FnMut(JsValue) + 'static) -> Self {
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        event.add_listener(closure.as_ref().unchecked_ref());
        Listener { event, closure }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.event.remove_listener(self.closure.as_ref().unchecked_ref());
    }
}
