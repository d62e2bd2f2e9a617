//! Helpers shared by the integration tests: temp dirs, a test CA, and running `openssl`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use paraf_pki::x509::cert_to_pem;
use paraf_pki::{CaInitOptions, CertificateAuthority, IssueRequest, KeyType};
use x509_cert::Certificate;

pub const PASSPHRASE: &[u8] = b"correct horse battery staple";

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs a command; returns (success, stdout + stderr).
pub fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e} (is it installed?)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub fn openssl(args: &[&str]) -> (bool, String) {
    run("openssl", args)
}

/// Runs openssl and fails the test with its output unless it succeeds.
pub fn openssl_ok(args: &[&str]) -> String {
    let (ok, text) = openssl(args);
    assert!(ok, "openssl {} failed:\n{text}", args.join(" "));
    text
}

/// `openssl cms -verify` of a detached `sig` over `content` with `root` as the trust anchor
/// (files written in `dir`): (verified, output).
pub fn openssl_cms_verify(
    dir: &std::path::Path,
    sig: &[u8],
    content: &[u8],
    root: &std::path::Path,
) -> (bool, String) {
    let sig_path = dir.join("sig.der");
    let data_path = dir.join("data.bin");
    std::fs::write(&sig_path, sig).unwrap();
    std::fs::write(&data_path, content).unwrap();
    openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        p(&sig_path),
        "-content",
        p(&data_path),
        "-CAfile",
        p(root),
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ])
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn write_pem(dir: &Path, name: &str, cert: &Certificate) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, cert_to_pem(cert).unwrap()).unwrap();
    path
}

pub fn new_ca(dir: &Path, key_type: KeyType) -> CertificateAuthority {
    CertificateAuthority::init(
        dir,
        CaInitOptions {
            key_type,
            public_url: "http://127.0.0.1:8080".into(),
            org_name: "Paraf Test".into(),
            passphrase: Some(PASSPHRASE.to_vec()),
        },
        SystemTime::now(),
    )
    .unwrap()
}

pub fn request(cn: &str, key_type: KeyType) -> IssueRequest {
    IssueRequest {
        common_name: cn.into(),
        email: Some("budi@example.id".into()),
        nik: Some("3201234567890123".into()),
        key_type,
        validity_days: 365,
        not_before: SystemTime::now() - std::time::Duration::from_secs(60),
    }
}
