//! What keywarden tells the admin, as the name of a message in `_locales/*/messages.json` and its substitutions: the core names the sentence, the pages word it.
//!
//! The core never holds an admin-facing sentence. An error reply, the vault's alarm and the
//! reason an item did not open are [`Words`]: a message name (a literal at the [`words!`] call,
//! which `tests/messages.rs` checks against the catalog, with the number of substitutions) and
//! its `$1…$n`, each plain text (a number, a name) or other words worded first. The pages put
//! them into sentences with `web::i18n`, the content script with its `say`.

use serde::{Deserialize, Serialize};

/// A message name and its substitutions, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Words {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
}

/// One substitution: text as it is, or words to be worded first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Text(String),
    Words(Words),
}

impl Words {
    /// Use [`words!`], which keeps the name a literal where the catalog test can find it.
    pub fn new(name: &'static str, args: Vec<Arg>) -> Self {
        Words { name: name.to_string(), args }
    }

    /// Whether these are the words `name` (nested words are not looked into).
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// Every message name in these words, nested ones included, outermost first.
    pub fn names(&self) -> Vec<&str> {
        let mut out = vec![self.name.as_str()];
        for arg in &self.args {
            if let Arg::Words(w) = arg {
                out.extend(w.names());
            }
        }
        out
    }

    /// Every plain-text substitution, nested ones included.
    pub fn texts(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for arg in &self.args {
            match arg {
                Arg::Text(t) => out.push(t.as_str()),
                Arg::Words(w) => out.extend(w.texts()),
            }
        }
        out
    }
}

impl From<Words> for Arg {
    fn from(w: Words) -> Self {
        Arg::Words(w)
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Text(n.to_string())
            }
        }
    )*};
}
number_arg!(u8, u32, u64, usize);

/// `words!("messageName", arg, …)`: the message `messageName` with its substitutions. Keep the
/// name a literal and pass exactly as many arguments as the message has placeholders.
#[macro_export]
macro_rules! words {
    ($name:literal $(, $arg:expr)* $(,)?) => {
        $crate::engine::words::Words::new($name, vec![$($crate::engine::words::Arg::from($arg)),*])
    };
}
