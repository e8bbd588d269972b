//! Clearing the clipboard after a copy: the delays the admin may choose, the digest that stands for what was copied, and the pending clear kept in `storage.session`.
//!
//! # How a clear survives a closed popup and a stopped worker
//!
//! The popup (or options page) writes the key to the clipboard itself, while the admin's click
//! still counts as user activation, and computes the key's SHA-256 digest in Rust right away.
//! Only that digest goes to the worker (`PageRequest::ArmClipboard`): no background context ever
//! holds the key. The service then records a [`PendingClear`] (digest and due time) in
//! `storage.session` under [`CLIPBOARD_KEY`] and asks the glue for two wake-ups:
//!
//! - **A timer on a clipboard device**, exact to the second: in Chrome an offscreen document
//!   (`chrome.offscreen`, reason `CLIPBOARD`; a document with that reason has no lifetime limit,
//!   unlike `AUDIO_PLAYBACK`'s 30 s, and it outlives the service worker, which Chrome stops after
//!   30 s without events); in Firefox the background page itself, an event page that Firefox
//!   suspends after 30 s without events, so its timer is only trusted for delays shorter than that.
//! - **An alarm** (`chrome.alarms`, [`CLIPBOARD_ALARM`]) as the wake-up that survives both: a
//!   packed MV3 extension's alarm fires no sooner than 30 s after it is set in Chrome, so it is set
//!   for the delay but never less than [`MIN_ALARM_SECONDS`]. When it fires, the service finds the
//!   pending clear in `storage.session` (a restarted worker too), and if it is due, asks the device
//!   to clear again, which does nothing when the timer already did.
//!
//! A timer lost with a suspended event page is therefore made good by the alarm, at most
//! [`MIN_ALARM_SECONDS`] after the delay chosen; with the short delays (10 s) the timer runs well
//! inside the 30 s an event page or an offscreen document are sure to live.
//!
//! At clearing time the device reads the clipboard back (the `clipboardRead` permission), digests
//! what it holds and clears only when that digest equals the one recorded: text the admin copied
//! since then is left alone. "Clear clipboard now" clears whatever the clipboard holds, and drops
//! the pending clear.
//!
//! Locking the vault, however it happens (the popup's Lock, the lock-now command, the auto-lock
//! alarm, the system locking), does a pending clear at once by the same rule: the service drops
//! its record and asks the device to clear only if the digest still matches. With the delay set
//! to never no digest is kept, so a lock leaves the clipboard alone as well.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// `storage.session`: the clear that is waiting, as [`PendingClear`] JSON.
pub const CLIPBOARD_KEY: &str = "clipboard";
/// The alarm that wakes the worker for a pending clear.
pub const CLIPBOARD_ALARM: &str = "clipboard-clear";
/// Chrome fires a packed MV3 extension's alarm no sooner than this after it is set.
pub const MIN_ALARM_SECONDS: u32 = 30;
/// The delays the admin may choose, in seconds; 0 is "never".
pub const CHOICES: [u32; 6] = [0, 10, 30, 60, 120, 300];
/// The delay until the admin chooses another.
pub const DEFAULT_SECONDS: u32 = 30;

/// Whether `seconds` is one of the [`CHOICES`].
pub fn is_choice(seconds: u32) -> bool {
    CHOICES.contains(&seconds)
}

/// A stored delay as the service uses it: anything but a listed choice (storage.local can be
/// written by content scripts) counts as the default.
pub fn sanitize(seconds: u32) -> u32 {
    if is_choice(seconds) {
        seconds
    } else {
        DEFAULT_SECONDS
    }
}

/// The SHA-256 digest of text put on the clipboard, as 64 lowercase hex digits: what the worker
/// keeps instead of the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClipboardDigest(String);

impl ClipboardDigest {
    /// The digest of `text`'s UTF-8 bytes.
    pub fn of(text: &str) -> Self {
        let hash = Sha256::digest(text.as_bytes());
        ClipboardDigest(hash.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A digest as sent over the wire; anything but 64 lowercase hex digits is refused.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| ClipboardDigest(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ClipboardDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClipboardDigest::parse(&s).ok_or_else(|| serde::de::Error::custom("not a SHA-256 digest"))
    }
}

/// A clear that is waiting: `storage.session`'s [`CLIPBOARD_KEY`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingClear {
    pub digest: ClipboardDigest,
    /// When to clear (Unix ms).
    pub due_at: u64,
}

impl PendingClear {
    /// Whether the clear is due at `now`; a second early counts, since alarms are not exact.
    pub fn is_due(&self, now: u64) -> bool {
        now + 1_000 >= self.due_at
    }

    /// Minutes for the alarm that wakes the worker for this clear, from `now`.
    pub fn alarm_minutes(&self, now: u64) -> f64 {
        let left_ms = self.due_at.saturating_sub(now).max(MIN_ALARM_SECONDS as u64 * 1_000);
        left_ms as f64 / 60_000.0
    }
}

/// What the clipboard device (Chrome's offscreen document, Firefox's background page) must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClipboardJob {
    /// Clear at `due_at` (Unix ms) if the clipboard's digest is still `digest`; replaces any
    /// earlier timer.
    Arm { digest: ClipboardDigest, due_at: u64 },
    /// Clear now: only if the clipboard's digest is `only_if`, or whatever it holds (`None`).
    /// Any timer is dropped, and the device may go away afterwards.
    Clear { only_if: Option<ClipboardDigest> },
    /// Drop any timer; the clipboard is left as it is.
    Cancel,
}
