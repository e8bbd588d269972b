//! The step panel: an extension page framed into the vendor page, rendered here from the worker's view.

use super::api::{self, Listener, Port};
use super::dom::{add, document, on_click};
use super::i18n::{t, t_with};
use super::out;
use crate::engine::protocol::{Incoming, PanelPush, PanelRequest, PanelView, StepEvent as Event, VERSION};
use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{Element, KeyboardEvent};

/// The panel's elements, built once and updated for every view.
pub struct PanelUi {
    pub dialog: Element,
    vendor: Element,
    progress: Element,
    title: Element,
    body: Element,
    why: Element,
    warning: Element,
    prerequisites: Element,
    /// The step and the prerequisites last listed: while they stay the same, the list is left as
    /// the admin left it (opened or closed, focus on its summary).
    listed: RefCell<Option<(String, Vec<String>)>>,
    back: Element,
    next: Element,
    dismiss: Element,
    quiet: Element,
    close: Element,
    setup: Element,
    live: Element,
    buttons: Vec<(Element, Event)>,
}

impl PanelUi {
    /// Builds the panel inside `root`: a labelled, non-modal dialog with Back, Next and Dismiss.
    pub fn build(root: &Element) -> Result<PanelUi, JsValue> {
        let dialog = add(
            root,
            "section",
            &[
                ("role", "dialog"),
                ("aria-modal", "false"),
                ("aria-labelledby", "kw-title"),
                ("aria-describedby", "kw-warning kw-body kw-why"),
            ],
            "",
        )?;
        let header = add(&dialog, "header", &[], "")?;
        let vendor = add(&header, "span", &[("class", "vendor")], "")?;
        let progress = add(&header, "span", &[("class", "progress")], "")?;
        let title = add(&dialog, "h1", &[("id", "kw-title")], "")?;
        let warning = add(&dialog, "p", &[("id", "kw-warning"), ("class", "warning"), ("role", "note")], "")?;
        let body = add(&dialog, "p", &[("id", "kw-body")], "")?;
        let why = add(&dialog, "p", &[("id", "kw-why"), ("class", "why")], "")?;
        let prerequisites = add(&dialog, "details", &[("class", "prerequisites")], "")?;
        let setup = add(&dialog, "button", &[("type", "button"), ("data-action", "setup")], &t("panelSetUpVault"))?;
        let nav = add(&dialog, "nav", &[("class", "actions"), ("aria-label", &t("panelNav"))], "")?;
        let back = add(&nav, "button", &[("type", "button"), ("data-action", "back")], &t("panelBack"))?;
        let next =
            add(&nav, "button", &[("type", "button"), ("data-action", "next"), ("class", "primary")], &t("panelNext"))?;
        let close = add(
            &nav,
            "button",
            &[("type", "button"), ("data-action", "close"), ("class", "primary")],
            &t("panelClose"),
        )?;
        let dismiss = add(
            &nav,
            "button",
            &[("type", "button"), ("data-action", "dismiss"), ("aria-keyshortcuts", "Escape")],
            &t("panelNotNow"),
        )?;
        let quiet = add(&dialog, "button", &[("type", "button"), ("data-action", "quiet"), ("class", "link")], "")?;
        let live = add(&dialog, "p", &[("class", "visually-hidden"), ("aria-live", "polite")], "")?;
        let buttons = vec![
            (back.clone(), Event::Back),
            (next.clone(), Event::Next),
            (dismiss.clone(), Event::Dismiss),
            (quiet.clone(), Event::Quiet),
            (close.clone(), Event::Close),
        ];
        Ok(PanelUi {
            dialog,
            vendor,
            progress,
            title,
            body,
            why,
            warning,
            prerequisites,
            listed: RefCell::new(None),
            back,
            next,
            dismiss,
            quiet,
            close,
            setup,
            live,
            buttons,
        })
    }

    /// Shows `view`, or hides the dialog when there is no step to show.
    pub fn show(&self, view: Option<&PanelView>) -> Result<(), JsValue> {
        let Some(v) = view else {
            self.dialog.set_attribute("hidden", "")?;
            self.dialog.remove_attribute("data-step")?;
            return Ok(());
        };
        self.dialog.remove_attribute("hidden")?;
        self.dialog.set_attribute("data-step", &v.step)?;
        self.dialog.set_attribute("data-vendor", &v.vendor)?;
        self.vendor.set_text_content(Some(&v.vendor_name));
        let saved = v.saved.is_some();
        let progress = if saved {
            t("panelSavedBadge")
        } else {
            t_with("panelStep", &[&v.position.to_string(), &v.total.to_string()])
        };
        self.progress.set_text_content(Some(&progress));
        self.quiet.set_text_content(Some(&t_with("panelQuiet", &[&v.vendor_name])));
        for (el, shown) in [
            (&self.back, !saved),
            (&self.next, !saved && v.can_next),
            (&self.dismiss, !saved),
            (&self.quiet, !saved),
            (&self.close, saved),
            (&self.setup, !saved && v.needs_vault),
        ] {
            toggle(el, shown)?;
        }
        if saved {
            self.dialog.set_attribute("data-saved", "")?;
        } else {
            self.dialog.remove_attribute("data-saved")?;
        }
        match &v.saved {
            Some(note) => {
                let label = if note.label.is_empty() { &v.key_label } else { &note.label };
                let name = if note.name.is_empty() { t("panelUnnamedKey") } else { note.name.clone() };
                self.title.set_text_content(Some(&t_with("panelSavedTitle", &[&name, &note.hint])));
                self.body.set_text_content(Some(&t_with("panelSavedBody", &[label, &name])));
            }
            None => {
                self.title.set_text_content(Some(&v.title));
                self.body.set_text_content(Some(&v.body));
            }
        }
        match &v.why {
            Some(why) => {
                self.why.set_text_content(Some(&t_with("panelWhy", &[why])));
                self.why.remove_attribute("hidden")?;
            }
            None => self.why.set_attribute("hidden", "")?,
        }
        match &v.warning {
            Some(w) => {
                self.warning.set_text_content(Some(&t_with("panelWarning", &[w])));
                self.warning.remove_attribute("hidden")?;
            }
            None => self.warning.set_attribute("hidden", "")?,
        }
        // No vault comes first: a key made now could not be kept.
        let no_vault = v.needs_vault.then(|| t_with("panelNoVault", &[&v.key_label]));
        let listed: Vec<&str> =
            no_vault.iter().map(String::as_str).chain(v.prerequisites.iter().map(String::as_str)).collect();
        let now = (v.step.clone(), listed.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let unchanged = self.listed.borrow().as_ref() == Some(&now) && !saved;
        if unchanged {
            // The same list for the same step: leave it opened or closed as the admin left it.
        } else if listed.is_empty() || saved {
            self.prerequisites.set_text_content(None);
            self.prerequisites.set_attribute("hidden", "")?;
            *self.listed.borrow_mut() = None;
        } else {
            self.prerequisites.set_text_content(None);
            *self.listed.borrow_mut() = Some(now);
            self.prerequisites.remove_attribute("hidden")?;
            add(&self.prerequisites, "summary", &[], &t("panelBefore"))?;
            let list = add(&self.prerequisites, "ul", &[], "")?;
            for (i, p) in listed.iter().enumerate() {
                let item = add(&list, "li", &[], p)?;
                if i == 0 && no_vault.is_some() {
                    item.set_attribute("class", "no-vault")?;
                }
            }
            // Open on the first step, when something is missing and without a vault: that is
            // when they matter.
            if v.position == 1 || v.missing || v.needs_vault {
                self.prerequisites.set_attribute("open", "")?;
            } else {
                self.prerequisites.remove_attribute("open")?;
            }
        }
        if v.missing {
            self.dialog.set_attribute("data-missing", "")?;
        } else {
            self.dialog.remove_attribute("data-missing")?;
        }
        if v.can_back {
            self.back.remove_attribute("disabled")?;
        } else {
            self.back.set_attribute("disabled", "")?;
        }
        self.live.set_text_content(Some(&format!("{progress}: {}", v.title)));
        Ok(())
    }
}

/// Shows or hides `el` (the `hidden` attribute).
fn toggle(el: &Element, shown: bool) -> Result<(), JsValue> {
    if shown {
        el.remove_attribute("hidden")
    } else {
        el.set_attribute("hidden", "")
    }
}

/// How long the note after a save stays before the panel closes by itself, unless the admin is
/// reading it (the pointer or the focus is in the panel).
const SAVED_NOTE_MS: i32 = 12_000;

/// The running panel; lives as long as the page.
struct Panel {
    _ui: Rc<PanelUi>,
    _fit: Fit,
    _port: Rc<Port>,
    _listeners: Vec<EventListener>,
    _port_listener: Listener,
}

thread_local! {
    static PANEL: RefCell<Option<Panel>> = const { RefCell::new(None) };
}

/// Sends the admin's press to the worker; a port the worker has closed takes nothing (an error
/// here, not an exception through the listener).
fn send(port: &Port, event: Event) {
    port.post_message(&out(&PanelRequest::Panel { event })).ok();
}

/// Tells the worker how tall the panel's content is whenever its size changes (a new view, the
/// prerequisites opened or closed, the frame shown again after being hidden), for the content
/// script to size the frame; only through the worker, so the page cannot post a size of its own.
/// The observer stops when this is dropped.
struct Fit {
    observer: web_sys::ResizeObserver,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Fit {
    fn new(port: Rc<Port>, dialog: &Element) -> Result<Fit, JsValue> {
        let last = std::cell::Cell::new(0);
        let measured = dialog.clone();
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            // scrollHeight rounds to whole pixels: one more keeps a fractional last line unclipped;
            // a dialog not drawn (hidden, or its frame hidden) measures 0 and is not reported.
            let height = measured.scroll_height();
            if height > 0 && height + 1 != last.get() {
                last.set(height + 1);
                port.post_message(&out(&PanelRequest::Fit { height: (height + 1) as u32 })).ok();
            }
        });
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref())?;
        observer.observe(dialog);
        Ok(Fit { observer, _callback: callback })
    }
}

impl Drop for Fit {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// The port name for a panel at `url`: `panel:` and the nonce the content script put in the
/// fragment when it created this frame (32 hex digits), or None for a frame it did not create.
pub fn port_name(url: &str) -> Option<String> {
    let (_, nonce) = url.split_once('#')?;
    (nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| format!("panel:{nonce}"))
}

/// Whether the admin is reading the panel: the pointer over it or the focus in it.
fn reading() -> bool {
    let doc = document();
    doc.has_focus().unwrap_or(false) || doc.query_selector(":hover").ok().flatten().is_some()
}

/// Entry point of panel.html.
#[wasm_bindgen]
pub fn panel_main() -> Result<(), JsValue> {
    // The HTML says it in English until this runs; the catalog says it in the browser's language.
    document().set_title(&t("pageTitlePanel"));
    let root = document().get_element_by_id("root").ok_or_else(|| JsValue::from_str("panel root missing"))?;
    let ui = Rc::new(PanelUi::build(&root)?);
    ui.show(None)?;
    // Without the content script's nonce this frame was not made by keywarden: it stays empty.
    let Some(name) = port_name(&document().url()?) else { return Ok(()) };
    let port = Rc::new(api::connect(&name));
    let mut listeners = Vec::new();
    for (button, event) in &ui.buttons {
        let (port, event) = (port.clone(), *event);
        listeners.push(on_click(button, move |_| send(&port, event)));
    }
    listeners.push(on_click(&ui.setup, |_| {
        let _ = api::open_options_page();
    }));
    let esc_port = port.clone();
    listeners.push(EventListener::new(&document(), "keydown", move |e| {
        if e.dyn_ref::<KeyboardEvent>().is_some_and(|k| k.key() == "Escape") {
            send(&esc_port, Event::Dismiss);
        }
    }));
    let fit = Fit::new(port.clone(), &ui.dialog)?;
    let shown = ui.clone();
    let close_port = port.clone();
    let timer: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = Rc::new(RefCell::new(None));
    let port_listener = Listener::new(port.on_message(), move |message| {
        // A push of another protocol version is not read (the worker and panel ship together).
        let push = serde_wasm_bindgen::from_value::<Incoming<PanelPush>>(message);
        if let Some(view) = push.ok().filter(|i| i.v == VERSION).and_then(|i| i.body.into_view()) {
            // A failed DOM update leaves the previous view; the next push redraws.
            let _ = shown.show(view.as_ref());
            let saved = view.as_ref().is_some_and(|v| v.saved.is_some());
            let mut slot = timer.borrow_mut();
            match (saved, slot.is_some()) {
                (true, false) => {
                    let port = close_port.clone();
                    *slot = Some(gloo_timers::callback::Timeout::new(SAVED_NOTE_MS as u32, move || {
                        if !reading() {
                            send(&port, Event::Close);
                        }
                    }));
                }
                (false, _) => *slot = None,
                _ => {}
            }
        }
    });
    PANEL.with(|p| {
        *p.borrow_mut() =
            Some(Panel { _ui: ui, _fit: fit, _port: port, _listeners: listeners, _port_listener: port_listener })
    });
    Ok(())
}
