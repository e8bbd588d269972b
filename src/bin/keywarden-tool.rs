//! Build-time helper: writes each browser's manifest from the shared source plus the recipes' hosts.

use keywarden::engine::recipe::Catalog;
use serde_json::{Map, Value};
use std::process::ExitCode;

const USAGE: &str = "usage: keywarden-tool manifest <extension-dir> <chrome|firefox> <version>";

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
    merge(&mut m, read_json(&format!("{dir}/manifest.{browser}.json"))?);
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
            entry.as_object_mut().ok_or(format!("{key} entry is not an object"))?.insert("matches".into(), Value::Array(matches.clone()));
        }
        Ok(())
    };
    set_matches(obj, "content_scripts", hosts.clone())?;
    set_matches(obj, "web_accessible_resources", if self_hosted { vec![any_server] } else { hosts })?;
    Ok(m)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["manifest", dir, browser, version] => {
            manifest(dir, browser, version).map(|m| println!("{}", serde_json::to_string_pretty(&m).expect("json")))
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keywarden-tool: {e}");
            ExitCode::FAILURE
        }
    }
}
