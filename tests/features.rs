//! Recipe features beyond the PredictHQ flow: missing targets and drift, warnings, prerequisites, guards and key metadata.

mod common;

use common::*;
use keywarden::engine::controller::{Controller, MISSING_GRACE_MS};
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::{ErrorCode, FieldMark, Reply, Sender};
use keywarden::engine::recipe::{Catalog, FieldName, Read};
use keywarden::engine::secret::SecretString;
use std::collections::BTreeMap;

const RECIPE: &str = include_str!("data/recipes/features.toml");
const TENANT: &str = "https://acme.feature.test/users/7";
const HEX_KEY: &str = "0123456789abcdef0123456789abcdef";

fn feature_controller() -> Controller {
    Controller::new(Catalog::from_sources(&[("features.toml", RECIPE)]).expect("test recipe is valid"))
}

fn account_page(with_button: bool) -> PageModel {
    let mut elements = vec![el(Role::Heading, "User Account Details"), el(Role::Text, "Username: jo")];
    if with_button {
        elements.push(el(Role::Button, "Generate key"));
    }
    PageModel { url: TENANT.into(), title: String::new(), elements }
}

fn generated_page() -> PageModel {
    let hex = SecretShape { len: 32, lower: true, digit: true, hex: true, ..SecretShape::default() };
    PageModel {
        url: TENANT.into(),
        title: String::new(),
        elements: vec![
            Element { role: Some(Role::Dialog), label: "Save generated key".into(), ..Element::default() },
            Element { dialog: Some(0), ..el(Role::Text, "Name: billing-sync") },
            Element { dialog: Some(0), role: Some(Role::Text), secret: Some(hex), ..Element::default() },
            Element { dialog: Some(0), ..el(Role::Button, "Copy to clipboard") },
            Element { dialog: Some(0), ..el(Role::Button, "Download") },
            Element { dialog: Some(0), ..el(Role::Button, "Close") },
        ],
    }
}

fn sender() -> Sender {
    Sender::Content { tab: 1, frame: 0, url: TENANT.into() }
}

fn report_at(ctrl: &mut Controller, seq: u64, page: &PageModel, now: u64) -> keywarden::engine::controller::Outcome {
    ctrl.handle_at(&sender(), Request::Report { seq, page: page.clone(), panel: None }, now)
}

#[test]
fn anticipated_absence_is_explained_but_not_logged_as_drift() {
    let mut ctrl = feature_controller();
    let page = account_page(false);
    report_at(&mut ctrl, 1, &page, 0);
    let out = report_at(&mut ctrl, 2, &page, MISSING_GRACE_MS);
    assert!(reply_draw(&out).panel, "the panel shows the explanation without a highlight");
    assert!(pushed_panels(&out)[0].1.expect("explained").missing);
    assert!(ctrl.drift_events().is_empty(), "a step with a `missing` note expects its target may be absent");
}

#[test]
fn missing_target_waits_out_the_grace_period_then_explains_and_logs_drift_once() {
    // Without a `missing` note, an absent target is unexpected: the vendor changed the page.
    let recipe =
        RECIPE.replace("missing = \"No API Keys section: your role lacks the Manage User API Key authority.\"\n", "");
    assert_ne!(recipe, RECIPE);
    let mut ctrl = Controller::new(Catalog::from_sources(&[("features.toml", &recipe)]).unwrap());
    let page = account_page(false);
    let first = report_at(&mut ctrl, 1, &page, 1_000);
    assert_eq!(reply_draw(&first).recheck_ms, Some(MISSING_GRACE_MS as u32), "asks to look again later");
    assert_eq!(pushed_panels(&first), vec![(1, None)], "no panel while the page may still be rendering");

    let later = report_at(&mut ctrl, 2, &page, 1_000 + MISSING_GRACE_MS);
    let view = pushed_panels(&later)[0].1.expect("the panel explains what is missing").clone();
    assert!(view.missing);
    assert_eq!(view.step, "generate");
    assert!(view.body.contains("Generate key"), "says what to look for: {}", view.body);
    assert!(reply_draw(&later).highlight.is_none());

    report_at(&mut ctrl, 3, &page, 9_000);
    let Reply::Status { drift, .. } = ctrl.handle(&popup(), Request::Status { tab: Some(1) }).reply else { panic!() };
    assert_eq!(drift.len(), 1);
    assert_eq!((drift[0].vendor.as_str(), drift[0].step.as_str(), drift[0].count), ("featuretest", "generate", 1));
}

#[test]
fn a_target_that_appears_in_time_is_not_drift() {
    let mut ctrl = feature_controller();
    report_at(&mut ctrl, 1, &account_page(false), 0);
    let out = report_at(&mut ctrl, 2, &account_page(true), 1_000);
    assert_eq!(highlighted(reply_draw(&out)), Some("generate"));
    assert!(reply_draw(&out).recheck_ms.is_none());
    report_at(&mut ctrl, 3, &account_page(true), 10_000);
    assert!(ctrl.drift_events().is_empty());
}

#[test]
fn panel_carries_warning_and_prerequisites() {
    let mut ctrl = feature_controller();
    let out = report_at(&mut ctrl, 1, &account_page(true), 0);
    let view = pushed_panels(&out)[0].1.unwrap().clone();
    assert!(view.warning.unwrap().contains("selected APIs"));
    assert_eq!(view.prerequisites, ["Test role: Key Admin.".to_string()]);
    assert!(!view.missing);
}

#[test]
fn without_a_vault_the_prerequisites_say_so_first_and_with_one_they_do_not() {
    let mut ctrl = feature_controller();
    let out = report_at(&mut ctrl, 1, &account_page(true), 0);
    let view = pushed_panels(&out)[0].1.unwrap().clone();
    // The panel puts the missing vault first among them, in the vendor's word for a key.
    assert!(view.needs_vault);
    assert_eq!(view.key_label, "API key");

    ctrl.set_context(Default::default(), true);
    let out = report_at(&mut ctrl, 1, &account_page(true), 1);
    let view = pushed_panels(&out)[0].1.unwrap().clone();
    assert!(!view.needs_vault);
    assert_eq!(view.prerequisites, ["Test role: Key Admin.".to_string()]);
}

#[test]
fn capture_marks_guards_and_metadata_fields() {
    let mut ctrl = feature_controller();
    let out = report_at(&mut ctrl, 1, &generated_page(), 0);
    let draw = reply_draw(&out);
    let capture = draw.capture.as_ref().expect("key on screen");
    assert_eq!((capture.key, capture.copy, capture.guards.clone()), (2, Some(3), vec![5]));
    assert_eq!(draw.fields, vec![FieldMark { name: FieldName::KeyName, element: 1, read: Read::Text }]);
}

#[test]
fn captured_key_carries_vendor_host_and_fields_for_the_vault() {
    let mut ctrl = feature_controller();
    report_at(&mut ctrl, 1, &generated_page(), 0);
    let fields = BTreeMap::from([(FieldName::KeyName, "billing-sync".to_string())]);
    let out = ctrl.handle(&sender(), Request::Capture { seq: 1, key: SecretString::new(HEX_KEY.into()), fields });
    assert!(matches!(out.reply, Reply::Captured { .. }), "{:?}", out.reply);
    let captured = out.captured.expect("handed on to the vault");
    assert_eq!(captured.secret.expose(), HEX_KEY);
    assert_eq!(
        (captured.vendor.as_str(), captured.host.as_str(), captured.page_url.as_str()),
        ("featuretest", "acme.feature.test", TENANT)
    );
    assert_eq!(captured.fields.get(&FieldName::KeyName).map(String::as_str), Some("billing-sync"));
}

#[test]
fn metadata_holding_the_key_is_refused_and_nothing_is_handed_on() {
    let mut ctrl = feature_controller();
    report_at(&mut ctrl, 1, &generated_page(), 0);
    let fields = BTreeMap::from([(FieldName::Description, format!("copy of {HEX_KEY}"))]);
    let out = ctrl.handle(&sender(), Request::Capture { seq: 1, key: SecretString::new(HEX_KEY.into()), fields });
    let Reply::Error { code, message } = &out.reply else { panic!("{:?}", out.reply) };
    assert_eq!(*code, ErrorCode::Malformed);
    assert!(message.is("errFieldTooLong"), "{message:?}");
    assert!(!format!("{message:?}").contains(HEX_KEY));
    assert!(out.captured.is_none());
}

#[test]
fn hex_keys_with_other_letters_are_not_captured() {
    let mut ctrl = feature_controller();
    report_at(&mut ctrl, 1, &generated_page(), 0);
    let out = ctrl.handle(
        &sender(),
        Request::Capture {
            seq: 1,
            key: SecretString::new("0123456789abcdef0123456789abcdeg".into()),
            fields: BTreeMap::new(),
        },
    );
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Unexpected, .. }));
}

#[test]
fn predicthq_form_points_at_token_name_and_scopes() {
    let mut ctrl = controller();
    let page = token_form(true);
    let out = report(&mut ctrl, 1, 1, &page.model);
    let fields = &reply_draw(&out).fields;
    assert!(fields.contains(&FieldMark {
        name: FieldName::KeyName,
        element: page.idx("name") as u32,
        read: Read::Value
    }));
    assert!(fields.contains(&FieldMark {
        name: FieldName::Scopes,
        element: page.idx("scopes") as u32,
        read: Read::Checked
    }));
}
