//! Secret newtypes of the vault: passphrase, vault key and age identity, all zeroized on drop and redacted in Debug, plus helpers that handle secrets without leaving copies behind.

use crate::engine::secret::SecretString;
use crate::engine::vault::crypto::RandomFailed;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::io::Write;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// How many characters of a key [`hint`] shows.
pub const HINT_CHARS: usize = 4;

/// The last [`HINT_CHARS`] characters of a key after an ellipsis (`…abcd`), for telling keys
/// apart without showing them. Only those characters are copied; a key of four characters or
/// fewer is shown as `…` alone, since its tail would be the whole key.
pub fn hint(secret: &SecretString) -> String {
    let text = secret.expose();
    match text.char_indices().rev().nth(HINT_CHARS - 1) {
        Some((0, _)) | None => "…".to_string(),
        Some((at, _)) => format!("…{}", &text[at..]),
    }
}

/// Counts bytes written, to size a buffer before the real write.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON in a zeroizing buffer allocated once at its exact size, so no reallocation
/// leaves a copy of a secret inside it behind. `pretty` indents it.
pub(crate) fn json_zeroizing<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Zeroizing<Vec<u8>> {
    fn write<T: Serialize + ?Sized, W: Write>(out: W, value: &T, pretty: bool) {
        if pretty {
            serde_json::to_writer_pretty(out, value).expect("plain JSON");
        } else {
            serde_json::to_writer(out, value).expect("plain JSON");
        }
    }
    let mut count = Counter(0);
    write(&mut count, value, pretty);
    let mut out = Zeroizing::new(Vec::with_capacity(count.0 + 1));
    write(&mut *out, value, pretty);
    out
}

/// The admin's vault passphrase. Not clonable, not serializable, never printed.
pub struct Passphrase(SecretString);

impl Passphrase {
    pub fn new(s: String) -> Self {
        Passphrase(SecretString::new(s))
    }

    /// How many characters it has (the only thing about it that may be shown).
    pub fn char_count(&self) -> usize {
        self.0.expose().chars().count()
    }

    pub(crate) fn expose(&self) -> &str {
        self.0.expose()
    }

    /// A copy in the secret type the age crate takes; it zeroizes itself too.
    pub(crate) fn to_age(&self) -> age::secrecy::SecretString {
        age::secrecy::SecretString::from(self.0.expose().to_owned())
    }
}

impl From<SecretString> for Passphrase {
    fn from(s: SecretString) -> Self {
        Passphrase(s)
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for Passphrase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SecretString::deserialize(d).map(Passphrase)
    }
}

/// Length of the vault key in bytes.
pub const VAULT_KEY_LEN: usize = 32;

/// The random key everything else in the vault hangs from. Only ever stored wrapped (by the
/// passphrase-derived key) or, while unlocked, in the browser's session storage.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; VAULT_KEY_LEN]);

impl VaultKey {
    /// A fresh random key, generated in place (no copy of it is left on the stack).
    pub(crate) fn generate() -> Result<Self, RandomFailed> {
        let mut key = VaultKey([0; VAULT_KEY_LEN]);
        getrandom::fill(&mut key.0).map_err(|_| RandomFailed)?;
        Ok(key)
    }

    /// A key made from fixed bytes (tests and fixtures).
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; VAULT_KEY_LEN]) -> Self {
        VaultKey(bytes)
    }

    /// A key copied from decrypted bytes; `None` when they are not exactly a key long.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != VAULT_KEY_LEN {
            return None;
        }
        let mut key = VaultKey([0; VAULT_KEY_LEN]);
        key.0.copy_from_slice(bytes);
        Some(key)
    }

    /// A second copy of the key (for a vault that keeps its previous key while a passphrase
    /// change completes); it zeroizes itself like the first.
    pub(crate) fn duplicate(&self) -> Self {
        let mut key = VaultKey([0; VAULT_KEY_LEN]);
        key.0.copy_from_slice(&self.0);
        key
    }

    pub(crate) fn bytes(&self) -> &[u8; VAULT_KEY_LEN] {
        &self.0
    }

    /// Base64 text for the session store, so the unlocked state survives a worker restart.
    pub(crate) fn to_text(&self) -> SecretString {
        use base64::Engine;
        SecretString::new(base64::engine::general_purpose::STANDARD.encode(self.0))
    }

    /// The reverse of [`VaultKey::to_text`]; `None` when it is not a key of the right size.
    pub(crate) fn from_text(text: &SecretString) -> Option<Self> {
        use base64::Engine;
        let bytes = Zeroizing::new(base64::engine::general_purpose::STANDARD.decode(text.expose()).ok()?);
        VaultKey::from_slice(&bytes)
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

/// The vault's age X25519 identity (private half). The wrapped x25519 secret zeroizes itself on
/// drop; this type adds the redacted Debug and keeps it off every serializer.
pub struct AgeIdentity(age::x25519::Identity);

impl AgeIdentity {
    pub(crate) fn generate() -> Self {
        AgeIdentity(age::x25519::Identity::generate())
    }

    /// Parses the `AGE-SECRET-KEY-1…` text form.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        text.parse::<age::x25519::Identity>().ok().map(AgeIdentity)
    }

    /// The `AGE-SECRET-KEY-1…` text form, in a zeroizing string.
    pub(crate) fn to_text(&self) -> Zeroizing<String> {
        use age::secrecy::ExposeSecret;
        Zeroizing::new(self.0.to_string().expose_secret().to_owned())
    }

    pub(crate) fn recipient(&self) -> age::x25519::Recipient {
        self.0.to_public()
    }

    /// A second copy of the identity (see [`VaultKey::duplicate`]).
    pub(crate) fn duplicate(&self) -> Self {
        AgeIdentity::parse(&self.to_text()).expect("an identity's own text parses")
    }

    pub(crate) fn inner(&self) -> &age::x25519::Identity {
        &self.0
    }
}

impl fmt::Debug for AgeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AgeIdentity(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let p = Passphrase::new("correct horse battery staple".into());
        let k = VaultKey::from_bytes([7; 32]);
        let i = AgeIdentity::generate();
        let shown = format!("{p:?} {k:?} {i:?}");
        assert_eq!(shown, "Passphrase(<redacted>) VaultKey(<redacted>) AgeIdentity(<redacted>)");
        assert!(!shown.contains("horse"));
    }

    #[test]
    fn hints_copy_only_the_last_four_characters() {
        let h = |s: &str| hint(&SecretString::new(s.to_string()));
        assert_eq!(h("phq_live_0123456789abcd"), "…abcd");
        assert_eq!(h("ключ-éèçà"), "…éèçà");
        assert_eq!(h("12345"), "…2345");
        assert_eq!(h("1234"), "…", "a four-character key is not shown whole");
        assert_eq!(h("12"), "…");
        assert_eq!(h(""), "…");
    }

    #[test]
    fn zeroizing_json_is_allocated_once_at_its_size() {
        let v = serde_json::json!({ "secret": "s3cr3t\u{1}\"quoted\"", "n": [1, 2, 3] });
        for pretty in [false, true] {
            let out = json_zeroizing(&v, pretty);
            let expected = if pretty { serde_json::to_vec_pretty(&v) } else { serde_json::to_vec(&v) }.unwrap();
            assert_eq!(out.as_slice(), expected.as_slice());
            assert!(out.capacity() <= out.len() + 1, "no spare growth: {} of {}", out.len(), out.capacity());
        }
    }

    #[test]
    fn duplicates_are_equal_copies() {
        let k = VaultKey::generate().unwrap();
        assert_eq!(k.duplicate().bytes(), k.bytes());
        assert!(VaultKey::from_slice(&[1; 31]).is_none());
        let i = AgeIdentity::generate();
        assert_eq!(i.duplicate().recipient().to_string(), i.recipient().to_string());
    }

    #[test]
    fn vault_key_text_round_trips() {
        let k = VaultKey::from_bytes([42; 32]);
        let back = VaultKey::from_text(&k.to_text()).unwrap();
        assert_eq!(back.bytes(), k.bytes());
        assert!(VaultKey::from_text(&SecretString::new("c2hvcnQ=".into())).is_none());
    }

    #[test]
    fn identity_text_round_trips() {
        let i = AgeIdentity::generate();
        let back = AgeIdentity::parse(&i.to_text()).unwrap();
        assert_eq!(back.recipient().to_string(), i.recipient().to_string());
    }
}
