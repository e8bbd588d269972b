//! The walkthrough state machine: which step is current, and how Next, Back, Dismiss and the admin's own actions move it.

use crate::engine::recipe::{Done, Step};
use crate::engine::recognize::{Recognition, Scene};
use serde::{Deserialize, Serialize};

/// What the admin has done with the walkthrough in one tab. Everything else is read off the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The vendor page (`vendor/page`) the acknowledgements below belong to.
    pub page: Option<String>,
    /// Steps acknowledged with Next on this page.
    pub acked: Vec<String>,
    /// A step brought back with Back, shown even if its page signal says it is done.
    pub forced: Option<String>,
    /// The admin closed the walkthrough in this tab.
    pub dismissed: bool,
}

/// What the admin asked of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Next,
    Back,
    Dismiss,
    Resume,
}

/// The step to show and the element it points at.
#[derive(Clone, Copy, Debug)]
pub struct Current<'r> {
    pub step: &'r Step,
    pub target: usize,
    /// A step before this one on the same page can be brought back.
    pub can_back: bool,
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
        if self.dismissed {
            return None;
        }
        let present = Self::present(rec, scene);
        let pick = self
            .forced
            .as_ref()
            .and_then(|f| present.iter().position(|(_, s, _)| s.id == *f))
            .or_else(|| present.iter().position(|&(_, s, t)| !self.done(s, scene, t)))?;
        let (_, step, target) = present[pick];
        Some(Current { step, target, can_back: pick > 0 })
    }

    /// Applies a panel event; returns whether anything changed.
    pub fn apply(&mut self, event: Event, rec: Option<&Recognition<'_>>, scene: Option<&Scene<'_>>) -> bool {
        let before = self.clone();
        match event {
            Event::Dismiss => self.dismissed = true,
            Event::Resume => {
                self.dismissed = false;
                self.acked.clear();
                self.forced = None;
            }
            Event::Next | Event::Back => {
                let (Some(rec), Some(scene)) = (rec, scene) else { return false };
                self.enter(Some(rec));
                let present = Self::present(rec, scene);
                let at = self.current(rec, scene).and_then(|c| present.iter().position(|(_, s, _)| s.id == c.step.id));
                match (event, at) {
                    (Event::Next, Some(at)) => {
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
}
