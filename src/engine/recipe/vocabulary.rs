//! Vocabularies: word lists a recipe names once (`[words]`) and uses in any phrase as `{name}`, with `[optional words]`.
//!
//! Vendors change verbs and nouns between UI revisions ("Create API Key", "Add API key", "Generate
//! new token"). A recipe says so once, `create = ["create", "add", "generate"]` and
//! `key = ["api key", "token"]`, then writes `"{create} [new] {key}"` wherever a button may read
//! any of those. Phrases are expanded when the recipe is validated, so matching stays a plain
//! comparison of normalized phrases.

use crate::engine::text::normalize;
use std::collections::BTreeMap;

/// Most phrases one written phrase may expand to; more is almost surely a mistake in the recipe.
pub const MAX_EXPANSIONS: usize = 512;

/// The recipe's named word lists, each alternative normalized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    lists: BTreeMap<String, Vec<String>>,
}

/// Why a phrase or a word list could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordsError {
    /// `{name}` names no list of `[words]`.
    Unknown(String),
    /// A `{` or `[` is not closed, or a `]`/`}` has no opening.
    Unbalanced,
    /// `[` inside `[`, or `{` inside `{`.
    Nested,
    /// A list entry refers to another list; lists hold plain words.
    ListInList(String),
    /// A list is empty or an entry has no words.
    Empty(String),
    /// A list name is not lower-case letters, digits and '-' or '_'.
    BadName(String),
    TooMany(usize),
}

impl std::fmt::Display for WordsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WordsError::Unknown(n) => write!(f, "{{{n}}} is not a list of [words]"),
            WordsError::Unbalanced => f.write_str("a { or [ is not closed (or a } or ] has no opening)"),
            WordsError::Nested => f.write_str("[…] and {…} cannot be nested in themselves"),
            WordsError::ListInList(n) => write!(f, "the list {n:?} refers to another list; lists hold plain words"),
            WordsError::Empty(n) => write!(f, "the list {n:?} is empty or has an entry without words"),
            WordsError::BadName(n) => write!(f, "{n:?} is not a list name (a-z, 0-9, '-' and '_')"),
            WordsError::TooMany(n) => write!(f, "expands to {n} phrases (at most {MAX_EXPANSIONS})"),
        }
    }
}

impl std::error::Error for WordsError {}

/// One piece of a written phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    List(String),
    Optional(Vec<Part>),
}

impl Vocabulary {
    /// Reads `[words]`: each entry may use `[optional]` words, but no `{list}`.
    pub fn new(raw: &BTreeMap<String, Vec<String>>) -> Result<Vocabulary, WordsError> {
        let mut lists = BTreeMap::new();
        for (name, entries) in raw {
            let name_ok = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !name_ok {
                return Err(WordsError::BadName(name.clone()));
            }
            if entries.is_empty() {
                return Err(WordsError::Empty(name.clone()));
            }
            let mut out = Vec::new();
            for entry in entries {
                let parts = parse(entry)?;
                if mentions_list(&parts) {
                    return Err(WordsError::ListInList(name.clone()));
                }
                let expanded = expand_parts(&parts, &Vocabulary::default())?;
                if expanded.iter().any(String::is_empty) {
                    return Err(WordsError::Empty(name.clone()));
                }
                push_unique(&mut out, expanded);
            }
            lists.insert(name.clone(), out);
        }
        Ok(Vocabulary { lists })
    }

    /// Every normalized phrase `written` stands for, in a stable order without repeats. A phrase
    /// without `{…}` or `[…]` is just itself, normalized.
    pub fn expand(&self, written: &str) -> Result<Vec<String>, WordsError> {
        let parts = parse(written)?;
        let out = expand_parts(&parts, self)?;
        Ok(out.into_iter().filter(|p| !p.is_empty()).collect())
    }

    /// The names of the lists, for explanations.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }
}

fn push_unique(out: &mut Vec<String>, phrases: Vec<String>) {
    for p in phrases {
        if !out.contains(&p) {
            out.push(p);
        }
    }
}

fn mentions_list(parts: &[Part]) -> bool {
    parts.iter().any(|p| match p {
        Part::List(_) => true,
        Part::Optional(inner) => mentions_list(inner),
        Part::Literal(_) => false,
    })
}

/// Splits a written phrase into literals, `{lists}` and `[optional]` groups.
fn parse(written: &str) -> Result<Vec<Part>, WordsError> {
    let mut stack: Vec<Vec<Part>> = vec![Vec::new()];
    let mut literal = String::new();
    let mut chars = written.chars();
    let flush = |literal: &mut String, stack: &mut Vec<Vec<Part>>| {
        if !literal.is_empty() {
            stack.last_mut().expect("a level").push(Part::Literal(std::mem::take(literal)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                flush(&mut literal, &mut stack);
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') => return Err(WordsError::Nested),
                        Some(c) => name.push(c),
                        None => return Err(WordsError::Unbalanced),
                    }
                }
                stack.last_mut().expect("a level").push(Part::List(name.trim().to_string()));
            }
            '[' => {
                if stack.len() > 1 {
                    return Err(WordsError::Nested);
                }
                flush(&mut literal, &mut stack);
                stack.push(Vec::new());
            }
            ']' => {
                flush(&mut literal, &mut stack);
                if stack.len() < 2 {
                    return Err(WordsError::Unbalanced);
                }
                let inner = stack.pop().expect("an optional level");
                stack.last_mut().expect("a level").push(Part::Optional(inner));
            }
            '}' => return Err(WordsError::Unbalanced),
            c => literal.push(c),
        }
    }
    flush(&mut literal, &mut stack);
    if stack.len() != 1 {
        return Err(WordsError::Unbalanced);
    }
    Ok(stack.pop().expect("the top level"))
}

/// The cross product of the parts' alternatives, each joined with spaces and normalized.
fn expand_parts(parts: &[Part], vocabulary: &Vocabulary) -> Result<Vec<String>, WordsError> {
    let mut out = vec![String::new()];
    for part in parts {
        let alternatives: Vec<String> = match part {
            Part::Literal(text) => vec![normalize(text)],
            Part::List(name) => vocabulary.lists.get(name).cloned().ok_or_else(|| WordsError::Unknown(name.clone()))?,
            Part::Optional(inner) => {
                let mut alts = expand_parts(inner, vocabulary)?;
                alts.push(String::new());
                alts
            }
        };
        let product = out.len() * alternatives.len();
        if product > MAX_EXPANSIONS {
            return Err(WordsError::TooMany(product));
        }
        let mut next = Vec::with_capacity(product);
        for head in &out {
            for alt in &alternatives {
                let joined = match (head.is_empty(), alt.is_empty()) {
                    (true, _) => alt.clone(),
                    (_, true) => head.clone(),
                    _ => format!("{head} {alt}"),
                };
                if !next.contains(&joined) {
                    next.push(joined);
                }
            }
        }
        out = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        let raw = BTreeMap::from([
            ("create".to_string(), vec!["Create".into(), "Add".into(), "Generate".into()]),
            ("key".to_string(), vec!["API key".into(), "[API] token".into()]),
        ]);
        Vocabulary::new(&raw).unwrap()
    }

    #[test]
    fn lists_and_optional_words_expand_to_every_wording() {
        let got = vocabulary().expand("{create} [new] {key}").unwrap();
        for want in ["create new api key", "add api key", "generate token", "add new api token", "create api key"] {
            assert!(got.contains(&want.to_string()), "{want} missing from {got:?}");
        }
        assert_eq!(got.len(), 3 * 2 * 3);
    }

    #[test]
    fn plain_phrase_is_itself_normalized() {
        assert_eq!(vocabulary().expand("+ Copy Token ›").unwrap(), vec!["copy token".to_string()]);
    }

    #[test]
    fn mistakes_in_phrases_are_named() {
        let v = vocabulary();
        assert_eq!(v.expand("{verb} key"), Err(WordsError::Unknown("verb".into())));
        assert_eq!(v.expand("{create key"), Err(WordsError::Unbalanced));
        assert_eq!(v.expand("create] key"), Err(WordsError::Unbalanced));
        assert_eq!(v.expand("[a [b]]"), Err(WordsError::Nested));
    }

    #[test]
    fn lists_hold_plain_words_and_expansion_is_bounded() {
        let raw = BTreeMap::from([("a".to_string(), vec!["{b}".to_string()])]);
        assert_eq!(Vocabulary::new(&raw), Err(WordsError::ListInList("a".into())));
        let many: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let raw = BTreeMap::from([("x".to_string(), many)]);
        let v = Vocabulary::new(&raw).unwrap();
        assert!(matches!(v.expand("{x} {x}"), Err(WordsError::TooMany(900))));
    }
}
