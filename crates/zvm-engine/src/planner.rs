//! The planner: what to do with each file of one listed meeting, as a pure function of the
//! meeting, its state rows and the sizes its verified copies have at the destination.
//!
//! It names (folders keep the name an earlier run gave them; new files get stable,
//! collision-free names), and decides per file: filtered out, still processing at Zoom,
//! proven here already, or to fetch (and why). It does no I/O: the copier looks the rows
//! and sizes up (a batch at a time), reports the decisions as events and queues the
//! fetches, so every case the planner decides is unit-tested without HTTP.

use std::collections::{BTreeMap, HashMap};

use zvm_naming::{FileInfo, MeetingInfo, NameAllocator, Namer};
use zvm_state::{FileKey, FileKind, FileRow, FileStatus, PlannedFile};
use zvm_zoom::models::{Meeting, RecordingFile};

use crate::catalog::{CopyCheck, check_copy, needs_stat};
use crate::layout::{MEETING_JSON, RESERVED, parse_time, parse_time_opt};
use crate::options::Filters;

/// What the planner decided for one recording file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Left out by the file-type filter (or, in the copier, not among the files chosen in
    /// the meeting).
    Filtered,
    /// Zoom is still processing it: a later run takes it.
    Processing,
    /// Proven here already: no request is sent for it.
    Done,
    /// To download. `copy` is what the local-copy check found when the state has a row
    /// for it (`None`: never planned before).
    Fetch { copy: Option<CopyCheck> },
}

/// One recording file of the meeting and the decision about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlan {
    pub file_id: String,
    /// Where the file lives (or will), relative to the destination root; empty for a file
    /// filtered out or still processing.
    pub rel_path: String,
    /// The size Zoom lists.
    pub size: u64,
    pub decision: Decision,
}

impl FilePlan {
    /// A verified copy that has gone missing or changed size since: worth a warning, since
    /// someone or something touched the destination.
    pub fn lost_copy(&self) -> Option<&CopyCheck> {
        match &self.decision {
            Decision::Fetch {
                copy: Some(c @ (CopyCheck::Missing | CopyCheck::WrongSize { .. })),
            } => Some(c),
            _ => None,
        }
    }
}

/// The plan of one meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingPlan {
    /// The meeting's folder, relative to the destination root.
    pub folder: String,
    /// Every recording file with an id, in a stable order (recording start, then id).
    pub files: Vec<FilePlan>,
    /// The meeting's details and its own files (summary, participant audio,
    /// `meeting.json`) are all done by an earlier run.
    pub artifacts_done: bool,
}

impl MeetingPlan {
    /// Files taken by this run's filters and not processing: what the meeting counts as.
    pub fn planned(&self) -> impl Iterator<Item = &FilePlan> {
        self.files
            .iter()
            .filter(|f| matches!(f.decision, Decision::Done | Decision::Fetch { .. }))
    }

    /// Files to download.
    pub fn fetches(&self) -> impl Iterator<Item = &FilePlan> {
        self.files
            .iter()
            .filter(|f| matches!(f.decision, Decision::Fetch { .. }))
    }

    /// Where each planned recording file lives (or will), by file id: for `meeting.json`.
    pub fn paths(&self) -> BTreeMap<String, String> {
        self.planned()
            .map(|f| (f.file_id.clone(), f.rel_path.clone()))
            .collect()
    }

    /// Nothing at all to do: every file proven, nothing processing, the details done. Such
    /// a meeting costs no request.
    pub fn is_complete(&self) -> bool {
        self.artifacts_done
            && self
                .files
                .iter()
                .all(|f| matches!(f.decision, Decision::Done | Decision::Filtered))
    }
}

/// What the planner reads about one meeting.
pub struct MeetingInput<'a> {
    pub meeting: &'a Meeting,
    /// The host as folders name it.
    pub host: &'a str,
    /// The meeting's folder (see [`Folders`]).
    pub folder: &'a str,
    /// The meeting's state rows, all kinds.
    pub rows: &'a [FileRow],
    /// Sizes under the final name at the destination (`None`: no such file), by relative
    /// path, of at least every path [`paths_to_stat`] names.
    pub local_sizes: &'a HashMap<String, Option<u64>>,
    pub filters: &'a Filters,
    pub namer: &'a Namer,
}

/// The paths whose size at the destination the planner needs for `meeting`: the copies its
/// rows say are verified at the size Zoom lists now (only those can be skipped).
pub fn paths_to_stat(meeting: &Meeting, rows: &[FileRow]) -> Vec<String> {
    rows.iter()
        .filter(|r| {
            meeting
                .recording_files
                .iter()
                .find(|f| f.id == r.key.file_id)
                .is_some_and(|f| needs_stat(r, f.file_size))
        })
        .map(|r| r.rel_path.clone())
        .collect()
}

/// The naming facts of a meeting, as the templates see them.
pub fn meeting_info<'a>(meeting: &'a Meeting, host: &'a str) -> MeetingInfo<'a> {
    MeetingInfo {
        host,
        host_email: host,
        topic: &meeting.topic,
        start_time: parse_time(&meeting.start_time),
        timezone: &meeting.timezone,
        meeting_id: meeting.id,
        uuid: &meeting.uuid,
    }
}

/// Plans one meeting.
pub fn plan_meeting(input: &MeetingInput<'_>) -> MeetingPlan {
    let MeetingInput {
        meeting,
        folder,
        rows,
        local_sizes,
        filters,
        namer,
        host,
    } = input;
    let existing: BTreeMap<&str, &FileRow> =
        rows.iter().map(|r| (r.key.file_id.as_str(), r)).collect();
    let info = meeting_info(meeting, host);

    // Names inside the folder: what the engine writes is reserved first, then names
    // earlier runs gave, then new files in a stable order.
    let mut names = NameAllocator::new();
    for reserved in RESERVED {
        names.reserve(reserved);
    }
    let prefix = format!("{folder}/");
    for row in existing.values() {
        if let Some(name) = row.rel_path.strip_prefix(&prefix) {
            names.reserve(name);
        }
    }
    let mut files: Vec<&RecordingFile> = meeting.recording_files.iter().collect();
    files.sort_by(|a, b| {
        (a.recording_start.as_str(), a.id.as_str())
            .cmp(&(b.recording_start.as_str(), b.id.as_str()))
    });

    let mut plans = Vec::with_capacity(files.len());
    for file in files {
        let filtered = !filters.wants_file_type(file.file_type.as_str());
        // A file still processing is reported even when its type is filtered out: its type
        // may not be final yet.
        if !file.is_processing() && filtered {
            plans.push(FilePlan {
                file_id: file.id.clone(),
                rel_path: String::new(),
                size: file.file_size,
                decision: Decision::Filtered,
            });
            continue;
        }
        if file.id.is_empty() {
            continue;
        }
        if file.is_processing() {
            plans.push(FilePlan {
                file_id: file.id.clone(),
                rel_path: String::new(),
                size: 0,
                decision: Decision::Processing,
            });
            continue;
        }
        let row = existing.get(file.id.as_str()).copied();
        let rel_path = match row {
            Some(row) if !row.rel_path.is_empty() => row.rel_path.clone(),
            _ => {
                let finfo = FileInfo {
                    recording_type: file.recording_type.as_str(),
                    file_type: file.file_type.as_str(),
                    file_extension: &file.file_extension,
                    file_id: &file.id,
                    recording_start: parse_time_opt(&file.recording_start),
                    participant: None,
                };
                let name = names.allocate(&namer.file_name(&info, &finfo));
                format!("{folder}/{name}")
            }
        };
        let decision = match row {
            None => Decision::Fetch { copy: None },
            Some(row) => {
                // A local stat, no request: a copy someone deleted or damaged since is
                // fetched again rather than trusted.
                let on_disk = local_sizes.get(&row.rel_path).copied().flatten();
                match check_copy(row, file.file_size, on_disk, false) {
                    CopyCheck::Proven => Decision::Done,
                    other => Decision::Fetch { copy: Some(other) },
                }
            }
        };
        plans.push(FilePlan {
            file_id: file.id.clone(),
            rel_path,
            size: file.file_size,
            decision,
        });
    }

    let artifacts_done = existing
        .values()
        .filter(|r| r.kind != FileKind::Recording)
        .all(|r| matches!(r.status, FileStatus::Verified | FileStatus::Skipped))
        && existing
            .get(MEETING_JSON)
            .is_some_and(|r| r.status == FileStatus::Verified);
    MeetingPlan {
        folder: folder.to_string(),
        files: plans,
        artifacts_done,
    }
}

/// The state row a fetch of `file` plans.
pub fn planned_file(meeting: &Meeting, file: &RecordingFile, rel_path: &str) -> PlannedFile {
    PlannedFile {
        key: FileKey {
            meeting_uuid: meeting.uuid.clone(),
            file_id: file.id.clone(),
        },
        kind: FileKind::Recording,
        file_type: file.file_type.as_str().to_string(),
        recording_type: file.recording_type.as_str().to_string(),
        rel_path: rel_path.to_string(),
        expected_size: file.file_size,
    }
}

/// Meeting folders of a run: the ones earlier runs gave keep their names for ever; a new
/// meeting gets its template's name, made unique among all of them.
#[derive(Debug, Default)]
pub struct Folders {
    names: NameAllocator,
    known: HashMap<String, String>,
}

impl Folders {
    /// The folders the state knows, as (meeting uuid, folder).
    pub fn new(known: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut f = Folders::default();
        for (uuid, folder) in known {
            f.names.reserve(&folder);
            f.known.insert(uuid, folder);
        }
        f
    }

    /// The folder of `meeting`: the one it already has, or a new one.
    pub fn folder_for(&mut self, meeting: &Meeting, host: &str, namer: &Namer) -> String {
        if let Some(f) = self.known.get(&meeting.uuid) {
            return f.clone();
        }
        let f = self
            .names
            .allocate_dir(&namer.folder(&meeting_info(meeting, host)));
        self.known.insert(meeting.uuid.clone(), f.clone());
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zvm_state::CloudState;

    const UUID: &str = "m1==";
    const FOLDER: &str = "a@example.com/2024/2024-03-05 0900 Standup";

    /// A listed meeting with these files: (id, file type, recording type, size, status).
    fn meeting(files: &[(&str, &str, &str, u64, &str)]) -> Meeting {
        let files: Vec<serde_json::Value> = files
            .iter()
            .enumerate()
            .map(|(i, (id, ft, rt, size, status))| {
                serde_json::json!({
                    "id": id,
                    "file_type": ft,
                    "file_extension": ft,
                    "recording_type": rt,
                    "file_size": size,
                    "status": status,
                    "recording_start": format!("2024-03-05T09:0{i}:00Z"),
                    "download_url": format!("https://zoom.example/rec/{id}"),
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "uuid": UUID,
            "id": 42,
            "topic": "Standup",
            "start_time": "2024-03-05T09:00:00Z",
            "timezone": "UTC",
            "duration": 30,
            "recording_files": files,
        }))
        .expect("a meeting")
    }

    fn row(file_id: &str, kind: FileKind, path: &str, size: u64, status: FileStatus) -> FileRow {
        FileRow {
            key: FileKey {
                meeting_uuid: UUID.into(),
                file_id: file_id.into(),
            },
            kind,
            file_type: String::new(),
            recording_type: String::new(),
            rel_path: path.into(),
            expected_size: size,
            status,
            bytes_done: 0,
            attempts: 0,
            last_error: None,
            sha256: None,
            cloud: CloudState::Present,
            updated_at: String::new(),
        }
    }

    fn verified(file_id: &str, path: &str, size: u64) -> FileRow {
        row(
            file_id,
            FileKind::Recording,
            path,
            size,
            FileStatus::Verified,
        )
    }

    fn record_done() -> FileRow {
        row(
            MEETING_JSON,
            FileKind::MeetingJson,
            &format!("{FOLDER}/{MEETING_JSON}"),
            10,
            FileStatus::Verified,
        )
    }

    fn plan(
        m: &Meeting,
        rows: &[FileRow],
        sizes: &[(&str, u64)],
        filters: &Filters,
    ) -> MeetingPlan {
        let namer = Namer::new(Namer::DEFAULT_FOLDER, Namer::DEFAULT_FILE).unwrap();
        let local_sizes: HashMap<String, Option<u64>> = paths_to_stat(m, rows)
            .into_iter()
            .map(|p| {
                let s = sizes.iter().find(|(q, _)| *q == p).map(|(_, s)| *s);
                (p, s)
            })
            .collect();
        plan_meeting(&MeetingInput {
            meeting: m,
            host: "a@example.com",
            folder: FOLDER,
            rows,
            local_sizes: &local_sizes,
            filters,
            namer: &namer,
        })
    }

    fn decisions(p: &MeetingPlan) -> Vec<(&str, &Decision)> {
        p.files
            .iter()
            .map(|f| (f.file_id.as_str(), &f.decision))
            .collect()
    }

    #[test]
    fn a_new_meeting_fetches_every_file_under_template_names() {
        let m = meeting(&[
            ("v", "MP4", "shared_screen", 100, "completed"),
            ("a", "M4A", "audio_only", 40, "completed"),
        ]);
        let p = plan(&m, &[], &[], &Filters::default());
        assert_eq!(
            decisions(&p),
            [
                ("v", &Decision::Fetch { copy: None }),
                ("a", &Decision::Fetch { copy: None })
            ]
        );
        assert_eq!(p.files[0].rel_path, format!("{FOLDER}/shared_screen.mp4"));
        assert_eq!(p.files[1].rel_path, format!("{FOLDER}/audio_only.m4a"));
        assert_eq!(p.paths().len(), 2);
        assert!(!p.is_complete());
    }

    #[test]
    fn a_meeting_proven_here_with_its_record_is_complete() {
        let m = meeting(&[("v", "MP4", "shared_screen", 100, "completed")]);
        let path = format!("{FOLDER}/shared_screen.mp4");
        let rows = [verified("v", &path, 100), record_done()];
        let p = plan(&m, &rows, &[(&path, 100)], &Filters::default());
        assert_eq!(decisions(&p), [("v", &Decision::Done)]);
        assert!(p.is_complete(), "no request at all for a finished meeting");
        assert_eq!(p.fetches().count(), 0);
        assert_eq!(
            p.planned().count(),
            1,
            "a file done still counts in the meeting"
        );
    }

    #[test]
    fn files_done_without_the_record_still_need_the_details() {
        let m = meeting(&[("v", "MP4", "shared_screen", 100, "completed")]);
        let path = format!("{FOLDER}/shared_screen.mp4");
        let p = plan(
            &m,
            &[verified("v", &path, 100)],
            &[(&path, 100)],
            &Filters::default(),
        );
        assert_eq!(decisions(&p), [("v", &Decision::Done)]);
        assert!(!p.is_complete());
    }

    #[test]
    fn a_verified_copy_gone_from_the_destination_is_fetched_again() {
        let m = meeting(&[("v", "MP4", "shared_screen", 100, "completed")]);
        let path = format!("{FOLDER}/shared_screen.mp4");
        let p = plan(
            &m,
            &[verified("v", &path, 100), record_done()],
            &[],
            &Filters::default(),
        );
        assert_eq!(
            decisions(&p),
            [(
                "v",
                &Decision::Fetch {
                    copy: Some(CopyCheck::Missing)
                }
            )]
        );
        assert_eq!(
            p.files[0].rel_path, path,
            "fetched again under the same name"
        );
        assert_eq!(p.files[0].lost_copy(), Some(&CopyCheck::Missing));
        assert!(!p.is_complete());
    }

    #[test]
    fn a_damaged_copy_is_fetched_again() {
        let m = meeting(&[("v", "MP4", "shared_screen", 100, "completed")]);
        let path = format!("{FOLDER}/shared_screen.mp4");
        let p = plan(
            &m,
            &[verified("v", &path, 100), record_done()],
            &[(&path, 50)],
            &Filters::default(),
        );
        let damaged = CopyCheck::WrongSize {
            found: 50,
            expected: 100,
        };
        assert_eq!(
            decisions(&p),
            [(
                "v",
                &Decision::Fetch {
                    copy: Some(damaged.clone())
                }
            )]
        );
        assert_eq!(p.files[0].lost_copy(), Some(&damaged));
    }

    #[test]
    fn a_file_zoom_now_lists_at_another_size_is_fetched_without_a_stat() {
        let m = meeting(&[("v", "MP4", "shared_screen", 120, "completed")]);
        let path = format!("{FOLDER}/shared_screen.mp4");
        let rows = [verified("v", &path, 100), record_done()];
        assert!(
            paths_to_stat(&m, &rows).is_empty(),
            "no stat for a copy that cannot be skipped"
        );
        let p = plan(&m, &rows, &[(&path, 100)], &Filters::default());
        assert_eq!(
            decisions(&p),
            [(
                "v",
                &Decision::Fetch {
                    copy: Some(CopyCheck::SizeChanged {
                        listed: 120,
                        recorded: 100
                    })
                }
            )]
        );
        assert_eq!(p.files[0].lost_copy(), None, "not a copy someone touched");
    }

    #[test]
    fn an_unfinished_file_resumes_under_the_name_it_was_given() {
        let m = meeting(&[("v", "MP4", "shared_screen", 100, "completed")]);
        let path = format!("{FOLDER}/earlier name.mp4");
        let rows = [row(
            "v",
            FileKind::Recording,
            &path,
            100,
            FileStatus::Partial,
        )];
        let p = plan(&m, &rows, &[], &Filters::default());
        assert_eq!(
            decisions(&p),
            [(
                "v",
                &Decision::Fetch {
                    copy: Some(CopyCheck::NotVerified(FileStatus::Partial))
                }
            )]
        );
        assert_eq!(p.files[0].rel_path, path);
    }

    #[test]
    fn a_file_still_processing_is_left_for_a_later_run_even_when_filtered() {
        let m = meeting(&[
            ("v", "MP4", "shared_screen", 100, "processing"),
            ("t", "TRANSCRIPT", "audio_transcript", 0, "processing"),
            ("e", "", "", 0, "completed"),
        ]);
        let filters = Filters {
            file_types: ["MP4".to_string()].into(),
            ..Filters::default()
        };
        let p = plan(&m, &[record_done()], &[], &filters);
        // An empty file type is Zoom still making the file.
        assert_eq!(
            decisions(&p),
            [
                ("v", &Decision::Processing),
                ("t", &Decision::Processing),
                ("e", &Decision::Processing)
            ]
        );
        assert_eq!(p.planned().count(), 0);
        assert!(p.paths().is_empty());
        assert!(!p.is_complete(), "a later run must look again");
    }

    #[test]
    fn filtered_files_are_neither_fetched_nor_counted() {
        let m = meeting(&[
            ("v", "MP4", "shared_screen", 100, "completed"),
            ("c", "CHAT", "chat_file", 5, "completed"),
        ]);
        let filters = Filters {
            file_types: ["MP4".to_string()].into(),
            ..Filters::default()
        };
        let p = plan(&m, &[], &[], &filters);
        assert_eq!(
            decisions(&p),
            [
                ("v", &Decision::Fetch { copy: None }),
                ("c", &Decision::Filtered)
            ]
        );
        assert_eq!(p.planned().count(), 1);
        assert_eq!(p.paths().keys().collect::<Vec<_>>(), ["v"]);

        // A meeting whose wanted files are done is complete even with others filtered out.
        let path = format!("{FOLDER}/shared_screen.mp4");
        let rows = [verified("v", &path, 100), record_done()];
        let p = plan(&m, &rows, &[(&path, 100)], &filters);
        assert!(p.is_complete());
    }

    #[test]
    fn twin_files_get_distinct_names_and_earlier_names_are_kept() {
        let m = meeting(&[
            ("v1", "MP4", "shared_screen", 100, "completed"),
            ("v2", "MP4", "shared_screen", 200, "completed"),
            ("v3", "MP4", "shared_screen", 300, "completed"),
        ]);
        let p = plan(&m, &[], &[], &Filters::default());
        let names: Vec<&str> = p.files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("{FOLDER}/shared_screen.mp4"),
                format!("{FOLDER}/shared_screen (2).mp4"),
                format!("{FOLDER}/shared_screen (3).mp4"),
            ]
        );

        // An earlier run gave v3 the plain name: it keeps it, the others go around it.
        let rows = [row(
            "v3",
            FileKind::Recording,
            &format!("{FOLDER}/shared_screen.mp4"),
            300,
            FileStatus::Partial,
        )];
        let p = plan(&m, &rows, &[], &Filters::default());
        let names: Vec<(&str, &str)> = p
            .files
            .iter()
            .map(|f| (f.file_id.as_str(), f.rel_path.as_str()))
            .collect();
        let (a, b, c) = (
            format!("{FOLDER}/shared_screen (2).mp4"),
            format!("{FOLDER}/shared_screen (3).mp4"),
            format!("{FOLDER}/shared_screen.mp4"),
        );
        assert_eq!(
            names,
            [("v1", a.as_str()), ("v2", b.as_str()), ("v3", c.as_str())]
        );
    }

    #[test]
    fn a_recording_never_takes_a_name_the_engine_writes() {
        // A file template that would name a recording like the meeting's own record.
        let m = meeting(&[("j", "JSON", "meeting", 7, "completed")]);
        let namer = Namer::new(Namer::DEFAULT_FOLDER, "{recording_type}.{ext}").unwrap();
        let p = plan_meeting(&MeetingInput {
            meeting: &m,
            host: "a@example.com",
            folder: FOLDER,
            rows: &[],
            local_sizes: &HashMap::new(),
            filters: &Filters::default(),
            namer: &namer,
        });
        assert_eq!(p.files[0].rel_path, format!("{FOLDER}/meeting (2).json"));
    }

    #[test]
    fn twin_meetings_get_distinct_folders_and_known_folders_stay() {
        let namer = Namer::new(Namer::DEFAULT_FOLDER, Namer::DEFAULT_FILE).unwrap();
        let a = meeting(&[]);
        let mut b = a.clone();
        b.uuid = "m2==".into();
        let mut c = a.clone();
        c.uuid = "m3==".into();
        // An earlier run named m3's folder after the template: it keeps it.
        let mut folders = Folders::new([("m3==".to_string(), FOLDER.to_string())]);
        assert_eq!(
            folders.folder_for(&a, "a@example.com", &namer),
            format!("{FOLDER} (2)")
        );
        assert_eq!(
            folders.folder_for(&b, "a@example.com", &namer),
            format!("{FOLDER} (3)")
        );
        assert_eq!(folders.folder_for(&c, "a@example.com", &namer), FOLDER);
        // Asked again, a meeting gets the same folder.
        assert_eq!(
            folders.folder_for(&a, "a@example.com", &namer),
            format!("{FOLDER} (2)")
        );
    }

    #[test]
    fn a_file_without_an_id_is_left_out() {
        let m = meeting(&[
            ("", "MP4", "shared_screen", 100, "completed"),
            ("v", "MP4", "shared_screen", 100, "completed"),
        ]);
        let p = plan(&m, &[], &[], &Filters::default());
        assert_eq!(decisions(&p), [("v", &Decision::Fetch { copy: None })]);
        assert_eq!(p.files[0].rel_path, format!("{FOLDER}/shared_screen.mp4"));
    }
}
