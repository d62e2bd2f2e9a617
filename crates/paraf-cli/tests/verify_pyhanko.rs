//! `paraf verify` agrees with pyHanko (`pyhanko sign validate`) on whether each signature is
//! intact, trusted, and how the document was modified after it — on files `paraf sign`
//! produces and on files pyHanko itself signs. Our responder (OCSP/CRL/TSA) runs on loopback,
//! and both validators fetch revocation live (`--online` for us).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use paraf_verify::{Indication, ModificationLevel, SignatureKind, ValidationReport};

/// One pyHanko status line, parsed.
#[derive(Debug)]
struct PyLine {
    field: String,
    cert_sha256: String,
    intact: bool,
    trusted: bool,
    /// `UNTOUCHED`, `LTA_UPDATES`, `FORM_FILLING`, `ANNOTATIONS`, or `ILLEGAL`.
    modification: String,
    raw: String,
}

fn parse_py(line: &str) -> PyLine {
    let mut parts = line.splitn(3, ':');
    let field = parts.next().unwrap_or_default().to_string();
    let cert_sha256 = parts.next().unwrap_or_default().to_string();
    let rest = parts.next().unwrap_or_default();
    let intact = rest.starts_with("INTACT:");
    let trusted = rest.starts_with("INTACT:TRUSTED");
    let modification = if rest.contains("ILLEGAL_MODIFICATIONS") {
        "ILLEGAL".to_string()
    } else if rest.contains("UNTOUCHED") {
        "UNTOUCHED".to_string()
    } else if let Some(p) = rest.find("EXTENDED_WITH_") {
        rest[p + "EXTENDED_WITH_".len()..]
            .split(',')
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        "?".to_string()
    };
    PyLine {
        field,
        cert_sha256,
        intact,
        trusted,
        modification,
        raw: line.to_string(),
    }
}

fn ours(pdf: &Path) -> (i32, ValidationReport) {
    let pki = pki();
    let out = paraf()
        .args(["verify", "--json", "--online", "--trust"])
        .arg(&pki.root_pem)
        .arg(pdf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report = ValidationReport::from_json(&text).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn level_name(l: ModificationLevel) -> &'static str {
    match l {
        ModificationLevel::None => "UNTOUCHED",
        ModificationLevel::LtaUpdates => "LTA_UPDATES",
        ModificationLevel::FormFilling => "FORM_FILLING",
        ModificationLevel::Annotations => "ANNOTATIONS",
        ModificationLevel::Other => "ILLEGAL",
    }
}

/// Compares both validators on `pdf`; returns our report.
fn agree(pdf: &Path, expect_sigs: usize) -> ValidationReport {
    let pki = pki();
    let py = pyhanko_validate(pdf, &pki.root_pem, None);
    let lines: Vec<PyLine> = py.lines.iter().map(|l| parse_py(l)).collect();
    let (code, report) = ours(pdf);
    let sigs: Vec<_> = report
        .signatures
        .iter()
        .filter(|s| s.kind == SignatureKind::Signature)
        .collect();
    assert_eq!(
        sigs.len(),
        expect_sigs,
        "{}:\n{}",
        pdf.display(),
        report.to_json_pretty()
    );
    assert_eq!(
        lines.len(),
        sigs.len(),
        "pyHanko:\n{}\nours:\n{}",
        py.stdout,
        report.to_json_pretty()
    );
    for l in &lines {
        let s = sigs
            .iter()
            .find(|s| s.field_name.as_deref() == Some(l.field.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "we do not report field {}: {}",
                    l.field,
                    report.to_json_pretty()
                )
            });
        let ctx = || {
            format!(
                "{}\npyHanko: {}\nours: {}",
                pdf.display(),
                l.raw,
                report.to_json_pretty()
            )
        };
        assert_eq!(
            s.signer.as_ref().map(|c| c.sha256.as_str()),
            Some(l.cert_sha256.as_str()),
            "{}",
            ctx()
        );
        assert_eq!(s.integrity.intact(), l.intact, "intact: {}", ctx());
        // pyHanko's TRUSTED: the chain reaches an anchor and nothing about it (validity,
        // revocation) failed, whatever the integrity or modification verdict.
        let trust_problem = s.problems.iter().any(|p| {
            use paraf_verify::SubIndication as S;
            matches!(
                p.sub_indication,
                S::NoCertificateChainFound
                    | S::ChainConstraintsFailure
                    | S::Revoked
                    | S::RevokedNoPoe
                    | S::RevokedCaNoPoe
                    | S::OutOfBoundsNoPoe
                    | S::OutOfBoundsNotRevoked
                    | S::NotYetValid
                    | S::TryLater
            )
        });
        let trusted = s.trust.trusted && !trust_problem;
        assert_eq!(trusted, l.trusted, "trusted: {}", ctx());
        assert_eq!(
            level_name(s.modifications.level),
            l.modification,
            "modification level: {}",
            ctx()
        );
    }
    let all_ok = lines
        .iter()
        .all(|l| l.trusted && l.modification != "ILLEGAL");
    assert_eq!(
        code == 0,
        all_ok && py.ok,
        "exit code {code}; pyHanko ok {}:\n{}",
        py.ok,
        py.stdout
    );
    report
}

#[test]
fn paraf_signed_files_every_level_rsa_and_p256() {
    let tmp = tempfile::tempdir().unwrap();
    for (_, level, out) in signed_at_every_level(tmp.path(), &["--reason", "Persetujuan"]) {
        let r = agree(&out, 1);
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{level}: {}",
            r.to_json_pretty()
        );
        let want = level.to_uppercase();
        assert_eq!(
            r.signatures[0].level.as_deref(),
            Some(want.as_str()),
            "{}",
            r.to_json_pretty()
        );
    }
}

#[test]
fn paraf_visible_sequential_and_certified() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(2));
    let visible = tmp.path().join("visible.pdf");
    sign_with_ca(
        &input,
        &visible,
        &pki.ec_p12,
        &[
            "--level",
            "b-t",
            "--page",
            "1",
            "--rect",
            "60,60,180,60",
            "--text",
            "Disetujui",
        ],
    );
    agree(&visible, 1);

    let mut current = input.clone();
    for (i, p12) in pki.signers.iter().enumerate() {
        let out = tmp.path().join(format!("seq{}.pdf", i + 1));
        let level = if i % 2 == 0 { "b-lt" } else { "b-b" };
        let rect = format!("{},{},{},{}", 40 + i * 105, 60, 100, 50);
        let mut args = vec!["--level", level];
        if i % 2 == 1 {
            args.extend(["--page", "2", "--rect", &rect]);
        }
        sign_with_ca(&current, &out, p12, &args);
        current = out;
    }
    let r = agree(&current, 5);
    assert_eq!(
        r.indication,
        Indication::TotalPassed,
        "{}",
        r.to_json_pretty()
    );

    let certified = tmp.path().join("certified.pdf");
    sign_with_ca(
        &input,
        &certified,
        &pki.rsa_p12,
        &["--certify", "2", "--level", "b-lt"],
    );
    agree(&certified, 1);
    let approved = tmp.path().join("approved.pdf");
    sign_with_ca(&certified, &approved, &pki.ec_p12, &["--level", "b-t"]);
    let r = agree(&approved, 2);
    assert_eq!(r.document.docmdp, Some(2));
}

/// Key, certificate and chain PEMs of a PKCS#12 identity, for pyHanko's `pemder`.
fn pem_identity(dir: &Path, p12: &Path) -> (PathBuf, PathBuf, PathBuf) {
    require_tool("openssl", "openssl");
    let stem = p12.file_stem().unwrap().to_string_lossy().to_string();
    let key = dir.join(format!("{stem}-key.pem"));
    let cert = dir.join(format!("{stem}-cert.pem"));
    let chain = dir.join(format!("{stem}-chain.pem"));
    let pass = format!("pass:{P12_PASSWORD}");
    for (out, sel) in [
        (&key, &["-nocerts", "-nodes"][..]),
        (&cert, &["-clcerts", "-nokeys"][..]),
        (&chain, &["-cacerts", "-nokeys"][..]),
    ] {
        run_ok(
            Command::new("openssl")
                .arg("pkcs12")
                .arg("-in")
                .arg(p12)
                .args(["-passin", &pass])
                .args(sel)
                .arg("-out")
                .arg(out),
        );
    }
    (key, cert, chain)
}

fn pyhanko_sign(input: &Path, output: &Path, p12: &Path, field: &str, extra: &[&str]) {
    let pki = pki();
    let dir = output.parent().unwrap();
    let (key, cert, chain) = pem_identity(dir, p12);
    let mut c = Command::new("pyhanko");
    c.args(["sign", "addsig", "--field", field, "--use-pades"]);
    c.args(extra);
    c.arg("--trust").arg(&pki.root_pem).arg("--trust-replace");
    c.args(["pemder", "--no-pass", "--key"])
        .arg(&key)
        .arg("--cert")
        .arg(&cert)
        .arg("--chain")
        .arg(&chain);
    c.arg(input).arg(output);
    run_ok(&mut c);
}

#[test]
fn pyhanko_signed_files_b_b_to_b_lta_and_sequential() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(1));
    let tsa = format!("{}/pki/tsa", pki.url);
    let cases: [(&str, Vec<&str>); 4] = [
        ("b-b", vec![]),
        ("b-t", vec!["--timestamp-url", &tsa]),
        (
            "b-lt",
            vec!["--timestamp-url", &tsa, "--with-validation-info"],
        ),
        (
            "b-lta",
            vec![
                "--timestamp-url",
                &tsa,
                "--with-validation-info",
                "--use-pades-lta",
            ],
        ),
    ];
    for (name, extra) in &cases {
        for (key, p12) in [("rsa", &pki.rsa_p12), ("p256", &pki.ec_p12)] {
            let out = tmp.path().join(format!("py-{key}-{name}.pdf"));
            pyhanko_sign(&input, &out, p12, "Sig1", extra);
            let r = agree(&out, 1);
            assert_eq!(
                r.indication,
                Indication::TotalPassed,
                "{name}: {}",
                r.to_json_pretty()
            );
        }
    }
    // Sequential: paraf, then pyHanko, then pyHanko again, then paraf.
    let one = tmp.path().join("mix1.pdf");
    sign_with_ca(&input, &one, &pki.signers[0], &["--level", "b-t"]);
    let two = tmp.path().join("mix2.pdf");
    pyhanko_sign(
        &one,
        &two,
        &pki.signers[1],
        "Sig2",
        &["--timestamp-url", &tsa],
    );
    let three = tmp.path().join("mix3.pdf");
    pyhanko_sign(
        &two,
        &three,
        &pki.signers[2],
        "Sig3",
        &["--timestamp-url", &tsa, "--with-validation-info"],
    );
    let four = tmp.path().join("mix4.pdf");
    sign_with_ca(&three, &four, &pki.signers[3], &["--level", "b-lta"]);
    let r = agree(&four, 4);
    assert_eq!(
        r.indication,
        Indication::TotalPassed,
        "{}",
        r.to_json_pretty()
    );
}

#[test]
fn tampered_file_both_say_modified() {
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(1));
    let signed = tmp.path().join("signed.pdf");
    sign_with_ca(&input, &signed, &pki.rsa_p12, &["--level", "b-t"]);
    // Append an update that replaces the page's content stream.
    let data = std::fs::read(&signed).unwrap();
    let doc = paraf_pdf::Document::load(data.clone(), None).unwrap();
    let page = doc.pages().unwrap().remove(0);
    let mut up = paraf_pdf::IncrementalUpdate::new(&doc);
    let c = up.alloc();
    up.put(
        c,
        paraf_pdf::Stream {
            dict: paraf_pdf::Dict::new(),
            data: b"BT /F1 14 Tf 72 770 Td (Harga naik) Tj ET".to_vec(),
        },
    );
    let mut pd = page.dict.clone();
    pd.set("Contents", paraf_pdf::Object::Ref(c));
    up.put(page.id, pd);
    let mut tampered = data;
    tampered.extend_from_slice(&up.finish().unwrap().bytes);
    let path = write(tmp.path(), "tampered.pdf", &tampered);
    let r = agree(&path, 1);
    assert_eq!(r.indication, Indication::TotalFailed);
}
