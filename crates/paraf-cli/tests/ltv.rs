//! `paraf ltv`: renewing the archive timestamp of a signed PDF (B-LTA, ETSI EN 319 142-1 §5.5).
//! The renewed file keeps the earlier bytes as its prefix; pyHanko's AdES B-LTA validation
//! (offline: only the file's own validation data), pdfsig, qpdf and our validator accept it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use paraf_testkit::tools::assert_pyhanko_lta;
use paraf_verify::{Indication, SignatureKind, ValidationReport};

fn ltv(args: &[&str], files: &[&Path]) -> (bool, String) {
    let mut c = paraf();
    c.arg("ltv").args(args);
    for f in files {
        c.arg(f);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn refresh(input: &Path, output: &Path, extra: &[&str]) -> String {
    let pki = pki();
    let mut c = paraf();
    c.args(["ltv", "refresh"])
        .arg(input)
        .arg("-o")
        .arg(output)
        .arg("--ca-dir")
        .arg(&pki.dir)
        .args(extra);
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

fn report(pdf: &Path) -> ValidationReport {
    let out = paraf()
        .arg("verify")
        .arg(pdf)
        .arg("--trust")
        .arg(&pki().root_pem)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    ValidationReport::from_json(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn doc_timestamps(r: &ValidationReport) -> usize {
    r.signatures
        .iter()
        .filter(|s| s.kind == SignatureKind::DocumentTimestamp)
        .count()
}

#[test]
fn refresh_renews_the_archive_timestamp_and_every_validator_agrees() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(1));
    let lta = tmp.path().join("lta.pdf");
    sign_with_ca(&input, &lta, &pki.rsa_p12, &["--level", "b-lta"]);
    assert_pyhanko_lta(&lta, &pki.root_pem);

    let (ok, shown) = ltv(&["show"], &[&lta]);
    assert!(
        ok && shown.contains("archive timestamp valid until 20"),
        "{shown}"
    );

    // Years left: with --within 30 nothing is written.
    let untouched = tmp.path().join("untouched.pdf");
    let text = refresh(&lta, &untouched, &["--within", "30"]);
    assert!(text.contains("not renewed"), "{text}");
    assert!(!untouched.exists());

    // Renewed: the earlier file is the prefix, one more document timestamp, a DSS that now
    // also holds the first document timestamp's validation data.
    let renewed = tmp.path().join("renewed.pdf");
    let text = refresh(&lta, &renewed, &[]);
    assert!(text.contains("renewed ->"), "{text}");
    let before = std::fs::read(&lta).unwrap();
    let after = std::fs::read(&renewed).unwrap();
    assert!(after.starts_with(&before) && after.len() > before.len());
    let r = report(&renewed);
    assert_eq!(r.indication, Indication::TotalPassed, "{r:#?}");
    assert_eq!(doc_timestamps(&r), 2, "{r:#?}");
    assert_eq!(r.signatures[0].level.as_deref(), Some("B-LTA"));
    assert!(r
        .signatures
        .iter()
        .all(|s| s.indication == Indication::TotalPassed));
    let v = assert_pyhanko_valid(&renewed, &pki.root_pem, None);
    assert!(v.lines[0].contains("EXTENDED"), "{}", v.stdout);
    assert_pyhanko_lta(&renewed, &pki.root_pem);
    assert_pdfsig_valid(&renewed, &pki.nss_dir, None, 1);
    assert_qpdf_clean(&renewed, None);

    // Renewed again, in place: still all valid.
    refresh(&renewed, &renewed, &[]);
    let r = report(&renewed);
    assert_eq!(r.indication, Indication::TotalPassed, "{r:#?}");
    assert_eq!(doc_timestamps(&r), 3);
    assert_pyhanko_lta(&renewed, &pki.root_pem);
}

/// A B-T file has no archive timestamp yet: refreshing it makes it B-LTA.
#[test]
fn refresh_turns_a_b_t_file_into_b_lta() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(1));
    let bt = tmp.path().join("bt.pdf");
    sign_with_ca(&input, &bt, &pki.ec_p12, &["--level", "b-t"]);
    let (ok, shown) = ltv(&["show"], &[&bt]);
    assert!(ok && shown.contains("no document timestamp"), "{shown}");
    let out: PathBuf = tmp.path().join("lta.pdf");
    // --within does not hold back a file without any archive timestamp.
    refresh(&bt, &out, &["--within", "30"]);
    let r = report(&out);
    assert_eq!(r.indication, Indication::TotalPassed, "{r:#?}");
    assert_eq!(r.signatures[0].level.as_deref(), Some("B-LTA"));
    assert_pyhanko_lta(&out, &pki.root_pem);
}

#[test]
fn refresh_refuses_an_unsigned_file_and_writes_nothing() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(1));
    let out = tmp.path().join("out.pdf");
    let o = paraf()
        .args(["ltv", "refresh"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--ca-dir")
        .arg(&pki.dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("no signature or timestamp to preserve"),
        "{err}"
    );
    assert!(!out.exists());
}
