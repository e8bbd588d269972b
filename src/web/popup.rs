//! The popup: the vault's keys searched, grouped and copied in one click, each key's details and edits, the lock screen, and what keywarden sees in the current tab.

use super::api;
use super::ask;
use super::clipboard::{copy_secret, Copied};
use super::dom::{add, add_svg, clear, document, on_click, value_of, Timeout};
use super::i18n::{t, t_with, word};
use crate::engine::listing::{self, given_name, masked, plural, Plural};
use crate::engine::protocol::{
    EntrySummary, EntryTrust, Listed, OutgoingRequest, Reply, TabStatus, VaultStatus, VendorCard,
};
use crate::engine::secret::SecretString;
use crate::engine::vault::EntryState;
use gloo_events::{EventListener, EventListenerOptions};
use std::cell::RefCell;
use std::future::Future;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Element, HtmlElement};

/// How long a copy toast stays beside its button (ms).
const TOAST_MS: u32 = 4_000;
/// How long a revealed key stays on screen before it is masked again (ms).
const REVEAL_MS: u32 = 30_000;

/// What the popup knows between renderings.
#[derive(Default)]
struct State {
    tab: Option<u32>,
    host: Option<String>,
    tab_status: Option<TabStatus>,
    captures: u32,
    /// `None` while the worker does not answer. Its `entries` are those listed apart and the
    /// one whose details are open; the list's rows are in `list`.
    vault: Option<VaultStatus>,
    /// The rows the worker laid out for the search, the first `rows` of them.
    list: Option<Listed>,
    /// The number of the last list asked for: an answer to an earlier keystroke is dropped.
    asked: u64,
    query: String,
    /// How many rows the list draws for this search: [`ROW_BATCH`] more each time the admin asks.
    rows: usize,
    /// The entry whose details are shown, if any.
    detail: Option<String>,
    /// The status line's message is for screen readers only: the page shows it another way (the
    /// undo bar's countdown after a deletion).
    message_unseen: bool,
    /// A line for the status region after an action.
    message: Option<String>,
    /// An inline error of the unlock form.
    unlock_error: Option<String>,
}

/// Rows the list draws at first, and again at each "show more": a vault of thousands of keys
/// opens as fast as one of a hundred, and a search looks through every key without drawing them.
const ROW_BATCH: usize = 100;

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// Listeners of the current rendering; replaced (and so removed) on every rendering.
    static LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
    /// Listeners of the entry list, replaced as the admin types a search.
    static LIST_LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
    /// Listeners on the popup's window, for as long as the popup is open.
    static PAGE_LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
    /// Listeners on extension events, for as long as the popup is open.
    static API_LISTENERS: RefCell<Vec<api::Listener>> = const { RefCell::new(Vec::new()) };
    /// Timers of the current rendering (toasts, the revealed key), cancelled when dropped.
    static TIMERS: RefCell<Vec<Timeout>> = const { RefCell::new(Vec::new()) };
}

fn root() -> Option<Element> {
    document().get_element_by_id("root")
}

fn spawn(f: impl Future<Output = ()> + 'static) {
    spawn_local(f);
}

fn keep_timer(timer: Timeout) {
    TIMERS.with(|t| t.borrow_mut().push(timer));
}

/// The list request for the state's search, numbered as the latest one asked for.
fn list_request(s: &mut State) -> (u64, OutgoingRequest) {
    s.asked += 1;
    let rows = s.rows.max(ROW_BATCH) as u32;
    (s.asked, OutgoingRequest::ListEntries { tab: s.tab, query: s.query.clone(), rows, detail: s.detail.clone() })
}

/// Keeps a list the worker sent for request number `asked`; false when a later one was asked
/// for since (its answer will do).
fn keep_list(s: &mut State, asked: u64, listed: Option<Listed>) -> bool {
    if asked != s.asked {
        return false;
    }
    match listed {
        Some(mut listed) => {
            let vault = listed.vault.clone();
            listed.vault.entries = Vec::new();
            if !vault.unlocked {
                s.detail = None;
            }
            if s.detail
                .as_deref()
                .is_some_and(|id| listed.entry(id).is_none() && !vault.entries.iter().any(|e| e.id == id))
            {
                s.detail = None;
            }
            s.vault = Some(vault);
            s.list = Some(listed);
        }
        None => {
            s.vault = None;
            s.list = None;
        }
    }
    true
}

/// The entry `id`, among the rows listed or those sent along.
fn entry_of<'a>(s: &'a State, id: &str) -> Option<&'a EntrySummary> {
    let along = s.vault.as_ref().and_then(|v| v.entries.iter().find(|e| e.id == id));
    along.or_else(|| s.list.as_ref().and_then(|l| l.entry(id)))
}

/// Asks the worker how the tab and the vault stand, then draws.
async fn load() {
    let tab = match JsFuture::from(api::active_tab_id()).await {
        Ok(v) => v.as_f64().map(|t| t as u32),
        Err(_) => None,
    };
    // Both are under way at once; the worker lays out the list for the tab's site itself.
    let (asked, request) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.tab = tab;
        list_request(&mut s)
    });
    let listed = ask(&request);
    let status = ask(&OutgoingRequest::Status { tab }).await;
    let listed = match listed.await {
        Ok(Reply::Listed(l)) => Some(l),
        _ => None,
    };
    let kept = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if let Ok(Reply::Status { tab: tab_status, host, captures_received, .. }) = status {
            s.tab_status = tab_status;
            s.host = host;
            s.captures = captures_received;
        }
        keep_list(&mut s, asked, listed)
    });
    if !kept {
        return;
    }
    // Still locked and the lock screen already drawn, nothing new to say: a second report of the
    // same lock (the popup's own Lock, then the session key's removal) must not draw it again and
    // wipe what the admin typed since, or the error beside the field. Only the count is refreshed.
    let relock = STATE.with(|s| {
        let s = s.borrow();
        let locked = s.vault.as_ref().filter(|v| v.set_up && !v.unlocked);
        match (locked, &s.message, document().get_element_by_id("unlock-passphrase")) {
            (Some(v), None, Some(_)) => Some(lock_lead(v)),
            _ => None,
        }
    });
    if let Some(lead) = relock {
        if let Ok(Some(line)) = document().query_selector("#vault .lead") {
            line.set_text_content(Some(&lead));
        }
        return;
    }
    if let Err(e) = draw() {
        web_sys::console::error_1(&e);
    }
}

/// Sends `request`; then shows what `done` makes of the reply (or the worker's error) and draws again.
fn act(request: OutgoingRequest, done: impl FnOnce(&Reply) -> Option<String> + 'static) {
    spawn(async move {
        let message = match ask(&request).await {
            Ok(Reply::Error { message, .. }) => Some(word(&message)),
            Ok(reply) => done(&reply),
            Err(e) => Some(word(&e)),
        };
        STATE.with(|s| s.borrow_mut().message = message);
        load().await;
    });
}

/// Redraws the whole popup from the state.
fn draw() -> Result<(), JsValue> {
    let Some(root) = root() else { return Ok(()) };
    // Drop the old listeners and timers only once this task owns the page (never inside one of them).
    let old = LISTENERS.with(|l| std::mem::take(&mut *l.borrow_mut()));
    let old_list = LIST_LISTENERS.with(|l| std::mem::take(&mut *l.borrow_mut()));
    let old_timers = TIMERS.with(|t| std::mem::take(&mut *t.borrow_mut()));
    clear(&root)?;
    drop((old, old_list, old_timers));
    let mut listeners = Vec::new();
    let message = STATE.with(|s| std::mem::take(&mut s.borrow_mut().message));
    let unheard = STATE.with(|s| std::mem::take(&mut s.borrow_mut().message_unseen));
    STATE.with(|s| -> Result<(), JsValue> {
        let s = s.borrow();
        listeners.extend(header(&root, &s)?);
        let status = add(&root, "p", &[("id", "page-status"), ("role", "status")], message.as_deref().unwrap_or(""))?;
        // While the undo bar counts down, the deletion's announcement is for screen readers only:
        // the bar shows the same thing with the seconds that are really left.
        let now = js_sys::Date::now() as u64;
        if unheard && s.vault.as_ref().is_some_and(|v| v.unlocked && v.deleted.iter().any(|d| d.undo_until > now)) {
            status.set_attribute("class", "visually-hidden")?;
        }
        let Some(vault) = &s.vault else {
            let section = add(&root, "section", &[("id", "vault"), ("data-state", "unknown")], "")?;
            add(&section, "p", &[("role", "alert")], &t("popupNoBackground"))?;
            return Ok(());
        };
        let state = match (vault.set_up, vault.unlocked) {
            (false, _) => "new",
            (true, true) => "unlocked",
            (true, false) => "locked",
        };
        let section =
            add(&root, "section", &[("id", "vault"), ("data-state", state), ("aria-labelledby", "vault-title")], "")?;
        if let Some(alarm) = &vault.alarm {
            add(&section, "p", &[("id", "vault-alarm"), ("class", "alarm"), ("role", "alert")], &word(alarm))?;
            if vault.unlocked {
                let rebuild = button(&section, &[("id", "rebuild-index")], &t("popupRebuildIndex"))?;
                listeners
                    .push(on_click(&rebuild, |_| act(OutgoingRequest::RebuildIndex, |_| Some(t("popupIndexRebuilt")))));
            }
        }
        // Whatever the vault's state, what keywarden can do in this tab comes first.
        listeners.extend(tab_line(&section, &s)?);
        match state {
            "new" => listeners.extend(invite(&section)?),
            "locked" => listeners.extend(lock_screen(&section, vault, s.unlock_error.as_deref())?),
            _ => match s.detail.as_ref().and_then(|id| entry_of(&s, id)) {
                Some(entry) => listeners.extend(detail(&section, entry)?),
                None => listeners.extend(list_view(&section, &s, vault)?),
            },
        }
        listeners.extend(footer(&root, &s)?);
        Ok(())
    })?;
    LISTENERS.with(|l| l.borrow_mut().extend(listeners));
    // The lock screen's field has the focus from the start.
    if let Some(field) = document().get_element_by_id("unlock-passphrase") {
        if let Some(field) = field.dyn_ref::<HtmlElement>() {
            let _ = field.focus();
        }
    }
    Ok(())
}

/// A `<button type="button">` with more attributes.
fn button(parent: &Element, attrs: &[(&str, &str)], text: &str) -> Result<Element, JsValue> {
    let mut all = vec![("type", "button")];
    all.extend_from_slice(attrs);
    add(parent, "button", &all, text)
}

/// The title bar: name, Settings and (when unlocked) Lock.
fn header(root: &Element, s: &State) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let bar = add(root, "header", &[("class", "bar")], "")?;
    add(&bar, "h1", &[("id", "vault-title")], &t("extensionName"))?;
    let tools = add(&bar, "div", &[("class", "tools")], "")?;
    if s.vault.as_ref().is_some_and(|v| v.unlocked) {
        let lock = button(&tools, &[("id", "lock"), ("class", "quiet")], &t("popupLock"))?;
        listeners.push(on_click(&lock, |_| act(OutgoingRequest::Lock, |_| None)));
    }
    let settings =
        button(&tools, &[("id", "settings"), ("class", "quiet icon"), ("aria-label", &t("popupSettings"))], "")?;
    gear_icon(&settings)?;
    listeners.push(on_click(&settings, |_| {
        let _ = api::open_options_page();
    }));
    Ok(listeners)
}

/// The current tab in one line, with a way back into a dismissed walkthrough; and the session's count.
fn footer(root: &Element, s: &State) -> Result<Vec<EventListener>, JsValue> {
    let foot = add(root, "footer", &[], "")?;
    // Whatever the vault's state: empties the clipboard whatever it holds.
    let clear = button(&foot, &[("id", "clear-clipboard"), ("class", "quiet")], &t("clearClipboardNow"))?;
    let listeners = vec![on_click(&clear, |_| {
        spawn(async {
            let message = match super::clipboard::clear_now().await {
                Ok(()) => t("clipboardCleared"),
                Err(why) => why,
            };
            STATE.with(|s| s.borrow_mut().message = Some(message));
            load().await;
        });
    })];
    // Said only once something was saved in this browser session: "0 keys saved" reads as noise,
    // or as a wrong count of the vault.
    if s.captures > 0 {
        let n = s.captures.to_string();
        let text = match plural(s.captures as usize) {
            Plural::One => t_with("popupCapturesOne", &[&n]),
            Plural::Other => t_with("popupCaptures", &[&n]),
        };
        add(&foot, "p", &[("id", "captures")], &text)?;
    }
    Ok(listeners)
}

/// The tab's vendor, compact, above the list.
fn tab_line(parent: &Element, s: &State) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let Some(t) = &s.tab_status else {
        return Ok(listeners);
    };
    let line = add(parent, "div", &[("id", "tab-state"), ("class", "tab-state")], "")?;
    let text = match (&t.step_title, t.guiding) {
        (Some(step), _) => t_with("popupTabStep", &[&t.vendor_name, step]),
        (None, true) => t_with("popupTabGuiding", &[&t.vendor_name]),
        (None, false) => t_with("popupTabCanGuide", &[&t.vendor_name]),
    };
    add(&line, "span", &[], &text)?;
    // Anywhere in the console, the walkthrough starts on request and follows the admin to the key.
    if let (false, Some(tab)) = (t.guiding && t.step_title.is_some(), s.tab) {
        let label = t_with("popupCreateKey", &[&t.vendor_name]);
        let start = button(&line, &[("id", "resume"), ("class", "quiet")], &label)?;
        let vendor = t.vendor_name.clone();
        listeners.push(on_click(&start, move |_| {
            let vendor = vendor.clone();
            act(OutgoingRequest::Resume { tab }, move |_| Some(t_with("popupGuideStarted", &[&vendor])))
        }));
    }
    Ok(listeners)
}

/// The popup without a vault: a way to the options page, where it is set up.
fn invite(section: &Element) -> Result<Vec<EventListener>, JsValue> {
    add(section, "p", &[], &t("popupSetUpLead"))?;
    let open = button(section, &[("id", "open-setup"), ("class", "primary")], &t("popupSetUp"))?;
    Ok(vec![on_click(&open, |_| {
        let _ = api::open_options_page();
    })])
}

/// The lock screen: the passphrase field (focused), errors beside it with the typed text kept,
/// and a busy state while the passphrase is stretched.
/// The lock screen's first line: how many keys the vault holds.
fn lock_lead(vault: &VaultStatus) -> String {
    let n = vault.items.to_string();
    match plural(vault.items as usize) {
        Plural::One => t_with("popupLockedOne", &[&n]),
        Plural::Other => t_with("popupLocked", &[&n]),
    }
}

fn lock_screen(section: &Element, vault: &VaultStatus, error: Option<&str>) -> Result<Vec<EventListener>, JsValue> {
    add(section, "p", &[("class", "lead")], &lock_lead(vault))?;
    let form = add(section, "form", &[("id", "unlock"), ("class", "stack")], "")?;
    add(&form, "label", &[("for", "unlock-passphrase")], &t("popupPassphrase"))?;
    let mut attrs = vec![
        ("id", "unlock-passphrase"),
        ("type", "password"),
        ("autocomplete", "current-password"),
        ("required", ""),
        ("aria-describedby", "unlock-error"),
    ];
    if error.is_some() {
        attrs.push(("aria-invalid", "true"));
    }
    add(&form, "input", &attrs, "")?;
    add(&form, "p", &[("id", "unlock-error"), ("class", "field-error"), ("role", "alert")], error.unwrap_or(""))?;
    add(&form, "button", &[("type", "submit"), ("id", "unlock-button"), ("class", "primary")], &t("popupUnlock"))?;
    let submit = EventListener::new_with_options(
        &form,
        "submit",
        EventListenerOptions::enable_prevent_default(),
        move |event| {
            event.prevent_default();
            unlock();
        },
    );
    Ok(vec![submit])
}

/// Sends the typed passphrase; on a refusal the field keeps it and the reason shows beside it.
fn unlock() {
    let doc = document();
    let (Some(form), Some(go), Some(field), Some(error)) = (
        doc.get_element_by_id("unlock"),
        doc.get_element_by_id("unlock-button"),
        doc.get_element_by_id("unlock-passphrase"),
        doc.get_element_by_id("unlock-error"),
    ) else {
        return;
    };
    if go.has_attribute("disabled") {
        return;
    }
    let passphrase = SecretString::new(value_of("unlock-passphrase"));
    let input = field.clone();
    let busy = move |on: bool| {
        let field = &input;
        let _ = form.set_attribute("aria-busy", if on { "true" } else { "false" });
        let _ = if on { go.set_attribute("disabled", "") } else { go.remove_attribute("disabled") };
        let _ = if on { field.set_attribute("readonly", "") } else { field.remove_attribute("readonly") };
        go.set_text_content(Some(&if on { t("popupUnlocking") } else { t("popupUnlock") }));
    };
    busy(true);
    error.set_text_content(Some(""));
    spawn(async move {
        match ask(&OutgoingRequest::Unlock { passphrase }).await {
            Ok(Reply::Error { message, .. }) => {
                busy(false);
                error.set_text_content(Some(&word(&message)));
                let _ = field.set_attribute("aria-invalid", "true");
                if let Some(field) = field.dyn_ref::<HtmlElement>() {
                    let _ = field.focus();
                }
            }
            Err(e) => {
                busy(false);
                error.set_text_content(Some(&word(&e)));
            }
            Ok(_) => {
                STATE.with(|s| s.borrow_mut().message = Some(t("popupUnlocked")));
                load().await;
            }
        }
    });
}

/// The unlocked list: the search box, a deletion to undo, the keys, keys found in
/// storage apart, damaged items.
fn list_view(section: &Element, s: &State, vault: &VaultStatus) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = undo_bar(section, vault)?;
    let known = s.list.as_ref().map_or(0, |l| l.total);
    if known == 0 {
        listeners.extend(empty_state(section, &vault.vendors)?);
    } else {
        let search = add(section, "div", &[("class", "search")], "")?;
        add(&search, "label", &[("for", "search")], &t("popupSearchLabel"))?;
        let placeholder = t("popupSearchPlaceholder");
        let input = add(
            &search,
            "input",
            &[
                ("id", "search"),
                ("type", "search"),
                ("autocomplete", "off"),
                ("spellcheck", "false"),
                ("placeholder", &placeholder),
                ("aria-controls", "entries"),
                ("value", &s.query),
            ],
            "",
        )?;
        // Not a live region: each search keystroke would read the whole list out again.
        add(section, "div", &[("id", "entries")], "")?;
        listeners.push(EventListener::new(&input, "input", |_| {
            let query = value_of("search");
            let request = STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.query = query;
                s.rows = ROW_BATCH;
                list_request(&mut s)
            });
            spawn(relist(request, None));
        }));
    }
    let foreign: Vec<&EntrySummary> = vault.entries.iter().filter(|e| e.trust == EntryTrust::Foreign).collect();
    if !foreign.is_empty() {
        listeners.extend(found_in_storage(section, &foreign)?);
    }
    for d in &vault.damaged {
        add(
            section,
            "p",
            &[("role", "alert"), ("data-damaged", &d.item)],
            &t_with("popupDamaged", &[&d.item, &word(&d.reason)]),
        )?;
    }
    if known > 0 {
        // Drawn once the section is in place, so the list finds #entries.
        spawn(async {
            if let Err(e) = draw_entries() {
                web_sys::console::error_1(&e);
            }
        });
    }
    Ok(listeners)
}

/// Asks the worker for the list of `request` (number and request) and draws it, focusing row
/// `focus_row` when given; a whole new drawing if the vault's state changed meanwhile.
async fn relist((asked, request): (u64, OutgoingRequest), focus_row: Option<usize>) {
    let listed = match ask(&request).await {
        Ok(Reply::Listed(l)) => Some(l),
        _ => None,
    };
    let state_of = |v: Option<&VaultStatus>| v.map(|v| (v.set_up, v.unlocked));
    let (kept, same_state) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let before = state_of(s.vault.as_ref());
        let kept = keep_list(&mut s, asked, listed);
        (kept, before == state_of(s.vault.as_ref()))
    });
    let drawn = match (kept, same_state) {
        (false, _) => Ok(()),
        (true, true) => draw_entries_focusing(focus_row),
        (true, false) => draw(),
    };
    if let Err(e) = drawn {
        web_sys::console::error_1(&e);
    }
}

/// Draws the keys that match the search into `#entries`: this site's first, then by vendor and tenant.
fn draw_entries() -> Result<(), JsValue> {
    draw_entries_focusing(None)
}

/// [`draw_entries`], then moves the focus to the details button of row number `focus_row` (from
/// 0) if it is drawn: after "Show more", which the redraw removes, the focus goes on to the first
/// row it added instead of falling back to the top of the page.
fn draw_entries_focusing(focus_row: Option<usize>) -> Result<(), JsValue> {
    let Some(out) = document().get_element_by_id("entries") else { return Ok(()) };
    // The `<li>` of row `focus_row`, once drawn.
    let mut focus_item: Option<Element> = None;
    let old = LIST_LISTENERS.with(|l| std::mem::take(&mut *l.borrow_mut()));
    clear(&out)?;
    drop(old);
    let mut listeners = Vec::new();
    STATE.with(|s| -> Result<(), JsValue> {
        let s = s.borrow();
        let Some(arranged) = &s.list else { return Ok(()) };
        let (shown, total) = (arranged.shown as usize, arranged.total as usize);
        // Rows drawn so far, against the budget of this search.
        let budget = s.rows.max(ROW_BATCH);
        let mut drawn = 0;
        if shown == 0 {
            let text = t_with("popupNoMatch", &[s.query.trim()]);
            add(&out, "p", &[("class", "empty"), ("id", "no-match")], &text)?;
        }
        if !arranged.here.is_empty() {
            let host = s.host.clone().unwrap_or_default();
            let vendor = &arranged.here[0];
            let sub = t_with("popupThisSite", &[&host]);
            let group = group_box(&out, "here", &vendor.vendor, vendor_label(vendor), &sub)?;
            for e in arranged.here.iter().take(budget) {
                listeners.extend(row(&group, e)?);
                if focus_row == Some(drawn) {
                    focus_item = group.last_element_child();
                }
                drawn += 1;
            }
        }
        for (i, g) in arranged.groups.iter().enumerate() {
            if drawn >= budget {
                break;
            }
            let group = group_box(&out, &format!("group-{i}"), &g.vendor, &g.vendor_name, &g.tenant)?;
            for e in g.entries.iter().take(budget - drawn) {
                listeners.extend(row(&group, e)?);
                if focus_row == Some(drawn) {
                    focus_item = group.last_element_child();
                }
                drawn += 1;
            }
        }
        if drawn < shown {
            let more = (shown - drawn).min(ROW_BATCH).to_string();
            let left = (shown - drawn).to_string();
            let text = t_with("popupShowMore", &[&more, &left]);
            let button = add(&out, "button", &[("type", "button"), ("id", "show-more"), ("class", "quiet")], &text)?;
            listeners.push(EventListener::new(&button, "click", |_| {
                // The first row this press adds is the one after those drawn now.
                let (first_new, request) = STATE.with(|s| {
                    let mut s = s.borrow_mut();
                    let drawn = s.rows.max(ROW_BATCH);
                    s.rows = drawn + ROW_BATCH;
                    (drawn, list_request(&mut s))
                });
                // Redrawn once the worker answers (after this listener, which the redraw removes).
                spawn(relist(request, Some(first_new)));
            }));
        }
        if !s.query.trim().is_empty() {
            let summary_total = total;
            let (shown, total) = (shown.to_string(), total.to_string());
            let summary = match plural(summary_total) {
                Plural::One => t_with("popupMatchCountOne", &[&shown, &total]),
                Plural::Other => t_with("popupMatchCount", &[&shown, &total]),
            };
            add(&out, "p", &[("class", "muted"), ("id", "match-count")], &summary)?;
        }
        Ok(())
    })?;
    LIST_LISTENERS.with(|l| *l.borrow_mut() = listeners);
    // The row's first control is its details button.
    if let Some(open) =
        focus_item.and_then(|li| li.first_element_child()).and_then(|b| b.dyn_into::<HtmlElement>().ok())
    {
        open.focus()?;
    }
    Ok(())
}

/// The name an entry is listed under: its own, or "Unnamed key".
fn display_name(e: &EntrySummary) -> String {
    given_name(e).map_or_else(|| t("popupUnnamedKey"), str::to_string)
}

/// An entry's state in words.
fn state_label(state: EntryState) -> String {
    match state {
        EntryState::Active => t("popupStateActive"),
        EntryState::Replaced => t("popupStateReplaced"),
        EntryState::Revoked => t("popupStateRevoked"),
    }
}

fn vendor_label(e: &EntrySummary) -> &str {
    if e.vendor_name.is_empty() {
        &e.vendor
    } else {
        &e.vendor_name
    }
}

/// A group of rows headed by the vendor's icon and name and a second line (the tenant); returns its list.
fn group_box(parent: &Element, id: &str, vendor: &str, name: &str, sub: &str) -> Result<Element, JsValue> {
    let title = format!("{id}-title");
    let group =
        add(parent, "section", &[("class", "group"), ("data-vendor", vendor), ("aria-labelledby", &title)], "")?;
    let head = add(&group, "h2", &[("id", &title), ("class", "group-head")], "")?;
    super::vendors::icon(&head, vendor, name)?;
    add(&head, "span", &[("class", "vendor")], name)?;
    head.append_with_str_1(" ")?;
    add(&head, "span", &[("class", "tenant")], sub)?;
    add(&group, "ul", &[("class", "rows")], "")
}

/// The date of an entry in the browser's locale, by one formatter made once (a row is drawn
/// for each of a hundred keys at every keystroke; making a formatter per date costs more than
/// the rest of the row).
fn date(ms: u64) -> String {
    thread_local! {
        static DATES: js_sys::Function =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).format();
    }
    let day = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    DATES.with(|format| format.call1(&JsValue::NULL, &day)).ok().and_then(|s| s.as_string()).unwrap_or_default()
}

fn date_time(ms: u64) -> String {
    js_sys::Date::new(&JsValue::from_f64(ms as f64)).to_locale_string("default", &JsValue::UNDEFINED).into()
}

/// One key in the list: a button into its details (name, tenant, date, masked key) and its Copy button.
fn row(list: &Element, e: &EntrySummary) -> Result<Vec<EventListener>, JsValue> {
    let state = match e.state {
        EntryState::Active => "active",
        EntryState::Replaced => "replaced",
        EntryState::Revoked => "revoked",
    };
    let item = add(list, "li", &[("data-entry-id", &e.id), ("data-vendor", &e.vendor), ("data-state", state)], "")?;
    let name = display_name(e);
    // Named by what it shows, after a word for screen readers: "Details of <name> <tenant> …".
    let open = button(&item, &[("class", "open"), ("data-action", "open")], "")?;
    thread_local! {
        static DETAILS_OF: String = t_with("popupDetailsOf", &[""]);
    }
    DETAILS_OF.with(|words| add(&open, "span", &[("class", "visually-hidden")], words))?;
    add(&open, "span", &[("class", "name")], &name)?;
    let mut meta = format!("{} · {}", e.tenant, date(e.created_at));
    if e.state != EntryState::Active {
        meta.push_str(&format!(" · {}", state_label(e.state)));
    }
    if e.trust == EntryTrust::Pending {
        meta.push_str(&format!(" · {}", t("popupSavedWhileLocked")));
    }
    add(&open, "span", &[("class", "meta")], &meta)?;
    add(&open, "span", &[("class", "hint")], &masked(&e.hint))?;
    let id = e.id.clone();
    let mut listeners = vec![on_click(&open, move |_| {
        let id = id.clone();
        STATE.with(|s| s.borrow_mut().detail = Some(id));
        spawn(async {
            let _ = draw();
            if let Some(back) = document().get_element_by_id("back").and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                let _ = back.focus();
            }
        });
    })];
    listeners.push(copy_button(&item, e, true)?);
    Ok(listeners)
}

/// Copy: the key goes straight to the clipboard, never into the page; a toast beside the button says so.
fn copy_button(parent: &Element, e: &EntrySummary, icon: bool) -> Result<EventListener, JsValue> {
    let label = t_with("popupCopyLabel", &[&display_name(e)]);
    let copy = if icon {
        let b = button(parent, &[("class", "icon copy"), ("data-action", "copy"), ("aria-label", &label)], "")?;
        copy_icon(&b)?;
        b
    } else {
        button(parent, &[("class", "copy"), ("data-action", "copy"), ("aria-label", &label)], &t("popupCopy"))?
    };
    let toast = add(parent, "span", &[("class", "toast"), ("role", "status"), ("aria-live", "polite")], "")?;
    let id = e.id.clone();
    Ok(on_click(&copy, move |_| {
        let (id, toast) = (id.clone(), toast.clone());
        spawn(async move {
            let said = match ask(&OutgoingRequest::CopyKey { id }).await {
                Ok(Reply::Key { key }) => match copy_secret(&key).await {
                    Ok(Copied { clears_in: Some(seconds) }) => t_with("popupCopiedClears", &[&seconds.to_string()]),
                    Ok(Copied { clears_in: None }) => t("popupCopied"),
                    Err(why) => why,
                },
                Ok(Reply::Error { message, .. }) => word(&message),
                _ => t("popupNoAnswer"),
            };
            toast.set_text_content(Some(&said));
            let _ = toast.set_attribute("data-shown", "");
            let fade = toast.clone();
            keep_timer(Timeout::new(TOAST_MS, move || {
                fade.set_text_content(Some(""));
                let _ = fade.remove_attribute("data-shown");
            }));
        });
    }))
}

/// A deletion that can still be undone (also after the popup was closed and opened again), with
/// the seconds left counting down. The count is a `timer`, which assistive technology reads when
/// asked but does not announce at every tick; the deletion itself is announced once, in the
/// status line, when it happens.
fn undo_bar(section: &Element, vault: &VaultStatus) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let now = js_sys::Date::now() as u64;
    let pending: Vec<_> = vault.deleted.iter().filter(|d| d.undo_until > now).collect();
    let mut counts = Vec::new();
    for d in &pending {
        let group = t("popupDeletedKey");
        let until = d.undo_until.to_string();
        let bar = add(
            section,
            "div",
            &[
                ("class", "undo-bar"),
                ("data-deleted-id", &d.id),
                ("data-undo-until", &until),
                ("role", "group"),
                ("aria-label", &group),
            ],
            "",
        )?;
        let name = if d.key_name.is_empty() { t("popupUnnamedKey") } else { d.key_name.clone() };
        let what = add(&bar, "span", &[("class", "undo-what")], "")?;
        add(&what, "span", &[], &t_with("popupDeletedWhat", &[&d.vendor_name, &name]))?;
        what.append_with_str_1(" ")?;
        let left = listing::seconds_left(d.undo_until, now);
        let count = add(
            &what,
            "span",
            &[("class", "undo-left"), ("role", "timer"), ("aria-atomic", "true")],
            &seconds_left(left),
        )?;
        counts.push((count, d.undo_until));
        let label = t_with("popupUndoLabel", &[&name]);
        let undo = button(&bar, &[("data-action", "undo"), ("aria-label", &label)], &t("popupUndo"))?;
        let id = d.id.clone();
        listeners.push(on_click(&undo, move |_| {
            act(OutgoingRequest::UndoDelete { id: id.clone() }, |_| Some(t("popupRestored")))
        }));
    }
    if !counts.is_empty() {
        let counts = std::rc::Rc::new(counts);
        keep_timer(Timeout::new(next_tick(&counts, now), move || tick_undo(counts)));
    }
    Ok(listeners)
}

/// The undo bar's count: "12 seconds left".
fn seconds_left(seconds: u64) -> String {
    if seconds == 1 {
        t("popupUndoOneSecondLeft")
    } else {
        t_with("popupUndoSecondsLeft", &[&seconds.to_string()])
    }
}

/// The undo bars' counts and when each deletion becomes final (Unix ms).
type Counts = std::rc::Rc<Vec<(Element, u64)>>;

/// Milliseconds from `now` until the next count changes (a little after, never 0).
fn next_tick(counts: &Counts, now: u64) -> u32 {
    let next = counts
        .iter()
        .filter(|(_, until)| *until > now)
        .map(|(_, until)| match (until - now) % 1_000 {
            0 => 1_000,
            ms => ms,
        })
        .min()
        .unwrap_or(1_000);
    next as u32 + 20
}

/// Counts the undo bars down by the clock; once a deletion is final, draws the popup again (its
/// bar goes). A redraw drops the timer with the old bars.
fn tick_undo(counts: Counts) {
    let now = js_sys::Date::now() as u64;
    let mut over = false;
    for (count, until) in counts.iter() {
        match listing::seconds_left(*until, now) {
            0 => over = true,
            left => count.set_text_content(Some(&seconds_left(left))),
        }
    }
    if over {
        spawn(load());
    } else {
        keep_timer(Timeout::new(next_tick(&counts, now), move || tick_undo(counts)));
    }
}

/// What the status line says once, as a key is deleted.
fn deleted_said(reply: &Reply) -> Option<String> {
    match reply {
        Reply::Deleted { undo_until, .. } => {
            let left = listing::seconds_left(*undo_until, js_sys::Date::now() as u64);
            STATE.with(|s| s.borrow_mut().message_unseen = true);
            Some(t_with("popupDeletedAnnounce", &[&left.to_string()]))
        }
        _ => None,
    }
}

/// No keys yet: the vendors keywarden knows, each with the way to its key page.
fn empty_state(section: &Element, vendors: &[VendorCard]) -> Result<Vec<EventListener>, JsValue> {
    let empty = add(section, "section", &[("id", "empty"), ("aria-labelledby", "empty-title")], "")?;
    add(&empty, "h2", &[("id", "empty-title")], &t("popupEmptyTitle"))?;
    add(&empty, "p", &[], &t("popupEmptyLead"))?;
    let list = add(&empty, "ul", &[("id", "vendor-links")], "")?;
    super::vendors::draw(&list, vendors, super::vendors::NoServer::OpenSettings)
}

/// Entries that open with the vault but that keywarden has no record of saving here: listed
/// apart, not copied, until the admin keeps or deletes each.
fn found_in_storage(section: &Element, entries: &[&EntrySummary]) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let apart =
        add(section, "section", &[("id", "foreign"), ("class", "foreign"), ("aria-labelledby", "foreign-title")], "")?;
    add(&apart, "h2", &[("id", "foreign-title")], &t("popupForeignTitle"))?;
    add(&apart, "p", &[], &t("popupForeignLead"))?;
    let list = add(&apart, "ul", &[("id", "foreign-entries")], "")?;
    for e in entries {
        let item =
            add(&list, "li", &[("data-entry-id", &e.id), ("data-vendor", &e.vendor), ("data-trust", "foreign")], "")?;
        add(
            &item,
            "span",
            &[("class", "entry")],
            &format!("{} · {} · {} · {}", vendor_label(e), display_name(e), e.tenant, e.hint),
        )?;
        let actions = add(&item, "span", &[("class", "actions")], "")?;
        let keep = button(&actions, &[("data-action", "adopt")], &t("popupAdopt"))?;
        let id = e.id.clone();
        listeners.push(on_click(&keep, move |_| {
            act(OutgoingRequest::AdoptEntries { ids: vec![id.clone()] }, |_| Some(t("popupAdopted")))
        }));
        let delete = button(&actions, &[("data-action", "delete"), ("class", "danger")], &t("popupDelete"))?;
        let id = e.id.clone();
        listeners.push(on_click(&delete, move |_| act(OutgoingRequest::DeleteEntry { id: id.clone() }, deleted_said)));
    }
    Ok(listeners)
}

/// One field of the detail view.
fn field(list: &Element, label: &str, value: &str, key: &str) -> Result<Element, JsValue> {
    let row = add(list, "div", &[("class", "field"), ("data-field", key)], "")?;
    add(&row, "dt", &[], label)?;
    let shown = if value.trim().is_empty() { "—" } else { value };
    add(&row, "dd", &[], shown)
}

/// Everything the vault knows about one key, and what can be done with it.
fn detail(section: &Element, e: &EntrySummary) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let name = display_name(e);
    let view = add(
        section,
        "section",
        &[("id", "detail"), ("data-entry-id", &e.id), ("aria-labelledby", "detail-title")],
        "",
    )?;
    let back = button(&view, &[("id", "back"), ("class", "quiet")], "")?;
    // The arrow is drawn, not read out: the button is "All keys".
    add(&back, "span", &[("aria-hidden", "true")], "← ")?;
    back.append_with_str_1(&t("popupBack"))?;
    listeners.push(on_click(&back, |_| {
        STATE.with(|s| s.borrow_mut().detail = None);
        spawn(async {
            let _ = draw();
        });
    }));
    let head = add(&view, "h2", &[("id", "detail-title"), ("class", "detail-head")], "")?;
    super::vendors::icon(&head, &e.vendor, vendor_label(e))?;
    add(&head, "span", &[], &name)?;

    let secret = add(&view, "div", &[("class", "secret")], "")?;
    add(
        &secret,
        "code",
        &[("id", "secret-value"), ("data-revealed", "false"), ("aria-label", &t("popupKey"))],
        &masked(&e.hint),
    )?;
    // Its name says what it does next (Reveal, then Hide): no pressed state besides.
    let reveal = button(&secret, &[("id", "reveal")], &t("popupReveal"))?;
    listeners.push(on_click(&reveal, {
        let id = e.id.clone();
        let hint = e.hint.clone();
        move |_| toggle_reveal(&id, &hint)
    }));
    if e.trust != EntryTrust::Foreign {
        listeners.push(copy_button(&secret, e, false)?);
    }

    let fields = add(&view, "dl", &[("class", "fields")], "")?;
    field(&fields, &t("popupFieldVendor"), vendor_label(e), "vendor")?;
    field(&fields, &t("popupFieldTenant"), &e.tenant, "tenant")?;
    field(&fields, &t("popupFieldAccount"), &e.account, "account")?;
    field(&fields, &t("popupFieldKeyName"), &e.key_name, "key_name")?;
    let scopes_label = if e.vendor == "gotransverse" { t("popupFieldApiSets") } else { t("popupFieldScopes") };
    field(&fields, &scopes_label, &e.scopes.join(", "), "scopes")?;
    field(&fields, &t("popupFieldCreated"), &date_time(e.created_at), "created")?;
    field(&fields, &t("popupFieldCapturedOn"), &e.page_url, "page_url")?;
    let mut state = state_label(e.state);
    if e.trust == EntryTrust::Pending {
        state.push_str(&format!(" · {}", t("popupSavedWhileLocked")));
    }
    field(&fields, &t("popupFieldState"), &state, "state")?;
    field(&fields, &t("popupFieldNotes"), &e.notes, "notes")?;
    field(&fields, &t("popupFieldLastTest"), &t("popupNotTested"), "last_test")?;

    if e.trust != EntryTrust::Foreign {
        listeners.extend(edit_forms(&view, e)?);
    }
    let actions = add(&view, "div", &[("class", "actions")], "")?;
    if e.trust != EntryTrust::Foreign {
        let (text, next, said) = match e.state {
            EntryState::Revoked => (t("popupMarkActive"), EntryState::Active, t("popupMarkedActive")),
            _ => (t("popupMarkRevoked"), EntryState::Revoked, t("popupMarkedRevoked")),
        };
        let toggle = button(&actions, &[("id", "toggle-state")], &text)?;
        let id = e.id.clone();
        listeners.push(on_click(&toggle, move |_| {
            let said = said.clone();
            act(OutgoingRequest::SetEntryState { id: id.clone(), state: next }, move |_| Some(said))
        }));
    }
    let delete = button(&actions, &[("id", "delete"), ("class", "danger")], &t("popupDelete"))?;
    let id = e.id.clone();
    listeners.push(on_click(&delete, move |_| {
        let id = id.clone();
        STATE.with(|s| s.borrow_mut().detail = None);
        act(OutgoingRequest::DeleteEntry { id }, deleted_said);
    }));
    Ok(listeners)
}

/// Rename and notes, each a small form saved to the vault.
fn edit_forms(view: &Element, e: &EntrySummary) -> Result<Vec<EventListener>, JsValue> {
    let mut listeners = Vec::new();
    let options = || EventListenerOptions::enable_prevent_default();
    let rename = add(view, "form", &[("id", "rename"), ("class", "stack")], "")?;
    add(&rename, "label", &[("for", "rename-name")], &t("popupNameLabel"))?;
    add(
        &rename,
        "input",
        &[("id", "rename-name"), ("type", "text"), ("autocomplete", "off"), ("value", &e.key_name)],
        "",
    )?;
    add(&rename, "button", &[("type", "submit")], &t("popupRename"))?;
    let id = e.id.clone();
    listeners.push(EventListener::new_with_options(&rename, "submit", options(), move |event| {
        event.prevent_default();
        let name = value_of("rename-name");
        act(OutgoingRequest::RenameEntry { id: id.clone(), name }, |_| Some(t("popupRenamed")));
    }));
    let notes = add(view, "form", &[("id", "notes"), ("class", "stack")], "")?;
    add(&notes, "label", &[("for", "notes-text")], &t("popupNotesLabel"))?;
    add(&notes, "textarea", &[("id", "notes-text"), ("rows", "3")], &e.notes)?;
    add(&notes, "button", &[("type", "submit")], &t("popupSaveNotes"))?;
    let id = e.id.clone();
    listeners.push(EventListener::new_with_options(&notes, "submit", options(), move |event| {
        event.prevent_default();
        let notes = value_of("notes-text");
        act(OutgoingRequest::SetEntryNotes { id: id.clone(), notes }, |_| Some(t("popupNotesSaved")));
    }));
    Ok(listeners)
}

/// Shows the key in the popup's own page (asked from the vault each time), or masks it again.
/// The key is only ever the text of `#secret-value`, and only while shown.
fn toggle_reveal(id: &str, hint: &str) {
    let doc = document();
    let (Some(value), Some(reveal)) = (doc.get_element_by_id("secret-value"), doc.get_element_by_id("reveal")) else {
        return;
    };
    if value.get_attribute("data-revealed").as_deref() == Some("true") {
        hide_secret(hint);
        return;
    }
    let (id, hint) = (id.to_string(), hint.to_string());
    spawn(async move {
        match ask(&OutgoingRequest::CopyKey { id }).await {
            Ok(Reply::Key { key }) => {
                value.set_text_content(Some(key.expose()));
                let _ = value.set_attribute("data-revealed", "true");
                reveal.set_text_content(Some(&t("popupHide")));
                keep_timer(Timeout::new(REVEAL_MS, move || hide_secret(&hint)));
            }
            Ok(Reply::Error { message, .. }) => super::vault_ui::say(&word(&message)),
            _ => super::vault_ui::say(&t("popupNoAnswer")),
        }
    });
}

/// Masks a revealed key again: its text leaves the page.
fn hide_secret(hint: &str) {
    let doc = document();
    if let Some(value) = doc.get_element_by_id("secret-value") {
        value.set_text_content(Some(&masked(hint)));
        let _ = value.set_attribute("data-revealed", "false");
    }
    if let Some(reveal) = doc.get_element_by_id("reveal") {
        reveal.set_text_content(Some(&t("popupReveal")));
    }
}

/// An empty 18 px line-drawing icon in `parent`, hidden from screen readers (the button names it).
fn line_icon(parent: &Element) -> Result<Element, JsValue> {
    add_svg(
        parent,
        "svg",
        &[
            ("viewBox", "0 0 24 24"),
            ("width", "18"),
            ("height", "18"),
            ("aria-hidden", "true"),
            ("fill", "none"),
            ("stroke", "currentColor"),
            ("stroke-width", "2"),
        ],
    )
}

/// Two overlapping sheets.
fn copy_icon(parent: &Element) -> Result<(), JsValue> {
    let svg = line_icon(parent)?;
    add_svg(&svg, "rect", &[("x", "8"), ("y", "8"), ("width", "12"), ("height", "12"), ("rx", "2")])?;
    add_svg(&svg, "path", &[("d", "M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2")])?;
    Ok(())
}

/// A cog.
fn gear_icon(parent: &Element) -> Result<(), JsValue> {
    let svg = line_icon(parent)?;
    add_svg(&svg, "circle", &[("cx", "12"), ("cy", "12"), ("r", "3")])?;
    // A cog wheel: eight teeth around a ring (not rays, which would read as brightness).
    add_svg(
        &svg,
        "path",
        &[(
            "d",
            "M10.3 2h3.4l.5 2.6 1.9.8 2.2-1.5 2.4 2.4-1.5 2.2.8 1.9 2.6.5v3.4l-2.6.5-.8 1.9 1.5 2.2-2.4 2.4-2.2-1.5-1.9.8-.5 2.6h-3.4l-.5-2.6-1.9-.8-2.2 1.5-2.4-2.4 1.5-2.2-.8-1.9L2 13.7v-3.4l2.6-.5.8-1.9-1.5-2.2 2.4-2.4 2.2 1.5 1.9-.8z",
        )],
    )?;
    Ok(())
}

/// Entry point of popup.html.
#[wasm_bindgen]
pub fn popup_main() -> Result<(), JsValue> {
    // The HTML says it in English until this runs; the catalog says it in the browser's language.
    document().set_title(&t("pageTitlePopup"));
    root().ok_or_else(|| JsValue::from_str("popup root missing"))?;
    // A key left revealed is masked as the popup goes away.
    let hide = EventListener::new(&web_sys::window().ok_or("no window")?.into(), "pagehide", |_| {
        if let Some(value) = document().get_element_by_id("secret-value") {
            value.set_text_content(Some(""));
        }
    });
    PAGE_LISTENERS.with(|l| l.borrow_mut().push(hide));
    // Locked elsewhere (the idle alarm, the shortcut, the options page): the session key leaves
    // `storage.session`, and the popup masks a revealed key and shows the lock screen.
    let locked = api::Listener::new(api::storage_changed(), |changes| {
        let change = js_sys::Reflect::get(&changes, &JsValue::from_str(crate::engine::storage::SESSION_KEY));
        let Ok(change) = change else { return };
        if change.is_undefined() {
            return;
        }
        let cleared = js_sys::Reflect::get(&change, &JsValue::from_str("newValue")).map_or(true, |v| v.is_undefined());
        if cleared {
            if let Some(value) = document().get_element_by_id("secret-value") {
                value.set_text_content(Some(""));
            }
            // Already on the lock screen (this popup locked the vault): drawing it again when the
            // report arrives late would wipe what the admin typed since, or the error beside it.
            if document().get_element_by_id("unlock-passphrase").is_none() {
                spawn(load());
            }
        }
    });
    API_LISTENERS.with(|l| l.borrow_mut().push(locked));
    spawn(load());
    Ok(())
}
