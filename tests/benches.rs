//! Every benchmark under `benches/` is declared in Cargo.toml with `harness = false`: each has its own `main` that prints `@figure` lines, which the test harness would refuse to run.

use std::path::Path;

#[test]
fn every_bench_file_is_declared_without_the_test_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml")).unwrap().parse().unwrap();
    let declared = manifest.get("bench").and_then(|b| b.as_array()).cloned().unwrap_or_default();
    let mut files: Vec<String> = std::fs::read_dir(root.join("benches"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".rs").map(String::from))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for name in &files {
        let entry = declared
            .iter()
            .find(|b| b.get("name").and_then(|n| n.as_str()) == Some(name))
            .unwrap_or_else(|| panic!("benches/{name}.rs has no [[bench]] entry in Cargo.toml"));
        assert_eq!(
            entry.get("harness").and_then(|h| h.as_bool()),
            Some(false),
            "benches/{name}.rs must be declared with harness = false"
        );
    }
}
