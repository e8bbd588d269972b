//! Recognition: which vendor page a page model shows, and which element each recipe matcher finds.

use crate::engine::page::{Element, Location, PageModel};
use crate::engine::recipe::{Catalog, Glob, KeySpec, Matcher, Page, Recipe};
use crate::engine::text::{fit, mentions, normalize, Fit};

/// A page model with its texts normalized once, ready for matching.
pub struct Scene<'m> {
    pub model: &'m PageModel,
    pub location: Location,
    texts: Vec<String>,
    labels: Vec<String>,
}

impl<'m> Scene<'m> {
    pub fn new(model: &'m PageModel, location: Location) -> Self {
        let texts = model.elements.iter().map(|e| normalize(&e.text)).collect();
        let labels = model.elements.iter().map(|e| normalize(&e.label)).collect();
        Scene { model, location, texts, labels }
    }

    pub fn element(&self, i: usize) -> &Element {
        &self.model.elements[i]
    }

    /// How well element `i` satisfies `m`, if at all.
    pub fn fit(&self, i: usize, m: &Matcher, key: &KeySpec) -> Option<Fit> {
        let el = &self.model.elements[i];
        if !m.roles.is_empty() && !m.roles.contains(&el.role()) {
            return None;
        }
        if m.in_dialog && el.dialog.is_none() {
            return None;
        }
        if m.secret && !el.secret.as_ref().is_some_and(|s| key.fits_shape(s)) {
            return None;
        }
        let mut worst = Fit::Exact;
        let best_of = |sources: &[&str], phrases: &[String]| -> Option<Fit> {
            phrases.iter().flat_map(|p| sources.iter().filter_map(move |s| fit(s, p))).max()
        };
        if !m.text.is_empty() {
            worst = worst.min(best_of(&[&self.texts[i], &self.labels[i]], &m.text)?);
        }
        if !m.label.is_empty() {
            worst = worst.min(best_of(&[&self.labels[i]], &m.label)?);
        }
        if !m.mentions.is_empty() && !m.mentions.iter().any(|p| mentions(&self.texts[i], p)) {
            return None;
        }
        Some(worst)
    }

    /// The element `m` points at: exact fits before loose ones, then elements in the topmost
    /// dialog (the last one opened, last in document order), then in any dialog, then the page
    /// behind; then document order.
    pub fn find(&self, m: &Matcher, key: &KeySpec) -> Option<usize> {
        let top = self.model.elements.iter().filter_map(|e| e.dialog).max();
        let layer = |i: usize| match self.model.elements[i].dialog {
            Some(d) if Some(d) == top => 2,
            Some(_) => 1,
            None => 0,
        };
        (0..self.model.elements.len())
            .filter_map(|i| self.fit(i, m, key).map(|f| (i, f)))
            .max_by_key(|&(i, f)| (f, layer(i), std::cmp::Reverse(i)))
            .map(|(i, _)| i)
    }

    /// The first alternative of a step's target list that finds an element.
    pub fn find_any(&self, alternatives: &[Matcher], key: &KeySpec) -> Option<usize> {
        alternatives.iter().find_map(|m| self.find(m, key))
    }
}

/// One signal a page was judged by, and whether it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub what: String,
    pub held: bool,
}

/// How one recipe page fared against a page model.
#[derive(Debug, Clone)]
pub struct PageVerdict<'r> {
    pub page: &'r Page,
    pub signals: Vec<Signal>,
}

impl PageVerdict<'_> {
    pub fn matched(&self) -> bool {
        self.signals.iter().all(|s| s.held)
    }
}

/// The recognized vendor page.
#[derive(Debug, Clone, Copy)]
pub struct Recognition<'r> {
    pub recipe: &'r Recipe,
    pub page: &'r Page,
}

fn globs_hold(globs: &[Glob], s: &str) -> bool {
    globs.is_empty() || globs.iter().any(|g| g.matches(s))
}

/// Describes a matcher in words, for explanations and drift notes.
pub fn describe(m: &Matcher) -> String {
    let mut parts = Vec::new();
    if !m.roles.is_empty() {
        let roles: Vec<String> = m.roles.iter().map(|r| format!("{r:?}").to_lowercase()).collect();
        parts.push(roles.join("/"));
    }
    if !m.text.is_empty() {
        parts.push(format!("reading {}", m.text.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" or ")));
    }
    if !m.label.is_empty() {
        parts.push(format!("labelled {}", m.label.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" or ")));
    }
    if !m.mentions.is_empty() {
        parts.push(format!(
            "mentioning {}",
            m.mentions.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" or ")
        ));
    }
    if m.in_dialog {
        parts.push("inside a dialog".into());
    }
    if m.secret {
        parts.push("showing a key".into());
    }
    parts.join(", ")
}

/// Judges every page of `recipe` against the scene, in recipe order.
pub fn judge<'r>(recipe: &'r Recipe, scene: &Scene<'_>) -> Vec<PageVerdict<'r>> {
    recipe
        .pages
        .iter()
        .map(|page| {
            let mut signals = Vec::new();
            if !page.paths.is_empty() {
                signals.push(Signal {
                    what: format!("path {}", scene.location.path),
                    held: globs_hold(&page.paths, &scene.location.path),
                });
            }
            if !page.hashes.is_empty() {
                signals.push(Signal {
                    what: format!("hash #{}", scene.location.hash),
                    held: globs_hold(&page.hashes, &scene.location.hash),
                });
            }
            for m in &page.all {
                signals.push(Signal {
                    what: format!("shows {}", describe(m)),
                    held: scene.find(m, &recipe.key).is_some(),
                });
            }
            for m in &page.none {
                signals.push(Signal {
                    what: format!("does not show {}", describe(m)),
                    held: scene.find(m, &recipe.key).is_none(),
                });
            }
            PageVerdict { page, signals }
        })
        .collect()
}

/// The vendor page the scene shows: the recipe serving its host, and the furthest page along the
/// flow whose signals all hold. None when the host is no vendor's or no page fully matches.
pub fn recognize<'r>(catalog: &'r Catalog, scene: &Scene<'_>) -> Option<Recognition<'r>> {
    let recipe = catalog.for_host(&scene.location.host)?;
    judge(recipe, scene).into_iter().rev().find(PageVerdict::matched).map(|v| Recognition { recipe, page: v.page })
}
