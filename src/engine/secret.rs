//! Secret strings: zeroized when dropped, redacted in Debug, never serializable.

use serde::{Deserialize, Deserializer};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A key or passphrase. It can be read (`expose`) but not printed, cloned or serialized.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: String) -> Self {
        SecretString(s)
    }

    /// The secret itself; callers keep the borrow short and never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = SecretString::new("hunter2-very-secret-token".into());
        assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }
}
