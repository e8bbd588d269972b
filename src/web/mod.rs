//! The wasm glue: adapts browser events to the engine and back; no decisions are made here.

pub mod api;
pub mod dom;
pub mod options;
pub mod panel;
pub mod popup;
pub mod strength;
pub mod vault;
pub mod vault_ui;
pub mod worker;

use crate::engine::protocol::{Envelope, ErrorCode, Incoming, OutgoingRequest, Out, Reply, Request, VersionOnly, VERSION};
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Turns a Rust value into a plain JS object (maps as objects), the shape extension messaging expects.
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// Wraps a reply or push in the versioned envelope.
pub fn out<T: Serialize>(body: &T) -> JsValue {
    to_js(&Out::new(body))
}

/// Reads a request from a JS message: version first, then the exact shape.
pub fn parse_request(message: &JsValue) -> Result<Request, ErrorCode> {
    let v: VersionOnly = serde_wasm_bindgen::from_value(message.clone()).map_err(|_| ErrorCode::Malformed)?;
    if v.v != VERSION {
        return Err(ErrorCode::Version);
    }
    serde_wasm_bindgen::from_value::<Envelope>(message.clone()).map(|e| e.body).map_err(|_| ErrorCode::Malformed)
}

/// The one place JS exceptions become Rust errors: a short description, never the value itself.
pub fn js_error(e: JsValue) -> String {
    js_sys::Error::from(e).message().into()
}

/// Sends a request from an extension page to the worker and reads its reply.
pub async fn ask(request: &OutgoingRequest) -> Result<Reply, String> {
    let answer = wasm_bindgen_futures::JsFuture::from(api::send_message(&out(request))).await.map_err(js_error)?;
    serde_wasm_bindgen::from_value::<Incoming<Reply>>(answer).map(|i| i.body).map_err(|e| e.to_string())
}
