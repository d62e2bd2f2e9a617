//! `paraf verify --revocation soft|hard|off` on honest files from a CA whose certificates carry
//! no revocation pointers (no CRL distribution point, no OCSP address: common for company and
//! test CAs), made with OpenSSL: signed by pyHanko (as is, after qpdf, after Ghostscript) and
//! by poppler's pdfsig. By default (`soft`, as pyHanko and Adobe) each passes with a warning
//! that says revocation was not checked, as pyHanko calls it valid; `hard` makes each
//! INDETERMINATE / TRY_LATER; `off` passes without checking. A certificate that does name a
//! responder whose answer is missing stays INDETERMINATE under `soft`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use paraf_verify::{Indication, SubIndication, ValidationReport};

/// A root and a signer made by OpenSSL without CRL or OCSP pointers: (root.pem, key, cert).
fn bare_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    require_tool("openssl", "openssl");
    let p = |n: &str| dir.join(n);
    run_ok(
        Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            ])
            .args(["-subj", "/O=Contoh Tbk/CN=Contoh Internal Root"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .arg("-keyout")
            .arg(p("root.key"))
            .arg("-out")
            .arg(p("root.pem")),
    );
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-newkey", "rsa:2048", "-nodes"])
            .args(["-subj", "/O=Contoh Tbk/CN=Rina Wijaya"])
            .arg("-keyout")
            .arg(p("signer.key"))
            .arg("-out")
            .arg(p("signer.csr")),
    );
    std::fs::write(
        p("signer.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    run_ok(
        Command::new("openssl")
            .args([
                "x509",
                "-req",
                "-days",
                "825",
                "-sha256",
                "-set_serial",
                "4242",
            ])
            .arg("-in")
            .arg(p("signer.csr"))
            .arg("-CA")
            .arg(p("root.pem"))
            .arg("-CAkey")
            .arg(p("root.key"))
            .arg("-extfile")
            .arg(p("signer.ext"))
            .arg("-out")
            .arg(p("signer.pem")),
    );
    (p("root.pem"), p("signer.key"), p("signer.pem"))
}

/// pyHanko signs `input` (B-B, PAdES) with the bare CA's signer.
fn pyhanko_signs(input: &Path, output: &Path, root: &Path, key: &Path, cert: &Path) {
    run_ok(
        Command::new("pyhanko")
            .args(["sign", "addsig", "--field", "Sig1", "--use-pades"])
            .args(["pemder", "--no-pass", "--key"])
            .arg(key)
            .arg("--cert")
            .arg(cert)
            .arg("--chain")
            .arg(root)
            .arg(input)
            .arg(output),
    );
}

/// pdfsig signs `input` with the signer, imported into an NSS database with its root.
fn pdfsig_signs(dir: &Path, input: &Path, output: &Path, root: &Path, key: &Path, cert: &Path) {
    require_tool("pk12util", "libnss3-tools");
    let p12 = dir.join("signer.p12");
    run_ok(
        Command::new("openssl")
            .args([
                "pkcs12",
                "-export",
                "-passout",
                "pass:rahasia",
                "-name",
                "rina",
            ])
            .arg("-inkey")
            .arg(key)
            .arg("-in")
            .arg(cert)
            .arg("-certfile")
            .arg(root)
            .arg("-out")
            .arg(&p12),
    );
    let nss = dir.join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    run_ok(Command::new("certutil").args(["-N", "--empty-password", "-d", &db]));
    run_ok(
        Command::new("pk12util")
            .args(["-d", &db, "-W", "rahasia", "-i"])
            .arg(&p12),
    );
    run_ok(
        Command::new("pdfsig")
            .args(["-nssdir", &db, "-add-signature", "-nick", "rina"])
            .args(["-new-signature-field-name", "Sig1"])
            .arg(input)
            .arg(output),
    );
}

/// `paraf verify --json --trust ROOT [--revocation P] FILE`: (exit code, report).
fn verify(file: &Path, root: &Path, policy: Option<&str>) -> (i32, ValidationReport) {
    let mut c = paraf();
    c.args(["verify", "--json", "--trust"]).arg(root);
    if let Some(p) = policy {
        c.args(["--revocation", p]);
    }
    let out = c.arg(file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report = ValidationReport::from_json(&text).unwrap_or_else(|e| {
        panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn honest_files_from_a_ca_without_revocation_pointers_pass_unless_hard() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (root, key, cert) = bare_ca(dir);
    let input = write(dir, "in.pdf", &simple_pdf(2));
    let linearized = dir.join("qpdf.pdf");
    run_ok(
        Command::new("qpdf")
            .arg("--linearize")
            .arg(&input)
            .arg(&linearized),
    );
    let rewritten = dir.join("gs.pdf");
    run_ok(
        Command::new("gs")
            .args(["-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=pdfwrite"])
            .arg(format!("-sOutputFile={}", rewritten.display()))
            .arg(&input),
    );
    let mut honest = Vec::new();
    for (name, from) in [
        ("pyhanko", &input),
        ("pyhanko-qpdf", &linearized),
        ("pyhanko-gs", &rewritten),
    ] {
        let out = dir.join(format!("{name}.pdf"));
        pyhanko_signs(from, &out, &root, &key, &cert);
        // pyHanko itself calls it valid (nothing to check for revocation).
        assert_pyhanko_valid(&out, &root, None);
        honest.push(out);
    }
    let by_pdfsig = dir.join("pdfsig.pdf");
    pdfsig_signs(dir, &input, &by_pdfsig, &root, &key, &cert);
    honest.push(by_pdfsig);

    for file in &honest {
        let shown = file.display();
        // soft (the default): passes, saying revocation was not checked and why.
        let (code, r) = verify(file, &root, None);
        assert_eq!(code, 0, "{shown}: {}", r.to_json_pretty());
        assert_eq!(r.indication, Indication::TotalPassed);
        let s = &r.signatures[0];
        assert!(
            s.warnings.iter().any(|w| w.contains("was not checked")
                && w.contains("no CRL distribution point or OCSP responder")),
            "{shown}: {:?}",
            s.warnings
        );
        let check = &s.trust.revocation[0];
        assert_eq!(check.status, "not_checked");
        assert!(
            check.how.as_deref().unwrap_or("").contains("names no CRL"),
            "{check:?}"
        );
        let (code, same) = verify(file, &root, Some("soft"));
        assert_eq!((code, same.indication), (0, Indication::TotalPassed));

        // hard: the missing information makes it INDETERMINATE / TRY_LATER.
        let (code, r) = verify(file, &root, Some("hard"));
        assert_eq!(code, 1, "{shown}: {}", r.to_json_pretty());
        assert_eq!(r.indication, Indication::Indeterminate);
        assert!(
            r.signatures[0]
                .problems
                .iter()
                .any(|p| p.sub_indication == SubIndication::TryLater),
            "{}",
            r.to_json_pretty()
        );

        // off: not checked at all, and said so.
        let (code, r) = verify(file, &root, Some("off"));
        assert_eq!(code, 0, "{shown}: {}", r.to_json_pretty());
        let how = r.signatures[0].trust.revocation[0].how.clone();
        assert!(how.unwrap_or_default().contains("checking is off"));
    }

    // A misspelt policy is refused before anything is read.
    let out = paraf()
        .args(["verify", "--revocation", "lenient"])
        .arg(&honest[0])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("soft, hard or off"));
}

#[test]
fn a_certificate_naming_a_responder_is_not_excused_by_soft() {
    // The fixture CA's certificates name its OCSP responder and CRL: offline, with nothing
    // in a B-B signature, the status is unknown whatever the soft policy.
    let tmp = tempfile::tempdir().unwrap();
    let files = signed_at_every_level(tmp.path(), &[]);
    let (_, _, bb) = files.iter().find(|(_, l, _)| *l == "b-b").unwrap();
    let (code, r) = verify(bb, &pki().root_pem, None);
    assert_eq!(code, 1, "{}", r.to_json_pretty());
    assert_eq!(r.indication, Indication::Indeterminate);
    let s = &r.signatures[0];
    assert!(s
        .problems
        .iter()
        .any(|p| p.sub_indication == SubIndication::TryLater));
    assert!(
        s.trust.revocation[0]
            .how
            .as_deref()
            .unwrap_or("")
            .contains("live checking is off"),
        "{:?}",
        s.trust.revocation
    );
}
