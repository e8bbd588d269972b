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
    let address = format!("https://{SERVER}/ACME");
    assert_eq!(servers, vec![Server { vendor: "planningspace".into(), host: SERVER.into(), address }]);

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
    let server = |vendor: &str, host: &str| Server { vendor: vendor.into(), host: host.into(), address: String::new() };
    ctrl.restore_servers(vec![
        server("planningspace", SERVER),
        server("planningspace", "control.predicthq.com"),
        server("nobody", "x.example.test"),
    ]);
    assert_eq!(ctrl.servers(), &[server("planningspace", SERVER)]);
}

#[test]
fn a_server_is_kept_with_its_address_cut_where_the_vendors_pages_start() {
    let cases = [
        (format!("https://{SERVER}/ACME"), format!("https://{SERVER}/ACME")),
        (format!("https://{SERVER}/ACME/"), format!("https://{SERVER}/ACME")),
        // The admin pasted the key page itself, or a page inside PlanningSpace Web.
        (format!("https://{SERVER}/ACME/PlanningSpace/#/generateApiKey"), format!("https://{SERVER}/ACME")),
        (format!("https://{SERVER}/Energy/West/planningspace/?x=1"), format!("https://{SERVER}/Energy/West")),
        (format!("https://{}:8443/ACME#/home", SERVER.to_uppercase()), format!("https://{SERVER}:8443/ACME")),
        (format!("https://{SERVER}"), format!("https://{SERVER}")),
        // Odd path characters leave the server's origin only.
        (format!("https://{SERVER}/AC%22ME/x\"onclick=\"y"), format!("https://{SERVER}")),
    ];
    for (url, address) in cases {
        let mut ctrl = controller();
        let out = add(&mut ctrl, &options(), &url);
        assert!(matches!(out.reply, Reply::Servers { .. }), "{url}: {:?}", out.reply);
        assert_eq!(ctrl.servers()[0].address, address, "{url}");
        let pages = ctrl.catalog().server_key_pages("planningspace");
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].url, format!("{address}/PlanningSpace/#/generateApiKey"), "{url}");
        assert_eq!(pages[0].server, address.trim_start_matches("https://"), "{url}");
    }
}

#[test]
fn a_restored_address_on_another_host_leaves_only_the_host() {
    let mut ctrl = controller();
    let kept = |address: &str| Server { vendor: "planningspace".into(), host: SERVER.into(), address: address.into() };
    ctrl.restore_servers(vec![kept("https://elsewhere.example.test/ACME")]);
    assert_eq!(ctrl.servers(), &[kept("")]);
    assert_eq!(
        ctrl.catalog().server_key_pages("planningspace")[0].url,
        format!("https://{SERVER}/PlanningSpace/#/generateApiKey")
    );
    ctrl.restore_servers(vec![kept(&format!("https://{SERVER}/ACME"))]);
    assert_eq!(ctrl.servers(), &[kept(&format!("https://{SERVER}/ACME"))]);
}

#[test]
fn servers_saved_before_addresses_were_kept_still_load() {
    let old: Vec<Server> =
        serde_json::from_str(&format!(r#"[{{"vendor":"planningspace","host":"{SERVER}"}}]"#)).unwrap();
    assert_eq!(old[0].address, "");
    assert_eq!(serde_json::to_string(&old).unwrap(), format!(r#"[{{"vendor":"planningspace","host":"{SERVER}"}}]"#));
}
