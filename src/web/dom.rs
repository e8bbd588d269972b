//! Small DOM helpers for the extension pages the glue renders (panel, popup, options).

use crate::engine::secret::SecretString;
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

/// The fields of a submitted [`form`], read by position.
pub struct Submitted {
    ids: Vec<String>,
}

impl Submitted {
    /// A plain field's value.
    pub fn text(&self, i: usize) -> String {
        self.ids.get(i).map(|id| value_of(id)).unwrap_or_default()
    }

    /// A passphrase field's value, moved into a `SecretString`; the field is emptied.
    pub fn secret(&self, i: usize) -> SecretString {
        self.ids.get(i).map(|id| take_secret(id)).unwrap_or_else(|| SecretString::new(String::new()))
    }
}

/// Builds `<form>` with labelled inputs and a submit button; on submit, `f` reads the fields.
/// The listener is returned so the caller owns (and eventually removes) it.
pub fn form(
    parent: &Element,
    id: &str,
    fields: &[Field<'_>],
    submit: &str,
    mut f: impl FnMut(&Submitted) + 'static,
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
    let submitted = Submitted { ids: fields.iter().map(|f| f.id.to_string()).collect() };
    let listener = EventListener::new_with_options(
        &form,
        "submit",
        gloo_events::EventListenerOptions::enable_prevent_default(),
        move |event| {
            event.prevent_default();
            f(&submitted);
        },
    );
    Ok((form, listener))
}

/// Moves the value of the field with `id` into a `SecretString` and empties the field.
pub fn take_secret(id: &str) -> SecretString {
    let secret = SecretString::new(value_of(id));
    if let Some(field) = document().get_element_by_id(id) {
        let _ = js_sys::Reflect::set(&field, &JsValue::from_str("value"), &JsValue::from_str(""));
    }
    secret
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
