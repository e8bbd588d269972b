//! The compact page model a content script reports: the URL and the visible, meaningful elements.

use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};

/// Most elements a report may carry; a larger report is refused as malformed.
pub const MAX_ELEMENTS: usize = 2000;
/// Longest text or label kept per element; longer strings are refused as malformed.
pub const MAX_TEXT: usize = 512;
/// Longest URL accepted in a report.
pub const MAX_URL: usize = 4096;

/// What an element is to a person, derived from its tag and ARIA role, never from class names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Button,
    Link,
    Heading,
    Textbox,
    Checkbox,
    Radio,
    Combobox,
    Listbox,
    Option,
    Dialog,
    Menuitem,
    Tab,
    Label,
    Group,
    Row,
    Cell,
    Alert,
    Text,
}

/// The outline of a string that looks like a key: its length and the kinds of character in it.
///
/// Content scripts send this instead of the string itself, so key material never travels in a
/// page report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretShape {
    /// Length in characters.
    pub len: u32,
    /// Has a-z.
    #[serde(default)]
    pub lower: bool,
    /// Has A-Z.
    #[serde(default)]
    pub upper: bool,
    /// Has 0-9.
    #[serde(default)]
    pub digit: bool,
    /// The other characters present, each at most once (e.g. "-_").
    #[serde(default)]
    pub symbols: String,
    /// Every letter and digit is a hexadecimal digit (symbols aside).
    #[serde(default)]
    pub hex: bool,
    /// Laid out as 8-4-4-4-12 hexadecimal groups.
    #[serde(default)]
    pub guid: bool,
}

impl SecretShape {
    /// The outline of a key-like word, exactly as the content script's `shapeOf` draws it
    /// (lengths in UTF-16 code units, symbols sorted and each kept once).
    pub fn of(word: &str) -> SecretShape {
        let mut symbols: Vec<char> = word.chars().filter(|c| !c.is_ascii_alphanumeric()).collect();
        symbols.sort_unstable();
        symbols.dedup();
        let groups: Vec<&str> = word.split('-').collect();
        let guid = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        SecretShape {
            len: word.encode_utf16().count() as u32,
            lower: word.bytes().any(|b| b.is_ascii_lowercase()),
            upper: word.bytes().any(|b| b.is_ascii_uppercase()),
            digit: word.bytes().any(|b| b.is_ascii_digit()),
            symbols: symbols.into_iter().collect(),
            hex: word.chars().filter(|c| c.is_ascii_alphanumeric()).all(|c| c.is_ascii_hexdigit()),
            guid,
        }
    }
}

/// One visible element the content script found worth reporting.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Element {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Visible text (for inputs: empty); key-like strings are replaced by `secret`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Accessible label: aria-label, aria-labelledby, `<label>`, placeholder or title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Heading level 1-6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// An editable field holds something (its value is never reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled: Option<bool>,
    /// A checkbox, radio or switch is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Index of the nearest enclosing reported dialog, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog: Option<u32>,
    /// Index of the nearest enclosing reported group (fieldset, radiogroup, role=group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
    /// Present when the element's text or read-only value looks like a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretShape>,
    /// The name of the icon the element shows, when it has one (an icon font's ligature such as
    /// `content_copy`, or the icon's name from its markup, such as `copy` for `fa-copy`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// The element opens a menu (`aria-haspopup` true or menu), such as the user menu under a name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub menu: bool,
    /// The element is the first reported of a long run of repeated rows or list items under one
    /// parent, this many in all, of which the report carries only the first few and those holding
    /// something that matters (a key-like string, a dialog, a filled field, an alert).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u32>,
}

impl Element {
    pub fn role(&self) -> Role {
        self.role.unwrap_or(Role::Text)
    }
}

/// What the content script sees: where it is and what is on screen, in document order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageModel {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub elements: Vec<Element>,
}

/// Why a page report was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    TooManyElements(usize),
    TextTooLong { index: usize },
    UrlTooLong,
    BadUrl,
    BadReference { index: usize },
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::TooManyElements(n) => write!(f, "page report has {n} elements (at most {MAX_ELEMENTS})"),
            PageError::TextTooLong { index: usize::MAX } => write!(f, "page title is over {MAX_TEXT} characters"),
            PageError::TextTooLong { index } => write!(f, "element {index} has a text over {MAX_TEXT} characters"),
            PageError::UrlTooLong => write!(f, "page URL is over {MAX_URL} characters"),
            PageError::BadUrl => f.write_str("page URL is not an https URL with a host"),
            PageError::BadReference { index } => {
                write!(f, "element {index} points at a dialog or group that does not precede it")
            }
        }
    }
}

impl PageError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            PageError::TooManyElements(n) => words!("errReportTooManyElements", *n, MAX_ELEMENTS),
            PageError::TextTooLong { index: usize::MAX } => words!("errReportTitleTooLong", MAX_TEXT),
            PageError::TextTooLong { index } => words!("errReportTextTooLong", *index, MAX_TEXT),
            PageError::UrlTooLong => words!("errReportUrlTooLong", MAX_URL),
            PageError::BadUrl => words!("errReportBadUrl"),
            PageError::BadReference { index } => words!("errReportBadReference", *index),
        }
    }
}

impl std::error::Error for PageError {}

/// The parts of a page URL recognition looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Lower-cased host without port.
    pub host: String,
    /// Path, starting with '/'.
    pub path: String,
    /// Fragment without the '#', possibly empty.
    pub hash: String,
}

impl Location {
    /// Splits an `https://host[:port]/path?query#hash` URL; other schemes are refused.
    pub fn parse(url: &str) -> Result<Location, PageError> {
        let rest = url.strip_prefix("https://").ok_or(PageError::BadUrl)?;
        let (before_hash, hash) = rest.split_once('#').unwrap_or((rest, ""));
        let (before_query, _) = before_hash.split_once('?').unwrap_or((before_hash, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], &before_query[i..]),
            None => (before_query, "/"),
        };
        if authority.contains('@') {
            return Err(PageError::BadUrl);
        }
        let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                authority
            }
        });
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            return Err(PageError::BadUrl);
        }
        Ok(Location { host: host.to_ascii_lowercase(), path: path.to_string(), hash: hash.to_string() })
    }
}

impl PageModel {
    /// Checks the limits and cross-references a report must respect before anything reads it.
    pub fn validate(&self) -> Result<Location, PageError> {
        if self.title.chars().count() > MAX_TEXT {
            return Err(PageError::TextTooLong { index: usize::MAX });
        }
        if self.url.len() > MAX_URL {
            return Err(PageError::UrlTooLong);
        }
        if self.elements.len() > MAX_ELEMENTS {
            return Err(PageError::TooManyElements(self.elements.len()));
        }
        for (index, el) in self.elements.iter().enumerate() {
            let long = |s: &str| s.chars().count() > MAX_TEXT;
            if long(&el.text) || long(&el.label) || long(&el.icon) {
                return Err(PageError::TextTooLong { index });
            }
            let points_back = |r: Option<u32>| r.is_none_or(|r| (r as usize) < index);
            if !points_back(el.dialog) || !points_back(el.group) {
                return Err(PageError::BadReference { index });
            }
        }
        Location::parse(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_splits_host_path_hash_and_drops_port_and_query() {
        let l = Location::parse("https://Control.PredictHQ.com:8443/tokens?x=1#/a/b").unwrap();
        assert_eq!(l.host, "control.predicthq.com");
        assert_eq!(l.path, "/tokens");
        assert_eq!(l.hash, "/a/b");
        assert_eq!(Location::parse("https://h.example").unwrap().path, "/");
    }

    #[test]
    fn location_refuses_other_schemes_and_userinfo_tricks() {
        assert_eq!(Location::parse("http://control.predicthq.com/"), Err(PageError::BadUrl));
        assert_eq!(Location::parse("https://control.predicthq.com@evil.test/"), Err(PageError::BadUrl));
        assert_eq!(Location::parse("https:///tokens"), Err(PageError::BadUrl));
    }

    #[test]
    fn validate_refuses_forward_references() {
        let page = PageModel {
            url: "https://a.test/".into(),
            title: String::new(),
            elements: vec![Element { dialog: Some(0), ..Element::default() }],
        };
        assert_eq!(page.validate(), Err(PageError::BadReference { index: 0 }));
    }
}
