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

/// A labelled field of a form built by [`form`].
pub struct Field<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub autocomplete: &'a str,
}

/// Builds `<form>` with labelled inputs and a submit button; on submit, `f` gets the values in
/// field order. The listener is returned so the caller owns (and eventually removes) it.
pub fn form(
    parent: &Element,
    id: &str,
    fields: &[Field<'_>],
    submit: &str,
    mut f: impl FnMut(Vec<String>) + 'static,
) -> Result<(Element, EventListener), JsValue> {
    let form = add(parent, "form", &[("id", id)], "")?;
    for field in fields {
        add(&form, "label", &[("for", field.id)], field.label)?;
        if field.kind == "textarea" {
            add(&form, "textarea", &[("id", field.id), ("rows", "6"), ("spellcheck", "false")], "")?;
        } else {
            add(&form, "input", &[("id", field.id), ("type", field.kind), ("autocomplete", field.autocomplete)], "")?;
        }
    }
    add(&form, "button", &[("type", "submit")], submit)?;
    let ids: Vec<String> = fields.iter().map(|f| f.id.to_string()).collect();
    let listener = EventListener::new_with_options(&form, "submit", gloo_events::EventListenerOptions::enable_prevent_default(), move |event| {
        event.prevent_default();
        let values = ids.iter().map(|id| value_of(id)).collect();
        f(values);
    });
    Ok((form, listener))
}

/// The value of the input, textarea or select with `id` ("" when absent).
pub fn value_of(id: &str) -> String {
    document()
        .get_element_by_id(id)
        .and_then(|e| js_sys::Reflect::get(&e, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Removes every child of `el`.
pub fn clear(el: &Element) -> Result<(), JsValue> {
    while let Some(child) = el.first_child() {
        el.remove_child(&child)?;
    }
    Ok(())
}
