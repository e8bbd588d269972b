//! PredictHQ recognition beyond the tables (those are data in tests/data/models/predicthq/): look-alike hosts, refused URLs, signal reports, key shapes, where the key is, and what a report draws.

mod common;

use common::*;
use keywarden::engine::detect::key_on_screen;
use keywarden::engine::page::{Element, PageError, PageModel, Role, SecretShape};
use keywarden::engine::protocol::{ErrorCode, Push, Reply};
use keywarden::engine::recipe::Catalog;
use keywarden::engine::recognize::{judge, recognize, Scene};
use keywarden::engine::walkthrough::Progress;

/// What a fresh walkthrough makes of a page: the recognized page id, and the current step with its target.
#[derive(Debug, PartialEq)]
struct Seen {
    page: Option<String>,
    step: Option<(String, usize)>,
}

fn see(catalog: &Catalog, model: &PageModel) -> Seen {
    let location = model.validate().unwrap_or_else(|e| panic!("fixture {} is invalid: {e}", model.url));
    let scene = Scene::new(model, location);
    let Some(rec) = recognize(catalog, &scene) else { return Seen { page: None, step: None } };
    let step = Progress::default().current(&rec, &scene).map(|c| (c.step.id.clone(), c.target));
    Seen { page: Some(rec.page.id.clone()), step }
}

#[test]
fn lookalike_host_gets_nothing() {
    let catalog = Catalog::builtin().unwrap();
    for host in
        ["control.predicthq.com.phish.test", "predicthq-control.test", "control-predicthq.com", "control.predicthq.co"]
    {
        for fixture in [dashboard(), token_form(true), token_shown(), token_list()] {
            let page = fixture.moved_to(&format!("https://{host}/tokens"));
            assert_eq!(see(&catalog, &page.model), Seen { page: None, step: None }, "{host}");
        }
    }
}

#[test]
fn lookalike_host_report_draws_nothing_and_hides_the_panel() {
    let mut ctrl = controller();
    let page = token_shown().moved_to("https://control.predicthq.com.phish.test/tokens");
    let out = report(&mut ctrl, 1, 1, &page.model);
    let draw = reply_draw(&out);
    assert_eq!((draw.highlight.as_ref(), draw.capture.as_ref()), (None, None));
    assert_eq!(out.pushes, vec![(1, Push::Panel { view: None })]);
}

#[test]
fn plain_http_page_is_refused() {
    let page = token_form(false).moved_to("http://control.predicthq.com/tokens");
    assert_eq!(page.model.validate(), Err(PageError::BadUrl));
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &page.model);
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Malformed, .. }), "{:?}", out.reply);
    assert!(out.pushes.is_empty());
}

#[test]
fn partial_form_page_reports_which_signal_failed() {
    let catalog = Catalog::builtin().unwrap();
    let recipe = catalog.vendor("predicthq").unwrap();
    let page = Page::at(&url("/tokens")).with("", el(Role::Button, "Create Token"));
    let scene = Scene::new(&page.model, page.model.validate().unwrap());
    let verdicts = judge(recipe, &scene);
    let form = verdicts.iter().find(|v| v.page.id == "token-form").unwrap();
    let held: Vec<bool> = form.signals.iter().map(|s| s.held).collect();
    assert_eq!(held, [false, true, true], "{:?}", form.signals);
    assert!(form.signals[0].what.contains("textbox"), "{:?}", form.signals[0]);
    assert!(!form.matched());
}

#[test]
fn secret_outside_the_token_charset_is_not_captured() {
    let base64ish = SecretShape { symbols: "+/=".into(), ..token_shape() };
    let too_short = SecretShape { len: 12, ..token_shape() };
    let too_long = SecretShape { len: 161, ..token_shape() };
    let with_space = SecretShape { symbols: " ".into(), ..token_shape() };
    let catalog = Catalog::builtin().unwrap();
    for shape in [base64ish, too_short, too_long, with_space] {
        let mut page = token_shown();
        let key = page.idx("key");
        page.model.elements[key].secret = Some(shape.clone());
        let seen = see(&catalog, &page.model);
        assert_ne!(seen.page.as_deref(), Some("token-shown"), "{shape:?}");

        let mut ctrl = controller();
        let out = report(&mut ctrl, 7, 1, &page.model);
        assert_eq!(reply_draw(&out).capture, None, "{shape:?}");
    }
}

#[test]
fn key_on_screen_finds_the_token_beside_copy_token() {
    let catalog = Catalog::builtin().unwrap();
    let page = token_shown();
    let scene = Scene::new(&page.model, page.model.validate().unwrap());
    let rec = recognize(&catalog, &scene).expect("token-shown page");
    let (step, copy, key) = key_on_screen(&rec, &scene).expect("the token is on screen");
    assert_eq!(step.id, "copy-token");
    assert!(step.capture);
    assert_eq!((copy, key), (page.idx("copy"), page.idx("key")));
}

#[test]
fn key_on_screen_prefers_the_fitting_secret_nearest_the_copy_button() {
    let catalog = Catalog::builtin().unwrap();
    let page = Page::at(&url("/tokens"))
        .with("far", secret(token_shape()))
        .with("", el(Role::Text, "Your new token"))
        .with("near", secret(token_shape()))
        .with("", el(Role::Text, "Shown once"))
        .with("copy", el(Role::Button, "Copy Token"))
        .with("misfit", secret(SecretShape { symbols: "+/=".into(), ..token_shape() }))
        .with("", el(Role::Button, "Done"));
    let scene = Scene::new(&page.model, page.model.validate().unwrap());
    let rec = recognize(&catalog, &scene).unwrap();
    let (_, copy, key) = key_on_screen(&rec, &scene).unwrap();
    assert_eq!((copy, key), (page.idx("copy"), page.idx("near")));
}

#[test]
fn key_on_screen_is_none_before_the_token_exists() {
    let catalog = Catalog::builtin().unwrap();
    for page in [dashboard(), token_form(true), token_list()] {
        let scene = Scene::new(&page.model, page.model.validate().unwrap());
        let rec = recognize(&catalog, &scene).unwrap();
        assert!(key_on_screen(&rec, &scene).is_none(), "{}", rec.page.id);
    }
}

#[test]
fn report_highlights_the_step_target_for_each_flow_page() {
    // (fixture, step, highlighted element, position in the whole walkthrough)
    let rows: Vec<(Page, &str, &str, u32)> = vec![
        (dashboard(), "open-tokens", "nav-tokens", 1),
        (token_list(), "new-token", "new", 2),
        (token_form(false), "name-token", "name", 3),
        (token_form(true), "choose-scopes", "scopes", 4),
        (token_shown(), "copy-token", "copy", 6),
    ];
    for (tab, (page, step, element, position)) in rows.into_iter().enumerate() {
        let tab = tab as u32 + 10;
        let mut ctrl = controller();
        // The admin asked for the walkthrough ("Create a new PredictHQ key"): it shows on the
        // dashboard too, not only on the key pages.
        let guided = keywarden::engine::walkthrough::Progress { guide: Some("predicthq".into()), ..Default::default() };
        ctrl.restore(tab, guided);
        let out = report(&mut ctrl, tab, 42, &page.model);
        let draw = reply_draw(&out);
        assert_eq!(draw.seq, 42);
        let mark = draw.highlight.as_ref().unwrap_or_else(|| panic!("{step}: nothing highlighted"));
        assert_eq!((mark.vendor.as_str(), mark.step.as_str()), ("predicthq", step));
        assert_eq!(mark.element as usize, page.idx(element), "{step} points at the wrong element");
        let shown = &page.model.elements[mark.element as usize];
        assert_ne!(shown.role(), Role::Text, "{step} highlights plain text");

        let panels = pushed_panels(&out);
        assert_eq!(panels.len(), 1, "{step}: {:?}", out.pushes);
        let (to, view) = panels[0];
        let view = view.unwrap_or_else(|| panic!("{step}: panel hidden"));
        assert_eq!(to, tab);
        assert_eq!((view.step.as_str(), view.position, view.total), (step, position, 6));
        assert_eq!((view.vendor.as_str(), view.vendor_name.as_str()), ("predicthq", "PredictHQ"));
        assert!(!view.title.is_empty() && !view.body.is_empty());
    }
}

#[test]
fn report_of_the_token_screen_marks_key_and_copy_button() {
    let mut ctrl = controller();
    let page = token_shown();
    let out = report(&mut ctrl, 3, 9, &page.model);
    let capture = reply_draw(&out).capture.clone().expect("capture mark");
    assert_eq!(capture.key as usize, page.idx("key"));
    assert_eq!(capture.copy.map(|c| c as usize), Some(page.idx("copy")));
    assert_eq!((capture.vendor.as_str(), capture.label.as_str()), ("predicthq", "API token"));
}

#[test]
fn report_before_the_token_exists_has_no_capture_mark() {
    let mut ctrl = controller();
    for (seq, page) in [dashboard(), token_list(), token_form(false), token_form(true)].iter().enumerate() {
        let out = report(&mut ctrl, 1, seq as u64 + 1, &page.model);
        assert_eq!(reply_draw(&out).capture, None, "{}", page.model.url);
    }
}

#[test]
fn unknown_page_on_the_vendor_host_draws_nothing() {
    let mut ctrl = controller();
    let page = Page::at(&url("/events"))
        .with("", el(Role::Heading, "Events"))
        .with("", el(Role::Text, "No events match your filters."));
    let out = report(&mut ctrl, 1, 1, &page.model);
    assert_eq!(reply_draw(&out).highlight, None);
    assert_eq!(out.pushes, vec![(1, Push::Panel { view: None })]);
}

#[test]
fn list_page_search_box_is_not_taken_for_the_token_name_field() {
    // One-word phrases ("Name", "Create") match only exactly, so a search box and the
    // "Create New Token" button do not make the list look like the token form.
    let page = token_list().with("search", field("Search by name", false));
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &page.model);
    assert_eq!(highlighted(reply_draw(&out)), Some("new-token"));
}

#[test]
fn stacked_windows_resolve_to_the_topmost_one() {
    // Two windows open, both with a Close button: the one opened last (topmost) is meant.
    let page = Page::at(&url("/tokens"))
        .with("", el(Role::Heading, "API Tokens"))
        .with("back-dialog", Element { label: "User Account Details".into(), ..el(Role::Dialog, "") })
        .with("back-close", Element { dialog: Some(1), ..el(Role::Button, "Create Token") })
        .with("top-dialog", Element { label: "New token".into(), ..el(Role::Dialog, "") })
        .with("name", Element { dialog: Some(3), ..field("Token name", false) })
        .with("top-create", Element { dialog: Some(3), ..el(Role::Button, "Create Token") });
    let catalog = Catalog::builtin().unwrap();
    let scene = Scene::new(&page.model, page.model.validate().unwrap());
    let recipe = catalog.vendor("predicthq").unwrap();
    let create = &recipe
        .pages
        .iter()
        .find(|p| p.id == "token-form")
        .unwrap()
        .steps
        .iter()
        .find(|s| s.id == "create-token")
        .unwrap()
        .target;
    assert_eq!(scene.find_any(create, &recipe.key), Some(page.idx("top-create")));
}

/// `near` finds an element by the text right beside it, whatever its own words: an icon-only
/// button after "API key", a field after its caption; and only that neighbour counts.
#[test]
fn near_finds_an_element_by_the_text_beside_it() {
    use keywarden::engine::page::Location;
    use keywarden::engine::recipe::Matcher;
    let catalog = Catalog::builtin().unwrap();
    let key = &catalog.recipes[0].key;
    let page = Page::at(&url("/tokens"))
        .with("", el(Role::Text, "Webhook secret"))
        .with("other", el(Role::Button, ""))
        .with("", el(Role::Text, "Your API key"))
        .with("copy", el(Role::Button, ""));
    let scene = Scene::new(&page.model, Location::parse(&page.model.url).unwrap());
    let near = |phrase: &str| Matcher { roles: vec![Role::Button], near: vec![phrase.into()], ..Matcher::default() };
    assert_eq!(scene.find(&near("api key"), key), Some(page.idx("copy")));
    assert_eq!(scene.find(&near("webhook secret"), key), Some(page.idx("other")));
    assert_eq!(scene.find(&near("token"), key), None);
}
