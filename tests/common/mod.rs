//! Shared fixtures for the integration tests: a page-model builder, PredictHQ page scenes and controller shortcuts.
#![allow(dead_code)]

use keywarden::engine::controller::{Controller, Outcome};
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::{admit, Admitted, Draw, ExtensionPage, PanelView, Push, Reply, Sender};
use keywarden::engine::recipe::{Catalog, FieldName};
use keywarden::engine::secret::SecretString;
use keywarden::engine::walkthrough::Event;
use serde_json::json;
use std::collections::BTreeMap;

/// A request as a test writes it, sent over the wire as JSON and admitted exactly as the worker
/// admits a browser message, so every test also goes through the one authorization step.
#[derive(Debug)]
pub enum Request {
    Report { seq: u64, page: PageModel, panel: Option<String> },
    Capture { seq: u64, key: SecretString, fields: BTreeMap<FieldName, String> },
    Panel { event: Event },
    Status { tab: Option<u32> },
    Resume { tab: u32 },
    Servers,
    AddServer { vendor: String, url: String },
    RemoveServer { host: String },
    Dismiss { seq: u64 },
    OpenSetup,
    Pressed { seq: u64, element: u32 },
    Guidance,
    SetGuidance { vendor: String, on: bool },
}

impl Request {
    /// The JSON body the extension would send.
    pub fn body(&self) -> serde_json::Value {
        match self {
            Request::Report { seq, page, panel } => {
                json!({ "type": "report", "seq": seq, "page": page, "panel": panel })
            }
            Request::Capture { seq, key, fields } => {
                json!({ "type": "capture", "seq": seq, "key": key.expose(), "fields": fields })
            }
            Request::Panel { event } => json!({ "type": "panel", "event": event }),
            Request::Status { tab } => json!({ "type": "status", "tab": tab }),
            Request::Resume { tab } => json!({ "type": "resume", "tab": tab }),
            Request::Servers => json!({ "type": "servers" }),
            Request::AddServer { vendor, url } => json!({ "type": "add_server", "vendor": vendor, "url": url }),
            Request::RemoveServer { host } => json!({ "type": "remove_server", "host": host }),
            Request::Dismiss { seq } => json!({ "type": "dismiss", "seq": seq }),
            Request::OpenSetup => json!({ "type": "open_setup" }),
            Request::Pressed { seq, element } => json!({ "type": "pressed", "seq": seq, "element": element }),
            Request::Guidance => json!({ "type": "guidance" }),
            Request::SetGuidance { vendor, on } => json!({ "type": "set_guidance", "vendor": vendor, "on": on }),
        }
    }
}

/// Sends requests to a controller the way the worker does: admitted first, then dispatched.
pub trait Drive {
    fn handle(&mut self, sender: &Sender, request: Request) -> Outcome;
    fn handle_at(&mut self, sender: &Sender, request: Request, now: u64) -> Outcome;
}

impl Drive for Controller {
    fn handle(&mut self, sender: &Sender, request: Request) -> Outcome {
        self.handle_at(sender, request, 0)
    }

    fn handle_at(&mut self, sender: &Sender, request: Request, now: u64) -> Outcome {
        let wire = json!({ "v": keywarden::engine::protocol::VERSION, "body": request.body() }).to_string();
        match admit(sender, wire.as_str()) {
            Err(refusal) => Outcome {
                reply: refusal.reply(),
                pushes: Vec::new(),
                captured: None,
                guidance: None,
                open_options: false,
            },
            Ok(Admitted::Content { tab, url, request }) => self.content(tab, &url, request, now),
            Ok(Admitted::Panel { tab, request }) => self.panel(tab, request, now),
            Ok(Admitted::Page { request, .. }) => self.page(request, 0, now),
        }
    }
}

/// The host PredictHQ serves its web app from.
pub const HOST: &str = "control.predicthq.com";

/// An https URL on the PredictHQ web app.
pub fn url(path: &str) -> String {
    format!("https://{HOST}{path}")
}

/// A page model under construction that remembers a name for each element it adds.
#[derive(Clone, Debug)]
pub struct Page {
    pub model: PageModel,
    names: Vec<(String, usize)>,
}

impl Page {
    pub fn at(url: &str) -> Self {
        Page {
            model: PageModel { url: url.to_string(), title: String::new(), elements: Vec::new() },
            names: Vec::new(),
        }
    }

    /// Adds an element; `name` ("" for none) lets a test ask for its index later.
    pub fn with(mut self, name: &str, element: Element) -> Self {
        if !name.is_empty() {
            assert!(self.names.iter().all(|(n, _)| n != name), "fixture name {name:?} used twice");
            self.names.push((name.to_string(), self.model.elements.len()));
        }
        self.model.elements.push(element);
        self
    }

    /// Index of the element added under `name`.
    pub fn idx(&self, name: &str) -> usize {
        self.names.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no element named {name:?}")).1
    }

    /// The same page seen on another URL.
    pub fn moved_to(mut self, url: &str) -> Self {
        self.model.url = url.to_string();
        self
    }
}

/// An element with a role and visible text.
pub fn el(role: Role, text: &str) -> Element {
    Element { role: Some(role), text: text.to_string(), ..Element::default() }
}

/// An element with a role and an accessible label but no visible text.
pub fn labelled(role: Role, label: &str) -> Element {
    Element { role: Some(role), label: label.to_string(), ..Element::default() }
}

/// A text field with a label, filled or not.
pub fn field(label: &str, filled: bool) -> Element {
    Element { filled: Some(filled), ..labelled(Role::Textbox, label) }
}

/// A checkbox with a label inside the group at index `group`.
pub fn checkbox(label: &str, group: usize, checked: bool) -> Element {
    Element { checked: Some(checked), group: Some(group as u32), ..labelled(Role::Checkbox, label) }
}

/// The outline of a typical PredictHQ token: 40 characters of letters, digits, '-' and '_'.
pub fn token_shape() -> SecretShape {
    SecretShape { len: 40, lower: true, upper: true, digit: true, symbols: "-_".into(), hex: false, guid: false }
}

/// An element showing a key-like string of the given outline (its text withheld by the content script).
pub fn secret(shape: SecretShape) -> Element {
    Element { role: Some(Role::Text), secret: Some(shape), ..Element::default() }
}

/// A key string that fits the PredictHQ token shape and is easy to spot in any output.
pub const KEY: &str = "Zq7-LEAKCANARY_w3Xv9pRt2Yb8Nc5Md1Kf6Hs4J";

/// Any page of the web app: the left navigation with "API Tools" and its "API Tokens" entry.
pub fn dashboard() -> Page {
    Page::at(&url("/"))
        .with("", el(Role::Heading, "Dashboard"))
        .with("nav-tools", el(Role::Button, "API Tools"))
        .with("nav-tokens", el(Role::Link, "API Tokens"))
        .with("", el(Role::Link, "Events"))
        .with("", el(Role::Text, "Welcome back. Here is what is happening near your locations."))
}

/// The token page on a first visit: the name field, the scopes and the Create Token button.
pub fn token_form(name_filled: bool) -> Page {
    Page::at(&url("/tokens"))
        .with("nav-tokens", el(Role::Link, "API Tokens"))
        .with("heading", Element { level: Some(1), ..el(Role::Heading, "API Tokens") })
        .with("name", field("Token name", name_filled))
        .with("scopes", labelled(Role::Group, "Scopes"))
        .with("scope-account", checkbox("Account", 3, true))
        .with("scope-events", checkbox("Events", 3, true))
        .with("scope-places", checkbox("Places", 3, true))
        .with("create", el(Role::Button, "Create Token"))
}

/// The screen right after creation: the token, shown once, with its Copy Token button.
pub fn token_shown() -> Page {
    Page::at(&url("/tokens"))
        .with("nav-tokens", el(Role::Link, "API Tokens"))
        .with("heading", el(Role::Heading, "API Tokens"))
        .with("", el(Role::Alert, "Make sure to copy your token now. It will not be shown again."))
        .with("key", secret(token_shape()))
        .with("copy", el(Role::Button, "Copy Token"))
        .with("", el(Role::Button, "Done"))
}

/// The token page once tokens exist: the list and the Create New Token button.
pub fn token_list() -> Page {
    Page::at(&url("/tokens"))
        .with("nav-tokens", el(Role::Link, "API Tokens"))
        .with("heading", el(Role::Heading, "API Tokens"))
        .with("new", el(Role::Button, "Create New Token"))
        .with("", el(Role::Row, "Name Created Scopes"))
        .with("", el(Role::Row, "Reporting Client | nightly-export 2024-03-02 Events, Places"))
        .with("", el(Role::Row, "warehouse-sync 2025-01-17 Events"))
}

pub fn controller() -> Controller {
    Controller::new(Catalog::builtin().expect("built-in recipes are valid"))
}

/// The content script in the top frame of `tab`, on the PredictHQ web app.
pub fn content(tab: u32) -> Sender {
    Sender::Content { tab, frame: 0, url: url("/tokens") }
}

/// The content script in the top frame of `tab`, on exactly the page it describes.
pub fn content_on(tab: u32, page: &PageModel) -> Sender {
    Sender::Content { tab, frame: 0, url: page.url.clone() }
}

/// The step panel embedded in `tab`.
pub fn panel(tab: u32) -> Sender {
    Sender::Page { page: ExtensionPage::Panel, tab: Some(tab) }
}

pub fn popup() -> Sender {
    Sender::Page { page: ExtensionPage::Popup, tab: None }
}

pub fn options() -> Sender {
    Sender::Page { page: ExtensionPage::Options, tab: None }
}

/// Reports `page` from the top frame of `tab` and returns the outcome.
pub fn report(ctrl: &mut Controller, tab: u32, seq: u64, page: &PageModel) -> Outcome {
    ctrl.handle(&content_on(tab, page), Request::Report { seq, page: page.clone(), panel: None })
}

/// The Draw reply of an outcome (panics on anything else).
pub fn reply_draw(out: &Outcome) -> &Draw {
    match &out.reply {
        Reply::Draw(d) => d,
        other => panic!("expected a Draw reply, got {other:?}"),
    }
}

/// The step id highlighted by a draw, if any.
pub fn highlighted(d: &Draw) -> Option<&str> {
    d.highlight.as_ref().map(|m| m.step.as_str())
}

/// The Draw pushes of an outcome, with their tabs.
pub fn pushed_draws(out: &Outcome) -> Vec<(u32, &Draw)> {
    out.pushes
        .iter()
        .filter_map(|(t, p)| match p {
            Push::Draw(d) => Some((*t, d)),
            Push::Panel { .. } | Push::PanelFit { .. } => None,
        })
        .collect()
}

/// The Panel pushes of an outcome, with their tabs.
pub fn pushed_panels(out: &Outcome) -> Vec<(u32, Option<&PanelView>)> {
    out.pushes
        .iter()
        .filter_map(|(t, p)| match p {
            Push::Panel { view } => Some((*t, view.as_ref())),
            Push::Draw(_) | Push::PanelFit { .. } => None,
        })
        .collect()
}
