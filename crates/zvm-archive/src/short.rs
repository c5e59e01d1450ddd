//! Terms of one or two characters, which the trigram index cannot serve (a trigram is
//! three characters). A second FTS5 table, contentless (the line's text stays stored once,
//! in the trigram table), holds for each line only what such a term can match:
//!
//! - its **words** of one or two characters (letters and digits between anything else:
//!   `AI`, `OK`, `Q3`, the `s` of `Newton's`), so a short term in a spaced script is found
//!   as a whole word, not inside a longer one (`AI` is not found in `PAID`);
//! - for runs of **Japanese, Chinese, Korean** (and Thai, Lao, Myanmar, Khmer) text, which
//!   has no spaces between words,
//!   every distinct piece of one and of two characters, so `予算` and `猫` are found
//!   anywhere in a run, exactly as a substring search would.
//!
//! Both sides go through the same split: a line's tokens here and a query term are the
//! same strings, and the table's `unicode61` tokenizer reads them alike (case folded). A
//! short term that is neither (punctuation, or scripts mixed within two characters) is
//! not indexed here and stays an exact scan. Pure.

use std::collections::HashSet;

/// Characters of scripts written without spaces between words (Han, kana, Hangul, Thai,
/// Lao, Myanmar, Khmer, and their compatibility and half-width forms): a short term made
/// of these is a piece of a run, not a word.
pub fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1780}'..='\u{17FF}'   // Khmer
        | '\u{3005}'..='\u{3007}'   // 々 〆 〇
        | '\u{3040}'..='\u{30FF}'   // hiragana, katakana (with ー)
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}'   // half-width katakana
        | '\u{20000}'..='\u{3FFFF}' // CJK extensions B and on
    )
}

/// A character of a word of a spaced script (a letter or digit of no unspaced script).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_unspaced(c)
}

/// The tokens of a line for the short-term table, space-separated: its distinct words of
/// one or two characters, and the distinct one- and two-character pieces of its unspaced
/// runs. Empty when the line has none.
pub fn tokens(text: &str) -> String {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = String::new();
    let mut push = |piece: &str, out: &mut String| {
        if seen.insert(piece.to_lowercase()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(piece);
        }
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run_of: fn(char) -> bool = if is_unspaced(c) {
            is_unspaced
        } else if is_word_char(c) {
            is_word_char
        } else {
            i += 1;
            continue;
        };
        let start = i;
        while i < chars.len() && run_of(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        if is_unspaced(c) {
            for (k, &one) in run.iter().enumerate() {
                push(one.encode_utf8(&mut [0; 4]), &mut out);
                if let Some(&next) = run.get(k + 1) {
                    push(&[one, next].iter().collect::<String>(), &mut out);
                }
            }
        } else if run.len() <= 2 {
            push(&run.iter().collect::<String>(), &mut out);
        }
    }
    out
}

/// The FTS5 expression that finds `term` in the short-term table, when the table can
/// serve it: one or two characters, all unspaced (a piece of a run) or all of a word (a
/// whole word). `None` for anything else (it is scanned for).
pub fn phrase(term: &str) -> Option<String> {
    let n = term.chars().count();
    if n == 0 || n > 2 {
        return None;
    }
    let indexed = term.chars().all(is_unspaced) || term.chars().all(is_word_char);
    // Letters and digits only: nothing in it is FTS5 syntax, and the quotes keep it a
    // string (a bare `OR` or `NOT` would be an operator).
    indexed.then(|| format!("\"{term}\""))
}

/// Whether the line `text` holds `term` (one the table serves, see [`phrase`]) as the
/// table would find it: a piece of an unspaced run, or a whole word in any case. The same
/// answer as the table's, for a line in hand (one the trigram index found for the other
/// terms), without a look-up per line.
pub fn line_has(text: &str, term: &str) -> bool {
    if term.chars().all(is_unspaced) {
        return text.contains(term);
    }
    let term = term.to_lowercase();
    text.split(|c: char| !is_word_char(c))
        .any(|word| !word.is_empty() && word.chars().count() <= 2 && word.to_lowercase() == term)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_words_and_every_piece_of_unspaced_runs() {
        assert_eq!(tokens("AI budget, OK? PAID"), "AI OK");
        assert_eq!(tokens("Newton's Q3 plan"), "s Q3");
        assert_eq!(tokens("予算の話"), "予 予算 算 算の の の話 話");
        assert_eq!(tokens("AI予算 ai"), "AI 予 予算 算");
        assert_eq!(tokens("photosynthesis"), "");
        assert_eq!(tokens("猫、猫"), "猫");
        assert_eq!(tokens("人々"), "人 人々 々");
        assert_eq!(tokens("แมว"), "แ แม ม มว ว");
    }

    #[test]
    fn a_line_in_hand_checked_as_the_table_would() {
        assert!(line_has("the AI's plan", "ai"));
        assert!(line_has("AI予算", "AI"));
        assert!(!line_has("we PAID", "AI"));
        assert!(line_has("来年の予算", "予算"));
        assert!(!line_has("予 算", "予算"));
    }

    #[test]
    fn which_terms_the_table_serves() {
        assert_eq!(phrase("AI").as_deref(), Some("\"AI\""));
        assert_eq!(phrase("I").as_deref(), Some("\"I\""));
        assert_eq!(phrase("予算").as_deref(), Some("\"予算\""));
        assert_eq!(phrase("猫").as_deref(), Some("\"猫\""));
        assert_eq!(phrase("OR").as_deref(), Some("\"OR\""));
        assert_eq!(phrase("a%"), None);
        assert_eq!(phrase("A猫"), None);
        assert_eq!(phrase("มว").as_deref(), Some("\"มว\""));
        assert_eq!(phrase("abc"), None);
    }
}
