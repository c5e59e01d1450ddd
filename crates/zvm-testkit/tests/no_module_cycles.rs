//! The architecture rule "no module imports a module that imports it", checked over every
//! crate of the workspace (and the fuzz crate's own sources are not a crate of it).

use std::path::Path;

use zvm_testkit::module_graph;

#[test]
fn no_crate_has_modules_that_import_each_other() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    let mut problems: Vec<String> = Vec::new();
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
    assert!(
        problems.is_empty(),
        "modules that import each other (directly or round a loop):\n  {}",
        problems.join("\n  ")
    );
}
