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

/// What the options page shows about a passphrase being typed. Every text is the name of a
/// message in the extension's `_locales` catalog (all start with `strength`), which the page
/// words; only `summary` takes substitutions.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// zxcvbn's score, 0 (guessed at once) to 4 (very hard to guess).
    pub score: u8,
    /// Order of magnitude of the guesses zxcvbn expects an attacker to need.
    pub guesses_log10: f64,
    /// Long and strong enough for a vault.
    pub acceptable: bool,
    /// One line: accepted, or the main reason it is not.
    pub summary: &'static str,
    /// The summary's substitutions, in order.
    pub summary_args: Vec<String>,
    /// What makes it easy to guess, when zxcvbn can say.
    pub warning: Option<&'static str>,
    /// How to make it harder to guess.
    pub suggestions: Vec<&'static str>,
}

impl Verdict {
    /// The message names the admin should read about a refused passphrase, summary first.
    pub fn reasons(&self) -> Vec<&'static str> {
        let mut names = vec![self.summary];
        names.extend(self.warning);
        names.extend(self.suggestions.iter().copied());
        names
    }
}

/// Judges `passphrase` by length and by zxcvbn's estimate; only the verdict leaves, never the text.
pub fn judge(passphrase: &str) -> Verdict {
    let chars = passphrase.chars().count();
    let estimate = zxcvbn(passphrase, CONTEXT_WORDS);
    let score = u8::from(estimate.score());
    let (warning, mut suggestions) = match estimate.feedback() {
        Some(f) => (f.warning().map(plain_warning), f.suggestions().iter().map(|s| plain_suggestion(*s)).collect()),
        None => (None, Vec::new()),
    };
    let long_enough = chars >= MIN_CHARS;
    let strong_enough = score >= MIN_SCORE;
    let (summary, summary_args) = if !long_enough {
        let (min, missing) = (MIN_CHARS.to_string(), (MIN_CHARS - chars).to_string());
        if chars + 1 == MIN_CHARS {
            said("strengthTooShortOneMore", [min, missing])
        } else {
            said("strengthTooShort", [min, missing])
        }
    } else if !strong_enough {
        if suggestions.is_empty() {
            suggestions.push(plain_suggestion(Suggestion::AddAnotherWordOrTwo));
        }
        said("strengthTooEasy", [])
    } else if score == 4 {
        said("strengthStrong", [])
    } else {
        said("strengthStrongEnough", [])
    };
    Verdict {
        score,
        guesses_log10: estimate.guesses_log10(),
        acceptable: long_enough && strong_enough,
        summary,
        summary_args,
        warning: if strong_enough { None } else { warning },
        suggestions: if strong_enough { Vec::new() } else { suggestions },
    }
}

/// A summary: its message name and as many substitutions as the message has placeholders (the
/// catalog test counts them here).
fn said<const N: usize>(name: &'static str, args: [String; N]) -> (&'static str, Vec<String>) {
    (name, args.into())
}

/// zxcvbn's warning, as the message that rewords it for an admin choosing a vault passphrase.
fn plain_warning(w: Warning) -> &'static str {
    match w {
        Warning::StraightRowsOfKeysAreEasyToGuess => "strengthWarnKeyboardRow",
        Warning::ShortKeyboardPatternsAreEasyToGuess => "strengthWarnKeyboardPattern",
        Warning::RepeatsLikeAaaAreEasyToGuess => "strengthWarnRepeatedCharacter",
        Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "strengthWarnRepeatedGroup",
        Warning::ThisIsATop10Password => "strengthWarnTop10",
        Warning::ThisIsATop100Password => "strengthWarnTop100",
        Warning::ThisIsACommonPassword => "strengthWarnCommon",
        Warning::ThisIsSimilarToACommonlyUsedPassword => "strengthWarnSimilarToCommon",
        Warning::SequencesLikeAbcAreEasyToGuess => "strengthWarnSequence",
        Warning::RecentYearsAreEasyToGuess => "strengthWarnRecentYear",
        Warning::AWordByItselfIsEasyToGuess => "strengthWarnSingleWord",
        Warning::DatesAreOftenEasyToGuess => "strengthWarnDate",
        Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => "strengthWarnName",
        Warning::CommonNamesAndSurnamesAreEasyToGuess => "strengthWarnCommonName",
    }
}

/// zxcvbn's suggestion, as the message that rewords it the same way.
fn plain_suggestion(s: Suggestion) -> &'static str {
    match s {
        Suggestion::UseAFewWordsAvoidCommonPhrases => "strengthTipUnrelatedWords",
        Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters => "strengthTipLengthCounts",
        Suggestion::AddAnotherWordOrTwo => "strengthTipAddWords",
        Suggestion::CapitalizationDoesntHelpVeryMuch => "strengthTipCapitalFirst",
        Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => "strengthTipAllCapitals",
        Suggestion::ReversedWordsArentMuchHarderToGuess => "strengthTipReversed",
        Suggestion::PredictableSubstitutionsDontHelpVeryMuch => "strengthTipSubstitutions",
        Suggestion::UseALongerKeyboardPatternWithMoreTurns => "strengthTipKeyboardPattern",
        Suggestion::AvoidRepeatedWordsAndCharacters => "strengthTipNoRepeats",
        Suggestion::AvoidSequences => "strengthTipNoSequences",
        Suggestion::AvoidRecentYears => "strengthTipNoRecentYears",
        Suggestion::AvoidYearsThatAreAssociatedWithYou => "strengthTipNoPersonalYears",
        Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => "strengthTipNoPersonalDates",
    }
}

/// The options page's entry point: `{ score, guesses_log10, acceptable, summary: { name, args },
/// warning, suggestions }`, the texts as message names for the page to word.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn estimate(passphrase: &str) -> wasm_bindgen::JsValue {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::JsValue;
    let v = judge(passphrase);
    let set = |on: &Object, k: &str, val: JsValue| {
        let _ = Reflect::set(on, &JsValue::from_str(k), &val);
    };
    let out = Object::new();
    set(&out, "score", JsValue::from(v.score));
    set(&out, "guesses_log10", JsValue::from_f64(v.guesses_log10));
    set(&out, "acceptable", JsValue::from_bool(v.acceptable));
    let summary = Object::new();
    set(&summary, "name", JsValue::from_str(v.summary));
    set(&summary, "args", v.summary_args.iter().map(|a| JsValue::from_str(a)).collect::<Array>().into());
    set(&out, "summary", summary.into());
    set(&out, "warning", v.warning.map_or(JsValue::NULL, JsValue::from_str));
    set(&out, "suggestions", v.suggestions.iter().map(|s| JsValue::from_str(s)).collect::<Array>().into());
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
        assert_eq!(v.summary, "strengthTooEasy");
        assert!(v.warning.is_some() || !v.suggestions.is_empty(), "{v:?}");
        assert!(!format!("{v:?}").contains("password1234"), "the verdict never repeats the passphrase");
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
        assert_eq!(
            (v.summary, v.summary_args.as_slice()),
            ("strengthTooShort", ["12".to_string(), "2".into()].as_slice())
        );
        let one = judge("Zq8#pL2!vR7");
        assert_eq!(one.summary, "strengthTooShortOneMore", "{one:?}");
        assert_eq!(one.summary_args, ["12", "1"]);
        assert!(!judge("").acceptable);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Twelve characters, more than twelve bytes.
        let v = judge("ćwierć żółwi");
        assert!(!v.summary.starts_with("strengthTooShort"), "{}", v.summary);
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
    fn reasons_are_led_by_the_summary_then_the_warning_and_suggestions() {
        let v = judge("password1234");
        let r = v.reasons();
        assert_eq!(r[0], v.summary);
        assert_eq!(r.len(), 1 + usize::from(v.warning.is_some()) + v.suggestions.len());
        for s in &v.suggestions {
            assert!(r.contains(s));
        }
    }

    #[test]
    fn every_text_is_a_strength_message_name() {
        for p in ["", "password1234", "qwertyuiopasdf", "aaaaaaaaaaaaaaaa", "gravel orbit tundra mosaic lantern"] {
            for name in judge(p).reasons() {
                assert!(name.starts_with("strength") && name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
            }
        }
    }

    // This policy is at least as strict as the vault core's own minimum (checked at compile time).
    const _: () = assert!(MIN_CHARS >= keywarden::engine::vault::header::MIN_PASSPHRASE_CHARS);
}
