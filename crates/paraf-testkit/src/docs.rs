//! The repository's documentation pages, for the tests that run their examples as written.

/// The text of `docs/<name>`.
pub fn page(name: &str) -> String {
    let path = format!("{}/../../docs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The body of the first fenced block of `lang` after `marker`.
pub fn block<'a>(doc: &'a str, marker: &str, lang: &str) -> &'a str {
    let at = doc
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in the page"));
    let fence = format!("```{lang}\n");
    let start = doc[at..]
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block after {marker:?}"))
        + at
        + fence.len();
    let end = doc[start..]
        .find("```")
        .unwrap_or_else(|| panic!("the {lang} block after {marker:?} is not closed"))
        + start;
    &doc[start..end]
}
