//! The architecture rule "no module imports a module that imports it", checked over every
//! crate of the workspace (and the fuzz crate's own sources are not a crate of it).

use std::path::Path;

use zvm_testkit::module_graph;

/// Loops that exist while issue #13's refactor is under way, each removed from this list in
/// the commit that breaks it. The list only shrinks; a loop not on it fails the test, and so
/// does an entry here that no longer matches a loop (so a fixed one cannot linger).
const KNOWN_LOOPS: &[&str] = &[
    "zvm-cli: commands -> moving -> commands",
    "zvm-gui: backend -> settings -> backend",
];

#[test]
fn no_crate_has_modules_that_import_each_other() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&crates)
        .expect("the crates/ folder")
        .map(|e| e.expect("a crates/ entry").path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        let graph = module_graph::ModuleGraph::read(&src)
            .unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
        checked += 1;
        for cycle in graph.cycles() {
            problems.push(format!(
                "{}: {}",
                dir.file_name().unwrap().to_string_lossy(),
                cycle.join(" -> ")
            ));
        }
    }
    assert!(
        checked >= 8,
        "only {checked} crates found under {}",
        crates.display()
    );
    let stale: Vec<_> = KNOWN_LOOPS
        .iter()
        .filter(|k| !problems.iter().any(|p| p == *k))
        .collect();
    assert!(
        stale.is_empty(),
        "loops listed as known are gone: take them off KNOWN_LOOPS: {stale:?}"
    );
    problems.retain(|p| !KNOWN_LOOPS.contains(&p.as_str()));
    assert!(
        problems.is_empty(),
        "modules that import each other (directly or round a loop):\n  {}",
        problems.join("\n  ")
    );
}
