//! Text normalization and phrase matching that ignore case, spacing, decoration and wrapping.

/// Lower-cases `text`, turns every run of non-alphanumeric characters into one space and trims.
///
/// Icons, arrows, plus signs and punctuation around a label ("+ Create Token ›") vanish, so only
/// the words a person reads are compared.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// How well a visible text matches a phrase from a recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    /// The phrase's words appear in order inside a slightly longer text ("Create Token now").
    Loose,
    /// The text is the phrase, up to case, spacing and decoration.
    Exact,
}

/// How many extra words a text may carry around a phrase and still count as a loose match.
const EXTRA_WORDS: usize = 2;

/// Words a label may carry or leave out without changing what it names: "Create a token" and
/// "Create your first token" read as "Create token", "Name your key" as "Name key".
const FILLERS: &[&str] = &["a", "an", "the", "your", "my", "our", "this", "first"];

/// The words of normalized `text` that carry meaning (its [`FILLERS`] left out).
fn content_words(text: &str) -> Vec<&str> {
    text.split(' ').filter(|w| !w.is_empty() && !FILLERS.contains(w)).collect()
}

/// Matches normalized `text` against normalized `phrase`, both read without their [`FILLERS`].
///
/// Exact when equal; loose when a phrase of two or more words forms a contiguous run inside the
/// text and the text has at most two more words. One-word phrases match only exactly, so
/// "Create" is not "Create New Token" and "Name" is not "Search by name".
pub fn fit(text: &str, phrase: &str) -> Option<Fit> {
    if phrase.is_empty() {
        return None;
    }
    if text == phrase {
        return Some(Fit::Exact);
    }
    let words = content_words(text);
    let want = content_words(phrase);
    if want.is_empty() {
        return None;
    }
    if words == want {
        return Some(Fit::Exact);
    }
    if want.len() < 2 || words.len() <= want.len() || words.len() > want.len() + EXTRA_WORDS {
        return None;
    }
    words.windows(want.len()).any(|w| w == want.as_slice()).then_some(Fit::Loose)
}

/// True when the phrase's words appear as a contiguous run anywhere in `text`, however long, both
/// read without their [`FILLERS`].
pub fn mentions(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let padded = format!(" {text} ");
    if padded.contains(&format!(" {phrase} ")) {
        return true;
    }
    let want = content_words(phrase);
    let words = content_words(text);
    !want.is_empty() && words.windows(want.len()).any(|w| w == want.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_decoration_case_and_spacing() {
        assert_eq!(normalize("  + Create\n  New   TOKEN › "), "create new token");
        assert_eq!(normalize("API Client name | API Token name"), "api client name api token name");
        assert_eq!(normalize("—"), "");
    }

    #[test]
    fn exact_beats_loose_and_loose_is_bounded() {
        assert_eq!(fit("create token", "create token"), Some(Fit::Exact));
        assert_eq!(fit("create token now", "create token"), Some(Fit::Loose));
        assert_eq!(fit("create new token", "create"), None);
        assert_eq!(fit("search by name", "name"), None);
        assert_eq!(fit("you can create a token here today", "create"), None);
        assert_eq!(fit("token create", "create token"), None);
        assert_eq!(fit("create", "create token"), None);
        assert_eq!(fit("anything", ""), None);
    }

    #[test]
    fn articles_and_possessives_are_read_past() {
        assert_eq!(fit("create a token", "create token"), Some(Fit::Exact));
        assert_eq!(fit("generate a new key", "generate new key"), Some(Fit::Exact));
        assert_eq!(fit("create your first token", "create token"), Some(Fit::Exact));
        assert_eq!(fit("create your token now", "create token"), Some(Fit::Loose));
        assert_eq!(fit("the", "a"), None);
        assert!(mentions("copy the api key below", "api key"));
        assert!(mentions("here is your new api token", "new api token"));
        assert!(mentions("it will not be shown again", "not be shown again"));
        assert!(!mentions("a", "the"));
    }

    #[test]
    fn mentions_needs_whole_words() {
        assert!(mentions("it will not be shown again", "not be shown again"));
        assert!(!mentions("recreate tokens", "create token"));
    }
}
