//! Recognition: which vendor page a page model shows, and which element each recipe matcher finds.

use crate::engine::page::{Element, Location, PageModel, Role};
use crate::engine::recipe::{Catalog, Glob, KeySpec, Matcher, Page, Recipe};
use crate::engine::text::{fit, mentions_or_plural, normalize, Fit};

/// Elements before a key looked at for the words that announce it.
pub const CONTEXT_BEFORE: usize = 6;
/// Most words of a short label that names the value after it ("Integration ID", "API key:").
const LABEL_WORDS: usize = 4;
/// Elements after a key looked at for the words that announce it.
pub const CONTEXT_AFTER: usize = 2;

/// A page model with its texts normalized once, ready for matching, and what this tab did before.
pub struct Scene<'m> {
    pub model: &'m PageModel,
    pub location: Location,
    texts: Vec<String>,
    /// Each element's accessible label, or for a field without one the text beside it.
    labels: Vec<String>,
    /// The text right beside each element (before it; after it for a checkbox or radio).
    beside: Vec<String>,
    icons: Vec<String>,
    /// Steps of the vendor serving this host performed in this tab a short while ago.
    memory: Vec<String>,
}

/// Roles of the fields whose label may be only the text beside them.
const FIELDS: &[Role] = &[Role::Textbox, Role::Combobox, Role::Checkbox, Role::Radio, Role::Listbox, Role::Group];

/// Roles of elements that can be a label for the element beside them.
const LABELLING: &[Role] = &[Role::Text, Role::Label, Role::Cell];

impl<'m> Scene<'m> {
    pub fn new(model: &'m PageModel, location: Location) -> Self {
        let texts: Vec<String> = model.elements.iter().map(|e| normalize(&e.text)).collect();
        let beside: Vec<String> = (0..model.elements.len()).map(|i| beside(model, &texts, i)).collect();
        let labels = model
            .elements
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let own = normalize(&e.label);
                if own.is_empty() && FIELDS.contains(&e.role()) {
                    beside[i].clone()
                } else {
                    own
                }
            })
            .collect();
        let icons = model.elements.iter().map(|e| normalize(&e.icon)).collect();
        Scene { model, location, texts, labels, beside, icons, memory: Vec::new() }
    }

    /// The same scene, knowing which steps of this host's vendor were performed in this tab a short
    /// while ago.
    pub fn remembering(mut self, steps: Vec<String>) -> Self {
        self.memory = steps;
        self
    }

    /// The steps of this host's vendor performed in this tab a short while ago.
    pub fn memory(&self) -> &[String] {
        &self.memory
    }

    /// Was `step` of this host's vendor performed in this tab a short while ago?
    pub fn remembers(&self, step: &str) -> bool {
        self.memory.iter().any(|s| s == step)
    }

    /// Is element `i`'s key-shaped string this vendor's key? Its outline must fit, and it must be
    /// shown as the key: labelled or announced by the key's context words (its own label or text,
    /// its dialog or group, the text before it back to its section heading, the line or button
    /// right after it), or shown right after the admin performed a step that generates a key in
    /// this tab.
    pub fn is_key(&self, i: usize, key: &KeySpec) -> bool {
        self.why_key(i, key).is_some()
    }

    /// Why element `i` shows the key ([`Scene::is_key`]), or None when it does not.
    ///
    /// Right after a generating step, a string nothing announces still counts, but only when it is
    /// the one key-shaped string on the page that no label names as something else ("Report ID"):
    /// a page of record ids reached after pressing Generate offers none of them.
    pub fn why_key(&self, i: usize, key: &KeySpec) -> Option<KeyContext> {
        match self.key_verdict(i, key) {
            KeyVerdict::Key(why) => Some(why),
            _ => None,
        }
    }

    /// Whether element `i` shows the key, and why or why not ([`Scene::why_key`]).
    pub fn key_verdict(&self, i: usize, key: &KeySpec) -> KeyVerdict {
        if !self.fits(i, key) {
            return KeyVerdict::Shape;
        }
        match self.announced(i, &key.context) {
            Announcement::By(j) => KeyVerdict::Key(KeyContext::Announced(j)),
            Announcement::Other(j) => KeyVerdict::NamedOther(j),
            Announcement::Silent => {
                let Some(step) = key.generated_by.iter().find(|s| self.remembers(s)) else {
                    return KeyVerdict::Unannounced;
                };
                let mut unnamed = (0..self.model.elements.len()).filter(|&j| {
                    self.fits(j, key) && !matches!(self.announced(j, &key.context), Announcement::Other(_))
                });
                if unnamed.next() == Some(i) && unnamed.next().is_none() {
                    KeyVerdict::Key(KeyContext::Generated(step.clone()))
                } else {
                    KeyVerdict::NotAlone(step.clone())
                }
            }
        }
    }

    /// Does element `i` hold a string of the key's outline?
    fn fits(&self, i: usize, key: &KeySpec) -> bool {
        self.model.elements[i].secret.as_ref().is_some_and(|s| key.fits_shape(s))
    }

    /// Does element `j` mention one of `phrases` (or its plural, "API keys" for "API key")?
    fn says(&self, j: usize, phrases: &[String]) -> bool {
        let within = |text: &str| phrases.iter().any(|p| mentions_or_plural(text, p));
        within(&self.texts[j]) || within(&self.labels[j])
    }

    /// The first of `phrases` element `j` mentions (or its plural), for explanations.
    pub fn said(&self, j: usize, phrases: &[String]) -> Option<String> {
        phrases
            .iter()
            .find(|p| mentions_or_plural(&self.texts[j], p) || mentions_or_plural(&self.labels[j], p))
            .cloned()
    }

    /// Does element `j` announce the key: it says one of `phrases` and is not a short term for
    /// something else that merely contains them ("Key ID", "Signing key name")?
    fn calls_key(&self, j: usize, phrases: &[String]) -> bool {
        self.says(j, phrases) && !names_other(&self.texts[j]) && !names_other(&self.labels[j])
    }

    /// What announces element `i` as the key, if anything. Its own text or label speaks first;
    /// then the nearest short label before it (a term such as "Integration ID" names what the
    /// value is, and one that is not the key's name rules it out); then its dialog or group; then
    /// its section heading or a sentence before it; last the line or button right after it.
    fn announced(&self, i: usize, phrases: &[String]) -> Announcement {
        let elements = &self.model.elements;
        let el = &elements[i];
        if self.says(i, phrases) {
            return if self.calls_key(i, phrases) { Announcement::By(i) } else { Announcement::Other(i) };
        }
        // "Account ID • 1f0e…": the element's own words name what it holds.
        if names_other(&self.texts[i]) || names_other(&self.labels[i]) {
            return Announcement::Other(i);
        }
        let same_block = |j: usize| Some(j as u32) != el.dialog && elements[j].dialog == el.dialog;
        let before: Vec<usize> = (i.saturating_sub(CONTEXT_BEFORE)..i).rev().take_while(|&j| same_block(j)).collect();
        let term = before.iter().copied().take_while(|&j| elements[j].role() != Role::Heading).find(|&j| {
            let e = &elements[j];
            // "Name: billing-sync" is a value of its own, not the name of what follows.
            let pair = e.text.split_once(':').is_some_and(|(_, value)| !value.trim().is_empty());
            matches!(e.role(), Role::Text | Role::Label | Role::Cell)
                && e.secret.is_none()
                && !pair
                && !self.texts[j].is_empty()
                && self.texts[j].split(' ').count() <= LABEL_WORDS
        });
        if let Some(j) = term {
            // A term that names another thing ("Integration ID") rules the string out; any other
            // short label ("Value", "Secret") only does not announce it.
            return match (self.calls_key(j, phrases), names_other(&self.texts[j]) || self.says(j, phrases)) {
                (true, _) => Announcement::By(j),
                (false, true) => Announcement::Other(j),
                (false, false) => Announcement::Silent,
            };
        }
        for holder in [el.dialog, el.group].into_iter().flatten() {
            if self.says(holder as usize, phrases) {
                return Announcement::By(holder as usize);
            }
        }
        for &j in &before {
            match elements[j].role() {
                Role::Heading => return if self.says(j, phrases) { Announcement::By(j) } else { Announcement::Silent },
                Role::Text | Role::Label | Role::Alert | Role::Cell if self.says(j, phrases) => {
                    return Announcement::By(j)
                }
                _ => {}
            }
        }
        (i + 1..(i + 1 + CONTEXT_AFTER).min(elements.len()))
            .find(|&j| {
                let e = &elements[j];
                // A line after it, or its own button ("Copy token"): never a link, which may be navigation.
                let announcing = matches!(e.role(), Role::Text | Role::Label | Role::Alert | Role::Button);
                e.dialog == el.dialog && announcing && self.calls_key(j, phrases)
            })
            .map_or(Announcement::Silent, Announcement::By)
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
        if m.opens_menu && !el.menu {
            return None;
        }
        if m.secret && !self.is_key(i, key) {
            return None;
        }
        if !m.icon.is_empty() && !m.icon.iter().any(|p| self.icons[i] == *p || self.texts[i] == *p) {
            return None;
        }
        let mut worst = Fit::Exact;
        let best_of = |sources: &[&str], phrases: &[String]| -> Option<Fit> {
            phrases.iter().flat_map(|p| sources.iter().filter_map(move |s| fit(s, p))).max()
        };
        if !m.text.is_empty() {
            // An icon-only control reads as its icon's name ("copy", "content copy").
            worst = worst.min(best_of(&[&self.texts[i], &self.labels[i], &self.icons[i]], &m.text)?);
        }
        if !m.label.is_empty() {
            worst = worst.min(best_of(&[&self.labels[i]], &m.label)?);
        }
        if !m.near.is_empty() {
            worst = worst.min(best_of(&[&self.beside[i]], &m.near)?);
        }
        if !m.mentions.is_empty() && !self.says(i, &m.mentions) {
            return None;
        }
        Some(worst)
    }

    /// The words of `m` that element `i` matched, for explanations: the phrase its text, label,
    /// neighbour or icon fitted best, or the phrase it mentions; None when `m` names no words.
    pub fn matched_words(&self, i: usize, m: &Matcher) -> Option<String> {
        let best = |sources: &[&str], phrases: &[String]| {
            phrases
                .iter()
                .filter_map(|p| sources.iter().filter_map(|s| fit(s, p)).max().map(|f| (f, p)))
                .max_by_key(|&(f, _)| f)
                .map(|(_, p)| p.clone())
        };
        best(&[&self.texts[i], &self.labels[i], &self.icons[i]], &m.text)
            .or_else(|| best(&[&self.labels[i]], &m.label))
            .or_else(|| best(&[&self.beside[i]], &m.near))
            .or_else(|| self.said(i, &m.mentions))
            .or_else(|| m.icon.iter().find(|p| self.icons[i] == **p || self.texts[i] == **p).cloned())
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

/// What the elements around a key-shaped string say of it.
enum Announcement {
    /// This element calls it the key.
    By(usize),
    /// This element names it as something else ("Integration ID").
    Other(usize),
    /// Nothing around it says what it is.
    Silent,
}

/// Last words of a short term that names something about a key, or another thing, rather than
/// the key itself: "Key ID", "Token name", "API key prefix", "Signing key fingerprint".
const OTHER_THINGS: &[&str] = &[
    "id",
    "ids",
    "identifier",
    "name",
    "number",
    "url",
    "uri",
    "date",
    "type",
    "status",
    "description",
    "prefix",
    "expiry",
    "expires",
    "owner",
    "fingerprint",
    "hash",
    "version",
    "count",
];

/// Is normalized `text` a short term whose last word names another thing ([`OTHER_THINGS`])?
fn names_other(text: &str) -> bool {
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        [only] => ["id", "ids", "identifier", "uuid", "guid"].contains(only),
        [.., last] => words.len() <= LABEL_WORDS && OTHER_THINGS.contains(last),
        [] => false,
    }
}

/// Whether a string is taken for the key, and why or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyVerdict {
    /// It is the key, for this reason.
    Key(KeyContext),
    /// It does not have the key's outline (or the element holds no key-like string).
    Shape,
    /// This element names it as something else ("Integration ID", "Key ID").
    NamedOther(usize),
    /// Nothing around it calls it the key, and no step that generates one was performed.
    Unannounced,
    /// This step that generates a key was performed, but the string is not the one key-shaped
    /// string on the page that no label names otherwise.
    NotAlone(String),
}

/// Why a key-shaped string is taken for the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyContext {
    /// This element (the string's own, or one around or right before or after it) calls it the key.
    Announced(usize),
    /// The admin just performed this step, which makes the vendor show a new key.
    Generated(String),
}

/// The text right beside element `i`: for a checkbox or radio the labelling element right after
/// it, else the one right before it; in the same dialog, and empty when there is none.
fn beside(model: &PageModel, texts: &[String], i: usize) -> String {
    let elements = &model.elements;
    let el = &elements[i];
    let usable = |j: usize| {
        let e = &elements[j];
        e.dialog == el.dialog && LABELLING.contains(&e.role()) && !texts[j].is_empty() && e.secret.is_none()
    };
    let after = matches!(el.role(), Role::Checkbox | Role::Radio) && i + 1 < elements.len() && usable(i + 1);
    if after {
        return texts[i + 1].clone();
    }
    if i > 0 && usable(i - 1) {
        return texts[i - 1].clone();
    }
    String::new()
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
    let few = |list: &[String]| -> String {
        let shown: Vec<String> = list.iter().take(4).map(|t| format!("\"{t}\"")).collect();
        match list.len().saturating_sub(shown.len()) {
            0 => shown.join(" or "),
            more => format!("{} or {more} more", shown.join(" or ")),
        }
    };
    if !m.text.is_empty() {
        parts.push(format!("reading {}", few(&m.text)));
    }
    if !m.label.is_empty() {
        parts.push(format!("labelled {}", few(&m.label)));
    }
    if !m.mentions.is_empty() {
        parts.push(format!("mentioning {}", few(&m.mentions)));
    }
    if !m.near.is_empty() {
        parts.push(format!("beside {}", few(&m.near)));
    }
    if !m.icon.is_empty() {
        parts.push(format!("showing the icon {}", few(&m.icon)));
    }
    if m.opens_menu {
        parts.push("opening a menu".into());
    }
    if m.in_dialog {
        parts.push("inside a dialog".into());
    }
    if m.secret {
        parts.push("a key the page calls the key".into());
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
            if !page.routes.is_empty() {
                let route = format!("{}#{}", scene.location.path, scene.location.hash);
                signals.push(Signal { what: format!("route {route}"), held: globs_hold(&page.routes, &route) });
            }
            for m in &page.all {
                let found = scene.find(m, &recipe.key);
                let hit = match found {
                    Some(j) => match scene.matched_words(j, m) {
                        Some(words) => format!(" → element {j}, by \"{words}\""),
                        None => format!(" → element {j}"),
                    },
                    None => String::new(),
                };
                signals.push(Signal { what: format!("shows {}{hit}", describe(m)), held: found.is_some() });
            }
            for m in &page.none {
                signals.push(Signal {
                    what: format!("does not show {}", describe(m)),
                    held: scene.find(m, &recipe.key).is_none(),
                });
            }
            if !page.after.is_empty() {
                signals.push(Signal {
                    what: format!("comes after {} in this tab", page.after.join(" or ")),
                    held: page.after.iter().any(|s| scene.remembers(s)),
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
