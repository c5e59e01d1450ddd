//! The search index brought up to date after each run into a folder (zvm-archive does the
//! work): `sync`, `move`, `demo` and `verify --repair` call it, `zvm search` reads it.

use std::path::Path;

use zvm_archive::SearchIndex;
use zvm_state::StateStore;

use crate::cli::GlobalArgs;
use crate::output;

/// The local folder of a destination, `None` for a remote one (`s3://...`).
pub(crate) fn local_folder(dest: &Path) -> Option<&Path> {
    (!zvm_dest_opendal::is_remote(&dest.to_string_lossy())).then_some(dest)
}

/// After a run into a local folder: the new transcripts, chats and summaries go into the
/// search index. A failure here is reported and does not change the run's exit code (the
/// copy is what the run is for; `zvm search --rebuild` rebuilds the index).
pub(crate) async fn index_after_run(
    global: &GlobalArgs,
    state_path: &Path,
    state: &dyn StateStore,
    dest: &Path,
) {
    let Some(root) = local_folder(dest) else {
        return;
    };
    let result = async {
        let mut index = SearchIndex::open(&SearchIndex::path_beside(state_path))?;
        index.update(state, root).await
    }
    .await;
    match result {
        Ok(r) if r.indexed > 0 && !global.quiet && !global.json => output::note(format_args!(
            "search index: {} new text files ({} lines); `zvm search WORDS` finds them",
            r.indexed, r.lines
        )),
        Ok(_) => {}
        Err(e) => output::note(format_args!(
            "warning: the search index was not updated: {e}"
        )),
    }
}
