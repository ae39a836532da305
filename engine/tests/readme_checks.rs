//! The README's table of checks is the catalog in the code, so the docs never drift.

use std::path::Path;

#[test]
fn readme_lists_every_check_of_the_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let begin = "<!-- checks:begin -->\n";
    let end = "<!-- checks:end -->";
    let (Some(start), Some(stop)) = (readme.find(begin), readme.find(end)) else {
        panic!("README.md lacks the checks markers");
    };
    let table = &readme[start + begin.len()..stop];
    let expected = cib_engine::checks::catalog_markdown();
    if table != expected {
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let updated = format!(
                "{}{expected}{}",
                &readme[..start + begin.len()],
                &readme[stop..]
            );
            std::fs::write(&path, updated).unwrap_or_else(|e| panic!("cannot write README: {e}"));
            return;
        }
        panic!(
            "README.md's check table is out of date; run UPDATE_GOLDEN=1 cargo test -p cib-engine --test readme_checks\n{expected}"
        );
    }
    assert!(cib_engine::checks::CATALOG.len() >= 27);
}
