//! The options page's link to the separate passphrase strength module (`strength.js`), which only options.js loads.

use super::i18n::{t, t_with};
use serde::Deserialize;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

/// The strength module's verdict on a passphrase (see `strength/src/lib.rs`); its texts are
/// message names, worded here.
#[derive(Clone, Debug, Deserialize)]
pub struct Verdict {
    pub score: u8,
    pub acceptable: bool,
    summary: Summary,
    warning: Option<String>,
    suggestions: Vec<String>,
}

/// The verdict's one line: a message name and its substitutions.
#[derive(Clone, Debug, Deserialize)]
struct Summary {
    name: String,
    #[serde(default)]
    args: Vec<String>,
}

impl Verdict {
    /// The one-line verdict.
    pub fn summary(&self) -> String {
        let args: Vec<&str> = self.summary.args.iter().map(String::as_str).collect();
        t_with(&self.summary.name, &args)
    }

    /// What makes the passphrase easy to guess, then how to do better.
    pub fn hints(&self) -> Vec<String> {
        self.warning.iter().chain(&self.suggestions).map(|name| t(name)).collect()
    }

    /// The summary and hints as one paragraph.
    pub fn reasons(&self) -> String {
        std::iter::once(self.summary()).chain(self.hints()).collect::<Vec<_>>().join(" ")
    }
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
pub fn judge(passphrase: &str) -> Result<Verdict, String> {
    let module = MODULE.with(|m| m.borrow().clone());
    let estimate = match module {
        Module::Ready(f) => f,
        Module::Loading => return Err(t("strengthLoading")),
        Module::Failed => return Err(t("strengthNotLoaded")),
    };
    estimate
        .call1(&JsValue::NULL, &JsValue::from_str(passphrase))
        .ok()
        .and_then(|v| serde_wasm_bindgen::from_value(v).ok())
        .ok_or_else(|| t("strengthFailed"))
}
