//! Recognition cases as data: every saved page under tests/data/pages/<vendor>/ says in its header what keywarden must make of it, and is checked here through the content script's rules.
//!
//! The format is `keywarden::explain::case`'s.
//!
//! A recipe author adds a case by adding a file; no Rust is needed. Beside each case sits its golden
//! page model (`<case>.model.json`, written by `keywarden-tool model <case>.html <url>`): the model
//! the content script must report for that page. It is checked here against the native rules and,
//! in the end-to-end tier (`tests/e2e/model.test.mjs`), against `extension/content.js` itself in
//! Chromium and Firefox, so the two readings of a page cannot drift apart.
#![cfg(not(target_arch = "wasm32"))]

use keywarden::explain::case::{judge, offered_after_generating, parse};
use keywarden::explain::model::golden;
use keywarden::explain::page_model;
use std::path::{Path, PathBuf};

const VENDORS: [&str; 4] = ["predicthq", "predictiveindex", "planningspace", "gotransverse"];
/// Cases each vendor must have at least: flow states in other markup, other wording, noise,
/// unrelated pages and look-alike hosts.
const AT_LEAST: usize = 8;

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pages")
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

/// A page that offers no key offers none right after the step that generates one either: the
/// record ids, event ids and integration ids of the vendor's other pages are never taken for the
/// key because the admin just pressed Generate.
#[test]
fn pages_without_a_key_offer_none_right_after_generate() {
    let mut wrong = Vec::new();
    for vendor in VENDORS {
        for (file, html) in cases_of(vendor) {
            let case = parse(&file, &html).unwrap_or_else(|e| panic!("{file}: {e}"));
            if case.offered {
                continue;
            }
            match offered_after_generating(&case, &html) {
                Ok(false) => {}
                Ok(true) => wrong.push(format!("{file}: a key is offered right after a generating step")),
                Err(e) => wrong.push(format!("{file}: {e}")),
            }
        }
    }
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
