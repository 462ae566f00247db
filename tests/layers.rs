//! The layering rules of docs/ARCHITECTURE.md, checked on the source: each folder of `src/`
//! refers only to the folders it may (`crate::<folder>`), so the pure layers never reach the
//! code that reads the OS or signals, and no two folders import each other.

// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests; a failed
// read here is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

/// Each folder and what it may refer to besides itself.
const RULES: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("domain", &["model"]),
    ("app", &["model", "domain"]),
    ("ui", &["model", "domain", "app"]),
    ("collect", &["model"]),
    ("control", &["model", "collect", "domain"]),
    (
        "tui",
        &["model", "domain", "app", "ui", "collect", "control"],
    ),
    ("cli", &["model", "domain", "app", "ui"]),
    (
        "commands",
        &["model", "domain", "collect", "control", "cli"],
    ),
];

/// Every `crate::<folder>` a source file refers to outside comments, with its line number.
fn references(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, name));
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn each_folder_refers_only_to_the_folders_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (folder, allowed) in RULES {
        let mut paths = Vec::new();
        files(&src.join(folder), &mut paths);
        assert!(!paths.is_empty(), "src/{folder} has no source files");
        for path in paths {
            let text = fs::read_to_string(&path).unwrap();
            for (line, name) in references(&text) {
                if name != *folder && !allowed.contains(&name.as_str()) {
                    broken.push(format!("{}:{line} refers to crate::{name}", path.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_check_sees_a_reference_and_ignores_comments() {
    let found = references("use crate::collect::Collector; // crate::tui\n/// crate::ui\n");
    assert_eq!(found, [(1, "collect".to_string())]);
}
