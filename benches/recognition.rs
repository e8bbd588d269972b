//! Prints, as `@figure` lines for `./build.sh bench`, how recognition fares on every saved case (pages recognized, false positives) and how long the worker takes to answer a page report, for small and very large pages.

use keywarden::engine::controller::Controller;
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::ContentRequest;
use keywarden::engine::recipe::Catalog;
use keywarden::explain::case;
use serde_json::{json, Value};
use std::time::Instant;

/// Prints one figure in the shared bench format: `@figure {json}`.
fn figure(id: &str, label: &str, value: f64, unit: &str, goal: Option<f64>, extra: Value) {
    let mut f = json!({ "id": id, "label": label, "value": value, "unit": unit, "goal": goal });
    if let (Some(f), Value::Object(extra)) = (f.as_object_mut(), extra) {
        f.extend(extra);
    }
    println!("@figure {f}");
}

/// The median, minimum and maximum of `samples` (not empty).
fn spread(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 { samples[n / 2] } else { (samples[n / 2 - 1] + samples[n / 2]) / 2.0 };
    (median, samples[0], samples[n - 1])
}

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
    let (mut keyless, mut false_after_generate) = (0, 0);
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
            if !case.offered {
                keyless += 1;
                false_after_generate += usize::from(case::offered_after_generating(&case, &html).unwrap_or(true));
            }
        }
    }
    let took = start.elapsed().as_secs_f64() * 1e3;
    let n = json!({ "note": format!("{total} saved cases") });
    figure(
        "recognition.cases.right",
        "saved cases recognized as expected",
        right as f64,
        "cases",
        Some(total as f64),
        json!({ "better": "higher", "note": format!("of {total}") }),
    );
    figure(
        "recognition.cases.false_key_pages",
        "saved cases: false positives, key page",
        false_pages as f64,
        "cases",
        Some(0.0),
        n.clone(),
    );
    figure(
        "recognition.cases.false_keys",
        "saved cases: false positives, key offered",
        false_keys as f64,
        "cases",
        Some(0.0),
        n.clone(),
    );
    figure(
        "recognition.cases.false_keys_after_generate",
        "saved cases without a key: a key offered right after a generating step",
        false_after_generate as f64,
        "cases",
        Some(0.0),
        json!({ "note": format!("{keyless} cases without a key, each judged with every generating step of its vendor just performed") }),
    );
    figure(
        "recognition.cases.missed_keys",
        "saved cases: keys on screen not offered",
        missed_keys as f64,
        "cases",
        Some(0.0),
        n,
    );
    figure(
        "recognition.cases.judge_all",
        "judge every saved case (parse + recognize), native",
        took,
        "ms",
        None,
        json!({}),
    );
}

/// Whether the page a case expects is one of its recipe's key pages.
fn catalog_key_page(case: &case::Case) -> bool {
    let Some((vendor, page, _)) = &case.expect else { return false };
    let catalog = Catalog::builtin().expect("recipes");
    catalog.vendor(vendor).and_then(|r| r.pages.iter().find(|p| p.id == *page)).is_some_and(|p| p.key_page)
}

/// Runs `batch` `batches` times and returns the time per call of each batch, in µs.
fn per_call_us(batches: usize, per_batch: usize, mut batch: impl FnMut(usize)) -> Vec<f64> {
    (0..batches)
        .map(|b| {
            let start = Instant::now();
            for i in 0..per_batch {
                batch(b * per_batch + i);
            }
            start.elapsed().as_secs_f64() * 1e6 / per_batch as f64
        })
        .collect()
}

fn main() {
    cases();
    let loads = per_call_us(15, 5, |_| {
        std::hint::black_box(Catalog::builtin().expect("recipes"));
    });
    let (median, min, max) = spread(loads);
    figure(
        "recognition.recipes.load",
        "load and validate the built-in recipes, native",
        median,
        "µs",
        None,
        json!({ "min": min, "max": max, "runs": 15 }),
    );
    let catalog = Catalog::builtin().expect("recipes");
    for filler in [10, 200, 1500] {
        let model = page(filler);
        let mut controller = Controller::new(catalog.clone());
        let samples = per_call_us(15, 20, |seq| {
            let report = ContentRequest::Report { seq: seq as u64, page: model.clone(), panel: None };
            std::hint::black_box(controller.content(1, &model.url, report, 0));
        });
        let (median, min, max) = spread(samples);
        let elements = model.elements.len();
        figure(
            &format!("recognition.report.{elements}"),
            &format!("worker answers a page report of {elements} elements, native"),
            median,
            "µs",
            None,
            json!({ "min": min, "max": max, "runs": 15, "note": "each run the mean of 20 reports" }),
        );
    }
}
