//! The options page's vault sections: setup, unlock, the keys (copy, revoke, keep or delete those found in storage), lock, the passphrase, auto-lock, the clipboard delay, backups and sharing.

use super::api;
use super::ask;
use super::dom::{add, clear, document, form, on_click, value_of, Field};
use super::i18n::{t, t_with, word};
use super::strength;
use crate::engine::protocol::{EntrySummary, EntryTrust, OutgoingRequest, Reply, VaultStatus};
use crate::engine::secret::SecretString;
use crate::engine::vault::EntryState;
use gloo_events::EventListener;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::Element;

/// Re-renders the page, with a message for its status line.
pub type Rerender = Rc<dyn Fn(Option<String>)>;

fn field<'a>(id: &'a str, label: String, kind: &'a str, autocomplete: &'a str) -> Field<'a> {
    Field { id, label, kind, autocomplete }
}

/// The new-passphrase fields judged as the admin types, each with the element showing the verdict.
const JUDGED: [(&str, &str); 2] = [("setup-passphrase", "setup-strength"), ("new-passphrase", "new-strength")];

/// Draws the strength module's verdict on the field `input_id` into `out_id` (nothing while it is empty).
fn show_strength(input_id: &str, out_id: &str) {
    let Some(out) = document().get_element_by_id(out_id) else {
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
        Err(why) => out.set_attribute("data-acceptable", "unknown").and_then(|_| add(&out, "p", &[], &why).map(drop)),
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
    add(out, "p", &[("class", "verdict")], &v.summary())?;
    let hints = v.hints();
    if !hints.is_empty() {
        let list = add(out, "ul", &[], "")?;
        for line in &hints {
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
    let out = document().create_element("div")?;
    out.set_attribute("id", out_id)?;
    out.set_attribute("class", "strength")?;
    out.set_attribute("aria-live", "polite")?;
    input.insert_adjacent_element("afterend", &out)?;
    input.set_attribute("aria-describedby", out_id)?;
    Ok(Some(EventListener::new(&input, "input", move |_| show_strength(input_id, out_id))))
}

/// Why `passphrase` may not become the vault passphrase, if it may not.
fn refusal(passphrase: &SecretString) -> Option<String> {
    match strength::judge(passphrase.expose()) {
        Ok(v) if v.acceptable => None,
        Ok(v) => Some(v.reasons()),
        Err(why) => Some(why),
    }
}

/// Sends `request`, then re-renders with `ok` (or the worker's error message).
fn act(rerender: &Rerender, request: OutgoingRequest, ok: impl Fn(&Reply) -> String + 'static) {
    let rerender = rerender.clone();
    spawn_local(async move {
        let message = match ask(&request).await {
            Ok(Reply::Error { message, .. }) => word(&message),
            Ok(reply) => ok(&reply),
            Err(e) => word(&e),
        };
        rerender(Some(message));
    });
}

/// Writes to the page's status line without redrawing (which would drop shown output).
pub fn say(text: &str) {
    if let Some(status) = document().get_element_by_id("page-status") {
        status.set_text_content(Some(text));
    }
}

/// A message line at the end of `form`, next to its button, found again by [`tell`].
fn form_status(form: &Element) -> Result<Element, JsValue> {
    let id = format!("{}-status", form.id());
    add(form, "p", &[("id", &id), ("class", "form-status"), ("role", "status")], "")
}

/// Shows `text` in the message line of the form `form_id`, as an error or not.
fn tell(form_id: &str, text: &str, error: bool) {
    if let Some(line) = document().get_element_by_id(&format!("{form_id}-status")) {
        line.set_text_content(Some(text));
        let _ = line.set_attribute("class", if error { "form-status error" } else { "form-status" });
    }
}

/// An entry in words, around its hint: (vendor, name, tenant and date; the states after the hint).
pub fn describe_parts(e: &EntrySummary) -> (String, String) {
    let name = if e.key_name.is_empty() { t("entryUnnamed") } else { e.key_name.clone() };
    let date: String = js_sys::Date::new(&JsValue::from_f64(e.created_at as f64))
        .to_locale_date_string("default", &JsValue::UNDEFINED)
        .into();
    // The vendor as people call it; the id only when the entry comes from a vendor no recipe knows.
    let vendor = if e.vendor_name.is_empty() { &e.vendor } else { &e.vendor_name };
    let head = t_with("entryHead", &[vendor, &name, &e.tenant, &date]);
    let mut tail = String::new();
    match e.state {
        EntryState::Active => {}
        EntryState::Replaced => tail.push_str(&t("entryReplaced")),
        EntryState::Revoked => tail.push_str(&t("entryRevoked")),
    }
    if e.trust == EntryTrust::Pending {
        tail.push_str(&t("entrySavedWhileLocked"));
    }
    (head, tail)
}

fn describe(e: &EntrySummary) -> String {
    let (head, tail) = describe_parts(e);
    format!("{head}{}{tail}", e.hint)
}

/// An entry's list item: its description (the hint kept on one line), then a place for its buttons.
fn entry_item(list: &Element, e: &EntrySummary) -> Result<Element, JsValue> {
    let item = add(
        list,
        "li",
        &[("data-entry-id", &e.id), ("data-vendor", &e.vendor), ("data-trust", trust_name(e.trust))],
        "",
    )?;
    let (head, tail) = describe_parts(e);
    let text = add(&item, "span", &[("class", "entry")], &head)?;
    add(&text, "span", &[("class", "hint")], &e.hint)?;
    if !tail.is_empty() {
        text.append_with_str_1(&tail)?;
    }
    add(&item, "span", &[("class", "actions")], "")
}

fn trust_name(t: EntryTrust) -> &'static str {
    match t {
        EntryTrust::Verified => "verified",
        EntryTrust::Pending => "pending",
        EntryTrust::Foreign => "foreign",
    }
}

/// Asks the worker how the vault stands and draws its section into `parent`. Returns the
/// section's listeners.
pub async fn section(parent: &Element, rerender: Rerender) -> Result<Vec<EventListener>, JsValue> {
    let status = ask(&OutgoingRequest::VaultStatus).await;
    let section = add(parent, "section", &[("id", "vault"), ("aria-labelledby", "vault-title")], "")?;
    match status {
        Ok(Reply::Vault(status)) => draw(&section, &status, &rerender),
        _ => {
            add(&section, "h2", &[("id", "vault-title")], &t("vaultTitle"))?;
            add(&section, "p", &[("role", "alert")], &t("vaultSilent"))?;
            Ok(Vec::new())
        }
    }
}

/// Draws the vault section for `status` into the empty `section`.
pub fn draw(section: &Element, status: &VaultStatus, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    let state = match (status.set_up, status.unlocked) {
        (false, _) => "new",
        (true, true) => "unlocked",
        (true, false) => "locked",
    };
    section.set_attribute("data-state", state)?;
    add(section, "h2", &[("id", "vault-title")], &t("vaultTitle"))?;
    let mut listeners = Vec::new();
    if let Some(alarm) = &status.alarm {
        add(section, "p", &[("id", "vault-alarm"), ("class", "alarm"), ("role", "alert")], &word(alarm))?;
        if status.unlocked {
            // Once the admin has looked at what is listed, the list of vouched-for keys is rebuilt
            // from the entries that carry a valid MAC; keys found in storage stay apart.
            let rebuild = add(section, "button", &[("type", "button"), ("id", "rebuild-index")], &t("rebuildIndex"))?;
            let r = rerender.clone();
            listeners.push(on_click(&rebuild, move |_| {
                act(&r, OutgoingRequest::RebuildIndex, |_| t("vaultRebuilt"));
            }));
        }
    }
    listeners.extend(match state {
        "new" => setup(section, rerender),
        "locked" => locked(section, status.items, rerender),
        _ => unlocked(section, status, rerender),
    }?);
    if status.set_up {
        storage_use(section, status)?;
    }
    Ok(listeners)
}

/// A size in the admin's units: "12 KB", "3.4 MB" (decimal units, as the browsers count quota).
pub fn size_text(bytes: u64) -> String {
    if bytes < 1_000_000 {
        t_with("sizeKilobytes", &[&bytes.div_ceil(1000).max(1).to_string()])
    } else {
        let tenths = (bytes + 50_000) / 100_000;
        t_with("sizeMegabytes", &[&format!("{}.{}", tenths / 10, tenths % 10)])
    }
}

/// How much of `storage.local` the vault takes, and for how many keys.
fn storage_use(section: &Element, status: &VaultStatus) -> Result<(), JsValue> {
    let size = size_text(status.bytes_in_use);
    let text = if status.items == 1 {
        t_with("storageUseOne", &[&size])
    } else {
        t_with("storageUseMany", &[&size, &status.items.to_string()])
    };
    add(section, "p", &[("id", "storage-use")], &text)?;
    Ok(())
}

/// A delay in words: "10 seconds", "1 minute", "5 minutes".
pub fn duration_text(seconds: u32) -> String {
    match seconds {
        s if s >= 60 && s % 60 == 0 => {
            let m = s / 60;
            if m == 1 {
                t("oneMinute")
            } else {
                t_with("minutes", &[&m.to_string()])
            }
        }
        1 => t("oneSecond"),
        s => t_with("seconds", &[&s.to_string()]),
    }
}

/// The options page's clipboard section: how long after a copy keywarden clears the clipboard.
/// Drawn into `parent` as a section of its own; returns its listener.
pub async fn clipboard_section(parent: &Element, rerender: Rerender) -> Result<Vec<EventListener>, JsValue> {
    let section = add(parent, "section", &[("id", "clipboard"), ("aria-labelledby", "clipboard-title")], "")?;
    add(&section, "h2", &[("id", "clipboard-title")], &t("clipboardTitle"))?;
    let Ok(Reply::Clipboard(status)) = ask(&OutgoingRequest::ClipboardStatus).await else {
        add(&section, "p", &[("role", "alert")], &t("backgroundSilent"))?;
        return Ok(Vec::new());
    };
    add(&section, "p", &[], &t("clipboardIntro"))?;
    add(&section, "label", &[("for", "clipboard-clear")], &t("clipboardAfter"))?;
    let select = add(&section, "select", &[("id", "clipboard-clear")], "")?;
    for &choice in &status.choices {
        let value = choice.to_string();
        let text = if choice == 0 { t("never") } else { duration_text(choice) };
        let option = add(&select, "option", &[("value", &value)], &text)?;
        if choice == status.clear_seconds {
            option.set_attribute("selected", "")?;
        }
    }
    let r = rerender.clone();
    Ok(vec![EventListener::new(&select, "change", move |_| {
        let Ok(seconds) = value_of("clipboard-clear").parse::<u32>() else { return };
        act(&r, OutgoingRequest::SetClipboardClear { seconds }, move |_| match seconds {
            0 => t("clipboardNever"),
            s => t_with("clipboardSaved", &[&duration_text(s)]),
        });
    })])
}

/// The options page without a vault: the setup form, judged as the admin types.
fn setup(section: &Element, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    add(section, "p", &[], &t("setupIntro"))?;
    let fields = [
        field("setup-passphrase", t("fieldPassphrase"), "password", "new-password"),
        field("setup-confirm", t("fieldRepeat"), "password", "new-password"),
    ];
    let r = rerender.clone();
    let (f, l) = form(section, "vault-setup", &fields, &t("createVault"), move |v| {
        let (passphrase, confirm) = (v.secret(0), v.secret(1));
        if let Some(why) = refusal(&passphrase) {
            return say(&t_with("notSetUp", &[&why]));
        }
        refresh_strength();
        if passphrase != confirm {
            return say(&t("twoDiffer"));
        }
        act(&r, OutgoingRequest::VaultSetup { passphrase }, |_| t("vaultCreated"));
    })?;
    primary(&f)?;
    let mut listeners = vec![l];
    listeners.extend(judge_as_typed(&f, "setup-passphrase", "setup-strength")?);
    Ok(listeners)
}

/// A locked vault: how many keys it holds, and the unlock form.
fn locked(section: &Element, items: u32, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    let text = if items == 1 { t("lockedOne") } else { t_with("lockedMany", &[&items.to_string()]) };
    add(section, "p", &[], &text)?;
    let fields = [field("unlock-passphrase", t("fieldPassphrase"), "password", "current-password")];
    let r = rerender.clone();
    let (unlock_form, l) = form(section, "unlock", &fields, &t("unlock"), move |v| {
        let passphrase = v.secret(0);
        act(&r, OutgoingRequest::Unlock { passphrase }, |_| t("unlocked"));
    })?;
    primary(&unlock_form)?;
    Ok(vec![l])
}

/// An unlocked vault: its keys (one click to copy, revoke), the ones found in storage apart,
/// damaged items, Lock, and the Security section after it.
fn unlocked(section: &Element, status: &VaultStatus, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let (foreign, known): (Vec<&EntrySummary>, Vec<&EntrySummary>) =
        status.entries.iter().partition(|e| e.trust == EntryTrust::Foreign);
    let list = add(section, "ul", &[("id", "entries")], "")?;
    if known.is_empty() {
        add(&list, "li", &[("class", "empty")], &t("noKeysYet"))?;
    }
    for entry in known.iter().rev() {
        let item = entry_item(&list, entry)?;
        listeners.push(copy_button(&item, &entry.id, rerender)?);
        if entry.state != EntryState::Revoked {
            let revoke = action(&item, "revoke", &t("markRevoked"))?;
            let (id, r) = (entry.id.clone(), rerender.clone());
            listeners.push(on_click(&revoke, move |_| {
                let request = OutgoingRequest::SetEntryState { id: id.clone(), state: EntryState::Revoked };
                act(&r, request, |_| t("markedRevoked"));
            }));
        }
    }
    if !foreign.is_empty() {
        listeners.extend(found_in_storage(section, &foreign, rerender)?);
    }
    for d in &status.damaged {
        add(
            section,
            "p",
            &[("role", "alert"), ("data-damaged", &d.item)],
            &t_with("damagedItem", &[&d.item, &word(&d.reason)]),
        )?;
    }
    let lock = add(section, "button", &[("type", "button"), ("id", "lock")], &t("lockNow"))?;
    let r = rerender.clone();
    listeners.push(on_click(&lock, move |_| act(&r, OutgoingRequest::Lock, |_| t("locked"))));
    listeners.extend(security_section(section, status.auto_lock_minutes, rerender)?);
    Ok(listeners)
}

/// A button of an entry, named by `data-action`.
fn action(item: &Element, name: &str, text: &str) -> Result<Element, JsValue> {
    add(item, "button", &[("type", "button"), ("data-action", name)], text)
}

/// Copy: the key goes straight to the clipboard, never into the page.
fn copy_button(item: &Element, id: &str, rerender: &Rerender) -> Result<EventListener, JsValue> {
    let copy = action(item, "copy", &t("copy"))?;
    let (id, r) = (id.to_string(), rerender.clone());
    Ok(on_click(&copy, move |_| {
        let (id, r) = (id.clone(), r.clone());
        spawn_local(async move {
            let message = match ask(&OutgoingRequest::CopyKey { id }).await {
                Ok(Reply::Key { key }) => match super::clipboard::copy_secret(&key).await {
                    Ok(super::clipboard::Copied { clears_in: Some(s) }) => t_with("copiedClears", &[&duration_text(s)]),
                    Ok(_) => t("copiedHistory"),
                    Err(why) => why,
                },
                Ok(Reply::Error { message, .. }) => word(&message),
                _ => t("vaultNoAnswer"),
            };
            r(Some(message));
        });
    }))
}

/// Entries that open with the vault but that keywarden has no record of saving here: listed
/// apart, not copied or shared, until the admin keeps or deletes each.
fn found_in_storage(
    section: &Element,
    entries: &[&EntrySummary],
    rerender: &Rerender,
) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let apart =
        add(section, "section", &[("id", "foreign"), ("class", "foreign"), ("aria-labelledby", "foreign-title")], "")?;
    add(&apart, "h3", &[("id", "foreign-title")], &t("foreignTitle"))?;
    add(&apart, "p", &[], &t("foreignIntro"))?;
    let list = add(&apart, "ul", &[("id", "foreign-entries")], "")?;
    for entry in entries.iter().rev() {
        let item = entry_item(&list, entry)?;
        let keep = action(&item, "adopt", &t("adopt"))?;
        let (id, r) = (entry.id.clone(), rerender.clone());
        listeners.push(on_click(&keep, move |_| {
            let request = OutgoingRequest::AdoptEntries { ids: vec![id.clone()] };
            act(&r, request, |_| t("kept"));
        }));
        let delete = action(&item, "delete", &t("delete"))?;
        let (id, r) = (entry.id.clone(), rerender.clone());
        listeners.push(on_click(&delete, move |_| {
            let request = OutgoingRequest::DeleteEntry { id: id.clone() };
            act(&r, request, |_| t("deleted"));
        }));
    }
    Ok(listeners)
}

/// A section of its own after `vault` (the vault section), headed `title`.
fn sibling_section(vault: &Element, id: &str, title: &str) -> Result<Element, JsValue> {
    let section = document().create_element("section")?;
    section.set_attribute("id", id)?;
    section.set_attribute("aria-labelledby", &format!("{id}-title"))?;
    add(&section, "h2", &[("id", &format!("{id}-title"))], title)?;
    match vault.parent_element() {
        Some(parent) => parent.insert_before(&section, vault.next_sibling().as_ref()).map(drop)?,
        None => vault.append_child(&section).map(drop)?,
    }
    Ok(section)
}

/// Marks the submit button of `form` as its section's one primary action.
fn primary(form: &Element) -> Result<(), JsValue> {
    if let Some(button) = form.query_selector("button[type=submit]")? {
        button.set_attribute("class", "primary")?;
    }
    Ok(())
}

/// Writes `text` into `parent` as a paragraph, with `backticked` stretches as code.
fn para_with_code(parent: &Element, text: &str) -> Result<Element, JsValue> {
    let p = add(parent, "p", &[], "")?;
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            add(&p, "code", &[], part)?;
        } else if !part.is_empty() {
            p.append_with_str_1(part)?;
        }
    }
    Ok(p)
}

/// The options page's Security section (after the vault's): the passphrase and the auto-lock.
fn security_section(vault: &Element, minutes: u32, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    let section = sibling_section(vault, "security", &t("securityTitle"))?;
    let mut listeners = change_passphrase(&section, rerender)?;
    listeners.push(auto_lock(&section, minutes, rerender)?);
    Ok(listeners)
}

/// The options page's Backup and sharing section: export, import from a file, one key to a
/// teammate. Drawn only while the vault is unlocked.
pub fn backup_section(
    parent: &Element,
    status: &VaultStatus,
    rerender: &Rerender,
) -> Result<Vec<EventListener>, JsValue> {
    let section = add(parent, "section", &[("id", "backup"), ("aria-labelledby", "backup-title")], "")?;
    add(&section, "h2", &[("id", "backup-title")], &t("backupAndSharing"))?;
    let mut listeners = vec![export_backup(&section)?];
    listeners.extend(import_backup(&section, rerender)?);
    let entries: Vec<&EntrySummary> = status.entries.iter().filter(|e| e.trust != EntryTrust::Foreign).collect();
    if !entries.is_empty() {
        listeners.push(share_key(&section, &entries)?);
    }
    Ok(listeners)
}

fn auto_lock(section: &Element, minutes: u32, rerender: &Rerender) -> Result<EventListener, JsValue> {
    add(section, "h3", &[], &t("lockAfterInactivity"))?;
    let r = rerender.clone();
    let fields = [field("auto-lock-minutes", t("fieldMinutes"), "number", "off")];
    let (f, l) = form(section, "auto-lock", &fields, &t("save"), move |v| match v.text(0).trim().parse() {
        Ok(minutes) => act(&r, OutgoingRequest::SetAutoLock { minutes }, |_| t("saved")),
        Err(_) => r(Some(t("giveMinutes"))),
    })?;
    if let Some(input) = f.query_selector("input")? {
        input.set_attribute("value", &minutes.to_string())?;
    }
    Ok(l)
}

fn change_passphrase(section: &Element, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    add(section, "h3", &[], &t("changePassphraseTitle"))?;
    let fields = [
        field("old-passphrase", t("fieldCurrentPassphrase"), "password", "current-password"),
        field("new-passphrase", t("fieldNewPassphrase"), "password", "new-password"),
        field("new-confirm", t("fieldRepeat"), "password", "new-password"),
    ];
    let r = rerender.clone();
    let (f, l) = form(section, "change-passphrase", &fields, &t("changePassphrase"), move |v| {
        let (old, new, confirm) = (v.secret(0), v.secret(1), v.secret(2));
        if let Some(why) = refusal(&new) {
            return say(&t_with("passphraseNotChanged", &[&why]));
        }
        refresh_strength();
        if new != confirm {
            return say(&t("twoNewDiffer"));
        }
        act(&r, OutgoingRequest::ChangePassphrase { old, new }, |_| t("passphraseChanged"));
    })?;
    primary(&f)?;
    let mut listeners = vec![l];
    listeners.extend(judge_as_typed(&f, "new-passphrase", "new-strength")?);
    Ok(listeners)
}

/// Export asks for the vault passphrase again; both fields are emptied at every attempt.
fn export_backup(section: &Element) -> Result<EventListener, JsValue> {
    add(section, "h3", &[], &t("backupTitle"))?;
    para_with_code(section, &t("backupIntro"))?;
    let fields = [
        field("backup-passphrase", t("fieldBackupPassphrase"), "password", "new-password"),
        field("backup-vault-passphrase", t("fieldVaultPassphrase"), "password", "current-password"),
    ];
    let output = add(
        section,
        "textarea",
        &[("id", "backup-output"), ("readonly", ""), ("rows", "6"), ("hidden", ""), ("aria-label", &t("backupFile"))],
        "",
    )?;
    let download = add(
        section,
        "a",
        &[("id", "backup-download"), ("download", "keywarden-backup.age"), ("hidden", "")],
        &t("downloadBackup"),
    )?;
    let (f, l) = form(section, "export-backup", &fields, &t("exportBackup"), move |v| {
        let (passphrase, vault_passphrase) = (v.secret(0), v.secret(1));
        let (out, dl) = (output.clone(), download.clone());
        tell("export-backup", &t("exporting"), false);
        spawn_local(async move {
            let request = OutgoingRequest::ExportBackup { passphrase, vault_passphrase };
            match ask(&request).await {
                Ok(Reply::Armored { text, entries, left_out }) => {
                    out.set_text_content(Some(&text));
                    let _ = out.remove_attribute("hidden");
                    let href = format!(
                        "data:application/octet-stream;charset=utf-8,{}",
                        String::from(js_sys::encode_uri_component(&text))
                    );
                    let _ = dl.set_attribute("href", &href);
                    let _ = dl.remove_attribute("hidden");
                    let note = if left_out > 0 { t_with("leftOut", &[&left_out.to_string()]) } else { String::new() };
                    let done = t_with("backupReady", &[&entries.to_string(), &note]);
                    tell("export-backup", &done, false);
                    say(&done);
                }
                Ok(Reply::Error { message, .. }) => tell("export-backup", &word(&message), true),
                _ => tell("export-backup", &t("vaultNoAnswer"), true),
            }
        });
    })?;
    form_status(&f)?;
    primary(&f)?;
    Ok(l)
}

/// Import: the backup file picked from disk (or its text pasted), then its passphrase.
fn import_backup(section: &Element, rerender: &Rerender) -> Result<Vec<EventListener>, JsValue> {
    add(section, "h3", &[], &t("importTitle"))?;
    let fields = [
        field("import-text", t("fieldBackupText"), "textarea", "off"),
        field("import-passphrase", t("fieldBackupPassphrase"), "password", "off"),
    ];
    let r = rerender.clone();
    let (f, l) = form(section, "import-backup", &fields, &t("import"), move |v| {
        let request = OutgoingRequest::ImportBackup { text: v.text(0), passphrase: v.secret(1) };
        act(&r, request, |reply| match reply {
            Reply::Imported { imported, duplicates, renamed } => {
                t_with("importedCounts", &[&imported.to_string(), &duplicates.to_string(), &renamed.to_string()])
            }
            _ => t("imported"),
        });
    })?;
    // A file picker before the text: it fills the text in, which stays editable.
    let picker = document().create_element("input")?;
    for (k, v) in [("type", "file"), ("id", "import-file"), ("accept", ".age,text/plain")] {
        picker.set_attribute(k, v)?;
    }
    let label = document().create_element("label")?;
    label.set_attribute("for", "import-file")?;
    label.set_text_content(Some(&t("backupFile")));
    let first = f.first_child();
    f.insert_before(&label, first.as_ref())?;
    f.insert_before(&picker, first.as_ref())?;
    let input = picker.clone();
    let picked = EventListener::new(&picker, "change", move |_| {
        let read = api::file_text(&input);
        spawn_local(async move {
            match JsFuture::from(read).await.map(|t| t.as_string()) {
                Ok(Some(text)) => {
                    if let Some(area) = document().get_element_by_id("import-text") {
                        let _ = js_sys::Reflect::set(&area, &JsValue::from_str("value"), &JsValue::from_str(&text));
                    }
                    say(&t("fileRead"));
                }
                _ => say(&t("fileUnreadable")),
            }
        });
    });
    Ok(vec![l, picked])
}

/// Sharing asks for the vault passphrase again; its field is emptied at every attempt.
fn share_key(section: &Element, entries: &[&EntrySummary]) -> Result<EventListener, JsValue> {
    add(section, "h3", &[], &t("shareTitle"))?;
    para_with_code(section, &t("shareIntro"))?;
    let select = add(section, "select", &[("id", "share-entry"), ("aria-label", &t("keyToShare"))], "")?;
    for e in entries {
        add(&select, "option", &[("value", &e.id)], &describe(e))?;
    }
    let shared = add(
        section,
        "textarea",
        &[("id", "share-output"), ("readonly", ""), ("rows", "6"), ("hidden", ""), ("aria-label", &t("encryptedKey"))],
        "",
    )?;
    let fields = [
        field("share-recipient", t("fieldTeammateKey"), "text", "off"),
        field("share-vault-passphrase", t("fieldVaultPassphrase"), "password", "current-password"),
    ];
    let (f, l) = form(section, "share-key", &fields, &t("encryptForTeammate"), move |v| {
        let (recipient, vault_passphrase) = (v.text(0), v.secret(1));
        let (out, id) = (shared.clone(), value_of("share-entry"));
        tell("share-key", &t("encrypting"), false);
        spawn_local(async move {
            let request = OutgoingRequest::ShareKey { id, recipient, vault_passphrase };
            match ask(&request).await {
                Ok(Reply::Armored { text, .. }) => {
                    out.set_text_content(Some(&text));
                    let _ = out.remove_attribute("hidden");
                    tell("share-key", &t("encrypted"), false);
                }
                Ok(Reply::Error { message, .. }) => tell("share-key", &word(&message), true),
                _ => tell("share-key", &t("vaultNoAnswer"), true),
            }
        });
    })?;
    form_status(&f)?;
    Ok(l)
}
