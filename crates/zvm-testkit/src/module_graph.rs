//! Which modules of a crate import which, read from the sources, and the loops among them.
//!
//! It is a reader for one rule, not a Rust parser: it follows paths that start with `crate::`,
//! `super::` or `self::` (every import across modules in this workspace is written that way),
//! including grouped imports (`use crate::{a::X, b::{c, d}}`), after removing comments so
//! that doc links and prose do not count. A bare relative path (`child::X` in a parent) is
//! not followed: that is a parent using its own child, which the child cannot name back
//! without `super::`, and that direction *is* followed.
//!
//! Modules are named by their file: `src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is
//! `a::b`. `src/lib.rs` and `src/main.rs` are the crate root, which only re-exports and wires,
//! so edges to and from it are left out. Files under `src/bin/` are crates of their own and
//! are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

/// The import edges between the modules of one crate.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    modules: BTreeSet<String>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleGraph {
    /// Reads every `.rs` file under `src` (a crate's `src/` folder).
    pub fn read(src: &Path) -> io::Result<ModuleGraph> {
        let mut files = Vec::new();
        collect(src, src, &mut files)?;
        Ok(ModuleGraph::from_sources(files))
    }

    /// Builds the graph from `(module path, source text)` pairs (module paths as `a::b`,
    /// the root as `""`).
    pub fn from_sources(files: Vec<(String, String)>) -> ModuleGraph {
        let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, text) in &files {
            if module.is_empty() {
                continue;
            }
            for path in referenced_paths(module, &strip_comments(text)) {
                let Some(target) = longest_module(&modules, &path) else {
                    continue;
                };
                if target.is_empty() || target == *module {
                    continue;
                }
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
        ModuleGraph { modules, edges }
    }

    /// The modules `module` imports.
    pub fn imports(&self, module: &str) -> impl Iterator<Item = &str> {
        self.edges
            .get(module)
            .into_iter()
            .flat_map(|s| s.iter().map(String::as_str))
    }

    /// Every loop: for each group of modules that reach each other, one closed path through
    /// some of them, starting and ending at the group's first module (`a -> b -> a`).
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for group in self.strongly_connected() {
            if group.len() < 2 {
                continue;
            }
            let start = group.iter().next().expect("non-empty").clone();
            if let Some(path) = self.path_back(&start, &group) {
                out.push(path);
            }
        }
        out
    }

    /// Groups of mutually reachable modules (Tarjan's algorithm; crates are small, so the
    /// recursion is shallow).
    fn strongly_connected(&self) -> Vec<BTreeSet<String>> {
        struct Walk<'g> {
            graph: &'g ModuleGraph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            groups: Vec<BTreeSet<String>>,
        }
        impl<'g> Walk<'g> {
            fn visit(&mut self, v: &'g str) {
                let i = self.index.len();
                self.index.insert(v, i);
                self.low.insert(v, i);
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in self.graph.imports(v) {
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let lw = self.low[w];
                        let lv = self.low.get_mut(v).expect("visited");
                        *lv = (*lv).min(lw);
                    } else if self.on_stack.contains(w) {
                        let iw = self.index[w];
                        let lv = self.low.get_mut(v).expect("visited");
                        *lv = (*lv).min(iw);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut group = BTreeSet::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        group.insert(w.to_string());
                        if w == v {
                            break;
                        }
                    }
                    self.groups.push(group);
                }
            }
        }
        let mut walk = Walk {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            groups: Vec::new(),
        };
        for m in &self.modules {
            if !walk.index.contains_key(m.as_str()) {
                walk.visit(m);
            }
        }
        walk.groups
    }

    /// A shortest path from `start` back to itself inside `group` (breadth first).
    fn path_back(&self, start: &str, group: &BTreeSet<String>) -> Option<Vec<String>> {
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            for w in self.imports(v) {
                if !group.contains(w) {
                    continue;
                }
                if w == start {
                    // Walk back from `v` to `start`, then read it forwards and close the loop.
                    let mut path = vec![v.to_string()];
                    let mut at = v;
                    while at != start {
                        at = came_from[at];
                        path.push(at.to_string());
                    }
                    path.reverse();
                    path.push(start.to_string());
                    return Some(path);
                }
                if !came_from.contains_key(w) {
                    came_from.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        None
    }
}

/// Files under `dir` as `(module path, text)`, skipping `src/bin/`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            if dir == root && path.file_name().is_some_and(|n| n == "bin") {
                continue;
            }
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under root");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let file = parts.pop().expect("a file name");
            let stem = file.trim_end_matches(".rs");
            if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
                parts.push(stem.to_string());
            }
            out.push((parts.join("::"), std::fs::read_to_string(&path)?));
        }
    }
    Ok(())
}

/// The text without `//` line comments (doc comments included) and `/* */` block comments.
/// String literals are kept as they are; a `//` inside one cuts the rest of that line, which
/// can only hide an import written after a URL on the same line.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path named with `crate::`, `super::` or `self::` in `text`, made absolute (segments
/// from the crate root) as seen from `module`.
fn referenced_paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let here: Vec<String> = module.split("::").map(str::to_string).collect();
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_word = i == 0 || !(is_ident_char(bytes[i - 1]) || bytes[i - 1] == '$');
        if starts_word && is_ident_char(c) {
            let word_end = (i..bytes.len())
                .find(|&j| !is_ident_char(bytes[j]))
                .unwrap_or(bytes.len());
            let word: String = bytes[i..word_end].iter().collect();
            let base: Option<Vec<String>> = match word.as_str() {
                "crate" => Some(Vec::new()),
                "self" => Some(here.clone()),
                "super" => Some(here[..here.len().saturating_sub(1)].to_vec()),
                _ => None,
            };
            if let Some(mut base) = base
                && text_at(&bytes, word_end, "::")
            {
                let mut j = word_end + 2;
                // `super::super::x` climbs again.
                while word == "super" && text_at(&bytes, j, "super::") {
                    base.pop();
                    j += "super::".len();
                }
                j = read_tree(&bytes, j, &base, &mut out);
                i = j.max(word_end);
                continue;
            }
            i = word_end;
            continue;
        }
        i += 1;
    }
    out
}

fn text_at(chars: &[char], at: usize, s: &str) -> bool {
    (at..).zip(s.chars()).all(|(k, c)| chars.get(k) == Some(&c))
}

fn skip_space(chars: &[char], mut at: usize) -> usize {
    while chars.get(at).is_some_and(|c| c.is_whitespace()) {
        at += 1;
    }
    at
}

/// Reads a path (with nested `{...}` groups) at `at`, appending each full path to `out`
/// with `prefix` in front; returns where it ended.
fn read_tree(chars: &[char], at: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    let mut at = skip_space(chars, at);
    loop {
        if chars.get(at) == Some(&'{') {
            at += 1;
            loop {
                at = skip_space(chars, at);
                match chars.get(at) {
                    None => return at,
                    Some('}') => return at + 1,
                    Some(',') => at += 1,
                    Some(_) => {
                        let before = at;
                        at = read_tree(chars, at, &path, out);
                        if at == before {
                            at += 1;
                        }
                    }
                }
            }
        }
        let end = (at..chars.len())
            .find(|&j| !is_ident_char(chars[j]))
            .unwrap_or(chars.len());
        if end == at {
            // `*` or something unexpected: the path so far is what is named.
            if path.len() > prefix.len() || chars.get(at) == Some(&'*') {
                out.push(path);
            }
            return at + usize::from(chars.get(at) == Some(&'*'));
        }
        let seg: String = chars[at..end].iter().collect();
        if seg != "self" {
            path.push(seg);
        }
        at = end;
        if text_at(chars, at, "::") {
            at += 2;
            continue;
        }
        out.push(path);
        return at;
    }
}

/// The longest prefix of `path` that names a module (the root, `""`, when none does).
fn longest_module(modules: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (0..=path.len()).rev().find_map(|n| {
        let name = path[..n].join("::");
        modules.contains(&name).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> ModuleGraph {
        ModuleGraph::from_sources(
            files
                .iter()
                .map(|(m, t)| (m.to_string(), t.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_direct_pair_is_a_cycle_and_a_chain_is_not() {
        let g = graph(&[
            ("", "mod a; mod b; mod c;"),
            ("a", "use crate::b::Thing;"),
            ("b", "fn f() { crate::a::g() }"),
            ("c", "use crate::a;"),
        ]);
        assert_eq!(g.cycles(), vec![vec!["a", "b", "a"]]);
        let chain = graph(&[
            ("", ""),
            ("a", "use crate::b::X;"),
            ("b", "use crate::c::Y;"),
            ("c", ""),
        ]);
        assert!(chain.cycles().is_empty());
    }

    #[test]
    fn a_loop_of_three_is_reported_in_order() {
        let g = graph(&[
            ("", ""),
            ("a", "use crate::b::X;"),
            ("b", "use crate::c::Y;"),
            ("c", "use crate::a::Z;"),
        ]);
        assert_eq!(g.cycles(), vec![vec!["a", "b", "c", "a"]]);
    }

    #[test]
    fn grouped_super_and_self_paths_are_followed() {
        let g = graph(&[
            ("", ""),
            ("net", ""),
            ("net::http", "use super::tls::Conn;"),
            ("net::tls", "use crate::{util, net::{http::{self, Req}}};"),
            ("util", "use self::inner; use super::super::x;"),
        ]);
        assert_eq!(
            g.imports("net::tls").collect::<Vec<_>>(),
            vec!["net::http", "util"]
        );
        assert_eq!(g.cycles(), vec![vec!["net::http", "net::tls", "net::http"]]);
    }

    #[test]
    fn comments_macros_and_the_root_do_not_count() {
        let g = graph(&[
            ("", "pub use a::X; pub use b::Y;"),
            (
                "a",
                "//! See [`crate::b::Y`].\n/* crate::b */ pub(crate) fn f() { $crate::b::y() }\nuse crate::Engine;",
            ),
            ("b", "use crate::a::X;"),
        ]);
        assert!(g.imports("a").next().is_none(), "{:?}", g.edges);
        assert!(g.cycles().is_empty());
    }
}
