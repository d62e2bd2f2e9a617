//! The crate graph's rules (`ARCHITECTURE.md`), checked on `cargo metadata` and the sources:
//! the core speaks no HTTP and knows no face; the shared HTTP layer reaches the data only
//! through the core; a dialect crate reaches neither SQL (`paraf-store`, `sqlx`) nor another
//! dialect, and does not open the core's store or blob store either; the seed-001 (BSrE) paths
//! appear only in the BSrE crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The dialect crates (each seed's wire format lives in exactly one) and the web pages: faces
/// that reach the application through `paraf-core` and `paraf-http` only.
const DIALECTS: &[&str] = &[
    "paraf-bsre",
    "paraf-gesdocs",
    "paraf-alphasign",
    "paraf-signingtoday",
    "paraf-ext",
    "paraf-web",
];
/// The faces and the composition roots.
const FACES: &[&str] = &[
    "paraf-bsre",
    "paraf-gesdocs",
    "paraf-alphasign",
    "paraf-signingtoday",
    "paraf-ext",
    "paraf-web",
    "paraf-server",
    "paraf-cli",
];
const HTTP_CRATES: &[&str] = &["axum", "tower", "tower-http", "hyper", "paraf-http"];
const SQL_CRATES: &[&str] = &["paraf-store", "sqlx"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn metadata() -> Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The normal (not dev) dependencies of `package`.
fn deps(meta: &Value, package: &str) -> Vec<String> {
    let p = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("no package {package}"));
    p["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"].is_null())
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_core_speaks_no_http_and_knows_no_face() {
    let meta = metadata();
    let core = deps(&meta, "paraf-core");
    for bad in HTTP_CRATES.iter().chain(FACES) {
        assert!(
            !core.iter().any(|d| d == bad),
            "paraf-core depends on {bad}"
        );
    }
}

#[test]
fn the_http_layer_reaches_the_data_only_through_the_core() {
    let meta = metadata();
    let http = deps(&meta, "paraf-http");
    for bad in SQL_CRATES.iter().chain(FACES) {
        assert!(
            !http.iter().any(|d| d == bad),
            "paraf-http depends on {bad}"
        );
    }
    assert!(http.iter().any(|d| d == "paraf-core"));
}

#[test]
fn dialects_reach_neither_sql_nor_each_other() {
    let meta = metadata();
    for dialect in DIALECTS {
        let d = deps(&meta, dialect);
        for bad in SQL_CRATES.iter().chain(FACES) {
            assert!(!d.iter().any(|x| x == bad), "{dialect} depends on {bad}");
        }
        for other in DIALECTS.iter().filter(|o| *o != dialect) {
            assert!(
                !d.iter().any(|x| x == other),
                "{dialect} depends on {other}"
            );
        }
        // Nor through the core's handles: the store and blob store are the core's business.
        for file in rust_files(&workspace().join("crates").join(dialect).join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(
                    !code.contains(".store") && !code.contains(".blobs"),
                    "{}:{}: a dialect uses the store directly: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn seed_001_paths_live_only_in_the_bsre_crate() {
    let crates = workspace().join("crates");
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        if dir.ends_with("paraf-bsre") {
            continue;
        }
        for file in rust_files(&dir.join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for needle in ["/api/sign/", "/api/v2/"] {
                assert!(
                    !text.contains(needle),
                    "{} names the BSrE path {needle}",
                    file.display()
                );
            }
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}
