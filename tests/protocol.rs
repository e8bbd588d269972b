//! The message protocol: JSON parsing and its error codes, the sender authorization matrix, report limits, key capture and the wire shape of replies.

mod common;

use common::*;
use keywarden::engine::controller::{Controller, Outcome};
use keywarden::engine::page::{Element, PageModel, Role, SecretShape, MAX_ELEMENTS, MAX_TEXT, MAX_URL};
use keywarden::engine::protocol::{
    admit, Admitted, CaptureState, ContentRequest, Draw, ErrorCode, ExtensionPage, Incoming, Mark, Out,
    OutgoingRequest, PageRequest, PanelNonce, PanelPush, PanelRequest, PanelView, Push, RawSender, Reply, Sender,
    StepEvent, TabStatus, VERSION,
};
use keywarden::engine::secret::SecretString;
use keywarden::engine::walkthrough::Event;
use serde_json::{json, Value};

fn wire(body: Value) -> String {
    json!({ "v": VERSION, "body": body }).to_string()
}

/// What `text` parses as, tried as a content script's, the panel's and the options page's message:
/// the first audience that admits it, or the most telling refusal (version, then forbidden).
fn parse_json(text: &str) -> Result<Admitted, ErrorCode> {
    let senders = [content(1), panel(1), Sender::Page { page: ExtensionPage::Options, tab: None }];
    let mut codes = Vec::new();
    for sender in &senders {
        match admit(sender, text) {
            Ok(a) => return Ok(a),
            Err(r) => codes.push(r.code),
        }
    }
    for code in [ErrorCode::Version, ErrorCode::Forbidden] {
        if codes.contains(&code) {
            return Err(code);
        }
    }
    Err(ErrorCode::Malformed)
}

fn error_code(out: &Outcome) -> Option<ErrorCode> {
    match &out.reply {
        Reply::Error { code, .. } => Some(*code),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn report_parses_with_its_whole_page_model() {
    let page = token_shown().model;
    let Ok(Admitted::Content { request: ContentRequest::Report { seq, page: parsed, .. }, .. }) =
        parse_json(&wire(json!({ "type": "report", "seq": 17, "page": serde_json::to_value(&page).unwrap() })))
    else {
        panic!("report did not parse");
    };
    assert_eq!(seq, 17);
    assert_eq!(parsed, page);
}

#[test]
fn report_parses_from_hand_written_json_with_defaults() {
    let json = r#"{"v":2,"body":{"type":"report","seq":2,"page":{
        "url":"https://control.predicthq.com/tokens",
        "elements":[
            {"role":"button","text":"Create Token"},
            {"role":"textbox","label":"Token name","filled":false},
            {"secret":{"len":40,"lower":true,"upper":true,"digit":true,"symbols":"-_"}},
            {}
        ]}}}"#;
    let Ok(Admitted::Content { request: ContentRequest::Report { seq: 2, page, .. }, .. }) = parse_json(json) else {
        panic!("report did not parse")
    };
    assert_eq!(page.title, "");
    assert_eq!(page.elements.len(), 4);
    assert_eq!(page.elements[0], el(Role::Button, "Create Token"));
    assert_eq!(page.elements[1], field("Token name", false));
    assert_eq!(page.elements[2].secret, Some(token_shape()));
    assert_eq!(page.elements[2].role(), Role::Text, "an element without a role reads as text");
    assert_eq!(page.elements[3], Element::default());
}

#[test]
fn capture_parses_and_keeps_the_key_out_of_debug_output() {
    let parsed = parse_json(&wire(json!({ "type": "capture", "seq": 4, "key": KEY })));
    let shown = format!("{parsed:?}");
    let Ok(Admitted::Content { request: ContentRequest::Capture { seq: 4, key, .. }, .. }) = parsed else {
        panic!("capture did not parse")
    };
    assert_eq!(key.expose(), KEY);
    assert!(!shown.contains("LEAKCANARY"), "{shown}");
}

#[test]
fn panel_events_parse() {
    for (name, event) in [("next", StepEvent::Next), ("back", StepEvent::Back), ("dismiss", StepEvent::Dismiss)] {
        match parse_json(&wire(json!({ "type": "panel", "event": name }))) {
            Ok(Admitted::Panel { request: PanelRequest::Panel { event: e }, .. }) => assert_eq!(e, event),
            other => panic!("{name}: {other:?}"),
        }
    }
    // Resume is the popup's: the panel's vocabulary has no word for it.
    assert_eq!(
        admit(&panel(1), wire(json!({ "type": "panel", "event": "resume" })).as_str()).unwrap_err().code,
        ErrorCode::Malformed
    );
}

#[test]
fn status_and_resume_parse() {
    let page = |text: String| match parse_json(&text) {
        Ok(Admitted::Page { request, .. }) => request,
        other => panic!("{text}: {other:?}"),
    };
    assert!(matches!(page(wire(json!({ "type": "status", "tab": 7 }))), PageRequest::Status { tab: Some(7) }));
    assert!(matches!(page(wire(json!({ "type": "status", "tab": null }))), PageRequest::Status { tab: None }));
    assert!(matches!(page(wire(json!({ "type": "resume", "tab": 3 }))), PageRequest::Resume { tab: 3 }));
}

#[test]
fn requests_written_by_the_panel_parse_back_unchanged() {
    let events = [StepEvent::Next, StepEvent::Back, StepEvent::Dismiss, StepEvent::Quiet, StepEvent::Close];
    for event in events {
        let text = serde_json::to_string(&Out::new(&PanelRequest::Panel { event })).unwrap();
        match parse_json(&text) {
            Ok(Admitted::Panel { request: PanelRequest::Panel { event: back }, .. }) => {
                assert_eq!(back, event, "{text}")
            }
            other => panic!("{text} came back as {other:?}"),
        }
    }
    let text = serde_json::to_string(&Out::new(&PanelRequest::Fit { height: 412 })).unwrap();
    match parse_json(&text) {
        Ok(Admitted::Panel { request: PanelRequest::Fit { height: 412 }, .. }) => {}
        other => panic!("{text} came back as {other:?}"),
    }
}

#[test]
fn the_panel_reads_its_own_push_and_no_other() {
    let view = PanelView {
        vendor: "predicthq".into(),
        vendor_name: "PredictHQ".into(),
        step: "new-token".into(),
        title: "Create a token".into(),
        body: "Press Create New Token.".into(),
        why: Some("Tokens are made here.".into()),
        position: 2,
        total: 4,
        can_back: true,
        warning: None,
        prerequisites: vec!["An admin role".into()],
        missing: false,
        can_next: true,
        needs_vault: false,
        key_label: "API token".into(),
        saved: None,
    };
    let read = |push: &Push| -> Option<Option<PanelView>> {
        let wire = serde_json::to_value(Out::new(push)).unwrap();
        let back: Incoming<PanelPush> = serde_json::from_value(wire).unwrap();
        assert_eq!(back.v, VERSION);
        back.body.into_view()
    };
    assert_eq!(read(&Push::Panel { view: Some(view.clone()) }), Some(Some(view)));
    assert_eq!(read(&Push::Panel { view: None }), Some(None), "a push without a view hides the panel");
    let nonce = PanelNonce::parse("0123456789abcdef0123456789abcdef").unwrap();
    assert_eq!(
        read(&Push::PanelFit { panel: nonce, height: 300 }),
        None,
        "the content script's push is not the panel's"
    );
}

#[test]
fn requests_written_by_extension_pages_parse_back_unchanged() {
    let sent = [
        OutgoingRequest::Status { tab: Some(12) },
        OutgoingRequest::Status { tab: None },
        OutgoingRequest::Resume { tab: 12 },
    ];
    for out in &sent {
        let text = serde_json::to_string(&Out::new(out)).unwrap();
        let parsed = parse_json(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let same = match (out, &parsed) {
            (OutgoingRequest::Status { tab: a }, Admitted::Page { request: PageRequest::Status { tab: b }, .. }) => {
                a == b
            }
            (OutgoingRequest::Resume { tab: a }, Admitted::Page { request: PageRequest::Resume { tab: b }, .. }) => {
                a == b
            }
            _ => false,
        };
        assert!(same, "{text} came back as {parsed:?}");
    }
}

#[test]
fn other_protocol_version_is_refused_as_version() {
    for v in [0, 7, 99] {
        let text = json!({ "v": v, "body": { "type": "status", "tab": 1 } }).to_string();
        assert_eq!(parse_json(&text).unwrap_err(), ErrorCode::Version, "v = {v}");
    }
    // A newer peer's message is "version", even when its body means nothing to this version.
    let text = json!({ "v": 7, "body": { "type": "teleport", "where": "moon" } }).to_string();
    assert_eq!(parse_json(&text).unwrap_err(), ErrorCode::Version);
}

#[test]
fn malformed_messages_are_refused_as_malformed() {
    let good_page = json!({ "url": url("/tokens"), "elements": [] });
    let cases: Vec<(&str, String)> = vec![
        // not JSON, or not an envelope
        ("empty input", String::new()),
        ("plain text", "hello".into()),
        ("truncated", r#"{"v":2,"body":{"type":"status""#.into()),
        ("array", "[1]".into()),
        ("null", "null".into()),
        ("missing version", json!({ "body": { "type": "status", "tab": 1 } }).to_string()),
        ("version as string", json!({ "v": "1", "body": { "type": "status", "tab": 1 } }).to_string()),
        ("negative version", json!({ "v": -1, "body": { "type": "status", "tab": 1 } }).to_string()),
        ("missing body", json!({ "v": VERSION }).to_string()),
        ("body not an object", json!({ "v": VERSION, "body": "status" }).to_string()),
        // unknown type
        ("unknown type", wire(json!({ "type": "teleport" }))),
        ("missing type", wire(json!({ "tab": 1 }))),
        ("type in another case", wire(json!({ "type": "Status", "tab": 1 }))),
        // unknown fields
        (
            "unknown envelope field",
            json!({ "v": VERSION, "body": { "type": "status", "tab": 1 }, "from": "popup" }).to_string(),
        ),
        ("unknown report field", wire(json!({ "type": "report", "seq": 1, "page": good_page, "sequence": 1 }))),
        ("unknown capture field", wire(json!({ "type": "capture", "seq": 1, "key": KEY, "vendor": "predicthq" }))),
        ("unknown resume field", wire(json!({ "type": "resume", "tab": 1, "all": true }))),
        ("unknown page field", wire(json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "frames": [] } }))),
        (
            "unknown element field",
            wire(
                json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "elements": [{ "role": "button", "html": "<b>" }] } }),
            ),
        ),
        // missing fields
        ("report without page", wire(json!({ "type": "report", "seq": 1 }))),
        ("report without seq", wire(json!({ "type": "report", "page": good_page }))),
        ("capture without key", wire(json!({ "type": "capture", "seq": 1 }))),
        ("capture without seq", wire(json!({ "type": "capture", "key": KEY }))),
        ("panel without event", wire(json!({ "type": "panel" }))),
        ("resume without tab", wire(json!({ "type": "resume" }))),
        ("page without url", wire(json!({ "type": "report", "seq": 1, "page": { "elements": [] } }))),
        (
            "secret shape without len",
            wire(
                json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "elements": [{ "secret": { "lower": true } }] } }),
            ),
        ),
        // wrong types
        ("seq as string", wire(json!({ "type": "report", "seq": "1", "page": good_page }))),
        ("negative seq", wire(json!({ "type": "capture", "seq": -1, "key": KEY }))),
        ("key as number", wire(json!({ "type": "capture", "seq": 1, "key": 12345678901234567890u64 }))),
        ("tab as string", wire(json!({ "type": "resume", "tab": "3" }))),
        ("tab too large", wire(json!({ "type": "resume", "tab": 1u64 << 40 }))),
        ("unknown event", wire(json!({ "type": "panel", "event": "skip" }))),
        ("event in another case", wire(json!({ "type": "panel", "event": "Next" }))),
        (
            "elements as object",
            wire(json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "elements": {} } })),
        ),
        (
            "unknown role",
            wire(
                json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "elements": [{ "role": "widget" }] } }),
            ),
        ),
        (
            "filled as string",
            wire(json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "elements": [{ "filled": "yes" }] } })),
        ),
        (
            "dialog negative",
            wire(json!({ "type": "report", "seq": 1, "page": { "url": url("/"), "elements": [{ "dialog": -1 }] } })),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, text) in &cases {
        match parse_json(text) {
            Err(ErrorCode::Malformed) => {}
            other => wrong.push(format!("{name}: {other:?} for {text}")),
        }
    }
    assert!(wrong.is_empty(), "{} of {} not refused as malformed:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

/// The nonce of the panel frame a report names: 16 to 64 lowercase hexadecimal digits, or null.
#[test]
fn report_carries_the_panel_nonce_within_its_limits() {
    let page = json!({ "url": url("/tokens"), "elements": [] });
    let nonce = |panel: Value| parse_json(&wire(json!({ "type": "report", "seq": 1, "page": page, "panel": panel })));
    let reported = |r: Result<Admitted, ErrorCode>| match r {
        Ok(Admitted::Content { request: ContentRequest::Report { panel, .. }, .. }) => {
            Ok(panel.map(|p| p.as_str().to_string()))
        }
        Ok(other) => panic!("{other:?}"),
        Err(code) => Err(code),
    };
    let ok = "0123456789abcdef0123456789abcdef";
    assert_eq!(reported(nonce(json!(ok))), Ok(Some(ok.to_string())));
    assert_eq!(reported(nonce(json!("f".repeat(64)))), Ok(Some("f".repeat(64))));
    assert_eq!(reported(nonce(Value::Null)), Ok(None));
    assert_eq!(reported(parse_json(&wire(json!({ "type": "report", "seq": 1, "page": page })))), Ok(None));
    for bad in [
        json!("f".repeat(65)),
        json!("f".repeat(15)),
        json!(""),
        json!("0123456789abcdefg"),
        json!("0123456789ABCDEF0123456789ABCDEF"),
        json!("panel:00ff00ff00ff00ff"),
        json!(" 00ff00ff00ff00ff00"),
        json!(255),
        json!(["00ff00ff00ff00ff00"]),
    ] {
        assert_eq!(reported(nonce(bad.clone())), Err(ErrorCode::Malformed), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization

const SENDER_KINDS: [&str; 8] = [
    "content top",
    "content subframe",
    "panel in tab",
    "panel no tab",
    "popup",
    "popup in tab",
    "options",
    "other page",
];

fn sender(kind: &str) -> Sender {
    match kind {
        "content top" => content(1),
        "content subframe" => Sender::Content { tab: 1, frame: 2, url: url("/tokens") },
        "panel in tab" => panel(1),
        "panel no tab" => Sender::Page { page: ExtensionPage::Panel, tab: None },
        "popup" => popup(),
        "popup in tab" => Sender::Page { page: ExtensionPage::Popup, tab: Some(1) },
        "options" => Sender::Page { page: ExtensionPage::Options, tab: None },
        "other page" => Sender::Page { page: ExtensionPage::Other, tab: Some(1) },
        _ => unreachable!(),
    }
}

fn request(kind: &str) -> Request {
    match kind {
        "report" => Request::Report { seq: 2, page: token_shown().moved_to(&url("/tokens")).model, panel: None },
        "capture" => Request::Capture { seq: 1, key: SecretString::new(KEY.into()), fields: Default::default() },
        "panel next" => Request::Panel { event: Event::Next },
        "panel back" => Request::Panel { event: Event::Back },
        "panel dismiss" => Request::Panel { event: Event::Dismiss },
        "panel resume" => Request::Panel { event: Event::Resume },
        "status of a tab" => Request::Status { tab: Some(1) },
        "status" => Request::Status { tab: None },
        "resume" => Request::Resume { tab: 1 },
        _ => unreachable!(),
    }
}

/// Who may send what: one row per request, one column per sender kind (in SENDER_KINDS order).
#[rustfmt::skip]
const MATRIX: [(&str, [bool; 8]); 9] = {
    const Y: bool = true;
    const N: bool = false;
    [
        //                  top sub  pnl+t pnl  popup pop+t opts other
        ("report",          [Y,  N,   N,    N,   N,    N,    N,   N]),
        ("capture",         [Y,  N,   N,    N,   N,    N,    N,   N]),
        ("panel next",      [N,  N,   Y,    N,   N,    N,    N,   N]),
        ("panel back",      [N,  N,   Y,    N,   N,    N,    N,   N]),
        ("panel dismiss",   [N,  N,   Y,    N,   N,    N,    N,   N]),
        ("panel resume",    [N,  N,   N,    N,   N,    N,    N,   N]),
        ("status of a tab", [N,  N,   N,    N,   Y,    Y,    Y,   N]),
        ("status",          [N,  N,   N,    N,   Y,    Y,    Y,   N]),
        ("resume",          [N,  N,   N,    N,   Y,    Y,    Y,   N]),
    ]
};

#[test]
fn authorization_matrix_allows_exactly_the_listed_senders() {
    let mut wrong = Vec::new();
    for (req, row) in MATRIX {
        for (kind, allowed) in SENDER_KINDS.iter().zip(row) {
            let text = json!({ "v": keywarden::engine::protocol::VERSION, "body": request(req).body() }).to_string();
            let got = admit(&sender(kind), text.as_str());
            // Refused either as not this sender's to ask, or as words this sender's vocabulary lacks.
            let refused = matches!(&got, Err(r) if matches!(r.code, ErrorCode::Forbidden | ErrorCode::Malformed));
            if allowed == refused {
                wrong.push(format!("{req} from {kind}: got {got:?}, want allowed = {allowed}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A controller with tab 1 showing the token screen (report seq 1), so every allowed request can act.
fn busy_controller() -> Controller {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_shown().model);
    assert!(reply_draw(&out).capture.is_some());
    ctrl
}

#[test]
fn controller_refuses_unauthorized_requests_before_acting() {
    let mut wrong = Vec::new();
    for (req, row) in MATRIX {
        for (kind, allowed) in SENDER_KINDS.iter().zip(row) {
            let mut ctrl = busy_controller();
            let before = ctrl.progress(1).cloned();
            let out = ctrl.handle(&sender(kind), request(req));
            let refused = matches!(error_code(&out), Some(ErrorCode::Forbidden | ErrorCode::Malformed));
            if allowed == refused {
                wrong.push(format!("{req} from {kind}: {:?}", out.reply));
            }
            if !allowed {
                if !out.pushes.is_empty() {
                    wrong.push(format!("{req} from {kind} pushed {:?}", out.pushes));
                }
                if ctrl.progress(1).cloned() != before {
                    wrong.push(format!("{req} from {kind} changed the tab's progress"));
                }
                let Reply::Status { captures_received, .. } =
                    ctrl.handle(&popup(), Request::Status { tab: None }).reply
                else {
                    unreachable!()
                };
                if captures_received != 0 {
                    wrong.push(format!("{req} from {kind} was counted as a capture"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn forbidden_message_never_echoes_the_request_content() {
    let mut ctrl = busy_controller();
    let out = ctrl
        .handle(&popup(), Request::Capture { seq: 1, key: SecretString::new(KEY.into()), fields: Default::default() });
    let Reply::Error { code: ErrorCode::Forbidden, message } = &out.reply else { panic!("{:?}", out.reply) };
    assert!(!message.name.is_empty());
    assert!(!format!("{message:?}").contains("LEAKCANARY"), "{message:?}");
}

#[test]
fn report_about_another_host_than_the_sender_is_forbidden() {
    let phq = url("/tokens");
    // (where the content script is, what URL its report claims)
    let cases = [
        ("https://evil.test/tokens", phq.as_str()),
        ("https://control.predicthq.com.phish.test/tokens", phq.as_str()),
        ("https://api.predicthq.com/", phq.as_str()),
        ("http://control.predicthq.com/tokens", phq.as_str()),
        ("not a url", phq.as_str()),
        (phq.as_str(), "https://evil.test/tokens"),
        (phq.as_str(), "https://control.predicthq.com.phish.test/tokens"),
    ];
    for (sender_url, page_url) in cases {
        let mut ctrl = controller();
        let sender = Sender::Content { tab: 1, frame: 0, url: sender_url.to_string() };
        let page = token_form(true).moved_to(page_url).model;
        let out = ctrl.handle(&sender, Request::Report { seq: 1, page, panel: None });
        assert_eq!(error_code(&out), Some(ErrorCode::Forbidden), "sender on {sender_url} reporting {page_url}");
        assert!(out.pushes.is_empty());
        assert!(ctrl.progress(1).is_none(), "a refused report must not be stored");
    }
}

#[test]
fn report_from_the_same_host_with_other_port_case_or_path_is_accepted() {
    let page = token_form(true).model;
    for sender_url in [
        "https://control.predicthq.com/",
        "https://CONTROL.predicthq.com/tokens",
        "https://control.predicthq.com:443/tokens?tab=1#x",
        "https://control.predicthq.com/somewhere/else",
    ] {
        let mut ctrl = controller();
        let sender = Sender::Content { tab: 1, frame: 0, url: sender_url.into() };
        let out = ctrl.handle(&sender, Request::Report { seq: 1, page: page.clone(), panel: None });
        assert_eq!(highlighted(reply_draw(&out)), Some("choose-scopes"), "{sender_url}");
    }
}

// ---------------------------------------------------------------------------------------------
// Report limits

fn report_code(model: PageModel) -> Option<ErrorCode> {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &model);
    error_code(&out)
}

fn with_elements(elements: Vec<Element>) -> PageModel {
    PageModel { url: url("/tokens"), title: "API Tokens".into(), elements }
}

#[test]
fn over_limit_reports_are_malformed() {
    let long = "x".repeat(MAX_TEXT + 1);
    let cases: Vec<(&str, PageModel)> = vec![
        ("too many elements", with_elements(vec![el(Role::Text, "row"); MAX_ELEMENTS + 1])),
        ("text too long", with_elements(vec![el(Role::Button, "ok"), el(Role::Text, &long)])),
        ("label too long", with_elements(vec![labelled(Role::Textbox, &long)])),
        ("title too long", PageModel { title: long.clone(), ..with_elements(vec![]) }),
        (
            "URL too long",
            PageModel { url: format!("{}?q={}", url("/tokens"), "a".repeat(MAX_URL)), ..with_elements(vec![]) },
        ),
        (
            "forward dialog reference",
            with_elements(vec![
                Element { dialog: Some(1), ..el(Role::Button, "Create") },
                el(Role::Dialog, "New token"),
            ]),
        ),
        (
            "forward group reference",
            with_elements(vec![Element { group: Some(5), ..el(Role::Checkbox, "Events") }, el(Role::Group, "Scopes")]),
        ),
        ("element inside itself", with_elements(vec![Element { group: Some(0), ..el(Role::Group, "Scopes") }])),
    ];
    for (name, model) in cases {
        assert_eq!(report_code(model), Some(ErrorCode::Malformed), "{name}");
    }
}

#[test]
fn reports_right_at_the_limits_are_accepted() {
    let at_limit = "é".repeat(MAX_TEXT); // 512 characters, 1024 bytes
    let mut many = vec![el(Role::Text, "row"); MAX_ELEMENTS - 2];
    many.push(field("Token name", true));
    many.push(el(Role::Button, "Create Token"));
    let cases: Vec<(&str, PageModel)> = vec![
        ("exactly the most elements", with_elements(many)),
        ("text of the longest length", with_elements(vec![el(Role::Text, &at_limit), el(Role::Button, &at_limit)])),
        ("label of the longest length", with_elements(vec![labelled(Role::Textbox, &at_limit)])),
        ("title of the longest length", PageModel { title: at_limit.clone(), ..with_elements(vec![]) }),
        (
            "backward references",
            with_elements(vec![
                el(Role::Dialog, "New token"),
                Element { dialog: Some(0), group: Some(0), ..el(Role::Button, "Create") },
            ]),
        ),
    ];
    for (name, model) in cases {
        let mut ctrl = controller();
        let out = report(&mut ctrl, 1, 1, &model);
        assert!(matches!(out.reply, Reply::Draw(_)), "{name}: {:?}", out.reply);
    }
}

#[test]
fn exactly_max_elements_page_is_still_recognized() {
    let mut elements = vec![el(Role::Text, "row"); MAX_ELEMENTS - 2];
    elements.push(field("Token name", true));
    elements.push(el(Role::Button, "Create Token"));
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &with_elements(elements));
    let mark = reply_draw(&out).highlight.clone().expect("highlight");
    assert_eq!((mark.step.as_str(), mark.element as usize), ("create-token", MAX_ELEMENTS - 1));
}

#[test]
fn malformed_report_message_explains_without_echoing_the_page() {
    let mut ctrl = controller();
    let secret_text = format!("{}{}", "LEAKCANARY ", "y".repeat(MAX_TEXT));
    let out = report(&mut ctrl, 1, 1, &with_elements(vec![el(Role::Text, &secret_text)]));
    let Reply::Error { code: ErrorCode::Malformed, message } = &out.reply else { panic!("{:?}", out.reply) };
    assert!(message.is("errReportTextTooLong"), "{message:?}");
    assert_eq!(message.texts(), ["0".to_string(), MAX_TEXT.to_string()], "the element and the limit");
    assert!(!format!("{message:?}").contains("LEAKCANARY"), "{message:?}");
}

// ---------------------------------------------------------------------------------------------
// Capture

fn capture(ctrl: &mut Controller, tab: u32, seq: u64, key: &str) -> Outcome {
    ctrl.handle(&content(tab), Request::Capture { seq, key: SecretString::new(key.into()), fields: Default::default() })
}

fn captures_received(ctrl: &mut Controller) -> u32 {
    match ctrl.handle(&popup(), Request::Status { tab: None }).reply {
        Reply::Status { captures_received, .. } => captures_received,
        other => panic!("{other:?}"),
    }
}

#[test]
fn capture_of_the_right_key_is_received() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 5, &token_shown().model);
    let out = capture(&mut ctrl, 1, 5, KEY);
    assert_eq!(out.reply, Reply::Captured { state: CaptureState::Received, vendor: "predicthq".into(), hint: None });
    assert!(out.pushes.is_empty());
    assert!(out.captured.is_some(), "handed on to the vault");
    // Only keys the vault kept are counted, by the service, never a key merely received.
    assert_eq!(captures_received(&mut ctrl), 0);
}

#[test]
fn capture_with_a_stale_or_future_seq_is_unexpected() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 5, &token_shown().model);
    for seq in [0, 4, 6, u64::MAX] {
        assert_eq!(error_code(&capture(&mut ctrl, 1, seq, KEY)), Some(ErrorCode::Unexpected), "seq {seq}");
    }
    assert_eq!(captures_received(&mut ctrl), 0);
}

/// The worker takes only the key whose outline the report gave for the element beside the save
/// control: a string the page swapped in, or planted with another outline, is refused.
#[test]
fn capture_of_a_key_with_another_outline_than_the_reported_one_is_refused() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 5, &token_shown().model);
    for key in [
        format!("{KEY}x"),                                      // one character longer
        KEY.replace('-', "a"),                                  // no '-' any more
        KEY.to_ascii_uppercase().replace('_', "-"),             // no lower case, no '_'
        "LEAKCANARYabcdefghijABCDEFGHIJ0123456789".to_string(), // right length, no symbols
    ] {
        let out = capture(&mut ctrl, 1, 5, &key);
        let Reply::Error { code, message } = &out.reply else { panic!("{key:?} was taken: {:?}", out.reply) };
        assert_eq!(*code, ErrorCode::Refused, "{key:?}: {message:?}");
        assert!(message.is("errNotTheKeyShown") && message.texts() == ["API token"], "{message:?}");
        assert!(!format!("{message:?}").contains("LEAKCANARY") && out.captured.is_none(), "{message:?}");
    }
    assert_eq!(captures_received(&mut ctrl), 0);
    // The key element's outline is what counts: the same page reporting the longer key takes it.
    let mut page = token_shown();
    let i = page.idx("key");
    page.model.elements[i].secret.as_mut().unwrap().len = 41;
    report(&mut ctrl, 1, 6, &page.model);
    assert!(matches!(capture(&mut ctrl, 1, 6, &format!("{KEY}x")).reply, Reply::Captured { .. }));
    assert_eq!(error_code(&capture(&mut ctrl, 1, 6, KEY)), Some(ErrorCode::Refused));
}

#[test]
fn outline_is_drawn_as_the_content_script_draws_it() {
    let shape = SecretShape::of(KEY);
    assert_eq!(shape, token_shape());
    let guid = SecretShape::of("0f8fad5b-d9cb-469f-a165-70867728950e");
    assert!(guid.guid && guid.hex && guid.lower && guid.digit && !guid.upper);
    assert_eq!((guid.len, guid.symbols.as_str()), (36, "-"));
    assert_eq!(SecretShape::of("b+a/c=Z9").symbols, "+/=");
}

#[test]
fn capture_of_a_string_not_shaped_like_the_token_is_unexpected() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 5, &token_shown().model);
    for key in [
        "LEAKCANARY+abc/def=ghiJKLmnoPQRstuVWXyz012",
        "LEAKCANARY-short",
        &format!("LEAKCANARY{}", "a".repeat(151)),
        "LEAKCANARY with spaces in the middle of it",
        " LEAKCANARY-padded-with-spaces-abcdefghij ",
        "",
    ] {
        assert_eq!(error_code(&capture(&mut ctrl, 1, 5, key)), Some(ErrorCode::Unexpected), "{key:?}");
    }
    assert_eq!(captures_received(&mut ctrl), 0);
}

#[test]
fn capture_on_a_page_without_a_key_is_unexpected() {
    for page in [dashboard(), token_list(), token_form(true)] {
        let mut ctrl = controller();
        report(&mut ctrl, 1, 1, &page.model);
        assert_eq!(error_code(&capture(&mut ctrl, 1, 1, KEY)), Some(ErrorCode::Unexpected), "{}", page.model.url);
    }
    // A key-like string whose outline does not fit the vendor's token does not make a capture page either.
    let mut page = token_shown();
    let i = page.idx("key");
    page.model.elements[i].secret.as_mut().unwrap().symbols = "+/=".into();
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &page.model);
    assert_eq!(error_code(&capture(&mut ctrl, 1, 1, KEY)), Some(ErrorCode::Unexpected));
}

#[test]
fn capture_before_any_report_or_on_an_unknown_host_is_unexpected() {
    let mut ctrl = controller();
    assert_eq!(error_code(&capture(&mut ctrl, 1, 1, KEY)), Some(ErrorCode::Unexpected));

    let page = token_shown().moved_to("https://control.predicthq.com.phish.test/tokens");
    report(&mut ctrl, 2, 1, &page.model);
    let out = ctrl.handle(
        &content_on(2, &page.model),
        Request::Capture { seq: 1, key: SecretString::new(KEY.into()), fields: Default::default() },
    );
    assert_eq!(error_code(&out), Some(ErrorCode::Unexpected));
}

#[test]
fn capture_in_one_tab_is_judged_by_that_tab_only() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_shown().model);
    report(&mut ctrl, 2, 1, &token_form(true).model);
    assert_eq!(error_code(&capture(&mut ctrl, 2, 1, KEY)), Some(ErrorCode::Unexpected));
    assert!(matches!(capture(&mut ctrl, 1, 1, KEY).reply, Reply::Captured { .. }));
}

#[test]
fn capture_still_works_after_the_walkthrough_is_dismissed() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 3, &token_shown().model);
    ctrl.handle(&panel(1), Request::Panel { event: Event::Dismiss });
    assert!(matches!(capture(&mut ctrl, 1, 3, KEY).reply, Reply::Captured { .. }));
}

#[test]
fn replies_never_contain_the_submitted_key() {
    let mut outcomes = Vec::new();
    let mut ctrl = controller();
    outcomes.push(capture(&mut ctrl, 1, 1, KEY)); // before any report
    report(&mut ctrl, 1, 1, &token_form(true).model);
    outcomes.push(capture(&mut ctrl, 1, 1, KEY)); // no key expected
    report(&mut ctrl, 1, 2, &token_shown().model);
    outcomes.push(capture(&mut ctrl, 1, 1, KEY)); // stale seq
    outcomes.push(capture(&mut ctrl, 1, 2, "LEAKCANARY+/=LEAKCANARY+/=LEAKCANARY")); // wrong shape
    outcomes.push(capture(&mut ctrl, 1, 2, KEY)); // received
    outcomes.push(
        ctrl.handle(
            &popup(),
            Request::Capture { seq: 2, key: SecretString::new(KEY.into()), fields: Default::default() },
        ),
    ); // forbidden
    outcomes.push(ctrl.handle(&popup(), Request::Status { tab: Some(1) }));
    for out in &outcomes {
        let debug = format!("{out:?}");
        let wire = serde_json::to_string(&Out::new(&out.reply)).unwrap();
        assert!(!debug.contains("LEAKCANARY") && !wire.contains("LEAKCANARY"), "{wire}");
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shape of replies and pushes

#[test]
fn replies_go_out_as_version_and_tagged_body() {
    let draw = Reply::Draw(Draw {
        seq: 3,
        highlight: Some(Mark { element: 7, vendor: "predicthq".into(), step: "copy-token".into() }),
        capture: None,
        fields: Vec::new(),
        recheck_ms: None,
        panel: true,
        pill: Some(keywarden::engine::protocol::Pill {
            vendor_name: "PredictHQ".into(),
            position: 6,
            total: 6,
            saved: false,
        }),
    });
    let cases = [
        (
            draw,
            json!({ "type": "draw", "seq": 3, "highlight": { "element": 7, "vendor": "predicthq", "step": "copy-token" }, "capture": null, "fields": [], "recheck_ms": null, "panel": true, "pill": { "vendor_name": "PredictHQ", "position": 6, "total": 6, "saved": false } }),
        ),
        (
            Reply::Captured { state: CaptureState::Received, vendor: "predicthq".into(), hint: None },
            json!({ "type": "captured", "state": "received", "vendor": "predicthq" }),
        ),
        (
            Reply::Status {
                tab: Some(TabStatus {
                    vendor: "predicthq".into(),
                    vendor_name: "PredictHQ".into(),
                    step_title: None,
                    dismissed: true,
                    guiding: false,
                    key_page: false,
                    quiet: false,
                }),
                host: Some("control.predicthq.com".into()),
                captures_received: 2,
                drift: Vec::new(),
            },
            json!({ "type": "status", "tab": { "vendor": "predicthq", "vendor_name": "PredictHQ", "step_title": null, "dismissed": true, "guiding": false, "key_page": false, "quiet": false }, "host": "control.predicthq.com", "captures_received": 2, "drift": [] }),
        ),
        (Reply::Done, json!({ "type": "done" })),
        (
            Reply::Error { code: ErrorCode::Forbidden, message: keywarden::words!("errNotForThisSender") },
            json!({ "type": "error", "code": "forbidden", "message": { "name": "errNotForThisSender" } }),
        ),
        (
            Reply::Error {
                code: ErrorCode::Refused,
                message: keywarden::words!(
                    "errImportSeal",
                    keywarden::words!("errSealInvalid", "key name", "is too long")
                ),
            },
            json!({ "type": "error", "code": "refused", "message": { "name": "errImportSeal", "args": [
                { "name": "errSealInvalid", "args": ["key name", "is too long"] }
            ] } }),
        ),
    ];
    for (reply, body) in cases {
        let value = serde_json::to_value(Out::new(&reply)).unwrap();
        assert_eq!(value, json!({ "v": VERSION, "body": body }));
        let back: Incoming<Reply> = serde_json::from_value(value).unwrap();
        assert_eq!((back.v, back.body), (VERSION, reply));
    }
}

#[test]
fn error_codes_have_snake_case_wire_names() {
    let names: Vec<Value> =
        [ErrorCode::Forbidden, ErrorCode::Version, ErrorCode::Malformed, ErrorCode::Unexpected, ErrorCode::Internal]
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
    assert_eq!(
        names,
        [json!("forbidden"), json!("version"), json!("malformed"), json!("unexpected"), json!("internal")]
    );
}

#[test]
fn pushes_from_a_real_session_survive_the_wire() {
    let mut ctrl = controller();
    let out = report(&mut ctrl, 1, 1, &token_shown().model);
    let reply = serde_json::to_value(Out::new(&out.reply)).unwrap();
    assert_eq!(reply["v"], VERSION);
    assert_eq!(reply["body"]["type"], "draw");
    assert_eq!(reply["body"]["capture"]["label"], "API token");

    let out = ctrl.handle(&panel(1), Request::Panel { event: Event::Dismiss });
    assert!(!out.pushes.is_empty());
    for (_, push) in &out.pushes {
        let text = serde_json::to_string(&Out::new(push)).unwrap();
        let back: Incoming<Push> = serde_json::from_str(&text).unwrap();
        assert_eq!((back.v, &back.body), (VERSION, push));
    }
    let hidden = serde_json::to_value(Out::new(&Push::Panel { view: None })).unwrap();
    assert_eq!(hidden, json!({ "v": VERSION, "body": { "type": "panel", "view": null } }));
}

/// content.js reads the panel's height by these names: a rename would leave every frame at its
/// first height.
#[test]
fn the_panel_height_push_keeps_the_names_the_content_script_reads() {
    let nonce = PanelNonce::parse("0123456789abcdef0123456789abcdef").unwrap();
    let fit = Push::PanelFit { panel: nonce, height: 412 };
    let wire = serde_json::to_value(Out::new(&fit)).unwrap();
    assert_eq!(
        wire,
        json!({ "v": VERSION, "body": { "type": "panel_fit", "panel": "0123456789abcdef0123456789abcdef", "height": 412 } })
    );
    let back: Incoming<Push> = serde_json::from_value(wire).unwrap();
    assert_eq!(back.body, fit);
    // And the panel's request as it sends it.
    let sent = serde_json::to_value(Out::new(&PanelRequest::Fit { height: 412 })).unwrap();
    assert_eq!(sent, json!({ "v": VERSION, "body": { "type": "fit", "height": 412 } }));
}

#[test]
fn secret_string_debug_is_redacted() {
    let s = SecretString::new(KEY.into());
    assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
    assert!(!format!("{:#?}", Some(&s)).contains("LEAKCANARY"));
    assert_eq!(s.expose(), KEY);
}

// ---------------------------------------------------------------------------------------------
// Who the browser says sent a message

const OWN_ID: &str = "keywarden@example";
const OWN_ORIGIN: &str = "moz-extension://1b2c3d4e";

/// A sender as the browser describes it (a `runtime.MessageSender`), read from its JSON form.
fn raw(id: Option<&str>, url: Option<&str>, tab: Option<u32>, frame: Option<u32>) -> RawSender {
    let mut v = json!({});
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    if let Some(url) = url {
        v["url"] = json!(url);
    }
    if let Some(tab) = tab {
        v["tab"] = json!({ "id": tab, "active": true });
    }
    if let Some(frame) = frame {
        v["frameId"] = json!(frame);
    }
    v["origin"] = json!("ignored");
    serde_json::from_value(v).expect("sender JSON")
}

#[test]
fn sender_classification_trusts_only_this_extension() {
    let cases: Vec<(RawSender, Result<Sender, ErrorCode>)> = vec![
        (
            raw(Some(OWN_ID), Some("https://control.predicthq.com/tokens"), Some(4), Some(0)),
            Ok(Sender::Content { tab: 4, frame: 0, url: "https://control.predicthq.com/tokens".into() }),
        ),
        (
            raw(Some(OWN_ID), Some("https://control.predicthq.com/tokens"), Some(4), Some(3)),
            Ok(Sender::Content { tab: 4, frame: 3, url: "https://control.predicthq.com/tokens".into() }),
        ),
        (raw(Some(OWN_ID), Some("moz-extension://1b2c3d4e/popup.html"), None, None), Ok(popup())),
        (raw(Some(OWN_ID), Some("moz-extension://1b2c3d4e/panel.html?tab=4#x"), Some(4), Some(7)), Ok(panel(4))),
        (
            raw(Some(OWN_ID), Some("moz-extension://1b2c3d4e/options.html"), None, None),
            Ok(Sender::Page { page: ExtensionPage::Options, tab: None }),
        ),
        (
            raw(Some(OWN_ID), Some("moz-extension://1b2c3d4e/panel.html.evil"), Some(4), None),
            Ok(Sender::Page { page: ExtensionPage::Other, tab: Some(4) }),
        ),
        // Someone else's extension, or no id at all.
        (
            raw(Some("other@example"), Some("moz-extension://1b2c3d4e/popup.html"), None, None),
            Err(ErrorCode::Forbidden),
        ),
        (raw(None, Some("https://control.predicthq.com/"), Some(4), Some(0)), Err(ErrorCode::Forbidden)),
        // No URL, or a content script without its tab or frame.
        (raw(Some(OWN_ID), None, Some(4), Some(0)), Err(ErrorCode::Forbidden)),
        (raw(Some(OWN_ID), Some("https://control.predicthq.com/"), None, Some(0)), Err(ErrorCode::Forbidden)),
        (raw(Some(OWN_ID), Some("https://control.predicthq.com/"), Some(4), None), Err(ErrorCode::Forbidden)),
        // A URL that only starts like the extension's origin is not one of its pages.
        (raw(Some(OWN_ID), Some("moz-extension://1b2c3d4e.evil/popup.html"), None, None), Err(ErrorCode::Forbidden)),
    ];
    for (raw_sender, want) in cases {
        assert_eq!(raw_sender.classify(OWN_ID, OWN_ORIGIN), want, "{raw_sender:?}");
        assert_eq!(raw_sender.classify(OWN_ID, &format!("{OWN_ORIGIN}/")), want, "origin with slash: {raw_sender:?}");
    }
}

/// Chromium's `use_dynamic_url` frames the panel under a per-session origin, not the extension
/// id: with our id, such a URL is still one of our pages, judged by its path.
#[test]
fn sender_classification_accepts_our_pages_under_a_dynamic_url() {
    let dynamic = "chrome-extension://9b0c1d2e-3f4a-5b6c-7d8e-9f0a1b2c3d4e";
    let own_chrome = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
    let cases: Vec<(RawSender, Result<Sender, ErrorCode>)> = vec![
        (
            raw(
                Some(OWN_ID),
                Some(&format!("{dynamic}/panel.html#00ff00ff00ff00ff00ff00ff00ff00ff")),
                Some(4),
                Some(7),
            ),
            Ok(panel(4)),
        ),
        (
            raw(Some(OWN_ID), Some("chrome-extension://hgfedcbahgfedcbahgfedcbahgfedcba/panel.html"), Some(4), Some(7)),
            Ok(panel(4)),
        ),
        (raw(Some(OWN_ID), Some("moz-extension://another-uuid/panel.html"), Some(4), Some(7)), Ok(panel(4))),
        (raw(Some(OWN_ID), Some(&format!("{dynamic}/popup.html")), None, None), Ok(popup())),
        (
            raw(Some(OWN_ID), Some(&format!("{dynamic}/panel.html.evil")), Some(4), Some(7)),
            Ok(Sender::Page { page: ExtensionPage::Other, tab: Some(4) }),
        ),
        // Not ours: another extension's id, or no id.
        (
            raw(Some("other@example"), Some(&format!("{dynamic}/panel.html")), Some(4), Some(7)),
            Err(ErrorCode::Forbidden),
        ),
        (raw(None, Some(&format!("{dynamic}/panel.html")), Some(4), Some(7)), Err(ErrorCode::Forbidden)),
        // Not an extension host: nothing to classify as a page (and no content script runs there).
        (raw(Some(OWN_ID), Some("chrome-extension:///panel.html"), None, None), Err(ErrorCode::Forbidden)),
        (raw(Some(OWN_ID), Some("chrome-extension://a.b/panel.html"), None, None), Err(ErrorCode::Forbidden)),
        (raw(Some(OWN_ID), Some("chrome-extension://abc"), None, None), Err(ErrorCode::Forbidden)),
        (raw(Some(OWN_ID), Some("chrome-extension:panel.html"), None, None), Err(ErrorCode::Forbidden)),
        // A web page stays a content script, whatever its path.
        (
            raw(Some(OWN_ID), Some("https://control.predicthq.com/panel.html"), Some(4), Some(0)),
            Ok(Sender::Content { tab: 4, frame: 0, url: "https://control.predicthq.com/panel.html".into() }),
        ),
    ];
    for (raw_sender, want) in cases {
        assert_eq!(raw_sender.classify(OWN_ID, own_chrome), want, "{raw_sender:?}");
        assert_eq!(raw_sender.classify(OWN_ID, OWN_ORIGIN), want, "{raw_sender:?}");
    }
}

/// The tab remembers which host its last report described; a key handed over by a content
/// script on another host (a page the tab has since left, say) must not be judged against it.
#[test]
fn capture_from_a_sender_on_another_host_than_the_report_is_refused() {
    let mut ctrl = controller();
    report(&mut ctrl, 1, 1, &token_shown().model);
    let elsewhere = Sender::Content { tab: 1, frame: 0, url: "https://elsewhere.example/keys".into() };
    let out = ctrl.handle(
        &elsewhere,
        Request::Capture { seq: 1, key: SecretString::new(KEY.into()), fields: Default::default() },
    );
    assert!(
        matches!(error_code(&out), Some(ErrorCode::Forbidden | ErrorCode::Unexpected)),
        "a key from elsewhere.example was taken as PredictHQ's: {:?}",
        out.reply
    );
    assert_eq!(captures_received(&mut ctrl), 0);
}

/// The clipboard requests: popup and options page arm and clear; only the options page sets the delay.
#[test]
fn clipboard_requests_are_split_between_popup_and_options() {
    use keywarden::engine::clipboard::ClipboardDigest;
    let digest = ClipboardDigest::of("abc");
    assert_eq!(digest.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let cases = [
        (json!({ "type": "arm_clipboard", "digest": digest.as_str() }), true),
        (json!({ "type": "clear_clipboard" }), true),
        (json!({ "type": "clipboard_status" }), true),
        (json!({ "type": "set_clipboard_clear", "seconds": 10 }), false),
    ];
    for (body, popup_too) in cases {
        let text = json!({ "v": VERSION, "body": body }).to_string();
        let from = |page| admit(&Sender::Page { page, tab: None }, text.as_str());
        assert!(from(ExtensionPage::Options).is_ok(), "{body}");
        assert_eq!(from(ExtensionPage::Popup).is_ok(), popup_too, "{body}");
        assert!(from(ExtensionPage::Other).is_err(), "{body}");
        assert!(admit(&panel(1), text.as_str()).is_err(), "{body}");
        assert!(admit(&content(1), text.as_str()).is_err(), "{body}");
    }
}

#[test]
fn entry_edits_are_the_popup_and_options_pages_and_parse_back_unchanged() {
    use keywarden::engine::protocol::ExtensionPage as P;
    let id = "AAAAAAAAAAAAAAAAAAAAAA".to_string();
    let sent = [
        OutgoingRequest::RenameEntry { id: id.clone(), name: "nightly export".into() },
        OutgoingRequest::SetEntryNotes { id: id.clone(), notes: "used by the warehouse job\nrotate in May".into() },
        OutgoingRequest::UndoDelete { id: id.clone() },
    ];
    for out in &sent {
        let text = serde_json::to_string(&Out::new(out)).unwrap();
        for (page, allowed) in [(P::Popup, true), (P::Options, true), (P::Panel, false), (P::Other, false)] {
            let got = admit(&Sender::Page { page, tab: Some(1) }, text.as_str());
            assert_eq!(got.is_ok(), allowed, "{text} from {page:?}: {got:?}");
        }
        let refused = admit(&content(1), text.as_str()).expect_err("a content script cannot ask");
        assert_eq!(refused.code, ErrorCode::Forbidden, "{text}");
        let Ok(Admitted::Page { request, .. }) = admit(&popup(), text.as_str()) else { unreachable!() };
        assert!(request.is_vault(), "{text} goes to the vault");
        let same = match (out, &request) {
            (OutgoingRequest::RenameEntry { id: a, name: x }, PageRequest::RenameEntry { id: b, name: y }) => {
                a == b && x == y
            }
            (OutgoingRequest::SetEntryNotes { id: a, notes: x }, PageRequest::SetEntryNotes { id: b, notes: y }) => {
                a == b && x == y
            }
            (OutgoingRequest::UndoDelete { id: a }, PageRequest::UndoDelete { id: b }) => a == b,
            _ => false,
        };
        assert!(same, "{text} came back as {request:?}");
    }
    // The options page's own business stays out of the popup's reach.
    let setup = wire(json!({ "type": "vault_setup", "passphrase": "correct horse battery staple" }));
    assert_eq!(admit(&popup(), setup.as_str()).unwrap_err().code, ErrorCode::Forbidden);
}

#[test]
fn a_deletion_reply_says_until_when_it_can_be_undone() {
    let reply = Reply::Deleted { id: "AAAAAAAAAAAAAAAAAAAAAA".into(), undo_until: 31_000 };
    let text = serde_json::to_string(&Out::new(&reply)).unwrap();
    assert_eq!(text, r#"{"v":2,"body":{"type":"deleted","id":"AAAAAAAAAAAAAAAAAAAAAA","undo_until":31000}}"#);
}
