//! The vault section shared by the popup (unlock, list, copy, lock) and the options page (also setup, passphrase, backups, sharing).

use super::api;
use super::ask;
use super::dom::{add, clear, form, on_click, value_of, Field};
use super::strength;
use crate::engine::protocol::{EntrySummary, OutgoingRequest, Reply};
use crate::engine::secret::SecretString;
use crate::engine::vault::EntryState;
use gloo_events::EventListener;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::Element;

/// Re-renders the page, with a message for its status line.
pub type Rerender = Rc<dyn Fn(Option<String>)>;

fn field<'a>(id: &'a str, label: &'a str, kind: &'a str, autocomplete: &'a str) -> Field<'a> {
    Field {
        id,
        label,
        kind,
        autocomplete,
    }
}

/// A passphrase as the request carries it.
fn wire(secret: &SecretString) -> String {
    secret.expose().to_string()
}

/// The new-passphrase fields judged as the admin types, each with the element showing the verdict.
const JUDGED: [(&str, &str); 2] = [
    ("setup-passphrase", "setup-strength"),
    ("new-passphrase", "new-strength"),
];

/// Draws the strength module's verdict on the field `input_id` into `out_id` (nothing while it is empty).
fn show_strength(input_id: &str, out_id: &str) {
    let Some(out) = super::dom::document().get_element_by_id(out_id) else {
        return;
    };
    let _ = clear(&out);
    let typed = SecretString::new(value_of(input_id));
    if typed.expose().is_empty() {
        let _ = out.remove_attribute("data-acceptable");
        return;
    }
    let _ = match strength::judge(typed.expose()) {
        Ok(v) => draw_verdict(&out, &v),
        Err(why) => out
            .set_attribute("data-acceptable", "unknown")
            .and_then(|_| add(&out, "p", &[], why).map(drop)),
    };
}

fn draw_verdict(out: &Element, v: &strength::Verdict) -> Result<(), JsValue> {
    out.set_attribute("data-acceptable", if v.acceptable { "yes" } else { "no" })?;
    let score = v.score.to_string();
    let meter = [
        ("min", "0"),
        ("max", "4"),
        ("low", "2.5"),
        ("high", "3.5"),
        ("optimum", "4"),
        ("value", score.as_str()),
        ("aria-hidden", "true"),
    ];
    add(out, "meter", &meter, "")?;
    add(out, "p", &[("class", "verdict")], &v.summary)?;
    if v.warning.is_some() || !v.suggestions.is_empty() {
        let list = add(out, "ul", &[], "")?;
        for line in v.warning.iter().chain(&v.suggestions) {
            add(&list, "li", &[], line)?;
        }
    }
    Ok(())
}

/// Redraws every strength verdict on the page (the module has just loaded, say).
pub fn refresh_strength() {
    for (input, out) in JUDGED {
        show_strength(input, out);
    }
}

/// Adds the live verdict after the new-passphrase field `input_id` of `form`.
fn judge_as_typed(
    form: &Element,
    input_id: &'static str,
    out_id: &'static str,
) -> Result<Option<EventListener>, JsValue> {
    let Some(input) = form.query_selector(&format!("#{input_id}"))? else {
        return Ok(None);
    };
    let out = super::dom::document().create_element("div")?;
    out.set_attribute("id", out_id)?;
    out.set_attribute("class", "strength")?;
    out.set_attribute("aria-live", "polite")?;
    input.insert_adjacent_element("afterend", &out)?;
    input.set_attribute("aria-describedby", out_id)?;
    Ok(Some(EventListener::new(&input, "input", move |_| {
        show_strength(input_id, out_id)
    })))
}

/// Why `passphrase` may not become the vault passphrase, if it may not.
fn refusal(passphrase: &SecretString) -> Option<String> {
    match strength::judge(passphrase.expose()) {
        Ok(v) if v.acceptable => None,
        Ok(v) => Some(v.reasons),
        Err(why) => Some(why.to_string()),
    }
}

/// Sends `request`, then re-renders with `ok` (or the worker's error message).
fn act(rerender: &Rerender, request: OutgoingRequest, ok: impl Fn(&Reply) -> String + 'static) {
    let rerender = rerender.clone();
    spawn_local(async move {
        let message = match ask(&request).await {
            Ok(Reply::Error { message, .. }) => message,
            Ok(reply) => ok(&reply),
            Err(e) => e,
        };
        rerender(Some(message));
    });
}

/// Writes to the page's status line without redrawing (which would drop shown output).
pub fn say(text: &str) {
    if let Some(status) = super::dom::document().get_element_by_id("page-status") {
        status.set_text_content(Some(text));
    }
}

fn describe(e: &EntrySummary) -> String {
    let name = if e.key_name.is_empty() {
        "unnamed key"
    } else {
        &e.key_name
    };
    let date = js_sys::Date::new(&JsValue::from_f64(e.created_at as f64))
        .to_locale_date_string("default", &JsValue::UNDEFINED);
    let state = match e.state {
        EntryState::Active => "",
        EntryState::Replaced => " · replaced",
        EntryState::Revoked => " · revoked",
    };
    let check = if e.verified {
        ""
    } else {
        " · saved while locked"
    };
    format!(
        "{} · {name} · {} · {} · {}{state}{check}",
        e.vendor,
        e.tenant,
        String::from(date),
        e.hint
    )
}

/// Draws the vault section into `parent`; `full` on the options page. Returns its listeners.
pub async fn section(
    parent: &Element,
    full: bool,
    rerender: Rerender,
) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let section = add(
        parent,
        "section",
        &[("id", "vault"), ("aria-labelledby", "vault-title")],
        "",
    )?;
    add(&section, "h2", &[("id", "vault-title")], "Vault")?;
    let status = match ask(&OutgoingRequest::VaultStatus).await {
        Ok(Reply::Vault(s)) => s,
        _ => {
            add(
                &section,
                "p",
                &[("role", "alert")],
                "The vault is not answering; reopen this page.",
            )?;
            return Ok(listeners);
        }
    };
    section.set_attribute(
        "data-state",
        if !status.set_up {
            "new"
        } else if status.unlocked {
            "unlocked"
        } else {
            "locked"
        },
    )?;
    if !status.set_up {
        if !full {
            add(
                &section,
                "p",
                &[],
                "Set up the vault to save the keys you create.",
            )?;
            let button = add(
                &section,
                "button",
                &[("type", "button"), ("id", "open-setup")],
                "Set up the vault",
            )?;
            listeners.push(on_click(&button, |_| {
                let _ = api::open_options_page();
            }));
            return Ok(listeners);
        }
        add(&section, "p", &[], "Choose a passphrase of at least 12 characters. It never leaves this browser and cannot be recovered: a forgotten passphrase means the saved keys are lost (keep a backup).")?;
        let fields = [
            field("setup-passphrase", "Passphrase", "password", "new-password"),
            field("setup-confirm", "Repeat it", "password", "new-password"),
        ];
        let r = rerender.clone();
        let (f, l) = form(&section, "vault-setup", &fields, "Create vault", move |v| {
            let (passphrase, confirm) = (v.secret(0), v.secret(1));
            if let Some(why) = refusal(&passphrase) {
                return say(&format!("Not set up. {why}"));
            }
            refresh_strength();
            if passphrase != confirm {
                return say("The two passphrases differ; type them again.");
            }
            act(
                &r,
                OutgoingRequest::VaultSetup {
                    passphrase: wire(&passphrase),
                },
                |_| "Vault created and unlocked.".into(),
            );
        })?;
        listeners.push(l);
        listeners.extend(judge_as_typed(&f, "setup-passphrase", "setup-strength")?);
        return Ok(listeners);
    }
    if !status.unlocked {
        let noun = if status.items == 1 { "key" } else { "keys" };
        add(
            &section,
            "p",
            &[],
            &format!(
                "Locked. {} saved {noun}; keys captured now are still saved.",
                status.items
            ),
        )?;
        let r = rerender.clone();
        let (_, l) = form(
            &section,
            "unlock",
            &[field(
                "unlock-passphrase",
                "Passphrase",
                "password",
                "current-password",
            )],
            "Unlock",
            move |v| {
                act(
                    &r,
                    OutgoingRequest::Unlock {
                        passphrase: wire(&v.secret(0)),
                    },
                    |_| "Unlocked.".into(),
                );
            },
        )?;
        listeners.push(l);
        return Ok(listeners);
    }
    let list = add(&section, "ul", &[("id", "entries")], "")?;
    if status.entries.is_empty() {
        add(&list, "li", &[("class", "empty")], "No keys saved yet.")?;
    }
    for entry in status.entries.iter().rev() {
        let item = add(
            &list,
            "li",
            &[("data-entry-id", &entry.id), ("data-vendor", &entry.vendor)],
            &describe(entry),
        )?;
        let copy = add(
            &item,
            "button",
            &[("type", "button"), ("data-action", "copy")],
            "Copy",
        )?;
        let id = entry.id.clone();
        let r = rerender.clone();
        listeners.push(on_click(&copy, move |_| {
            let (id, r) = (id.clone(), r.clone());
            spawn_local(async move {
                let message = match ask(&OutgoingRequest::CopyKey { id }).await {
                    Ok(Reply::Key { key }) => match JsFuture::from(api::copy_text(key.expose())).await {
                        Ok(_) => "Key copied to the clipboard. Clipboard history may keep it: paste it where it belongs, then copy something else.".to_string(),
                        Err(_) => "The browser refused the clipboard.".to_string(),
                    },
                    Ok(Reply::Error { message, .. }) => message,
                    _ => "The vault did not answer.".to_string(),
                };
                r(Some(message));
            });
        }));
        if full && entry.state != EntryState::Revoked {
            let revoke = add(
                &item,
                "button",
                &[("type", "button"), ("data-action", "revoke")],
                "Mark revoked",
            )?;
            let (id, r) = (entry.id.clone(), rerender.clone());
            listeners.push(on_click(&revoke, move |_| {
                act(
                    &r,
                    OutgoingRequest::SetEntryState {
                        id: id.clone(),
                        state: EntryState::Revoked,
                    },
                    |_| "Marked revoked.".into(),
                );
            }));
        }
    }
    for d in &status.damaged {
        add(
            &section,
            "p",
            &[("role", "alert"), ("data-damaged", &d.item)],
            &format!(
                "Damaged item {}: {}. Every other key is unaffected.",
                d.item, d.reason
            ),
        )?;
    }
    let lock = add(
        &section,
        "button",
        &[("type", "button"), ("id", "lock")],
        "Lock now",
    )?;
    let r = rerender.clone();
    listeners.push(on_click(&lock, move |_| {
        act(&r, OutgoingRequest::Lock, |_| "Locked.".into())
    }));
    if full {
        listeners.extend(manage(
            &section,
            &status.entries,
            status.auto_lock_minutes,
            &rerender,
        )?);
    }
    Ok(listeners)
}

/// The options page's vault management: passphrase, auto-lock, backup, import, sharing.
fn manage(
    section: &Element,
    entries: &[EntrySummary],
    minutes: u32,
    rerender: &Rerender,
) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    add(section, "h3", &[], "Lock after inactivity")?;
    let r = rerender.clone();
    let (f, l) = form(
        section,
        "auto-lock",
        &[field("auto-lock-minutes", "Minutes", "number", "off")],
        "Save",
        move |v| match v.text(0).trim().parse() {
            Ok(minutes) => act(&r, OutgoingRequest::SetAutoLock { minutes }, |_| {
                "Saved.".into()
            }),
            Err(_) => r(Some("Give a number of minutes.".into())),
        },
    )?;
    if let Some(input) = f.query_selector("input")? {
        input.set_attribute("value", &minutes.to_string())?;
    }
    listeners.push(l);

    add(section, "h3", &[], "Change passphrase")?;
    let fields = [
        field(
            "old-passphrase",
            "Current passphrase",
            "password",
            "current-password",
        ),
        field(
            "new-passphrase",
            "New passphrase",
            "password",
            "new-password",
        ),
        field("new-confirm", "Repeat it", "password", "new-password"),
    ];
    let r = rerender.clone();
    let (f, l) = form(
        section,
        "change-passphrase",
        &fields,
        "Change passphrase",
        move |v| {
            let (old, new, confirm) = (v.secret(0), v.secret(1), v.secret(2));
            if let Some(why) = refusal(&new) {
                return say(&format!("Passphrase not changed. {why}"));
            }
            refresh_strength();
            if new != confirm {
                return say("The two new passphrases differ; type them again.");
            }
            act(
                &r,
                OutgoingRequest::ChangePassphrase {
                    old: wire(&old),
                    new: wire(&new),
                },
                |_| "Passphrase changed.".into(),
            );
        },
    )?;
    listeners.push(l);
    listeners.extend(judge_as_typed(&f, "new-passphrase", "new-strength")?);

    add(section, "h3", &[], "Backup")?;
    add(section, "p", &[], "One file with every key, encrypted with a passphrase of its own in the standard age format: `age -d keywarden-backup.age` opens it too.")?;
    let output = add(
        section,
        "textarea",
        &[
            ("id", "backup-output"),
            ("readonly", ""),
            ("rows", "6"),
            ("hidden", ""),
            ("aria-label", "Backup file"),
        ],
        "",
    )?;
    let download = add(
        section,
        "a",
        &[
            ("id", "backup-download"),
            ("download", "keywarden-backup.age"),
            ("hidden", ""),
        ],
        "Download keywarden-backup.age",
    )?;
    let (out, dl, r) = (output.clone(), download.clone(), rerender.clone());
    listeners.push(
        form(
            section,
            "export-backup",
            &[field(
                "backup-passphrase",
                "Backup passphrase",
                "password",
                "new-password",
            )],
            "Export backup",
            move |v| {
                let (out, dl, r, pass) = (out.clone(), dl.clone(), r.clone(), v.secret(0));
                spawn_local(async move {
                    match ask(&OutgoingRequest::ExportBackup {
                        passphrase: wire(&pass),
                    })
                    .await
                    {
                        Ok(Reply::Armored {
                            text,
                            entries,
                            left_out,
                        }) => {
                            out.set_text_content(Some(&text));
                            let _ = out.remove_attribute("hidden");
                            let href = format!(
                                "data:application/octet-stream;charset=utf-8,{}",
                                String::from(js_sys::encode_uri_component(&text))
                            );
                            let _ = dl.set_attribute("href", &href);
                            let _ = dl.remove_attribute("hidden");
                            let note = if left_out > 0 {
                                format!(" ({left_out} damaged items left out)")
                            } else {
                                String::new()
                            };
                            say(&format!("Backup of {entries} keys ready{note}."));
                        }
                        Ok(Reply::Error { message, .. }) => r(Some(message)),
                        _ => r(Some("The vault did not answer.".into())),
                    }
                });
            },
        )?
        .1,
    );

    add(section, "h3", &[], "Import a backup")?;
    let fields = [
        field("import-text", "Backup file contents", "textarea", "off"),
        field("import-passphrase", "Backup passphrase", "password", "off"),
    ];
    let r = rerender.clone();
    listeners.push(form(section, "import-backup", &fields, "Import", move |v| {
        act(&r, OutgoingRequest::ImportBackup { text: v.text(0), passphrase: wire(&v.secret(1)) }, |reply| match reply {
            Reply::Imported { imported, duplicates, renamed } => {
                format!("Imported {imported} keys; {duplicates} already here were skipped; {renamed} kept under new ids.")
            }
            _ => "Imported.".into(),
        });
    })?.1);

    if !entries.is_empty() {
        add(section, "h3", &[], "Share a key with a teammate")?;
        add(section, "p", &[], "Encrypts one key to your teammate's age public key (age1…). Send them the text; they open it with `age -d -i their-identity.txt`.")?;
        let select = add(
            section,
            "select",
            &[("id", "share-entry"), ("aria-label", "Key to share")],
            "",
        )?;
        for e in entries {
            add(&select, "option", &[("value", &e.id)], &describe(e))?;
        }
        let shared = add(
            section,
            "textarea",
            &[
                ("id", "share-output"),
                ("readonly", ""),
                ("rows", "6"),
                ("hidden", ""),
                ("aria-label", "Encrypted key"),
            ],
            "",
        )?;
        let (out, r) = (shared.clone(), rerender.clone());
        listeners.push(
            form(
                section,
                "share-key",
                &[field(
                    "share-recipient",
                    "Teammate's public key (age1…)",
                    "text",
                    "off",
                )],
                "Encrypt for teammate",
                move |v| {
                    let (out, r, recipient, id) =
                        (out.clone(), r.clone(), v.text(0), value_of("share-entry"));
                    spawn_local(async move {
                        match ask(&OutgoingRequest::ShareKey { id, recipient }).await {
                            Ok(Reply::Armored { text, .. }) => {
                                out.set_text_content(Some(&text));
                                let _ = out.remove_attribute("hidden");
                            }
                            Ok(Reply::Error { message, .. }) => r(Some(message)),
                            _ => r(Some("The vault did not answer.".into())),
                        }
                    });
                },
            )?
            .1,
        );
    }
    Ok(listeners)
}
