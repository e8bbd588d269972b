//! Small DOM helpers for the extension pages the glue renders (panel, popup).

use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use web_sys::{Document, Element};

pub fn document() -> Document {
    web_sys::window().and_then(|w| w.document()).expect("extension pages have a document")
}

/// Creates `<tag>` with attributes and text, appended to `parent`.
pub fn add(parent: &Element, tag: &str, attrs: &[(&str, &str)], text: &str) -> Result<Element, JsValue> {
    let el = document().create_element(tag)?;
    for (k, v) in attrs {
        el.set_attribute(k, v)?;
    }
    if !text.is_empty() {
        el.set_text_content(Some(text));
    }
    parent.append_child(&el)?;
    Ok(el)
}

/// A click listener on `el`, removed when the returned value is dropped.
pub fn on_click(el: &Element, f: impl FnMut(&web_sys::Event) + 'static) -> EventListener {
    EventListener::new(el, "click", f)
}
