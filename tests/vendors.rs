//! Predictive Index and Gotransverse beyond the recognition tables (those are data in tests/data/models/): recipe structure, key formats, look-alike hosts, capture marks, guards, metadata fields and the walkthrough's moves.

mod common;

use common::{el, field, labelled, popup, secret, Drive, Page, Request};
use keywarden::engine::controller::{Controller, Outcome, MISSING_GRACE_MS};
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::{CaptureMark, Draw, FieldMark, PanelView, Push, Reply, Sender};
use keywarden::engine::recipe::{Catalog, FieldName, HostPattern, Read};
use keywarden::engine::recognize::{recognize, Scene};
use keywarden::engine::secret::SecretString;
use keywarden::engine::walkthrough::{Event, Progress};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Shared helpers

const PI_HOST: &str = "app.predictiveindex.com";
const GTV_HOST: &str = "partners.gotransverse.com";
const PI_KEY: &str = "3f2b8c1e-9a4d-4e7b-b1c2-0d5e6f7a8b9c";
const GTV_KEY: &str = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8";

fn pi(path: &str) -> String {
    format!("https://{PI_HOST}{path}")
}

fn gtv(path: &str) -> String {
    format!("https://{GTV_HOST}{path}")
}

/// The outline of a lower-case GUID, as the content script reports it.
fn guid_shape() -> SecretShape {
    SecretShape {
        len: 36,
        lower: true,
        digit: true,
        symbols: "-".into(),
        hex: true,
        guid: true,
        ..SecretShape::default()
    }
}

/// The outline of 32 lower-case hexadecimal digits.
fn hex32_shape() -> SecretShape {
    SecretShape { len: 32, lower: true, digit: true, hex: true, ..SecretShape::default() }
}

fn in_dialog(dialog: usize, element: Element) -> Element {
    Element { dialog: Some(dialog as u32), ..element }
}

fn heading(text: &str, level: u8) -> Element {
    Element { level: Some(level), ..el(Role::Heading, text) }
}

fn disabled(element: Element) -> Element {
    Element { disabled: true, ..element }
}

/// A text field showing a key-like value (only its outline is reported).
fn key_field(label: &str, shape: SecretShape) -> Element {
    Element { filled: Some(true), secret: Some(shape), ..labelled(Role::Textbox, label) }
}

/// A combobox (a <select> or an autocomplete field) with a label.
fn combo(label: &str, filled: bool) -> Element {
    Element { filled: Some(filled), ..labelled(Role::Combobox, label) }
}

/// The recognized page id and the fresh walkthrough's step with the index it points at.
#[derive(Debug, PartialEq)]
struct Seen {
    page: Option<String>,
    step: Option<(String, usize)>,
}

fn see(catalog: &Catalog, model: &PageModel, progress: &Progress) -> Seen {
    let location = model.validate().unwrap_or_else(|e| panic!("fixture {} is invalid: {e}", model.url));
    let scene = Scene::new(model, location);
    let Some(rec) = recognize(catalog, &scene) else { return Seen { page: None, step: None } };
    let mut progress = progress.clone();
    progress.enter(Some(&rec));
    let step = progress.current(&rec, &scene).map(|c| (c.step.id.clone(), c.target));
    Seen { page: Some(rec.page.id.clone()), step }
}

fn controller() -> Controller {
    Controller::new(Catalog::builtin().expect("built-in recipes load"))
}

fn content_on(page: &PageModel) -> Sender {
    Sender::Content { tab: 1, frame: 0, url: page.url.clone() }
}

fn report_at(ctrl: &mut Controller, seq: u64, page: &PageModel, now: u64) -> Outcome {
    ctrl.handle_at(&content_on(page), Request::Report { seq, page: page.clone(), panel: None }, now)
}

fn draw_of(out: &Outcome) -> &Draw {
    match &out.reply {
        Reply::Draw(d) => d,
        other => panic!("expected a Draw reply, got {other:?}"),
    }
}

fn panel_of(out: &Outcome) -> Option<&PanelView> {
    out.pushes.iter().find_map(|(_, p)| match p {
        Push::Panel { view } => view.as_ref(),
        _ => None,
    })
}

fn capture(
    ctrl: &mut Controller,
    page: &PageModel,
    seq: u64,
    key: &str,
    fields: BTreeMap<FieldName, String>,
) -> Outcome {
    ctrl.handle(&content_on(page), Request::Capture { seq, key: SecretString::new(key.into()), fields })
}

// ---------------------------------------------------------------------------------------------
// Predictive Index pages, as the content script reports the fixture app (older and newer layouts)

fn pi_chrome(path: &str) -> Page {
    Page::at(&pi(path))
        .with("", el(Role::Link, "The Predictive Index"))
        .with("", el(Role::Link, "Home"))
        .with("", el(Role::Link, "People"))
        .with("", el(Role::Link, "Jobs"))
        .with("", el(Role::Link, "Assessments"))
        .with("user-menu", el(Role::Button, "Jordan Rivera"))
}

/// An unrelated page of the app: the assessments list, with the user menu closed.
fn pi_assessments() -> Page {
    pi_chrome("/assessments")
        .with("", heading("Assessments", 1))
        .with("", el(Role::Button, "Send Assessment"))
        .with("", field("Search people", false))
        .with("", el(Role::Row, "Name Assessment Sent Status"))
        .with("", el(Role::Row, "Avery Chen Behavioral 2025-10-02 Completed"))
        .with("", el(Role::Row, "Sam Ortiz Cognitive 2025-10-09 Sent"))
}

/// Any page with the menu under the admin's name open.
fn pi_menu_open() -> Page {
    pi_assessments()
        .with("", el(Role::Menuitem, "My Profile"))
        .with("administration", el(Role::Menuitem, "Administration"))
        .with("", el(Role::Menuitem, "Help Center"))
        .with("", el(Role::Menuitem, "Sign Out"))
}

/// Newer layout: Administration behind the gear, with tabs.
fn pi_admin_new() -> Page {
    Page::at(&pi("/v2/administration"))
        .with("", el(Role::Link, "Home"))
        .with("", el(Role::Link, "People"))
        .with("", el(Role::Link, "Jobs"))
        .with("", labelled(Role::Button, "Settings"))
        .with("", heading("Administration", 1))
        .with("", el(Role::Tab, "Users"))
        .with("", el(Role::Tab, "Groups"))
        .with("", el(Role::Tab, "Folders"))
        .with("integrations", el(Role::Tab, "Integrations"))
        .with("", el(Role::Button, "Add User"))
}

fn pi_user_list() -> Page {
    pi_chrome("/administration/users")
        .with("", heading("Administration", 1))
        .with("", el(Role::Link, "Account Settings"))
        .with("", el(Role::Link, "User Management"))
        .with("", el(Role::Link, "Folders"))
        .with("", heading("User Management", 2))
        .with("create", el(Role::Button, "Create New User"))
        .with("", field("Search users", false))
        .with("", el(Role::Row, "Name Email Role Default Folder"))
        .with("name-header", el(Role::Cell, "Name"))
        .with("", el(Role::Cell, "Email"))
        .with("", el(Role::Cell, "Role"))
        .with("", el(Role::Cell, "Default Folder"))
        .with("", el(Role::Row, "Jordan Rivera jordan.rivera@example.com Account Owner \\Your Company"))
        .with("", el(Role::Link, "Jordan Rivera"))
}

/// The new-user form; `filled` says which of first, last, email, job title and folder hold text.
fn pi_new_user(filled: [bool; 5]) -> Page {
    pi_chrome("/administration/users/new")
        .with("", heading("Administration", 1))
        .with("", el(Role::Link, "User Management"))
        .with("", heading("Create New User", 2))
        .with("first", field("First Name", filled[0]))
        .with("last", field("Last Name", filled[1]))
        .with("email", field("Email", filled[2]))
        .with("job", field("Job Title", filled[3]))
        .with("folder", combo("Default Folder", filled[4]))
        .with("role", combo("Role", false))
        .with("submit", el(Role::Button, "Create User"))
        .with("", el(Role::Button, "Cancel"))
}

/// Older layout: one user's details with the API Key field at the bottom, holding `key` if generated.
fn pi_user_detail(key: Option<SecretShape>) -> Page {
    let key_el = match key {
        Some(shape) => key_field("API Key", shape),
        None => field("API Key", false),
    };
    pi_chrome("/administration/users/u-204")
        .with("", heading("Administration", 1))
        .with("", el(Role::Link, "User Management"))
        .with("", heading("Data Manager", 2))
        .with("", field("First Name", true))
        .with("", field("Last Name", true))
        .with("email", field("Email", true))
        .with("", field("Job Title", true))
        .with("", combo("Default Folder", true))
        .with("", combo("Role", true))
        .with("", el(Role::Label, "API Key"))
        .with("key", key_el)
        .with("copy", labelled(Role::Button, "Copy API Key"))
        .with("generate", el(Role::Button, "Generate New Key"))
        .with("save", disabled(el(Role::Button, "Save Changes")))
        .with("cancel", el(Role::Button, "Cancel"))
}

/// Newer layout: the Open API page, with a freshly generated key in a code element if `key`.
fn pi_open_api(key: Option<SecretShape>) -> Page {
    let page = pi_admin_new()
        .moved_to(&pi("/v2/administration/integrations/open-api"))
        .with("", heading("Open API", 2))
        .with("", el(Role::Text, "Keys let your integrations read and change your organization's PI data."))
        .with("generate", el(Role::Button, "Generate New Key"));
    match key {
        Some(shape) => page
            .with("", el(Role::Text, "Your API Key"))
            .with("key", secret(shape))
            .with("copy", labelled(Role::Button, "Copy API key")),
        None => page,
    }
}

#[test]
fn pi_recipe_serves_the_app_host_only() {
    let catalog = Catalog::builtin().unwrap();
    let pi = catalog.vendor("predictiveindex").expect("Predictive Index recipe");
    assert_eq!(pi.vendor.hosts, vec![HostPattern::Exact(PI_HOST.into())]);
    assert_eq!(pi.prerequisites.len(), 3);
    let check = pi.key.check.as_ref().expect("a key check");
    assert_eq!((check.method.as_str(), check.header.as_str(), check.value.as_str()), ("GET", "api-key", "{key}"));
    assert!(check.url.starts_with("https://integrations.predictiveindex.com/api/v1/jobs/"));
    assert_eq!(check.ok_status, vec![200]);
    for other in [
        "predictiveindex.com",
        "pi.predictiveindex.com",
        "app.predictiveindex.com.evil.test",
        "predictiveindex-app.test",
        "xapp.predictiveindex.com",
    ] {
        assert!(catalog.for_host(other).is_none(), "{other} must not be served");
    }
}

#[test]
fn pi_pages_and_steps_follow_the_flow() {
    let catalog = Catalog::builtin().unwrap();
    let pi = catalog.vendor("predictiveindex").unwrap();
    let pages: Vec<&str> = pi.pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        pages,
        [
            "app-home",
            "menu",
            "administration",
            "user-admin",
            "user-list",
            "user-list-after-create",
            "user-created",
            "new-user-form",
            "integrations",
            "open-api",
            "user-detail",
            "api-key-shown",
            "user-key-shown"
        ]
    );
    let capture: Vec<&str> = pi.steps().filter(|(_, s)| s.capture).map(|(_, s)| s.id.as_str()).collect();
    assert_eq!(capture, ["copy-api-key", "copy-user-key"]);
    let email = pi.steps().find(|(_, s)| s.id == "email").unwrap().1;
    assert!(email.warning.as_deref().unwrap().contains("No two users"), "the email step warns about uniqueness");
    let role = pi.steps().find(|(_, s)| s.id == "role").unwrap().1;
    assert!(role.body.contains("Account Admin"));
    let copy = pi.steps().find(|(_, s)| s.id == "copy-user-key").unwrap().1;
    assert!(copy.body.contains("already saved"), "the capture step says PI saved the key on Generate");
    let leave = pi.steps().find(|(_, s)| s.id == "leave-user").unwrap().1;
    assert!(leave.body.contains("Save Changes") && leave.body.contains("Cancel"));
}

#[test]
fn pi_key_is_a_guid() {
    let catalog = Catalog::builtin().unwrap();
    let key = &catalog.vendor("predictiveindex").unwrap().key;
    assert!(key.accepts(PI_KEY));
    assert!(key.accepts(&PI_KEY.to_uppercase()));
    assert!(!key.accepts(&PI_KEY.replace('-', "")), "32 hex digits without dashes");
    assert!(!key.accepts("3f2b8c1e-9a4d-4e7b-b1c2-0d5e6f7a8b9g"), "a non-hex letter");
    assert!(!key.accepts("3f2b8c1e9-a4d-4e7b-b1c2-0d5e6f7a8b9c"), "groups in the wrong places");
    assert!(key.fits_shape(&guid_shape()));
    assert!(key.fits_shape(&SecretShape { lower: false, upper: true, ..guid_shape() }));
    assert!(!key.fits_shape(&hex32_shape()));
    assert!(!key.fits_shape(&SecretShape { guid: false, ..guid_shape() }), "36 characters that are not 8-4-4-4-12");
}

#[test]
fn pi_secrets_other_than_guids_get_no_capture_mark() {
    let bad_shapes = [
        hex32_shape(),
        SecretShape { guid: false, ..guid_shape() },
        SecretShape { len: 40, lower: true, upper: true, digit: true, symbols: "-_".into(), ..SecretShape::default() },
    ];
    for shape in bad_shapes {
        let mut ctrl = controller();
        let page = pi_open_api(Some(shape.clone()));
        assert_eq!(draw_of(&report_at(&mut ctrl, 1, &page.model, 0)).capture, None, "{shape:?}");
    }
}

#[test]
fn pi_lookalike_hosts_get_nothing() {
    let catalog = Catalog::builtin().unwrap();
    for host in [
        "app.predictiveindex.com.evil.test",
        "predictiveindex-app.test",
        "app-predictiveindex.com",
        "app.predictiveindex.co",
    ] {
        for page in [
            pi_menu_open(),
            pi_user_list(),
            pi_new_user([false; 5]),
            pi_user_detail(Some(guid_shape())),
            pi_open_api(Some(guid_shape())),
        ] {
            let url = page.model.url.replace(PI_HOST, host);
            let moved = page.moved_to(&url);
            assert_eq!(see(&catalog, &moved.model, &Progress::default()), Seen { page: None, step: None }, "{url}");
        }
    }
}

#[test]
fn pi_capture_marks_the_key_its_copy_icon_the_cancel_guard_and_the_account_field() {
    let mut ctrl = controller();
    let page = pi_user_detail(Some(guid_shape()));
    let out = report_at(&mut ctrl, 4, &page.model, 0);
    let draw = draw_of(&out);
    let mark = draw.capture.clone().expect("the key is on screen");
    assert_eq!(
        mark,
        CaptureMark {
            key: page.idx("key") as u32,
            copy: Some(page.idx("copy") as u32),
            vendor: "predictiveindex".into(),
            label: "API key".into(),
            guards: vec![page.idx("cancel") as u32],
            vault: false,
        }
    );
    assert_eq!(
        draw.fields,
        vec![FieldMark { name: FieldName::Account, element: page.idx("email") as u32, read: Read::Value }]
    );
    let view = panel_of(&out).expect("panel");
    assert_eq!(view.step, "copy-user-key");
    assert_eq!(view.prerequisites.len(), 3);
    assert!(view.needs_vault, "no vault in this test: the panel says so first");

    let fields = BTreeMap::from([(FieldName::Account, "data.manager@example.com".to_string())]);
    let out = capture(&mut ctrl, &page.model, 4, PI_KEY, fields);
    assert!(matches!(out.reply, Reply::Captured { .. }), "{:?}", out.reply);
    let captured = out.captured.expect("handed on");
    assert_eq!((captured.vendor.as_str(), captured.host.as_str()), ("predictiveindex", PI_HOST));
    assert_eq!(captured.fields.get(&FieldName::Account).map(String::as_str), Some("data.manager@example.com"));

    let out = capture(&mut ctrl, &page.model, 4, &PI_KEY.replace('-', ""), BTreeMap::new());
    assert!(matches!(out.reply, Reply::Error { .. }), "32 hex digits are not a PI key: {:?}", out.reply);
}

#[test]
fn pi_newer_layout_capture_has_no_guard_and_no_account() {
    let mut ctrl = controller();
    let page = pi_open_api(Some(guid_shape()));
    let out = report_at(&mut ctrl, 1, &page.model, 0);
    let mark = draw_of(&out).capture.clone().expect("the key is on screen");
    assert_eq!((mark.key as usize, mark.copy.map(|c| c as usize)), (page.idx("key"), Some(page.idx("copy"))));
    assert!(mark.guards.is_empty());
    assert!(draw_of(&out).fields.is_empty());
}

#[test]
fn pi_form_moves_on_with_typing_and_next() {
    let mut ctrl = controller();
    // The new-user form is on the way to a key, not a key page: the admin asked for the walkthrough.
    let guided = || Progress { guide: Some("predictiveindex".into()), ..Progress::default() };
    ctrl.restore(1, guided());
    let mut seq = 0;
    let mut step = |ctrl: &mut Controller, page: &Page| {
        seq += 1;
        let out = report_at(ctrl, seq, &page.model, 0);
        draw_of(&out).highlight.as_ref().map(|m| m.step.clone())
    };
    assert_eq!(step(&mut ctrl, &pi_new_user([false; 5])).as_deref(), Some("first-name"));
    assert_eq!(step(&mut ctrl, &pi_new_user([true, true, true, true, true])).as_deref(), Some("default-folder"));
    let panel = Sender::Page { page: keywarden::engine::protocol::ExtensionPage::Panel, tab: Some(1) };
    let out = ctrl.handle(&panel, Request::Panel { event: Event::Next });
    let moved = out.pushes.iter().find_map(|(_, p)| match p {
        Push::Draw(d) => d.highlight.as_ref().map(|m| m.step.clone()),
        _ => None,
    });
    assert_eq!(moved.as_deref(), Some("role"));
    let out = ctrl.handle(&panel, Request::Panel { event: Event::Next });
    let moved = out.pushes.iter().find_map(|(_, p)| match p {
        Push::Draw(d) => d.highlight.as_ref().map(|m| m.step.clone()),
        _ => None,
    });
    assert_eq!(moved.as_deref(), Some("submit-user"));
    // The email step carries its warning into the panel.
    let mut fresh = controller();
    fresh.restore(1, guided());
    let out = report_at(&mut fresh, 1, &pi_new_user([true, true, false, false, false]).model, 0);
    assert!(panel_of(&out).unwrap().warning.as_deref().unwrap_or("").contains("email address"));
}

// ---------------------------------------------------------------------------------------------
// Gotransverse pages, as the content script reports the fixture tenant

fn gtv_chrome(path: &str) -> Page {
    Page::at(&gtv(path))
        .with("app-menu", labelled(Role::Button, "Application menu"))
        .with("", el(Role::Text, "Partners"))
        .with("", el(Role::Button, "jordan.admin"))
}

/// An unrelated page: Billing Accounts.
fn gtv_billing_accounts() -> Page {
    gtv_chrome("/billing/accounts")
        .with("", heading("Billing Accounts", 1))
        .with("", el(Role::Button, "New Billing Account"))
        .with("", el(Role::Cell, "Account Number"))
        .with("", el(Role::Cell, "Account Name"))
        .with("", el(Role::Cell, "Status"))
        .with("", el(Role::Link, "BA-00017"))
        .with("", el(Role::Cell, "Northwind Freight"))
}

fn gtv_menu_open() -> Page {
    gtv_billing_accounts()
        .with("", el(Role::Menuitem, "Billing"))
        .with("", el(Role::Menuitem, "Product Catalog"))
        .with("", el(Role::Menuitem, "Usage"))
        .with("", el(Role::Menuitem, "Reports"))
        .with("admin", el(Role::Menuitem, "Admin"))
}

fn gtv_user_management() -> Page {
    gtv_chrome("/admin/users")
        .with("", heading("Admin", 1))
        .with("", el(Role::Link, "Users"))
        .with("", el(Role::Link, "Roles"))
        .with("", heading("User Management", 2))
        .with("", el(Role::Row, "Username Full Name Email Roles Status"))
        .with("username", el(Role::Cell, "Username"))
        .with("", el(Role::Cell, "Full Name"))
        .with("", el(Role::Cell, "Email"))
        .with("", el(Role::Link, "jordan.admin"))
        .with("", el(Role::Cell, "Jordan Admin"))
        .with("", el(Role::Link, "casey.ops"))
}

/// The User Account Details window over User Management, with or without its API Keys section.
fn gtv_account_details(with_keys: bool) -> Page {
    let base = gtv_user_management();
    let d = base.model.elements.len();
    let page = base
        .with("details", labelled(Role::Dialog, "User Account Details"))
        .with("", in_dialog(d, heading("User Account Details", 2)))
        .with("details-close", in_dialog(d, labelled(Role::Button, "Close")))
        .with("", in_dialog(d, el(Role::Text, "Username: jordan.admin")))
        .with("", in_dialog(d, el(Role::Text, "Roles: Admin")));
    if with_keys {
        page.with("", in_dialog(d, heading("API Keys", 3)))
            .with("generate", in_dialog(d, el(Role::Button, "Generate key")))
            .with("", in_dialog(d, el(Role::Cell, "Name")))
            .with("", in_dialog(d, el(Role::Cell, "Selected API")))
            .with("", in_dialog(d, el(Role::Cell, "reporting-export")))
    } else {
        page
    }
}

/// The New API Key window over the account details.
fn gtv_new_key(name: bool, description: bool) -> Page {
    let base = gtv_account_details(true);
    let d = base.model.elements.len();
    let page = base
        .with("new-key", labelled(Role::Dialog, "New API Key"))
        .with("", in_dialog(d, heading("New API Key", 2)))
        .with("name", in_dialog(d, field("Name *", name)))
        .with("description", in_dialog(d, field("Description", description)))
        .with("available", in_dialog(d, labelled(Role::Listbox, "Available API")));
    let mut page = page;
    for set in ["Billing", "Dunning", "Revenue Management", "Configure Price Quote", "Currex", "Job Scheduler"] {
        page = page.with("", in_dialog(d, el(Role::Option, set)));
    }
    page.with("", in_dialog(d, labelled(Role::Button, "Move to Selected API")))
        .with("", in_dialog(d, labelled(Role::Button, "Move back to Available API")))
        .with("selected", in_dialog(d, labelled(Role::Listbox, "Selected API")))
        .with("", in_dialog(d, el(Role::Option, "Usage Processing")))
        .with("finish", in_dialog(d, el(Role::Button, "Finish")))
        .with("", in_dialog(d, el(Role::Button, "Cancel")))
}

/// The Save generated key window, over the account details, showing a key of `shape`.
fn gtv_key_shown(shape: SecretShape) -> Page {
    let base = gtv_account_details(true);
    let d = base.model.elements.len();
    base.with("key-window", labelled(Role::Dialog, "Save generated key"))
        .with("", in_dialog(d, heading("Save generated key", 2)))
        .with("", in_dialog(d, el(Role::Text, "Copy the key now. Once this window closes it cannot be shown again.")))
        .with("key", in_dialog(d, secret(shape)))
        .with("copy", in_dialog(d, el(Role::Button, "Copy to clipboard")))
        .with("", in_dialog(d, el(Role::Button, "Download")))
        .with("close", in_dialog(d, el(Role::Button, "Close")))
}

#[test]
fn gtv_recipe_serves_tenant_subdomains_only() {
    let catalog = Catalog::builtin().unwrap();
    let gtv = catalog.vendor("gotransverse").expect("Gotransverse recipe");
    assert_eq!(gtv.vendor.hosts, vec![HostPattern::Subdomains("gotransverse.com".into())]);
    for host in [GTV_HOST, "acme.gotransverse.com", "eu.billing.gotransverse.com"] {
        assert_eq!(catalog.for_host(host).map(|r| r.vendor.id.as_str()), Some("gotransverse"), "{host}");
    }
    for other in [
        "gotransverse.com",
        "partners.gotransverse.com.evil.test",
        "partners-gotransverse.test",
        "evilgotransverse.com",
        "gotransverse.co",
    ] {
        assert!(catalog.for_host(other).is_none(), "{other} must not be served");
    }
    let key = &gtv.key;
    assert!(key.accepts(GTV_KEY));
    assert!(key.accepts(&GTV_KEY.to_uppercase()));
    assert!(!key.accepts(&GTV_KEY[..31]));
    assert!(!key.accepts(PI_KEY), "a GUID is not a GTV key");
    assert!(!key.accepts("9f1c2b3a4d5e6f708192a3b4c5d6e7fz"));
    assert!(key.fits_shape(&hex32_shape()));
    assert!(!key.fits_shape(&guid_shape()));
}

#[test]
fn gtv_pages_and_steps_follow_the_flow() {
    let catalog = Catalog::builtin().unwrap();
    let gtv = catalog.vendor("gotransverse").unwrap();
    let pages: Vec<&str> = gtv.pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        pages,
        [
            "app-home",
            "app-menu",
            "admin",
            "user-management",
            "account-details-locked",
            "account-details",
            "new-key",
            "key-shown"
        ]
    );
    let steps: Vec<&str> = gtv.steps().map(|(_, s)| s.id.as_str()).collect();
    assert_eq!(
        steps,
        [
            "open-app-menu",
            "open-admin",
            "open-users",
            "open-username",
            "generate-key-unavailable",
            "generate-key",
            "name-key",
            "describe-key",
            "choose-apis",
            "finish-key",
            "save-key",
            "close-window"
        ]
    );
    let choose = gtv.steps().find(|(_, s)| s.id == "choose-apis").unwrap().1;
    for set in [
        "Billing",
        "Dunning",
        "Revenue Management",
        "Configure Price Quote",
        "Currex",
        "Job Scheduler",
        "Stored Value Service",
        "Tax Essentials",
        "Usage Processing",
    ] {
        assert!(choose.body.contains(set), "the API sets step names {set}");
    }
    let generate = gtv.steps().find(|(_, s)| s.id == "generate-key").unwrap().1;
    assert!(generate.missing.as_deref().unwrap().contains("Manage User API Key"));
}

#[test]
fn gtv_secrets_other_than_32_hex_digits_get_no_capture_mark() {
    for shape in [
        guid_shape(),
        SecretShape { len: 31, ..hex32_shape() },
        SecretShape { len: 32, lower: true, upper: true, digit: true, ..SecretShape::default() },
        SecretShape { symbols: "_".into(), ..hex32_shape() },
    ] {
        let page = gtv_key_shown(shape.clone());
        let mut ctrl = controller();
        assert_eq!(draw_of(&report_at(&mut ctrl, 1, &page.model, 0)).capture, None, "{shape:?}");
    }
}

#[test]
fn gtv_lookalike_hosts_get_nothing() {
    let catalog = Catalog::builtin().unwrap();
    for host in [
        "partners.gotransverse.com.evil.test",
        "partners-gotransverse.test",
        "gotransverse.com",
        "partners.gotransverse.co",
    ] {
        for page in [gtv_menu_open(), gtv_user_management(), gtv_new_key(false, false), gtv_key_shown(hex32_shape())] {
            let url = page.model.url.replace(GTV_HOST, host);
            let moved = page.moved_to(&url);
            assert_eq!(see(&catalog, &moved.model, &Progress::default()), Seen { page: None, step: None }, "{url}");
        }
    }
}

#[test]
fn gtv_missing_api_keys_section_is_explained_after_the_grace_period() {
    let mut ctrl = controller();
    let page = gtv_account_details(false);
    // Not a key page: by itself, nothing is drawn on a window without the API Keys section.
    let unasked = report_at(&mut ctrl, 1, &page.model, 0);
    assert!(panel_of(&unasked).is_none() && draw_of(&unasked).recheck_ms.is_none());
    // A guided admin is told what is missing.
    ctrl.handle_at(&popup(), Request::Resume { tab: 1 }, 10_000);
    let first = report_at(&mut ctrl, 2, &page.model, 10_000);
    assert_eq!(draw_of(&first).recheck_ms, Some(MISSING_GRACE_MS as u32));
    assert!(panel_of(&first).is_none(), "no explanation while the window may still be rendering");
    let later = report_at(&mut ctrl, 3, &page.model, 10_000 + MISSING_GRACE_MS);
    let view = panel_of(&later).expect("the panel explains what is missing");
    assert!(view.missing);
    assert_eq!(view.step, "generate-key-unavailable");
    assert!(view.body.contains("Manage User API Key"), "{}", view.body);
    assert!(draw_of(&later).highlight.is_none());
}

#[test]
fn gtv_late_api_keys_section_is_not_missing() {
    let mut ctrl = controller();
    report_at(&mut ctrl, 1, &gtv_account_details(false).model, 0);
    let out = report_at(&mut ctrl, 2, &gtv_account_details(true).model, 1_500);
    assert_eq!(draw_of(&out).highlight.as_ref().map(|m| m.step.as_str()), Some("generate-key"));
    assert!(ctrl.drift_events().is_empty());
}

#[test]
fn gtv_new_key_window_points_at_name_description_and_selected_api_fields() {
    let mut ctrl = controller();
    let page = gtv_new_key(true, true);
    let out = report_at(&mut ctrl, 1, &page.model, 0);
    let fields = &draw_of(&out).fields;
    assert_eq!(
        fields,
        &vec![
            FieldMark { name: FieldName::KeyName, element: page.idx("name") as u32, read: Read::Value },
            FieldMark { name: FieldName::Description, element: page.idx("description") as u32, read: Read::Value },
            FieldMark { name: FieldName::Scopes, element: page.idx("selected") as u32, read: Read::Items },
        ]
    );
}

#[test]
fn gtv_key_window_guards_its_close_button_and_the_window_behind() {
    let mut ctrl = controller();
    let page = gtv_key_shown(hex32_shape());
    let out = report_at(&mut ctrl, 3, &page.model, 0);
    let mark = draw_of(&out).capture.clone().expect("the key is on screen");
    assert_eq!((mark.key as usize, mark.copy.map(|c| c as usize)), (page.idx("key"), Some(page.idx("copy"))));
    assert_eq!(mark.vendor, "gotransverse");
    assert!(mark.guards.contains(&(page.idx("close") as u32)), "the window's own Close is guarded: {:?}", mark.guards);
    assert!(mark.guards.contains(&(page.idx("details-close") as u32)), "closing the window behind is guarded too");

    let fields = BTreeMap::from([
        (FieldName::KeyName, "billing-sync".to_string()),
        (FieldName::Scopes, "Billing, Usage Processing".to_string()),
    ]);
    let out = capture(&mut ctrl, &page.model, 3, GTV_KEY, fields);
    let captured = out.captured.expect("handed on");
    assert_eq!((captured.vendor.as_str(), captured.host.as_str()), ("gotransverse", GTV_HOST));
    assert_eq!(captured.fields.get(&FieldName::Scopes).map(String::as_str), Some("Billing, Usage Processing"));

    let out = capture(&mut ctrl, &page.model, 3, PI_KEY, BTreeMap::new());
    assert!(out.captured.is_none(), "a GUID is refused on the GTV key window");
}

#[test]
fn each_vendor_takes_only_its_own_key_shape() {
    let catalog = Catalog::builtin().unwrap();
    let pi_on_gtv = pi_user_detail(Some(guid_shape())).moved_to(&gtv("/administration/users/u-204"));
    let seen = see(&catalog, &pi_on_gtv.model, &Progress::default());
    assert_ne!(seen.page.as_deref(), Some("key-shown"), "a GUID is no GTV key");
    let gtv_on_pi = gtv_key_shown(hex32_shape()).moved_to(&pi("/admin/users"));
    let seen = see(&catalog, &gtv_on_pi.model, &Progress::default());
    assert_ne!(seen.page.as_deref(), Some("api-key-shown"), "a hex key is no PI key");
}
