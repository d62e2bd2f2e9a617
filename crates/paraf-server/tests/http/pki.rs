//! The built-in CA over HTTP, checked by outside tools: `openssl ts`, `openssl ocsp` (POST and
//! the RFC 6960 GET form), `openssl crl`, pyHanko B-T with the server's TSA, and a PDF signed
//! with a certificate of the running server's CA validated by pdfsig (NSS asks our OCSP) and
//! pyHanko before and after revocation. The PKI routes do not touch the database, so these run
//! on SQLite only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use base64::Engine;
use paraf_pki::ca::CertificateAuthority;
use paraf_pki::{IssueRequest, KeyType, PrivateKey, RevocationReason};

use crate::common::*;

/// Issues a signer certificate from the running server's CA; returns (key, cert, serial).
pub(crate) async fn issue(
    app: &TestApp,
    cn: &str,
    key_type: KeyType,
) -> (PrivateKey, paraf_pki::asn1::x509_cert::Certificate, String) {
    let pki = app.state.pki.clone();
    let cn = cn.to_string();
    tokio::task::spawn_blocking(move || {
        pki.modify(|ca| {
            let (key, cert) = ca.issue(IssueRequest {
                common_name: cn,
                email: Some("budi@example.id".into()),
                nik: None,
                key_type,
                validity_days: 365,
                not_before: SystemTime::now(),
            })?;
            let serial = paraf_pki::x509::serial_hex(&cert.tbs_certificate.serial_number);
            Ok((key, cert, serial))
        })
    })
    .await
    .unwrap()
    .unwrap()
}

/// Revokes as `paraf ca revoke` does: another process opening the CA directory.
fn revoke_from_outside(dir: &Path, serial: &str) {
    let ca = CertificateAuthority::open(dir, None).unwrap();
    ca.revoke(serial, RevocationReason::KeyCompromise, SystemTime::now())
        .unwrap();
}

fn openssl() -> Command {
    require_tool("openssl", "openssl");
    Command::new("openssl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tsa_answers_openssl_ts() {
    let app = spawn(Backend::Sqlite).await;
    let f = ca_files(&app).await;
    let d = f.tmp.path();
    let data = write(d, "data.txt", b"Perjanjian Kerja Sama\n");
    run_ok(openssl().current_dir(d).args([
        "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq",
    ]));
    let r = app
        .post("/pki/tsa")
        .header("content-type", "application/timestamp-query")
        .body(std::fs::read(d.join("q.tsq")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/timestamp-reply");
    write(d, "r.tsr", &r.bytes().await.unwrap());
    let out = run_ok(
        openssl()
            .args(["ts", "-verify", "-data"])
            .arg(&data)
            .args(["-in"])
            .arg(d.join("r.tsr"))
            .arg("-CAfile")
            .arg(&f.root)
            .arg("-untrusted")
            .arg(&f.issuing),
    );
    assert!(text(&out).contains("Verification: OK"), "{}", text(&out));
    // Garbage gets a TSA refusal (status rejection), not an HTTP error.
    let r = app
        .post("/pki/tsa")
        .body("not a query")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    write(d, "bad.tsr", &r.bytes().await.unwrap());
    let out = run_ok(
        openssl()
            .args(["ts", "-reply", "-text", "-in"])
            .arg(d.join("bad.tsr")),
    );
    assert!(text(&out).contains("Status: Rejected"), "{}", text(&out));
    // The DER form of the CA certificates.
    let (s, ct, der) = fetch(&app, "/pki/ca/root.crt").await;
    assert_eq!((s, ct.as_str()), (200, "application/pkix-cert"));
    let derf = write(d, "root.der", &der);
    let out = run_ok(
        openssl()
            .args(["x509", "-inform", "DER", "-noout", "-subject", "-in"])
            .arg(derf),
    );
    assert!(text(&out).contains("Root"), "{}", text(&out));
    // Unknown CAs and file types are 404 in the neutral shape.
    for p in [
        "/pki/ca/tsa.pem",
        "/pki/crl/other.crl",
        "/pki/ca/root.txt",
        "/pki/crl/root.pem",
    ] {
        let (s, v) = json(app.get(p).send().await.unwrap()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{p}"
        );
    }
    app.stop().await;
}

fn ocsp_cmd(f: &Files, leaf: &Path, url: &str) -> String {
    let out = run_ok(
        openssl()
            .args(["ocsp", "-issuer"])
            .arg(&f.issuing)
            .arg("-cert")
            .arg(leaf)
            .args(["-url", url, "-CAfile"])
            .arg(&f.root),
    );
    text(&out)
}

async fn ocsp_get(app: &TestApp, f: &Files, leaf: &Path) -> String {
    let d = f.tmp.path();
    run_ok(
        openssl()
            .args(["ocsp", "-no_nonce", "-issuer"])
            .arg(&f.issuing)
            .arg("-cert")
            .arg(leaf)
            .arg("-reqout")
            .arg(d.join("req.der")),
    );
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(d.join("req.der")).unwrap());
    // Percent-encode as NSS does ('/', '+', '=').
    let enc = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let (s, ct, resp) = fetch(app, &format!("/pki/ocsp/{enc}")).await;
    assert_eq!((s, ct.as_str()), (200, "application/ocsp-response"));
    write(d, "resp.der", &resp);
    let out = run_ok(
        openssl()
            .args(["ocsp", "-respin"])
            .arg(d.join("resp.der"))
            .arg("-issuer")
            .arg(&f.issuing)
            .arg("-cert")
            .arg(leaf)
            .arg("-CAfile")
            .arg(&f.root),
    );
    text(&out)
}

fn crl_text(f: &Files, crl: &Path, ca: &Path) -> String {
    let out = run_ok(
        openssl()
            .args(["crl", "-inform", "DER", "-text", "-noout", "-in"])
            .arg(crl)
            .arg("-CAfile")
            .arg(ca),
    );
    let _ = f;
    text(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_and_crl_follow_revocation() {
    let app = spawn(Backend::Sqlite).await;
    let f = ca_files(&app).await;
    let d = f.tmp.path().to_path_buf();
    let (_, cert, serial) = issue(&app, "Budi Santoso", KeyType::P256).await;
    let leaf = write(
        &d,
        "leaf.pem",
        paraf_pki::x509::cert_to_pem(&cert).unwrap().as_bytes(),
    );
    let url = app.at("/pki/ocsp");

    let t = ocsp_cmd(&f, &leaf, &url);
    assert!(t.contains("Response verify OK"), "{t}");
    assert!(t.contains(": good"), "{t}");
    let t = ocsp_get(&app, &f, &leaf).await;
    assert!(
        t.contains("Response verify OK") && t.contains(": good"),
        "{t}"
    );

    let (s, ct, crl) = fetch(&app, "/pki/crl/issuing.crl").await;
    assert_eq!((s, ct.as_str()), (200, "application/pkix-crl"));
    let crlf = write(&d, "issuing.crl", &crl);
    let t = crl_text(&f, &crlf, &f.chain);
    assert!(t.contains("verify OK"), "{t}");
    assert!(t.contains("No Revoked Certificates"), "{t}");
    let (_, _, root_crl) = fetch(&app, "/pki/crl/root.crl").await;
    let rootf = write(&d, "root.crl", &root_crl);
    assert!(crl_text(&f, &rootf, &f.root).contains("verify OK"));

    revoke_from_outside(&app.ca_dir(), &serial);

    let t = ocsp_cmd(&f, &leaf, &url);
    assert!(t.contains("Response verify OK"), "{t}");
    assert!(t.contains(": revoked"), "{t}");
    assert!(t.contains("keyCompromise"), "{t}");
    let t = ocsp_get(&app, &f, &leaf).await;
    assert!(t.contains(": revoked"), "{t}");
    let (_, _, crl) = fetch(&app, "/pki/crl/issuing.crl").await;
    let crlf = write(&d, "issuing2.crl", &crl);
    let t = crl_text(&f, &crlf, &f.chain);
    assert!(t.contains("verify OK"), "{t}");
    assert!(
        t.to_uppercase()
            .contains(&format!("SERIAL NUMBER: {}", serial.to_uppercase())),
        "{serial}\n{t}"
    );
    // And `openssl verify -crl_check` now refuses the leaf.
    let out = openssl()
        .args(["verify", "-crl_check", "-CAfile"])
        .arg(&f.root)
        .arg("-untrusted")
        .arg(&f.issuing)
        .arg("-CRLfile")
        .arg(&crlf)
        .arg(&leaf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("revoked"), "{}", text(&out));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_signed_with_the_servers_ca_is_trusted_then_revoked() {
    let app = spawn(Backend::Sqlite).await;
    let f = ca_files(&app).await;
    let d = f.tmp.path().to_path_buf();
    let (key, cert, serial) = issue(&app, "Siti Rahayu", KeyType::Rsa2048).await;
    // The certificate's AIA names this server.
    let leaf = write(
        &d,
        "leaf.pem",
        paraf_pki::x509::cert_to_pem(&cert).unwrap().as_bytes(),
    );
    let out = run_ok(
        openssl()
            .args(["x509", "-noout", "-ext", "authorityInfoAccess", "-in"])
            .arg(&leaf),
    );
    assert!(text(&out).contains(&app.at("/pki/ocsp")), "{}", text(&out));

    let chain = {
        let ca = app.state.pki.clone();
        tokio::task::spawn_blocking(move || ca.current().unwrap().signer_chain())
            .await
            .unwrap()
    };
    let pdf = tokio::task::spawn_blocking(move || {
        let signer = paraf_pki::SoftSigner::new(key, cert, chain, None).unwrap();
        let doc = paraf_pdf::Document::load(simple_pdf(), None).unwrap();
        let opts = paraf_sign::SignOptions::new(SystemTime::now());
        paraf_sign::sign(
            &doc,
            &signer,
            &opts,
            paraf_sign::Services {
                timestamper: None,
                revocation: None,
            },
        )
        .unwrap()
        .pdf
    })
    .await
    .unwrap();
    let signed = write(&d, "signed.pdf", &pdf);
    let nss = nss_db(&f);
    let t = pdfsig(&signed, &nss);
    assert!(t.contains("Signature is Valid."), "{t}");
    assert!(t.contains("Certificate is Trusted."), "{t}");
    let (ok, t) = pyhanko_validate(&signed, &f.root);
    assert!(ok && t.contains("INTACT:TRUSTED"), "{t}");

    revoke_from_outside(&app.ca_dir(), &serial);

    let t = pdfsig(&signed, &nss);
    assert!(t.contains("Signature is Valid."), "{t}");
    assert!(t.contains("Certificate has been Revoked."), "{t}");
    let (ok, t) = pyhanko_validate(&signed, &f.root);
    assert!(!ok, "{t}");
    assert!(
        t.contains("REVOKED") || t.contains("revoked") || t.contains("UNTRUSTED"),
        "{t}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyhanko_b_t_with_the_servers_tsa() {
    let app = spawn(Backend::Sqlite).await;
    let f = ca_files(&app).await;
    let d = f.tmp.path().to_path_buf();
    let (key, cert, _) = issue(&app, "Andi Wijaya", KeyType::P256).await;
    write(&d, "k.der", &key.to_pkcs8_der().unwrap());
    write(
        &d,
        "c.pem",
        paraf_pki::x509::cert_to_pem(&cert).unwrap().as_bytes(),
    );
    write(&d, "in.pdf", &simple_pdf());
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    run_ok(Command::new("pyhanko").current_dir(&d).args([
        "sign",
        "addsig",
        "--field",
        "Sig1",
        "--use-pades",
        "--timestamp-url",
        &app.at("/pki/tsa"),
        "pemder",
        "--no-pass",
        "--key",
        "k.der",
        "--cert",
        "c.pem",
        "--chain",
        "issuing.pem",
        "in.pdf",
        "out.pdf",
    ]));
    let (ok, t) = pyhanko_validate(&d.join("out.pdf"), &f.root);
    assert!(ok, "{t}");
    assert!(t.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "{t}");
    app.stop().await;
}
