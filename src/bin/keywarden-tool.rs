//! Build-time and authoring helper: writes each browser's manifest, and explains what the engine makes of a saved page.

use keywarden::engine::recipe::Catalog;
#[cfg(not(target_arch = "wasm32"))]
use keywarden::engine::recipe::ServerError;
use serde_json::{Map, Value};
use std::process::ExitCode;

const USAGE: &str = "usage: keywarden-tool manifest <extension-dir> <chrome|firefox> <version>
       keywarden-tool explain <saved-page.html> <url> [--server vendor=host]... [--after step]...
       keywarden-tool model <saved-page.html> <url>
       keywarden-tool vault-image <entries> <passphrase>";
#[cfg(not(target_arch = "wasm32"))]
const EXPLAIN_USAGE: &str =
    "usage: keywarden-tool explain <saved-page.html> <url> [--server vendor=host]... [--after step]...
  Prints what keywarden makes of a saved page shown at <url>; --server lets a self-hosted
  vendor be recognized on that host; --after says the admin just performed that step of the
  vendor's recipe in this tab. Exit status: 0 recognized, 1 not recognized, 2 error.";

/// Exit status of `explain` when the page is not recognized.
const NOT_RECOGNIZED: u8 = 1;
/// Exit status for a usage mistake or a file that cannot be read.
const USAGE_ERROR: u8 = 2;

/// Merges `over` into `base`: objects key by key, anything else replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

fn read_json(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

fn manifest(dir: &str, browser: &str, version: &str) -> Result<Value, String> {
    if !matches!(browser, "chrome" | "firefox") {
        return Err(format!("unknown browser {browser:?}"));
    }
    let catalog = Catalog::builtin().map_err(|e| e.to_string())?;
    let mut m = read_json(&format!("{dir}/manifest.base.json"))?;
    let mut own = read_json(&format!("{dir}/manifest.{browser}.json"))?;
    // A browser's own permissions (Chrome's `offscreen`) come on top of the shared ones.
    let extra = own.as_object_mut().and_then(|o| o.remove("permissions"));
    merge(&mut m, own);
    if let Some(Value::Array(extra)) = extra {
        let list = m
            .as_object_mut()
            .ok_or("manifest is not an object")?
            .entry("permissions")
            .or_insert(Value::Array(Vec::new()));
        let list = list.as_array_mut().ok_or("permissions is not a list")?;
        for p in extra {
            if !list.contains(&p) {
                list.push(p);
            }
        }
    }
    let hosts: Vec<Value> =
        catalog.recipes.iter().flat_map(|r| r.vendor.hosts.iter().map(|h| Value::String(h.match_pattern()))).collect();
    // Self-hosted products run on servers the admin adds: their origins are asked for at that
    // moment, and the panel frame must be loadable there too.
    let self_hosted = catalog.recipes.iter().any(|r| r.vendor.self_hosted);
    let any_server = Value::String("https://*/*".into());
    let obj: &mut Map<String, Value> = m.as_object_mut().ok_or("manifest is not an object")?;
    obj.insert("version".into(), Value::String(version.into()));
    obj.insert("host_permissions".into(), Value::Array(hosts.clone()));
    if self_hosted {
        obj.insert("optional_host_permissions".into(), Value::Array(vec![any_server.clone()]));
    }
    let set_matches = |obj: &mut Map<String, Value>, key: &str, matches: Vec<Value>| -> Result<(), String> {
        for entry in obj.get_mut(key).and_then(Value::as_array_mut).ok_or(format!("{key} missing"))? {
            entry
                .as_object_mut()
                .ok_or(format!("{key} entry is not an object"))?
                .insert("matches".into(), Value::Array(matches.clone()));
        }
        Ok(())
    };
    set_matches(obj, "content_scripts", hosts.clone())?;
    set_matches(obj, "web_accessible_resources", if self_hosted { vec![any_server] } else { hosts })?;
    if browser == "chrome" {
        // Loadable only through the per-session URL `runtime.getURL` gives content scripts, so
        // no website can tell that keywarden is installed by loading the panel. Firefox's
        // manifest schema does not know the key (its moz-extension host is per install anyway).
        for entry in obj.get_mut("web_accessible_resources").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(entry) = entry.as_object_mut() {
                entry.insert("use_dynamic_url".into(), Value::Bool(true));
            }
        }
    }
    Ok(m)
}

/// `explain`: loads a saved page, builds the page model the content script would report, and
/// prints what the engine makes of it. Ok(true) when a vendor page is recognized.
#[cfg(not(target_arch = "wasm32"))]
fn explain(args: &[&str]) -> Result<bool, String> {
    let mut positional = Vec::new();
    let mut servers = Vec::new();
    let mut after = Vec::new();
    let mut rest = args.iter();
    while let Some(&arg) = rest.next() {
        match arg {
            "--server" => servers.push(*rest.next().ok_or("--server needs vendor=host")?),
            "--after" => after.push(rest.next().ok_or("--after needs a step id")?.to_string()),
            _ if arg.starts_with("--after=") => after.push(arg["--after=".len()..].to_string()),
            _ if arg.starts_with("--server=") => servers.push(&arg["--server=".len()..]),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}\n{EXPLAIN_USAGE}")),
            _ => positional.push(arg),
        }
    }
    let [file, url] = positional.as_slice() else { return Err(EXPLAIN_USAGE.to_string()) };
    let mut catalog = Catalog::builtin().map_err(|e| e.to_string())?;
    for server in servers {
        let (vendor, host) = server.split_once('=').ok_or(format!("--server {server:?}: expected vendor=host"))?;
        let self_hosted: Vec<String> =
            catalog.recipes.iter().filter(|r| r.vendor.self_hosted).map(|r| r.vendor.id.clone()).collect();
        let known = format!("(self-hosted vendors: {})", self_hosted.join(", "));
        match (catalog.vendor(vendor).is_some(), catalog.add_server(vendor, host)) {
            (false, _) => return Err(format!("--server {server}: no vendor is called {vendor:?} {known}")),
            (true, Err(e @ ServerError::NotSelfHosted(_))) => return Err(format!("--server {server}: {e} {known}")),
            (true, Err(e)) => return Err(format!("--server {server}: {e}")),
            (true, Ok(_)) => {}
        }
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let html = String::from_utf8_lossy(&bytes);
    let model = keywarden::explain::page_model(html.trim_start_matches('\u{feff}'), url);
    let explanation = keywarden::explain::explain_after(&catalog, &model, &after)?;
    print!("{}", explanation.report);
    Ok(explanation.recognized)
}

/// `model`: prints, as JSON, the page model the content script would report for a saved page at
/// `url` (the golden model beside a recognition case).
#[cfg(not(target_arch = "wasm32"))]
fn model(file: &str, url: &str) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let html = String::from_utf8_lossy(&bytes);
    let model = keywarden::explain::page_model(html.trim_start_matches('\u{feff}'), url);
    print!("{}", keywarden::explain::model::golden(&model));
    Ok(())
}

#[cfg(target_arch = "wasm32")]
fn model(_: &str, _: &str) -> Result<(), String> {
    Err("model is available in native builds only".into())
}

#[cfg(target_arch = "wasm32")]
fn explain(_: &[&str]) -> Result<bool, String> {
    Err("explain is available in native builds only".into())
}

/// A `storage.local` image of a vault holding `entries` generated test keys (Argon2 at the
/// production floor: 64 MiB, 3 passes), for the browser benchmark to load without capturing
/// each key through a page. Printed as one JSON object of items.
fn vault_image(entries: &str, passphrase: &str) -> Result<(), String> {
    use keywarden::engine::vault::{sample, KdfParams};
    let n: usize = entries.parse().map_err(|_| format!("not a number of entries: {entries}"))?;
    let (store, _private) =
        sample::vault(n, passphrase, KdfParams::production(0), 1_767_225_600_000).map_err(|e| e.to_string())?;
    let items: Map<String, Value> = store.items().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    println!("{}", Value::Object(items));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["manifest", dir, browser, version] => {
            manifest(dir, browser, version).map(|m| println!("{}", serde_json::to_string_pretty(&m).expect("json")))
        }
        ["model", file, url] => model(file, url),
        ["vault-image", entries, passphrase] => vault_image(entries, passphrase),
        ["explain", rest @ ..] => {
            return match explain(rest) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(NOT_RECOGNIZED),
                Err(e) if e.starts_with("usage:") => {
                    eprintln!("{e}");
                    ExitCode::from(USAGE_ERROR)
                }
                Err(e) => {
                    eprintln!("keywarden-tool explain: {e}");
                    ExitCode::from(USAGE_ERROR)
                }
            };
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keywarden-tool: {e}");
            ExitCode::FAILURE
        }
    }
}
