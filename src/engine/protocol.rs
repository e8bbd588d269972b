//! The message protocol between content scripts, extension pages and the service worker, with the sender check done before dispatch.

use crate::engine::page::PageModel;
use crate::engine::recipe::{FieldName, Read, Server};
use crate::engine::vault::EntryState;
use std::collections::BTreeMap;
use crate::engine::secret::SecretString;
use crate::engine::walkthrough::Event;
use serde::{Deserialize, Serialize};

/// Bumped whenever a message changes shape; a message of another version is refused.
pub const VERSION: u32 = 1;

/// A request, as `{ "v": 1, "body": { "type": ..., ... } }` on the wire.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Content script: what the page shows now. `seq` grows with every report from that page;
    /// `panel` is the nonce of the step-panel frame it created, if any.
    Report {
        seq: u64,
        page: PageModel,
        #[serde(default, deserialize_with = "panel_nonce")]
        panel: Option<String>,
    },
    /// Content script: the admin asked to save the key shown with report `seq`, with the
    /// metadata fields the worker pointed at (key name, scopes, ...).
    Capture {
        seq: u64,
        key: SecretString,
        #[serde(default)]
        fields: BTreeMap<FieldName, String>,
    },
    /// Step panel: Next, Back, Dismiss (Resume is the popup's).
    Panel { event: Event },
    /// Popup: how things stand in a tab.
    Status { tab: Option<u32> },
    /// Popup: show the walkthrough again in a tab where it was dismissed.
    Resume { tab: u32 },
    /// Options: the self-hosted products and the servers added for them.
    Servers,
    /// Options: a server of a self-hosted product (any URL on it); its origin was just granted.
    AddServer { vendor: String, url: String },
    /// Options: forget a server.
    RemoveServer { host: String },
    /// Popup, options: the vault's state and, when unlocked, its entries (keys masked).
    VaultStatus,
    /// Options: create the vault with a passphrase.
    VaultSetup { passphrase: SecretString },
    /// Popup, options.
    Unlock { passphrase: SecretString },
    /// Popup, options: lock now.
    Lock,
    /// Popup, options: the key of one entry, to put on the clipboard.
    CopyKey { id: String },
    /// Popup, options: mark an entry revoked (or active again).
    SetEntryState { id: String, state: EntryState },
    /// Options.
    ChangePassphrase { old: SecretString, new: SecretString },
    /// Options: the whole vault as one passphrase-protected age file.
    ExportBackup { passphrase: SecretString },
    /// Options: merge a backup made by `ExportBackup`.
    ImportBackup { text: String, passphrase: SecretString },
    /// Popup, options: one key encrypted to a teammate's `age1…` recipient.
    ShareKey { id: String, recipient: String },
    /// Options: minutes of inactivity before the vault locks.
    SetAutoLock { minutes: u32 },
}

/// Longest panel nonce a report may carry.
pub const MAX_PANEL_NONCE: usize = 64;

/// A panel nonce: 1 to `MAX_PANEL_NONCE` hexadecimal digits, or null; anything else is malformed.
fn panel_nonce<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let nonce = Option::<String>::deserialize(d)?;
    match nonce {
        Some(n) if n.is_empty() || n.len() > MAX_PANEL_NONCE || !n.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Err(serde::de::Error::custom("a panel nonce is 1 to 64 hexadecimal digits"))
        }
        other => Ok(other),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub v: u32,
    pub body: Request,
}

/// Only the version, read first so an old or new peer gets "version" rather than "malformed".
#[derive(Deserialize)]
pub struct VersionOnly {
    pub v: u32,
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

impl Request {
    /// Requests the vault service answers (everything else is the walkthrough's).
    pub fn is_vault(&self) -> bool {
        matches!(
            self,
            Request::VaultStatus
                | Request::VaultSetup { .. }
                | Request::Unlock { .. }
                | Request::Lock
                | Request::CopyKey { .. }
                | Request::SetEntryState { .. }
                | Request::ChangePassphrase { .. }
                | Request::ExportBackup { .. }
                | Request::ImportBackup { .. }
                | Request::ShareKey { .. }
                | Request::SetAutoLock { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Request::Report { .. } => "report",
            Request::Capture { .. } => "capture",
            Request::Panel { .. } => "panel",
            Request::Status { .. } => "status",
            Request::Resume { .. } => "resume",
            Request::Servers => "servers",
            Request::AddServer { .. } => "add_server",
            Request::RemoveServer { .. } => "remove_server",
            Request::VaultStatus => "vault_status",
            Request::VaultSetup { .. } => "vault_setup",
            Request::Unlock { .. } => "unlock",
            Request::Lock => "lock",
            Request::CopyKey { .. } => "copy_key",
            Request::SetEntryState { .. } => "set_entry_state",
            Request::ChangePassphrase { .. } => "change_passphrase",
            Request::ExportBackup { .. } => "export_backup",
            Request::ImportBackup { .. } => "import_backup",
            Request::ShareKey { .. } => "share_key",
            Request::SetAutoLock { .. } => "set_auto_lock",
        }
    }
}

/// The authorization matrix: may `sender` make `request`? Checked before any dispatch.
///
/// Content scripts may only describe their own top-level page and hand over a key shown there. The step panel may only steer the walkthrough of the tab it is embedded in.
/// Only the popup and options pages may ask about or act on other tabs, and only the options page
/// manages self-hosted servers.
pub fn authorize(request: &Request, sender: &Sender) -> Result<(), ErrorCode> {
    use ExtensionPage::*;
    let allowed = match (request, sender) {
        (Request::Report { .. } | Request::Capture { .. }, Sender::Content { frame: 0, .. }) => true,
        (Request::Panel { event }, Sender::Page { page: Panel, tab: Some(_) }) => *event != Event::Resume,
        (Request::Status { .. } | Request::Resume { .. }, Sender::Page { page: Popup | Options, .. }) => true,
        (Request::Servers | Request::AddServer { .. } | Request::RemoveServer { .. }, Sender::Page { page: Options, .. }) => true,
        // Keys leave the vault only for the extension's own full pages, never for a content
        // script or the panel framed into a vendor page.
        (
            Request::VaultStatus
            | Request::Unlock { .. }
            | Request::Lock
            | Request::CopyKey { .. }
            | Request::SetEntryState { .. }
            | Request::ShareKey { .. },
            Sender::Page { page: Popup | Options, .. },
        ) => true,
        (
            Request::VaultSetup { .. }
            | Request::ChangePassphrase { .. }
            | Request::ExportBackup { .. }
            | Request::ImportBackup { .. }
            | Request::SetAutoLock { .. },
            Sender::Page { page: Options, .. },
        ) => true,
        _ => false,
    };
    if allowed { Ok(()) } else { Err(ErrorCode::Forbidden) }
}

/// Parses a JSON request (native callers and tests; the worker parses JS values the same way).
pub fn parse_json(json: &str) -> Result<Request, ErrorCode> {
    let v: VersionOnly = serde_json::from_str(json).map_err(|_| ErrorCode::Malformed)?;
    if v.v != VERSION {
        return Err(ErrorCode::Version);
    }
    serde_json::from_str::<Envelope>(json).map(|e| e.body).map_err(|_| ErrorCode::Malformed)
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
    pub vendor_name: String,
    pub step_title: Option<String>,
    pub dismissed: bool,
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
        captures_received: u32,
        #[serde(default)]
        drift: Vec<DriftEvent>,
    },
    Servers { vendors: Vec<SelfHostedVendor>, servers: Vec<Server> },
    Vault(VaultStatus),
    /// A key, for the popup or options page to put on the clipboard.
    Key { key: Revealed },
    /// An age file as armored text (a backup, or a key shared with a teammate).
    Armored { text: String, entries: u32, left_out: u32 },
    Imported { imported: u32, duplicates: u32, renamed: u32 },
    Done,
    Error { code: ErrorCode, message: String },
}

/// The vault as the popup and options page see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultStatus {
    pub set_up: bool,
    pub unlocked: bool,
    /// Entry items in storage (known even while locked).
    pub items: u32,
    /// When unlocked: every entry that opens, keys masked.
    pub entries: Vec<EntrySummary>,
    /// When unlocked: items that did not open, with the reason.
    pub damaged: Vec<DamagedSummary>,
    pub auto_lock_minutes: u32,
}

/// One saved key as listed: its metadata and the last characters of the key, never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrySummary {
    pub id: String,
    pub vendor: String,
    pub tenant: String,
    pub account: String,
    pub key_name: String,
    pub scopes: Vec<String>,
    pub created_at: u64,
    pub state: EntryState,
    /// Written while unlocked or vouched for at unlock (see the vault's design notes).
    pub verified: bool,
    pub hint: String,
}

/// A storage item that did not open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamagedSummary {
    pub item: String,
    pub reason: String,
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
}

/// The wire form of a reply or push, read back by the panel as `Incoming<Push>`.
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
    Panel { event: Event },
    Status { tab: Option<u32> },
    Resume { tab: u32 },
    Servers,
    AddServer { vendor: String, url: String },
    RemoveServer { host: String },
    VaultStatus,
    VaultSetup { passphrase: String },
    Unlock { passphrase: String },
    Lock,
    CopyKey { id: String },
    SetEntryState { id: String, state: EntryState },
    ChangePassphrase { old: String, new: String },
    ExportBackup { passphrase: String },
    ImportBackup { text: String, passphrase: String },
    ShareKey { id: String, recipient: String },
    SetAutoLock { minutes: u32 },
}
