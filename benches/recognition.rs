//! Prints how recognition fares on every saved case (pages recognized, false positives) and how long the worker takes to answer a page report, for small and very large pages (`./build.sh bench`).

use keywarden::engine::controller::Controller;
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::ContentRequest;
use keywarden::engine::recipe::Catalog;
use keywarden::explain::case;
use std::time::Instant;

/// A PredictHQ token page padded with `filler` unrelated rows, as a busy console would be.
fn page(filler: usize) -> PageModel {
    let mut elements = vec![
        Element { role: Some(Role::Link), text: "API Tokens".into(), ..Element::default() },
        Element { role: Some(Role::Heading), text: "API Tokens".into(), level: Some(1), ..Element::default() },
    ];
    for i in 0..filler {
        elements.push(Element {
            role: Some(Role::Cell),
            text: format!("integration {i} | nightly export"),
            ..Element::default()
        });
    }
    elements.push(Element {
        role: Some(Role::Text),
        text: "•".into(),
        secret: Some(SecretShape {
            len: 40,
            lower: true,
            upper: true,
            digit: true,
            symbols: "-_".into(),
            ..SecretShape::default()
        }),
        ..Element::default()
    });
    elements.push(Element { role: Some(Role::Button), text: "Copy Token".into(), ..Element::default() });
    PageModel { url: "https://control.predicthq.com/tokens".into(), title: "API Tokens".into(), elements }
}

/// Every saved case under tests/data/pages/<vendor>/: recognized as the case says, key pages or
/// keys where the case expects none (false positives), and keys missed.
fn cases() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pages");
    let (mut total, mut right, mut false_pages, mut false_keys, mut missed_keys) = (0, 0, 0, 0, 0);
    let mut vendors: Vec<_> = std::fs::read_dir(&root).expect("tests/data/pages").flatten().map(|e| e.path()).collect();
    vendors.retain(|p| p.is_dir());
    vendors.sort();
    let start = Instant::now();
    for dir in vendors {
        let mut files: Vec<_> = std::fs::read_dir(&dir).expect("a vendor folder").flatten().map(|e| e.path()).collect();
        files.retain(|p| p.extension().is_some_and(|x| x == "html"));
        for file in files {
            let html = std::fs::read_to_string(&file).expect("a case");
            let name = file.display().to_string();
            let Ok(case) = case::parse(&name, &html) else { continue };
            total += 1;
            if case::judge(&case, &html).is_none() {
                right += 1;
            }
            if let Some((key_page, offered)) = case::outcome(&case, &html) {
                let expected_key_page = catalog_key_page(&case);
                false_pages += usize::from(key_page && !expected_key_page);
                false_keys += usize::from(offered && !case.offered);
                missed_keys += usize::from(!offered && case.offered);
            }
        }
    }
    let took = start.elapsed().as_secs_f64() * 1e3;
    println!("saved cases recognized as expected:   {right:>5} of {total}");
    println!("false positives, key page:            {false_pages:>5}");
    println!("false positives, key offered:         {false_keys:>5}");
    println!("keys on screen not offered:           {missed_keys:>5}");
    println!("judge every case (parse + recognize): {took:>8.1} ms");
}

/// Whether the page a case expects is one of its recipe's key pages.
fn catalog_key_page(case: &case::Case) -> bool {
    let Some((vendor, page, _)) = &case.expect else { return false };
    let catalog = Catalog::builtin().expect("recipes");
    catalog.vendor(vendor).and_then(|r| r.pages.iter().find(|p| p.id == *page)).is_some_and(|p| p.key_page)
}

fn main() {
    cases();
    let start = Instant::now();
    let catalog = Catalog::builtin().expect("recipes");
    println!("load and validate built-in recipes: {:>8.1} µs", start.elapsed().as_secs_f64() * 1e6);
    for filler in [10, 200, 1500] {
        let model = page(filler);
        let mut controller = Controller::new(catalog.clone());
        let rounds = 200;
        let start = Instant::now();
        for seq in 0..rounds {
            let out =
                controller.content(1, &model.url, ContentRequest::Report { seq, page: model.clone(), panel: None }, 0);
            std::hint::black_box(out);
        }
        let per = start.elapsed().as_secs_f64() / rounds as f64;
        println!("answer a report of {:>5} elements:  {:>8.1} µs", model.elements.len(), per * 1e6);
    }
}
