//! What a tab remembers: a step the admin really performed there (a trusted click on its target) makes a key-shaped string right after it the key, and lets a page require an earlier step.

mod common;

use common::*;
use keywarden::engine::controller::Controller;
use keywarden::engine::page::{Element, Role};
use keywarden::engine::protocol::Reply;
use keywarden::engine::walkthrough::MEMORY_MS;

/// The token screen of a revision that says nothing around the token: only the string and a Copy button.
fn bare_token_screen() -> Page {
    Page::at(&url("/tokens"))
        .with("", el(Role::Heading, "Settings"))
        .with("key", secret(token_shape()))
        .with("copy", el(Role::Button, "Copy"))
}

fn report_at(ctrl: &mut Controller, seq: u64, page: &Page, now: u64) -> keywarden::engine::controller::Outcome {
    ctrl.handle_at(&content_on(1, &page.model), Request::Report { seq, page: page.model.clone(), panel: None }, now)
}

fn press_at(ctrl: &mut Controller, seq: u64, page: &Page, element: &str, now: u64) -> Reply {
    let element = page.idx(element) as u32;
    ctrl.handle_at(&content_on(1, &page.model), Request::Pressed { seq, element }, now).reply
}

/// Whether the save control is offered when `bare_token_screen` is reported at `now`.
fn offered_at(ctrl: &mut Controller, seq: u64, now: u64) -> bool {
    reply_draw(&report_at(ctrl, seq, &bare_token_screen(), now)).capture.is_some()
}

#[test]
fn unannounced_token_is_not_the_key_in_a_fresh_tab() {
    let mut ctrl = controller();
    assert!(!offered_at(&mut ctrl, 1, 0));
}

#[test]
fn unannounced_token_is_the_key_right_after_create_was_pressed() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    assert_eq!(press_at(&mut ctrl, 1, &form, "create", 1_000), Reply::Done);
    assert!(offered_at(&mut ctrl, 2, 2_000));
}

#[test]
fn a_press_on_something_no_step_points_at_is_forgotten() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "heading", 1_000);
    assert!(!offered_at(&mut ctrl, 2, 2_000));
}

#[test]
fn a_press_on_a_stale_report_is_forgotten() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    report_at(&mut ctrl, 2, &form, 500);
    // Element indexes of report 1 may point elsewhere in report 2.
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    assert!(!offered_at(&mut ctrl, 3, 2_000));
}

#[test]
fn a_press_out_of_range_is_forgotten_without_harm() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    let out = ctrl.handle_at(&content_on(1, &form.model), Request::Pressed { seq: 1, element: 9_999 }, 1_000);
    assert_eq!(out.reply, Reply::Done);
    assert!(!offered_at(&mut ctrl, 2, 2_000));
}

#[test]
fn the_memory_of_a_press_fades() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    assert!(!offered_at(&mut ctrl, 2, 1_000 + MEMORY_MS));
}

#[test]
fn memory_is_per_tab() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    let shown = bare_token_screen();
    let other_tab = ctrl.handle_at(
        &content_on(2, &shown.model),
        Request::Report { seq: 1, page: shown.model.clone(), panel: None },
        2_000,
    );
    assert!(reply_draw(&other_tab).capture.is_none());
}

#[test]
fn announced_token_needs_no_memory() {
    let mut ctrl = controller();
    let announced = Page::at(&url("/tokens"))
        .with("", el(Role::Heading, "Your new API token"))
        .with("key", secret(token_shape()))
        .with("copy", el(Role::Button, "Copy"));
    let out = report_at(&mut ctrl, 1, &announced, 0);
    assert_eq!(reply_draw(&out).capture.as_ref().map(|c| c.key), Some(announced.idx("key") as u32));
}

#[test]
fn a_labelled_field_holding_the_token_is_the_key() {
    let mut ctrl = controller();
    let page = Page::at(&url("/tokens"))
        .with("key", Element { secret: Some(token_shape()), ..labelled(Role::Textbox, "Access token") })
        .with("copy", el(Role::Button, "Copy"));
    assert!(reply_draw(&report_at(&mut ctrl, 1, &page, 0)).capture.is_some());
}

/// Predictive Index's user list: the same whether or not the admin just created a user there.
fn pi_users() -> Page {
    Page::at("https://app.predictiveindex.com/administration/users")
        .with("", el(Role::Heading, "User Management"))
        .with("create", el(Role::Button, "Create New User"))
        .with("", el(Role::Row, "Name Email Role"))
        .with("name", el(Role::Cell, "Name"))
        .with("", el(Role::Link, "Data Manager"))
}

fn pi_new_user_form() -> Page {
    Page::at("https://app.predictiveindex.com/administration/users/new")
        .with("", el(Role::Heading, "Create New User"))
        .with("", field("First Name", true))
        .with("", field("Email", true))
        .with("submit", el(Role::Button, "Create User"))
}

fn step_shown(out: &keywarden::engine::controller::Outcome) -> Option<String> {
    reply_draw(out).highlight.as_ref().map(|m| m.step.clone())
}

#[test]
fn pi_user_list_right_after_create_user_points_at_the_new_user_without_a_notice() {
    let mut ctrl = controller();
    let form = pi_new_user_form();
    report_at(&mut ctrl, 1, &form, 0);
    ctrl.handle(&popup(), Request::Resume { tab: 1 });
    press_at(&mut ctrl, 1, &form, "submit", 1_000);
    let out = report_at(&mut ctrl, 2, &pi_users(), 2_000);
    assert_eq!(step_shown(&out).as_deref(), Some("open-created-user"));
}

#[test]
fn pi_user_list_without_create_user_in_this_tab_asks_to_create_one() {
    let mut ctrl = controller();
    report_at(&mut ctrl, 1, &pi_users(), 0);
    ctrl.handle(&popup(), Request::Resume { tab: 1 });
    let out = report_at(&mut ctrl, 2, &pi_users(), 1_000);
    assert_eq!(step_shown(&out).as_deref(), Some("create-user"));
}

/// Right after Create, a page of several unannounced token-shaped strings (a list of record ids)
/// offers none of them: "just generated" stands for the one string on the page.
#[test]
fn several_unannounced_strings_after_create_are_none_of_them_the_key() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    let list = Page::at(&url("/tokens"))
        .with("", el(Role::Heading, "Settings"))
        .with("one", secret(token_shape()))
        .with("two", secret(token_shape()))
        .with("copy", el(Role::Button, "Copy"));
    assert!(reply_draw(&report_at(&mut ctrl, 2, &list, 2_000)).capture.is_none());
}

/// Right after Create, a string its label names as something else ("Signing key ID") is not the
/// key, even when it is the only one.
#[test]
fn a_string_labelled_as_another_thing_is_not_the_key_after_create() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    for label in ["Signing key ID", "Token name", "Client ID", "ID"] {
        let page = Page::at(&url("/tokens"))
            .with("", el(Role::Heading, "Settings"))
            .with("", el(Role::Label, label))
            .with("key", secret(token_shape()))
            .with("copy", el(Role::Button, "Copy"));
        assert!(reply_draw(&report_at(&mut ctrl, 2, &page, 2_000)).capture.is_none(), "{label}");
    }
}

/// Once the key is saved, the tab forgets that it generated one: a later page of the console with
/// an unannounced string offers nothing.
#[test]
fn a_saved_key_ends_the_just_generated_memory() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    assert!(offered_at(&mut ctrl, 2, 2_000));
    ctrl.saved(1, "predicthq", "warehouse-sync".into(), "…J4hs".into(), 3_000);
    assert!(!offered_at(&mut ctrl, 3, 4_000));
}

/// Right after Create, the one token-shaped string under a short label that is not the token's
/// name but names nothing else either ("Secret") is the new token.
#[test]
fn a_lone_string_under_a_generic_label_is_the_key_after_create() {
    let mut ctrl = controller();
    let form = token_form(true);
    report_at(&mut ctrl, 1, &form, 0);
    press_at(&mut ctrl, 1, &form, "create", 1_000);
    let page = Page::at(&url("/tokens"))
        .with("", el(Role::Heading, "Settings"))
        .with("", el(Role::Label, "Secret"))
        .with("key", secret(token_shape()))
        .with("copy", el(Role::Button, "Copy"));
    assert!(reply_draw(&report_at(&mut ctrl, 2, &page, 2_000)).capture.is_some());
    let mut fresh = controller();
    assert!(reply_draw(&report_at(&mut fresh, 1, &page, 0)).capture.is_none(), "not in a tab that generated nothing");
}
