//! `zvm-gui`: opens the Zoom Video Mover window.

// No console window behind the app on Windows (release builds).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use zvm_gui::ZvmApp;
use zvm_gui::backend::{Msg, Problem};
use zvm_gui::fonts::{self, FontSource};
use zvm_gui::settings::{GuiSettings, SettingsFiles};

fn main() -> eframe::Result {
    let files = SettingsFiles::default_places();
    let (mut settings, load_error) = match GuiSettings::load(&files) {
        Ok(s) => (s, None),
        Err(e) => (GuiSettings::default(), Some(Problem::of(&e.into_failure()))),
    };
    // A secret kept on this computer fills the field when no config file or variable does.
    settings.fill_kept_secret();
    settings.fill_kept_remote_secrets();
    // Secrets in a config.toml others can read: said in Problems (the keys, never a value).
    let config_warning = zvm_gui::settings::readable_config_warning(&files);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([800.0, 500.0])
            .with_title("Zoom Video Mover"),
        ..Default::default()
    };
    eframe::run_native(
        "Zoom Video Mover",
        options,
        Box::new(move |cc| {
            fonts::install(&cc.egui_ctx, FontSource::SystemThenBundled);
            let mut app = ZvmApp::new(settings, Some(files));
            // Unreadable settings: the defaults are used, and the window says why.
            if let Some(p) = load_error {
                app.inject(Msg::Problem(p));
            }
            if let Some(w) = config_warning {
                app.warn_readable_config(w);
            }
            Ok(Box::new(app))
        }),
    )
}
