//! Recognition cases as data: a saved vendor page whose header says what keywarden must make of it, parsed and judged the way the worker judges a report.
//!
//! A case is one HTML file starting with a comment:
//!
//! ```text
//! <!--
//! keywarden-case
//! url: https://control.predicthq.com/tokens
//! expect: predicthq/token-list/new-token      (or predicthq/token-list, or nothing)
//! target: button "Create New Token"           (the current step's target; empty without one)
//! key: none                                   (or offered: a key on screen is offered for saving)
//! after: create-token                         (steps the admin performed before, in this tab)
//! server: planningspace=ps.acme-energy.test   (a self-hosted server the admin added)
//! about: what the variant is and what it tests
//! -->
//! ```
//!
//! `tests/cases.rs` checks every case under `tests/data/pages/<vendor>/`; `./build.sh bench`
//! counts them.

use crate::engine::detect::key_on_screen;
use crate::engine::page::{Location, PageModel};
use crate::engine::recipe::Catalog;
use crate::engine::recognize::{recognize, Scene};
use crate::engine::text::normalize;
use crate::engine::walkthrough::Progress;
use crate::explain::page_model;

/// What a case file promises.
#[derive(Debug, Default, Clone)]
pub struct Case {
    pub file: String,
    pub url: String,
    pub expect: Option<(String, String, Option<String>)>,
    pub target: Option<(String, String)>,
    pub offered: bool,
    pub after: Vec<String>,
    pub servers: Vec<(String, String)>,
    pub about: String,
}

/// Reads the `keywarden-case` header of `html`; an error says what is wrong with it.
pub fn parse(file: &str, html: &str) -> Result<Case, String> {
    let start = html.find("<!--").ok_or("no header comment")?;
    let end = html[start..].find("-->").ok_or("header comment is not closed")? + start;
    let mut lines = html[start + 4..end].lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("keywarden-case") {
        return Err("the header comment does not start with keywarden-case".into());
    }
    let mut case = Case { file: file.to_string(), ..Case::default() };
    let mut seen = Vec::new();
    for line in lines {
        let (key, value) = line.split_once(':').ok_or(format!("{line:?} is not `name: value`"))?;
        let value = value.trim();
        seen.push(key.to_string());
        match key {
            "url" => case.url = value.to_string(),
            "expect" if value == "nothing" => case.expect = None,
            "expect" => {
                let parts: Vec<&str> = value.split('/').collect();
                case.expect = match parts.as_slice() {
                    [v, p] => Some((v.to_string(), p.to_string(), None)),
                    [v, p, s] => Some((v.to_string(), p.to_string(), Some(s.to_string()))),
                    _ => return Err(format!("expect {value:?} is not nothing, vendor/page or vendor/page/step")),
                }
            }
            "target" if value.is_empty() => case.target = None,
            "target" => {
                let (role, name) = value.split_once(' ').ok_or(format!("target {value:?} is not role \"name\""))?;
                let name = name.trim().strip_prefix('"').and_then(|n| n.strip_suffix('"'));
                let name = name.ok_or(format!("target {value:?}: the name must be quoted"))?;
                case.target = Some((role.to_string(), name.to_string()));
            }
            "key" => {
                case.offered = match value {
                    "offered" => true,
                    "none" => false,
                    other => return Err(format!("key {other:?} is not offered or none")),
                }
            }
            "after" => case.after = value.split_whitespace().map(str::to_string).collect(),
            "server" if value.is_empty() => {}
            "server" => {
                for s in value.split_whitespace() {
                    let (v, h) = s.split_once('=').ok_or(format!("server {s:?} is not vendor=host"))?;
                    case.servers.push((v.to_string(), h.to_string()));
                }
            }
            "about" => case.about = value.to_string(),
            other => return Err(format!("unknown header line {other:?}")),
        }
    }
    for needed in ["url", "expect", "key", "about"] {
        if !seen.iter().any(|s| s == needed) {
            return Err(format!("the header lacks `{needed}:`"));
        }
    }
    if case.expect.as_ref().is_none_or(|e| e.2.is_none()) && case.target.is_some() {
        return Err("a target needs a step in `expect`".into());
    }
    Ok(case)
}

/// What keywarden makes of a case's page, compared with what the case expects; None when they agree.
pub fn judge(case: &Case, html: &str) -> Option<String> {
    let (catalog, model, location) = match prepare(case, html) {
        Ok(parts) => parts,
        Err(why) => return Some(why),
    };
    let scene = Scene::new(&model, location).remembering(case.after.clone());
    let rec = recognize(&catalog, &scene);
    let current = rec.as_ref().and_then(|r| Progress::default().current(r, &scene));
    let got_expect =
        rec.as_ref().map(|r| (r.recipe.vendor.id.clone(), r.page.id.clone(), current.map(|c| c.step.id.clone())));
    let offered = rec.as_ref().is_some_and(|r| key_on_screen(r, &scene).is_some());
    let describe = |e: &Option<(String, String, Option<String>)>| match e {
        None => "nothing".to_string(),
        Some((v, p, None)) => format!("{v}/{p}"),
        Some((v, p, Some(s))) => format!("{v}/{p}/{s}"),
    };
    let mut wrong = Vec::new();
    if got_expect != case.expect {
        wrong.push(format!("recognized {}, expected {}", describe(&got_expect), describe(&case.expect)));
    }
    if offered != case.offered {
        let say = |o: bool| if o { "offered" } else { "none" };
        wrong.push(format!("key {}, expected {}", say(offered), say(case.offered)));
    }
    if let (Some((role, name)), Some(c)) = (&case.target, current) {
        let el = scene.element(c.target);
        let got_role = format!("{:?}", el.role()).to_lowercase();
        let named = [&el.text, &el.label, &el.icon].iter().any(|t| normalize(t) == normalize(name));
        if got_role != *role || !named {
            wrong.push(format!(
                "step points at {got_role} {:?} labelled {:?}, expected {role} {name:?}",
                el.text, el.label
            ));
        }
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// The catalog with the case's servers, and the case page's model and location.
fn prepare(case: &Case, html: &str) -> Result<(Catalog, PageModel, Location), String> {
    let mut catalog = Catalog::builtin().expect("built-in recipes");
    for (vendor, host) in &case.servers {
        catalog.add_server(vendor, host).map_err(|e| format!("server {vendor}={host}: {e}"))?;
    }
    let model = page_model(html, &case.url);
    let location = model.validate().map_err(|e| format!("the page model is refused: {e}"))?;
    Ok((catalog, model, location))
}

/// Would a key be offered on the case's page if the tab also remembered every step of the
/// serving vendor that generates a key (its `generated_by`)? A page that offers none must offer
/// none right after Generate either: "just generated" never makes a record id the key.
pub fn offered_after_generating(case: &Case, html: &str) -> Result<bool, String> {
    let (catalog, model, location) = prepare(case, html)?;
    let Some(recipe) = catalog.for_host(&location.host) else { return Ok(false) };
    let mut memory = case.after.clone();
    memory.extend(recipe.key.generated_by.iter().cloned());
    let scene = Scene::new(&model, location).remembering(memory);
    Ok(recognize(&catalog, &scene).is_some_and(|r| key_on_screen(&r, &scene).is_some()))
}

/// What keywarden makes of a case's page, in the case's own words: whether a key page is
/// recognized and whether a key is offered (for counting false positives).
pub fn outcome(case: &Case, html: &str) -> Option<(bool, bool)> {
    let mut catalog = Catalog::builtin().ok()?;
    for (vendor, host) in &case.servers {
        catalog.add_server(vendor, host).ok()?;
    }
    let model = page_model(html, &case.url);
    let scene = Scene::new(&model, model.validate().ok()?).remembering(case.after.clone());
    let rec = recognize(&catalog, &scene);
    let key_page = rec.as_ref().is_some_and(|r| r.page.key_page);
    let offered = rec.as_ref().is_some_and(|r| key_on_screen(r, &scene).is_some());
    Some((key_page, offered))
}
