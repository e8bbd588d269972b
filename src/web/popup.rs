//! The popup: what keywarden sees in the current tab, and a way to bring a dismissed walkthrough back.

use super::api;
use super::ask;
use super::dom::{add, document, on_click};
use crate::engine::protocol::{OutgoingRequest, Reply};
use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::Element;

thread_local! {
    /// Listeners of the current rendering; replaced (and so removed) on every refresh.
    static LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
}

async fn refresh(root: Element, message: Option<String>) -> Result<(), JsValue> {
    let tab = JsFuture::from(api::active_tab_id()).await?.as_f64().map(|t| t as u32);
    while let Some(child) = root.first_child() {
        root.remove_child(&child)?;
    }
    let mut listeners = Vec::new();
    add(&root, "h1", &[], "keywarden")?;
    add(&root, "p", &[("id", "page-status"), ("role", "status")], message.as_deref().unwrap_or(""))?;
    let again = root.clone();
    let rerender: super::vault_ui::Rerender = Rc::new(move |message| {
        let again = again.clone();
        spawn_local(async move {
            let _ = refresh(again, message).await;
        });
    });
    listeners.extend(super::vault_ui::section(&root, false, rerender).await?);
    let reply = ask(&OutgoingRequest::Status { tab }).await;
    let Ok(Reply::Status { tab: status, captures_received, drift }) = reply else {
        add(&root, "p", &[("role", "alert")], "The extension's background is not answering; reopen this popup.")?;
        return Ok(());
    };
    let state = add(&root, "p", &[("id", "tab-state")], "")?;
    match status {
        None => state.set_text_content(Some("No vendor page recognized in this tab.")),
        Some(s) => {
            let step = s.step_title.as_deref().unwrap_or("no step to show here");
            state.set_text_content(Some(&format!(
                "{}: {}",
                s.vendor_name,
                if s.dismissed { "walkthrough dismissed" } else { step }
            )));
            if let (true, Some(tab)) = (s.dismissed, tab) {
                let button =
                    add(&root, "button", &[("type", "button"), ("id", "resume")], "Show the walkthrough again")?;
                let again = root.clone();
                listeners.push(on_click(&button, move |_| {
                    let again = again.clone();
                    spawn_local(async move {
                        let message = match ask(&OutgoingRequest::Resume { tab }).await {
                            Ok(Reply::Error { message, .. }) => Some(message),
                            Err(e) => Some(e),
                            Ok(_) => None,
                        };
                        if let Err(e) = refresh(again, message).await {
                            web_sys::console::error_1(&e);
                        }
                    });
                }));
            }
        }
    }
    let noun = if captures_received == 1 { "key" } else { "keys" };
    add(&root, "p", &[("id", "captures")], &format!("{captures_received} {noun} captured since the browser started."))?;
    let settings = add(&root, "button", &[("type", "button"), ("id", "settings")], "Settings")?;
    listeners.push(on_click(&settings, |_| {
        let _ = api::open_options_page();
    }));
    if !drift.is_empty() {
        add(&root, "h2", &[], "Steps keywarden could not find")?;
        let list = add(&root, "ul", &[("id", "drift")], "")?;
        for d in drift.iter().rev() {
            let seen = if d.count == 1 { "once".to_string() } else { format!("{} times", d.count) };
            let when =
                js_sys::Date::new(&JsValue::from_f64(d.at as f64)).to_locale_string("default", &JsValue::UNDEFINED);
            add(
                &list,
                "li",
                &[("data-vendor", &d.vendor), ("data-step", &d.step)],
                &format!("{} › {} › {}: seen {seen}, last {}", d.vendor, d.page, d.step, String::from(when)),
            )?;
        }
    }
    LISTENERS.with(|l| *l.borrow_mut() = listeners);
    Ok(())
}

/// Entry point of popup.html.
#[wasm_bindgen]
pub fn popup_main() -> Result<(), JsValue> {
    let root = document().get_element_by_id("root").ok_or_else(|| JsValue::from_str("popup root missing"))?;
    spawn_local(async move {
        let _ = refresh(root, None).await;
    });
    Ok(())
}
