//! The options page: the self-hosted servers keywarden may run on, added with the browser's permission.

use super::api;
use super::dom::{add, document, on_click};
use super::i18n::{t, t_with, word};
use super::{ask, js_error};
use crate::engine::listing::{plural, Plural};
use crate::engine::page::Location;
use crate::engine::protocol::{OutgoingRequest, Reply, VendorCard};
use crate::engine::registration::match_pattern;
use gloo_events::{EventListener, EventListenerOptions};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

thread_local! {
    /// Listeners of the current rendering; replaced (and so removed) on every refresh.
    static LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
    /// How many renderings have started: only the latest one is put on the page.
    static RENDERS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn say(status: &Element, text: &str) {
    status.set_text_content(Some(text));
}

fn clear(el: &Element) -> Result<(), JsValue> {
    while let Some(child) = el.first_child() {
        el.remove_child(&child)?;
    }
    Ok(())
}

/// Draws the whole page from the worker's answers. The new page is built apart and put in place
/// in one step, so the admin (or an assistive tool) never meets a half-drawn page, and a
/// rendering that a newer one overtook while it waited for the worker is dropped.
async fn render(root: Element, message: Option<String>) -> Result<(), JsValue> {
    let generation = RENDERS.with(|r| {
        r.set(r.get() + 1);
        r.get()
    });
    let page = document().create_element("div")?;
    let listeners = build(&page, &root, message).await?;
    if RENDERS.with(|r| r.get()) != generation {
        return Ok(());
    }
    clear(&root)?;
    while let Some(child) = page.first_child() {
        root.append_child(&child)?;
    }
    LISTENERS.with(|l| *l.borrow_mut() = listeners);
    super::vault_ui::refresh_strength();
    Ok(())
}

/// Whether the admin asked for every setting (`options.html#settings`), even before a vault exists.
fn all_settings_asked() -> bool {
    web_sys::window().and_then(|w| w.location().hash().ok()).is_some_and(|hash| hash == SETTINGS_HASH)
}

/// The address fragment of the full settings page (kept by a reload).
const SETTINGS_HASH: &str = "#settings";

/// Draws the page into the detached `page`; `root` is where it will go (handlers redraw there).
/// Before a vault exists the page is a short welcome and the vault setup, unless the admin asked
/// for every setting.
async fn build(page: &Element, root: &Element, message: Option<String>) -> Result<Vec<EventListener>, JsValue> {
    // Both are under way at once; the worker answers them in order.
    let (servers, vault) = (ask(&OutgoingRequest::Servers), ask(&OutgoingRequest::VaultStatus));
    let reply = servers.await;
    let vault = match vault.await {
        Ok(Reply::Vault(v)) => Some(v),
        _ => None,
    };
    let first_run = vault.as_ref().is_some_and(|v| !v.set_up);
    let welcoming = first_run && !all_settings_asked();
    let mut listeners = Vec::new();
    let title = if welcoming { t("welcomeTitle") } else { t("optionsTitle") };
    add(page, "h1", &[], &title)?;
    add(page, "p", &[("id", "page-status"), ("role", "status")], message.as_deref().unwrap_or(""))?;
    let again = root.clone();
    let rerender: super::vault_ui::Rerender = std::rc::Rc::new(move |message| {
        let again = again.clone();
        spawn_local(async move {
            let _ = render(again, message).await;
        });
    });
    if let (true, Some(status)) = (welcoming, &vault) {
        listeners.extend(welcome(page, &status.vendors)?);
        let section = add(page, "section", &[("id", "vault"), ("aria-labelledby", "vault-title")], "")?;
        listeners.extend(super::vault_ui::draw(&section, status, &rerender)?);
        let more = add(page, "p", &[("class", "all-settings")], "")?;
        add(&more, "a", &[("id", "all-settings"), ("href", SETTINGS_HASH), ("class", "secondary")], &t("allSettings"))?;
        return Ok(listeners);
    }
    listeners.extend(super::vault_ui::section(page, rerender.clone()).await?);
    let rerender_backup = rerender.clone();
    listeners.extend(super::vault_ui::clipboard_section(page, rerender).await?);
    listeners.extend(walkthrough_section(page).await?);
    let section = add(page, "section", &[("aria-labelledby", "servers-title")], "")?;
    add(&section, "h2", &[("id", "servers-title")], &t("serversTitle"))?;
    let Ok(Reply::Servers { vendors, servers }) = reply else {
        add(&section, "p", &[("role", "alert")], &t("backgroundSilent"))?;
        return Ok(listeners);
    };
    let names: Vec<&str> = vendors.iter().map(|v| v.name.as_str()).collect();
    add(&section, "p", &[], &t_with("serversIntro", &[&names.join(", ")]))?;
    let list = add(&section, "ul", &[("id", "server-list")], "")?;
    if servers.is_empty() {
        add(&list, "li", &[("class", "empty")], &t("noServers"))?;
    }
    let status = add(&section, "p", &[("id", "server-status"), ("role", "status")], "")?;
    for server in &servers {
        let vendor = vendors.iter().find(|v| v.id == server.vendor).map_or(server.vendor.as_str(), |v| v.name.as_str());
        let item = add(&list, "li", &[("data-host", &server.host)], &format!("{} ({vendor}) ", server.host))?;
        let label = t_with("removeServerLabel", &[&server.host]);
        let remove = add(&item, "button", &[("type", "button"), ("aria-label", &label)], &t("removeServer"))?;
        let (root, host) = (root.clone(), server.host.clone());
        listeners.push(on_click(&remove, move |_| {
            let (root, host) = (root.clone(), host.clone());
            spawn_local(async move {
                let message = match ask(&OutgoingRequest::RemoveServer { host: host.clone() }).await {
                    Ok(Reply::Servers { .. }) => {
                        match JsFuture::from(api::remove_origin(&match_pattern(&host))).await {
                            Ok(_) => t_with("serverRemoved", &[&host]),
                            Err(e) => t_with("serverRemovedPermissionKept", &[&host, &js_error(e)]),
                        }
                    }
                    Ok(Reply::Error { message, .. }) => t_with("serverNotRemoved", &[&host, &word(&message)]),
                    Ok(_) | Err(_) => t_with("serverNotRemovedSilent", &[&host]),
                };
                if let Err(e) = render(root, Some(message)).await {
                    web_sys::console::error_1(&e);
                }
            });
        }));
    }
    let form = add(&section, "form", &[("id", "add-server")], "")?;
    add(&form, "label", &[("for", "server-vendor")], &t("productLabel"))?;
    let select = add(&form, "select", &[("id", "server-vendor")], "")?;
    for v in &vendors {
        add(&select, "option", &[("value", &v.id)], &v.name)?;
    }
    add(&form, "label", &[("for", "server-url")], &t("serverAddressLabel"))?;
    let placeholder = t("serverAddressPlaceholder");
    add(&form, "input", &[("id", "server-url"), ("type", "url"), ("required", ""), ("placeholder", &placeholder)], "")?;
    add(&form, "button", &[("type", "submit"), ("class", "primary")], &t("addServer"))?;
    let root_for_submit = root.clone();
    let options = EventListenerOptions::enable_prevent_default();
    listeners.push(EventListener::new_with_options(&form, "submit", options, move |event| {
        event.prevent_default();
        let doc = document();
        let url =
            doc.get_element_by_id("server-url").and_then(|e| e.dyn_into::<HtmlInputElement>().ok()).map(|i| i.value());
        let vendor = doc
            .get_element_by_id("server-vendor")
            .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
            .map(|s| s.value());
        let (Some(url), Some(vendor)) = (url, vendor) else { return };
        let host = match Location::parse(url.trim()) {
            Ok(l) => l.host,
            Err(_) => return say(&status, &t("serverAddressInvalid")),
        };
        // The permission prompt must be asked for within the click, before any await.
        let granted = JsFuture::from(api::request_origin(&match_pattern(&host)));
        let root = root_for_submit.clone();
        spawn_local(async move {
            let message = match granted.await.map(|g| g.is_truthy()) {
                Ok(true) => match ask(&OutgoingRequest::AddServer { vendor, url: url.trim().to_string() }).await {
                    Ok(Reply::Servers { .. }) => t_with("serverAdded", &[&host]),
                    Ok(Reply::Error { message, .. }) => word(&message),
                    _ => t("backgroundNoAnswer"),
                },
                Ok(false) => t_with("permissionNotGranted", &[&host]),
                Err(e) => t_with("permissionFailed", &[&host, &js_error(e)]),
            };
            let _ = render(root, Some(message)).await;
        });
    }));
    if let Some(v) = vault.as_ref().filter(|v| v.unlocked) {
        listeners.extend(super::vault_ui::backup_section(page, v, &rerender_backup)?);
    }
    maintenance(page).await?;
    Ok(listeners)
}

/// Before there is a vault (a first install opens this page): what keywarden does and for whom,
/// each vendor with the way to its key page, then the vault setup that follows.
fn welcome(root: &Element, vendors: &[VendorCard]) -> Result<Vec<EventListener>, JsValue> {
    let section = add(root, "section", &[("id", "welcome"), ("aria-labelledby", "welcome-title")], "")?;
    add(&section, "h2", &[("id", "welcome-title")], &t("welcomeWhat"))?;
    let steps = add(&section, "ol", &[], "")?;
    for line in [t("welcomeGuide"), t("welcomeCapture"), t("welcomeCopy")] {
        add(&steps, "li", &[], &line)?;
    }
    add(&section, "p", &[], &t("welcomeVendors"))?;
    let list = add(&section, "ul", &[("id", "welcome-vendors")], "")?;
    let listeners = super::vendors::draw(&list, vendors, super::vendors::NoServer::SayWhere)?;
    add(&section, "p", &[("class", "next")], &t("welcomeNext"))?;
    Ok(listeners)
}

/// The walkthrough section: per vendor, whether its walkthrough appears by itself on its key
/// pages (switched off from the panel with "Don't guide me on …").
async fn walkthrough_section(root: &Element) -> Result<Vec<EventListener>, JsValue> {
    let section = add(root, "section", &[("id", "walkthrough"), ("aria-labelledby", "walkthrough-title")], "")?;
    add(&section, "h2", &[("id", "walkthrough-title")], &t("walkthroughTitle"))?;
    add(&section, "p", &[], &t("walkthroughIntro"))?;
    let Ok(Reply::Guidance { vendors }) = ask(&OutgoingRequest::Guidance).await else {
        add(&section, "p", &[("role", "alert")], &t("backgroundSilent"))?;
        return Ok(Vec::new());
    };
    let fieldset = add(&section, "fieldset", &[], "")?;
    add(&fieldset, "legend", &[], &t("walkthroughLegend"))?;
    let status = add(&section, "p", &[("id", "walkthrough-status"), ("role", "status")], "")?;
    let mut listeners = Vec::new();
    for v in vendors {
        let id = format!("guide-{}", v.vendor);
        let row = add(&fieldset, "div", &[("class", "switch")], "")?;
        let input = add(&row, "input", &[("type", "checkbox"), ("id", &id), ("role", "switch")], "")?;
        if v.on {
            input.set_attribute("checked", "")?;
        }
        add(&row, "label", &[("for", &id)], &v.name)?;
        let (status, name) = (status.clone(), v.name.clone());
        listeners.push(EventListener::new(&input, "change", move |event| {
            let Some(on) = event.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()).map(|i| i.checked())
            else {
                return;
            };
            let (status, name, vendor) = (status.clone(), name.clone(), v.vendor.clone());
            spawn_local(async move {
                let message = match ask(&OutgoingRequest::SetGuidance { vendor, on }).await {
                    Ok(Reply::Guidance { .. }) if on => t_with("walkthroughOn", &[&name]),
                    Ok(Reply::Guidance { .. }) => t_with("walkthroughOff", &[&name]),
                    Ok(Reply::Error { message, .. }) => word(&message),
                    _ => t("backgroundNoAnswer"),
                };
                say(&status, &message);
            });
        }));
    }
    Ok(listeners)
}

/// For recipe maintainers: the steps keywarden could not find on recognized vendor pages.
async fn maintenance(root: &Element) -> Result<(), JsValue> {
    let section = add(root, "section", &[("id", "maintenance"), ("aria-labelledby", "maintenance-title")], "")?;
    add(&section, "h2", &[("id", "maintenance-title")], &t("maintenanceTitle"))?;
    let Ok(Reply::Status { drift, .. }) = ask(&OutgoingRequest::Status { tab: None }).await else {
        add(&section, "p", &[("role", "alert")], &t("backgroundSilent"))?;
        return Ok(());
    };
    add(&section, "h3", &[], &t("driftTitle"))?;
    if drift.is_empty() {
        add(&section, "p", &[("class", "empty")], &t("driftNone"))?;
        return Ok(());
    }
    add(&section, "p", &[], &t("driftIntro"))?;
    let list = add(&section, "ul", &[("id", "drift")], "")?;
    for d in drift.iter().rev() {
        let when: String =
            js_sys::Date::new(&JsValue::from_f64(d.at as f64)).to_locale_string("default", &JsValue::UNDEFINED).into();
        let text = match plural(d.count as usize) {
            Plural::One => t_with("driftSeenOnce", &[&d.vendor, &d.page, &d.step, &when]),
            Plural::Other => t_with("driftSeen", &[&d.vendor, &d.page, &d.step, &d.count.to_string(), &when]),
        };
        add(&list, "li", &[("data-vendor", &d.vendor), ("data-step", &d.step)], &text)?;
    }
    Ok(())
}

/// Entry point of options.html. `strength` is options.js's promise of the separate strength
/// module's `estimate` function (`null` when that module failed to load).
#[wasm_bindgen]
pub fn options_main(strength: js_sys::Promise) -> Result<(), JsValue> {
    // The HTML says it in English until this runs; the catalog says it in the browser's language.
    document().set_title(&t("pageTitleOptions"));
    let root = document().get_element_by_id("root").ok_or_else(|| JsValue::from_str("options root missing"))?;
    super::strength::load(strength, super::vault_ui::refresh_strength);
    let first = root.clone();
    spawn_local(async move {
        let _ = render(first, None).await;
    });
    // "All settings" (or the browser's Back from them) changes the fragment: draw the page for
    // it, and take the focus to its heading, as the control that moved it is gone.
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("options window missing"))?;
    EventListener::new(&window, "hashchange", move |_| {
        let root = root.clone();
        spawn_local(async move {
            if render(root.clone(), None).await.is_ok() {
                if let Some(heading) =
                    root.query_selector("h1").ok().flatten().and_then(|h| h.dyn_into::<HtmlElement>().ok())
                {
                    let _ = heading.set_attribute("tabindex", "-1");
                    let _ = heading.focus();
                }
            }
        });
    })
    .forget();
    Ok(())
}
