//! The string table is complete and nothing the window shows bypasses it: every key and every
//! failure cause has English and Japanese words (Japanese that is not the English again), and
//! no English literal is drawn straight from the code of the screens.

use std::collections::BTreeSet;

use zvm_gui::i18n::{Lang, S};
use zvm_gui::i18n_causes::ALL_CAUSES;

/// Keys whose words are the same in both languages on purpose (a product name).
const SAME_IN_BOTH: &[S] = &[S::AppTitle];

#[test]
fn every_key_and_every_cause_has_english_and_japanese_words() {
    let mut untranslated = Vec::new();
    for s in S::ALL {
        let (en, ja) = (Lang::En.t(s), Lang::Ja.t(s));
        if en.trim().is_empty() || ja.trim().is_empty() {
            untranslated.push(format!("{s:?}: empty"));
        } else if en == ja && !SAME_IN_BOTH.contains(&s) {
            untranslated.push(format!("{s:?}: Japanese is the English {en:?}"));
        }
    }
    for c in ALL_CAUSES {
        let (en, ja) = (Lang::En.cause(c), Lang::Ja.cause(c));
        if en.trim().is_empty() || ja.trim().is_empty() || en == ja {
            untranslated.push(format!("{c:?}: {en:?} / {ja:?}"));
        }
    }
    assert!(untranslated.is_empty(), "untranslated: {untranslated:#?}");
    let distinct: BTreeSet<String> = ALL_CAUSES.iter().map(|c| format!("{c:?}")).collect();
    assert_eq!(distinct.len(), ALL_CAUSES.len(), "each cause listed once");
}

/// Every string literal of `source` that holds a word (two letters in a row outside `{}`
/// placeholders), with its line.
fn worded_literals(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let lit = &after[..end];
            // `{name}` in a format string is code, not words.
            let mut words = String::new();
            let mut depth = 0;
            for c in lit.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ if depth == 0 => words.push(c),
                    _ => {}
                }
            }
            let has_word = words
                .as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic());
            if has_word {
                out.push((n + 1, lit.to_string()));
            }
            rest = &after[end + 1..];
        }
    }
    out
}

#[test]
fn the_screens_draw_no_english_literal_of_their_own() {
    // Literals that are not words for the user: egui widget ids and the test module's data.
    const NOT_SHOWN: &[&str] = &["top", "nav", "settings", "user"];
    let source = include_str!("../src/app.rs");
    let main = source.split("#[cfg(test)]").next().unwrap_or(source);
    let shown: Vec<(usize, String)> = worded_literals(main)
        .into_iter()
        .filter(|(_, l)| !NOT_SHOWN.contains(&l.as_str()))
        .collect();
    assert!(
        shown.is_empty(),
        "app.rs draws words that are not in the string table (use Lang::t): {shown:#?}"
    );
    // The check itself finds such a literal.
    assert_eq!(
        worded_literals("ui.label(\"Hello {name}\"); format!(\"{x} ({y})\"); // \"comment\""),
        vec![(1, "Hello {name}".to_string())]
    );
}
