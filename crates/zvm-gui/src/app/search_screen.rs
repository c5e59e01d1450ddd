//! The Search screen: a box over the same full-text index as `zvm search` (see
//! [`crate::search`]); each change of the words sends a question to the engine thread, and
//! the lines found are drawn as they arrive (meeting, local time with the zone, host, the
//! line with where it was said, the file with "Open folder" and "Open file"). Without an
//! index it says how to get one, with a button that rebuilds it from the copied files.

use std::path::Path;

use egui::{RichText, ScrollArea, Ui};

use super::ZvmApp;
use crate::backend::Cmd;
use crate::i18n::{Lang, S};
use crate::search::{FoundLine, IndexState, Outcome, RebuildOutcome, SHOWN_HITS, SearchAnswer};

impl ZvmApp {
    /// Asks the engine thread the words in the box (empty: whether there is an index).
    pub fn ask_search(&mut self) {
        let number = self.search.ask();
        match self.settings.resolved_state_path() {
            Some(state) => self.backend.send(Cmd::Search {
                index: zvm_archive::SearchIndex::path_beside(&state),
                query: self.search.query.clone(),
                number,
            }),
            None => {
                // No place for a state, so none for its index either.
                let tz = self.list.time_zone().clone();
                let dest = self.settings.destination.clone();
                self.search
                    .answer(number, SearchAnswer::NoIndex, &tz, &dest);
            }
        }
    }

    /// Rebuilds the index from what the state says was copied into the destination folder.
    pub fn rebuild_search_index(&mut self) {
        let Some(state_path) = self.settings.resolved_state_path() else {
            self.search.rebuild_ended(RebuildOutcome::NothingCopied);
            return;
        };
        self.search.rebuilding();
        self.backend.send(Cmd::RebuildIndex {
            state_path,
            destination: self.settings.destination.clone(),
        });
    }

    /// Opens a found file with the system's program for it.
    pub fn open_found_file(&mut self, file: &Path) {
        if self.settings.open_browser {
            zvm_app::browser::open(&file.to_string_lossy());
        }
        self.last_opened = Some(file.to_path_buf());
    }

    /// Opens the folder of a found file in the file manager.
    pub fn open_found_folder(&mut self, file: &Path) {
        let dir = file.parent().unwrap_or(file).to_path_buf();
        if self.settings.open_browser {
            zvm_app::browser::open(&dir.to_string_lossy());
        }
        self.last_opened = Some(dir);
    }

    pub(super) fn search_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenSearch));
        // The first time the screen is shown: is there an index at all?
        if self.search.index == IndexState::Unknown && self.search.outcome == Outcome::Idle {
            self.ask_search();
        }
        let k = self.settings.text_scale;
        let mut ask = false;
        let mut rebuild = false;
        let can_rebuild = self.search.index != IndexState::Rebuilding && !self.is_busy();
        ui.horizontal_wrapped(|ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.search.query)
                    .hint_text(t(S::SearchHint))
                    .desired_width(460.0 * k),
            );
            ask = edit.changed();
            rebuild = ui
                .add_enabled(can_rebuild, egui::Button::new(t(S::RebuildIndex)))
                .clicked();
        });
        if ask {
            self.ask_search();
        }
        if rebuild {
            self.rebuild_search_index();
        }
        if let Some(said) = rebuild_words(lang, self.search.index, self.search.rebuilt.as_ref()) {
            ui.label(said);
        }
        if self.search.index == IndexState::Missing {
            ui.add_space(8.0);
            ui.label(RichText::new(t(S::SearchNoIndex)).strong());
            ui.label(t(S::SearchRebuildHint));
            return;
        }
        match &self.search.outcome {
            Outcome::Idle => {}
            Outcome::Searching => {
                ui.weak(t(S::Searching));
            }
            Outcome::BadQuery(why) => {
                let color = ui.visuals().warn_fg_color;
                ui.colored_label(color, format!("{} {why}", t(S::BadQuery)));
            }
            Outcome::Failed(why) => {
                let color = ui.visuals().error_fg_color;
                ui.colored_label(color, format!("{} {why}", t(S::SearchFailed)));
            }
            Outcome::Found(lines) if lines.is_empty() => {
                ui.label(t(S::NoMatch));
            }
            Outcome::Found(lines) => {
                let mut count = t(S::MatchingLines).replace("{n}", &lines.len().to_string());
                if lines.len() >= SHOWN_HITS {
                    count = format!(
                        "{count} {}",
                        t(S::FirstMatches).replace("{n}", &SHOWN_HITS.to_string())
                    );
                }
                ui.label(RichText::new(count).strong());
            }
        }
        ui.separator();
        let mut open_file = None;
        let mut open_folder = None;
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let mut last_meeting: Option<&str> = None;
                for (n, line) in self.search.lines().iter().enumerate() {
                    // A meeting's lines come together: its heading once.
                    if last_meeting != Some(line.meeting_uuid.as_str()) {
                        if last_meeting.is_some() {
                            ui.add_space(6.0);
                        }
                        meeting_heading(ui, line);
                        last_meeting = Some(line.meeting_uuid.as_str());
                    }
                    ui.push_id(n, |ui| match found_line(ui, lang, line) {
                        Some(Open::File) => open_file = Some(line.file.clone()),
                        Some(Open::Folder) => open_folder = Some(line.file.clone()),
                        None => {}
                    });
                }
            });
        if let Some(f) = open_file {
            self.open_found_file(&f);
        }
        if let Some(f) = open_folder {
            self.open_found_folder(&f);
        }
    }
}

/// What a rebuild said, while it runs and after.
fn rebuild_words(
    lang: Lang,
    index: IndexState,
    rebuilt: Option<&RebuildOutcome>,
) -> Option<String> {
    if index == IndexState::Rebuilding {
        return Some(lang.t(S::RebuildingIndex).to_string());
    }
    Some(match rebuilt? {
        RebuildOutcome::Rebuilt { files, lines } => lang
            .t(S::IndexRebuilt)
            .replace("{files}", &files.to_string())
            .replace("{lines}", &lines.to_string()),
        RebuildOutcome::NothingCopied => lang.t(S::RebuildNothingCopied).to_string(),
        RebuildOutcome::NotAFolder => lang.t(S::RebuildNotAFolder).to_string(),
        RebuildOutcome::Failed(why) => format!("{} {why}", lang.t(S::RebuildFailed)),
    })
}

/// The meeting of the lines below: its topic, when (local, with the zone) and its host.
fn meeting_heading(ui: &mut Ui, line: &FoundLine) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(line.topic.as_str()).strong());
        ui.label(line.when.as_str());
        ui.weak(line.host.as_str());
    });
}

enum Open {
    File,
    Folder,
}

/// One matching line: where it was said (or which kind of file), the line, the file's path
/// and its two buttons. Returns what was asked to be opened.
fn found_line(ui: &mut Ui, lang: Lang, line: &FoundLine) -> Option<Open> {
    let mut open = None;
    ui.horizontal_wrapped(|ui| {
        ui.add_space(12.0);
        let kind = match line.kind.as_str() {
            "transcript" => lang.t(S::TypeTranscript),
            "chat" => lang.t(S::TypeChat),
            "summary" => lang.t(S::TypeSummary),
            other => other,
        };
        let at = match &line.at {
            Some(at) => format!("{at} · {kind}"),
            None => kind.to_string(),
        };
        ui.monospace(at);
        ui.label(line.text.as_str());
    });
    ui.horizontal_wrapped(|ui| {
        ui.add_space(12.0);
        ui.weak(line.path.as_str());
        if ui.small_button(lang.t(S::OpenFolder)).clicked() {
            open = Some(Open::Folder);
        }
        if ui.small_button(lang.t(S::OpenFile)).clicked() {
            open = Some(Open::File);
        }
    });
    open
}
