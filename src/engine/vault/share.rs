//! Sharing one key with a teammate: its secret and a short header, encrypted to their `age1…` recipient as ASCII-armored text they open with `age -d -i`.
//!
//! The plaintext (format 1) is UTF-8 text:
//!
//! ```text
//! # keywarden shared key, format 1
//! vendor: predicthq
//! name: CI token
//! tenant: control.predicthq.com
//! secret: <the key>
//! ```
//!
//! Header values have control characters replaced by spaces so each stays on its line; the
//! secret is everything after `secret: ` up to the final newline.

use crate::engine::vault::agefile;
use crate::engine::vault::entry::OpenEntry;
use crate::engine::words::Words;
use crate::words;
use std::fmt;
use zeroize::Zeroizing;

/// The first line of a shared key's plaintext.
pub const SHARE_FIRST_LINE: &str = "# keywarden shared key, format 1";

/// Why a key could not be shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// Not an age X25519 public key (`age1…`).
    BadRecipient,
    /// age failed to encrypt (should not happen).
    Encrypt,
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::BadRecipient => f.write_str("that is not an age public key (it should start with age1)"),
            ShareError::Encrypt => f.write_str("encryption failed"),
        }
    }
}

impl ShareError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            ShareError::BadRecipient => words!("errShareBadRecipient"),
            ShareError::Encrypt => words!("errShareEncrypt"),
        }
    }
}

impl std::error::Error for ShareError {}

fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The entry's secret and header, encrypted to `recipient` and ASCII-armored.
pub fn share(entry: &OpenEntry, recipient: &str) -> Result<String, ShareError> {
    let to: age::x25519::Recipient = recipient.trim().parse().map_err(|_| ShareError::BadRecipient)?;
    // Sized for everything up front: growing the string would leave copies of the secret behind.
    let fields = [&entry.meta.vendor, &entry.meta.key_name, &entry.meta.tenant];
    let room =
        SHARE_FIRST_LINE.len() + entry.secret.expose().len() + fields.iter().map(|f| f.len() + 16).sum::<usize>() + 16;
    let mut text = Zeroizing::new(String::with_capacity(room));
    text.push_str(SHARE_FIRST_LINE);
    text.push('\n');
    for (label, value) in
        [("vendor", &entry.meta.vendor), ("name", &entry.meta.key_name), ("tenant", &entry.meta.tenant)]
    {
        if !value.is_empty() {
            text.push_str(label);
            text.push_str(": ");
            text.push_str(&one_line(value));
            text.push('\n');
        }
    }
    text.push_str("secret: ");
    text.push_str(entry.secret.expose());
    text.push('\n');
    let armored = agefile::encrypt(&to, text.as_bytes(), true).map_err(|_| ShareError::Encrypt)?;
    String::from_utf8(armored).map_err(|_| ShareError::Encrypt)
}
