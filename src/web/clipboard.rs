//! Putting a key on the clipboard from an extension page, and arranging for it to be cleared later.

use super::i18n::{t, word};
use super::{api, ask};
use crate::engine::clipboard::ClipboardDigest;
use crate::engine::protocol::{ClipboardStatus, OutgoingRequest, Reply, Revealed};
use wasm_bindgen_futures::JsFuture;

/// What became of a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copied {
    /// Seconds until keywarden clears the clipboard, if it will.
    pub clears_in: Option<u32>,
}

/// Writes `key` to the clipboard, then asks the worker to clear it after the admin's delay. The
/// worker gets only the key's SHA-256 digest, computed here before the write. The error is a
/// sentence for the admin; a clear that could not be arranged is `clears_in: None`.
pub async fn copy_secret(key: &Revealed) -> Result<Copied, String> {
    let digest = ClipboardDigest::of(key.expose());
    if JsFuture::from(api::copy_text(key.expose())).await.is_err() {
        return Err(t("clipboardRefused"));
    }
    let clears_in = match ask(&OutgoingRequest::ArmClipboard { digest }).await {
        Ok(Reply::Clipboard(ClipboardStatus { clears_in, .. })) => clears_in,
        _ => None,
    };
    Ok(Copied { clears_in })
}

/// Asks the worker to clear the clipboard now, whatever it holds. The error is a sentence for the admin.
pub async fn clear_now() -> Result<(), String> {
    match ask(&OutgoingRequest::ClearClipboard).await {
        Ok(Reply::Done) => Ok(()),
        Ok(Reply::Error { message, .. }) => Err(word(&message)),
        Ok(_) => Err(t("clipboardUnexpectedAnswer")),
        Err(e) => Err(word(&e)),
    }
}
