//! Text normalization and phrase matching that ignore case, spacing, decoration and wrapping.

/// Words a label may carry or leave out without changing what it names: "Create a token" and
/// "Create your first token" read as "Create token", "Name your key" as "Name key".
const FILLERS: &[&str] = &["a", "an", "the", "your", "my", "our", "this", "first"];

/// Lower-cases `text`, turns every run of non-alphanumeric characters into one space, leaves out
/// the [`FILLERS`] and trims.
///
/// Icons, arrows, plus signs and punctuation around a label ("+ Create Token ›") vanish, and so
/// do articles and possessives, so only the words that name something are compared.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = 0;
    let mut in_word = false;
    let end_word = |out: &mut String, start: usize| {
        if FILLERS.contains(&&out[start..]) {
            out.truncate(start.saturating_sub(1));
        }
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if !in_word {
                if !out.is_empty() {
                    out.push(' ');
                }
                word_start = out.len();
                in_word = true;
            }
            out.extend(ch.to_lowercase());
        } else if in_word {
            end_word(&mut out, word_start);
            in_word = false;
        }
    }
    if in_word {
        end_word(&mut out, word_start);
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

/// Where `phrase` occurs in `text` as whole words (an optional `suffix` letter may follow it, for
/// plurals). Both normalized; nothing is allocated.
fn occurs(text: &str, phrase: &str, suffix: Option<u8>) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(phrase).any(|(at, _)| {
        let mut end = at + phrase.len();
        if let Some(s) = suffix {
            if bytes.get(end) != Some(&s) {
                return false;
            }
            end += 1;
        }
        (at == 0 || bytes[at - 1] == b' ') && (end == bytes.len() || bytes[end] == b' ')
    })
}

/// The number of words of a normalized text.
fn words(text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        text.bytes().filter(|&b| b == b' ').count() + 1
    }
}

/// Matches normalized `text` against normalized `phrase`.
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
    let (have, want) = (words(text), words(phrase));
    if want < 2 || have <= want || have > want + EXTRA_WORDS {
        return None;
    }
    occurs(text, phrase, None).then_some(Fit::Loose)
}

/// True when the phrase's words appear as a contiguous run anywhere in normalized `text`, however
/// long.
pub fn mentions(text: &str, phrase: &str) -> bool {
    !phrase.is_empty() && occurs(text, phrase, None)
}

/// [`mentions`], or the phrase's plural with an "s" ("API keys" for "API key").
pub fn mentions_or_plural(text: &str, phrase: &str) -> bool {
    !phrase.is_empty() && (occurs(text, phrase, None) || occurs(text, phrase, Some(b's')))
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
        assert_eq!(normalize("Create a Token"), "create token");
        assert_eq!(normalize("+ Create your first token ›"), "create token");
        assert_eq!(normalize("The"), "");
        assert_eq!(normalize("Copy the API key below"), "copy api key below");
        assert_eq!(normalize("theme"), "theme", "only whole words");
        assert_eq!(fit(&normalize("Create your token now"), "create token"), Some(Fit::Loose));
        assert!(mentions(&normalize("Here is your new API token"), "new api token"));
    }

    #[test]
    fn plurals_are_mentions_too() {
        assert!(mentions_or_plural("copy your api keys", "api key"));
        assert!(!mentions_or_plural("api keystore", "api key"));
        assert!(!mentions("api keys", "api key"));
    }

    #[test]
    fn mentions_needs_whole_words() {
        assert!(mentions("it will not be shown again", "not be shown again"));
        assert!(!mentions("recreate tokens", "create token"));
    }
}
