//! `zvm-gui`: opens the Zoom Video Mover window.

// No console window behind the app on Windows (release builds).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use zvm_gui::ZvmApp;
use zvm_gui::fonts::{self, FontSource};
use zvm_gui::settings::GuiSettings;

fn main() -> eframe::Result {
    let path = GuiSettings::default_path();
    let (settings, load_error) = match path.as_deref().map(GuiSettings::load) {
        Some(Ok(s)) => (s, None),
        Some(Err(e)) => (GuiSettings::default(), Some(e.to_string())),
        None => (GuiSettings::default(), None),
    };
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
            let mut app = ZvmApp::new(settings, path);
            if let Some(e) = load_error {
                app.inject(zvm_gui::backend::Msg::Error(format!(
                    "the settings file could not be read ({e}); using defaults"
                )));
            }
            Ok(Box::new(app))
        }),
    )
}
