//! Saved HTML to page model: the rules of the content script's `describe()`, applied to a parsed document.
//!
//! `extension/content.js` reads a live DOM; here the same rules run over a static parse. What a
//! browser decides from style sheets and layout is approximated from the markup alone: an element
//! is invisible when it or an ancestor is display:none (the `hidden` attribute, an inline
//! `display: none`, a closed `<dialog>`, an unopened `[popover]`, `<input type=hidden>`, elements
//! browsers never render), when an inline `visibility: hidden` reaches it, when it has
//! `display: contents`, or when it sits in a closed `<details>` (the summary aside), under
//! `hidden="until-found"` (the element itself stays), inside a drop-down `<select>`, or in the
//! fallback content of `<canvas>`, `<video>` or `<audio>`. The walk skips `<script>`, `<style>`,
//! `<noscript>`, `<template>`, `<svg>`, `<head>`, `<iframe>`, `<object>`, keywarden's own overlay
//! elements and `aria-hidden="true"` subtrees, as the content script does. Sizes come from layout
//! and are not judged: an empty element a browser would draw with no area is still reported.
//! What the walk finds is then planned as the script plans it: long runs of repeated rows reduced
//! to their first rows, the rows that matter and a count, and past `MAX_ELEMENTS` what recipes match
//! on first, in document order.

use crate::engine::page::{Element, PageModel, Role, SecretShape};
use scraper::{Html, Node};
use std::collections::HashMap;

// MAX_ELEMENTS, MAX_TEXT, KEY_CHARS, KEY_MIN, TEXT_ROLES, ICON_ROLES, ICON_PREFIXES, ICON_LOOK and
// role_attr, read out of extension/content.js at build time: one place for both readings.
include!(concat!(env!("OUT_DIR"), "/page_rules.rs"));
// The content script's limits, checked as it builds: what it keeps around a key covers the context
// recognition reads, a full report is one the worker accepts, and a long run keeps its first rows.
const _: () = assert!(
    KEEP_BEFORE >= crate::engine::recognize::CONTEXT_BEFORE && KEEP_AFTER >= crate::engine::recognize::CONTEXT_AFTER
);
const _: () = assert!(MAX_ELEMENTS <= crate::engine::page::MAX_ELEMENTS);
const _: () = assert!(ROW_KEEP >= 1 && ROW_RUN > ROW_KEEP);
/// Subtrees the content script's walker rejects, by lower-cased node name.
const SKIP: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "iframe",
    "object",
    "keywarden-highlight",
    "keywarden-capture",
    "keywarden-panel",
];
const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];
/// Tags matched by the content script's `SEMANTIC` selector (besides `a[href]` and `[role]`).
const SEMANTIC_TAGS: &[&str] = &[
    "h1", "h2", "h3", "h4", "h5", "h6", "button", "input", "textarea", "select", "dialog", "label", "fieldset", "tr",
    "td", "th",
];
/// Class suffixes that style an icon rather than name it (`ICON_MODIFIER`).
const ICON_MODIFIERS: &[&str] = &[
    "solid", "regular", "light", "thin", "duotone", "brands", "xs", "sm", "lg", "xl", "fw", "spin", "pulse", "border",
    "inverse", "flip", "rotate", "stack",
];
/// Elements a `<label>` can point at.
const LABELABLE: &[&str] = &["button", "input", "meter", "output", "progress", "select", "textarea"];
/// Elements browsers style `display: none` whatever the page says, short of an inline override.
const NEVER_RENDERED: &[&str] = &[
    "area", "base", "basefont", "datalist", "head", "link", "meta", "noembed", "noframes", "param", "rp", "script",
    "style", "template", "title", "noscript",
];
/// Elements whose children are fallback content a browser does not draw.
const FALLBACK_HOSTS: &[&str] = &["canvas", "video", "audio"];
/// Input types a browser knows; any other `type` behaves as `text`.
const INPUT_TYPES: &[&str] = &[
    "hidden",
    "text",
    "search",
    "tel",
    "url",
    "email",
    "password",
    "date",
    "month",
    "week",
    "time",
    "datetime-local",
    "number",
    "range",
    "color",
    "checkbox",
    "radio",
    "file",
    "submit",
    "image",
    "reset",
    "button",
];

// ---- Strings, as JavaScript sees them --------------------------------------------------------

/// JavaScript's `\s`.
fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

fn ascii_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0C}' | '\r' | ' ')
}

/// `collapse`: every run of whitespace becomes one space, then the ends are trimmed.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if js_space(c) {
            gap = true;
        } else {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        }
    }
    out
}

/// `clip`: collapsed, then cut to `MAX_TEXT` UTF-16 code units as `String.prototype.slice` would.
fn clip(s: &str) -> String {
    let c = collapse(s);
    let units: Vec<u16> = c.encode_utf16().collect();
    if units.len() > MAX_TEXT {
        String::from_utf16_lossy(&units[..MAX_TEXT])
    } else {
        c
    }
}

/// `keyish`: a word of `KEYISH` characters, 16 or longer, mixing at least two of a-z, A-Z and 0-9.
pub fn keyish(word: &str) -> bool {
    if word.len() < KEY_MIN || !word.chars().all(|c| c.is_ascii_alphanumeric() || KEY_CHARS.contains(c)) {
        return false;
    }
    let classes = [
        word.bytes().any(|b| b.is_ascii_lowercase()),
        word.bytes().any(|b| b.is_ascii_uppercase()),
        word.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|&&c| c).count() >= 2
}

/// `shapeOf`: the outline of a key-like word.
pub fn shape_of(word: &str) -> SecretShape {
    SecretShape::of(word)
}

/// `findKey`: the longest key-like word in a string (the first of equals), if any.
pub fn find_key(s: &str) -> Option<String> {
    let collapsed = collapse(s);
    let mut best: Option<&str> = None;
    for word in collapsed.split(' ') {
        if keyish(word) && best.is_none_or(|b| word.len() > b.len()) {
            best = Some(word);
        }
    }
    best.map(str::to_string)
}

/// `mask`: the text with every key-like word replaced by '•', and the outline of the longest one.
pub fn mask(s: &str) -> (String, Option<SecretShape>) {
    let Some(key) = find_key(s) else { return (clip(s), None) };
    let text = collapse(s).split(' ').map(|w| if keyish(w) { "•" } else { w }).collect::<Vec<_>>().join(" ");
    (clip(&text), Some(shape_of(&key)))
}

/// JavaScript's `Number(string)`, for the integers heading levels are written as; NaN otherwise.
fn js_number(s: &str) -> f64 {
    let t = s.trim_matches(js_space);
    if t.is_empty() {
        return 0.0;
    }
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let radix = [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)]
        .into_iter()
        .find(|(p, _)| t.starts_with(p));
    if let Some((p, r)) = radix {
        return u64::from_str_radix(&t[p.len()..], r).map_or(f64::NAN, |v| v as f64);
    }
    match body {
        "Infinity" => return if t.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY },
        _ if body.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) => {}
        _ => return f64::NAN,
    }
    t.parse().unwrap_or(f64::NAN)
}

// ---- The document ------------------------------------------------------------------------------

enum Kind {
    Element { name: String, html: bool, attrs: Vec<(String, String)> },
    Text(String),
}

struct DomNode {
    parent: Option<usize>,
    /// One past the last node of this node's subtree: nodes are stored in document order.
    end: usize,
    kind: Kind,
}

/// The parsed document in document order, with what the rules need precomputed.
struct Dom {
    nodes: Vec<DomNode>,
    ids: HashMap<String, usize>,
    /// The labels (`el.labels`) of each labelable element, in document order.
    labels: HashMap<usize, Vec<usize>>,
    /// Per node: rendered and not hidden by CSS, as `checkVisibility` would say.
    visible: Vec<bool>,
}

impl Dom {
    fn parse(html: &str) -> Dom {
        let doc = Html::parse_document(html);
        let mut nodes: Vec<DomNode> = Vec::new();
        // Iterative pre-order walk; a template's contents (a fragment) are not part of the document.
        let mut stack = vec![(doc.tree.root(), None::<usize>)];
        let mut open: Vec<usize> = Vec::new();
        while let Some((node, parent)) = stack.pop() {
            while let Some(&top) = open.last() {
                if Some(top) == parent {
                    break;
                }
                nodes[top].end = nodes.len();
                open.pop();
            }
            let kind = match node.value() {
                Node::Document => {
                    for child in node.children().rev() {
                        stack.push((child, None));
                    }
                    continue;
                }
                Node::Element(e) => Kind::Element {
                    name: e.name().to_ascii_lowercase(),
                    html: &*e.name.ns == "http://www.w3.org/1999/xhtml",
                    attrs: e.attrs().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                },
                Node::Text(t) => Kind::Text(t.text.to_string()),
                _ => continue,
            };
            let me = nodes.len();
            nodes.push(DomNode { parent, end: me + 1, kind });
            if matches!(nodes[me].kind, Kind::Element { .. }) {
                open.push(me);
                for child in node.children().rev() {
                    stack.push((child, Some(me)));
                }
            }
        }
        let total = nodes.len();
        for i in open {
            nodes[i].end = total;
        }
        let mut dom = Dom { nodes, ids: HashMap::new(), labels: HashMap::new(), visible: Vec::new() };
        for i in 0..dom.nodes.len() {
            if let Some(id) = dom.attr(i, "id").filter(|id| !id.is_empty()) {
                dom.ids.entry(id.to_string()).or_insert(i);
            }
        }
        for i in 0..dom.nodes.len() {
            if !dom.is(i, "label") {
                continue;
            }
            let control = match dom.attr(i, "for") {
                Some(id) => dom.by_id(id).filter(|&c| dom.labelable(c)),
                None => (i + 1..dom.nodes[i].end).find(|&c| dom.labelable(c)),
            };
            if let Some(c) = control {
                dom.labels.entry(c).or_default().push(i);
            }
        }
        dom.visible = dom.visibility();
        dom
    }

    fn name(&self, i: usize) -> Option<&str> {
        match &self.nodes[i].kind {
            Kind::Element { name, .. } => Some(name),
            Kind::Text(_) => None,
        }
    }

    fn is(&self, i: usize, tag: &str) -> bool {
        matches!(&self.nodes[i].kind, Kind::Element { name, html: true, .. } if name == tag)
    }

    fn is_any(&self, i: usize, tags: &[&str]) -> bool {
        matches!(&self.nodes[i].kind, Kind::Element { name, html: true, .. } if tags.contains(&name.as_str()))
    }

    fn attr(&self, i: usize, key: &str) -> Option<&str> {
        match &self.nodes[i].kind {
            Kind::Element { attrs, .. } => attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
            Kind::Text(_) => None,
        }
    }

    fn has(&self, i: usize, key: &str) -> bool {
        self.attr(i, key).is_some()
    }

    fn by_id(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }

    fn elements_in(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        (i + 1..self.nodes[i].end).filter(|&c| self.name(c).is_some())
    }

    /// Direct children, elements and texts, stepping from one sibling's subtree to the next.
    fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.nodes[i].end;
        let mut next = i + 1;
        std::iter::from_fn(move || {
            let at = next;
            (at < end).then(|| {
                next = self.nodes[at].end;
                at
            })
        })
    }

    /// The parent element (`parentElement`).
    fn parent(&self, i: usize) -> Option<usize> {
        self.nodes[i].parent
    }

    /// `el.closest(...)`: this element or the nearest ancestor that satisfies `pred`.
    fn closest(&self, from: Option<usize>, pred: impl Fn(usize) -> bool) -> Option<usize> {
        let mut at = from;
        while let Some(i) = at {
            if pred(i) {
                return Some(i);
            }
            at = self.parent(i);
        }
        None
    }

    /// `el.type` of an `<input>`: lower-cased, unknown types read as "text".
    fn input_type(&self, i: usize) -> String {
        let t = self.attr(i, "type").unwrap_or("text").to_ascii_lowercase();
        if INPUT_TYPES.contains(&t.as_str()) {
            t
        } else {
            "text".into()
        }
    }

    fn labelable(&self, i: usize) -> bool {
        self.is_any(i, LABELABLE) && !(self.is(i, "input") && self.input_type(i) == "hidden")
    }

    /// `textContent`: every text below, concatenated.
    fn text_content(&self, i: usize) -> String {
        (i + 1..self.nodes[i].end)
            .filter_map(|c| match &self.nodes[c].kind {
                Kind::Text(t) => Some(t.as_str()),
                Kind::Element { .. } => None,
            })
            .collect()
    }

    /// The texts directly inside (the content script's `ownText`).
    fn own_text(&self, i: usize) -> String {
        self.children(i)
            .filter_map(|c| match &self.nodes[c].kind {
                Kind::Text(t) => Some(format!("{t} ")),
                Kind::Element { .. } => None,
            })
            .collect()
    }

    /// `document.body`, the walker's root.
    fn body(&self) -> Option<usize> {
        let html = (0..self.nodes.len()).find(|&i| self.nodes[i].parent.is_none() && self.name(i).is_some())?;
        self.children(html).find(|&c| self.is(c, "body") || self.is(c, "frameset")).or(Some(html))
    }

    /// `document.title`: the first `<title>`'s own text, whitespace collapsed.
    fn title(&self) -> String {
        let Some(t) = (0..self.nodes.len()).find(|&i| self.is(i, "title")) else { return String::new() };
        let own: String = self
            .children(t)
            .filter_map(|c| match &self.nodes[c].kind {
                Kind::Text(s) => Some(s.as_str()),
                Kind::Element { .. } => None,
            })
            .collect();
        own.split(ascii_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
    }

    /// The last inline-style declaration of `property`, lower-cased, without `!important`.
    fn inline_style(&self, i: usize, property: &str) -> Option<String> {
        let style = self.attr(i, "style")?;
        let mut plain = String::with_capacity(style.len());
        let mut rest = style;
        while let Some(start) = rest.find("/*") {
            plain.push_str(&rest[..start]);
            rest = rest[start + 2..].split_once("*/").map_or("", |(_, after)| after);
        }
        plain.push_str(rest);
        plain
            .rsplit(';')
            .filter_map(|decl| decl.split_once(':'))
            .filter(|(p, _)| p.trim().eq_ignore_ascii_case(property))
            .map(|(_, v)| {
                let v = v.trim().to_ascii_lowercase();
                v.strip_suffix("!important").map_or(v.clone(), |s| s.trim_end().to_string())
            })
            .find(|v| !v.is_empty())
    }

    /// Whether a `<select>` shows as a drop-down, whose options have no box on the page.
    fn drop_down(&self, i: usize) -> bool {
        let size = self.attr(i, "size").and_then(|s| s.trim().parse::<u32>().ok());
        !self.has(i, "multiple") && size.unwrap_or(1) <= 1
    }

    /// Display none by this element's own doing (its inline style, else the browser's defaults).
    fn display_none(&self, i: usize) -> bool {
        if let Some(display) = self.inline_style(i, "display") {
            return display == "none";
        }
        (self.has(i, "hidden") && !self.until_found(i))
            || self.is_any(i, NEVER_RENDERED)
            || (self.is(i, "dialog") && !self.has(i, "open"))
            || (self.has(i, "popover") && !self.is(i, "dialog"))
            || (self.is(i, "input") && self.input_type(i) == "hidden")
    }

    /// Whether a parent keeps this child out of the rendering (closed details, fallback content, drop-downs).
    fn shut_out_by(&self, parent: usize, child: usize) -> bool {
        if self.is(parent, "details") && !self.has(parent, "open") {
            let summary = self.children(parent).find(|&c| self.is(c, "summary"));
            return summary != Some(child);
        }
        self.until_found(parent)
            || self.is_any(parent, FALLBACK_HOSTS)
            || (self.is(parent, "select") && self.drop_down(parent))
    }

    /// `hidden="until-found"`: the element keeps its box, its contents are skipped until found.
    fn until_found(&self, i: usize) -> bool {
        self.attr(i, "hidden").is_some_and(|v| v.eq_ignore_ascii_case("until-found"))
    }

    fn visibility(&self) -> Vec<bool> {
        let n = self.nodes.len();
        let mut gone = vec![false; n];
        let mut shown_style = vec![true; n];
        let mut visible = vec![false; n];
        for i in 0..n {
            if self.name(i).is_none() {
                continue;
            }
            let parent = self.parent(i);
            gone[i] = parent.is_some_and(|p| gone[p] || self.shut_out_by(p, i)) || self.display_none(i);
            shown_style[i] = match self.inline_style(i, "visibility").as_deref() {
                Some("hidden" | "collapse") => false,
                Some("visible") => true,
                _ => parent.is_none_or(|p| shown_style[p]),
            };
            let contents = self.inline_style(i, "display").as_deref() == Some("contents");
            visible[i] = !gone[i] && shown_style[i] && !contents;
        }
        visible
    }

    /// The content script's `el.value`, for elements that have one, as the page was saved.
    fn value(&self, i: usize) -> Option<String> {
        let attr = || self.attr(i, "value").unwrap_or("").to_string();
        let name = match &self.nodes[i].kind {
            Kind::Element { name, html: true, .. } => name.as_str(),
            _ => return None,
        };
        Some(match name {
            "input" => self.input_value(i),
            "textarea" => self.text_content(i),
            "select" => self.select_value(i),
            "option" => self.option_value(i),
            "button" | "data" | "param" => attr(),
            "output" => self.text_content(i),
            "li" => {
                let v = js_number(&attr());
                if v.is_finite() && v != 0.0 {
                    format!("{}", v.trunc() as i64)
                } else {
                    String::new()
                }
            }
            "meter" | "progress" => {
                let v = js_number(&attr());
                if v.is_finite() && v != 0.0 {
                    format!("{v}")
                } else {
                    String::new()
                }
            }
            _ => return None,
        })
    }

    fn input_value(&self, i: usize) -> String {
        let raw = self.attr(i, "value");
        let ty = self.input_type(i);
        let v = raw.unwrap_or("");
        let no_newlines = || v.chars().filter(|&c| c != '\n' && c != '\r').collect::<String>();
        match ty.as_str() {
            "checkbox" | "radio" => raw.unwrap_or("on").to_string(),
            "text" | "search" | "tel" | "password" => no_newlines(),
            "url" | "email" => no_newlines().trim_matches(ascii_space).to_string(),
            "number" => {
                if valid_float(v) {
                    v.to_string()
                } else {
                    String::new()
                }
            }
            "range" => {
                if valid_float(v) {
                    v.to_string()
                } else {
                    "50".into()
                }
            }
            "color" => {
                let ok = v.len() == 7 && v.starts_with('#') && v[1..].bytes().all(|b| b.is_ascii_hexdigit());
                if ok {
                    v.to_ascii_lowercase()
                } else {
                    "#000000".into()
                }
            }
            "file" => String::new(),
            _ => v.to_string(),
        }
    }

    /// The options of a `<select>`, with whether each is disabled.
    fn options(&self, i: usize) -> Vec<(usize, bool)> {
        let mut out = Vec::new();
        for c in self.children(i) {
            if self.is(c, "option") {
                out.push((c, self.has(c, "disabled")));
            } else if self.is(c, "optgroup") {
                let off = self.has(c, "disabled");
                out.extend(
                    self.children(c).filter(|&o| self.is(o, "option")).map(|o| (o, off || self.has(o, "disabled"))),
                );
            }
        }
        out
    }

    fn select_value(&self, i: usize) -> String {
        let options = self.options(i);
        let selected: Vec<usize> = options.iter().filter(|(o, _)| self.has(*o, "selected")).map(|(o, _)| *o).collect();
        let pick = if self.has(i, "multiple") {
            selected.first().copied()
        } else if let Some(&last) = selected.last() {
            Some(last)
        } else if self.drop_down(i) {
            options.iter().find(|(_, off)| !off).map(|(o, _)| *o)
        } else {
            None
        };
        pick.map(|o| self.option_value(o)).unwrap_or_default()
    }

    fn option_value(&self, i: usize) -> String {
        match self.attr(i, "value") {
            Some(v) => v.to_string(),
            None => self.text_content(i).split(ascii_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "),
        }
    }

    /// `el.disabled`: the attribute, on the elements that reflect it.
    fn disabled(&self, i: usize) -> bool {
        self.is_any(i, &["button", "fieldset", "input", "optgroup", "option", "select", "textarea", "link", "style"])
            && self.has(i, "disabled")
    }
}

/// A valid floating-point number as HTML defines it (what `<input type=number>` keeps).
fn valid_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    let int = digits(&mut i);
    let frac = if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
        true
    } else {
        false
    };
    if !int && !frac {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

// ---- describe() ----------------------------------------------------------------------------------

/// What `roleOf` answers: no role, a role, or "skip this element" (a hidden input).
enum RoleOf {
    Skip,
    None,
    Some(Role),
}

fn semantic(dom: &Dom, i: usize) -> bool {
    dom.is_any(i, SEMANTIC_TAGS)
        || (dom.is(i, "a") && dom.has(i, "href"))
        || focusable_anchor(dom, i)
        || dom.has(i, "role")
}

/// `FOCUSABLE_ANCHOR`: an `<a>` without an address that takes focus, as toolkits draw buttons.
fn focusable_anchor(dom: &Dom, i: usize) -> bool {
    dom.is(i, "a") && dom.attr(i, "tabindex").is_some_and(|t| t != "-1")
}

/// `ligature`: an icon font's ligature element, whose text is an icon's name.
fn ligature(dom: &Dom, i: usize) -> bool {
    dom.name(i) == Some("mat-icon")
        || dom
            .attr(i, "class")
            .unwrap_or("")
            .split(js_space)
            .any(|t| t.starts_with("material-icons") || t.starts_with("material-symbols"))
}

fn role_of(dom: &Dom, i: usize) -> RoleOf {
    let attr = dom.attr(i, "role").unwrap_or("");
    let first = attr.trim_matches(js_space).split(js_space).next().unwrap_or("").to_lowercase();
    if let Some(role) = role_attr(&first) {
        return RoleOf::Some(role);
    }
    let Kind::Element { name, html: true, .. } = &dom.nodes[i].kind else { return RoleOf::None };
    RoleOf::Some(match name.as_str() {
        "button" => Role::Button,
        "a" if dom.has(i, "href") => Role::Link,
        "a" if focusable_anchor(dom, i) => Role::Button,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Role::Heading,
        "textarea" => Role::Textbox,
        "select" => Role::Combobox,
        "dialog" => Role::Dialog,
        "label" => Role::Label,
        "fieldset" => Role::Group,
        "tr" => Role::Row,
        "td" | "th" => Role::Cell,
        "input" => match dom.input_type(i).as_str() {
            "hidden" => return RoleOf::Skip,
            "button" | "submit" | "reset" | "image" => Role::Button,
            "checkbox" => Role::Checkbox,
            "radio" => Role::Radio,
            _ => Role::Textbox,
        },
        _ => return RoleOf::None,
    })
}

fn is_dialog(dom: &Dom, i: usize) -> bool {
    dom.is(i, "dialog") || matches!(dom.attr(i, "role"), Some("dialog" | "alertdialog"))
}

fn is_group(dom: &Dom, i: usize) -> bool {
    dom.is(i, "fieldset") || matches!(dom.attr(i, "role"), Some("group" | "radiogroup"))
}

/// Inside something whose text is already reported (the own-text rule's `closest(...)`).
fn in_text_owner(dom: &Dom, i: usize) -> bool {
    dom.closest(dom.parent(i), |a| {
        dom.is_any(a, &["button", "label"])
            || dom.is_any(a, HEADINGS)
            || (dom.is(a, "a") && dom.has(a, "href"))
            || focusable_anchor(dom, a)
            || matches!(dom.attr(a, "role"), Some("button" | "link" | "heading" | "option" | "menuitem" | "tab"))
    })
    .is_some()
}

/// `labelOf`: the accessible label, by the content script's order of sources.
fn label_of(dom: &Dom, i: usize, role: Role) -> String {
    if let Some(aria) = dom.attr(i, "aria-label").filter(|a| !a.is_empty()) {
        return aria.to_string();
    }
    if let Some(by) = dom.attr(i, "aria-labelledby").filter(|b| !b.is_empty()) {
        let t: Vec<String> =
            by.split(js_space).map(|id| dom.by_id(id).map(|e| dom.text_content(e)).unwrap_or_default()).collect();
        let t = t.join(" ");
        if !collapse(&t).is_empty() {
            return t;
        }
    }
    if let Some(labels) = dom.labels.get(&i) {
        return labels.iter().map(|&l| dom.text_content(l)).collect::<Vec<_>>().join(" ");
    }
    if role == Role::Group && dom.is(i, "fieldset") {
        if let Some(legend) = dom.children(i).find(|&c| dom.is(c, "legend")) {
            return dom.text_content(legend);
        }
    }
    if role == Role::Dialog {
        let heading = dom
            .elements_in(i)
            .find(|&c| dom.is_any(c, &["h1", "h2", "h3", "h4"]) || dom.attr(c, "role") == Some("heading"));
        if let Some(h) = heading {
            return dom.text_content(h);
        }
    }
    [dom.attr(i, "placeholder"), dom.attr(i, "title"), dom.attr(i, "data-qtip")]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_string()
}

/// `textOf`: an element's text without `aria-hidden` subtrees and icon-font ligatures.
fn text_of(dom: &Dom, i: usize) -> String {
    let mut out = String::new();
    let mut c = i + 1;
    while c < dom.nodes[i].end {
        match &dom.nodes[c].kind {
            Kind::Text(t) => {
                out.push_str(t);
                c += 1;
            }
            Kind::Element { .. } if dom.attr(c, "aria-hidden") == Some("true") || ligature(dom, c) => {
                c = dom.nodes[c].end;
            }
            Kind::Element { .. } => c += 1,
        }
    }
    out
}

/// `iconClass`: the icon a class token names (`fa-copy` → `copy`), or none.
fn icon_class(token: &str) -> Option<String> {
    let (prefix, rest) = token.split_once('-')?;
    let (prefix, rest) = (prefix.to_lowercase(), rest.to_lowercase());
    let modifier = |r: &str| {
        let digits = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        let head = r.split('-').next().unwrap_or("");
        (digits > 0 && r[digits..].starts_with('x') && (r.len() == digits + 1 || r[digits + 1..].starts_with('-')))
            || ICON_MODIFIERS.contains(&head)
    };
    let chars_ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (!prefix.is_empty() && ICON_PREFIXES.contains(&prefix.as_str()) && chars_ok && !modifier(&rest)).then_some(rest)
}

/// `iconOf`: the name of the icon a control shows, from itself or its first few descendants.
fn icon_of(dom: &Dom, i: usize) -> String {
    for c in std::iter::once(i).chain(dom.elements_in(i).take(ICON_LOOK)) {
        if ligature(dom, c) {
            return collapse(&dom.text_content(c));
        }
        let used = if dom.name(c) == Some("use") { dom.attr(c, "href").unwrap_or("") } else { "" };
        let named = [dom.attr(c, "data-icon"), dom.attr(c, "svgicon")]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .or_else(|| used.split_once('#').map(|(_, f)| f).filter(|f| !f.is_empty()));
        if let Some(named) = named {
            let lower = named.to_ascii_lowercase();
            let cut = ["icon-", "icon_", "ic-", "ic_", "i-", "i_"]
                .iter()
                .find(|p| lower.starts_with(*p))
                .map_or(0, |p| p.len());
            return named[cut..].to_string();
        }
        if let Some(name) = dom.attr(c, "class").unwrap_or("").split(ascii_space).find_map(icon_class) {
            return name;
        }
    }
    String::new()
}

/// `shown`: visible, or a checkbox or radio whose label is (styled boxes hide the input itself).
fn shown(dom: &Dom, i: usize, role: Role) -> bool {
    dom.visible[i]
        || (matches!(role, Role::Checkbox | Role::Radio)
            && dom.labels.get(&i).is_some_and(|ls| ls.iter().any(|&l| dom.visible[l])))
}

/// One element the walk finds worth reporting, before the plan: its record without references to
/// other records, the nodes of its dialog and group, and the repeated items it sits in (nearest first).
struct Entry {
    node: usize,
    el: Element,
    dialog: Option<usize>,
    group: Option<usize>,
    items: Vec<usize>,
}

/// `ITEM`: a repeated row or list item.
fn is_item(dom: &Dom, i: usize) -> bool {
    dom.is(i, "tr") || dom.is(i, "li") || matches!(dom.attr(i, "role"), Some("row" | "listitem" | "treeitem"))
}

/// `itemsOf`: the repeated items around element `i`, nearest first.
fn items_of(dom: &Dom, i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = dom.closest(Some(i), |a| is_item(dom, a));
    while let Some(a) = at {
        out.push(a);
        at = dom.closest(dom.parent(a), |b| is_item(dom, b));
    }
    out
}

/// `unitOf`: what an item repeats as, the item or the wrapper it is alone in, up to the first
/// ancestor with siblings (below the walk's root).
fn unit_of(dom: &Dom, item: usize, body: usize) -> usize {
    let mut u = item;
    while let Some(p) = dom.parent(u) {
        if p == body || dom.children(p).filter(|&c| dom.name(c).is_some()).count() != 1 {
            break;
        }
        u = p;
    }
    u
}

/// An item's run: its unit's parent and tag, how many children of that tag the parent holds, and
/// the unit's place among them (`runOf`).
struct Run {
    parent: Option<usize>,
    tag: String,
    total: usize,
    at: usize,
}

/// `runsIn`: how many children of `parent` share each tag, and each child's place among its tag's.
struct Siblings {
    count: HashMap<String, usize>,
    at: HashMap<usize, usize>,
}

/// `tagName`: upper-cased for HTML elements, as written otherwise.
fn tag_name(dom: &Dom, i: usize) -> String {
    let name = dom.name(i).unwrap_or("");
    if dom.nodes[i].is_html() {
        name.to_ascii_uppercase()
    } else {
        name.to_string()
    }
}

fn siblings(dom: &Dom, parent: usize) -> Siblings {
    let mut s = Siblings { count: HashMap::new(), at: HashMap::new() };
    for c in dom.children(parent).filter(|&c| dom.name(c).is_some()) {
        let n = s.count.entry(tag_name(dom, c)).or_insert(0);
        s.at.insert(c, *n);
        *n += 1;
    }
    s
}

fn run_of(dom: &Dom, item: usize, body: usize, cache: &mut HashMap<usize, Siblings>) -> Run {
    let unit = unit_of(dom, item, body);
    let parent = dom.parent(unit);
    let tag = tag_name(dom, unit);
    let (total, at) = match parent {
        Some(p) => {
            let s = cache.entry(p).or_insert_with(|| siblings(dom, p));
            (s.count.get(&tag).copied().unwrap_or(0), s.at.get(&unit).copied().unwrap_or(0))
        }
        None => (0, 0),
    };
    Run { parent, tag, total, at }
}

/// The page model the content script would report for `html` shown at `url`.
pub fn page_model(html: &str, url: &str) -> PageModel {
    let dom = Dom::parse(html);
    let mut entries: Vec<Entry> = Vec::new();
    let Some(root) = dom.body() else {
        return PageModel { url: url.to_string(), title: clip(&dom.title()), elements: Vec::new() };
    };
    let mut i = root + 1;
    while i < dom.nodes[root].end {
        let Kind::Element { name, .. } = &dom.nodes[i].kind else {
            i += 1;
            continue;
        };
        if SKIP.contains(&name.as_str()) || dom.attr(i, "aria-hidden") == Some("true") {
            i = dom.nodes[i].end;
            continue;
        }
        let at = i;
        i += 1;
        if let Some(el) = describe_one(&dom, at) {
            entries.push(Entry {
                node: at,
                el,
                dialog: dom.closest(dom.parent(at), |a| is_dialog(&dom, a)),
                group: dom.closest(dom.parent(at), |a| is_group(&dom, a)),
                items: items_of(&dom, at),
            });
        }
    }
    PageModel { url: url.to_string(), title: clip(&dom.title()), elements: plan(&dom, entries, root) }
}

/// `plan`: long runs of repeated items summarized, the budget of `MAX_ELEMENTS` spent on what
/// matters first, in document order, with each element's dialog and group as report indices.
fn plan(dom: &Dom, all: Vec<Entry>, body: usize) -> Vec<Element> {
    let mut runs: HashMap<usize, Run> = HashMap::new();
    let mut parents: HashMap<usize, Siblings> = HashMap::new();
    let mut run = |item: usize| -> (Option<usize>, String, usize, usize) {
        let r = runs.entry(item).or_insert_with(|| run_of(dom, item, body, &mut parents));
        (r.parent, r.tag.clone(), r.total, r.at)
    };
    let mut matters = std::collections::HashSet::new();
    for e in &all {
        let el = &e.el;
        if el.secret.is_some() || matches!(el.role(), Role::Dialog | Role::Alert) || el.filled == Some(true) {
            matters.extend(e.items.iter().copied());
        }
    }
    let mut kept: Vec<Entry> = all
        .into_iter()
        .filter(|e| {
            e.items.iter().all(|&item| {
                let (_, _, total, at) = run(item);
                total <= ROW_RUN || at < ROW_KEEP || matters.contains(&item)
            })
        })
        .collect();
    if kept.len() > MAX_ELEMENTS {
        let n = kept.len();
        let mut first = vec![false; n];
        for (i, e) in kept.iter().enumerate() {
            let role = e.el.role();
            if FIRST_ROLES.contains(&role) {
                first[i] = true;
            }
            let (back, ahead) = if e.el.secret.is_some() {
                (KEEP_BEFORE, KEEP_AFTER)
            } else if FIELD_ROLES.contains(&role) {
                (1, 1)
            } else {
                (0, 0)
            };
            if back + ahead > 0 {
                for f in &mut first[i.saturating_sub(back)..=(i + ahead).min(n - 1)] {
                    *f = true;
                }
            }
        }
        let mut take = vec![false; n];
        let mut room = MAX_ELEMENTS;
        for pass_first in [true, false] {
            for i in 0..n {
                if room > 0 && !take[i] && (first[i] || !pass_first) {
                    take[i] = true;
                    room -= 1;
                }
            }
        }
        let mut flags = take.into_iter();
        kept.retain(|_| flags.next().unwrap_or(false));
    }
    let mut index: HashMap<usize, u32> = HashMap::new();
    let mut counted = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(kept.len());
    for (i, e) in kept.into_iter().enumerate() {
        index.insert(e.node, i as u32);
        let mut el = e.el;
        for &item in &e.items {
            let (parent, tag, total, _) = run(item);
            if total <= ROW_RUN || !counted.insert((parent, tag)) {
                continue;
            }
            el.run = Some(total as u32);
            break;
        }
        el.dialog = e.dialog.and_then(|d| index.get(&d).copied());
        el.group = e.group.and_then(|g| index.get(&g).copied());
        out.push(el);
    }
    out
}

fn describe_one(dom: &Dom, i: usize) -> Option<Element> {
    let mut role = if semantic(dom, i) { role_of(dom, i) } else { RoleOf::None };
    let raw = match role {
        RoleOf::Skip => return None,
        RoleOf::Some(r) if TEXT_ROLES.contains(&r) => {
            if dom.is(i, "input") {
                dom.value(i).unwrap_or_default()
            } else {
                text_of(dom, i)
            }
        }
        RoleOf::Some(_) => String::new(),
        RoleOf::None => {
            let own = dom.own_text(i);
            if collapse(&own).is_empty() || in_text_owner(dom, i) {
                return None;
            }
            role = RoleOf::Some(Role::Text);
            own
        }
    };
    let RoleOf::Some(role) = role else { return None };
    if !shown(dom, i, role) {
        return None;
    }
    let (text, mut secret) = mask(&raw);
    let mut el = Element { role: Some(role), text, ..Element::default() };
    if matches!(role, Role::Textbox | Role::Combobox) {
        let value = dom.value(i).unwrap_or_else(|| collapse(&dom.text_content(i)));
        el.filled = Some(!value.trim_matches(js_space).is_empty());
        // A field may show the new key; only its outline is reported, and never for password fields.
        let password = dom.is(i, "input") && dom.input_type(i) == "password";
        if !password {
            if let Some(key) = find_key(&value) {
                secret = Some(shape_of(&key));
            }
        }
    }
    let label = clip(&label_of(dom, i, role));
    if !label.is_empty() && find_key(&label).is_none() {
        el.label = label;
    }
    if ICON_ROLES.contains(&role) && el.label.is_empty() && !el.text.contains(' ') {
        el.icon = clip(&icon_of(dom, i));
    }
    if role == Role::Heading {
        // `Number(el.tagName.slice(1))`: 2 for <h2>, NaN for <div role="heading">.
        let name = dom.name(i).unwrap_or("");
        let tag = if dom.nodes[i].is_html() { name.to_ascii_uppercase() } else { name.to_string() };
        let from_tag = js_number(tag.get(1..).unwrap_or(""));
        let level = [from_tag, dom.attr(i, "aria-level").map_or(f64::NAN, js_number)]
            .into_iter()
            .find(|v| !v.is_nan() && *v != 0.0);
        el.level = level.filter(|v| v.fract() == 0.0 && (1.0..=255.0).contains(v)).map(|v| v as u8);
    }
    if matches!(role, Role::Checkbox | Role::Radio) {
        el.checked =
            Some(if dom.is(i, "input") { dom.has(i, "checked") } else { dom.attr(i, "aria-checked") == Some("true") });
    }
    if dom.disabled(i) || dom.attr(i, "aria-disabled") == Some("true") {
        el.disabled = true;
    }
    el.menu = matches!(dom.attr(i, "aria-haspopup"), Some("true" | "menu"));
    el.secret = secret;
    Some(el)
}

impl DomNode {
    fn is_html(&self) -> bool {
        matches!(self.kind, Kind::Element { html: true, .. })
    }
}

/// A page model as golden-file JSON: the URL and title, then one element per line, so a diff
/// shows which elements changed.
pub fn golden(model: &PageModel) -> String {
    let text = |v: &str| serde_json::to_string(v).expect("a string serializes");
    let mut out =
        format!("{{\n  \"url\": {},\n  \"title\": {},\n  \"elements\": [", text(&model.url), text(&model.title));
    for (i, el) in model.elements.iter().enumerate() {
        let line = serde_json::to_string(el).expect("an element serializes");
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&line);
    }
    out.push_str(if model.elements.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `rows` rows with `special` (a row's markup) in place of row `at`.
    fn table_page(rows: usize, at: usize, special: &str) -> String {
        let body: String = (0..rows)
            .map(|n| {
                if n == at {
                    special.to_string()
                } else {
                    format!("<tr><td>row {n}</td><td><button>Delete</button></td></tr>")
                }
            })
            .collect();
        format!("<html><body><h1>Tokens</h1><table><tbody>{body}</tbody></table><button>Create</button></body></html>")
    }

    #[test]
    fn long_runs_keep_their_first_rows_those_that_matter_and_a_count() {
        let key = "<tr><td>New token</td><td><input readonly value=\"Qw3rTy8uIoP1aSdF9gHjK2lZ\"></td></tr>";
        let model = page_model(&table_page(2000, 1500, key), "https://a.test/");
        let rows: Vec<&Element> = model.elements.iter().filter(|e| e.role() == Role::Row).collect();
        assert_eq!(rows.len(), ROW_KEEP + 1, "the first rows and the one showing a key");
        assert_eq!(rows[0].run, Some(2000));
        assert!(rows[1..].iter().all(|r| r.run.is_none()));
        assert!(model.elements.iter().any(|e| e.secret.is_some()), "the key's row is reported");
        assert_eq!(model.elements.last().map(|e| e.text.as_str()), Some("Create"), "what follows the table too");
    }

    #[test]
    fn short_runs_are_reported_whole() {
        let model = page_model(&table_page(ROW_RUN, usize::MAX, ""), "https://a.test/");
        assert_eq!(model.elements.iter().filter(|e| e.role() == Role::Row).count(), ROW_RUN);
        assert!(model.elements.iter().all(|e| e.run.is_none()));
    }

    #[test]
    fn past_the_budget_controls_and_a_keys_context_come_before_plain_text() {
        let lines: String = (0..3000).map(|n| format!("<p>line {n}</p>")).collect();
        let html = format!(
            "<html><body>{lines}<p>Your new token</p><code>Qw3rTy8uIoP1aSdF9gHjK2lZ</code>{lines}<button>Copy token</button></body></html>"
        );
        let model = page_model(&html, "https://a.test/");
        assert_eq!(model.elements.len(), MAX_ELEMENTS);
        let key = model.elements.iter().position(|e| e.secret.is_some()).expect("the key is reported");
        assert_eq!(model.elements[key - 1].text, "Your new token", "with the words announcing it");
        assert_eq!(model.elements.last().map(|e| e.text.as_str()), Some("Copy token"));
    }
}
