//! Putting a key on the clipboard from an extension page, and arranging for it to be cleared later.

use super::api;
use crate::engine::protocol::Revealed;
use wasm_bindgen_futures::JsFuture;

/// What became of a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copied {
    /// Seconds until keywarden clears the clipboard, if it will.
    pub clears_in: Option<u32>,
}

/// Writes `key` to the clipboard. The error is a sentence for the admin.
pub async fn copy_secret(key: &Revealed) -> Result<Copied, String> {
    match JsFuture::from(api::copy_text(key.expose())).await {
        Ok(_) => Ok(Copied { clears_in: None }),
        Err(_) => Err("The browser refused the clipboard.".to_string()),
    }
}
