//! B-T and B-LT against a foreign TSA: certomancer (the PKI testing tool of pyHanko's author)
//! animates a PKI of its own on loopback — root, intermediate, a TSA with the timeStamping
//! EKU, an OCSP responder and CRL repositories (`tests/certomancer/certomancer.yml`). We sign
//! with our own CA's identity, timestamp with `--tsa-url` at certomancer, and check the result
//! with pyHanko (strict, trusting both roots), qpdf, and by reading the DSS ourselves; for
//! B-LT also with certomancer stopped (`pyhanko sign adesverify`), so that only the DSS can
//! vouch for the foreign timestamp. certomancer serves two TSAs with the same certificate:
//! `tsa` puts its issuing CA into its tokens, `tsa-bare` only its own certificate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/mod.rs"]
mod common;

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_qpdf_clean, paraf, pki, require_tool, run_ok, simple_pdf, write, P12_PASSWORD,
};
use paraf_pki::asn1::der::Decode;
use paraf_pki::asn1::x509_cert::crl::CertificateList;
use paraf_pki::asn1::x509_cert::Certificate;

const ARCH: &str = "foreign";
const TSA_CN: &str = "Certomancer Foreign TSA";
const INTERM_CN: &str = "Certomancer Foreign Intermediate CA";
const ROOT_CN: &str = "Certomancer Foreign Root CA";

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/certomancer/certomancer.yml")
}

/// A running `certomancer animate`; killed when dropped.
struct Certomancer {
    child: Child,
    url: String,
    root_pem: PathBuf,
    log: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Drop for Certomancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Certomancer {
    /// `http://127.0.0.1:PORT/foreign/tsa/<label>`.
    fn tsa_url(&self, label: &str) -> String {
        format!("{}/{ARCH}/tsa/{label}", self.url)
    }

    /// What the animator logged so far (one line per request).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn start() -> Certomancer {
        let version = Command::new("certomancer").arg("--version").output();
        match version {
            Ok(o) if o.status.success() => {}
            other => panic!(
                "certomancer is not installed or does not run ({other:?}): \
                 run scripts/install-test-deps.sh (pip install 'certomancer[web-api]')"
            ),
        }
        require_tool("openssl", "openssl");
        let tmp = tempfile::tempdir().unwrap();
        let keys = tmp.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        // certomancer reads keys from files; make fresh ones (RSA and P-256 mixed).
        for (name, alg) in [
            ("root", "rsa"),
            ("interm", "ec"),
            ("interm-ocsp", "ec"),
            ("tsa", "rsa"),
        ] {
            let mut c = Command::new("openssl");
            c.arg("genpkey");
            match alg {
                "rsa" => c.args(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                _ => c.args(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
            };
            run_ok(c.arg("-out").arg(keys.join(format!("{name}.key.pem"))));
        }
        // A free port: bind, note it, release it for certomancer.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let base = |c: &mut Command| {
            c.arg("--config")
                .arg(config())
                .arg("--key-root")
                .arg(&keys)
                .args(["--service-url-prefix", &url]);
        };
        let root_pem = tmp.path().join("foreign-root.pem");
        let mut summon = Command::new("certomancer");
        base(&mut summon);
        run_ok(summon.args(["summon", ARCH, "root"]).arg(&root_pem));

        let log = tmp.path().join("animate.log");
        let log_file = File::create(&log).unwrap();
        let mut animate = Command::new("certomancer");
        base(&mut animate);
        animate
            .args(["animate", "--port", &port.to_string(), "--no-web-ui"])
            .current_dir(tmp.path())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        let child = animate
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {animate:?}: {e}"));
        let mut c = Certomancer {
            child,
            url,
            root_pem,
            log,
            _tmp: tmp,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = ([127, 0, 0, 1], port).into();
        loop {
            if let Some(status) = c.child.try_wait().unwrap() {
                panic!(
                    "certomancer animate exited ({status}) before answering on port {port}:\n{}",
                    c.log()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "certomancer animate did not answer on port {port} within 20 s:\n{}",
                c.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }
}

fn sign(input: &Path, output: &Path, p12: &Path, level: &str, tsa_url: &str) {
    run_ok(
        paraf()
            .arg("sign")
            .arg(input)
            .arg("-o")
            .arg(output)
            .arg("--p12")
            .arg(p12)
            .args([
                "--password",
                P12_PASSWORD,
                "--level",
                level,
                "--tsa-url",
                tsa_url,
                "--reason",
                "Persetujuan",
            ]),
    );
}

/// `pyhanko sign validate --trust-replace --trust ROOT…`: (exit ok, the signature line, full output).
fn pyhanko(pdf: &Path, roots: &[&Path], extra: &[&str]) -> (bool, String, String) {
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    let mut c = Command::new("pyhanko");
    c.args(["sign", "validate", "--trust-replace"]);
    for r in roots {
        c.arg("--trust").arg(r);
    }
    let out = c.args(extra).arg(pdf).output().expect("run pyhanko");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let text = format!(
        "{c:?}\nexit {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("INTACT") || l.contains("INVALID") || l.contains("TAMPERED"))
        .collect();
    assert_eq!(lines.len(), 1, "one signature expected:\n{text}");
    (out.status.success(), lines[0].to_string(), text)
}

/// Strict pyHanko trusting our root and certomancer's: signature and timestamp both trusted.
fn assert_valid_with_both_roots(pdf: &Path, foreign_root: &Path, extra: &[&str]) {
    let ours = &pki().root_pem;
    let (ok, line, text) = pyhanko(pdf, &[ours, foreign_root], extra);
    assert!(ok, "pyHanko rejected {}:\n{text}", pdf.display());
    assert!(line.contains("INTACT:TRUSTED"), "{line}\n{text}");
    assert!(
        line.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "{line}\n{text}"
    );
    assert!(!line.contains("ILLEGAL"), "{line}\n{text}");
}

/// The timestamp really is certomancer's: trusting only our root, pyHanko must not trust it.
fn assert_timestamp_is_foreign(pdf: &Path) {
    let (_, line, text) = pyhanko(pdf, &[&pki().root_pem], &[]);
    assert!(
        line.contains("TIMESTAMP_TOKEN<INTACT:UNTRUSTED>"),
        "with only our root the foreign timestamp must be untrusted: {line}\n{text}"
    );
}

fn cn(name: &paraf_pki::asn1::x509_cert::name::Name) -> String {
    paraf_pki::x509::name_attribute(name, paraf_pki::asn1::const_oid::db::rfc4519::CN)
        .unwrap_or_default()
}

/// The decoded streams of `/DSS /key`.
fn dss_streams(doc: &paraf_pdf::Document, key: &str) -> Vec<Vec<u8>> {
    let cat = doc.catalog().unwrap();
    let dss = doc.resolve_key(&cat, "DSS").unwrap();
    let dss = dss.as_dict().expect("catalog has a /DSS");
    let arr = doc.resolve_key(dss, key).unwrap();
    arr.as_array()
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let s = doc.resolve(o).unwrap();
            doc.decode_stream(s.as_stream().expect("DSS entry is a stream"))
                .unwrap()
        })
        .collect()
}

/// The DSS carries the foreign TSA's chain and revocation data for it: an OCSP response from
/// certomancer's delegated responder saying the TSA certificate is good, and the root's CRL for
/// the intermediate. Our own chain's data is there as well.
fn assert_dss_has_foreign_chain(pdf: &Path) {
    let doc = paraf_pdf::Document::load(std::fs::read(pdf).unwrap(), None).unwrap();
    let certs: Vec<Certificate> = dss_streams(&doc, "Certs")
        .iter()
        .map(|d| paraf_pki::x509::cert_from_der(d).expect("DSS certificate"))
        .collect();
    let ocsps = dss_streams(&doc, "OCSPs");
    let crls: Vec<CertificateList> = dss_streams(&doc, "CRLs")
        .iter()
        .map(|d| CertificateList::from_der(d).expect("DSS CRL"))
        .collect();
    let subjects: Vec<String> = certs
        .iter()
        .map(|c| cn(&c.tbs_certificate.subject))
        .collect();
    let crl_issuers: Vec<String> = crls.iter().map(|c| cn(&c.tbs_cert_list.issuer)).collect();
    let summary = format!(
        "DSS of {}: certs {subjects:?}, {} OCSP responses, CRLs by {crl_issuers:?}",
        pdf.display(),
        ocsps.len()
    );
    let by_cn = |name: &str| {
        certs
            .iter()
            .find(|c| cn(&c.tbs_certificate.subject) == name)
            .unwrap_or_else(|| panic!("no certificate of {name:?} in the DSS; {summary}"))
    };
    let tsa = by_cn(TSA_CN);
    let interm = by_cn(INTERM_CN);
    assert!(
        ocsps.iter().any(|r| {
            paraf_pki::ocsp::parse_response(r, tsa, interm, None)
                .is_ok_and(|r| r.status == paraf_pki::ocsp::OcspCertStatus::Good)
        }),
        "no OCSP response (good) for the TSA certificate; {summary}"
    );
    assert!(
        crl_issuers.iter().any(|i| i == ROOT_CN),
        "no revocation data (the root's CRL) for the intermediate; {summary}"
    );
    // Ours: signer, issuing CA, root, and OCSP/CRLs for the signer and the issuing CA.
    assert!(certs.len() >= 5, "{summary}");
    assert!(
        ocsps.len() + crls.len() >= 4,
        "revocation data for both chains expected; {summary}"
    );
}

/// With certomancer stopped, pyHanko's AdES validation can only trust the foreign timestamp
/// from what the DSS holds: that is what B-LT is for.
fn assert_timestamp_trusted_offline(pdf: &Path, foreign_root: &Path) {
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    let mut c = Command::new("pyhanko");
    c.args(["sign", "adesverify", "--trust-replace", "--trust"])
        .arg(&pki().root_pem)
        .arg("--trust")
        .arg(foreign_root)
        .arg(pdf);
    let out = c.output().expect("run pyhanko");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = format!(
        "{c:?}\nexit {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let line = stdout
        .lines()
        .find(|l| l.contains("INTACT"))
        .unwrap_or_else(|| panic!("no signature line:\n{text}"));
    assert!(line.contains("INTACT:TRUSTED"), "{text}");
    assert!(
        line.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "offline, the DSS must let pyHanko trust the foreign timestamp:\n{text}"
    );
}

/// certomancer running, our fixture CA, a temporary directory and a one-page PDF in it.
fn fixture() -> (
    Certomancer,
    &'static common::Pki,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let tmp = tempfile::tempdir().unwrap();
    let input = write(tmp.path(), "in.pdf", &simple_pdf(1));
    (Certomancer::start(), pki(), tmp, input)
}

#[test]
fn b_t_with_certomancer_tsa_is_trusted_by_pyhanko() {
    let (cm, pki, tmp, input) = fixture();
    for (key, p12) in [("rsa", &pki.rsa_p12), ("ec", &pki.ec_p12)] {
        for tsa in ["tsa", "tsa-bare"] {
            let out = tmp.path().join(format!("{key}-{tsa}-b-t.pdf"));
            sign(&input, &out, p12, "b-t", &cm.tsa_url(tsa));
            assert_valid_with_both_roots(&out, &cm.root_pem, &[]);
            assert_timestamp_is_foreign(&out);
            assert_qpdf_clean(&out, None);
        }
    }
    let log = cm.log();
    for path in [
        format!("\"POST /{ARCH}/tsa/tsa HTTP/1.1\" 200"),
        format!("\"POST /{ARCH}/tsa/tsa-bare HTTP/1.1\" 200"),
    ] {
        assert!(
            log.contains(&path),
            "no {path} in the certomancer log:\n{log}"
        );
    }
}

/// certomancer's TSA `tsa` embeds its issuing CA in its tokens (`certs-to-embed`).
#[test]
fn b_lt_with_certomancer_tsa_has_its_chain_and_revocation_in_the_dss() {
    let (cm, pki, tmp, input) = fixture();
    let foreign_root = tmp.path().join("foreign-root.pem");
    std::fs::copy(&cm.root_pem, &foreign_root).unwrap();
    let mut signed = Vec::new();
    for (key, p12) in [("rsa", &pki.rsa_p12), ("ec", &pki.ec_p12)] {
        let out = tmp.path().join(format!("{key}-b-lt.pdf"));
        sign(&input, &out, p12, "b-lt", &cm.tsa_url("tsa"));
        assert_valid_with_both_roots(&out, &foreign_root, &[]);
        assert_valid_with_both_roots(&out, &foreign_root, &["--force-revinfo"]);
        assert_qpdf_clean(&out, None);
        assert_dss_has_foreign_chain(&out);
        signed.push(out);
    }
    let log = cm.log();
    // Revocation data came from certomancer's own responders, at the URLs in its certificates.
    for path in [
        format!("\"POST /{ARCH}/ocsp/interm HTTP/1.1\" 200"),
        format!("\"GET /{ARCH}/crls/root/latest.crl HTTP/1.1\" 200"),
    ] {
        assert!(
            log.contains(&path),
            "no {path} in the certomancer log:\n{log}"
        );
    }
    drop(cm);
    for out in &signed {
        assert_timestamp_trusted_offline(out, &foreign_root);
    }
}

/// certomancer's TSA `tsa-bare` puts only its own certificate in its tokens (certomancer's
/// default, and what some public TSAs do): the intermediate must then be found through the
/// TSA certificate's AIA caIssuers URL for the DSS to be complete.
#[test]
fn b_lt_with_a_tsa_that_embeds_only_its_own_certificate() {
    let (cm, pki, tmp, input) = fixture();
    let foreign_root = tmp.path().join("foreign-root.pem");
    std::fs::copy(&cm.root_pem, &foreign_root).unwrap();
    let out = tmp.path().join("bare-b-lt.pdf");
    sign(&input, &out, &pki.rsa_p12, "b-lt", &cm.tsa_url("tsa-bare"));
    assert_valid_with_both_roots(&out, &foreign_root, &[]);
    assert_qpdf_clean(&out, None);
    assert_dss_has_foreign_chain(&out);
    drop(cm);
    assert_timestamp_trusted_offline(&out, &foreign_root);
}
