//! A small calendar for the date fields: a button that opens the month of the field's date,
//! days to click, and the month before and after. Dates are jiff civil dates (local days), so
//! the window needs no second date library.

use egui::{RichText, Ui};
use jiff::civil::Date;

use crate::i18n::{Lang, S};

/// The weeks of `month_start`'s month, Monday first: `None` where a day of the week falls
/// outside the month.
pub fn month_grid(month_start: Date) -> Vec<[Option<Date>; 7]> {
    let first = month_start.first_of_month();
    let lead = first.weekday().to_monday_zero_offset() as usize;
    let days = first.days_in_month() as usize;
    let mut weeks = Vec::new();
    let mut week = [None; 7];
    for slot in 0..(lead + days) {
        if slot >= lead {
            let d = first
                .checked_add(jiff::Span::new().days((slot - lead) as i64))
                .ok();
            week[slot % 7] = d;
        }
        if slot % 7 == 6 {
            weeks.push(week);
            week = [None; 7];
        }
    }
    if week.iter().any(Option::is_some) {
        weeks.push(week);
    }
    weeks
}

/// A "Pick…" button beside a date field: the calendar opens on the field's date (or
/// `today`), and a clicked day is written into `text` as `YYYY-MM-DD`. True when a day was
/// picked.
pub fn date_picker(ui: &mut Ui, lang: Lang, id: &str, text: &mut String, today: Date) -> bool {
    let t = |k| lang.t(k);
    let shown_id = ui.scope_id().with(id).with("month");
    let current = text.trim().parse::<Date>().unwrap_or(today);
    let button = ui.button(t(S::PickDate));
    let popup_id = ui.scope_id().with(id);
    if button.clicked() {
        // Opens on the field's month.
        ui.ctx()
            .data_mut(|d| d.insert_temp(shown_id, current.first_of_month()));
    }
    let mut picked = false;
    egui::Popup::from_toggle_button_response(&button)
        .id(popup_id)
        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
        .show(|ui| {
            let mut month: Date = ui
                .ctx()
                .data(|d| d.get_temp(shown_id))
                .unwrap_or(current.first_of_month());
            ui.horizontal(|ui| {
                if ui
                    .small_button("◀")
                    .on_hover_text(t(S::PrevMonth))
                    .clicked()
                {
                    month = month
                        .checked_sub(jiff::Span::new().months(1))
                        .unwrap_or(month);
                }
                ui.label(RichText::new(month.strftime("%Y-%m").to_string()).strong());
                if ui
                    .small_button("▶")
                    .on_hover_text(t(S::NextMonth))
                    .clicked()
                {
                    month = month
                        .checked_add(jiff::Span::new().months(1))
                        .unwrap_or(month);
                }
            });
            egui::Grid::new((id, "days")).show(ui, |ui| {
                for w in t(S::Weekdays).split_whitespace() {
                    ui.label(RichText::new(w).weak());
                }
                ui.end_row();
                for week in month_grid(month) {
                    for day in week {
                        match day {
                            Some(d) => {
                                let label = RichText::new(d.day().to_string());
                                let on = d == current;
                                if ui.selectable_label(on, label).clicked() {
                                    *text = d.to_string();
                                    picked = true;
                                }
                            }
                            None => {
                                ui.label("");
                            }
                        }
                    }
                    ui.end_row();
                }
            });
            ui.ctx().data_mut(|d| d.insert_temp(shown_id, month));
        });
    if picked {
        egui::Popup::close_id(ui.ctx(), popup_id);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_laid_out_in_weeks_from_monday() {
        // November 2026 starts on a Sunday and has 30 days.
        let weeks = month_grid("2026-11-17".parse().unwrap());
        assert_eq!(weeks.len(), 6);
        assert_eq!(weeks[0][..6], [None; 6]);
        assert_eq!(
            weeks[0][6].map(|d| d.to_string()).as_deref(),
            Some("2026-11-01")
        );
        assert_eq!(
            weeks[5][0].map(|d| d.to_string()).as_deref(),
            Some("2026-11-30")
        );
        assert_eq!(weeks[5][1], None);
        let days: usize = weeks.iter().map(|w| w.iter().flatten().count()).sum();
        assert_eq!(days, 30);
    }
}
