//! The public attack corpus (`$PARAF_CORPUS/pdf-attacks/MANIFEST.tsv`, outside the repo):
//! tests that use it say so and pass when it is not there (the repo stands alone).

use std::path::PathBuf;

/// One line of the manifest.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file's name in `pdf-attacks/`.
    pub file: String,
    /// The expected verdict (`tampered`, `intact`, `report`).
    pub expect: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// Every case of the manifest, or `None` (after saying so) when `PARAF_CORPUS` is not set.
pub fn attack_cases(what: &str) -> Option<Vec<Case>> {
    let Some(root) = std::env::var_os("PARAF_CORPUS") else {
        println!("PARAF_CORPUS is not set: skipped {what}");
        return None;
    };
    let dir = PathBuf::from(root).join("pdf-attacks");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let cases = manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (file, expect) = (cols.first()?, cols.get(1)?);
            let data = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            Some(Case {
                file: file.to_string(),
                expect: expect.to_string(),
                data,
            })
        })
        .collect();
    Some(cases)
}

/// Fails with every disagreement when there is any (and when the manifest listed nothing).
pub fn assert_agreement(counted: usize, failures: &[String]) {
    assert!(counted > 0, "the manifest lists no file");
    assert!(
        failures.is_empty(),
        "{} of {counted} corpus files disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
