//! A preview of the name templates: where a sample class (a Tokyo teacher's 18:30 meeting)
//! would be saved, named by the engine's own namer, so the settings show what a download
//! will really write. The sample is data, not words of the window.

/// Where a sample class would be saved under `folder` and `file` (the engine's own namer).
pub fn preview(folder: &str, file: &str) -> Result<String, String> {
    let namer = zvm_naming::Namer::new(folder, file).map_err(|e| e.to_string())?;
    let meeting = zvm_naming::MeetingInfo {
        host: "teacher@school.example",
        host_email: "teacher@school.example",
        topic: "定例会議",
        start_time: jiff::Timestamp::from_second(1_795_858_200).unwrap_or_default(),
        timezone: "Asia/Tokyo",
        meeting_id: 81_234_567_890,
        uuid: "4444AAAiAAAAAiAiAiiAii==",
    };
    let file = zvm_naming::FileInfo {
        recording_type: "shared_screen_with_speaker_view",
        file_type: "MP4",
        file_extension: "MP4",
        file_id: "b1f2c3d4",
        recording_start: None,
        participant: None,
    };
    Ok(format!(
        "{}/{}",
        namer.folder(&meeting),
        namer.file_name(&meeting, &file)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_templates_name_the_sample_in_its_own_time_zone_and_a_bad_one_says_why() {
        let s = crate::settings::GuiSettings::default();
        let p = super::preview(&s.folder_template, &s.file_template).expect("defaults work");
        assert!(p.contains("定例会議"), "{p}");
        assert!(p.ends_with(".mp4") || p.ends_with(".MP4"), "{p}");
        let e = super::preview("{nonsense}", "{topic}").unwrap_err();
        assert!(e.contains("nonsense"), "{e}");
    }
}
