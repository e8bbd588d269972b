//! Tenants where a host is shared: Predictive Index's Sandbox and Production accounts share one host, so the account the page names is the key's tenant, and a new key replaces a previous one only within a named account.

mod common;

use common::*;
use keywarden::engine::controller::Controller;
use keywarden::engine::page::{Element, Role, SecretShape};
use keywarden::engine::recipe::FieldName;
use keywarden::engine::secret::SecretString;
use std::collections::BTreeMap;

const KEY: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const HOST: &str = "app.predictiveindex.com";

/// A user's details right after Generate New Key, with the account badge `account` (if any).
fn user_key_shown(account: Option<&str>) -> Page {
    let mut page = Page::at(&format!("https://{HOST}/administration/users/42"));
    if let Some(account) = account {
        page = page.with("account", Element { label: "Current account".into(), ..el(Role::Button, account) });
    }
    page.with("", el(Role::Heading, "Data Manager"))
        .with("email", Element { filled: Some(true), ..labelled(Role::Textbox, "Email") })
        .with("", el(Role::Label, "API Key"))
        .with("key", Element { secret: Some(SecretShape::of(KEY)), ..labelled(Role::Textbox, "API Key") })
        .with("copy", el(Role::Button, "Copy"))
        .with("", el(Role::Button, "Cancel"))
}

/// Reports `page`, then captures the key with the fields the worker pointed at, as the content
/// script would read them (the account badge's text as the tenant).
fn capture(page: &Page, account: Option<&str>) -> keywarden::engine::controller::CapturedKey {
    let mut ctrl: Controller = controller();
    let out = report(&mut ctrl, 1, 1, &page.model);
    let fields = &reply_draw(&out).fields;
    let mut values = BTreeMap::from([(FieldName::Account, "data.manager@example.com".to_string())]);
    if let (Some(account), true) = (account, fields.iter().any(|f| f.name == FieldName::Tenant)) {
        values.insert(FieldName::Tenant, account.to_string());
    }
    let out = ctrl.handle(
        &content_on(1, &page.model),
        Request::Capture { seq: 1, key: SecretString::new(KEY.into()), fields: values },
    );
    out.captured.unwrap_or_else(|| panic!("captured: {:?}", out.reply))
}

#[test]
fn the_account_the_page_names_is_the_tenant_and_its_previous_key_is_replaced() {
    let captured = capture(&user_key_shown(Some("Acme Corp (Sandbox)")), Some("Acme Corp (Sandbox)"));
    assert_eq!(captured.tenant, format!("{HOST}/Acme Corp (Sandbox)"));
    assert!(captured.replaces_previous);
}

#[test]
fn without_a_named_account_the_tenant_is_the_host_and_nothing_is_replaced() {
    // Sandbox or Production cannot be told apart: marking another key replaced could be wrong.
    let captured = capture(&user_key_shown(None), None);
    assert_eq!(captured.tenant, HOST);
    assert!(!captured.replaces_previous);
}

#[test]
fn the_worker_points_at_the_account_badge_as_the_tenant_field() {
    let page = user_key_shown(Some("Acme Corp"));
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &page.model);
    let tenant = reply_draw(&out).fields.iter().find(|f| f.name == FieldName::Tenant).map(|f| f.element);
    assert_eq!(tenant, Some(page.idx("account") as u32));
}
