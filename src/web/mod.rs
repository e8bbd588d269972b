//! The wasm glue: adapts browser events to the engine and back; no decisions are made here.

pub mod api;
pub mod dom;
pub mod i18n;
// The step panel's module (feature `panel-frame`) holds the panel and nothing else: every vendor
// tab loads it, so it leaves out the worker, the vault and the pages that manage it. The pages'
// module (feature `pages-frame`) holds the popup and the options page, which only render and ask
// the worker by message: it leaves out the worker (and with it the vault's crypto) and the panel.
// The full core, built with neither, holds everything (the worker loads it; the wasm tests use it).
#[cfg(not(feature = "panel-frame"))]
pub mod clipboard;
#[cfg(not(feature = "panel-frame"))]
pub mod options;
#[cfg(not(feature = "pages-frame"))]
pub mod panel;
#[cfg(not(feature = "panel-frame"))]
pub mod popup;
#[cfg(not(feature = "panel-frame"))]
pub mod strength;
#[cfg(not(feature = "panel-frame"))]
pub mod vault_ui;
#[cfg(not(feature = "panel-frame"))]
pub mod vendors;
#[cfg(not(any(feature = "panel-frame", feature = "pages-frame")))]
pub mod worker;

use crate::engine::protocol::{ErrorCode, Inbound, Incoming, Out, OutgoingRequest, Reply, VersionOnly, VERSION};
use crate::engine::vault::store::StoreError;
use crate::engine::words::Words;
use crate::words;
use serde::Serialize;
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// Turns a Rust value into a plain JS object (maps as objects), the shape extension messaging expects.
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// Wraps a reply or push in the versioned envelope.
pub fn out<T: Serialize>(body: &T) -> JsValue {
    to_js(&Out::new(body))
}

/// A message as the browser delivered it, read by the protocol in two steps.
pub struct JsInbound<'a>(pub &'a JsValue);

impl Inbound for JsInbound<'_> {
    fn version(&self) -> Result<u32, ErrorCode> {
        serde_wasm_bindgen::from_value::<VersionOnly>(self.0.clone()).map(|v| v.v).map_err(|_| ErrorCode::Malformed)
    }

    fn body<T: serde::de::DeserializeOwned>(&self) -> Result<T, ErrorCode> {
        serde_wasm_bindgen::from_value::<crate::engine::protocol::Envelope<T>>(self.0.clone())
            .map(|e| e.body)
            .map_err(|_| ErrorCode::Malformed)
    }
}

/// The one error type for a failed browser call. `api.js` turns every rejection into
/// `{ kind, message }`: `kind` is `"quota"` when the browser said the storage area is full (by the
/// error's type or the area's quota), `"failed"` otherwise. The message never holds a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsError {
    /// The storage area is full.
    Quota(String),
    /// Any other failure.
    Failed(String),
}

impl JsError {
    pub fn from_js(e: JsValue) -> Self {
        let field = |name: &str| js_sys::Reflect::get(&e, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
        let message = field("message")
            .or_else(|| e.dyn_ref::<js_sys::Error>().map(|err| String::from(err.message())))
            .unwrap_or_else(|| "unknown error".into());
        match field("kind").as_deref() {
            Some("quota") => JsError::Quota(message),
            _ => JsError::Failed(message),
        }
    }

    /// The core's storage error for this failure.
    pub fn into_store_error(self, needed: usize) -> StoreError {
        match self {
            JsError::Quota(_) => StoreError::QuotaExceeded { needed, available: 0 },
            JsError::Failed(m) => StoreError::Failed(m),
        }
    }
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsError::Quota(m) | JsError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for JsError {}

impl From<JsValue> for JsError {
    fn from(e: JsValue) -> Self {
        JsError::from_js(e)
    }
}

/// A short description of a JS failure, for pages to show.
pub fn js_error(e: JsValue) -> String {
    JsError::from_js(e).to_string()
}

/// Sends a request from an extension page to the worker at once, and gives a future of its reply,
/// refusing a reply of another protocol version. The error says why in the admin's words. Since the
/// message leaves before the future is first polled, a page can have several requests under way.
pub fn ask(request: &OutgoingRequest) -> impl std::future::Future<Output = Result<Reply, Words>> {
    let sent = wasm_bindgen_futures::JsFuture::from(api::send_message(&out(request)));
    async move {
        let answer = sent.await.map_err(|e| words!("errNoAnswer", js_error(e)))?;
        let unreadable = |e: serde_wasm_bindgen::Error| words!("errUnreadableAnswer", e.to_string());
        let version = serde_wasm_bindgen::from_value::<VersionOnly>(answer.clone()).map_err(unreadable)?;
        if version.v != VERSION {
            return Err(words!("errOtherVersion", version.v, VERSION));
        }
        // A body sent as JSON text (the vault's listing) is read in one pass.
        if let Some(text) = js_sys::Reflect::get(&answer, &JsValue::from_str("json")).ok().and_then(|t| t.as_string()) {
            return serde_json::from_str::<Reply>(&text).map_err(|e| words!("errUnreadableAnswer", e.to_string()));
        }
        serde_wasm_bindgen::from_value::<Incoming<Reply>>(answer).map(|i| i.body).map_err(unreadable)
    }
}
