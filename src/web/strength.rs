//! The options page's link to the separate passphrase strength module (`strength.js`), which only options.js loads.

use serde::Deserialize;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

/// The strength module's verdict on a passphrase (see `strength/src/lib.rs`).
#[derive(Clone, Debug, Deserialize)]
pub struct Verdict {
    pub score: u8,
    pub acceptable: bool,
    pub summary: String,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
    /// The summary, warning and suggestions as one paragraph.
    pub reasons: String,
}

/// Where the strength module stands.
#[derive(Clone)]
enum Module {
    /// Never asked for (the popup) or still compiling.
    Loading,
    Ready(js_sys::Function),
    Failed,
}

thread_local! {
    static MODULE: RefCell<Module> = const { RefCell::new(Module::Loading) };
}

/// Takes the promise options.js made: it resolves to the module's `estimate`, or `null` when it failed to load.
pub fn load(module: js_sys::Promise, on_ready: impl FnOnce() + 'static) {
    spawn_local(async move {
        let state = match JsFuture::from(module).await {
            Ok(f) if f.is_function() => Module::Ready(f.unchecked_into()),
            _ => Module::Failed,
        };
        MODULE.with(|m| *m.borrow_mut() = state);
        on_ready();
    });
}

/// What can be said about `passphrase` now: `Err` explains why it cannot be judged yet.
pub fn judge(passphrase: &str) -> Result<Verdict, &'static str> {
    let module = MODULE.with(|m| m.borrow().clone());
    let estimate = match module {
        Module::Ready(f) => f,
        Module::Loading => return Err("The strength check is still loading; try again in a moment."),
        Module::Failed => {
            return Err(
                "The passphrase strength check did not load, so no passphrase can be accepted; reload this page.",
            )
        }
    };
    estimate
        .call1(&JsValue::NULL, &JsValue::from_str(passphrase))
        .ok()
        .and_then(|v| serde_wasm_bindgen::from_value(v).ok())
        .ok_or("The passphrase strength check failed; reload this page.")
}
