//! wasm-bindgen tests of the browser glue, run in headless Chromium: JS values in and out, and the panel's DOM.
#![cfg(target_arch = "wasm32")]

use js_sys::{Reflect, JSON};
use keywarden::engine::protocol::{
    admit, Admitted, ContentRequest, Draw, ErrorCode, ExtensionPage, Mark, PanelView, RawSender, Reply, Sender,
};
use keywarden::web::dom::document;
use keywarden::web::panel::PanelUi;
use keywarden::web::{out, JsError, JsInbound};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn js(json: &str) -> JsValue {
    JSON::parse(json).expect("test JSON")
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |v, k| Reflect::get(&v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED))
}

fn content() -> Sender {
    Sender::Content { tab: 1, frame: 0, url: "https://control.predicthq.com/tokens".into() }
}

fn options() -> Sender {
    Sender::Page { page: ExtensionPage::Options, tab: None }
}

fn code(sender: &Sender, message: &JsValue) -> ErrorCode {
    admit(sender, JsInbound(message)).expect_err("refused").code
}

#[wasm_bindgen_test]
fn report_objects_from_content_scripts_parse() {
    let message = js(
        r#"{"v":2,"body":{"type":"report","seq":3,"page":{"url":"https://control.predicthq.com/tokens","title":"API Tokens",
        "elements":[{"role":"button","text":"Create Token"},{"role":"textbox","label":"Token name","filled":false}]}}}"#,
    );
    match admit(&content(), JsInbound(&message)) {
        Ok(Admitted::Content { request: ContentRequest::Report { seq, page, .. }, .. }) => {
            assert_eq!(seq, 3);
            assert_eq!(page.elements.len(), 2);
            assert_eq!(page.elements[1].label, "Token name");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[wasm_bindgen_test]
fn other_versions_and_garbage_are_refused_distinctly() {
    assert_eq!(code(&options(), &js(r#"{"v":1,"body":{"type":"status","tab":null}}"#)), ErrorCode::Version);
    assert_eq!(code(&options(), &js(r#"{"v":2,"body":{"type":"steal_keys"}}"#)), ErrorCode::Malformed);
    assert_eq!(code(&options(), &js(r#"{"v":2,"body":{"type":"status","tab":null,"extra":1}}"#)), ErrorCode::Malformed);
    assert_eq!(code(&options(), &JsValue::from_str("report")), ErrorCode::Malformed);
    assert_eq!(code(&options(), &JsValue::UNDEFINED), ErrorCode::Malformed);
    assert_eq!(code(&options(), &js("[2]")), ErrorCode::Malformed, "an array is no envelope");
}

#[wasm_bindgen_test]
fn a_content_script_message_cannot_express_a_vault_request() {
    let unlock = js(r#"{"v":2,"body":{"type":"unlock","passphrase":"p"}}"#);
    assert_eq!(code(&content(), &unlock), ErrorCode::Forbidden);
    assert!(matches!(admit(&options(), JsInbound(&unlock)), Ok(Admitted::Page { .. })));
}

#[wasm_bindgen_test]
fn js_failures_become_one_typed_error_by_kind_not_by_text() {
    let quota = js(r#"{"kind":"quota","message":"whatever the browser says"}"#);
    assert!(matches!(JsError::from_js(quota), JsError::Quota(_)));
    // A message that merely mentions a quota is not a full storage.
    let failed = js_sys::Error::new("QUOTA_BYTES quota exceeded");
    assert!(matches!(JsError::from_js(failed.into()), JsError::Failed(_)));
}

#[wasm_bindgen_test]
fn firefox_frame_ids_beyond_u32_still_classify() {
    // Firefox reports frame ids such as 12884901889 for frames inside a tab.
    let sender: RawSender = serde_wasm_bindgen::from_value(js(
        r#"{"id":"kw@test","url":"moz-extension://abc/panel.html","tab":{"id":2,"index":0},"frameId":12884901889,"envType":"content_child"}"#,
    ))
    .expect("sender parses");
    assert_eq!(
        sender.classify("kw@test", "moz-extension://abc"),
        Ok(Sender::Page { page: ExtensionPage::Panel, tab: Some(2) })
    );
    let content: RawSender = serde_wasm_bindgen::from_value(js(
        r#"{"id":"kw@test","url":"https://control.predicthq.com/","tab":{"id":7},"frameId":12884901889}"#,
    ))
    .unwrap();
    assert_eq!(
        content.classify("kw@test", "moz-extension://abc"),
        Ok(Sender::Content { tab: 7, frame: 12884901889, url: "https://control.predicthq.com/".into() })
    );
}

#[wasm_bindgen_test]
fn messages_from_other_extensions_are_refused() {
    let sender: RawSender =
        serde_wasm_bindgen::from_value(js(r#"{"id":"someone-else","url":"chrome-extension://abc/popup.html"}"#))
            .unwrap();
    assert_eq!(sender.classify("kw", "chrome-extension://abc"), Err(ErrorCode::Forbidden));
}

#[wasm_bindgen_test]
fn replies_become_plain_versioned_objects() {
    let reply = Reply::Draw(Draw {
        seq: 4,
        highlight: Some(Mark { element: 2, vendor: "predicthq".into(), step: "name-token".into() }),
        capture: None,
        fields: Vec::new(),
        recheck_ms: None,
        panel: true,
        pill: None,
    });
    let v = out(&reply);
    assert_eq!(get(&v, &["v"]).as_f64(), Some(2.0));
    assert_eq!(get(&v, &["body", "type"]).as_string().as_deref(), Some("draw"));
    assert_eq!(get(&v, &["body", "highlight", "step"]).as_string().as_deref(), Some("name-token"));
    assert!(get(&v, &["body", "capture"]).is_null());
    // Structured clone (extension messaging) needs plain objects, not Maps.
    assert!(JSON::stringify(&v).unwrap().as_string().unwrap().contains("\"element\":2"));
}

fn view(step: &str, can_back: bool) -> PanelView {
    PanelView {
        vendor: "predicthq".into(),
        vendor_name: "PredictHQ".into(),
        step: step.into(),
        title: "Name the token".into(),
        body: "Type a name.".into(),
        why: None,
        position: 3,
        total: 6,
        can_back,
        warning: None,
        prerequisites: vec!["An account that can create tokens.".into()],
        missing: false,
        can_next: true,
        needs_vault: false,
        key_label: "API token".into(),
        saved: None,
    }
}

/// The labels of the panel's buttons that are shown, in order.
fn shown_buttons(root: &web_sys::Element) -> Vec<String> {
    let all = root.query_selector_all("button").unwrap();
    (0..all.length())
        .filter_map(|i| all.item(i))
        .map(wasm_bindgen::JsCast::unchecked_into::<web_sys::Element>)
        .filter(|b| !b.has_attribute("hidden"))
        .map(|b| b.text_content().unwrap())
        .collect()
}

fn fresh_root() -> web_sys::Element {
    let root = document().create_element("main").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    root
}

#[wasm_bindgen_test]
fn panel_is_a_labelled_dialog_with_real_buttons() {
    let root = fresh_root();
    let ui = PanelUi::build(&root).unwrap();
    ui.show(Some(&view("name-token", false))).unwrap();
    let dialog = root.query_selector("[role=dialog]").unwrap().expect("dialog");
    assert_eq!(dialog.get_attribute("data-step").as_deref(), Some("name-token"));
    let title_id = dialog.get_attribute("aria-labelledby").unwrap();
    let title = root.query_selector(&format!("#{title_id}")).unwrap().unwrap();
    assert_eq!(title.text_content().as_deref(), Some("Name the token"));
    // Outside an extension the message catalog is absent and names stand in for the words.
    assert_eq!(shown_buttons(&root), ["panelBack", "panelNext", "panelNotNow", "panelQuiet"]);
    assert!(root.query_selector("button[data-action=back]").unwrap().unwrap().has_attribute("disabled"));
    assert!(root.text_content().unwrap().contains("panelStep"));
    assert!(root
        .query_selector("[aria-live=polite]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap()
        .contains("Name the token"));
    root.remove();
}

#[wasm_bindgen_test]
fn panel_offers_no_next_on_the_last_step_and_setup_without_a_vault() {
    let root = fresh_root();
    let ui = PanelUi::build(&root).unwrap();
    let last = PanelView { can_next: false, needs_vault: true, ..view("create-token", true) };
    ui.show(Some(&last)).unwrap();
    assert_eq!(shown_buttons(&root).len(), 4, "setup, Back, Not now, Don't guide me: no Next");
    assert!(root.query_selector("button[data-action=next]").unwrap().unwrap().has_attribute("hidden"));
    assert!(!root.query_selector("button[data-action=setup]").unwrap().unwrap().has_attribute("hidden"));
    // The missing vault comes first among the prerequisites, which are open.
    let first = root.query_selector("details li").unwrap().unwrap();
    assert_eq!(first.get_attribute("class").as_deref(), Some("no-vault"));
    assert!(root.query_selector("details").unwrap().unwrap().has_attribute("open"));
    root.remove();
}

#[wasm_bindgen_test]
fn after_a_save_the_panel_shows_the_note_with_close_only() {
    let root = fresh_root();
    let ui = PanelUi::build(&root).unwrap();
    let note = keywarden::engine::protocol::SavedNote {
        vendor: "predicthq".into(),
        name: "warehouse-sync".into(),
        hint: "\u{2026}J4hs".into(),
        label: "API token".into(),
        visit: "https://control.predicthq.com/tokens".into(),
    };
    let saved =
        PanelView { title: "Saved: warehouse-sync \u{2026}J4hs".into(), saved: Some(note), ..view("saved", false) };
    ui.show(Some(&saved)).unwrap();
    assert_eq!(shown_buttons(&root), ["panelClose"]);
    let dialog = root.query_selector("[role=dialog]").unwrap().unwrap();
    assert!(dialog.has_attribute("data-saved"));
    // No prerequisites after a save.
    assert!(root.query_selector("details").unwrap().unwrap().has_attribute("hidden"));
    // The next step view brings the walkthrough buttons back.
    ui.show(Some(&view("name-token", false))).unwrap();
    assert!(!dialog.has_attribute("data-saved"));
    assert_eq!(shown_buttons(&root)[0], "panelBack");
    root.remove();
}

#[wasm_bindgen_test]
fn panel_updates_in_place_and_hides_without_a_step() {
    let root = fresh_root();
    let ui = PanelUi::build(&root).unwrap();
    ui.show(Some(&view("name-token", false))).unwrap();
    ui.show(Some(&view("choose-scopes", true))).unwrap();
    assert_eq!(root.query_selector_all("[role=dialog]").unwrap().length(), 1, "one dialog, updated in place");
    let dialog = root.query_selector("[role=dialog]").unwrap().unwrap();
    assert_eq!(dialog.get_attribute("data-step").as_deref(), Some("choose-scopes"));
    assert!(!root.query_selector("button[data-action=back]").unwrap().unwrap().has_attribute("disabled"));
    ui.show(None).unwrap();
    assert!(dialog.has_attribute("hidden"));
    assert!(!dialog.has_attribute("data-step"));
    root.remove();
}

#[wasm_bindgen_test]
fn panel_connects_only_with_the_nonce_its_content_script_gave_it() {
    use keywarden::web::panel::port_name;
    let nonce = "0123456789abcdef0123456789abcdef";
    assert_eq!(port_name(&format!("chrome-extension://x/panel.html#{nonce}")), Some(format!("panel:{nonce}")));
    for url in [
        "chrome-extension://x/panel.html".to_string(),
        "chrome-extension://x/panel.html#".to_string(),
        format!("chrome-extension://x/panel.html#{}", &nonce[1..]),
        format!("chrome-extension://x/panel.html#{nonce}0"),
        format!("chrome-extension://x/panel.html#{}", nonce.to_uppercase()),
        format!("chrome-extension://x/panel.html#{nonce}#x"),
        "chrome-extension://x/panel.html#0123456789abcdef0123456789abcdeg".to_string(),
    ] {
        assert_eq!(port_name(&url), None, "{url}");
    }
}

#[wasm_bindgen_test]
fn a_message_outside_an_extension_or_missing_from_the_catalog_shows_its_name() {
    // A blank would hide the gap; the name says which entry is missing.
    assert_eq!(keywarden::web::i18n::t("noSuchMessage"), "noSuchMessage");
    assert_eq!(keywarden::web::i18n::t_with("serverAdded", &["planning.example.com"]), "serverAdded");
}

/// A browser call that throws at once (here: no extension API in a plain page) still comes back
/// as a typed rejection, never as an exception thrown through the glue.
#[wasm_bindgen_test]
async fn a_browser_call_that_throws_at_once_rejects_typed() {
    let sent = keywarden::web::api::send_message(&JsValue::NULL);
    let failure = wasm_bindgen_futures::JsFuture::from(sent).await.expect_err("no extension runtime here");
    assert!(matches!(JsError::from_js(failure), JsError::Failed(_)));
}
