//! `keywarden-tool explain`: saved pages under tests/data/pages/ become the page model the content script would report, and the report names the right page, step and key outline without ever printing a key.
#![cfg(not(target_arch = "wasm32"))]

use keywarden::engine::page::{Element, PageModel, Role};
use keywarden::engine::recipe::Catalog;
use keywarden::engine::recognize::{recognize, Scene};
use keywarden::engine::walkthrough::Progress;
use keywarden::explain::model::{keyish, page_model};
use keywarden::explain::{explain, Explanation};
use std::process::{Command, Output};

const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pages/");
const PHQ: &str = "https://control.predicthq.com/tokens";
/// The token `predicthq-token-shown.html` shows.
const SHOWN_TOKEN: &str = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5-C_7";

fn page_file(name: &str) -> String {
    format!("{PAGES}{name}")
}

fn saved(name: &str) -> String {
    std::fs::read_to_string(page_file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every key-like word in a file's source, wherever it sits (visible, hidden or in a template).
fn keys_in_source(html: &str) -> Vec<String> {
    html.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=_.~-".contains(c)))
        .filter(|w| keyish(w))
        .map(str::to_string)
        .collect()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } =
        Command::new(env!("CARGO_BIN_EXE_keywarden-tool")).args(args).output().expect("run keywarden-tool");
    (status.code().expect("exit code"), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

fn line<'a>(report: &'a str, prefix: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{report}"))
}

/// The recognized page id and the current step with its target element, as the worker would see them.
fn seen(model: &PageModel, catalog: &Catalog) -> Option<(String, Option<(String, Element)>)> {
    let scene = Scene::new(model, model.validate().expect("valid model"));
    let rec = recognize(catalog, &scene)?;
    let step = Progress::default().current(&rec, &scene).map(|c| (c.step.id.clone(), scene.element(c.target).clone()));
    Some((rec.page.id.clone(), step))
}

#[test]
fn saved_predicthq_pages_are_recognized_with_their_step_and_target() {
    let catalog = Catalog::builtin().unwrap();
    // (file, page, step, target role, target text or label)
    let table = [
        ("predicthq-dashboard.html", "console", "open-tokens", Role::Link, "API Tokens"),
        ("predicthq-tokens-first-visit.html", "token-form", "name-token", Role::Textbox, "Token name"),
        ("predicthq-token-shown.html", "token-shown", "copy-token", Role::Button, "Copy Token"),
        ("predicthq-token-list-decorated.html", "token-list", "new-token", Role::Button, "CREATE New token ›"),
    ];
    for (file, page, step, role, words) in table {
        let model = page_model(&saved(file), PHQ);
        let (got_page, got_step) = seen(&model, &catalog).unwrap_or_else(|| panic!("{file}: nothing recognized"));
        assert_eq!(got_page, page, "{file}");
        let (got_step, target) = got_step.unwrap_or_else(|| panic!("{file}: no current step"));
        assert_eq!(got_step, step, "{file}");
        assert_eq!(target.role(), role, "{file}");
        assert!(target.text == words || target.label == words, "{file}: target {target:?}");
    }
}

#[test]
fn hidden_copies_of_the_token_screen_do_not_count() {
    // The first-visit page carries the token screen in a <template>, a closed <dialog> and a
    // display:none block; the decorated list hides more in a closed <details>, [hidden],
    // visibility:hidden and aria-hidden. None of it may reach the model.
    for file in ["predicthq-tokens-first-visit.html", "predicthq-token-list-decorated.html"] {
        let model = page_model(&saved(file), PHQ);
        assert!(model.elements.iter().all(|e| e.secret.is_none()), "{file}: a hidden key was reported");
        assert!(
            !model.elements.iter().any(|e| e.text.contains("Copy Token")),
            "{file}: a hidden Copy Token was reported"
        );
    }
    let list = page_model(&saved("predicthq-token-list-decorated.html"), PHQ);
    assert!(list.elements.iter().any(|e| e.text == "What are token scopes?"), "a closed <details> keeps its summary");
    assert!(!list.elements.iter().any(|e| e.text.contains("Scopes limit")), "closed <details> content is hidden");
}

#[test]
fn no_key_ever_reaches_the_model_or_the_report() {
    let catalog = Catalog::builtin().unwrap();
    let pages = std::fs::read_dir(PAGES).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap());
    let mut checked = 0;
    for file in pages.filter(|f| f.ends_with(".html")) {
        let html = saved(&file);
        let keys = keys_in_source(&html);
        for url in [PHQ, "https://control-predicthq.com/tokens"] {
            let model = page_model(&html, url);
            let Explanation { report, .. } = explain(&catalog, &model).unwrap();
            let json = serde_json::to_string(&model).unwrap();
            for key in &keys {
                assert!(!json.contains(key.as_str()), "{file}: a key reached the page model");
                assert!(!report.contains(key.as_str()), "{file}: a key reached the report");
            }
            checked += keys.len();
        }
    }
    assert!(checked >= 8, "the saved pages should carry keys to hide, checked {checked}");
}

#[test]
fn binary_explains_the_token_screen_and_prints_only_its_outline() {
    let (code, out, err) = run(&["explain", &page_file("predicthq-token-shown.html"), PHQ]);
    assert_eq!(code, 0, "stderr: {err}\n{out}");
    assert_eq!(line(&out, "vendor:"), "vendor:    PredictHQ (predicthq)");
    assert_eq!(line(&out, "recognized:"), "recognized: predicthq/token-shown (page 4 of 4)");
    assert!(out.contains("  4. token-shown (1 of 1 signals)  ← recognized\n"), "{out}");
    assert!(out.contains("       ✗ does not show heading, reading \"tokens\" or \"api tokens\" or \"access tokens\" or \"api keys\"\n"), "{out}");
    assert!(out.contains("       ✓ shows a key the page calls the key → element 6\n"), "{out}");
    // Which element held each signal, and by which of the vocabulary's phrases.
    assert!(out.contains("→ element 1, by \"api tokens\"\n"), "{out}");
    assert_eq!(
        line(&out, "current step:"),
        "current step: copy-token \"Save the new token now\" → element 7 (button \"Copy Token\")"
    );
    assert_eq!(
        line(&out, "key on screen:"),
        "key on screen: element 6 (text), outline 40 characters: a-z, A-Z, 0-9, symbols \"-_\"; \
         offered for saving at step copy-token, beside element 7; element 3 calls it the key (\"token\")"
    );
    assert!(!out.contains(SHOWN_TOKEN) && !err.contains(SHOWN_TOKEN));
    assert!(!out.contains(&SHOWN_TOKEN[..16]), "not even part of the token");
}

#[test]
fn binary_exits_1_on_a_look_alike_host_and_still_hides_the_key() {
    let file = page_file("lookalike-predicthq.html");
    let (code, out, _) = run(&["explain", &file, "https://control-predicthq.com/tokens"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(line(&out, "vendor:"), "vendor:    none");
    assert_eq!(line(&out, "not recognized:"), "not recognized: no vendor serves host control-predicthq.com");
    assert!(out.contains("key-like string at element 3 (text), outline 40 characters: a-z, A-Z, 0-9\n"), "{out}");
    for key in keys_in_source(&saved("lookalike-predicthq.html")) {
        assert!(!out.contains(&key));
    }
    // A subdomain trick is no better.
    let (code, out, _) = run(&["explain", &file, "https://control.predicthq.com.evil.test/tokens"]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn binary_names_the_best_partial_page_when_none_matches() {
    let (code, out, _) = run(&["explain", &page_file("predicthq-tokens-loading.html"), PHQ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(line(&out, "not recognized:"), "not recognized: no page of PredictHQ has every signal holding");
    assert_eq!(line(&out, "best partial page:"), "best partial page: console (1 of 2 signals held); missing:");
    assert!(
        out.contains(
            "\n  ✗ does not show heading, reading \"tokens\" or \"api tokens\" or \"access tokens\" or \"api keys\"\n"
        ),
        "{out}"
    );
}

#[test]
fn server_flag_lets_a_self_hosted_vendor_be_recognized() {
    let file = page_file("planningspace-generate.html");
    let url = "https://ps.acme.example/ACME/PlanningSpace/#/generateApiKey";
    let (code, out, _) = run(&["explain", &file, url]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("self-hosted products (planningspace) are recognized only on servers added with --server"),
        "{out}"
    );

    let (code, out, err) = run(&["explain", &file, url, "--server", "planningspace=PS.acme.example"]);
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(line(&out, "vendor:"), "vendor:    PlanningSpace (planningspace), on a server added with --server");
    assert_eq!(line(&out, "recognized:"), "recognized: planningspace/generate (page 3 of 4)");
    assert_eq!(
        line(&out, "current step:"),
        "current step: create-key \"Create the key\" → element 4 (button \"Create key\")"
    );
    let (code, ..) = run(&["explain", &file, url, "--server=planningspace=ps.acme.example"]);
    assert_eq!(code, 0);
}

#[test]
fn binary_exits_2_with_a_clear_message_on_usage_and_io_errors() {
    let file = page_file("predicthq-dashboard.html");
    let cases: [(&[&str], &str); 7] = [
        (&["explain"], "usage: keywarden-tool explain"),
        (&["explain", &file], "usage: keywarden-tool explain"),
        (&["explain", "/no/such/page.html", PHQ], "/no/such/page.html: "),
        (&["explain", &file, "http://control.predicthq.com/"], "not an https URL"),
        (&["explain", &file, PHQ, "--server", "predicthq=a.example"], "predicthq is not a self-hosted product"),
        (&["explain", &file, PHQ, "--server", "acme=a.example"], "no vendor is called \"acme\""),
        (&["explain", &file, PHQ, "--verbose"], "unknown option --verbose"),
    ];
    for (args, message) in cases {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(message), "{args:?}: stderr {err:?} should say {message:?}");
        assert!(out.is_empty(), "{args:?}: nothing on stdout");
    }
}

// ---- The content script's rules, applied to static HTML -------------------------------------------

fn model(body: &str) -> Vec<Element> {
    page_model(&format!("<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"), PHQ).elements
}

#[test]
fn key_like_words_are_masked_exactly_as_the_content_script_does() {
    let els = model(concat!(
        "<p>Token: sk_live_ABCdef1234567890XYZ and more</p>",
        "<p>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</p>", // one class only: not a key
        "<p>0f8fad5b-d9cb-469f-a165-70867728950e</p>",
        "<p>short Ab1</p>",
        "<button aria-label=\"Save ABCdef1234567890XYZ123\">Masked label</button>",
        "<input type=\"password\" value=\"aB3dE5fG7hJ9kL1mN3pQ\">",
        "<input readonly value=\"Qx7wE2rT9yU4iO1pA6sDf\">",
    ));
    assert_eq!(els[0].text, "Token: • and more");
    let s = els[0].secret.as_ref().unwrap();
    assert_eq!(
        (s.len, s.lower, s.upper, s.digit, s.symbols.as_str(), s.hex, s.guid),
        (27, true, true, true, "_", false, false)
    );
    assert_eq!(els[1].secret, None);
    assert_eq!(els[1].text.len(), 40);
    let g = els[2].secret.as_ref().unwrap();
    assert!(g.guid && g.hex && g.symbols == "-" && g.len == 36);
    assert_eq!(els[3].secret, None);
    assert_eq!((els[4].label.as_str(), els[4].text.as_str()), ("", "Masked label"), "key-like labels are dropped");
    assert_eq!((els[5].filled, els[5].secret.as_ref()), (Some(true), None), "password fields never report an outline");
    assert_eq!(els[6].secret.as_ref().map(|s| s.len), Some(21), "a read-only field showing a key reports its outline");
}

#[test]
fn labels_come_from_the_same_sources_in_the_same_order() {
    let els = model(concat!(
        "<div id=\"n\">Name of the thing</div>",
        "<input aria-labelledby=\"n missing\">",
        "<input aria-label=\"Direct\" placeholder=\"ph\">",
        "<label>Wrapped <input type=\"checkbox\" checked></label>",
        "<label for=\"c\">For label</label><input id=\"c\" type=\"checkbox\" style=\"display:none\">",
        "<fieldset><legend>Scopes</legend></fieldset>",
        "<div role=\"dialog\"><h3>Dialog heading</h3></div>",
        "<input title=\"Only title\">",
    ));
    let labelled: Vec<(Role, &str)> =
        els.iter().filter(|e| !e.label.is_empty()).map(|e| (e.role(), e.label.as_str())).collect();
    assert_eq!(
        labelled,
        [
            (Role::Textbox, "Name of the thing"),
            (Role::Textbox, "Direct"),
            (Role::Checkbox, "Wrapped"),
            // Hidden, but its label shows: styled checkboxes are reported through their label.
            (Role::Checkbox, "For label"),
            (Role::Group, "Scopes"),
            (Role::Dialog, "Dialog heading"),
            (Role::Textbox, "Only title"),
        ]
    );
}

#[test]
fn nesting_states_and_own_text_follow_the_content_script() {
    let els = model(concat!(
        "<div role=\"dialog\" aria-label=\"D\">",
        "<fieldset disabled><legend>L</legend><button aria-disabled=\"true\">Inner <span>part</span></button>",
        "<p>para <span>inside</span> tail</p></fieldset></div>",
        "<h2>Two</h2><div role=\"heading\" aria-level=\"3\">Three</div>",
        "<div role=\"switch\" aria-checked=\"true\">On</div>",
        "<select><option value=\"\">Pick</option></select><select><option>Chosen</option></select>",
        "<input type=\"hidden\" value=\"x\">",
    ));
    let summary: Vec<String> = els
        .iter()
        .map(|e| {
            format!(
                "{:?} {:?} d{:?} g{:?} {}{:?}{:?}{:?}",
                e.role(),
                e.text,
                e.dialog,
                e.group,
                e.disabled,
                e.level,
                e.checked,
                e.filled
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "Dialog \"\" dNone gNone falseNoneNoneNone",
            "Group \"\" dSome(0) gNone trueNoneNoneNone",
            "Text \"L\" dSome(0) gSome(1) falseNoneNoneNone",
            "Button \"Inner part\" dSome(0) gSome(1) trueNoneNoneNone",
            "Text \"para tail\" dSome(0) gSome(1) falseNoneNoneNone",
            "Text \"inside\" dSome(0) gSome(1) falseNoneNoneNone",
            "Heading \"Two\" dNone gNone falseSome(2)NoneNone",
            "Heading \"Three\" dNone gNone falseSome(3)NoneNone",
            "Checkbox \"\" dNone gNone falseNoneSome(true)None",
            "Combobox \"\" dNone gNone falseNoneNoneSome(false)",
            "Combobox \"\" dNone gNone falseNoneNoneSome(true)",
        ]
    );
}

#[test]
fn invisible_markup_is_left_out() {
    let els = model(concat!(
        "<div hidden><button>A</button></div>",
        "<div aria-hidden=\"true\"><button>B</button></div>",
        "<div style=\"color: red; DISPLAY: none !important\"><button>C</button></div>",
        "<div style=\"visibility:hidden\"><button>D</button><span style=\"visibility: visible\">Shown again</span></div>",
        "<template><button>E</button></template><script>var f = 1;</script><style>.g{}</style><noscript><button>H</button></noscript>",
        "<details><summary>Summary</summary><button>I</button></details>",
        "<dialog><button>J</button></dialog><dialog open><button>Open dialog</button></dialog>",
        "<div style=\"display:block\" hidden><button>Shown despite hidden</button></div>",
        "<keywarden-panel><button>K</button></keywarden-panel>",
    ));
    let texts: Vec<&str> = els.iter().filter(|e| !e.text.is_empty()).map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["Shown again", "Summary", "Open dialog", "Shown despite hidden"]);
}

#[test]
fn icon_only_controls_report_the_icon_they_show() {
    let html = r##"<!doctype html><html><body>
      <button type="button"><i class="fa-solid fa-2x fa-copy"></i></button>
      <button type="button"><svg><use href="#icon-download"></use></svg></button>
      <a href="/trash"><span data-icon="trash"></span></a>
      <button type="button" class="bi bi-clipboard"></button>
      <button type="button"><i class="fa-solid fa-lg"></i></button>
      <button type="button"><i class="fa fa-copy"></i> Copy token</button>
      <button type="button" aria-label="Copy"><i class="fa fa-copy"></i></button>
    </body></html>"##;
    let model = page_model(html, PHQ);
    let icons: Vec<&str> = model.elements.iter().map(|e| e.icon.as_str()).collect();
    // A control with words or a label of its own is known by them, not by its icon.
    assert_eq!(icons, ["copy", "download", "trash", "clipboard", "", "", ""]);
}
