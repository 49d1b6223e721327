//! The shape of the source tree, checked as the code is: no import cycles between the files of
//! a crate, the plugin runtime knows nothing of HTTP, the UI or OpenAPI, the host's ground
//! floor imports nothing above it, and no source file grows past 600 lines.
//!
//! The import graph is drawn the way `rustc` resolves paths: every `crate::…` and `super::…`
//! path (including `use …::{a, b}` groups) is an edge from its file to the file of the longest
//! module prefix it names; a child naming its own ancestor is not an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

type Module = Vec<String>;

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        return vec![];
    }
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |i| &r[i..]);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |i| &r[i + 2..]);
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(s.len(), |(i, _)| i)
}

/// Every `(kind, segments)` path of a file, with `use …::{a, b::c}` groups expanded to their
/// first segment.
fn paths(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for kind in ["crate", "super"] {
        let pat = format!("{kind}::");
        let mut from = 0;
        while let Some(i) = text[from..].find(&pat) {
            let at = from + i;
            from = at + pat.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut segs = Vec::new();
            let mut rest = &text[at + pat.len()..];
            loop {
                let n = ident_len(rest);
                if n > 0 {
                    segs.push(rest[..n].to_string());
                    rest = &rest[n..];
                    match rest.strip_prefix("::") {
                        Some(r) => rest = r,
                        None => break,
                    }
                } else if let Some(r) = rest.strip_prefix('{') {
                    let group = &r[..r.find('}').unwrap_or(r.len())];
                    for item in group.split(',') {
                        let item = item.trim();
                        let first = &item[..ident_len(item)];
                        if !first.is_empty() && first != "self" {
                            let mut s = segs.clone();
                            s.push(first.to_string());
                            out.push((kind.to_string(), s));
                        }
                    }
                    break;
                } else {
                    break;
                }
            }
            out.push((kind.to_string(), segs));
        }
    }
    out
}

/// File → files it imports from, with the names that tie them.
fn import_graph(src: &Path) -> BTreeMap<PathBuf, BTreeMap<PathBuf, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mods: BTreeMap<Module, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut edges: BTreeMap<PathBuf, BTreeMap<PathBuf, BTreeSet<String>>> = BTreeMap::new();
    for (module, file) in &mods {
        let text = strip_comments(&std::fs::read_to_string(file).unwrap());
        for (kind, mut segs) in paths(&text) {
            let mut base: Module = if kind == "crate" {
                vec![]
            } else {
                module[..module.len().saturating_sub(1)].to_vec()
            };
            while segs.first().is_some_and(|s| s == "super") {
                base.pop();
                segs.remove(0);
            }
            for n in (0..=segs.len()).rev() {
                let mut cand = base.clone();
                cand.extend(segs[..n].iter().cloned());
                if let Some(target) = mods.get(&cand) {
                    let ancestor = module.len() >= cand.len() && module[..cand.len()] == cand[..];
                    if target != file && !ancestor {
                        let name = segs.get(n).cloned().unwrap_or_default();
                        edges
                            .entry(file.clone())
                            .or_default()
                            .entry(target.clone())
                            .or_default()
                            .insert(name);
                    }
                    break;
                }
            }
        }
    }
    edges
}

/// Files that reach themselves through imports.
fn cycles(edges: &BTreeMap<PathBuf, BTreeMap<PathBuf, BTreeSet<String>>>) -> Vec<String> {
    let reach = |from: &PathBuf| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(f) = todo.pop() {
            for t in edges.get(&f).into_iter().flat_map(|m| m.keys()) {
                if seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let mut out = Vec::new();
    for (file, targets) in edges {
        for (target, names) in targets {
            if reach(target).contains(file) {
                out.push(format!(
                    "{} -> {} ({})",
                    file.display(),
                    target.display(),
                    names.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    out
}

const CRATES: [&str; 5] = ["core", "host", "host/runtime", "plugin-sdk", "bench"];

#[test]
fn no_crate_has_an_import_cycle() {
    let mut found = Vec::new();
    for krate in CRATES.iter().map(|c| c.to_string()).chain(plugin_crates()) {
        found.extend(cycles(&import_graph(&root().join(&krate).join("src"))));
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

fn plugin_crates() -> Vec<String> {
    let mut out = Vec::new();
    for group in ["plugins", "plugins/testing"] {
        for e in std::fs::read_dir(root().join(group)).unwrap().flatten() {
            if e.path().join("src").is_dir() {
                out.push(format!("{group}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    out
}

#[test]
fn the_plugin_runtime_knows_nothing_of_http_the_ui_or_openapi() {
    let manifest = std::fs::read_to_string(root().join("host/runtime/Cargo.toml")).unwrap();
    for dep in ["axum", "utoipa", "minijinja", "tower", "hyper"] {
        assert!(
            !manifest.lines().any(|l| l.trim_start().starts_with(dep)),
            "host/runtime depends on {dep}"
        );
    }
    let mut files = Vec::new();
    rust_files(&root().join("host/runtime/src"), &mut files);
    for f in files {
        let text = strip_comments(&std::fs::read_to_string(&f).unwrap());
        for word in ["axum", "utoipa", "minijinja", "http::StatusCode"] {
            assert!(!text.contains(word), "{} mentions {word}", f.display());
        }
    }
    let core = std::fs::read_to_string(root().join("core/Cargo.toml")).unwrap();
    for dep in [
        "axum",
        "utoipa",
        "wasmtime",
        "minijinja",
        "qingguan-runtime",
    ] {
        assert!(!core.contains(dep), "core depends on {dep}");
    }
}

#[test]
fn the_ground_floor_of_the_host_imports_nothing_above_it() {
    let src = root().join("host/src");
    let edges = import_graph(&src);
    for floor in ["state.rs", "caller.rs", "error.rs"] {
        // Everything the ground floor reaches, directly or not, stays below the API and the UI.
        let mut seen = BTreeSet::new();
        let mut todo = vec![src.join(floor)];
        while let Some(f) = todo.pop() {
            for target in edges.get(&f).into_iter().flat_map(|m| m.keys()) {
                if seen.insert(target.clone()) {
                    todo.push(target.clone());
                }
            }
        }
        for target in seen {
            let rel = target.strip_prefix(&src).unwrap();
            assert!(
                !rel.starts_with("api") && !rel.starts_with("ui") && rel != Path::new("app.rs"),
                "{floor} reaches {}",
                rel.display()
            );
        }
    }
}

#[test]
fn no_source_file_is_past_600_lines() {
    let mut long = Vec::new();
    for krate in CRATES.iter().map(|c| c.to_string()).chain(plugin_crates()) {
        let mut files = Vec::new();
        rust_files(&root().join(&krate).join("src"), &mut files);
        for f in files {
            let name = f
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if name.ends_with("/tests.rs") || name.contains("/tests/") {
                continue;
            }
            let n = std::fs::read_to_string(&f).unwrap().lines().count();
            if n > 600 {
                long.push(format!("{name}: {n} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files past 600 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_graph_reader_sees_cycles_and_groups() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("ui")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a; mod ui;").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::ui::{page::render, x};").unwrap();
    std::fs::write(src.join("ui/mod.rs"), "mod page; pub use page::render;").unwrap();
    std::fs::write(
        src.join("ui/page.rs"),
        "// crate::nothing\nfn f() { super::super::a::g() }",
    )
    .unwrap();
    let edges = import_graph(src);
    assert!(edges[&src.join("a.rs")].contains_key(&src.join("ui/page.rs")));
    assert!(edges[&src.join("a.rs")].contains_key(&src.join("ui/mod.rs")));
    assert_eq!(cycles(&edges).len(), 2, "{edges:?}");
    std::fs::write(src.join("ui/page.rs"), "fn f() { super::helper() }").unwrap();
    assert!(cycles(&import_graph(src)).is_empty());
}
