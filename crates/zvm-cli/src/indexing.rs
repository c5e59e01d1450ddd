//! The search index kept level with the copies (zvm-archive does the work): a run writes
//! through a state that indexes each transcript, chat and summary as it is verified
//! ([`indexing_state`]), then brings the index level with the state once it ends
//! ([`index_after_run`], which also catches what could not be indexed on the way). `sync`,
//! `move`, `demo` and `verify --repair` do both; `zvm search` reads the index. Local
//! folders and remote destinations alike: a remote file is read back from the service.

use std::path::Path;
use std::sync::Arc;

use zvm_app::run_context::RunContext;
use zvm_archive::{Copies, IndexingState, SearchIndex};
use zvm_dest::Destination;
use zvm_state::StateStore;

use crate::cli::GlobalArgs;
use crate::output;

/// The local folder of a destination, `None` for a remote one (`s3://...`).
pub(crate) fn local_folder(dest: &Path) -> Option<&Path> {
    (!zvm_dest_opendal::is_remote(&dest.to_string_lossy())).then_some(dest)
}

/// How the index reads the copies in `destination` (given as `dest`) and names them.
pub(crate) fn copies<'a>(dest: &Path, destination: &'a dyn Destination) -> Copies<'a> {
    match local_folder(dest) {
        Some(_) => Copies::folder(destination),
        None => Copies::remote(destination),
    }
}

/// The state a run into `dest` writes through: `run`'s, indexing each text file as it is
/// verified (also returned, for its counts). Without a usable index the run goes on with
/// the plain state (the update after the run says why).
pub(crate) fn indexing_state(
    run: &RunContext,
    dest: &Path,
) -> (Arc<dyn StateStore>, Option<Arc<IndexingState>>) {
    match SearchIndex::open(&SearchIndex::path_beside(&run.state_path)) {
        Ok(index) => {
            let live = Arc::new(IndexingState::new(
                run.state.clone(),
                run.destination.clone(),
                local_folder(dest).is_none(),
                index,
            ));
            (live.clone(), Some(live))
        }
        Err(_) => (run.state.clone(), None),
    }
}

/// After a run: what it copied goes into the search index, if it is not there yet. A
/// failure here is reported and does not change the run's exit code (the copy is what the
/// run is for; `zvm search --rebuild` rebuilds the index).
pub(crate) async fn index_after_run(
    global: &GlobalArgs,
    state_path: &Path,
    state: &dyn StateStore,
    dest: &Path,
    destination: &dyn Destination,
    live: Option<&IndexingState>,
) {
    let result = async {
        let mut index = SearchIndex::open(&SearchIndex::path_beside(state_path))?;
        index.update_from(state, copies(dest, destination)).await
    }
    .await;
    match result {
        Ok(r) => {
            let indexed = r.indexed + live.map_or(0, IndexingState::indexed);
            if indexed > 0 && !global.quiet && !global.json {
                output::note(format_args!(
                    "search index: {indexed} new text files; `zvm search WORDS` finds them"
                ));
            }
            if !r.unreadable.is_empty() && !global.quiet {
                output::note(format_args!(
                    "warning: {} copied text files could not be read back for the search index (e.g. {}): `zvm verify` says why",
                    r.unreadable.len(),
                    r.unreadable[0]
                ));
            }
        }
        Err(e) => output::note(format_args!(
            "warning: the search index was not updated: {e}"
        )),
    }
}
