//! Fonts that make Japanese always render: a CJK font from the system where one is installed,
//! else the bundled M+ 1 Regular (SIL OFL 1.1, from Debian's `fonts-mplus`; see
//! `assets/fonts/Mplus1-LICENSE.txt`), added as a fallback after egui's own fonts.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

/// The bundled fallback (about 1.5 MB): covers kana and the common kanji.
pub const BUNDLED_CJK: &[u8] = include_bytes!("../assets/fonts/Mplus1-Regular.otf");

/// Where the CJK font comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontSource {
    /// A system font when present, else the bundled one (the app).
    SystemThenBundled,
    /// Only the bundled one (tests and snapshots: the same pixels on every machine).
    Bundled,
}

/// Well-known CJK font files of Linux, macOS and Windows, most preferred first.
const SYSTEM_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:\\Windows\\Fonts\\YuGothM.ttc",
    "C:\\Windows\\Fonts\\meiryo.ttc",
    "C:\\Windows\\Fonts\\msgothic.ttc",
];

/// Returns the name and bytes of the CJK font chosen for `source`.
pub fn pick(source: FontSource) -> (String, Vec<u8>) {
    if source == FontSource::SystemThenBundled {
        for path in SYSTEM_CANDIDATES {
            if let Ok(bytes) = std::fs::read(path) {
                return ((*path).to_string(), bytes);
            }
        }
    }
    ("bundled M+ 1".to_string(), BUNDLED_CJK.to_vec())
}

/// Adds the CJK font as a fallback of both families; returns which font was used.
pub fn install(ctx: &egui::Context, source: FontSource) -> String {
    let (name, bytes) = pick(source);
    let mut fonts = FontDefinitions::default();
    fonts
        .font_data
        .insert("cjk".into(), Arc::new(FontData::from_owned(bytes)));
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("cjk".into());
    }
    ctx.set_fonts(fonts);
    name
}
