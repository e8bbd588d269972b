//! Recipe validation: the shipped recipes load, and each broken recipe under tests/data/recipes/bad is refused with the right field path.

use keywarden::engine::recipe::{Catalog, Done, HostPattern, Recipe, RecipeError, BUILTIN};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recipes")
}

fn minimal() -> String {
    std::fs::read_to_string(data_dir().join("minimal.toml")).expect("minimal recipe")
}

/// The minimal recipe with its vendor id and hosts swapped for others.
fn variant(id: &str, hosts: &str) -> String {
    let src = minimal();
    let src = src.replacen("id = \"example\"", &format!("id = \"{id}\""), 1);
    src.replacen("hosts = [\"app.example.com\", \"*.example.net\"]", &format!("hosts = {hosts}"), 1)
}

#[test]
fn builtin_catalog_validates() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("built-in recipes must load: {e}"));
    assert!(!catalog.recipes.is_empty());
    for recipe in &catalog.recipes {
        assert!(recipe.vendor.self_hosted || !recipe.vendor.hosts.is_empty(), "{} serves no host", recipe.vendor.id);
        assert!(recipe.steps().any(|(_, s)| s.capture), "{} has no step where the key is captured", recipe.vendor.id);
        let (_, total) = recipe.position("no-such-step");
        assert_eq!(total, recipe.pages.iter().map(|p| p.steps.len()).sum::<usize>());
    }
}

#[test]
fn builtin_catalog_embeds_every_vendor_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/recipe/vendors");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("vendor folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = BUILTIN.iter().map(|(name, _)| name.to_string()).collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
    assert_eq!(Catalog::builtin().unwrap().recipes.len(), on_disk.len());
}

#[test]
fn predicthq_recipe_serves_only_its_console_host() {
    let catalog = Catalog::builtin().unwrap();
    let phq = catalog.vendor("predicthq").expect("PredictHQ recipe");
    assert_eq!(phq.vendor.hosts, vec![HostPattern::Exact("control.predicthq.com".into())]);
    assert_eq!(catalog.for_host("control.predicthq.com").map(|r| r.vendor.id.as_str()), Some("predicthq"));
    for other in [
        "predicthq.com",
        "api.predicthq.com",
        "control.predicthq.com.phish.test",
        "predicthq-control.test",
        "xcontrol.predicthq.com",
    ] {
        assert!(catalog.for_host(other).is_none(), "{other} must not be served");
    }
}

#[test]
fn predicthq_pages_follow_the_flow_order() {
    let catalog = Catalog::builtin().unwrap();
    let phq = catalog.vendor("predicthq").unwrap();
    let pages: Vec<&str> = phq.pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(pages, ["console", "token-list", "token-form", "token-shown"]);
    let steps: Vec<&str> = phq.steps().map(|(_, s)| s.id.as_str()).collect();
    assert_eq!(steps, ["open-tokens", "new-token", "name-token", "choose-scopes", "create-token", "copy-token"]);
    let capture: Vec<&str> = phq.steps().filter(|(_, s)| s.capture).map(|(_, s)| s.id.as_str()).collect();
    assert_eq!(capture, ["copy-token"]);
    assert_eq!(phq.position("choose-scopes"), (4, 6));
}

#[test]
fn predicthq_key_spec_takes_published_token_shapes_only() {
    let catalog = Catalog::builtin().unwrap();
    let key = &catalog.vendor("predicthq").unwrap().key;
    assert!(key.accepts("Zq7-LEAKCANARY_w3Xv9pRt2Yb8Nc5Md1Kf6Hs4Jg"));
    assert!(key.accepts(&"a".repeat(20)));
    assert!(!key.accepts(&"a".repeat(19)), "shorter than min_len");
    assert!(!key.accepts(&"a".repeat(161)), "longer than max_len");
    assert!(!key.accepts("Zq7+LEAKCANARY/w3Xv9pRt2Yb8Nc5Md1Kf6Hs4J="), "base64 symbols are not in the charset");
    assert!(!key.accepts("Zq7-LEAKCANARY w3Xv9pRt2Yb8Nc5Md1Kf6Hs4Jg"), "spaces are not in the charset");
    let check = key.check.as_ref().expect("PredictHQ has a key check");
    assert_eq!(check.method, "GET");
    assert!(check.url.starts_with("https://api.predicthq.com/"));
    assert!(!check.url.contains("{key}"));
    assert_eq!(check.value, "Bearer {key}");
}

#[test]
fn minimal_recipe_is_valid_and_read_as_written() {
    let r = Recipe::parse("minimal.toml", &minimal()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.vendor.id, "example");
    assert_eq!(
        r.vendor.hosts,
        vec![HostPattern::Exact("app.example.com".into()), HostPattern::Subdomains("example.net".into())]
    );
    assert!(r.serves("eu.example.net"));
    assert!(!r.serves("example.net"));
    let done: Vec<Done> = r.steps().map(|(_, s)| s.done).collect();
    assert_eq!(done, [Done::Ack, Done::Filled, Done::Checked, Done::Ack, Done::Ack]);
    // Phrases are stored normalized, so "API keys" compares as "api keys".
    assert_eq!(r.pages[0].steps[0].target[0].text, ["api keys"]);
}

/// What a bad recipe file promises about its error, read from its leading comments.
struct Expectation {
    what: String,
    field: String,
    problem: Option<String>,
}

fn expectation(path: &Path, text: &str) -> Expectation {
    let mut lines = text.lines();
    let what = lines
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| panic!("{}: first line must be a `# ...` comment saying what is wrong", path.display()));
    let field = lines
        .next()
        .and_then(|l| l.strip_prefix("# expect:"))
        .unwrap_or_else(|| panic!("{}: second line must be `# expect: <field path>`", path.display()));
    let problem = lines.next().and_then(|l| l.strip_prefix("# problem:")).map(|p| p.trim().to_string());
    Expectation { what: what.trim().to_string(), field: field.trim().to_string(), problem }
}

#[test]
fn bad_recipes_are_refused_naming_the_field() {
    let dir = data_dir().join("bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/recipes/bad")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no bad recipes found in {}", dir.display());

    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let want = expectation(path, &text);
        match Recipe::parse(&name, &text) {
            Ok(_) => failures.push(format!("{name} ({}): accepted", want.what)),
            Err(e) => {
                if e.file != name {
                    failures.push(format!("{name}: error names file {:?}", e.file));
                }
                if e.field != want.field {
                    failures
                        .push(format!("{name} ({}): field {:?}, expected {:?} [{e}]", want.what, e.field, want.field));
                }
                if e.problem.trim().is_empty() {
                    failures.push(format!("{name}: error has no explanation"));
                }
                if let Some(p) = &want.problem {
                    if !e.problem.contains(p.as_str()) {
                        failures.push(format!("{name}: problem {:?} does not mention {p:?}", e.problem));
                    }
                }
                let shown = e.to_string();
                if !shown.starts_with(&name) || !shown.contains(&want.field) {
                    failures.push(format!("{name}: message {shown:?} does not name the file and field"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad recipes misreported:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn toml_errors_stay_on_one_line_and_point_at_the_spot() {
    let text = std::fs::read_to_string(data_dir().join("bad/toml-syntax.toml")).unwrap();
    let e = Recipe::parse("toml-syntax.toml", &text).unwrap_err();
    assert_eq!(e.field, "");
    assert!(!e.problem.contains('\n'), "{:?}", e.problem);
    assert!(e.problem.contains("line 7"), "the error should say where: {:?}", e.problem);
}

#[test]
fn recipe_error_display_reads_file_field_problem() {
    let e = RecipeError { file: "x.toml".into(), field: "key.min_len".into(), problem: "too small".into() };
    assert_eq!(e.to_string(), "x.toml: key.min_len: too small");
    let e = RecipeError { file: "x.toml".into(), field: String::new(), problem: "not TOML".into() };
    assert_eq!(e.to_string(), "x.toml: not TOML");
}

#[test]
fn catalog_accepts_recipes_that_do_not_overlap() {
    let a = variant("alpha", r#"["app.alpha.test"]"#);
    let b = variant("beta", r#"["app.beta.test", "*.beta.dev"]"#);
    let catalog = Catalog::from_sources(&[("alpha.toml", &a), ("beta.toml", &b)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.for_host("x.beta.dev").map(|r| r.vendor.id.as_str()), Some("beta"));
    assert_eq!(catalog.for_host("app.alpha.test").map(|r| r.vendor.id.as_str()), Some("alpha"));
}

#[test]
fn catalog_refuses_two_recipes_with_one_vendor_id() {
    let a = variant("alpha", r#"["app.alpha.test"]"#);
    let b = variant("alpha", r#"["app.beta.test"]"#);
    let e = Catalog::from_sources(&[("a.toml", &a), ("b.toml", &b)]).unwrap_err();
    assert_eq!((e.file.as_str(), e.field.as_str()), ("b.toml", "vendor.id"));
    assert!(e.problem.contains("alpha"), "{e}");
}

#[test]
fn catalog_refuses_two_recipes_claiming_one_host() {
    let a = variant("alpha", r#"["app.alpha.test", "shared.example.org"]"#);
    let b = variant("beta", r#"["app.beta.test", "shared.example.org"]"#);
    let e = Catalog::from_sources(&[("a.toml", &a), ("b.toml", &b)]).unwrap_err();
    assert_eq!((e.file.as_str(), e.field.as_str()), ("b.toml", "vendor.hosts"));
    assert!(e.problem.contains("shared.example.org"), "{e}");
}

#[test]
fn catalog_refuses_a_second_recipe_for_the_predicthq_host() {
    let copycat = variant("copycat", r#"["control.predicthq.com"]"#);
    let mut sources: Vec<(&str, &str)> = BUILTIN.to_vec();
    sources.push(("copycat.toml", &copycat));
    let e = Catalog::from_sources(&sources).unwrap_err();
    assert_eq!((e.file.as_str(), e.field.as_str()), ("copycat.toml", "vendor.hosts"));
}

#[test]
fn catalog_reports_the_first_broken_recipe() {
    let good = variant("alpha", r#"["app.alpha.test"]"#);
    let broken = variant("beta", "[]");
    let e = Catalog::from_sources(&[("alpha.toml", &good), ("beta.toml", &broken)]).unwrap_err();
    assert_eq!((e.file.as_str(), e.field.as_str()), ("beta.toml", "vendor.hosts"));
}

/// Two recipes whose host patterns cover a common host (one names it, the other covers it with
/// a wildcard) both claim that host; which one is used would depend on file order.
#[test]
fn catalog_refuses_an_exact_host_covered_by_another_recipes_wildcard() {
    let a = variant("alpha", r#"["*.shared.test"]"#);
    let b = variant("beta", r#"["eu.shared.test"]"#);
    let result = Catalog::from_sources(&[("a.toml", &a), ("b.toml", &b)]);
    match result {
        Err(e) => assert_eq!(e.field, "vendor.hosts", "{e}"),
        Ok(c) => panic!(
            "eu.shared.test is claimed by both recipes, yet the catalog loaded and serves it with {:?}",
            c.for_host("eu.shared.test").map(|r| &r.vendor.id)
        ),
    }
}

/// A charset of "hex" must describe hexadecimal digits, not every letter and digit.
#[test]
fn hex_charset_admits_only_hex_digits() {
    let src = minimal().replacen("charset = [\"alnum\", \"_\"]", "charset = [\"hex\"]", 1);
    let recipe = Recipe::parse("hex.toml", &src).unwrap_or_else(|e| panic!("{e}"));
    assert!(recipe.key.accepts("0123456789abcdefABCDEF0123456789"), "hex digits are the charset");
    assert!(
        !recipe.key.accepts("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
        "a key of 'z's is accepted by a recipe whose charset is [\"hex\"]"
    );
}

#[test]
fn key_pages_of_the_builtin_vendors_are_on_their_own_hosts() {
    let catalog = Catalog::builtin().unwrap();
    let page = |id: &str| catalog.vendor(id).and_then(|r| r.vendor.key_page_url.clone());
    assert_eq!(page("predicthq").as_deref(), Some("https://control.predicthq.com/tokens"));
    assert_eq!(page("predictiveindex").as_deref(), Some("https://app.predictiveindex.com/"));
    // Tenants of their own, or the customer's servers: no one address to link to.
    assert_eq!(page("gotransverse"), None);
    assert_eq!(page("planningspace"), None);
}

#[test]
fn a_key_page_is_read_as_written_and_optional() {
    let with = minimal().replacen(
        "hosts = [\"app.example.com\", \"*.example.net\"]",
        "hosts = [\"app.example.com\", \"*.example.net\"]\nkey_page_url = \"https://app.example.com/settings/keys\"",
        1,
    );
    let r = Recipe::parse("with.toml", &with).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.vendor.key_page_url.as_deref(), Some("https://app.example.com/settings/keys"));
    assert_eq!(Recipe::parse("minimal.toml", &minimal()).unwrap().vendor.key_page_url, None);
    let wildcard = with.replacen("https://app.example.com/settings/keys", "https://eu.example.net/keys", 1);
    let e = Recipe::parse("wild.toml", &wildcard).expect_err("a host only a wildcard covers names no fixed page");
    assert_eq!(e.field, "vendor.key_page_url");
}

#[test]
fn a_check_url_may_name_the_tenants_own_host() {
    let source = std::fs::read_to_string(data_dir().join("minimal.toml")).unwrap();
    let source = source.replace("https://api.example.com/v1/me", "https://{host}/billing/2/me");
    let recipe = keywarden::engine::recipe::Recipe::parse("minimal.toml", &source).unwrap_or_else(|e| panic!("{e}"));
    let check = recipe.key.check.expect("a check");
    assert_eq!(check.url_for("partners.example.net"), "https://partners.example.net/billing/2/me");
}

/// The extension reads the built-in recipes in the JSON form `build.rs` converts them to: it must
/// be the very catalog the TOML gives.
#[test]
fn builtin_recipes_read_the_same_from_their_json_form() {
    let toml = Catalog::builtin().unwrap_or_else(|e| panic!("{e}"));
    let json = Catalog::builtin_json().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(toml.recipes.len(), json.recipes.len());
    for (a, b) in toml.recipes.iter().zip(&json.recipes) {
        assert_eq!(a, b, "{} differs in its JSON form", a.vendor.id);
    }
}

/// A recipe in JSON is checked as strictly as in TOML: a bad field is refused with its name.
#[test]
fn recipes_in_json_form_are_checked_like_toml() {
    let e = Recipe::parse_json("broken.toml", r#"{"vendor": {"id": "x"}}"#).unwrap_err();
    assert_eq!(e.file, "broken.toml");
    assert!(Recipe::parse_json("bad.toml", "{").is_err(), "malformed JSON is refused");
}
