//! A user's search words as SQLite conditions. The index uses FTS5's trigram tokenizer,
//! which finds any substring of three characters or more, in any script (Japanese has no
//! spaces between words, so a word tokenizer would not do). A shorter term (Japanese words
//! are often two characters: 予算) cannot use it: the short-term table serves it (a whole
//! word, or any piece of a Japanese run: see [`crate::short`]), and a `LIKE` filter keeps
//! the result exact; a short term that table does not serve is only the `LIKE` filter, a
//! scan of the lines the other terms leave. Pure.

/// Why a query cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("nothing to search for: give one or more words, e.g. zvm search \"photosynthesis\"")]
    Empty,
    #[error("a quote is not closed in {0:?}: close it, or search without quotes")]
    UnclosedQuote(String),
}

/// The conditions of a query: every term must occur in the line (in any order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    /// An FTS5 `MATCH` expression of the terms of three characters or more.
    pub fts: Option<String>,
    /// An FTS5 `MATCH` expression, for the short-term table, of the shorter terms it
    /// serves.
    pub short: Option<String>,
    /// Those terms themselves, to check a line found for the longer ones.
    pub short_terms: Vec<String>,
    /// `LIKE` patterns (escaped with `\`) of every shorter term.
    pub likes: Vec<String>,
}

/// Splits a query into terms: words, or "quoted phrases" kept whole.
fn terms(query: &str) -> Result<Vec<String>, QueryError> {
    let mut out = Vec::new();
    let mut rest = query.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            let Some(end) = after.find('"') else {
                return Err(QueryError::UnclosedQuote(query.to_string()));
            };
            let phrase = after[..end].trim();
            if !phrase.is_empty() {
                out.push(phrase.to_string());
            }
            rest = after[end + 1..].trim_start();
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    Ok(out)
}

/// The conditions for `query`.
pub fn conditions(query: &str) -> Result<Conditions, QueryError> {
    let terms = terms(query)?;
    if terms.is_empty() {
        return Err(QueryError::Empty);
    }
    let mut phrases = Vec::new();
    let mut likes = Vec::new();
    let mut short = Vec::new();
    let mut short_terms = Vec::new();
    for t in terms {
        if t.chars().count() >= 3 {
            // A phrase in double quotes is matched as written; quotes inside are doubled.
            phrases.push(format!("\"{}\"", t.replace('"', "\"\"")));
        } else {
            if let Some(p) = crate::short::phrase(&t) {
                short.push(p);
                short_terms.push(t.clone());
            }
            let escaped: String = t
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            likes.push(format!("%{escaped}%"));
        }
    }
    Ok(Conditions {
        fts: (!phrases.is_empty()).then(|| phrases.join(" AND ")),
        short: (!short.is_empty()).then(|| short.join(" AND ")),
        short_terms,
        likes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_phrases() {
        let c = conditions(r#"  quadratic "the formula" 光合成 "#).unwrap();
        assert_eq!(
            c.fts.as_deref(),
            Some(r#""quadratic" AND "the formula" AND "光合成""#)
        );
        assert!(c.likes.is_empty());
    }

    #[test]
    fn short_terms_become_like_filters_escaped() {
        let c = conditions("予算 a% x_ budget").unwrap();
        assert_eq!(c.fts.as_deref(), Some(r#""budget""#));
        assert_eq!(c.likes, ["%予算%", "%a\\%%", "%x\\_%"]);
        assert_eq!(c.short.as_deref(), Some(r#""予算""#));
        let c = conditions("予算 AI").unwrap();
        assert_eq!(c.fts, None);
        assert_eq!(c.short.as_deref(), Some(r#""予算" AND "AI""#));
    }

    #[test]
    fn fts_syntax_in_the_query_is_only_text() {
        let c = conditions(r#"NEAR(a b) OR col:x*"#).unwrap();
        assert_eq!(c.fts.as_deref(), Some(r#""NEAR(a" AND "col:x*""#));
        assert_eq!(c.likes, ["%b)%", "%OR%"]);
        assert_eq!(c.short.as_deref(), Some(r#""OR""#));
    }

    #[test]
    fn bad_queries() {
        assert_eq!(conditions("   "), Err(QueryError::Empty));
        assert_eq!(conditions(r#""""#), Err(QueryError::Empty));
        assert!(matches!(
            conditions(r#""open"#),
            Err(QueryError::UnclosedQuote(_))
        ));
    }
}
