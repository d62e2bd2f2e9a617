//! `docs/bsre.md` keeps up with the code: every BSrE error code has its row in the error table
//! (number, HTTP status, Indonesian and English message), and every documented route of the
//! dialect is named in the page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_server::bsre::error::{Code, Lang};

fn page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/bsre.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The cells of the error table's row for `number`, if any.
fn row(doc: &str, number: u16) -> Option<Vec<String>> {
    let start = format!("| {number} |");
    doc.lines().find(|l| l.starts_with(&start)).map(|l| {
        l.trim()
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect()
    })
}

#[test]
fn every_code_is_documented() {
    let doc = page();
    let mut missing = Vec::new();
    for c in Code::ALL {
        let n = c.number();
        let Some(cells) = row(&doc, n) else {
            missing.push(n);
            continue;
        };
        assert_eq!(cells.len(), 5, "row {n}: {cells:?}");
        assert_eq!(
            cells[1],
            c.status().as_u16().to_string(),
            "HTTP status of {n}"
        );
        assert_eq!(cells[2], format!("`{c:?}`"), "variant of {n}");
        assert_eq!(cells[3], c.template(Lang::Id), "Indonesian message of {n}");
        assert_eq!(cells[4], c.template(Lang::En), "English message of {n}");
    }
    assert!(
        missing.is_empty(),
        "docs/bsre.md has no row for {missing:?}"
    );
}

#[test]
fn every_route_is_in_the_page() {
    let doc = page();
    let paths = paraf_server::bsre::openapi::paths();
    for p in paths.as_object().unwrap().keys() {
        assert!(doc.contains(p.as_str()), "docs/bsre.md does not name {p}");
    }
}
