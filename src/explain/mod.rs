//! What the engine makes of a saved vendor page, told for recipe authors (`keywarden-tool explain`).
//!
//! `model` turns saved HTML into the page model the content script would report; `explain` runs
//! that model through recognition, the walkthrough and key detection exactly as the worker does,
//! and writes down every signal, the recognized page, the current step and any key on screen.
//! Key text never reaches the report: the page model holds only outlines of key-like strings.

pub mod case;
pub mod model;

pub use model::page_model;

use crate::engine::detect::key_on_screen;
use crate::engine::page::{Element, PageModel, SecretShape};
use crate::engine::recipe::{Catalog, Done, KeySpec, Recipe};
use crate::engine::recognize::{describe, judge, recognize, KeyContext, KeyVerdict, PageVerdict, Scene};
use crate::engine::walkthrough::Progress;
use std::fmt::Write;

/// The written explanation, and whether a vendor page was recognized.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub recognized: bool,
    pub report: String,
}

/// One element as a person reads it: index, role, text and label (key-like text is already masked).
pub fn element_line(index: usize, el: &Element) -> String {
    let mut s = format!("element {index} ({}", format!("{:?}", el.role()).to_lowercase());
    if !el.text.is_empty() {
        let _ = write!(s, " {:?}", el.text);
    }
    if !el.label.is_empty() {
        let _ = write!(s, " labelled {:?}", el.label);
    }
    if !el.icon.is_empty() {
        let _ = write!(s, " icon {:?}", el.icon);
    }
    s.push(')');
    s
}

/// A key outline in words: its length and kinds of character, never the characters themselves.
pub fn outline(shape: &SecretShape) -> String {
    let mut kinds = Vec::new();
    for (has, name) in [(shape.lower, "a-z"), (shape.upper, "A-Z"), (shape.digit, "0-9")] {
        if has {
            kinds.push(name.to_string());
        }
    }
    if !shape.symbols.is_empty() {
        kinds.push(format!("symbols {:?}", shape.symbols));
    }
    if shape.guid {
        kinds.push("GUID layout".into());
    } else if shape.hex {
        kinds.push("hexadecimal".into());
    }
    format!("{} characters: {}", shape.len, kinds.join(", "))
}

fn held(v: &PageVerdict<'_>) -> usize {
    v.signals.iter().filter(|s| s.held).count()
}

/// Explains what `catalog` makes of `model`; an error only for a URL the engine refuses.
pub fn explain(catalog: &Catalog, model: &PageModel) -> Result<Explanation, String> {
    explain_after(catalog, model, &[])
}

/// Explains what `catalog` makes of `model` in a tab where the admin just performed the steps
/// `after` (of the vendor serving the page's host).
pub fn explain_after(catalog: &Catalog, model: &PageModel, after: &[String]) -> Result<Explanation, String> {
    let location = model.validate().map_err(|e| format!("{}: {e}", model.url))?;
    let scene = Scene::new(model, location).remembering(after.to_vec());
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "url:       {}", model.url);
    let _ = writeln!(w, "title:     {:?}", model::mask(&model.title).0);
    let _ = writeln!(w, "elements:  {} in the page model", model.elements.len());

    let Some(recipe) = catalog.for_host(&scene.location.host) else {
        let _ = writeln!(w, "vendor:    none");
        let _ = writeln!(w);
        let _ = writeln!(w, "not recognized: no vendor serves host {}", scene.location.host);
        let self_hosted: Vec<&str> =
            catalog.recipes.iter().filter(|r| r.vendor.self_hosted).map(|r| r.vendor.id.as_str()).collect();
        if !self_hosted.is_empty() {
            let _ = writeln!(
                w,
                "  self-hosted products ({}) are recognized only on servers added with --server VENDOR=HOST",
                self_hosted.join(", ")
            );
        }
        keys_without_capture(w, &scene, None);
        return Ok(Explanation { recognized: false, report: out });
    };
    let via_server = !recipe.serves(&scene.location.host);
    let _ = writeln!(
        w,
        "vendor:    {} ({}){}",
        recipe.vendor.name,
        recipe.vendor.id,
        if via_server { ", on a server added with --server" } else { "" }
    );

    let lists: Vec<&str> = recipe.vocabulary.names().collect();
    if !lists.is_empty() {
        let _ = writeln!(w, "words:     {}", lists.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(" "));
    }
    if !scene.memory().is_empty() {
        let _ = writeln!(w, "after:     {} (performed earlier in this tab)", scene.memory().join(", "));
    }

    let verdicts = judge(recipe, &scene);
    let rec = recognize(catalog, &scene);
    let _ = writeln!(w);
    let _ = writeln!(w, "pages in flow order (✓ held, ✗ did not):");
    for (n, v) in verdicts.iter().enumerate() {
        let mark = if rec.is_some_and(|r| std::ptr::eq(r.page, v.page)) { "  ← recognized" } else { "" };
        let _ = writeln!(w, "  {}. {} ({} of {} signals){mark}", n + 1, v.page.id, held(v), v.signals.len());
        for s in &v.signals {
            let _ = writeln!(w, "       {} {}", if s.held { "✓" } else { "✗" }, s.what);
        }
    }
    let _ = writeln!(w);

    let Some(rec) = rec else {
        let _ = writeln!(w, "not recognized: no page of {} has every signal holding", recipe.vendor.name);
        // The page closest to matching: most of its signals held, then the furthest along the flow.
        if let Some(best) = verdicts.iter().rev().max_by(|a, b| {
            let ratio = |v: &PageVerdict<'_>| held(v) as f64 / v.signals.len().max(1) as f64;
            ratio(a).total_cmp(&ratio(b)).then(held(a).cmp(&held(b)))
        }) {
            let _ = writeln!(
                w,
                "best partial page: {} ({} of {} signals held); missing:",
                best.page.id,
                held(best),
                best.signals.len()
            );
            for s in best.signals.iter().filter(|s| !s.held) {
                let _ = writeln!(w, "  ✗ {}", s.what);
            }
        }
        keys_without_capture(w, &scene, Some(recipe));
        return Ok(Explanation { recognized: false, report: out });
    };

    let page_no = recipe.pages.iter().position(|p| std::ptr::eq(p, rec.page)).map_or(0, |i| i + 1);
    let _ = writeln!(w, "recognized: {}/{} (page {page_no} of {})", recipe.vendor.id, rec.page.id, recipe.pages.len());
    let current = Progress::default().current(&rec, &scene);
    let _ = writeln!(w, "steps on this page (▶ current):");
    for step in &rec.page.steps {
        let (at, total) = recipe.position(&step.id);
        let is_current = current.is_some_and(|c| std::ptr::eq(c.step, step));
        let head =
            format!("  {} {} {:?} (step {at} of {total})", if is_current { "▶" } else { " " }, step.id, step.title);
        match scene.find_any(&step.target, &recipe.key) {
            Some(t) => {
                let el = scene.element(t);
                let done = match step.done {
                    Done::Filled if el.filled == Some(true) => ", done: filled",
                    Done::Checked if el.checked == Some(true) => ", done: checked",
                    _ => "",
                };
                let _ = writeln!(w, "{head} → {}{done}", element_line(t, el));
            }
            None => {
                let wanted: Vec<String> = step.target.iter().map(describe).collect();
                let _ = writeln!(w, "{head} → not on screen (looked for {})", wanted.join("; or "));
                if let Some(missing) = &step.missing {
                    let _ = writeln!(w, "      {missing}");
                }
            }
        }
    }
    match current {
        Some(c) => {
            let _ = writeln!(
                w,
                "current step: {} {:?} → {}",
                c.step.id,
                c.step.title,
                element_line(c.target, scene.element(c.target))
            );
        }
        None => {
            let _ = writeln!(
                w,
                "current step: none (every step whose target is on screen is done, or no target is on screen)"
            );
        }
    }
    match key_on_screen(&rec, &scene) {
        Some((step, anchor, key)) => {
            let el = scene.element(key);
            let shape = el.secret.as_ref().map(outline).unwrap_or_default();
            let _ = writeln!(
                w,
                "key on screen: element {key} ({}), outline {shape}; offered for saving at step {}, beside element {anchor}; {}",
                format!("{:?}", el.role()).to_lowercase(),
                step.id,
                context_words(&scene, &recipe.key, scene.key_verdict(key, &recipe.key)),
            );
        }
        None => keys_without_capture(w, &scene, Some(recipe)),
    }
    Ok(Explanation { recognized: true, report: out })
}

/// Why a key-shaped string is (or is not) taken for the key, in words.
fn context_words(scene: &Scene<'_>, key: &KeySpec, verdict: KeyVerdict) -> String {
    match verdict {
        KeyVerdict::Key(KeyContext::Announced(j)) => match scene.said(j, &key.context) {
            Some(words) => format!("element {j} calls it the key (\"{words}\")"),
            None => format!("element {j} calls it the key"),
        },
        KeyVerdict::Key(KeyContext::Generated(step)) => {
            format!("shown right after {step} was performed in this tab, the one key-shaped string no label names otherwise")
        }
        KeyVerdict::Shape => "it does not have the key's outline".into(),
        KeyVerdict::NamedOther(j) => format!("element {j} names it as something else"),
        KeyVerdict::Unannounced => {
            "nothing on the page calls it the key, and no step that generates one was performed".into()
        }
        KeyVerdict::NotAlone(step) => format!(
            "nothing on the page calls it the key; {step} was performed in this tab, but other key-shaped strings no label names otherwise are on the page"
        ),
    }
}

/// When no capture step finds a key: says so, and lists any key-like strings the page shows anyway.
fn keys_without_capture(w: &mut String, scene: &Scene<'_>, recipe: Option<&Recipe>) {
    let _ = writeln!(w, "key on screen: none offered for saving");
    for (i, el) in scene.model.elements.iter().enumerate() {
        let Some(shape) = &el.secret else { continue };
        let fit = match recipe {
            Some(r) if r.key.fits_shape(shape) => {
                format!(
                    ", fits the {} shape; {}",
                    r.key.label,
                    context_words(scene, &r.key, scene.key_verdict(i, &r.key))
                )
            }
            Some(r) => format!(", does not fit the {} shape", r.key.label),
            None => String::new(),
        };
        let _ = writeln!(
            w,
            "  key-like string at element {i} ({}), outline {}{fit}",
            format!("{:?}", el.role()).to_lowercase(),
            outline(shape)
        );
    }
}
