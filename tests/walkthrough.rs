//! Walkthrough transitions driven through the controller: Next, Back, Dismiss, Escape and Resume, per tab.

mod common;

use common::*;
use keywarden::engine::controller::{Controller, Outcome};
use keywarden::engine::page::Role;
use keywarden::engine::protocol::{ErrorCode, ExtensionPage, PanelView, Push, Reply, Sender, TabStatus};
use keywarden::engine::walkthrough::{Event, Progress};

fn press(ctrl: &mut Controller, tab: u32, event: Event) -> Outcome {
    ctrl.handle(&panel(tab), Request::Panel { event })
}

/// Checks an outcome is a plain acknowledgement that pushed a fresh draw and panel to `tab`,
/// and returns the highlighted step and the panel view.
fn refreshed(out: &Outcome, tab: u32) -> (Option<String>, Option<PanelView>) {
    assert_eq!(out.reply, Reply::Done);
    let draws = pushed_draws(out);
    let panels = pushed_panels(out);
    assert_eq!((draws.len(), panels.len()), (1, 1), "one draw and one panel update expected: {:?}", out.pushes);
    assert!(out.pushes.iter().all(|(t, _)| *t == tab), "pushes to another tab: {:?}", out.pushes);
    (highlighted(draws[0].1).map(str::to_string), panels[0].1.cloned())
}

fn current_step(ctrl: &mut Controller, tab: u32) -> Option<String> {
    ctrl.panel_view(tab, 0).map(|v| v.step)
}

#[test]
fn next_acknowledges_choose_scopes_and_moves_to_create_token() {
    let mut ctrl = controller();
    let page = token_form(true);
    let out = report(&mut ctrl, 1, 1, &page.model);
    assert_eq!(highlighted(reply_draw(&out)), Some("choose-scopes"));

    let out = press(&mut ctrl, 1, Event::Next);
    let (step, view) = refreshed(&out, 1);
    assert_eq!(step.as_deref(), Some("create-token"));
    let view = view.expect("panel shown");
    assert_eq!((view.step.as_str(), view.position, view.can_back), ("create-token", 5, true));
    let (_, draw) = pushed_draws(&out)[0];
    assert_eq!(draw.seq, 1, "indexes must refer to the last report");
    assert_eq!(draw.highlight.as_ref().unwrap().element as usize, page.idx("create"));
    assert_eq!(ctrl.progress(1).unwrap().acked, ["choose-scopes"]);
}

#[test]
fn filling_the_name_field_completes_its_step_without_next() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_form(false).model);
    assert_eq!(highlighted(reply_draw(&out)), Some("name-token"));
    let out = report(&mut ctrl, 1, 2, &token_form(true).model);
    assert_eq!(highlighted(reply_draw(&out)), Some("choose-scopes"));
    assert!(ctrl.progress(1).unwrap().acked.is_empty());
}

#[test]
fn next_on_an_empty_name_field_moves_on_anyway() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(false).model);
    let (step, _) = refreshed(&press(&mut ctrl, 1, Event::Next), 1);
    assert_eq!(step.as_deref(), Some("choose-scopes"));
}

#[test]
fn back_returns_to_a_step_that_is_already_done() {
    let mut ctrl = controller();
    let page = token_form(true);
    report(&mut ctrl, 1, 1, &page.model);
    let out = press(&mut ctrl, 1, Event::Back);
    let (step, view) = refreshed(&out, 1);
    // The name field is filled, so name-token is done; Back still shows it.
    assert_eq!(step.as_deref(), Some("name-token"));
    let view = view.unwrap();
    assert_eq!((view.step.as_str(), view.position, view.can_back), ("name-token", 3, false));
    assert_eq!(pushed_draws(&out)[0].1.highlight.as_ref().unwrap().element as usize, page.idx("name"));
    assert_eq!(ctrl.progress(1).unwrap().forced.as_deref(), Some("name-token"));

    // A new report of the same page keeps the step brought back.
    let out = report(&mut ctrl, 1, 2, &page.model);
    assert_eq!(highlighted(reply_draw(&out)), Some("name-token"));
}

#[test]
fn back_undoes_the_last_next() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    press(&mut ctrl, 1, Event::Next);
    assert_eq!(current_step(&mut ctrl, 1).as_deref(), Some("create-token"));
    let (step, view) = refreshed(&press(&mut ctrl, 1, Event::Back), 1);
    assert_eq!(step.as_deref(), Some("choose-scopes"));
    assert!(view.unwrap().can_back);
    assert!(ctrl.progress(1).unwrap().acked.is_empty(), "Back withdraws the acknowledgement");
}

#[test]
fn next_after_back_moves_forward_again() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    press(&mut ctrl, 1, Event::Back);
    let (step, _) = refreshed(&press(&mut ctrl, 1, Event::Next), 1);
    assert_eq!(step.as_deref(), Some("choose-scopes"));
    assert_eq!(ctrl.progress(1).unwrap().forced, None);
}

#[test]
fn back_at_the_first_step_does_nothing() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_form(false).model);
    let view = pushed_panels(&out)[0].1.cloned().unwrap();
    assert_eq!((view.step.as_str(), view.can_back), ("name-token", false));

    let before = ctrl.progress(1).cloned();
    let out = press(&mut ctrl, 1, Event::Back);
    assert_eq!(out.reply, Reply::Done);
    assert!(out.pushes.is_empty(), "nothing changed, nothing to push: {:?}", out.pushes);
    assert_eq!(ctrl.progress(1).cloned(), before);
    assert_eq!(current_step(&mut ctrl, 1).as_deref(), Some("name-token"));
}

#[test]
fn single_step_pages_cannot_go_back_nor_next() {
    let mut ctrl = controller();
    ctrl.restore(1, Progress { guide: Some("predicthq".into()), ..Progress::default() });
    for (seq, page) in [dashboard(), token_list(), token_shown()].iter().enumerate() {
        let out = report(&mut ctrl, 1, seq as u64 + 1, &page.model);
        let view = pushed_panels(&out)[0].1.unwrap().clone();
        assert!(!view.can_back && !view.can_next, "{}", view.step);
        assert!(press(&mut ctrl, 1, Event::Back).pushes.is_empty());
    }
}

#[test]
fn dismiss_hides_highlight_and_panel() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    let out = press(&mut ctrl, 1, Event::Dismiss);
    let (step, view) = refreshed(&out, 1);
    assert_eq!((step, view), (None, None));
    assert!(out.pushes.contains(&(1, Push::Panel { view: None })));
    assert!(ctrl.progress(1).unwrap().dismissed.is_some());

    // Later reports in that tab stay quiet, and Next or Back do nothing while dismissed.
    let out = report(&mut ctrl, 1, 2, &token_form(false).model);
    assert_eq!(highlighted(reply_draw(&out)), None);
    assert_eq!(out.pushes, vec![(1, Push::Panel { view: None })]);
    for event in [Event::Next, Event::Back, Event::Dismiss] {
        let out = press(&mut ctrl, 1, event);
        assert!(pushed_draws(&out).iter().all(|(_, d)| d.highlight.is_none()), "{event:?} revealed a highlight");
        assert!(pushed_panels(&out).iter().all(|(_, v)| v.is_none()), "{event:?} revealed the panel");
    }
    assert_eq!(ctrl.panel_view(1, 0), None);
}

#[test]
fn capture_mark_survives_dismissal() {
    let mut ctrl = controller();
    let page = token_shown();
    let out = report(&mut ctrl, 1, 1, &page.model);
    let mark = reply_draw(&out).capture.clone().expect("capture mark before dismissal");

    let out = press(&mut ctrl, 1, Event::Dismiss);
    let (_, draw) = pushed_draws(&out)[0];
    assert_eq!(draw.highlight, None);
    assert_eq!(draw.capture.as_ref(), Some(&mark));
    assert_eq!(mark.key as usize, page.idx("key"));

    let out = report(&mut ctrl, 1, 2, &page.model);
    assert_eq!(reply_draw(&out).capture.as_ref().map(|c| c.key), Some(mark.key));
}

#[test]
fn resume_from_the_popup_restores_the_walkthrough() {
    let mut ctrl = controller();
    let page = token_form(true);
    report(&mut ctrl, 4, 1, &page.model);
    press(&mut ctrl, 4, Event::Dismiss);

    let out = ctrl.handle(&popup(), Request::Resume { tab: 4 });
    let (step, view) = refreshed(&out, 4);
    assert_eq!(step.as_deref(), Some("choose-scopes"));
    assert_eq!(view.unwrap().step, "choose-scopes");
    assert!(ctrl.progress(4).unwrap().dismissed.is_none());
}

#[test]
fn resume_from_the_options_page_works_too() {
    let mut ctrl = controller();
    report(&mut ctrl, 4, 1, &token_form(true).model);
    press(&mut ctrl, 4, Event::Dismiss);
    let options = Sender::Page { page: ExtensionPage::Options, tab: None };
    let (step, _) = refreshed(&ctrl.handle(&options, Request::Resume { tab: 4 }), 4);
    assert_eq!(step.as_deref(), Some("choose-scopes"));
}

#[test]
fn resume_from_the_panel_is_refused() {
    let mut ctrl = controller();
    report(&mut ctrl, 4, 1, &token_form(true).model);
    press(&mut ctrl, 4, Event::Dismiss);
    for request in [Request::Panel { event: Event::Resume }, Request::Resume { tab: 4 }] {
        let out = ctrl.handle(&panel(4), request);
        // Refused: forbidden to the panel, or not even a word of the panel's vocabulary.
        assert!(
            matches!(out.reply, Reply::Error { code: ErrorCode::Forbidden | ErrorCode::Malformed, .. }),
            "{:?}",
            out.reply
        );
        assert!(out.pushes.is_empty());
    }
    assert!(ctrl.progress(4).unwrap().dismissed.is_some());
}

#[test]
fn resume_of_a_tab_never_reported_is_unexpected() {
    let mut ctrl = controller();
    let out = ctrl.handle(&popup(), Request::Resume { tab: 99 });
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Unexpected, .. }), "{:?}", out.reply);
    assert!(out.pushes.is_empty());
}

#[test]
fn content_scripts_cannot_steer_the_walkthrough() {
    // Escape is handled by the step panel, which sends Dismiss itself; a page script must not.
    let mut ctrl = controller();
    report(&mut ctrl, 2, 1, &token_form(true).model);
    let top = content(2);
    let sub = Sender::Content { tab: 2, frame: 5, url: url("/tokens") };
    for sender in [&top, &sub] {
        for event in [Event::Dismiss, Event::Next, Event::Back, Event::Resume] {
            let out = ctrl.handle(sender, Request::Panel { event });
            assert!(
                matches!(out.reply, Reply::Error { code: ErrorCode::Forbidden | ErrorCode::Malformed, .. }),
                "{event:?}: {:?}",
                out.reply
            );
            assert!(out.pushes.is_empty());
        }
    }
    assert!(ctrl.progress(2).unwrap().dismissed.is_none());
    assert_eq!(current_step(&mut ctrl, 2).as_deref(), Some("choose-scopes"));
}

#[test]
fn panel_without_a_tab_cannot_steer_any_walkthrough() {
    let mut ctrl = controller();
    report(&mut ctrl, 2, 1, &token_form(true).model);
    let loose_panel = Sender::Page { page: ExtensionPage::Panel, tab: None };
    let out = ctrl.handle(&loose_panel, Request::Panel { event: Event::Dismiss });
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Forbidden, .. }), "{:?}", out.reply);
    assert!(ctrl.progress(2).unwrap().dismissed.is_none());
}

#[test]
fn moving_to_another_page_resets_acks() {
    let mut ctrl = controller();
    let form = token_form(true);
    report(&mut ctrl, 1, 1, &form.model);
    press(&mut ctrl, 1, Event::Next);
    assert_eq!(current_step(&mut ctrl, 1).as_deref(), Some("create-token"));

    let out = report(&mut ctrl, 1, 2, &token_list().model);
    assert_eq!(highlighted(reply_draw(&out)), Some("new-token"));
    let progress = ctrl.progress(1).unwrap();
    assert_eq!(progress.page.as_deref(), Some("predicthq/token-list"));
    assert!(progress.acked.is_empty());

    let out = report(&mut ctrl, 1, 3, &form.model);
    assert_eq!(highlighted(reply_draw(&out)), Some("choose-scopes"), "the old acknowledgement must not carry over");
}

#[test]
fn moving_to_another_page_drops_a_step_brought_back() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    press(&mut ctrl, 1, Event::Back);
    report(&mut ctrl, 1, 2, &dashboard().model);
    assert_eq!(ctrl.progress(1).unwrap().forced, None);
    let out = report(&mut ctrl, 1, 3, &token_form(true).model);
    assert_eq!(highlighted(reply_draw(&out)), Some("choose-scopes"));
}

#[test]
fn reporting_the_same_page_again_keeps_acks() {
    let mut ctrl = controller();
    let form = token_form(true);
    report(&mut ctrl, 1, 1, &form.model);
    press(&mut ctrl, 1, Event::Next);
    let out = report(&mut ctrl, 1, 2, &form.model);
    assert_eq!(highlighted(reply_draw(&out)), Some("create-token"));
    assert_eq!(reply_draw(&out).seq, 2);
}

#[test]
fn next_on_the_last_step_keeps_the_panel_and_never_just_hides_it() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_form(true).model);
    assert!(pushed_panels(&out)[0].1.unwrap().can_next, "choose-scopes has create-token after it");
    press(&mut ctrl, 1, Event::Next);
    let view = ctrl.panel_view(1, 0).expect("create-token shown");
    assert_eq!((view.step.as_str(), view.can_next), ("create-token", false));
    // Next on the last step would only hide the panel: nothing happens, the page moves on by itself.
    assert!(press(&mut ctrl, 1, Event::Next).pushes.is_empty());
    assert_eq!(current_step(&mut ctrl, 1).as_deref(), Some("create-token"));

    let out = report(&mut ctrl, 1, 2, &token_shown().model);
    assert_eq!(highlighted(reply_draw(&out)), Some("copy-token"));
    assert!(press(&mut ctrl, 1, Event::Next).pushes.is_empty());
    assert!(reply_draw(&out).capture.is_some());
}

#[test]
fn panel_events_on_an_unrecognized_page_change_nothing() {
    let mut ctrl = controller();
    let page = Page::at(&url("/events")).with("", el(Role::Heading, "Events"));
    report(&mut ctrl, 1, 1, &page.model);
    for event in [Event::Next, Event::Back] {
        let out = press(&mut ctrl, 1, event);
        assert_eq!(out.reply, Reply::Done);
        assert!(out.pushes.is_empty(), "{event:?}: {:?}", out.pushes);
    }
}

#[test]
fn panel_event_before_any_report_is_unexpected() {
    let mut ctrl = controller();
    let out = press(&mut ctrl, 8, Event::Next);
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Unexpected, .. }), "{:?}", out.reply);
}

#[test]
fn forgotten_tab_starts_over() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    press(&mut ctrl, 1, Event::Dismiss);
    ctrl.forget_tab(1);
    assert!(ctrl.progress(1).is_none());
    assert!(matches!(press(&mut ctrl, 1, Event::Next).reply, Reply::Error { code: ErrorCode::Unexpected, .. }));
    let out = report(&mut ctrl, 1, 1, &token_form(true).model);
    assert_eq!(highlighted(reply_draw(&out)), Some("choose-scopes"));
}

#[test]
fn two_tabs_walk_independently_and_pushes_go_to_their_own_tab() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 5, &token_form(true).model);
    report(&mut ctrl, 2, 9, &token_form(true).model);

    let out = press(&mut ctrl, 1, Event::Next);
    let (step, _) = refreshed(&out, 1);
    assert_eq!(step.as_deref(), Some("create-token"));
    assert_eq!(pushed_draws(&out)[0].1.seq, 5);
    assert_eq!(current_step(&mut ctrl, 2).as_deref(), Some("choose-scopes"));

    let out = press(&mut ctrl, 2, Event::Dismiss);
    refreshed(&out, 2);
    assert_eq!(pushed_draws(&out)[0].1.seq, 9);
    assert!(ctrl.progress(1).unwrap().dismissed.is_none());
    assert_eq!(current_step(&mut ctrl, 1).as_deref(), Some("create-token"));

    // Dismissing tab 1 must not touch tab 2's state, and Resume of tab 2 pushes only to tab 2.
    let out = press(&mut ctrl, 1, Event::Dismiss);
    refreshed(&out, 1);
    let out = ctrl.handle(&popup(), Request::Resume { tab: 2 });
    refreshed(&out, 2);
    assert!(ctrl.progress(1).unwrap().dismissed.is_some());
    assert!(ctrl.progress(2).unwrap().dismissed.is_none());
}

#[test]
fn reports_from_one_tab_do_not_move_another() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    press(&mut ctrl, 1, Event::Next);
    let out = report(&mut ctrl, 2, 1, &token_list().model);
    assert!(out.pushes.iter().all(|(t, _)| *t == 2), "{:?}", out.pushes);
    assert_eq!(current_step(&mut ctrl, 1).as_deref(), Some("create-token"));
    assert_eq!(ctrl.progress(1).unwrap().acked, ["choose-scopes"]);
}

#[test]
fn status_reflects_the_tab_and_its_dismissal() {
    let mut ctrl = controller();
    report(&mut ctrl, 3, 1, &token_form(true).model);
    let status = |ctrl: &mut Controller, tab| match ctrl.handle(&popup(), Request::Status { tab }).reply {
        Reply::Status { tab, .. } => tab,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        status(&mut ctrl, Some(3)),
        Some(TabStatus {
            vendor: "predicthq".into(),
            vendor_name: "PredictHQ".into(),
            step_title: Some("Check the scopes".into()),
            dismissed: false,
            guiding: false,
            key_page: true,
            quiet: false,
        })
    );
    press(&mut ctrl, 3, Event::Dismiss);
    assert_eq!(
        status(&mut ctrl, Some(3)),
        Some(TabStatus {
            vendor: "predicthq".into(),
            vendor_name: "PredictHQ".into(),
            step_title: None,
            dismissed: true,
            guiding: false,
            key_page: true,
            quiet: false,
        })
    );
    assert_eq!(status(&mut ctrl, Some(4)), None);
    assert_eq!(status(&mut ctrl, None), None);
}

#[test]
fn restored_progress_picks_up_where_it_left_off() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_form(true).model);
    press(&mut ctrl, 1, Event::Next);
    let saved = serde_json::to_string(ctrl.progress(1).unwrap()).unwrap();

    let mut fresh = controller();
    fresh.restore(1, serde_json::from_str::<Progress>(&saved).unwrap());
    let out = report(&mut fresh, 1, 1, &token_form(true).model);
    assert_eq!(highlighted(reply_draw(&out)), Some("create-token"));

    let mut fresh = controller();
    let visit = keywarden::engine::walkthrough::visit_of(&token_form(true).model.url);
    fresh.restore(1, Progress { dismissed: Some(visit), ..Progress::default() });
    let out = report(&mut fresh, 1, 1, &token_form(true).model);
    assert_eq!(highlighted(reply_draw(&out)), None);
}

#[test]
fn whole_flow_from_dashboard_to_copied_token() {
    let mut ctrl = controller();
    let mut seq = 0;
    let mut step_after_report = |ctrl: &mut Controller, page: &Page| {
        seq += 1;
        let out = report(ctrl, 1, seq, &page.model);
        highlighted(reply_draw(&out)).map(str::to_string)
    };
    // The dashboard is no key page: nothing is drawn there until the admin asks (the popup's
    // "Create a new PredictHQ key"); from then on the walkthrough follows them.
    assert_eq!(step_after_report(&mut ctrl, &dashboard()), None);
    ctrl.handle(&popup(), Request::Resume { tab: 1 });
    let mut seen = vec![
        current_step(&mut ctrl, 1),
        step_after_report(&mut ctrl, &token_list()),
        step_after_report(&mut ctrl, &token_form(false)),
        step_after_report(&mut ctrl, &token_form(true)),
    ];
    press(&mut ctrl, 1, Event::Next);
    seen.push(current_step(&mut ctrl, 1));
    seen.push(step_after_report(&mut ctrl, &token_shown()));
    let seen: Vec<&str> = seen.iter().map(|s| s.as_deref().unwrap_or("-")).collect();
    assert_eq!(seen, ["open-tokens", "new-token", "name-token", "choose-scopes", "create-token", "copy-token"]);
}
