//! The message protocol between content scripts, extension pages and the service worker, with the sender check done before dispatch.

use crate::engine::clipboard::ClipboardDigest;
use crate::engine::page::PageModel;
use crate::engine::recipe::{FieldName, Read, Server, ServerKeyPage};
use crate::engine::secret::SecretString;
use crate::engine::vault::EntryState;
use crate::engine::walkthrough::Event;
pub use crate::engine::walkthrough::SavedNote;
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped whenever a message changes shape; a message of another version is refused.
pub const VERSION: u32 = 2;

/// What a content script may ask: describe its own top-level page and hand over a key shown
/// there. Nothing else can even be expressed by a content script's message.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContentRequest {
    /// What the page shows now. `seq` grows with every report from that page; `panel` is the
    /// nonce of the step-panel frame this content script created (none while it has none).
    Report {
        seq: u64,
        page: PageModel,
        #[serde(default)]
        panel: Option<PanelNonce>,
    },
    /// The admin asked to save the key shown with report `seq`, with the metadata fields the
    /// worker pointed at (key name, scopes, ...).
    Capture {
        seq: u64,
        key: SecretString,
        #[serde(default)]
        fields: BTreeMap<FieldName, String>,
    },
    /// The admin pressed Escape on the page while the step panel showed: "not now".
    Dismiss { seq: u64 },
    /// The admin pressed the save control's "Set up the vault": open the options page.
    OpenSetup,
    /// The admin really clicked (a trusted click, never a script's) element `element` of report
    /// `seq`: a step whose target it is was performed in this tab.
    Pressed { seq: u64, element: u32 },
}

/// What the step panel may ask, of the tab it is embedded in only; the panel writes it, the
/// worker reads it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PanelRequest {
    /// Next, Back, Dismiss.
    Panel { event: StepEvent },
    /// The height in CSS pixels the panel's content takes at the frame's width, so that the
    /// content script can size the frame to it.
    Fit { height: u32 },
}

/// The tallest content height a panel may report; the content script still clamps it to the view.
pub const MAX_PANEL_HEIGHT: u32 = 4096;

/// The panel's buttons (Resume is the popup's, through [`PageRequest::Resume`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEvent {
    Next,
    Back,
    /// "Not now": this page visit.
    Dismiss,
    /// "Don't guide me on <vendor>": kept until the options bring it back.
    Quiet,
    /// Close the note shown after a save.
    Close,
}

impl From<StepEvent> for Event {
    fn from(e: StepEvent) -> Self {
        match e {
            StepEvent::Next => Event::Next,
            StepEvent::Back => Event::Back,
            StepEvent::Dismiss => Event::Dismiss,
            StepEvent::Quiet => Event::Quiet,
            StepEvent::Close => Event::Close,
        }
    }
}

/// The random id of one step-panel frame, created by the content script and handed to the
/// frame in its URL fragment: 16 to 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PanelNonce(String);

impl PanelNonce {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| PanelNonce(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PanelNonce {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PanelNonce::parse(&s).ok_or_else(|| serde::de::Error::custom("not a panel nonce"))
    }
}

/// What the popup and the options page may ask; [`PageRequest::allowed_from`] splits it between them.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PageRequest {
    /// How things stand in a tab.
    Status {
        tab: Option<u32>,
    },
    /// Show the walkthrough of the vendor recognized in a tab ("Create a new … key"), from
    /// wherever the admin is, until the key is saved or they stop it.
    Resume {
        tab: u32,
    },
    /// Options: the vendors and whether each one's walkthrough appears by itself.
    Guidance,
    /// Options: let a vendor's walkthrough appear by itself on its key pages again (or not).
    SetGuidance {
        vendor: String,
        on: bool,
    },
    /// Options: the self-hosted products and the servers added for them.
    Servers,
    /// Options: a server of a self-hosted product (any URL on it); its origin was just granted.
    AddServer {
        vendor: String,
        url: String,
    },
    /// Options: forget a server.
    RemoveServer {
        host: String,
    },
    /// The vault's state and, when unlocked, its entries (keys masked).
    VaultStatus,
    /// The popup: the vault's state and the entries it lists for `query`, arranged as it draws
    /// them (the keys of the site in `tab` first, then by vendor and tenant), the first `rows`
    /// of them; the entry `detail` whose details are open comes along wherever it is listed.
    ListEntries {
        #[serde(default)]
        tab: Option<u32>,
        #[serde(default)]
        query: String,
        rows: u32,
        #[serde(default)]
        detail: Option<String>,
    },
    /// Options: create the vault with a passphrase.
    VaultSetup {
        passphrase: SecretString,
    },
    Unlock {
        passphrase: SecretString,
    },
    /// Lock now.
    Lock,
    /// The key of one entry, to put on the clipboard (one click while unlocked) or to show in
    /// the popup while the admin holds Reveal.
    CopyKey {
        id: String,
    },
    /// Give an entry another name (the key's name at the vendor, as the admin calls it).
    RenameEntry {
        id: String,
        name: String,
    },
    /// Replace an entry's notes.
    SetEntryNotes {
        id: String,
        notes: String,
    },
    /// Put back an entry deleted moments ago, while its undo window lasts and the vault stays unlocked.
    UndoDelete {
        id: String,
    },
    /// Mark an entry revoked (or active again).
    SetEntryState {
        id: String,
        state: EntryState,
    },
    /// Keep entries found in storage that keywarden did not save here: the admin vouches for them.
    AdoptEntries {
        ids: Vec<String>,
    },
    /// Remove one entry from the vault.
    DeleteEntry {
        id: String,
    },
    /// After the index alarm: vouch again for every entry that carries a valid MAC.
    RebuildIndex,
    /// Options.
    ChangePassphrase {
        old: SecretString,
        new: SecretString,
    },
    /// Options: the whole vault as one age file under `passphrase`; the vault passphrase is asked again.
    ExportBackup {
        passphrase: SecretString,
        vault_passphrase: SecretString,
    },
    /// Options: merge a backup made by `ExportBackup`.
    ImportBackup {
        text: String,
        passphrase: SecretString,
    },
    /// One key encrypted to a teammate's `age1…` recipient; the vault passphrase is asked again.
    ShareKey {
        id: String,
        recipient: String,
        vault_passphrase: SecretString,
    },
    /// Options: minutes of inactivity before the vault locks.
    SetAutoLock {
        minutes: u32,
    },
    /// The page just put text on the clipboard whose SHA-256 digest is `digest`: clear it after
    /// the chosen delay if it still holds that text. The text itself never comes here.
    ArmClipboard {
        digest: ClipboardDigest,
    },
    /// Clear the clipboard now, whatever it holds, and forget any pending clear.
    ClearClipboard,
    /// The clipboard setting.
    ClipboardStatus,
    /// Options: seconds after a copy before the clipboard is cleared (0: never).
    SetClipboardClear {
        seconds: u32,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    pub v: u32,
    pub body: T,
}

/// Only the version, read first so an old or new peer gets "version" rather than "malformed".
/// Only an object with a `v` counts (not an array that happens to start with a number).
pub struct VersionOnly {
    pub v: u32,
}

impl<'de> Deserialize<'de> for VersionOnly {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = VersionOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object with a version")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<VersionOnly, A::Error> {
                let mut v = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "v" {
                        v = Some(map.next_value::<u32>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                v.map(|v| VersionOnly { v }).ok_or_else(|| serde::de::Error::missing_field("v"))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Which extension page sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionPage {
    Panel,
    Popup,
    Options,
    Other,
}

impl ExtensionPage {
    /// Classifies an extension page by its path (`/panel.html`, ...).
    pub fn from_path(path: &str) -> Self {
        match path.split(['?', '#']).next().unwrap_or("") {
            "/panel.html" => ExtensionPage::Panel,
            "/popup.html" => ExtensionPage::Popup,
            "/options.html" => ExtensionPage::Options,
            _ => ExtensionPage::Other,
        }
    }
}

/// Who sent a message, as the browser (not the message) says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// A content script in a web page: least trusted.
    Content { tab: u32, frame: u64, url: String },
    /// One of the extension's own pages; `tab` when it is embedded in a tab (the step panel).
    Page { page: ExtensionPage, tab: Option<u32> },
}

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The sender may not ask for this.
    Forbidden,
    /// Another protocol version.
    Version,
    /// Not a message of this protocol, or beyond its limits.
    Malformed,
    /// The request is valid but does not fit the tab's state (no key expected, say).
    Unexpected,
    /// The worker could not finish (storage failed, say).
    Internal,
    /// The vault must be unlocked first.
    Locked,
    /// Refused on its merits: wrong passphrase, weak passphrase, bad recipient, foreign backup...
    Refused,
    /// Extension storage is full: nothing was written.
    StorageFull,
}

impl PageRequest {
    /// Requests the vault service answers (everything else is the walkthrough's).
    pub fn is_vault(&self) -> bool {
        !matches!(
            self,
            PageRequest::Status { .. }
                | PageRequest::Resume { .. }
                | PageRequest::Servers
                | PageRequest::AddServer { .. }
                | PageRequest::RemoveServer { .. }
                | PageRequest::Guidance
                | PageRequest::SetGuidance { .. }
        ) && !self.is_clipboard()
    }

    /// Requests about the clipboard, answered by the service itself.
    pub fn is_clipboard(&self) -> bool {
        matches!(
            self,
            PageRequest::ArmClipboard { .. }
                | PageRequest::ClearClipboard
                | PageRequest::ClipboardStatus
                | PageRequest::SetClipboardClear { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            PageRequest::Status { .. } => "status",
            PageRequest::Resume { .. } => "resume",
            PageRequest::Servers => "servers",
            PageRequest::AddServer { .. } => "add_server",
            PageRequest::RemoveServer { .. } => "remove_server",
            PageRequest::Guidance => "guidance",
            PageRequest::SetGuidance { .. } => "set_guidance",
            PageRequest::VaultStatus => "vault_status",
            PageRequest::ListEntries { .. } => "list_entries",
            PageRequest::VaultSetup { .. } => "vault_setup",
            PageRequest::Unlock { .. } => "unlock",
            PageRequest::Lock => "lock",
            PageRequest::CopyKey { .. } => "copy_key",
            PageRequest::RenameEntry { .. } => "rename_entry",
            PageRequest::SetEntryNotes { .. } => "set_entry_notes",
            PageRequest::UndoDelete { .. } => "undo_delete",
            PageRequest::SetEntryState { .. } => "set_entry_state",
            PageRequest::AdoptEntries { .. } => "adopt_entries",
            PageRequest::DeleteEntry { .. } => "delete_entry",
            PageRequest::RebuildIndex => "rebuild_index",
            PageRequest::ChangePassphrase { .. } => "change_passphrase",
            PageRequest::ExportBackup { .. } => "export_backup",
            PageRequest::ImportBackup { .. } => "import_backup",
            PageRequest::ShareKey { .. } => "share_key",
            PageRequest::SetAutoLock { .. } => "set_auto_lock",
            PageRequest::ArmClipboard { .. } => "arm_clipboard",
            PageRequest::ClearClipboard => "clear_clipboard",
            PageRequest::ClipboardStatus => "clipboard_status",
            PageRequest::SetClipboardClear { .. } => "set_clipboard_clear",
        }
    }

    /// Which full extension page may ask this: the popup handles the daily vault (unlock, copy,
    /// reveal, rename, notes, revoke, delete and undo, share, adopt, and the clipboard after a
    /// copy); setup, passphrase, backups, servers and settings (the clipboard delay among them)
    /// are the options page's.
    pub fn allowed_from(&self, page: ExtensionPage) -> bool {
        use ExtensionPage::*;
        match self {
            PageRequest::Status { .. }
            | PageRequest::Resume { .. }
            | PageRequest::VaultStatus
            | PageRequest::ListEntries { .. }
            | PageRequest::Unlock { .. }
            | PageRequest::Lock
            | PageRequest::CopyKey { .. }
            | PageRequest::RenameEntry { .. }
            | PageRequest::SetEntryNotes { .. }
            | PageRequest::UndoDelete { .. }
            | PageRequest::SetEntryState { .. }
            | PageRequest::AdoptEntries { .. }
            | PageRequest::DeleteEntry { .. }
            | PageRequest::RebuildIndex
            | PageRequest::ShareKey { .. }
            | PageRequest::ArmClipboard { .. }
            | PageRequest::ClearClipboard
            | PageRequest::ClipboardStatus => matches!(page, Popup | Options),
            PageRequest::Servers
            | PageRequest::AddServer { .. }
            | PageRequest::RemoveServer { .. }
            | PageRequest::Guidance
            | PageRequest::SetGuidance { .. }
            | PageRequest::VaultSetup { .. }
            | PageRequest::ChangePassphrase { .. }
            | PageRequest::ExportBackup { .. }
            | PageRequest::ImportBackup { .. }
            | PageRequest::SetAutoLock { .. }
            | PageRequest::SetClipboardClear { .. } => page == Options,
        }
    }
}

/// A message that passed the one check: its sender is classified, its body parsed as what that
/// kind of sender may say, and (for extension pages) allowed from that page.
#[derive(Debug)]
pub enum Admitted {
    /// From the content script in the top frame of `tab`, on `url`.
    Content { tab: u32, url: String, request: ContentRequest },
    /// From the step panel embedded in `tab`.
    Panel { tab: u32, request: PanelRequest },
    /// From the popup or the options page (`tab` when the page sits in a tab).
    Page { page: ExtensionPage, tab: Option<u32>, request: PageRequest },
}

/// A message body as it arrived (a JSON text natively, a JS value in the worker), read in two
/// steps: the version first, then the shape the sender's audience may use.
pub trait Inbound {
    fn version(&self) -> Result<u32, ErrorCode>;
    fn body<T: serde::de::DeserializeOwned>(&self) -> Result<T, ErrorCode>;
}

impl Inbound for &str {
    fn version(&self) -> Result<u32, ErrorCode> {
        serde_json::from_str::<VersionOnly>(self).map(|v| v.v).map_err(|_| ErrorCode::Malformed)
    }

    fn body<T: serde::de::DeserializeOwned>(&self) -> Result<T, ErrorCode> {
        serde_json::from_str::<Envelope<T>>(self).map(|e| e.body).map_err(|_| ErrorCode::Malformed)
    }
}

/// Why a message was not admitted, with the text to reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: Words,
}

impl Refusal {
    pub fn reply(&self) -> Reply {
        Reply::Error { code: self.code, message: self.message.clone() }
    }
}

/// The authorization step, the only one: classify (done by [`RawSender::classify`]), then parse
/// the body as the request type of that sender's audience, then check page-level rights.
/// Content scripts count only in a tab's top frame; the step panel only in a tab.
pub fn admit(sender: &Sender, message: impl Inbound) -> Result<Admitted, Refusal> {
    let version_text = || words!("errNotThisVersion");
    match message.version() {
        Ok(VERSION) => {}
        Ok(_) => return Err(Refusal { code: ErrorCode::Version, message: version_text() }),
        Err(code) => return Err(Refusal { code, message: version_text() }),
    }
    // A body that parses for no audience is malformed; one that parses only for a more trusted
    // audience is forbidden.
    let refuse = |code| Refusal { code, message: words!("errNotForThisSender") };
    let forbidden_or_malformed =
        |m: &dyn Fn() -> bool| if m() { refuse(ErrorCode::Forbidden) } else { refuse(ErrorCode::Malformed) };
    let any_other = || {
        message.body::<ContentRequest>().is_ok()
            || message.body::<PanelRequest>().is_ok()
            || message.body::<PageRequest>().is_ok()
    };
    match sender {
        Sender::Content { tab, frame, url } => {
            let request = message.body::<ContentRequest>().map_err(|_| forbidden_or_malformed(&any_other))?;
            if *frame != 0 {
                return Err(Refusal { code: ErrorCode::Forbidden, message: words!("errTopFrameOnly") });
            }
            Ok(Admitted::Content { tab: *tab, url: url.clone(), request })
        }
        Sender::Page { page: ExtensionPage::Panel, tab } => {
            let request = message.body::<PanelRequest>().map_err(|_| forbidden_or_malformed(&any_other))?;
            let tab = tab.ok_or_else(|| Refusal { code: ErrorCode::Forbidden, message: words!("errPanelInTab") })?;
            Ok(Admitted::Panel { tab, request })
        }
        Sender::Page { page: page @ (ExtensionPage::Popup | ExtensionPage::Options), tab } => {
            let request = message.body::<PageRequest>().map_err(|_| forbidden_or_malformed(&any_other))?;
            if !request.allowed_from(*page) {
                return Err(refuse(ErrorCode::Forbidden));
            }
            Ok(Admitted::Page { page: *page, tab: *tab, request })
        }
        Sender::Page { page: ExtensionPage::Other, .. } => Err(refuse(ErrorCode::Forbidden)),
    }
}

/// Where to draw: the element indexes refer to the report with number `seq`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub seq: u64,
    pub highlight: Option<Mark>,
    pub capture: Option<CaptureMark>,
    /// Elements holding key metadata; the content script reads and remembers them for a capture.
    #[serde(default)]
    pub fields: Vec<FieldMark>,
    /// Report again after this long even if nothing changes (a step's target is still missing).
    #[serde(default)]
    pub recheck_ms: Option<u32>,
    /// Show the step panel (also without a highlight: it then explains what is missing).
    #[serde(default)]
    pub panel: bool,
    /// What the panel shows in a word, for the small pill it folds into when there is no free
    /// space beside the vendor's controls ("PredictHQ · Step 2 of 4").
    #[serde(default)]
    pub pill: Option<Pill>,
}

/// The pill's words: the vendor and the step, or that a key was saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pill {
    pub vendor_name: String,
    pub position: u32,
    pub total: u32,
    pub saved: bool,
}

/// An element to read a piece of key metadata from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMark {
    pub name: FieldName,
    pub element: u32,
    pub read: Read,
}

/// The highlight around a step's target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub element: u32,
    pub vendor: String,
    pub step: String,
}

/// Where a key is on screen: the save control goes beside `key`; a click on `copy` also saves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureMark {
    pub key: u32,
    pub copy: Option<u32>,
    pub vendor: String,
    pub label: String,
    /// Controls that leave the key behind; a click on one before the key is saved asks first.
    #[serde(default)]
    pub guards: Vec<u32>,
    /// A vault is set up, so a save keeps the key. Without one the control says plainly that
    /// nothing is kept and offers setup.
    #[serde(default)]
    pub vault: bool,
}

/// What the step panel shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelView {
    pub vendor: String,
    pub vendor_name: String,
    pub step: String,
    pub title: String,
    pub body: String,
    pub why: Option<String>,
    pub position: u32,
    pub total: u32,
    pub can_back: bool,
    /// What goes wrong if the admin goes on carelessly.
    #[serde(default)]
    pub warning: Option<String>,
    /// What must be true before starting (roles, vendor-side switches).
    #[serde(default)]
    pub prerequisites: Vec<String>,
    /// The step's target cannot be found: the body says what to look for.
    #[serde(default)]
    pub missing: bool,
    /// A later step of this page is left: Next is offered.
    #[serde(default)]
    pub can_next: bool,
    /// No vault is set up: a key created now could not be saved; the panel says so first among
    /// the prerequisites and offers setup.
    #[serde(default)]
    pub needs_vault: bool,
    /// What the vendor calls its keys ("API token"), for the panel's own sentences.
    #[serde(default)]
    pub key_label: String,
    /// A key was just saved: the panel says what, and what comes next, instead of a step.
    #[serde(default)]
    pub saved: Option<SavedNote>,
}

/// What became of a handed-over key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureState {
    /// The worker checked and acknowledged it but kept nothing.
    Received,
    /// Sealed into the vault.
    Saved,
}

/// How things stand in one tab, for the popup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TabStatus {
    pub vendor: String,
    pub vendor_name: String,
    pub step_title: Option<String>,
    pub dismissed: bool,
    /// The admin asked for this vendor's walkthrough in this tab and it is under way.
    #[serde(default)]
    pub guiding: bool,
    /// This is a page where a key is generated or shown.
    #[serde(default)]
    pub key_page: bool,
    /// The admin asked not to be guided on this vendor.
    #[serde(default)]
    pub quiet: bool,
}

/// Whether one vendor's walkthrough appears by itself on its key pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guidance {
    pub vendor: String,
    pub name: String,
    pub on: bool,
}

/// A step whose target could not be found on a recognized page: a sign the vendor changed its UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftEvent {
    pub vendor: String,
    pub page: String,
    pub step: String,
    /// When it was last seen (Unix milliseconds).
    pub at: u64,
    /// How many times it was seen.
    pub count: u32,
}

/// A reply, as `{ "v": 1, "body": { "type": ..., ... } }` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Draw(Draw),
    Captured {
        state: CaptureState,
        vendor: String,
        /// Once saved: "…" and the key's last four characters, for the save control; never more.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    Status {
        tab: Option<TabStatus>,
        /// The host of the tab's page, once its content script reported (a vendor page or not).
        #[serde(default)]
        host: Option<String>,
        /// Keys sealed into the vault in this browser session.
        captures_received: u32,
        #[serde(default)]
        drift: Vec<DriftEvent>,
    },
    Servers {
        vendors: Vec<SelfHostedVendor>,
        servers: Vec<Server>,
    },
    Guidance {
        vendors: Vec<Guidance>,
    },
    Vault(VaultStatus),
    /// The popup's list for a search (see [`PageRequest::ListEntries`]).
    Listed(Listed),
    /// A key, for the popup or options page to put on the clipboard.
    Key {
        key: Revealed,
    },
    /// An age file as armored text (a backup, or a key shared with a teammate).
    Armored {
        text: String,
        entries: u32,
        left_out: u32,
    },
    Imported {
        imported: u32,
        duplicates: u32,
        renamed: u32,
    },
    /// An entry was deleted; [`PageRequest::UndoDelete`] puts it back until `undo_until` (Unix ms)
    /// unless the vault locks first.
    Deleted {
        id: String,
        undo_until: u64,
    },
    Done,
    /// The clipboard setting, and after a copy when the clipboard is cleared.
    Clipboard(ClipboardStatus),
    /// A refusal or failure, with what to tell the admin.
    Error {
        code: ErrorCode,
        message: Words,
    },
}

/// The clipboard as the popup and options page see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipboardStatus {
    /// Seconds after a copy before the clipboard is cleared; 0 is never.
    pub clear_seconds: u32,
    /// The delays the admin may choose (0: never).
    pub choices: Vec<u32>,
    /// After an arm: seconds until this copy is cleared, if it will be.
    #[serde(default)]
    pub clears_in: Option<u32>,
}

/// The vault as the popup and options page see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultStatus {
    pub set_up: bool,
    pub unlocked: bool,
    /// Entry items in storage (known even while locked).
    pub items: u32,
    /// Bytes the vault's items take in `storage.local` (header, index, entries), counted as the
    /// browser counts them (key plus JSON text); known even while locked.
    #[serde(default)]
    pub bytes_in_use: u64,
    /// When unlocked: every entry that opens, keys masked.
    pub entries: Vec<EntrySummary>,
    /// When unlocked: items that did not open, with the reason.
    pub damaged: Vec<DamagedSummary>,
    pub auto_lock_minutes: u32,
    /// Something the admin must see first: the index of verified entries is missing or damaged.
    #[serde(default)]
    pub alarm: Option<Words>,
    /// When unlocked: entries deleted moments ago that can still be put back.
    #[serde(default)]
    pub deleted: Vec<DeletedSummary>,
    /// The vendors keywarden knows, for the pages to name and link to.
    #[serde(default)]
    pub vendors: Vec<VendorCard>,
}

/// The popup's list for one search, laid out by the worker so that the popup reads only the
/// rows it draws, whatever the size of the vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// The vault's state; its `entries` are only those listed apart (found in storage, not
    /// saved here) and the one whose details are open.
    pub vault: VaultStatus,
    /// Keys of the site in the active tab, newest first.
    pub here: Vec<EntrySummary>,
    /// The other matching keys, by vendor and tenant.
    pub groups: Vec<ListedGroup>,
    /// How many keys match the search (those listed apart excluded).
    pub shown: u32,
    /// How many keys there are to search (those listed apart excluded).
    pub total: u32,
}

/// Keys of one vendor and tenant, newest first (the first of them, up to the rows asked for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedGroup {
    pub vendor: String,
    pub vendor_name: String,
    pub tenant: String,
    pub entries: Vec<EntrySummary>,
}

impl Listed {
    /// The entry `id` among those listed or sent along.
    pub fn entry(&self, id: &str) -> Option<&EntrySummary> {
        let listed = self.here.iter().chain(self.groups.iter().flat_map(|g| &g.entries));
        listed.chain(&self.vault.entries).find(|e| e.id == id)
    }

    /// How many rows it holds.
    pub fn rows(&self) -> usize {
        self.here.len() + self.groups.iter().map(|g| g.entries.len()).sum::<usize>()
    }
}

/// An entry deleted moments ago, restorable until `undo_until` (Unix ms).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedSummary {
    pub id: String,
    pub vendor_name: String,
    pub key_name: String,
    pub undo_until: u64,
}

/// A vendor as the pages present it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorCard {
    pub id: String,
    pub name: String,
    /// Where its keys are made, when it has one fixed address.
    #[serde(default)]
    pub key_page_url: Option<String>,
    /// Runs on the customer's own servers (added in the options page).
    #[serde(default)]
    pub self_hosted: bool,
    /// Its hosts as the admin reads them (`control.predicthq.com`, `*.gotransverse.com`).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Self-hosted: its key page on each server the admin added.
    #[serde(default)]
    pub server_pages: Vec<ServerKeyPage>,
}

/// One saved key as listed: its metadata and the last characters of the key, never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrySummary {
    pub id: String,
    pub vendor: String,
    /// The vendor's display name (its id when no recipe names it).
    #[serde(default)]
    pub vendor_name: String,
    pub tenant: String,
    pub account: String,
    pub key_name: String,
    pub scopes: Vec<String>,
    pub created_at: u64,
    /// The page the key was captured on.
    #[serde(default)]
    pub page_url: String,
    #[serde(default)]
    pub notes: String,
    pub state: EntryState,
    /// How far the entry is vouched for (see the vault's design notes).
    pub trust: EntryTrust,
    pub hint: String,
}

/// How far a listed entry is vouched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryTrust {
    /// Written while unlocked, or a capture this extension sealed while locked, adopted at unlock.
    Verified,
    /// Sealed by this extension while locked; adopted at the next unlock.
    Pending,
    /// Found in storage, not saved by keywarden here: shown apart, used for nothing until the
    /// admin confirms it.
    Foreign,
}

/// A storage item that did not open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamagedSummary {
    pub item: String,
    pub reason: Words,
}

/// A key on its way to the popup or options page: the only reply that carries one, and only to
/// senders the authorization matrix lets ask for it.
#[derive(PartialEq, Eq)]
pub struct Revealed(SecretString);

impl Revealed {
    pub fn new(secret: SecretString) -> Self {
        Revealed(secret)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl Clone for Revealed {
    fn clone(&self) -> Self {
        Revealed(SecretString::new(self.0.expose().to_string()))
    }
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revealed(<redacted>)")
    }
}

impl Serialize for Revealed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose())
    }
}

impl<'de> Deserialize<'de> for Revealed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SecretString::deserialize(d).map(Revealed)
    }
}

/// A product that runs on customers' own servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfHostedVendor {
    pub id: String,
    pub name: String,
}

/// A message the worker sends without being asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Push {
    /// To a tab's content script.
    Draw(Draw),
    /// To a tab's step panel; `None` hides it.
    Panel { view: Option<PanelView> },
    /// To a tab's content script: the content height its panel frame `panel` reported (at most
    /// [`MAX_PANEL_HEIGHT`]). It comes only from the worker, so the page cannot size or move the frame.
    PanelFit { panel: PanelNonce, height: u32 },
}

/// A push as the step panel reads it: its type and, for [`Push::Panel`], the view. A struct
/// rather than [`Push`] itself, so that the panel's module (loaded in every vendor tab) carries
/// no decoder for the pushes meant for content scripts.
#[derive(Debug, Deserialize)]
pub struct PanelPush {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub view: Option<PanelView>,
}

impl PanelPush {
    /// The view to show (`None` hides the panel), when this push is [`Push::Panel`].
    pub fn into_view(self) -> Option<Option<PanelView>> {
        (self.kind == "panel").then_some(self.view)
    }
}

/// The wire form of a reply or push, read back by the panel as `Incoming<PanelPush>`.
#[derive(Serialize)]
pub struct Out<'a, T: Serialize> {
    pub v: u32,
    pub body: &'a T,
}

impl<'a, T: Serialize> Out<'a, T> {
    pub fn new(body: &'a T) -> Self {
        Out { v: VERSION, body }
    }
}

/// A reply to an extension page whose body travels as JSON text (`json`) instead of as an object:
/// the vault's listing, read back in one pass.
#[derive(Serialize, Deserialize)]
pub struct OutText {
    pub v: u32,
    pub json: String,
}

impl OutText {
    pub fn new(json: String) -> Self {
        OutText { v: VERSION, json }
    }
}

/// What the browser says about a message's origin, before it is trusted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RawSender {
    /// The sending extension's id.
    pub id: Option<String>,
    /// The sending document's URL.
    pub url: Option<String>,
    pub tab: Option<RawTab>,
    #[serde(rename = "frameId")]
    pub frame_id: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RawTab {
    pub id: Option<u32>,
}

impl RawSender {
    /// Decides who sent a message: only this extension's own scripts count at all; a URL under
    /// the extension's origin is one of its pages, anything else a content script in a tab.
    pub fn classify(&self, own_id: &str, own_origin: &str) -> Result<Sender, ErrorCode> {
        if self.id.as_deref() != Some(own_id) {
            return Err(ErrorCode::Forbidden);
        }
        let url = self.url.as_deref().ok_or(ErrorCode::Forbidden)?;
        let tab = self.tab.as_ref().and_then(|t| t.id);
        let prefix = format!("{}/", own_origin.trim_end_matches('/'));
        if let Some(rest) = url.strip_prefix(&prefix) {
            return Ok(Sender::Page { page: ExtensionPage::from_path(&format!("/{rest}")), tab });
        }
        // A frame loaded by a dynamic URL (Chromium's `use_dynamic_url`) has a per-session
        // origin, not the extension id: with our id, any extension-scheme URL is one of our pages.
        let dynamic = ["chrome-extension://", "moz-extension://"].iter().find_map(|s| url.strip_prefix(s));
        if let Some((host, path)) = dynamic.and_then(|rest| rest.split_once('/')) {
            if !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Ok(Sender::Page { page: ExtensionPage::from_path(&format!("/{path}")), tab });
            }
        }
        match (tab, self.frame_id) {
            (Some(tab), Some(frame)) => Ok(Sender::Content { tab, frame, url: url.to_string() }),
            _ => Err(ErrorCode::Forbidden),
        }
    }
}

/// A reply or push as received: `{ "v": 1, "body": ... }`.
#[derive(Deserialize)]
pub struct Incoming<T> {
    pub v: u32,
    pub body: T,
}

/// The wire form of a request, as extension pages send it.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutgoingRequest {
    Status {
        tab: Option<u32>,
    },
    Resume {
        tab: u32,
    },
    Guidance,
    SetGuidance {
        vendor: String,
        on: bool,
    },
    Servers,
    AddServer {
        vendor: String,
        url: String,
    },
    RemoveServer {
        host: String,
    },
    VaultStatus,
    ListEntries {
        tab: Option<u32>,
        query: String,
        rows: u32,
        detail: Option<String>,
    },
    VaultSetup {
        #[serde(serialize_with = "expose")]
        passphrase: SecretString,
    },
    Unlock {
        #[serde(serialize_with = "expose")]
        passphrase: SecretString,
    },
    Lock,
    CopyKey {
        id: String,
    },
    RenameEntry {
        id: String,
        name: String,
    },
    SetEntryNotes {
        id: String,
        notes: String,
    },
    UndoDelete {
        id: String,
    },
    SetEntryState {
        id: String,
        state: EntryState,
    },
    AdoptEntries {
        ids: Vec<String>,
    },
    DeleteEntry {
        id: String,
    },
    RebuildIndex,
    ChangePassphrase {
        #[serde(serialize_with = "expose")]
        old: SecretString,
        #[serde(serialize_with = "expose")]
        new: SecretString,
    },
    ExportBackup {
        #[serde(serialize_with = "expose")]
        passphrase: SecretString,
        #[serde(serialize_with = "expose")]
        vault_passphrase: SecretString,
    },
    ImportBackup {
        text: String,
        #[serde(serialize_with = "expose")]
        passphrase: SecretString,
    },
    ShareKey {
        id: String,
        recipient: String,
        #[serde(serialize_with = "expose")]
        vault_passphrase: SecretString,
    },
    SetAutoLock {
        minutes: u32,
    },
    ArmClipboard {
        digest: ClipboardDigest,
    },
    ClearClipboard,
    ClipboardStatus,
    SetClipboardClear {
        seconds: u32,
    },
}

/// Writes a passphrase into an outgoing request: the one place page code lets a secret out, on
/// its way to the worker.
fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}
