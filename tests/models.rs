//! Recognition tables as data: page models under tests/data/models/<vendor>/*.toml, each case saying which vendor page and step keywarden must see, what the step points at and whether a key is offered.
//!
//! These are the page-model siblings of the saved pages in `tests/cases.rs`: a case is the
//! compact model a content script reports (no HTML), so one file holds a whole table of small
//! variants. A file groups the cases of one table (a flow, its wording and layout variants, the
//! pages that must get nothing) because those cases share pages: a `[base.<id>]` table describes
//! a page once, and each case starts from it, adds elements and changes a few named ones. One file
//! per case would repeat the same thirty elements in every file.
//!
//! ```toml
//! # PredictHQ's token page, step by step.
//!
//! [base.token-form]                       # a page the cases below start from
//! url = "https://control.predicthq.com/tokens"
//! title = "PredictHQ"                     # optional
//! elements = [
//!   { heading = "API Tokens", level = 1 },
//!   { textbox = "", label = "Token name", filled = false, name = "name" },
//!   { group = "", label = "Scopes", name = "scopes" },
//!   { checkbox = "", label = "Events", in_group = "scopes", checked = true },
//!   { button = "Create Token", name = "create" },
//! ]
//!
//! [[case]]
//! about = "first visit, name typed"        # what the variant is and what it tests
//! base = "token-form"                     # optional: start from this page (a base may have one too)
//! change = { name = { filled = true } }   # optional: fields of named elements, changed
//! elements = []                           # optional: elements added after the base's
//! url = "https://…"                       # optional when the base has one
//! expect = "predicthq/token-form/choose-scopes"   # or vendor/page (no step to show), or "nothing"
//! target = "scopes"                       # the element the step points at: a name or an index
//! key = "none"                            # or the element offered as the key: a name or an index
//! after = ["create-token"]                # optional: steps performed before, in this tab
//! acked = ["choose-scopes"]               # optional: steps acknowledged with Next on this page
//! server = ["planningspace=ps.example.test"]   # optional: self-hosted servers the admin added
//! ```
//!
//! An element names its role as its key, with its visible text as the value (`{ text = "…" }` is
//! plain text, `{ caption = "…" }` a `<label>` element: the `label` field is the accessible label
//! of any element); the other fields are `label`, `level`, `filled`, `checked`, `disabled`, `icon`,
//! `menu`, `in_dialog` and `in_group` (the enclosing dialog or group: a name or an index), `secret`
//! (the outline of a key-like string: a sample string of that outline, or a table with `len`,
//! `lower`, `upper`, `digit`, `symbols`, `hex`, `guid`) and `name` (for `target`, `key`,
//! `change` and references). Unknown fields are refused, and a bad file is reported naming the
//! file, the case and the field. Broken files under tests/data/models/bad/ show what is refused.
#![cfg(not(target_arch = "wasm32"))]

use keywarden::engine::detect::key_on_screen;
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::recipe::Catalog;
use keywarden::engine::recognize::{recognize, Scene};
use keywarden::engine::walkthrough::Progress;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VENDORS: [&str; 4] = ["predicthq", "predictiveindex", "planningspace", "gotransverse"];
/// The folder of files that break the format on purpose.
const BAD: &str = "bad";

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/models")
}

// ---------------------------------------------------------------------------------------------
// The file as written

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    base: BTreeMap<String, PageSpec>,
    #[serde(default, rename = "case")]
    cases: Vec<CaseSpec>,
}

/// A page as written: a base to start from, then what this page adds and changes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSpec {
    base: Option<String>,
    url: Option<String>,
    title: Option<String>,
    #[serde(default)]
    elements: Vec<ElementSpec>,
    #[serde(default)]
    change: BTreeMap<String, Attributes>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSpec {
    about: String,
    base: Option<String>,
    url: Option<String>,
    title: Option<String>,
    #[serde(default)]
    elements: Vec<ElementSpec>,
    #[serde(default)]
    change: BTreeMap<String, Attributes>,
    expect: String,
    target: Option<Ref>,
    key: Ref,
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    acked: Vec<String>,
    #[serde(default)]
    server: Vec<String>,
}

impl CaseSpec {
    fn page(&self) -> PageSpec {
        PageSpec {
            base: self.base.clone(),
            url: self.url.clone(),
            title: self.title.clone(),
            elements: self.elements.clone(),
            change: self.change.clone(),
        }
    }
}

/// An element of the page, or the key "none": by the name a file gives it, or by its index.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Ref {
    Index(usize),
    Name(String),
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Index(i) => write!(f, "element {i}"),
            Ref::Name(n) => write!(f, "{n:?}"),
        }
    }
}

/// The outline of a key-like string, written out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeSpec {
    len: u32,
    #[serde(default)]
    lower: bool,
    #[serde(default)]
    upper: bool,
    #[serde(default)]
    digit: bool,
    #[serde(default)]
    symbols: String,
    #[serde(default)]
    hex: bool,
    #[serde(default)]
    guid: bool,
}

/// The fields of an element other than its role and text; in a `change`, the ones changed.
#[derive(Clone, Debug, Default)]
struct Attributes {
    label: Option<String>,
    level: Option<u8>,
    filled: Option<bool>,
    checked: Option<bool>,
    disabled: Option<bool>,
    in_dialog: Option<Ref>,
    in_group: Option<Ref>,
    secret: Option<SecretShape>,
    icon: Option<String>,
    menu: Option<bool>,
}

/// An element as written: `{ <role> = "text", …attributes, name = "…" }`.
#[derive(Clone, Debug)]
struct ElementSpec {
    name: Option<String>,
    role: Role,
    text: String,
    attributes: Attributes,
}

type Table = BTreeMap<String, toml::Value>;

/// The role an element field names: a role's own name, except that the `label` role (a `<label>`
/// element) is written `caption`, as `label` is the accessible label of any element.
fn role_named(key: &str) -> Option<Role> {
    match key {
        "caption" => Some(Role::Label),
        "label" => None,
        other => toml::Value::String(other.to_string()).try_into::<Role>().ok(),
    }
}

/// Reads the attribute fields of `table`, leaving the others; an error names the field.
fn attributes(table: &mut Table) -> Result<Attributes, String> {
    fn take<T: serde::de::DeserializeOwned>(table: &mut Table, key: &str, what: &str) -> Result<Option<T>, String> {
        table
            .remove(key)
            .map(|v| v.try_into::<T>().map_err(|e| format!("`{key}` must be {what}: {}", e.message())))
            .transpose()
    }
    let secret = match table.remove("secret") {
        None => None,
        Some(toml::Value::String(sample)) if sample.is_empty() => return Err("`secret` sample is empty".into()),
        Some(toml::Value::String(sample)) => Some(SecretShape::of(&sample)),
        Some(v) => {
            let s: ShapeSpec = v.try_into().map_err(|e| {
                format!(
                    "`secret` must be a sample string or a table of len, lower, upper, digit, symbols, hex, guid: {}",
                    e.message()
                )
            })?;
            Some(SecretShape {
                len: s.len,
                lower: s.lower,
                upper: s.upper,
                digit: s.digit,
                symbols: s.symbols,
                hex: s.hex,
                guid: s.guid,
            })
        }
    };
    let level: Option<u8> = take(table, "level", "a heading level 1-6")?;
    if level.is_some_and(|l| !(1..=6).contains(&l)) {
        return Err(format!("`level` {} is not a heading level 1-6", level.unwrap()));
    }
    Ok(Attributes {
        label: take(table, "label", "a string")?,
        level,
        filled: take(table, "filled", "true or false")?,
        checked: take(table, "checked", "true or false")?,
        disabled: take(table, "disabled", "true or false")?,
        in_dialog: take(table, "in_dialog", "an element name or index")?,
        in_group: take(table, "in_group", "an element name or index")?,
        secret,
        icon: take(table, "icon", "a string")?,
        menu: take(table, "menu", "true or false")?,
    })
}

fn unknown(table: &Table) -> Result<(), String> {
    match table.keys().next() {
        Some(k) => Err(format!("unknown field `{k}`")),
        None => Ok(()),
    }
}

impl<'de> Deserialize<'de> for ElementSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parse = |mut table: Table| -> Result<ElementSpec, String> {
            let roles: Vec<String> = table.keys().filter(|k| role_named(k).is_some()).cloned().collect();
            let key = match roles.as_slice() {
                [one] => one.clone(),
                [] => return Err("an element needs its role as a field, e.g. `button = \"Copy\"`".into()),
                more => return Err(format!("an element has one role, not {}", more.join(" and "))),
            };
            let text = match table.remove(&key) {
                Some(toml::Value::String(t)) => t,
                _ => return Err(format!("`{key}` must be the element's visible text (\"\" for none)")),
            };
            let name = match table.remove("name") {
                None => None,
                Some(toml::Value::String(n)) if n.is_empty() || n == "none" => {
                    return Err(format!("`name` {n:?} cannot name an element"))
                }
                Some(toml::Value::String(n)) => Some(n),
                Some(_) => return Err("`name` must be a string".into()),
            };
            let attributes = attributes(&mut table)?;
            unknown(&table)?;
            Ok(ElementSpec { name, role: role_named(&key).unwrap(), text, attributes })
        };
        parse(Table::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parse = |mut table: Table| -> Result<Attributes, String> {
            if let Some(k) = table.keys().find(|k| role_named(k).is_some() || *k == "name") {
                return Err(format!("a change cannot set `{k}`: add another element instead"));
            }
            let a = attributes(&mut table)?;
            unknown(&table)?;
            Ok(a)
        };
        parse(Table::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Validated cases

/// What a case expects keywarden to make of its page.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Nothing,
    Page { vendor: String, page: String, step: Option<String> },
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Nothing => f.write_str("nothing"),
            Expect::Page { vendor, page, step: None } => write!(f, "{vendor}/{page}"),
            Expect::Page { vendor, page, step: Some(s) } => write!(f, "{vendor}/{page}/{s}"),
        }
    }
}

/// One case, its page built and every reference resolved to an index.
#[derive(Debug)]
struct Case {
    about: String,
    model: PageModel,
    names: Vec<Option<String>>,
    expect: Expect,
    target: Option<usize>,
    key: Option<usize>,
    after: Vec<String>,
    acked: Vec<String>,
    servers: Vec<(String, String)>,
}

/// A page with its elements' names, references still as written.
struct Draft {
    url: Option<String>,
    title: String,
    elements: Vec<ElementSpec>,
}

fn apply(element: &mut ElementSpec, a: &Attributes) {
    let mine = &mut element.attributes;
    macro_rules! set {
        ($($f:ident),*) => { $( if a.$f.is_some() { mine.$f = a.$f.clone(); } )* };
    }
    set!(label, level, filled, checked, disabled, in_dialog, in_group, secret, icon, menu);
}

/// Builds `spec` on its base chain; `seen` holds the bases already being built, to refuse loops.
fn draft(spec: &PageSpec, bases: &BTreeMap<String, PageSpec>, seen: &mut Vec<String>) -> Result<Draft, String> {
    let mut page = match &spec.base {
        None => Draft { url: None, title: String::new(), elements: Vec::new() },
        Some(id) => {
            if seen.contains(id) {
                return Err(format!("`base` {id:?} starts from itself"));
            }
            let base = bases.get(id).ok_or(format!("`base` {id:?} names no [base.{id}] of this file"))?;
            seen.push(id.clone());
            let page = draft(base, bases, seen).map_err(|e| format!("base {id:?}: {e}"))?;
            seen.pop();
            page
        }
    };
    if let Some(url) = &spec.url {
        page.url = Some(url.clone());
    }
    if let Some(title) = &spec.title {
        page.title = title.clone();
    }
    for (name, change) in &spec.change {
        let el = page
            .elements
            .iter_mut()
            .find(|e| e.name.as_deref() == Some(name))
            .ok_or(format!("`change` names {name:?}, which no element of the base is called"))?;
        apply(el, change);
    }
    page.elements.extend(spec.elements.iter().cloned());
    Ok(page)
}

/// Resolves a reference to an element of `names`; `what` says which field holds it.
fn resolve(r: &Ref, names: &[Option<String>], what: &str) -> Result<usize, String> {
    match r {
        Ref::Index(i) if *i < names.len() => Ok(*i),
        Ref::Index(i) => Err(format!("`{what}` {i} is past the page's {} elements", names.len())),
        Ref::Name(n) => names
            .iter()
            .position(|m| m.as_deref() == Some(n.as_str()))
            .ok_or(format!("`{what}` names {n:?}, which no element is called")),
    }
}

fn finish(page: Draft) -> Result<(PageModel, Vec<Option<String>>), String> {
    let url = page.url.ok_or("the page has no `url` (nor has its base)")?;
    let names: Vec<Option<String>> = page.elements.iter().map(|e| e.name.clone()).collect();
    for (i, n) in names.iter().enumerate() {
        if let Some(n) = n {
            if names[..i].iter().any(|m| m.as_ref() == Some(n)) {
                return Err(format!("two elements are called {n:?}"));
            }
        }
    }
    let mut elements = Vec::new();
    for (i, spec) in page.elements.iter().enumerate() {
        let a = &spec.attributes;
        let at = |r: &Option<Ref>, what: &str| -> Result<Option<u32>, String> {
            r.as_ref()
                .map(|r| resolve(r, &names, what).map(|x| x as u32))
                .transpose()
                .map_err(|e| format!("element {i}: {e}"))
        };
        elements.push(Element {
            role: Some(spec.role),
            text: spec.text.clone(),
            label: a.label.clone().unwrap_or_default(),
            level: a.level,
            filled: a.filled,
            checked: a.checked,
            disabled: a.disabled.unwrap_or(false),
            dialog: at(&a.in_dialog, "in_dialog")?,
            group: at(&a.in_group, "in_group")?,
            secret: a.secret.clone(),
            icon: a.icon.clone().unwrap_or_default(),
            menu: a.menu.unwrap_or(false),
            run: None,
        });
    }
    Ok((PageModel { url, title: page.title, elements }, names))
}

fn parse_expect(value: &str) -> Result<Expect, String> {
    if value == "nothing" {
        return Ok(Expect::Nothing);
    }
    let parts: Vec<&str> = value.split('/').collect();
    if parts.iter().any(|p| p.trim().is_empty() || p.trim() != *p) {
        return Err(format!("`expect` {value:?} is not nothing, vendor/page or vendor/page/step"));
    }
    match parts.as_slice() {
        [v, p] => Ok(Expect::Page { vendor: v.to_string(), page: p.to_string(), step: None }),
        [v, p, s] => Ok(Expect::Page { vendor: v.to_string(), page: p.to_string(), step: Some(s.to_string()) }),
        _ => Err(format!("`expect` {value:?} is not nothing, vendor/page or vendor/page/step")),
    }
}

/// Validates one case of a file of `vendor`'s folder.
fn case(spec: &CaseSpec, bases: &BTreeMap<String, PageSpec>, vendor: &str) -> Result<Case, String> {
    if spec.about.trim().is_empty() {
        return Err("`about` is empty: say what the variant is and what it tests".into());
    }
    let (model, names) = finish(draft(&spec.page(), bases, &mut Vec::new())?)?;
    let expect = parse_expect(&spec.expect)?;
    if let Expect::Page { vendor: v, .. } = &expect {
        if v != vendor {
            return Err(format!("`expect` names vendor {v:?} in the folder of {vendor:?}"));
        }
    }
    let has_step = matches!(&expect, Expect::Page { step: Some(_), .. });
    let target = match (&spec.target, has_step) {
        (Some(t), true) => Some(resolve(t, &names, "target")?),
        (None, false) => None,
        (Some(_), false) => return Err("a `target` needs a step in `expect`".into()),
        (None, true) => return Err("the step in `expect` needs a `target`: the element it points at".into()),
    };
    let key = match &spec.key {
        Ref::Name(n) if n == "none" => None,
        r => Some(resolve(r, &names, "key")?),
    };
    let mut servers = Vec::new();
    for s in &spec.server {
        let (v, h) = s.split_once('=').ok_or(format!("`server` {s:?} is not vendor=host"))?;
        servers.push((v.to_string(), h.to_string()));
    }
    Ok(Case {
        about: spec.about.clone(),
        model,
        names,
        expect,
        target,
        key,
        after: spec.after.clone(),
        acked: spec.acked.clone(),
        servers,
    })
}

/// Reads and validates a whole file; an error names the file and, within it, the case and field.
fn parse_file(file: &str, text: &str, vendor: &str) -> Result<Vec<Case>, String> {
    let spec: FileSpec = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        format!("{file}: line {line}: {}", e.message().trim_end().replace('\n', " "))
    })?;
    if spec.cases.is_empty() {
        return Err(format!("{file}: no [[case]]"));
    }
    for (id, base) in &spec.base {
        let page = draft(base, &spec.base, &mut vec![id.clone()]).map_err(|e| format!("{file}: [base.{id}]: {e}"))?;
        if page.url.is_none() {
            return Err(format!("{file}: [base.{id}]: it has no `url` (nor has its base)"));
        }
    }
    let mut cases = Vec::new();
    for (i, c) in spec.cases.iter().enumerate() {
        cases.push(case(c, &spec.base, vendor).map_err(|e| format!("{file}: case {} ({:?}): {e}", i + 1, c.about))?);
    }
    Ok(cases)
}

// ---------------------------------------------------------------------------------------------
// Judging

fn describe(model: &PageModel, names: &[Option<String>], i: usize) -> String {
    let el = &model.elements[i];
    let named = names[i].as_ref().map(|n| format!(" {n:?}")).unwrap_or_default();
    format!("element {i}{named} ({:?} {:?} labelled {:?})", el.role(), el.text, el.label)
}

/// What keywarden makes of a case's page, against what the case expects; None when they agree.
fn judge(case: &Case) -> Option<String> {
    let mut catalog = Catalog::builtin().expect("built-in recipes");
    for (vendor, host) in &case.servers {
        if let Err(e) = catalog.add_server(vendor, host) {
            return Some(format!("server {vendor}={host} is refused: {e}"));
        }
    }
    let location = match case.model.validate() {
        Ok(l) => l,
        Err(e) => return Some(format!("the page model is refused: {e}")),
    };
    let scene = Scene::new(&case.model, location).remembering(case.after.clone());
    let rec = recognize(&catalog, &scene);
    let progress = Progress {
        page: rec.as_ref().map(|r| format!("{}/{}", r.recipe.vendor.id, r.page.id)),
        acked: case.acked.clone(),
        ..Progress::default()
    };
    let current = rec.as_ref().and_then(|r| progress.current(r, &scene));
    let got = match &rec {
        None => Expect::Nothing,
        Some(r) => Expect::Page {
            vendor: r.recipe.vendor.id.clone(),
            page: r.page.id.clone(),
            step: current.map(|c| c.step.id.clone()),
        },
    };
    let mut wrong = Vec::new();
    if got != case.expect {
        wrong.push(format!("recognized {got}, expected {}", case.expect));
    }
    if let (Some(want), Some(c)) = (case.target, current) {
        if c.target != want {
            let (m, n) = (&case.model, &case.names);
            wrong.push(format!("step points at {}, expected {}", describe(m, n, c.target), describe(m, n, want)));
        }
    }
    let offered = rec.as_ref().and_then(|r| key_on_screen(r, &scene)).map(|(_, _, key)| key);
    if offered != case.key {
        let say = |k: Option<usize>| k.map_or("none".to_string(), |k| describe(&case.model, &case.names, k));
        wrong.push(format!("key offered: {}, expected {}", say(offered), say(case.key)));
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn read(vendor: &str, path: &Path) -> (String, String) {
    let name = format!("{vendor}/{}", path.file_name().unwrap().to_string_lossy());
    (name, std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn check_vendor(vendor: &str) {
    let files = toml_files(&models_dir().join(vendor));
    assert!(!files.is_empty(), "{vendor}: no model cases");
    let (mut failures, mut total) = (Vec::new(), 0);
    for path in &files {
        let (file, text) = read(vendor, path);
        match parse_file(&file, &text, vendor) {
            Err(e) => failures.push(format!("bad file: {e}")),
            Ok(cases) => {
                total += cases.len();
                for (i, case) in cases.iter().enumerate() {
                    if let Some(why) = judge(case) {
                        failures.push(format!("{file}: case {} ({}): {why}", i + 1, case.about));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {total} {vendor} model cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn predicthq_models() {
    check_vendor("predicthq");
}

#[test]
fn predictiveindex_models() {
    check_vendor("predictiveindex");
}

#[test]
fn planningspace_models() {
    check_vendor("planningspace");
}

#[test]
fn gotransverse_models() {
    check_vendor("gotransverse");
}

#[test]
fn every_vendor_folder_is_checked() {
    let mut folders: Vec<String> = std::fs::read_dir(models_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|f| f != BAD)
        .collect();
    folders.sort();
    let mut vendors = VENDORS.map(str::to_string).to_vec();
    vendors.sort();
    assert_eq!(folders, vendors, "a folder of model cases no test reads");
}

/// Each file under bad/ opens with `# <what is wrong>` and `# refused: <words the error must hold>`.
#[test]
fn files_that_break_the_format_are_refused_naming_file_and_field() {
    let files = toml_files(&models_dir().join(BAD));
    assert!(files.len() >= 5, "too few bad model files");
    let mut failures = Vec::new();
    for path in &files {
        let (file, text) = read(BAD, path);
        let mut lines = text.lines();
        let what = lines.next().and_then(|l| l.strip_prefix("# ")).filter(|w| !w.trim().is_empty());
        let refused = lines.next().and_then(|l| l.strip_prefix("# refused:")).map(str::trim);
        let (Some(what), Some(refused)) = (what, refused) else {
            failures.push(format!("{file}: must open with `# <what is wrong>` and `# refused: <message words>`"));
            continue;
        };
        // The bad files play a PredictHQ folder, so a vendor mismatch can be shown too.
        match parse_file(&file, &text, "predicthq") {
            Ok(_) => failures.push(format!("{file} ({what}): accepted")),
            Err(e) if !e.starts_with(&format!("{file}: ")) => {
                failures.push(format!("{file}: {e:?} does not name the file"))
            }
            Err(e) if !e.contains(refused) => failures.push(format!("{file} ({what}): {e:?} does not say {refused:?}")),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad model files misreported:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn a_base_page_and_changes_build_the_same_model_as_writing_it_out() {
    let text = r#"
        [base.form]
        url = "https://control.predicthq.com/tokens"
        elements = [
          { dialog = "", label = "New token", name = "dialog" },
          { textbox = "", label = "Token name", filled = false, in_dialog = "dialog", name = "name" },
        ]

        [[case]]
        about = "built on the base"
        base = "form"
        change = { name = { filled = true } }
        elements = [{ button = "Create", in_dialog = 0, name = "create" }]
        expect = "predicthq/token-form/create-token"
        target = "create"
        key = "none"

        [[case]]
        about = "written out"
        url = "https://control.predicthq.com/tokens"
        elements = [
          { dialog = "", label = "New token" },
          { textbox = "", label = "Token name", filled = true, in_dialog = 0 },
          { button = "Create", in_dialog = 0 },
        ]
        expect = "predicthq/token-form/create-token"
        target = 2
        key = "none"
    "#;
    let cases = parse_file("inline.toml", text, "predicthq").unwrap();
    assert_eq!(cases[0].model, cases[1].model);
    assert_eq!(cases[0].model.elements[1].filled, Some(true));
    assert_eq!(cases[0].model.elements[2].dialog, Some(0));
    assert_eq!((cases[0].target, cases[1].target), (Some(2), Some(2)));
    assert_eq!(cases[0].names[2].as_deref(), Some("create"));
    assert_eq!(cases.iter().map(judge).collect::<Vec<_>>(), [None, None]);
}

#[test]
fn a_wrong_expectation_is_reported_with_what_was_seen() {
    let text = r#"
        [[case]]
        about = "the token list said to be the form"
        url = "https://control.predicthq.com/tokens"
        elements = [{ heading = "API Tokens" }, { button = "Create New Token", name = "new" }]
        expect = "predicthq/token-form/name-token"
        target = "new"
        key = 0
    "#;
    let cases = parse_file("inline.toml", text, "predicthq").unwrap();
    let why = judge(&cases[0]).expect("the case is wrong");
    assert!(
        why.contains("recognized predicthq/token-list/new-token, expected predicthq/token-form/name-token"),
        "{why}"
    );
    assert!(why.contains("key offered: none, expected element 0"), "{why}");
}

#[test]
fn a_secret_sample_gives_its_outline() {
    let text = r#"
        [[case]]
        about = "outline from a sample and written out"
        url = "https://control.predicthq.com/tokens"
        elements = [
          { text = "", secret = "gh12-CD_ij" },
          { text = "", secret = { len = 10, lower = true, upper = true, digit = true, symbols = "-_" } },
        ]
        expect = "nothing"
        key = "none"
    "#;
    let cases = parse_file("inline.toml", text, "predicthq").unwrap();
    let shapes: Vec<_> = cases[0].model.elements.iter().map(|e| e.secret.clone().unwrap()).collect();
    assert_eq!(shapes[0], shapes[1]);
}
