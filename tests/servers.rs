//! Self-hosted products: servers added from the options page, recognition there and nowhere else, and tenants from the URL.

mod common;

use common::*;
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::{ErrorCode, Reply, Sender};
use keywarden::engine::recipe::Server;
use keywarden::engine::secret::SecretString;
use std::collections::BTreeMap;

const SERVER: &str = "planning.example-energy.test";
const KEY: &str = "pS0-Xa8Jd2_Kq9Lm4Nb7Vc1Zx6Wy3Tu5Rs8Qp2Oo4Ii";

fn add(
    ctrl: &mut keywarden::engine::controller::Controller,
    sender: &Sender,
    url: &str,
) -> keywarden::engine::controller::Outcome {
    ctrl.handle(sender, Request::AddServer { vendor: "planningspace".into(), url: url.into() })
}

fn key_page(host: &str) -> PageModel {
    let shape = SecretShape {
        len: KEY.len() as u32,
        lower: true,
        upper: true,
        digit: true,
        symbols: "-_".into(),
        ..SecretShape::default()
    };
    PageModel {
        url: format!("https://{host}/ACME/PlanningSpace/#/generateApiKey"),
        title: String::new(),
        elements: vec![
            el(Role::Heading, "Generate API Key"),
            Element { role: Some(Role::Textbox), secret: Some(shape), ..Element::default() },
            el(Role::Button, "Copy"),
        ],
    }
}

fn generate_page(host: &str) -> PageModel {
    PageModel {
        url: format!("https://{host}/ACME/PlanningSpace/#/generateApiKey"),
        title: String::new(),
        elements: vec![el(Role::Heading, "Generate API Key"), el(Role::Button, "Create key")],
    }
}

#[test]
fn only_the_options_page_manages_servers() {
    let mut ctrl = controller();
    for sender in [popup(), panel(1), content(1)] {
        let out = add(&mut ctrl, &sender, &format!("https://{SERVER}/ACME/"));
        assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Forbidden, .. }), "{sender:?}");
        assert!(!ctrl.take_changes().servers);
    }
    assert!(ctrl.servers().is_empty());
}

#[test]
fn an_added_server_is_recognized_and_an_unadded_one_is_not() {
    let mut ctrl = controller();
    let unadded = key_page("planning.other-company.test");
    let sender = Sender::Content { tab: 1, frame: 0, url: unadded.url.clone() };
    let out = ctrl.handle(&sender, Request::Report { seq: 1, page: unadded, panel: None });
    assert_eq!(reply_draw(&out).capture, None, "no server added yet");

    let out = add(&mut ctrl, &options(), &format!("https://{SERVER}/ACME/PlanningSpace/"));
    assert!(ctrl.take_changes().servers);
    let Reply::Servers { vendors, servers } = out.reply else { panic!("{:?}", out.reply) };
    assert_eq!(vendors.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), ["planningspace"]);
    assert_eq!(servers, vec![Server { vendor: "planningspace".into(), host: SERVER.into() }]);

    let page = generate_page(SERVER);
    let out = ctrl.handle(
        &Sender::Content { tab: 2, frame: 0, url: page.url.clone() },
        Request::Report { seq: 1, page, panel: None },
    );
    assert_eq!(highlighted(reply_draw(&out)), Some("create-key"));
    let view = pushed_panels(&out)[0].1.expect("panel").clone();
    assert!(view.warning.expect("replacement warning").contains("REPLACES"));

    let other = key_page("planning.other-company.test");
    let out = ctrl.handle(
        &Sender::Content { tab: 3, frame: 0, url: other.url.clone() },
        Request::Report { seq: 1, page: other, panel: None },
    );
    assert_eq!(reply_draw(&out).capture, None, "another company's server stays unknown");
}

#[test]
fn capture_on_a_server_records_server_and_tenant() {
    let mut ctrl = controller();
    add(&mut ctrl, &options(), &format!("https://{SERVER}/ACME/PlanningSpace/"));
    let page = key_page(SERVER);
    let sender = Sender::Content { tab: 1, frame: 0, url: page.url.clone() };
    let out = ctrl.handle(&sender, Request::Report { seq: 1, page, panel: None });
    assert!(reply_draw(&out).capture.is_some());
    let out =
        ctrl.handle(&sender, Request::Capture { seq: 1, key: SecretString::new(KEY.into()), fields: BTreeMap::new() });
    let captured = out.captured.expect("key handed on");
    assert_eq!(captured.vendor, "planningspace");
    assert_eq!(captured.tenant, format!("{SERVER}/ACME"));
}

#[test]
fn servers_cannot_claim_fixed_vendor_hosts_or_fixed_vendors() {
    let mut ctrl = controller();
    let out = add(&mut ctrl, &options(), "https://control.predicthq.com/");
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Unexpected, .. }));
    let out =
        ctrl.handle(&options(), Request::AddServer { vendor: "predicthq".into(), url: format!("https://{SERVER}/") });
    assert!(matches!(out.reply, Reply::Error { .. }));
    let out = add(&mut ctrl, &options(), &format!("http://{SERVER}/"));
    assert!(matches!(out.reply, Reply::Error { code: ErrorCode::Malformed, .. }), "plain http is refused");
    assert!(ctrl.servers().is_empty());
}

#[test]
fn removing_a_server_stops_recognition_there() {
    let mut ctrl = controller();
    add(&mut ctrl, &options(), &format!("https://{SERVER}/ACME/"));
    ctrl.handle(&options(), Request::RemoveServer { host: SERVER.into() });
    assert!(ctrl.take_changes().servers);
    let page = generate_page(SERVER);
    let out = ctrl.handle(
        &Sender::Content { tab: 1, frame: 0, url: page.url.clone() },
        Request::Report { seq: 1, page, panel: None },
    );
    assert_eq!(highlighted(reply_draw(&out)), None);
}

#[test]
fn saved_servers_are_restored_and_invalid_ones_dropped() {
    let mut ctrl = controller();
    ctrl.restore_servers(vec![
        Server { vendor: "planningspace".into(), host: SERVER.into() },
        Server { vendor: "planningspace".into(), host: "control.predicthq.com".into() },
        Server { vendor: "nobody".into(), host: "x.example.test".into() },
    ]);
    assert_eq!(ctrl.servers(), &[Server { vendor: "planningspace".into(), host: SERVER.into() }]);
}
