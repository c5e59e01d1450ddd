//! Fitting a long path into a table cell: the middle goes, the file name stays. Widths are
//! estimated from the characters (ASCII narrow, the rest a full em), so a frame measures
//! nothing and the result is the same on every machine.

/// About how wide `text` is at `font_size` points.
pub fn estimated_width(text: &str, font_size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f32>()
        * font_size
}

/// The longest start of `text` that fits in `width`.
fn head_fitting(text: &str, width: f32, font_size: f32) -> &str {
    let mut used = 0.0;
    for (i, c) in text.char_indices() {
        used += estimated_width(c.encode_utf8(&mut [0; 4]), font_size);
        if used > width {
            return &text[..i];
        }
    }
    text
}

/// The longest end of `text` that fits in `width`.
fn tail_fitting(text: &str, width: f32, font_size: f32) -> &str {
    let mut used = 0.0;
    for (i, c) in text.char_indices().rev() {
        used += estimated_width(c.encode_utf8(&mut [0; 4]), font_size);
        if used > width {
            return &text[i + c.len_utf8()..];
        }
    }
    text
}

/// `path` shortened to about `width`: the folders lose their middle (`…`), the file name is
/// kept whole; a file name too long on its own keeps its start and its extension.
pub fn elide_path(path: &str, width: f32, font_size: f32) -> String {
    if estimated_width(path, font_size) <= width {
        return path.to_string();
    }
    let (dir, name) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let name_w = estimated_width(name, font_size);
    let mark_w = estimated_width("…/", font_size);
    if name_w + mark_w > width || dir.is_empty() {
        // Only (part of) the name fits: its start, then its last characters (the extension).
        let end = tail_fitting(name, (width * 0.35).max(0.0), font_size);
        let start = head_fitting(name, (width * 0.65 - mark_w).max(0.0), font_size);
        return format!("{start}…{end}");
    }
    let budget = width - name_w - mark_w;
    let start = head_fitting(dir, budget * 0.4, font_size);
    let end = tail_fitting(dir, budget * 0.6, font_size);
    format!("{start}…{end}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "teacher0@school.example/2026/2026-11-28 1830 定例会議 2026年度 第3回/shared_screen_with_speaker_view.mp4";

    #[test]
    fn a_short_path_is_untouched() {
        assert_eq!(elide_path("a/b.mp4", 400.0, 14.0), "a/b.mp4");
    }

    #[test]
    fn a_long_path_loses_its_middle_and_keeps_the_file_name() {
        let width = 420.0;
        let shown = elide_path(PATH, width, 14.0);
        assert!(
            shown.ends_with("/shared_screen_with_speaker_view.mp4"),
            "{shown}"
        );
        assert!(shown.starts_with("teac"), "{shown}");
        assert!(shown.contains('…'), "{shown}");
        assert!(estimated_width(&shown, 14.0) <= width, "{shown}");
    }

    #[test]
    fn a_name_too_long_on_its_own_keeps_its_extension() {
        let shown = elide_path(PATH, 150.0, 14.0);
        assert!(shown.ends_with(".mp4"), "{shown}");
        assert!(shown.starts_with("shared"), "{shown}");
        assert!(estimated_width(&shown, 14.0) <= 150.0, "{shown}");
    }
}
