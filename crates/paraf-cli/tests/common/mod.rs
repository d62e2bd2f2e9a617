//! Shared test fixtures: a built-in CA with its OCSP/CRL/TSA responder running on loopback,
//! test PDFs, and drivers for the outside validators (pyHanko, pdfsig, qpdf).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

pub fn paraf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paraf"))
}

/// `paraf sign INPUT -o OUTPUT --p12 P12 --password …` (add the rest).
pub fn sign_command(input: &Path, output: &Path, p12: &Path) -> Command {
    let mut c = paraf();
    c.arg("sign")
        .arg(input)
        .arg("-o")
        .arg(output)
        .arg("--p12")
        .arg(p12)
        .args(["--password", P12_PASSWORD]);
    c
}

/// `paraf sign INPUT -o OUTPUT --p12 P12` with the fixture CA as TSA and revocation source.
pub fn sign_with_ca(input: &Path, output: &Path, p12: &Path, extra: &[&str]) {
    let mut c = sign_command(input, output, p12);
    c.arg("--ca-dir").arg(&pki().dir).args(extra);
    run_ok(&mut c);
}

/// A one-page PDF signed with each fixture key (`rsa`, `ec`) at each PAdES level, with
/// `extra` arguments: `(key, level, file)`.
pub fn signed_at_every_level(
    dir: &Path,
    extra: &[&str],
) -> Vec<(&'static str, &'static str, PathBuf)> {
    let pki = pki();
    let input = write(dir, "in.pdf", &simple_pdf(1));
    let mut out = Vec::new();
    for (key, p12) in [("rsa", &pki.rsa_p12), ("ec", &pki.ec_p12)] {
        for level in ["b-b", "b-t", "b-lt", "b-lta"] {
            let file = dir.join(format!("{key}-{level}.pdf"));
            let mut args = vec!["--level", level];
            args.extend_from_slice(extra);
            sign_with_ca(&input, &file, p12, &args);
            out.push((key, level, file));
        }
    }
    out
}

#[allow(unused_imports)]
pub use paraf_testkit::tools::{
    assert_pyhanko_valid, assert_qpdf_clean, pdfsig, pyhanko_validate, require_tool, run_ok, write,
    PyHankoVerdict,
};

/// A CA directory with a responder for OCSP, CRL and TSA requests at its public URL.
pub struct Pki {
    pub dir: PathBuf,
    pub url: String,
    pub root_pem: PathBuf,
    pub rsa_p12: PathBuf,
    pub ec_p12: PathBuf,
    /// Five more identities for sequential signing.
    pub signers: Vec<PathBuf>,
    pub nss_dir: PathBuf,
    _tmp: tempfile::TempDir,
}

pub const P12_PASSWORD: &str = "rahasia";

static PKI: OnceLock<Pki> = OnceLock::new();

pub fn pki() -> &'static Pki {
    PKI.get_or_init(make_pki)
}

fn make_pki() -> Pki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    run_ok(paraf().args(["ca", "init", "--dir"]).arg(&dir).args([
        "--key-type",
        "p256",
        "--public-url",
        &url,
    ]));
    let issue = |cn: &str, kt: &str, file: &str, nik: Option<&str>| -> PathBuf {
        let out = tmp.path().join(file);
        let mut c = paraf();
        c.args(["ca", "issue", "--dir"])
            .arg(&dir)
            .args([
                "--cn",
                cn,
                "--key-type",
                kt,
                "--password",
                P12_PASSWORD,
                "--out",
            ])
            .arg(&out);
        if let Some(n) = nik {
            c.args(["--nik", n]);
        }
        run_ok(&mut c);
        out
    };
    let rsa_p12 = issue(
        "Budi Santoso",
        "rsa2048",
        "budi.p12",
        Some("3171012345678901"),
    );
    let ec_p12 = issue("Siti Rahayu", "p256", "siti.p12", None);
    let signers = ["Andi", "Bambang", "Citra", "Dewi", "Eko"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            issue(
                n,
                if i % 2 == 0 { "rsa2048" } else { "p256" },
                &format!("s{i}.p12"),
                None,
            )
        })
        .collect();
    let root_pem = dir.join("root.pem");
    let nss_dir = tmp.path().join("nss");
    std::fs::create_dir_all(&nss_dir).unwrap();
    require_tool("certutil", "libnss3-tools");
    run_ok(
        Command::new("certutil")
            .args(["-N", "--empty-password", "-d"])
            .arg(format!("sql:{}", nss_dir.display())),
    );
    run_ok(
        Command::new("certutil")
            .args(["-A", "-n", "paraf-root", "-t", "CT,C,C", "-i"])
            .arg(&root_pem)
            .arg("-d")
            .arg(format!("sql:{}", nss_dir.display())),
    );
    start_responder(listener, dir.clone());
    Pki {
        dir,
        url,
        root_pem,
        rsa_p12,
        ec_p12,
        signers,
        nss_dir,
        _tmp: tmp,
    }
}

/// Serves `/pki/ocsp`, `/pki/crl/{ca}.crl`, `/pki/ca/{ca}.pem` and `/pki/tsa` from the CA
/// directory, as the server will, so validators can check revocation for real.
fn start_responder(listener: TcpListener, dir: PathBuf) {
    let server = Arc::new(tiny_http::Server::from_listener(listener, None).unwrap());
    let ca = Arc::new(Mutex::new(
        paraf_pki::ca::CertificateAuthority::open(&dir, None).unwrap(),
    ));
    for _ in 0..4 {
        let server_ref = server.clone();
        let ca = ca.clone();
        let dir = dir.clone();
        std::thread::spawn(move || loop {
            let Ok(mut req) = server_ref.recv() else {
                return;
            };
            let now = SystemTime::now();
            let path = req.url().to_string();
            let mut body = Vec::new();
            let _ = std::io::Read::read_to_end(req.as_reader(), &mut body);
            // Reload so that revocations made by the CLI during the tests are seen.
            if let Ok(fresh) = paraf_pki::ca::CertificateAuthority::open(&dir, None) {
                *ca.lock().unwrap() = fresh;
            }
            let ca = ca.lock().unwrap();
            // RFC 6960 appendix A: POST with the DER body, or GET with it base64 in the path.
            let get_req = path.strip_prefix("/pki/ocsp/").and_then(|b64| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(percent_decode(b64))
                    .ok()
            });
            let (ctype, data): (&str, Vec<u8>) = if path == "/pki/ocsp" && !body.is_empty() {
                ("application/ocsp-response", ca.ocsp_respond(&body, now))
            } else if let Some(der) = get_req {
                ("application/ocsp-response", ca.ocsp_respond(&der, now))
            } else if path == "/pki/tsa" {
                ("application/timestamp-reply", ca.tsa().respond(&body, now))
            } else if let Some(name) = path
                .strip_prefix("/pki/crl/")
                .and_then(|p| p.strip_suffix(".crl"))
            {
                match name.parse() {
                    Ok(which) => ("application/pkix-crl", ca.crl(which, now).unwrap()),
                    Err(_) => ("text/plain", Vec::new()),
                }
            } else if let Some(name) = path
                .strip_prefix("/pki/ca/")
                .and_then(|p| p.strip_suffix(".pem"))
            {
                match name.parse() {
                    Ok(which) => (
                        "application/x-pem-file",
                        ca.certificate_pem(which).unwrap().into_bytes(),
                    ),
                    Err(_) => ("text/plain", Vec::new()),
                }
            } else {
                ("text/plain", Vec::new())
            };
            let status = if data.is_empty() { 404 } else { 200 };
            if std::env::var_os("PARAF_TEST_LOG").is_some() {
                eprintln!(
                    "responder: {} {path} ({} bytes in) -> {status}",
                    req.method(),
                    body.len()
                );
            }
            let resp = tiny_http::Response::from_data(data)
                .with_status_code(status)
                .with_header(tiny_http::Header::from_bytes("Content-Type", ctype).unwrap());
            let _ = req.respond(resp);
        });
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// `pages` pages of Helvetica text containing the tags `$` and `<@signature@>`.
pub fn simple_pdf(pages: usize) -> Vec<u8> {
    paraf_testkit::pdf::numbered_pages(
        pages,
        "BT /F1 12 Tf 72 700 Td (Tanda tangan: $) Tj ET\nBT /F1 12 Tf 300 200 Td (<@signature@>) Tj ET\n",
    )
}

/// Every non-timestamp signature valid according to pdfsig, the first one's certificate
/// trusted, and later ones trusted or showing pdfsig's own second-signature quirk (see
/// `pdfsig_second_signature_quirk_is_pdfsigs_own` in interop.rs).
pub fn assert_pdfsig_valid(pdf: &Path, nss: &Path, password: Option<&str>, expected_sigs: usize) {
    let text = pdfsig(pdf, nss, password);
    let valid = text.matches("Signature is Valid.").count();
    assert_eq!(valid, expected_sigs, "pdfsig on {}:\n{text}", pdf.display());
    let cert_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Certificate Validation:"))
        .collect();
    assert_eq!(
        cert_lines.len(),
        expected_sigs,
        "pdfsig on {}:\n{text}",
        pdf.display()
    );
    assert!(
        cert_lines[0].contains("Certificate is Trusted."),
        "pdfsig trust on {}:\n{text}",
        pdf.display()
    );
    for l in &cert_lines[1..] {
        assert!(
            l.contains("Certificate is Trusted.") || l.contains("Unknown issue with Certificate"),
            "pdfsig trust on {}:\n{text}",
            pdf.display()
        );
    }
}
