//! The service worker's brain: per-tab state, and the reply and pushes for every authorized request.

use crate::engine::detect::key_on_screen;
use crate::engine::page::PageModel;
use crate::engine::protocol::{
    authorize, CaptureMark, CaptureState, Draw, ErrorCode, Mark, PanelView, Push, Reply, Request, Sender, TabStatus,
};
use crate::engine::recipe::Catalog;
use crate::engine::recognize::{recognize, Recognition, Scene};
use crate::engine::walkthrough::{Event, Progress};
use std::collections::HashMap;

/// What one tab last reported and what the admin did with the walkthrough there.
#[derive(Default)]
struct Tab {
    seq: u64,
    host: String,
    model: Option<PageModel>,
    progress: Progress,
}

/// A reply to the sender plus messages to push to tabs.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub reply: Reply,
    pub pushes: Vec<(u32, Push)>,
}

impl Outcome {
    fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Outcome { reply: Reply::Error { code, message: message.into() }, pushes: Vec::new() }
    }
}

/// Everything the worker decides, with no browser in sight.
pub struct Controller {
    catalog: Catalog,
    tabs: HashMap<u32, Tab>,
    captures_received: u32,
}

/// The view of one tab: what to draw there and what its panel shows.
struct View {
    draw: Draw,
    panel: Option<PanelView>,
    status: Option<TabStatus>,
}

impl Controller {
    pub fn new(catalog: Catalog) -> Self {
        Controller { catalog, tabs: HashMap::new(), captures_received: 0 }
    }

    /// The walkthrough progress of a tab, to persist across worker restarts.
    pub fn progress(&self, tab: u32) -> Option<&Progress> {
        self.tabs.get(&tab).map(|t| &t.progress)
    }

    /// Restores progress saved by an earlier run of the worker.
    pub fn restore(&mut self, tab: u32, progress: Progress) {
        self.tabs.entry(tab).or_default().progress = progress;
    }

    pub fn forget_tab(&mut self, tab: u32) {
        self.tabs.remove(&tab);
    }

    /// What the step panel of `tab` shows now.
    pub fn panel_view(&mut self, tab: u32) -> Option<PanelView> {
        self.view(tab).and_then(|v| v.panel)
    }

    fn view(&mut self, tab: u32) -> Option<View> {
        let catalog = &self.catalog;
        let state = self.tabs.get_mut(&tab)?;
        let model = state.model.as_ref()?;
        let location = model.validate().ok()?;
        let scene = Scene::new(model, location);
        let rec = recognize(catalog, &scene);
        state.progress.enter(rec.as_ref());
        let mut draw = Draw { seq: state.seq, ..Draw::default() };
        let Some(rec) = rec else {
            return Some(View { draw, panel: None, status: None });
        };
        let vendor = &rec.recipe.vendor;
        let current = state.progress.current(&rec, &scene);
        if let Some((_, copy, key)) = key_on_screen(&rec, &scene) {
            draw.capture = Some(CaptureMark {
                key: key as u32,
                copy: Some(copy as u32),
                vendor: vendor.id.clone(),
                label: rec.recipe.key.label.clone(),
            });
        }
        let panel = current.map(|c| {
            draw.highlight = Some(Mark { element: c.target as u32, vendor: vendor.id.clone(), step: c.step.id.clone() });
            let (position, total) = rec.recipe.position(&c.step.id);
            PanelView {
                vendor: vendor.id.clone(),
                vendor_name: vendor.name.clone(),
                step: c.step.id.clone(),
                title: c.step.title.clone(),
                body: c.step.body.clone(),
                why: c.step.why.clone(),
                position: position as u32,
                total: total as u32,
                can_back: c.can_back,
            }
        });
        let status = Some(TabStatus {
            vendor_name: vendor.name.clone(),
            step_title: current.map(|c| c.step.title.clone()),
            dismissed: state.progress.dismissed,
        });
        Some(View { draw, panel, status })
    }

    /// The draw for the content script and the panel update, as pushes to `tab`.
    fn refresh(&mut self, tab: u32) -> Vec<(u32, Push)> {
        match self.view(tab) {
            Some(v) => vec![(tab, Push::Draw(v.draw)), (tab, Push::Panel { view: v.panel })],
            None => Vec::new(),
        }
    }

    fn recognition_of<'a>(catalog: &'a Catalog, model: &PageModel) -> Option<Recognition<'a>> {
        let location = model.validate().ok()?;
        recognize(catalog, &Scene::new(model, location))
    }

    /// Answers one message; `sender` is what the browser says about its origin.
    pub fn handle(&mut self, sender: &Sender, request: Request) -> Outcome {
        if let Err(code) = authorize(&request, sender) {
            return Outcome::error(code, format!("{} may not be sent from here", request.name()));
        }
        let tab_of_sender = match sender {
            Sender::Content { tab, .. } | Sender::Page { tab: Some(tab), .. } => Some(*tab),
            Sender::Page { tab: None, .. } => None,
        };
        match request {
            Request::Report { seq, page } => {
                let Some(tab) = tab_of_sender else { return Outcome::error(ErrorCode::Forbidden, "no tab") };
                let location = match page.validate() {
                    Ok(l) => l,
                    Err(e) => return Outcome::error(ErrorCode::Malformed, e.to_string()),
                };
                let Sender::Content { url, .. } = sender else { unreachable!("authorized above") };
                let sender_host = crate::engine::page::Location::parse(url).map(|l| l.host).ok();
                if sender_host.as_deref() != Some(location.host.as_str()) {
                    return Outcome::error(ErrorCode::Forbidden, "the report describes another site than the sender's");
                }
                let state = self.tabs.entry(tab).or_default();
                state.seq = seq;
                state.host = location.host;
                state.model = Some(page);
                let view = self.view(tab).expect("model just stored");
                let pushes = vec![(tab, Push::Panel { view: view.panel })];
                Outcome { reply: Reply::Draw(view.draw), pushes }
            }
            Request::Capture { seq, key } => {
                let Some(tab) = tab_of_sender else { return Outcome::error(ErrorCode::Forbidden, "no tab") };
                let Some(state) = self.tabs.get(&tab) else {
                    return Outcome::error(ErrorCode::Unexpected, "no page reported in this tab yet");
                };
                if state.seq != seq {
                    return Outcome::error(ErrorCode::Unexpected, "the page changed since the key was shown");
                }
                let Sender::Content { url, .. } = sender else { unreachable!("authorized above") };
                if crate::engine::page::Location::parse(url).map(|l| l.host).ok().as_deref() != Some(state.host.as_str()) {
                    return Outcome::error(ErrorCode::Forbidden, "the key comes from another site than the page reported");
                }
                let rec = state.model.as_ref().and_then(|m| Self::recognition_of(&self.catalog, m));
                let Some(rec) = rec else { return Outcome::error(ErrorCode::Unexpected, "no vendor page here") };
                let scene_has_key = state
                    .model
                    .as_ref()
                    .and_then(|m| m.validate().ok().map(|l| Scene::new(m, l)))
                    .is_some_and(|scene| key_on_screen(&rec, &scene).is_some());
                if !scene_has_key {
                    return Outcome::error(ErrorCode::Unexpected, "no key is expected on this page");
                }
                if !rec.recipe.key.accepts(key.expose()) {
                    return Outcome::error(ErrorCode::Unexpected, format!("that is not shaped like a {} {}", rec.recipe.vendor.name, rec.recipe.key.label));
                }
                let vendor = rec.recipe.vendor.id.clone();
                drop(key);
                self.captures_received += 1;
                Outcome { reply: Reply::Captured { state: CaptureState::Received, vendor }, pushes: Vec::new() }
            }
            Request::Panel { .. } | Request::Resume { .. } => {
                let (tab, event) = match request {
                    Request::Panel { event } => (tab_of_sender, event),
                    Request::Resume { tab } => (Some(tab), Event::Resume),
                    _ => unreachable!("matched above"),
                };
                let Some(tab) = tab else { return Outcome::error(ErrorCode::Forbidden, "no tab") };
                let Some(state) = self.tabs.get_mut(&tab) else {
                    return Outcome::error(ErrorCode::Unexpected, "no page reported in this tab yet");
                };
                let model = state.model.as_ref();
                let location = model.and_then(|m| m.validate().ok());
                let scene = model.zip(location).map(|(m, l)| Scene::new(m, l));
                let rec = scene.as_ref().and_then(|s| recognize(&self.catalog, s));
                let changed = state.progress.apply(event, rec.as_ref(), scene.as_ref());
                let pushes = if changed { self.refresh(tab) } else { Vec::new() };
                Outcome { reply: Reply::Done, pushes }
            }
            Request::Status { tab } => {
                let status = tab.and_then(|t| self.view(t)).and_then(|v| v.status);
                Outcome { reply: Reply::Status { tab: status, captures_received: self.captures_received }, pushes: Vec::new() }
            }
        }
    }
}
