//! `paraf verify` at the command line: exit codes (0 passed, 1 failed/indeterminate, 2 no
//! signature, 3 unreadable), one clear line for unreadable input, the readable summary and the
//! JSON report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;

use common::*;
use paraf_verify::{Indication, ValidationReport};

fn verify(pdf: &Path, extra: &[&str]) -> (i32, String, String) {
    let pki = pki();
    let out = paraf()
        .arg("verify")
        .arg(pdf)
        .arg("--trust")
        .arg(&pki.root_pem)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn signed(dir: &Path, level: &str) -> std::path::PathBuf {
    let pki = pki();
    let input = write(dir, "in.pdf", &simple_pdf(1));
    let out = dir.join(format!("signed-{level}.pdf"));
    sign_with_ca(
        &input,
        &out,
        &pki.rsa_p12,
        &["--level", level, "--reason", "Persetujuan"],
    );
    out
}

#[test]
fn passed_signature_exits_0_with_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = signed(tmp.path(), "b-lt");
    let (code, out, err) = verify(&pdf, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("signature 1 \"Signature1\": TOTAL_PASSED"),
        "{out}"
    );
    assert!(out.contains("result: TOTAL_PASSED"), "{out}");
    assert!(out.contains("reason: Persetujuan"), "{out}");
    assert!(out.contains("PAdES B-LT"), "{out}");
}

#[test]
fn json_report_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = signed(tmp.path(), "b-lta");
    let (code, out, err) = verify(&pdf, &["--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let r = ValidationReport::from_json(&out).unwrap();
    assert_eq!(r.indication, Indication::TotalPassed);
    assert_eq!(r.signatures.len(), 2, "signature and document timestamp");
    assert_eq!(r.signatures[0].level.as_deref(), Some("B-LTA"));
    assert_eq!(
        r.signatures[0].signature_format.as_deref(),
        Some("PKCS7-LTA")
    );
    assert!(r.document.sha256.is_some());
}

#[test]
fn untrusted_or_offline_is_1() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = signed(tmp.path(), "b-lt");
    // No --trust: nothing is trusted by default.
    let out = paraf().arg("verify").arg(&pdf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NO_CERTIFICATE_CHAIN_FOUND"));
    // B-B carries no revocation data: indeterminate offline, passed online.
    let bb = signed(tmp.path(), "b-b");
    let (code, out, _) = verify(&bb, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TRY_LATER"), "{out}");
    let (code, out, _) = verify(&bb, &["--online"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn tampered_is_1() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = signed(tmp.path(), "b-lt");
    let mut data = std::fs::read(&pdf).unwrap();
    // Flip one byte of the page text, inside the signed range.
    let at = data.windows(10).position(|w| w == b"Perjanjian").unwrap();
    data[at] = b'X';
    let bad = write(tmp.path(), "bad.pdf", &data);
    let (code, out, _) = verify(&bad, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TOTAL_FAILED / HASH_FAILURE"), "{out}");
}

#[test]
fn no_signature_is_2() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = write(tmp.path(), "plain.pdf", &simple_pdf(2));
    let (code, out, _) = verify(&pdf, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no signature"), "{out}");
}

#[test]
fn truncated_garbage_and_missing_files_are_3_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let pdf = signed(tmp.path(), "b-t");
    let data = std::fs::read(&pdf).unwrap();
    let cases = [
        (
            "truncated.pdf",
            data[..data.len() * 2 / 3].to_vec(),
            "truncated",
        ),
        (
            "garbage.pdf",
            b"\x00\x01garbage, not a PDF at all\n".repeat(50),
            "not a PDF",
        ),
        ("empty.pdf", Vec::new(), "not a PDF"),
    ];
    for (name, bytes, needle) in cases {
        let p = write(tmp.path(), name, &bytes);
        let (code, out, err) = verify(&p, &[]);
        assert_eq!(code, 3, "{name}: {out}{err}");
        assert!(out.is_empty(), "{name}: nothing on stdout: {out}");
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
        assert!(err.contains(needle), "{name}: {err}");
    }
    let (code, _, err) = verify(&tmp.path().join("missing.pdf"), &[]);
    assert_eq!(code, 3);
    assert!(err.contains("cannot read"), "{err}");
    // A bad trust anchor is unreadable input too.
    let not_cert = write(tmp.path(), "root.pem", b"not a certificate");
    let out = paraf()
        .arg("verify")
        .arg(&pdf)
        .arg("--trust")
        .arg(&not_cert)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}
