//! Where the walkthrough appears: by itself only on key pages, elsewhere when the admin asked for it; "not now", "don't guide me", the note after a save, and the toolbar badge.

mod common;

use common::*;
use keywarden::engine::controller::{Badge, Controller};
use keywarden::engine::protocol::{Guidance, Reply};
use keywarden::engine::walkthrough::Event;

fn press(ctrl: &mut Controller, tab: u32, event: Event) -> keywarden::engine::controller::Outcome {
    ctrl.handle(&panel(tab), Request::Panel { event })
}

/// The step shown after reporting `page`, if any.
fn shown(ctrl: &mut Controller, tab: u32, seq: u64, page: &Page) -> Option<String> {
    let out = report(ctrl, tab, seq, &page.model);
    let draw = reply_draw(&out);
    assert_eq!(draw.panel, draw.highlight.is_some() || pushed_panels(&out)[0].1.is_some());
    pushed_panels(&out)[0].1.map(|v| v.step.clone())
}

#[test]
fn an_unrelated_console_page_draws_nothing_by_itself() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &dashboard().model);
    let draw = reply_draw(&out);
    assert!(draw.highlight.is_none() && !draw.panel && draw.pill.is_none(), "{draw:?}");
    assert_eq!(pushed_panels(&out)[0].1, None);
    // ...but the toolbar says keywarden can guide here.
    assert_eq!(ctrl.take_badges(), [(1, Badge::Guide)]);
}

#[test]
fn key_pages_show_the_walkthrough_by_themselves() {
    for (page, step) in
        [(token_list(), "new-token"), (token_form(true), "choose-scopes"), (token_shown(), "copy-token")]
    {
        let mut ctrl = controller();
        assert_eq!(shown(&mut ctrl, 1, 1, &page).as_deref(), Some(step));
    }
}

#[test]
fn asking_for_the_walkthrough_starts_it_anywhere_and_it_follows_across_pages_and_reloads() {
    let mut ctrl = controller();
    assert_eq!(shown(&mut ctrl, 1, 1, &dashboard()), None);
    let out = ctrl.handle(&popup(), Request::Resume { tab: 1 });
    assert_eq!(out.reply, Reply::Done);
    assert_eq!(pushed_panels(&out)[0].1.map(|v| v.step.as_str()), Some("open-tokens"));
    assert_eq!(ctrl.progress(1).unwrap().guide.as_deref(), Some("predicthq"));
    // Another page of the console, then a reload of it (report numbers start again): still guided.
    let events = dashboard().moved_to(&url("/events"));
    assert_eq!(shown(&mut ctrl, 1, 2, &events).as_deref(), Some("open-tokens"));
    assert_eq!(shown(&mut ctrl, 1, 1, &events).as_deref(), Some("open-tokens"));
    assert_eq!(shown(&mut ctrl, 1, 2, &token_form(false)).as_deref(), Some("name-token"));
    // Another tab is not guided.
    assert_eq!(shown(&mut ctrl, 2, 1, &dashboard()), None);
}

#[test]
fn not_now_lasts_for_this_page_visit_only() {
    let mut ctrl = controller();
    assert!(shown(&mut ctrl, 1, 1, &token_list()).is_some());
    let out = press(&mut ctrl, 1, Event::Dismiss);
    assert_eq!(pushed_panels(&out)[0].1, None);
    // The same visit (the page changes, the URL does not): still away.
    assert_eq!(shown(&mut ctrl, 1, 2, &token_form(true)), None);
    // A filter in the query is the same visit too.
    assert_eq!(shown(&mut ctrl, 1, 3, &token_list().moved_to(&url("/tokens?sort=name"))), None);
    // Leaving and coming back is a new visit.
    assert_eq!(shown(&mut ctrl, 1, 4, &dashboard()), None);
    assert_eq!(shown(&mut ctrl, 1, 5, &token_list()).as_deref(), Some("new-token"));
    // So is a reload.
    press(&mut ctrl, 1, Event::Dismiss);
    assert_eq!(shown(&mut ctrl, 1, 6, &token_list()), None);
    assert_eq!(shown(&mut ctrl, 1, 1, &token_list()).as_deref(), Some("new-token"));
}

#[test]
fn not_now_stops_a_guided_walkthrough() {
    let mut ctrl = controller();
    shown(&mut ctrl, 1, 1, &dashboard());
    ctrl.handle(&popup(), Request::Resume { tab: 1 });
    press(&mut ctrl, 1, Event::Dismiss);
    assert_eq!(ctrl.progress(1).unwrap().guide, None);
    assert_eq!(shown(&mut ctrl, 1, 2, &dashboard().moved_to(&url("/events"))), None);
}

#[test]
fn escape_on_the_page_is_not_now_for_the_current_report_only() {
    let mut ctrl = controller();
    shown(&mut ctrl, 1, 7, &token_list());
    // A stale report number (the page moved on meanwhile) changes nothing.
    let out = ctrl.handle(&content_on(1, &token_list().model), Request::Dismiss { seq: 6 });
    assert!(out.pushes.is_empty());
    let out = ctrl.handle(&content_on(1, &token_list().model), Request::Dismiss { seq: 7 });
    assert_eq!(pushed_panels(&out)[0].1, None);
    assert!(pushed_draws(&out)[0].1.highlight.is_none());
}

#[test]
fn dont_guide_me_is_handed_to_the_settings_and_keeps_key_pages_quiet_but_the_save_control_stays() {
    let mut ctrl = controller();
    shown(&mut ctrl, 1, 1, &token_list());
    let out = press(&mut ctrl, 1, Event::Quiet);
    assert_eq!(out.guidance, Some(("predicthq".to_string(), false)));
    // The service keeps it in the settings and hands it back on every event.
    let mut ctrl = controller();
    ctrl.set_context(["predicthq".to_string()].into(), true);
    assert_eq!(shown(&mut ctrl, 2, 1, &token_list()), None);
    let out = report(&mut ctrl, 2, 2, &token_shown().model);
    let draw = reply_draw(&out);
    assert!(draw.highlight.is_none() && !draw.panel);
    assert!(draw.capture.is_some(), "a key on screen is still offered for saving");
    // Asked for explicitly, it still guides.
    ctrl.handle(&popup(), Request::Resume { tab: 2 });
    assert_eq!(ctrl.panel_view(2, 0).map(|v| v.step), Some("copy-token".to_string()));
}

#[test]
fn the_options_switch_brings_a_vendor_back() {
    let mut ctrl = controller();
    ctrl.set_context(["predicthq".to_string()].into(), true);
    let out = ctrl.handle(&options(), Request::Guidance);
    let Reply::Guidance { vendors } = out.reply else { panic!("{:?}", out.reply) };
    let phq = Guidance { vendor: "predicthq".into(), name: "PredictHQ".into(), on: false };
    assert!(vendors.contains(&phq), "{vendors:?}");
    assert_eq!(vendors.len(), 4);
    let out = ctrl.handle(&options(), Request::SetGuidance { vendor: "predicthq".into(), on: true });
    assert_eq!(out.guidance, Some(("predicthq".to_string(), true)));
    assert_eq!(shown(&mut ctrl, 1, 1, &token_list()).as_deref(), Some("new-token"));
    // The popup may not switch it; an unknown vendor is refused.
    let out = ctrl.handle(&popup(), Request::SetGuidance { vendor: "predicthq".into(), on: false });
    assert!(matches!(out.reply, Reply::Error { .. }) && out.guidance.is_none());
    let out = ctrl.handle(&options(), Request::SetGuidance { vendor: "nobody".into(), on: false });
    assert!(matches!(out.reply, Reply::Error { .. }) && out.guidance.is_none());
}

#[test]
fn after_a_save_the_panel_says_what_was_kept_then_closes_and_the_flow_does_not_restart() {
    let mut ctrl = controller();
    ctrl.set_context(Default::default(), true);
    shown(&mut ctrl, 1, 1, &dashboard());
    ctrl.handle(&popup(), Request::Resume { tab: 1 });
    assert_eq!(shown(&mut ctrl, 1, 2, &token_shown()).as_deref(), Some("copy-token"));
    assert_eq!(ctrl.take_badges().last(), Some(&(1, Badge::Key)));

    let pushes = ctrl.saved(1, "predicthq", "warehouse-sync".into(), "…J4hs".into(), 0);
    let view = pushes
        .iter()
        .find_map(|(_, p)| match p {
            keywarden::engine::protocol::Push::Panel { view } => view.clone(),
            _ => None,
        })
        .expect("the panel stays to say what was saved");
    let note = view.saved.as_ref().expect("a saved note");
    assert_eq!((note.name.as_str(), note.hint.as_str()), ("warehouse-sync", "…J4hs"));
    assert!(view.title.contains("warehouse-sync") && view.title.contains("…J4hs"), "{}", view.title);
    assert!(view.body.contains("test it") && view.body.contains("use it"), "{}", view.body);
    assert!(!view.body.contains("Zq7"), "never the key itself");
    assert_eq!(ctrl.take_badges().last(), Some(&(1, Badge::Guide)), "the key on screen is saved");
    assert_eq!(ctrl.progress(1).unwrap().guide, None, "the guided walkthrough ended");

    let out = press(&mut ctrl, 1, Event::Close);
    assert_eq!(pushed_panels(&out)[0].1, None);
    // Back on the token list (a key page): it does not start again by itself in this tab.
    assert_eq!(shown(&mut ctrl, 1, 3, &token_list()), None);
    // Another tab, or asking again, does.
    assert_eq!(shown(&mut ctrl, 2, 1, &token_list()).as_deref(), Some("new-token"));
    ctrl.handle(&popup(), Request::Resume { tab: 1 });
    assert_eq!(ctrl.panel_view(1, 0).map(|v| v.step), Some("new-token".to_string()));
}

#[test]
fn without_a_vault_the_save_control_knows_before_the_click_and_can_open_setup() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_shown().model);
    assert!(!reply_draw(&out).capture.as_ref().unwrap().vault);
    let view = pushed_panels(&out)[0].1.unwrap().clone();
    assert!(view.needs_vault);
    let out = ctrl.handle(&content_on(1, &token_shown().model), Request::OpenSetup);
    assert!(out.open_options);
    ctrl.set_context(Default::default(), true);
    let out = report(&mut ctrl, 1, 2, &token_shown().model);
    assert!(reply_draw(&out).capture.as_ref().unwrap().vault);
}

#[test]
fn badges_say_what_keywarden_can_do_in_each_tab() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &dashboard().model);
    report(&mut ctrl, 2, 1, &token_shown().model);
    let unrelated = Page::at("https://example.test/").with("", el(keywarden::engine::page::Role::Heading, "Hello"));
    report(&mut ctrl, 3, 1, &unrelated.model);
    assert_eq!(ctrl.take_badges(), [(1, Badge::Guide), (2, Badge::Key), (3, Badge::None)]);
    assert!(ctrl.take_badges().is_empty());
}

#[test]
fn the_pill_label_names_the_vendor_and_the_step() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_list().model);
    let pill = reply_draw(&out).pill.clone().expect("the pill's words");
    assert_eq!((pill.vendor_name.as_str(), pill.position, pill.total, pill.saved), ("PredictHQ", 2, 6, false));
}

#[test]
fn asking_while_the_page_is_still_loading_guides_once_it_is_recognized() {
    let mut ctrl = controller();
    let loading = Page::at(&url("/")).with("", el(keywarden::engine::page::Role::Text, "Loading…"));
    assert_eq!(shown(&mut ctrl, 1, 1, &loading), None);
    assert_eq!(ctrl.handle(&popup(), Request::Resume { tab: 1 }).reply, Reply::Done);
    assert_eq!(shown(&mut ctrl, 1, 2, &dashboard()).as_deref(), Some("open-tokens"));
}

#[test]
fn asking_on_a_site_without_a_walkthrough_says_so() {
    let mut ctrl = controller();
    let other = Page::at("https://example.test/").with("", el(keywarden::engine::page::Role::Heading, "Hello"));
    report(&mut ctrl, 1, 1, &other.model);
    assert!(matches!(ctrl.handle(&popup(), Request::Resume { tab: 1 }).reply, Reply::Error { .. }));
}

#[test]
fn the_note_after_a_save_ends_when_the_admin_leaves_the_page() {
    let mut ctrl = controller();
    ctrl.set_context(Default::default(), true);
    shown(&mut ctrl, 1, 1, &token_shown());
    ctrl.saved(1, "predicthq", "warehouse-sync".into(), "…J4hs".into(), 0);
    assert_eq!(ctrl.panel_view(1, 0).map(|v| v.step), Some("saved".to_string()));
    // A reload: the note is gone, and the walkthrough does not start again by itself.
    assert_eq!(shown(&mut ctrl, 1, 1, &token_list()), None);
    assert!(ctrl.progress(1).unwrap().saved.is_none());
}
