//! Recognition cases as data: every saved page under tests/data/pages/<vendor>/ says in its header what keywarden must make of it, and is checked here through the content script's rules.
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
//! A recipe author adds a case by adding a file; no Rust is needed. Beside each case sits its golden
//! page model (`<case>.model.json`, written by `keywarden-tool model <case>.html <url>`): the model
//! the content script must report for that page. It is checked here against the native rules and,
//! in the end-to-end tier (`tests/e2e/model.test.mjs`), against `extension/content.js` itself in
//! Chromium and Firefox, so the two readings of a page cannot drift apart.
#![cfg(not(target_arch = "wasm32"))]

use keywarden::engine::detect::key_on_screen;
use keywarden::engine::recipe::Catalog;
use keywarden::engine::recognize::{recognize, Scene};
use keywarden::engine::text::normalize;
use keywarden::engine::walkthrough::Progress;
use keywarden::explain::model::golden;
use keywarden::explain::page_model;
use std::path::{Path, PathBuf};

const VENDORS: [&str; 4] = ["predicthq", "predictiveindex", "planningspace", "gotransverse"];
/// Cases each vendor must have at least: flow states in other markup, other wording, noise,
/// unrelated pages and look-alike hosts.
const AT_LEAST: usize = 8;

/// What a case file promises.
#[derive(Debug, Default)]
struct Case {
    file: String,
    url: String,
    expect: Option<(String, String, Option<String>)>,
    target: Option<(String, String)>,
    offered: bool,
    after: Vec<String>,
    servers: Vec<(String, String)>,
    about: String,
}

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pages")
}

/// Reads the `keywarden-case` header of `html`; an error says what is wrong with it.
fn parse(file: &str, html: &str) -> Result<Case, String> {
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
fn judge(case: &Case, html: &str) -> Option<String> {
    let mut catalog = Catalog::builtin().expect("built-in recipes");
    for (vendor, host) in &case.servers {
        catalog.add_server(vendor, host).unwrap_or_else(|e| panic!("{}: server {vendor}={host}: {e}", case.file));
    }
    let model = page_model(html, &case.url);
    let location = match model.validate() {
        Ok(l) => l,
        Err(e) => return Some(format!("the page model is refused: {e}")),
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

fn cases_of(vendor: &str) -> Vec<(String, String)> {
    let dir = pages_dir().join(vendor);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = format!("{vendor}/{}", p.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        })
        .collect()
}

fn check_vendor(vendor: &str) {
    let cases = cases_of(vendor);
    assert!(cases.len() >= AT_LEAST, "{vendor}: {} cases, at least {AT_LEAST} expected", cases.len());
    let mut failures = Vec::new();
    for (file, html) in &cases {
        match parse(file, html) {
            Err(e) => failures.push(format!("{file}: bad header: {e}")),
            Ok(case) => {
                if let Some(why) = judge(&case, html) {
                    failures.push(format!("{file} ({}): {why}", case.about));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {vendor} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every case's page model equals its golden file.
#[test]
fn page_models_match_their_golden_files() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for vendor in VENDORS {
        for (file, html) in cases_of(vendor) {
            let case = parse(&file, &html).unwrap_or_else(|e| panic!("{file}: {e}"));
            let path = pages_dir().join(file.replace(".html", ".model.json"));
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            checked += 1;
            if golden(&page_model(&html, &case.url)) != want {
                wrong.push(format!(
                    "{file}: the page model differs from {} (if the change is meant, rewrite it with \
                     `keywarden-tool model tests/data/pages/{file} {}` and check the same change in content.js)",
                    path.display(),
                    case.url
                ));
            }
        }
    }
    assert!(checked >= VENDORS.len() * AT_LEAST);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn predicthq_cases() {
    check_vendor("predicthq");
}

#[test]
fn predictiveindex_cases() {
    check_vendor("predictiveindex");
}

#[test]
fn planningspace_cases() {
    check_vendor("planningspace");
}

#[test]
fn gotransverse_cases() {
    check_vendor("gotransverse");
}

#[test]
fn every_vendor_folder_is_checked() {
    let mut folders: Vec<String> = std::fs::read_dir(pages_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut vendors = VENDORS.map(str::to_string).to_vec();
    vendors.sort();
    assert_eq!(folders, vendors, "a folder of cases no test reads");
}

#[test]
fn headers_that_break_the_format_are_refused() {
    let good = "<!--\nkeywarden-case\nurl: https://a.test/\nexpect: nothing\nkey: none\nabout: x\n-->";
    assert!(parse("good", good).is_ok());
    for (bad, why) in [
        (good.replace("keywarden-case\n", ""), "does not start"),
        (good.replace("expect: nothing", "expect: a/b/c/d"), "is not nothing"),
        (good.replace("key: none", "key: maybe"), "is not offered"),
        (good.replace("about: x\n", ""), "lacks `about:`"),
        (good.replace("key: none", "key: none\ncolour: red"), "unknown header line"),
        (good.replace("key: none", "key: none\ntarget: button \"Copy\""), "needs a step"),
        (good.replace("key: none", "key: none\ntarget: button Copy"), "must be quoted"),
    ] {
        let err = parse("bad", &bad).expect_err(why);
        assert!(err.contains(why), "{err:?} should say {why:?}");
    }
}
