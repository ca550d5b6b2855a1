//! The documentation keeps up with the house: every source folder is on the tree in
//! docs/architecture.md, and README.md stays a short user guide.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every folder under `dir` (recursively), as paths relative to the repository root.
fn folders(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.push(
                path.strip_prefix(root())
                    .expect("under the root")
                    .to_path_buf(),
            );
            folders(&path, out);
        }
    }
}

#[test]
fn the_architecture_tree_names_every_source_folder() {
    let doc =
        std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let tree = doc
        .split("```text")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```text tree in docs/architecture.md");
    let mut missing = Vec::new();
    for base in ["src", "app/src", "server/src"] {
        let mut found = Vec::new();
        folders(&root().join(base), &mut found);
        for folder in found {
            let name = folder.file_name().unwrap().to_string_lossy().to_string();
            if !tree.contains(&format!("{name}/")) {
                missing.push(folder.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not on the tree in docs/architecture.md: {missing:?}"
    );
}

#[test]
fn the_readme_is_a_short_guide() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; the figures belong in docs/"
    );
    for doc in [
        "architecture",
        "recommendations",
        "benchmarks",
        "operations",
    ] {
        assert!(
            readme.contains(&format!("docs/{doc}.md")),
            "README.md links docs/{doc}.md"
        );
        assert!(
            root().join(format!("docs/{doc}.md")).exists(),
            "docs/{doc}.md exists"
        );
    }
}
