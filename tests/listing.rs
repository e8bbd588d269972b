//! The popup's listing logic: search as the admin types, this site's keys first, the rest grouped by vendor and tenant, and the short texts around them.

use keywarden::engine::listing::{
    arrange, given_name, hue, is_here, masked, matches, monogram, plural, search_text, seconds_left, Plural,
};
use keywarden::engine::protocol::{EntrySummary, EntryTrust};
use keywarden::engine::vault::EntryState;

fn entry(id: &str, vendor: &str, vendor_name: &str, tenant: &str, name: &str, created_at: u64) -> EntrySummary {
    EntrySummary {
        id: id.into(),
        vendor: vendor.into(),
        vendor_name: vendor_name.into(),
        tenant: tenant.into(),
        account: String::new(),
        key_name: name.into(),
        scopes: Vec::new(),
        created_at,
        page_url: String::new(),
        notes: String::new(),
        state: EntryState::Active,
        trust: EntryTrust::Verified,
        hint: "…abcd".into(),
    }
}

fn vault() -> Vec<EntrySummary> {
    let mut phq = entry("p1", "predicthq", "PredictHQ", "control.predicthq.com", "nightly export", 10);
    phq.scopes = vec!["Account".into(), "Events".into()];
    phq.page_url = "https://control.predicthq.com/tokens".into();
    let phq2 = entry("p2", "predicthq", "PredictHQ", "control.predicthq.com", "warehouse", 30);
    let mut pi = entry("i1", "predictiveindex", "Predictive Index", "app.predictiveindex.com", "", 20);
    pi.account = "data.manager@acme.example".into();
    let mut gtv = entry("g1", "gotransverse", "Gotransverse", "partners.gotransverse.com", "billing", 40);
    gtv.scopes = vec!["Billing".into(), "Usage Processing".into()];
    let ps_a = entry("s1", "planningspace", "PlanningSpace", "ps.acme.example/ACME", "odata", 50);
    let ps_b = entry("s2", "planningspace", "PlanningSpace", "ps.acme.example/BETA", "odata", 60);
    let mut foreign = entry("f1", "predicthq", "PredictHQ", "control.predicthq.com", "planted", 70);
    foreign.trust = EntryTrust::Foreign;
    vec![phq, phq2, pi, gtv, ps_a, ps_b, foreign]
}

fn ids(list: &[&EntrySummary]) -> Vec<String> {
    list.iter().map(|e| e.id.clone()).collect()
}

fn found(query: &str) -> Vec<String> {
    let all = vault();
    let a = arrange(&all, query, None);
    let mut out: Vec<String> = a.groups.iter().flat_map(|g| ids(&g.entries)).collect();
    out.sort();
    out
}

#[test]
fn search_looks_at_vendor_name_tenant_scopes_and_account_ignoring_case() {
    assert_eq!(found("predicthq"), ["p1", "p2"], "vendor id");
    assert_eq!(found("predictive"), ["i1"], "vendor name");
    assert_eq!(found("WAREHOUSE"), ["p2"], "key name, any case");
    assert_eq!(found("partners.gotransverse"), ["g1"], "tenant");
    assert_eq!(found("usage processing"), ["g1"], "a scope of two words");
    assert_eq!(found("events"), ["p1"], "a scope");
    assert_eq!(found("data.manager"), ["i1"], "account");
    assert_eq!(found("beta odata"), ["s2"], "every word must match somewhere");
    assert_eq!(found("  odata   "), ["s1", "s2"], "spaces around do not count");
    assert_eq!(found("nothing like this"), Vec::<String>::new());
    assert_eq!(found("").len(), 6, "an empty search lists every kept key");
    assert!(matches(&vault()[0], "Predict"), "a prefix is enough");
}

#[test]
fn search_never_lists_keys_found_in_storage_among_the_kept_ones() {
    let all = vault();
    let a = arrange(&all, "planted", Some("control.predicthq.com"));
    assert!(a.here.is_empty() && a.groups.is_empty());
    assert_eq!((a.shown, a.total), (0, 6));
}

#[test]
fn this_sites_keys_come_first_newest_first_and_the_rest_are_grouped() {
    let all = vault();
    let a = arrange(&all, "", Some("control.predicthq.com"));
    assert_eq!(ids(&a.here), ["p2", "p1"], "the active tab's keys first, newest first");
    let heads: Vec<(&str, &str)> = a.groups.iter().map(|g| (g.vendor_name, g.tenant)).collect();
    assert_eq!(
        heads,
        [
            ("Gotransverse", "partners.gotransverse.com"),
            ("PlanningSpace", "ps.acme.example/ACME"),
            ("PlanningSpace", "ps.acme.example/BETA"),
            ("Predictive Index", "app.predictiveindex.com"),
        ],
        "the rest by vendor name, then tenant"
    );
    assert_eq!((a.shown, a.total), (6, 6));
    // Without a vendor page in the tab, nothing is "here" and PredictHQ is a group like the others.
    let a = arrange(&all, "", None);
    assert!(a.here.is_empty());
    let phq = a.groups.iter().find(|g| g.vendor == "predicthq").unwrap();
    assert_eq!(ids(&phq.entries), ["p2", "p1"]);
}

#[test]
fn a_self_hosted_tenant_is_here_on_its_server() {
    let all = vault();
    let a = arrange(&all, "", Some("ps.acme.example"));
    assert_eq!(ids(&a.here), ["s2", "s1"]);
    assert!(!is_here(&all[0], "predicthq.com"), "a parent domain is another site");
    assert!(!is_here(&all[0], "control.predicthq.com.phish.test"));
    assert!(!is_here(&all[0], ""));
    let mut moved = all[0].clone();
    moved.tenant = "somewhere else".into();
    assert!(is_here(&moved, "CONTROL.predicthq.com"), "the page it was captured on counts too");
}

#[test]
fn searching_keeps_this_sites_keys_first() {
    let all = vault();
    let a = arrange(&all, "nightly", Some("control.predicthq.com"));
    assert_eq!(ids(&a.here), ["p1"]);
    assert!(a.groups.is_empty());
}

#[test]
fn vendor_icons_get_letters_and_a_steady_colour() {
    assert_eq!(monogram("PredictHQ"), "PH");
    assert_eq!(monogram("Predictive Index"), "PI");
    assert_eq!(monogram("PlanningSpace"), "PS");
    assert_eq!(monogram("Gotransverse"), "G");
    assert_eq!(monogram("  "), "?");
    assert_eq!(hue("predicthq"), hue("predicthq"));
    assert_ne!(hue("predicthq"), hue("gotransverse"));
    assert!(["predicthq", "predictiveindex", "gotransverse", "planningspace"].iter().all(|v| hue(v) < 360));
}

#[test]
fn short_texts_get_their_numbers_and_forms() {
    assert_eq!(masked("…abcd"), "•••• abcd");
    assert_eq!((plural(1), plural(0), plural(3)), (Plural::One, Plural::Other, Plural::Other), "1 key, 0 keys, 3 keys");
    let all = vault();
    assert_eq!(given_name(&all[0]), Some("nightly export"));
    assert_eq!(given_name(&all[2]), None, "a key without a name is listed as unnamed");
    let mut blank = all[0].clone();
    blank.key_name = "   ".into();
    assert_eq!(given_name(&blank), None, "spaces are no name");
    assert_eq!(seconds_left(31_000, 1_000), 30);
    assert_eq!(seconds_left(31_000, 1_001), 30, "rounded up");
    assert_eq!(seconds_left(31_000, 30_001), 1);
    assert_eq!(seconds_left(31_000, 40_000), 0);
}

#[test]
fn search_text_folds_every_field_as_a_query_is_folded() {
    // The plain definition: each field with its runs of spaces made one, lower-cased whole (so a
    // final capital sigma becomes ς), a field break inside a field made a space.
    let reference = |e: &EntrySummary| -> String {
        let fields = [&e.vendor, &e.vendor_name, &e.key_name, &e.tenant, &e.account];
        fields
            .into_iter()
            .chain(&e.scopes)
            .map(|f| {
                let folded = f.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
                format!("\u{1f}{}", folded.replace('\u{1f}', " "))
            })
            .collect()
    };
    let mut odd = entry("x", "predicthq", "PredictHQ", "Control.PredictHQ.com", "  Nightly\tEXPORT  key ", 1);
    odd.account = "ΟΔΥΣΣΕΥΣ Ops".into();
    odd.scopes = vec!["events:READ".into(), "a\u{1f}b".into(), "Straße  Ärger".into(), String::new()];
    for e in vault().iter().chain([&odd]) {
        assert_eq!(search_text(e), reference(e), "{e:?}");
    }
    assert!(matches(&odd, "οδυσσευς"), "a Greek name is found as typed in lower case");
    assert!(matches(&odd, "nightly export"));
}
