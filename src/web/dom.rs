//! Small DOM helpers for the extension pages the glue renders (panel, popup, options).

use crate::engine::secret::SecretString;
use gloo_events::EventListener;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
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

/// Creates an SVG element `<tag>` with attributes, appended to `parent`.
pub fn add_svg(parent: &Element, tag: &str, attrs: &[(&str, &str)]) -> Result<Element, JsValue> {
    let el = document().create_element_ns(Some("http://www.w3.org/2000/svg"), tag)?;
    for (k, v) in attrs {
        el.set_attribute(k, v)?;
    }
    parent.append_child(&el)?;
    Ok(el)
}

/// A timer that runs `f` once after `ms` milliseconds, cancelled when dropped first.
pub struct Timeout {
    handle: i32,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    pub fn new(ms: u32, f: impl FnOnce() + 'static) -> Self {
        let mut f = Some(f);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.take() {
                f();
            }
        });
        let handle = web_sys::window()
            .and_then(|w| {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(closure.as_ref().unchecked_ref(), ms as i32)
                    .ok()
            })
            .unwrap_or(0);
        Timeout { handle, _closure: closure }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(self.handle);
        }
    }
}

/// A click listener on `el`, removed when the returned value is dropped.
pub fn on_click(el: &Element, f: impl FnMut(&web_sys::Event) + 'static) -> EventListener {
    EventListener::new(el, "click", f)
}

/// A labelled field of a form built by [`form`].
pub struct Field<'a> {
    pub id: &'a str,
    pub label: String,
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
    // Named by the heading above it: two forms may ask for fields of the same name (the vault
    // passphrase, say), which a screen reader then tells apart by the form they are in.
    let mut above = form.previous_element_sibling();
    while let Some(el) = above {
        if matches!(el.tag_name().as_str(), "H2" | "H3") {
            if el.id().is_empty() {
                el.set_id(&format!("{id}-title"));
            }
            form.set_attribute("aria-labelledby", &el.id())?;
            break;
        }
        above = el.previous_element_sibling();
    }
    for field in fields {
        add(&form, "label", &[("for", field.id)], &field.label)?;
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
