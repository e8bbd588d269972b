//! Secret newtypes of the vault: passphrase, vault key and age identity, all zeroized on drop and redacted in Debug.

use crate::engine::secret::SecretString;
use serde::{Deserialize, Deserializer};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

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
    pub(crate) fn from_bytes(bytes: [u8; VAULT_KEY_LEN]) -> Self {
        VaultKey(bytes)
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
        let array: [u8; VAULT_KEY_LEN] = bytes.as_slice().try_into().ok()?;
        Some(VaultKey(array))
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
