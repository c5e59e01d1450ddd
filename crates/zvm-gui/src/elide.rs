//! Fitting a long path into a table cell: the middle goes, the file name stays. Widths come
//! from a measure of one character (the window's font; tests use a fixed estimate).

/// How wide one character is drawn.
pub trait Measure {
    fn width(&mut self, c: char) -> f32;

    fn text_width(&mut self, text: &str) -> f32 {
        text.chars().map(|c| self.width(c)).sum()
    }
}

impl<F: FnMut(char) -> f32> Measure for F {
    fn width(&mut self, c: char) -> f32 {
        self(c)
    }
}

/// A measure without a font: ASCII about half an em, the rest a full em.
pub fn estimate(font_size: f32) -> impl FnMut(char) -> f32 {
    move |c: char| if c.is_ascii() { 0.55 } else { 1.0 } * font_size
}

/// The longest start of `text` that fits in `width`.
fn head_fitting<'t>(text: &'t str, width: f32, m: &mut impl Measure) -> &'t str {
    let mut used = 0.0;
    for (i, c) in text.char_indices() {
        used += m.width(c);
        if used > width {
            return &text[..i];
        }
    }
    text
}

/// The longest end of `text` that fits in `width`.
fn tail_fitting<'t>(text: &'t str, width: f32, m: &mut impl Measure) -> &'t str {
    let mut used = 0.0;
    for (i, c) in text.char_indices().rev() {
        used += m.width(c);
        if used > width {
            return &text[i + c.len_utf8()..];
        }
    }
    text
}

/// `path` shortened to about `width`: the folders lose their middle (`…`), the file name is
/// kept whole; a file name too long on its own keeps its start and its extension.
pub fn elide_path(path: &str, width: f32, m: &mut impl Measure) -> String {
    if m.text_width(path) <= width {
        return path.to_string();
    }
    let (dir, name) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let name_w = m.text_width(name);
    let mark_w = m.text_width("…/");
    if name_w + mark_w > width || dir.is_empty() {
        // Only (part of) the name fits: its start, then its last characters (the extension).
        let end = tail_fitting(name, (width * 0.35).max(0.0), m);
        let start = head_fitting(name, (width * 0.65 - mark_w).max(0.0), m);
        return format!("{start}…{end}");
    }
    let budget = width - name_w - mark_w;
    let start = head_fitting(dir, budget * 0.4, m);
    let end = tail_fitting(dir, budget * 0.6, m);
    format!("{start}…{end}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "teacher0@school.example/2026/2026-11-28 1830 定例会議 2026年度 第3回/shared_screen_with_speaker_view.mp4";

    #[test]
    fn a_short_path_is_untouched() {
        assert_eq!(elide_path("a/b.mp4", 400.0, &mut estimate(14.0)), "a/b.mp4");
    }

    #[test]
    fn a_long_path_loses_its_middle_and_keeps_the_file_name() {
        let width = 420.0;
        let m = &mut estimate(14.0);
        let shown = elide_path(PATH, width, m);
        assert!(
            shown.ends_with("/shared_screen_with_speaker_view.mp4"),
            "{shown}"
        );
        assert!(shown.starts_with("teac"), "{shown}");
        assert!(shown.contains('…'), "{shown}");
        assert!(m.text_width(&shown) <= width, "{shown}");
    }

    #[test]
    fn a_name_too_long_on_its_own_keeps_its_extension() {
        let m = &mut estimate(14.0);
        let shown = elide_path(PATH, 150.0, m);
        assert!(shown.ends_with(".mp4"), "{shown}");
        assert!(shown.starts_with("shared"), "{shown}");
        assert!(m.text_width(&shown) <= 150.0, "{shown}");
    }
}
