//! The walkthrough state machine: which step is current, and how Next, Back, Dismiss and the admin's own actions move it.

use crate::engine::recipe::{Done, Step};
use crate::engine::recognize::{Recognition, Scene};
use serde::{Deserialize, Serialize};

/// What the admin has done with the walkthrough in one tab. Everything else is read off the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// The vendor page (`vendor/page`) the acknowledgements below belong to.
    pub page: Option<String>,
    /// Steps acknowledged with Next on this page.
    pub acked: Vec<String>,
    /// A step brought back with Back, shown even if its page signal says it is done.
    pub forced: Option<String>,
    /// The page visit ([`visit_of`]) the admin said "not now" on; the walkthrough stays away
    /// until they leave it.
    pub dismissed: Option<String>,
    /// The vendor the admin asked to be guided for in this tab ("Create a new … key"): its
    /// walkthrough shows on every page of the console until the key is saved or they stop it.
    pub guide: Option<String>,
    /// The vendor a key was just saved for in this tab: its walkthrough does not start again by
    /// itself here (the admin can ask for it again).
    pub finished: Option<String>,
    /// What the panel says after a save, until it is closed.
    pub saved: Option<SavedNote>,
    /// Steps the admin performed in this tab a short while ago (clicked their target), oldest
    /// first: what the tab did before, for pages that come after a step (a user just created, a
    /// key just generated).
    pub memory: Vec<Seen>,
}

/// How long a step performed in a tab is remembered there.
pub const MEMORY_MS: u64 = 15 * 60 * 1000;
/// Most steps remembered per tab.
const MEMORY_MAX: usize = 32;

/// A step performed in a tab, and when it last was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub vendor: String,
    pub step: String,
    pub at: u64,
}

/// What was saved, for the panel's closing word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedNote {
    pub vendor: String,
    /// The vault entry's name.
    pub name: String,
    /// The key's last characters, as the vault shows them (`…abcd`).
    pub hint: String,
    /// What the vendor calls its keys ("API token").
    #[serde(default)]
    pub label: String,
    /// The page visit the key was saved on ([`visit_of`]).
    #[serde(default)]
    pub visit: String,
}

/// What the admin asked of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Next,
    Back,
    /// "Not now": away for this page visit (and a guided walkthrough stops).
    Dismiss,
    /// "Don't guide me on <vendor>": kept in the settings by the service.
    Quiet,
    /// Close the note shown after a save.
    Close,
    /// The admin asked for the walkthrough of the vendor recognized in this tab.
    Resume,
}

/// One visit of a page, as far as dismissal goes: the URL without its query (filters and
/// sorting stay the same visit), fragment kept (single-page apps route there).
pub fn visit_of(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let base = base.split_once('?').map_or(base, |(b, _)| b);
    match fragment {
        Some(f) => format!("{base}#{f}"),
        None => base.to_string(),
    }
}

/// The step to show and the element it points at.
#[derive(Clone, Copy, Debug)]
pub struct Current<'r> {
    pub step: &'r Step,
    pub target: usize,
    /// A step before this one on the same page can be brought back.
    pub can_back: bool,
    /// A later step of this page is on screen: Next moves there. On the last one the page itself
    /// moves on (the admin presses the vendor's button), so Next is not offered.
    pub can_next: bool,
}

fn page_key(rec: &Recognition<'_>) -> String {
    format!("{}/{}", rec.recipe.vendor.id, rec.page.id)
}

impl Progress {
    /// Forgets acknowledgements made on another page; called on every report.
    pub fn enter(&mut self, rec: Option<&Recognition<'_>>) {
        let key = rec.map(page_key);
        if key != self.page {
            self.page = key;
            self.acked.clear();
            self.forced = None;
        }
    }

    /// A report from `visit`: a dismissal made on another visit ends, and so does the note
    /// after a save (it spoke of the page the admin has left).
    pub fn visit(&mut self, visit: &str) {
        if self.dismissed.as_deref().is_some_and(|d| d != visit) {
            self.dismissed = None;
        }
        if self.saved.as_ref().is_some_and(|s| s.visit != visit) {
            self.saved = None;
        }
    }

    /// Notes that `steps` of `vendor` were performed at `now`, and forgets what is too old.
    pub fn remember<'s>(&mut self, vendor: &str, steps: impl IntoIterator<Item = &'s str>, now: u64) {
        self.memory.retain(|s| now.saturating_sub(s.at) < MEMORY_MS && s.at <= now);
        for step in steps {
            self.memory.retain(|s| !(s.vendor == vendor && s.step == step));
            self.memory.push(Seen { vendor: vendor.to_string(), step: step.to_string(), at: now });
        }
        let over = self.memory.len().saturating_sub(MEMORY_MAX);
        self.memory.drain(..over);
    }

    /// Forgets that `steps` of `vendor` were performed in this tab.
    pub fn forget(&mut self, vendor: &str, steps: &[String]) {
        self.memory.retain(|s| !(s.vendor == vendor && steps.contains(&s.step)));
    }

    /// The steps of `vendor` performed in this tab within [`MEMORY_MS`] before `now` (a `now` of
    /// `None`: whatever is still remembered).
    pub fn recall(&self, vendor: &str, now: Option<u64>) -> Vec<String> {
        self.memory
            .iter()
            .filter(|s| s.vendor == vendor && now.is_none_or(|n| n.saturating_sub(s.at) < MEMORY_MS))
            .map(|s| s.step.clone())
            .collect()
    }

    /// A new document in the tab (a reload or a full navigation): a new visit, even at the same URL.
    pub fn new_document(&mut self) {
        self.dismissed = None;
        self.saved = None;
    }

    /// Whether the walkthrough of `rec`'s vendor shows in this tab now: on a key page unless the
    /// admin silenced the vendor (`quiet`) or already saved its key here; anywhere in the console
    /// when they asked for it; never on a visit they dismissed.
    pub fn wanted(&self, rec: &Recognition<'_>, visit: &str, quiet: bool) -> bool {
        let vendor = &rec.recipe.vendor.id;
        if self.dismissed.as_deref() == Some(visit) {
            return false;
        }
        if self.guide.as_ref() == Some(vendor) {
            return true;
        }
        rec.page.key_page && !quiet && self.finished.as_ref() != Some(vendor)
    }

    /// A key of `note.vendor` was saved in this tab: the guided walkthrough ends, and the panel
    /// says what was saved until it is closed.
    pub fn saved(&mut self, note: SavedNote) {
        if self.guide.as_ref() == Some(&note.vendor) {
            self.guide = None;
        }
        self.finished = Some(note.vendor.clone());
        self.saved = Some(note);
    }

    fn done(&self, step: &Step, scene: &Scene<'_>, target: usize) -> bool {
        let el = scene.element(target);
        self.acked.contains(&step.id)
            || match step.done {
                Done::Ack => false,
                Done::Filled => el.filled == Some(true),
                Done::Checked => el.checked == Some(true),
            }
    }

    /// Steps of the recognized page whose target is on screen, with that target, in page order.
    fn present<'r>(rec: &Recognition<'r>, scene: &Scene<'_>) -> Vec<(usize, &'r Step, usize)> {
        rec.page
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| scene.find_any(&s.target, &rec.recipe.key).map(|t| (i, s, t)))
            .collect()
    }

    /// The current step: a step brought back by Back, else the first present step not yet done.
    pub fn current<'r>(&self, rec: &Recognition<'r>, scene: &Scene<'_>) -> Option<Current<'r>> {
        let present = Self::present(rec, scene);
        let pick = self
            .forced
            .as_ref()
            .and_then(|f| present.iter().position(|(_, s, _)| s.id == *f))
            .or_else(|| present.iter().position(|&(_, s, t)| !self.done(s, scene, t)))?;
        let (_, step, target) = present[pick];
        let can_next = present[pick + 1..].iter().any(|&(_, s, t)| !self.done(s, scene, t));
        Some(Current { step, target, can_back: pick > 0, can_next })
    }

    /// Applies a panel event on the page visit `visit`; returns whether anything changed.
    pub fn apply(
        &mut self,
        event: Event,
        rec: Option<&Recognition<'_>>,
        scene: Option<&Scene<'_>>,
        visit: Option<&str>,
    ) -> bool {
        let before = self.clone();
        match event {
            Event::Dismiss | Event::Quiet => {
                self.dismissed = visit.map(str::to_string);
                self.guide = None;
                self.saved = None;
            }
            Event::Close => self.saved = None,
            Event::Resume => {
                if let Some(rec) = rec {
                    self.guide(&rec.recipe.vendor.id);
                }
            }
            Event::Next | Event::Back => {
                let (Some(rec), Some(scene)) = (rec, scene) else { return false };
                self.enter(Some(rec));
                let present = Self::present(rec, scene);
                let current = self.current(rec, scene);
                let can_next = current.is_some_and(|c| c.can_next);
                let at = current.and_then(|c| present.iter().position(|(_, s, _)| s.id == c.step.id));
                match (event, at) {
                    // Never past the last step left to do: that would only hide the panel.
                    (Event::Next, Some(at)) if can_next => {
                        self.acked.push(present[at].1.id.clone());
                        self.forced = None;
                    }
                    (Event::Back, at) => {
                        let before_current = at.unwrap_or(present.len());
                        if let Some(prev) = before_current.checked_sub(1) {
                            let id = &present[prev].1.id;
                            self.acked.retain(|a| a != id);
                            self.forced = Some(id.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        *self != before
    }

    /// The admin asked for `vendor`'s walkthrough in this tab (from the popup).
    pub fn guide(&mut self, vendor: &str) {
        self.dismissed = None;
        self.saved = None;
        self.finished = None;
        self.acked.clear();
        self.forced = None;
        self.guide = Some(vendor.to_string());
    }
}
