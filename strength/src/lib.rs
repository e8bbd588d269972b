//! Judges a vault passphrase for the options page: long enough, hard enough to guess by zxcvbn's estimate, and why not when it is refused.
//!
//! The policy ([`judge`]) is plain Rust, tested natively. On wasm32 [`estimate`] hands the
//! verdict to the options page as a plain object; this crate is its own small wasm module so
//! that zxcvbn's dictionaries stay out of the wasm the worker, step panel and popup load.
#![forbid(unsafe_code)]

use zxcvbn::feedback::{Suggestion, Warning};
use zxcvbn::zxcvbn;

/// Fewest characters a vault passphrase may have (the vault core refuses shorter ones too).
pub const MIN_CHARS: usize = 12;

/// Lowest zxcvbn score (0 to 4) accepted: 3 means about 10^8 guesses or more.
pub const MIN_SCORE: u8 = 3;

/// Words an attacker who knows the context tries first.
const CONTEXT_WORDS: &[&str] = &["keywarden", "vault", "passphrase", "password"];

/// What the options page shows about a passphrase being typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// zxcvbn's score, 0 (guessed at once) to 4 (very hard to guess).
    pub score: u8,
    /// Order of magnitude of the guesses zxcvbn expects an attacker to need.
    pub guesses_log10: f64,
    /// Long and strong enough for a vault.
    pub acceptable: bool,
    /// One line: accepted, or the main reason it is not.
    pub summary: String,
    /// What makes it easy to guess, when zxcvbn can say.
    pub warning: Option<String>,
    /// How to make it harder to guess.
    pub suggestions: Vec<String>,
}

impl Verdict {
    /// Everything the admin should read about a refused passphrase, as one paragraph.
    pub fn reasons(&self) -> String {
        let mut parts = vec![self.summary.clone()];
        parts.extend(self.warning.iter().cloned());
        parts.extend(self.suggestions.iter().cloned());
        parts.join(" ")
    }
}

/// Judges `passphrase` by length and by zxcvbn's estimate; only the verdict leaves, never the text.
pub fn judge(passphrase: &str) -> Verdict {
    let chars = passphrase.chars().count();
    let estimate = zxcvbn(passphrase, CONTEXT_WORDS);
    let score = u8::from(estimate.score());
    let (warning, mut suggestions) = match estimate.feedback() {
        Some(f) => (
            f.warning().map(|w| plain_warning(w).to_string()),
            f.suggestions().iter().map(|s| plain_suggestion(*s).to_string()).collect(),
        ),
        None => (None, Vec::new()),
    };
    let long_enough = chars >= MIN_CHARS;
    let strong_enough = score >= MIN_SCORE;
    let summary = if !long_enough {
        let missing = MIN_CHARS - chars;
        let noun = if missing == 1 { "character" } else { "characters" };
        format!("Too short: a vault passphrase needs at least {MIN_CHARS} characters ({missing} more {noun}).")
    } else if !strong_enough {
        if suggestions.is_empty() {
            suggestions.push(plain_suggestion(Suggestion::AddAnotherWordOrTwo).to_string());
        }
        "Too easy to guess: choose a stronger passphrase.".to_string()
    } else if score == 4 {
        "Strong: very hard to guess.".to_string()
    } else {
        "Strong enough. A word or two more would make it stronger still.".to_string()
    };
    Verdict {
        score,
        guesses_log10: estimate.guesses_log10(),
        acceptable: long_enough && strong_enough,
        summary,
        warning: if strong_enough { None } else { warning },
        suggestions: if strong_enough { Vec::new() } else { suggestions },
    }
}

/// zxcvbn's warning, reworded for an admin choosing a vault passphrase.
fn plain_warning(w: Warning) -> &'static str {
    match w {
        Warning::StraightRowsOfKeysAreEasyToGuess => "It runs along a row of the keyboard.",
        Warning::ShortKeyboardPatternsAreEasyToGuess => "It contains a short pattern of neighbouring keys.",
        Warning::RepeatsLikeAaaAreEasyToGuess => "It repeats one character several times.",
        Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "It repeats the same group of characters.",
        Warning::ThisIsATop10Password => "It is one of the ten passwords people use most.",
        Warning::ThisIsATop100Password => "It is one of the hundred passwords people use most.",
        Warning::ThisIsACommonPassword => "It is on the lists of common passwords that attackers try first.",
        Warning::ThisIsSimilarToACommonlyUsedPassword => {
            "It is a common password with small changes, which attackers try too."
        }
        Warning::SequencesLikeAbcAreEasyToGuess => "It contains a run such as abc or 6543.",
        Warning::RecentYearsAreEasyToGuess => "It contains a recent year.",
        Warning::AWordByItselfIsEasyToGuess => "It is essentially a single word.",
        Warning::DatesAreOftenEasyToGuess => "It contains a date.",
        Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => "It is essentially a name.",
        Warning::CommonNamesAndSurnamesAreEasyToGuess => "It contains a common first name or surname.",
    }
}

/// zxcvbn's suggestion, reworded the same way.
fn plain_suggestion(s: Suggestion) -> &'static str {
    match s {
        Suggestion::UseAFewWordsAvoidCommonPhrases => {
            "Put together several unrelated words rather than a known phrase."
        }
        Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters => {
            "Symbols, digits and capitals are optional: length counts for more."
        }
        Suggestion::AddAnotherWordOrTwo => "Add another word or two, preferably uncommon ones.",
        Suggestion::CapitalizationDoesntHelpVeryMuch => "A capital first letter adds little.",
        Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => "Writing it all in capitals adds little.",
        Suggestion::ReversedWordsArentMuchHarderToGuess => "Spelling a word backwards adds little.",
        Suggestion::PredictableSubstitutionsDontHelpVeryMuch => {
            "Swapping letters for look-alikes (@ for a, 0 for o) adds little."
        }
        Suggestion::UseALongerKeyboardPatternWithMoreTurns => {
            "Avoid keyboard patterns, or make them much longer with several changes of direction."
        }
        Suggestion::AvoidRepeatedWordsAndCharacters => "Do not repeat words or characters.",
        Suggestion::AvoidSequences => "Leave out runs such as 1234 or abcd.",
        Suggestion::AvoidRecentYears => "Leave out recent years.",
        Suggestion::AvoidYearsThatAreAssociatedWithYou => "Leave out years that mean something to you.",
        Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => {
            "Leave out dates and years that mean something to you."
        }
    }
}

/// The options page's entry point: `{ score, guesses_log10, acceptable, summary, warning, suggestions, reasons }`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn estimate(passphrase: &str) -> wasm_bindgen::JsValue {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::JsValue;
    let v = judge(passphrase);
    let out = Object::new();
    let set = |k: &str, val: JsValue| {
        let _ = Reflect::set(&out, &JsValue::from_str(k), &val);
    };
    set("score", JsValue::from(v.score));
    set("guesses_log10", JsValue::from_f64(v.guesses_log10));
    set("acceptable", JsValue::from_bool(v.acceptable));
    set("summary", JsValue::from_str(&v.summary));
    set("warning", v.warning.as_deref().map_or(JsValue::NULL, JsValue::from_str));
    set("suggestions", v.suggestions.iter().map(|s| JsValue::from_str(s)).collect::<Array>().into());
    set("reasons", JsValue::from_str(&v.reasons()));
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_common_password_stretched_to_twelve_characters_is_refused_with_a_reason() {
        let v = judge("password1234");
        assert!(!v.acceptable);
        assert!(v.score < MIN_SCORE, "score {}", v.score);
        assert!(v.summary.starts_with("Too easy to guess"), "{}", v.summary);
        assert!(v.warning.is_some() || !v.suggestions.is_empty(), "{v:?}");
        assert!(!v.reasons().contains("password1234"), "the reasons never repeat the passphrase");
    }

    #[test]
    fn five_random_words_pass() {
        for p in [
            "gravel orbit tundra mosaic lantern",
            "quilt ember canyon sprocket hazel",
            "velvet anchor minnow quarry tulip",
        ] {
            let v = judge(p);
            assert!(v.acceptable, "{p}: {v:?}");
            assert!(v.score >= MIN_SCORE);
            assert_eq!(v.warning, None);
            assert!(v.suggestions.is_empty());
        }
    }

    #[test]
    fn short_passphrases_are_refused_for_length_first() {
        let v = judge("Zq8#pL2!vR");
        assert!(!v.acceptable);
        assert!(v.summary.contains("at least 12 characters (2 more characters)"), "{}", v.summary);
        let one = judge("Zq8#pL2!vR7");
        assert!(one.summary.contains("(1 more character)"), "{}", one.summary);
        assert!(!judge("").acceptable);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Twelve characters, more than twelve bytes.
        let v = judge("ćwierć żółwi");
        assert!(!v.summary.starts_with("Too short"), "{}", v.summary);
    }

    #[test]
    fn keyboard_rows_repeats_and_the_product_name_are_weak() {
        for p in ["qwertyuiopasdf", "aaaaaaaaaaaaaaaa", "abcabcabcabcabc", "keywarden2024!", "keywardenvault"] {
            let v = judge(p);
            assert!(!v.acceptable, "{p} passed: {v:?}");
            assert!(v.warning.is_some() || !v.suggestions.is_empty(), "{p} has no reason: {v:?}");
        }
    }

    #[test]
    fn reasons_are_one_paragraph_led_by_the_summary() {
        let v = judge("password1234");
        let r = v.reasons();
        assert!(r.starts_with(&v.summary));
        for s in &v.suggestions {
            assert!(r.contains(s.as_str()));
        }
    }

    // This policy is at least as strict as the vault core's own minimum (checked at compile time).
    const _: () = assert!(MIN_CHARS >= keywarden::engine::vault::header::MIN_PASSPHRASE_CHARS);
}
