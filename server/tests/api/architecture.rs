//! The README's architecture section against the tree: every module of every crate has its
//! line in its crate's table, and every line names a module that exists. A module added,
//! renamed or removed without its line fails here.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// The crates' headings in the section and their source folders, from the workspace root.
const CRATES: [(&str, &str); 4] = [
    ("**`server/identity/`**", "server/identity/src"),
    ("**`server/`**", "server/src"),
    ("**`app/`**", "app/src"),
    ("**`server/card/`**", "server/card/src"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate is inside the workspace")
        .to_owned()
}

/// `a/b.rs` → `a::b`, `a/mod.rs` → `a`; crate roots and test-only files are no modules of
/// their own.
fn modules(src: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut folders = vec![src.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read the source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let relative = path.strip_prefix(src).expect("inside src");
            let Some(stem) = relative.to_str().and_then(|p| p.strip_suffix(".rs")) else {
                continue;
            };
            if matches!(stem, "lib" | "main") || stem.ends_with("tests") {
                continue;
            }
            let name = stem.strip_suffix("/mod").unwrap_or(stem).replace('/', "::");
            found.insert(name);
        }
    }
    found
}

/// The first cells (`| \`name\` |`) of the table that follows `heading` in the section.
fn table_rows(section: &str, heading: &str) -> BTreeSet<String> {
    let start = section
        .find(heading)
        .unwrap_or_else(|| panic!("the architecture section has no {heading}"));
    section[start..]
        .lines()
        .skip(1)
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cell = line.split('|').nth(1)?.trim();
            Some(cell.strip_prefix('`')?.strip_suffix('`')?.to_owned())
        })
        .collect()
}

#[test]
fn the_readme_names_every_module_once_in_its_crates_table() {
    let root = workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Architecture\n")
        .expect("an Architecture section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    for (heading, src) in CRATES {
        let modules = modules(&root.join(src));
        let rows = table_rows(section, heading);
        assert!(!modules.is_empty(), "{src} has no modules");
        let missing: Vec<_> = modules.difference(&rows).collect();
        let stale: Vec<_> = rows.difference(&modules).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "{heading}: modules without a line: {missing:?}; lines without a module: {stale:?}"
        );
    }
}
