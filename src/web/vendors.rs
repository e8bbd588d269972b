//! The vendors keywarden knows, drawn for the popup's empty state and the options page's welcome: each with its icon and the way to its key page.

use super::api;
use super::dom::{add, add_svg, on_click};
use super::i18n::{t, t_with};
use crate::engine::listing;
use crate::engine::protocol::VendorCard;
use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use web_sys::Element;

/// What a self-hosted vendor with no server added yet offers.
#[derive(Clone, Copy)]
pub enum NoServer {
    /// A link button that opens the settings (the popup).
    OpenSettings,
    /// A line saying where servers are added (the options page, which holds that setting).
    SayWhere,
}

/// Draws `vendors` into the list `list`, sorted by name: a vendor on fixed hosts links to its key
/// page (or says where its console is), a self-hosted one links to its key page on each server
/// the admin added, or offers to add one.
pub fn draw(list: &Element, vendors: &[VendorCard], no_server: NoServer) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let mut vendors: Vec<&VendorCard> = vendors.iter().collect();
    vendors.sort_by_key(|v| v.name.to_lowercase());
    const NEW_TAB: [(&str, &str); 2] = [("target", "_blank"), ("rel", "noopener noreferrer")];
    for v in vendors {
        let item = add(list, "li", &[("data-vendor", &v.id)], "")?;
        icon(&item, &v.id, &v.name)?;
        let text = add(&item, "span", &[("class", "vendor-text")], "")?;
        match (&v.key_page_url, v.self_hosted) {
            (Some(url), _) => {
                add(&text, "a", &[&[("class", "vendor"), ("href", url.as_str())], &NEW_TAB[..]].concat(), &v.name)?;
                add(&text, "span", &[("class", "muted")], &v.hosts.join(", "))?;
            }
            (None, true) if !v.server_pages.is_empty() => {
                add(&text, "span", &[("class", "vendor")], &v.name)?;
                let servers = add(&text, "span", &[("class", "servers")], "")?;
                for page in &v.server_pages {
                    let label = t_with("vendorKeyPageOn", &[&v.name, &page.server]);
                    let attrs = [("class", "server"), ("href", page.url.as_str()), ("aria-label", label.as_str())];
                    add(&servers, "a", &[&attrs[..], &NEW_TAB[..]].concat(), &page.server)?;
                }
            }
            (None, true) => {
                add(&text, "span", &[("class", "vendor")], &v.name)?;
                match no_server {
                    NoServer::OpenSettings => {
                        let attrs = [("type", "button"), ("class", "link"), ("data-action", "servers")];
                        let open = add(&text, "button", &attrs, &t("popupAddServer"))?;
                        listeners.push(on_click(&open, |_| {
                            let _ = api::open_options_page();
                        }));
                    }
                    NoServer::SayWhere => {
                        add(&text, "span", &[("class", "muted")], &t("welcomeOwnServer"))?;
                    }
                }
            }
            (None, false) => {
                add(&text, "span", &[("class", "vendor")], &v.name)?;
                add(&text, "span", &[("class", "muted")], &t_with("popupSignInAt", &[&v.hosts.join(", ")]))?;
            }
        }
    }
    Ok(listeners)
}

/// A vendor's icon: its initials on a tile of its own hue, hidden from screen readers (its name
/// is written beside it).
pub fn icon(parent: &Element, vendor: &str, name: &str) -> Result<(), JsValue> {
    let attrs = [
        ("viewBox", "0 0 24 24"),
        ("width", "20"),
        ("height", "20"),
        ("class", "vendor-icon"),
        ("aria-hidden", "true"),
    ];
    let svg = add_svg(parent, "svg", &attrs)?;
    let fill = format!("hsl({} 55% 36%)", listing::hue(vendor));
    add_svg(&svg, "rect", &[("width", "24"), ("height", "24"), ("rx", "6"), ("fill", &fill)])?;
    let letters = listing::monogram(name);
    let size = if letters.chars().count() > 1 { "10" } else { "13" };
    let text = add_svg(
        &svg,
        "text",
        &[
            ("x", "12"),
            ("y", "12.5"),
            ("text-anchor", "middle"),
            ("dominant-baseline", "middle"),
            ("font-size", size),
            ("font-weight", "700"),
            ("fill", "#fff"),
        ],
    )?;
    text.set_text_content(Some(&letters));
    Ok(())
}
