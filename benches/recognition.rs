//! Prints how long the worker takes to answer a page report, for small and very large pages (`./build.sh bench`).

use keywarden::engine::controller::Controller;
use keywarden::engine::page::{Element, PageModel, Role, SecretShape};
use keywarden::engine::protocol::ContentRequest;
use keywarden::engine::recipe::Catalog;
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

fn main() {
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
