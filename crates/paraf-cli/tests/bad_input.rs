//! Bad input to `paraf sign` exits non-zero with one clear line and never leaves an output file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::*;

/// Runs `paraf sign` expecting failure; returns stderr and checks the output file is absent.
fn sign_fails(input: &Path, p12: &Path, extra: &[&str]) -> String {
    let out_path = input.with_file_name("must-not-exist.pdf");
    let out = paraf()
        .arg("sign")
        .arg(input)
        .arg("-o")
        .arg(&out_path)
        .arg("--p12")
        .arg(p12)
        .args(["--password", P12_PASSWORD])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, got {:?}: {stderr}",
        out.status
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("paraf: error: "), "{stderr}");
    assert!(!out_path.exists(), "an output file was written");
    stderr
}

fn input(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    write(dir, name, data)
}

#[test]
fn unreadable_inputs_are_refused_with_one_line() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good = simple_pdf(2);

    let e = sign_fails(
        &input(d, "text.pdf", b"just some text, not a PDF"),
        &pki.rsa_p12,
        &[],
    );
    assert!(e.contains("not a PDF"), "{e}");

    let e = sign_fails(&input(d, "empty.pdf", b""), &pki.rsa_p12, &[]);
    assert!(e.contains("not a PDF"), "{e}");

    let e = sign_fails(
        &input(d, "cut.pdf", &good[..good.len() / 2]),
        &pki.rsa_p12,
        &[],
    );
    assert!(e.contains("damaged") || e.contains("truncated"), "{e}");

    let e = sign_fails(&d.join("missing.pdf"), &pki.rsa_p12, &[]);
    assert!(e.contains("cannot read"), "{e}");

    let ok = input(d, "ok.pdf", &good);
    let e = sign_fails(
        &ok,
        &pki.rsa_p12,
        &["--page", "3", "--rect", "10,10,100,50"],
    );
    assert!(
        e.contains("page 3 is out of range") && e.contains("2 page"),
        "{e}"
    );

    let e = sign_fails(
        &ok,
        &pki.rsa_p12,
        &["--page", "1", "--rect", "500,10,200,50"],
    );
    assert!(e.contains("does not fit"), "{e}");

    let e = sign_fails(&ok, &pki.rsa_p12, &["--tag", "#TTD#", "--size", "100,40"]);
    assert!(e.contains("not found"), "{e}");

    let e = sign_fails(
        &ok,
        &pki.rsa_p12,
        &["--tag", "$", "--size", "100,40", "--occurrence", "9"],
    );
    assert!(e.contains("occurs 2 time(s)"), "{e}");

    let img = input(
        d,
        "broken.png",
        b"\x89PNG\r\n\x1a\nthis is not really a png",
    );
    let e = sign_fails(
        &ok,
        &pki.rsa_p12,
        &[
            "--page",
            "1",
            "--rect",
            "10,10,100,50",
            "--image",
            img.to_str().unwrap(),
        ],
    );
    assert!(e.contains("image"), "{e}");

    let e = sign_fails(&ok, &pki.rsa_p12, &["--level", "b-x"]);
    assert!(e.contains("unknown level"), "{e}");

    let e = sign_fails(&ok, &pki.rsa_p12, &["--level", "b-t"]);
    assert!(e.contains("timestamp authority"), "{e}");

    let e = sign_fails(&ok, &pki.rsa_p12, &["--certify", "4"]);
    assert!(e.contains("1, 2 or 3"), "{e}");
}

#[test]
fn wrong_passwords_are_refused() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let plain = input(d, "plain.pdf", &simple_pdf(1));
    let enc = d.join("enc.pdf");
    run_ok(
        std::process::Command::new("qpdf")
            .args(["--encrypt", "user1", "owner1", "256", "--"])
            .arg(&plain)
            .arg(&enc),
    );

    let e = sign_fails(&enc, &pki.rsa_p12, &[]);
    assert!(e.contains("password"), "{e}");
    let e = sign_fails(&enc, &pki.rsa_p12, &["--pdf-password", "nope"]);
    assert!(e.contains("wrong password"), "{e}");

    // Wrong PKCS#12 password.
    let out_path = d.join("never.pdf");
    let out = paraf()
        .arg("sign")
        .arg(&plain)
        .arg("-o")
        .arg(&out_path)
        .arg("--p12")
        .arg(&pki.rsa_p12)
        .args(["--password", "salah"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("password"), "{stderr}");
    assert!(!out_path.exists());
}

#[test]
fn expired_not_yet_valid_and_revoked_certificates_are_refused() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let plain = input(d, "plain.pdf", &simple_pdf(1));
    let day = Duration::from_secs(86_400);
    let issue = |name: &str, not_before: SystemTime, days: u32| -> PathBuf {
        let ca = paraf_pki::CertificateAuthority::open(&pki.dir, None).unwrap();
        let (key, cert) = ca
            .issue(paraf_pki::IssueRequest {
                common_name: name.into(),
                email: None,
                nik: None,
                key_type: paraf_pki::KeyType::P256,
                validity_days: days,
                not_before,
            })
            .unwrap();
        let p12 =
            paraf_pki::pkcs12::build(&key, &cert, &ca.signer_chain(), P12_PASSWORD, name).unwrap();
        write(d, &format!("{name}.p12"), &p12)
    };
    let expired = issue("Kedaluwarsa", SystemTime::now() - 10 * day, 2);
    let e = sign_fails(&plain, &expired, &[]);
    assert!(e.contains("expired"), "{e}");

    let future = issue("Belum", SystemTime::now() + 10 * day, 30);
    let e = sign_fails(&plain, &future, &[]);
    assert!(e.contains("not valid before"), "{e}");

    // Revoked through the CLI, then refused when the CA (or its OCSP responder) is consulted.
    let p12 = d.join("revoked.p12");
    let out = run_ok(
        paraf()
            .args(["ca", "issue", "--dir"])
            .arg(&pki.dir)
            .args([
                "--cn",
                "Dicabut",
                "--key-type",
                "p256",
                "--password",
                P12_PASSWORD,
                "--out",
            ])
            .arg(&p12),
    );
    let serial = String::from_utf8_lossy(&out.stdout).trim().to_string();
    run_ok(
        paraf()
            .args(["ca", "revoke", "--dir"])
            .arg(&pki.dir)
            .args(["--serial", &serial]),
    );
    let e = sign_fails(&plain, &p12, &["--ca-dir", pki.dir.to_str().unwrap()]);
    assert!(e.contains("revoked"), "{e}");
    let e = sign_fails(
        &plain,
        &p12,
        &[
            "--level",
            "b-lt",
            "--tsa-url",
            &format!("{}/pki/tsa", pki.url),
        ],
    );
    assert!(e.contains("revoked"), "{e}");
}
