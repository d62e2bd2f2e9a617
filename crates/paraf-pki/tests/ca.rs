//! The built-in CA checked by openssl: chain verification, certificate contents, CRLs, OCSP,
//! revocation, reopening, passphrase and master-key handling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use paraf_pki::ocsp::{self, OcspCertStatus};
use paraf_pki::x509::{cert_to_der, serial_hex};
use paraf_pki::{
    CaInitOptions, CaName, CertificateAuthority, KeyType, PkiErrorKind, RevocationReason,
    RevocationSource,
};

#[test]
fn hierarchy_verifies_with_openssl_and_has_the_profile() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let (key, leaf) = ca.issue(request("Budi Santoso", KeyType::P256)).unwrap();
    assert_eq!(
        key.public_key_der(),
        leaf.tbs_certificate.subject_public_key_info.to_der_vec()
    );
    let leaf_pem = write_pem(dir.path(), "leaf.pem", &leaf);
    let root = ca_dir.join("root.pem");
    let issuing = ca_dir.join("issuing.pem");
    let tsa = ca_dir.join("tsa.pem");

    let out = openssl_ok(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        p(&root),
        "-untrusted",
        p(&issuing),
        p(&leaf_pem),
    ]);
    assert!(out.contains(": OK"), "{out}");
    let out = openssl_ok(&[
        "verify",
        "-x509_strict",
        "-purpose",
        "timestampsign",
        "-CAfile",
        p(&root),
        "-untrusted",
        p(&issuing),
        p(&tsa),
    ]);
    assert!(out.contains(": OK"), "{out}");
    // Without the issuing CA the leaf does not chain.
    let (ok, _) = openssl(&["verify", "-CAfile", p(&root), p(&leaf_pem)]);
    assert!(!ok);

    let text = openssl_ok(&["x509", "-in", p(&leaf_pem), "-noout", "-text"]);
    for needle in [
        "X509v3 Key Usage: critical",
        "Digital Signature, Non Repudiation",
        "CA:FALSE",
        "OCSP - URI:http://127.0.0.1:8080/pki/ocsp",
        "CA Issuers - URI:http://127.0.0.1:8080/pki/ca/issuing.pem",
        "URI:http://127.0.0.1:8080/pki/crl/issuing.crl",
        "serialNumber = PNOID-3201234567890123",
        "CN = Budi Santoso",
        "O = Paraf Test",
        "emailAddress = budi@example.id",
        "email:budi@example.id",
        "X509v3 Subject Key Identifier",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let serial_line = text
        .lines()
        .skip_while(|l| !l.contains("Serial Number"))
        .nth(1)
        .unwrap()
        .trim()
        .replace(':', "");
    assert_eq!(serial_line, serial_hex(&leaf.tbs_certificate.serial_number));

    let text = openssl_ok(&["x509", "-in", p(&issuing), "-noout", "-text"]);
    for needle in [
        "CA:TRUE, pathlen:0",
        "Certificate Sign, CRL Sign",
        "URI:http://127.0.0.1:8080/pki/crl/root.crl",
        "CA Issuers - URI:http://127.0.0.1:8080/pki/ca/root.pem",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let text = openssl_ok(&["x509", "-in", p(&root), "-noout", "-text"]);
    assert!(text.contains("CA:TRUE, pathlen:1"), "{text}");
    let text = openssl_ok(&["x509", "-in", p(&tsa), "-noout", "-text"]);
    assert!(
        text.contains("X509v3 Extended Key Usage: critical"),
        "{text}"
    );
    assert!(text.contains("Time Stamping"), "{text}");

    // The state file records the leaf.
    let rec = ca
        .find(&serial_hex(&leaf.tbs_certificate.serial_number))
        .unwrap()
        .unwrap();
    assert!(rec.revoked.is_none());
    assert_eq!(ca.issued().unwrap().len(), 3);
}

trait ToDerVec {
    fn to_der_vec(&self) -> Vec<u8>;
}
impl<T: der::Encode> ToDerVec for T {
    fn to_der_vec(&self) -> Vec<u8> {
        self.to_der().unwrap()
    }
}

#[test]
fn rsa_ca_verifies_too() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::Rsa2048);
    let mut req = request("Siti", KeyType::P384);
    req.email = None;
    req.nik = None;
    let (_, leaf) = ca.issue(req).unwrap();
    let leaf_pem = write_pem(dir.path(), "leaf.pem", &leaf);
    let out = openssl_ok(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        p(&ca_dir.join("root.pem")),
        "-untrusted",
        p(&ca_dir.join("issuing.pem")),
        p(&leaf_pem),
    ]);
    assert!(out.contains(": OK"), "{out}");
    let text = openssl_ok(&["x509", "-in", p(&leaf_pem), "-noout", "-text"]);
    assert!(!text.contains("serialNumber"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
}

#[test]
fn bad_requests_are_refused() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    for nik in [
        "123",
        "32012345678901234",
        "320123456789012x",
        "３２０１２３４５６７８９０１２３",
    ] {
        let mut req = request("A", KeyType::P256);
        req.nik = Some(nik.into());
        assert_eq!(
            ca.issue(req).unwrap_err().kind(),
            PkiErrorKind::InvalidInput,
            "{nik}"
        );
    }
    let mut req = request("", KeyType::P256);
    assert_eq!(
        ca.issue(req.clone()).unwrap_err().kind(),
        PkiErrorKind::InvalidInput
    );
    req.common_name = "A".into();
    req.validity_days = 365 * 30;
    assert_eq!(
        ca.issue(req.clone()).unwrap_err().kind(),
        PkiErrorKind::InvalidInput
    );
    req.validity_days = 30;
    req.email = Some("not an email".into());
    assert_eq!(
        ca.issue(req).unwrap_err().kind(),
        PkiErrorKind::InvalidInput
    );
    assert_eq!(
        ca.issued().unwrap().len(),
        2,
        "refused requests leave no record"
    );
    assert_eq!(
        ca.revoke("abcdef", RevocationReason::KeyCompromise, SystemTime::now())
            .unwrap_err()
            .kind(),
        PkiErrorKind::UnknownSerial
    );
    // A second init in the same directory is refused.
    let e = CertificateAuthority::init(
        &dir.path().join("ca"),
        CaInitOptions {
            key_type: KeyType::P256,
            public_url: "http://x".into(),
            org_name: "X".into(),
            passphrase: None,
        },
        SystemTime::now(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::InvalidInput);
}

#[test]
fn crl_and_ocsp_follow_revocation() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let (_, leaf) = ca.issue(request("Budi", KeyType::P256)).unwrap();
    let (_, other) = ca.issue(request("Ani", KeyType::P256)).unwrap();
    let leaf_pem = write_pem(dir.path(), "leaf.pem", &leaf);
    let root = ca_dir.join("root.pem");
    let issuing = ca_dir.join("issuing.pem");
    let bundle = dir.path().join("bundle.pem");
    std::fs::write(
        &bundle,
        [
            std::fs::read(&root).unwrap(),
            std::fs::read(&issuing).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    let now = SystemTime::now();

    // OCSP before revocation: good. Request made by openssl, with a nonce.
    let req = dir.path().join("req.der");
    openssl_ok(&[
        "ocsp",
        "-issuer",
        p(&issuing),
        "-cert",
        p(&leaf_pem),
        "-reqout",
        p(&req),
    ]);
    let resp = ca.ocsp_respond(&std::fs::read(&req).unwrap(), now);
    let resp_path = dir.path().join("resp.der");
    std::fs::write(&resp_path, &resp).unwrap();
    let out = openssl_ok(&[
        "ocsp",
        "-respin",
        p(&resp_path),
        "-issuer",
        p(&issuing),
        "-CAfile",
        p(&root),
        "-cert",
        p(&leaf_pem),
        "-no_nonce",
        "-resp_text",
    ]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(": good"), "{out}");
    // The request's nonce is echoed. (With -cert, openssl makes a fresh request and nonce of its
    // own, hence -no_nonce above; compare the nonce text instead.)
    let req_text = openssl_ok(&["ocsp", "-reqin", p(&req), "-req_text"]);
    let nonce = |t: &str| {
        t.lines()
            .skip_while(|l| !l.contains("OCSP Nonce"))
            .nth(1)
            .map(|l| l.trim().to_owned())
    };
    assert!(nonce(&req_text).is_some(), "{req_text}");
    assert_eq!(nonce(&req_text), nonce(&out), "{out}");

    // Our own client agrees.
    let r = ocsp::parse_response(&resp, &leaf, ca.issuing_cert(), None).unwrap();
    assert_eq!(r.status, OcspCertStatus::Good);
    assert_eq!(r.responder, *ca.issuing_cert());

    let serial = serial_hex(&leaf.tbs_certificate.serial_number);
    ca.revoke(&serial.to_uppercase(), RevocationReason::KeyCompromise, now)
        .unwrap();
    assert_eq!(
        ca.revoke(&serial, RevocationReason::KeyCompromise, now)
            .unwrap_err()
            .kind(),
        PkiErrorKind::InvalidInput
    );

    // Revocation persists across reopen.
    let ca = CertificateAuthority::open(&ca_dir, Some(PASSPHRASE)).unwrap();
    let resp = ca.ocsp_respond(&std::fs::read(&req).unwrap(), now);
    std::fs::write(&resp_path, &resp).unwrap();
    let out = openssl_ok(&[
        "ocsp",
        "-respin",
        p(&resp_path),
        "-issuer",
        p(&issuing),
        "-CAfile",
        p(&root),
        "-cert",
        p(&leaf_pem),
        "-no_nonce",
        "-resp_text",
    ]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(": revoked"), "{out}");
    assert!(
        out.contains("Key Compromise") || out.contains("keyCompromise"),
        "{out}"
    );
    match ocsp::parse_response(&resp, &leaf, ca.issuing_cert(), None)
        .unwrap()
        .status
    {
        OcspCertStatus::Revoked { reason, .. } => {
            assert_eq!(reason, Some(RevocationReason::KeyCompromise))
        }
        s => panic!("expected revoked, got {s:?}"),
    }
    // The other certificate stays good (our client side builds the request this time, with a nonce).
    let req2 = ocsp::build_request_with_nonce(&other, ca.issuing_cert(), Some(b"0123456789abcdef"))
        .unwrap();
    let resp2 = ca.ocsp_respond(&req2, now);
    let r2 =
        ocsp::parse_response(&resp2, &other, ca.issuing_cert(), Some(b"0123456789abcdef")).unwrap();
    assert_eq!(r2.status, OcspCertStatus::Good);
    assert!(
        ocsp::parse_response(&resp2, &other, ca.issuing_cert(), Some(b"another nonce")).is_err()
    );

    // The issuing CRL lists the revoked serial with its reason and verifies.
    let crl = ca.crl(CaName::FIRST_ISSUING, now).unwrap();
    let crl_path = dir.path().join("issuing.crl");
    std::fs::write(&crl_path, &crl).unwrap();
    let out = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        p(&crl_path),
        "-CAfile",
        p(&bundle),
        "-noout",
    ]);
    assert!(out.contains("verify OK"), "{out}");
    let text = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        p(&crl_path),
        "-noout",
        "-text",
    ]);
    assert!(
        text.to_lowercase().contains(&serial),
        "serial {serial} not in:\n{text}"
    );
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("X509v3 CRL Number"), "{text}");
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
    assert!(
        !text
            .to_lowercase()
            .contains(&serial_hex(&other.tbs_certificate.serial_number)),
        "{text}"
    );

    // openssl verify with CRL checking now rejects the leaf.
    let crl_pem = dir.path().join("issuing.crl.pem");
    openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        p(&crl_path),
        "-out",
        p(&crl_pem),
    ]);
    let root_crl = dir.path().join("root.crl");
    std::fs::write(&root_crl, ca.crl(CaName::Root, now).unwrap()).unwrap();
    let root_crl_pem = dir.path().join("root.crl.pem");
    openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        p(&root_crl),
        "-out",
        p(&root_crl_pem),
    ]);
    let out = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        p(&root_crl),
        "-CAfile",
        p(&root),
        "-noout",
    ]);
    assert!(out.contains("verify OK"), "{out}");
    let (ok, out) = openssl(&[
        "verify",
        "-crl_check_all",
        "-CAfile",
        p(&root),
        "-untrusted",
        p(&issuing),
        "-CRLfile",
        p(&crl_pem),
        "-CRLfile",
        p(&root_crl_pem),
        p(&leaf_pem),
    ]);
    assert!(!ok && out.contains("revoked"), "{out}");
    let other_pem = write_pem(dir.path(), "other.pem", &other);
    let out = openssl_ok(&[
        "verify",
        "-crl_check_all",
        "-CAfile",
        p(&root),
        "-untrusted",
        p(&issuing),
        "-CRLfile",
        p(&crl_pem),
        "-CRLfile",
        p(&root_crl_pem),
        p(&other_pem),
    ]);
    assert!(out.contains(": OK"), "{out}");
}

#[test]
fn ocsp_root_answers_for_the_issuing_ca_only() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P384);
    let root = ca_dir.join("root.pem");
    let issuing = ca_dir.join("issuing.pem");
    let req = dir.path().join("req.der");
    openssl_ok(&[
        "ocsp",
        "-issuer",
        p(&root),
        "-cert",
        p(&issuing),
        "-reqout",
        p(&req),
    ]);
    let resp_path = dir.path().join("resp.der");
    std::fs::write(
        &resp_path,
        ca.ocsp_respond(&std::fs::read(&req).unwrap(), SystemTime::now()),
    )
    .unwrap();
    let out = openssl_ok(&[
        "ocsp",
        "-respin",
        p(&resp_path),
        "-issuer",
        p(&root),
        "-CAfile",
        p(&root),
        "-cert",
        p(&issuing),
        "-no_nonce",
        "-resp_text",
    ]);
    assert!(
        out.contains("Response verify OK") && out.contains(": good"),
        "{out}"
    );

    // A certificate from some other CA: unauthorized.
    let other_dir = tmp();
    let other = new_ca(&other_dir.path().join("ca"), KeyType::P256);
    let foreign_req = ocsp::build_request(other.issuing_cert(), other.root_cert()).unwrap();
    let resp = ca.ocsp_respond(&foreign_req, SystemTime::now());
    let e = ocsp::parse_response(&resp, other.issuing_cert(), other.root_cert(), None).unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::Rejected, "{e}");
    // A serial the issuing CA never issued: unknown.
    let (_, foreign_leaf) =
        CertificateAuthority::open(&other_dir.path().join("ca"), Some(PASSPHRASE))
            .unwrap()
            .issue(request("X", KeyType::P256))
            .unwrap();
    let mut fake = foreign_leaf.clone();
    fake.tbs_certificate.issuer = ca.issuing_cert().tbs_certificate.subject.clone();
    let resp = ca.ocsp_respond(
        &ocsp::build_request(&fake, ca.issuing_cert()).unwrap(),
        SystemTime::now(),
    );
    assert_eq!(
        ocsp::parse_response(&resp, &fake, ca.issuing_cert(), None)
            .unwrap()
            .status,
        OcspCertStatus::Unknown
    );

    // Garbage: malformedRequest, not a panic.
    let resp = ca.ocsp_respond(b"\x30\x03garbage", SystemTime::now());
    let resp_path = dir.path().join("bad.der");
    std::fs::write(&resp_path, &resp).unwrap();
    let (_, out) = openssl(&["ocsp", "-respin", p(&resp_path), "-resp_text", "-noverify"]);
    assert!(out.contains("Responder Error: malformedrequest"), "{out}");
}

#[test]
fn revocation_source_serves_our_certificates() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    let (_, leaf) = ca.issue(request("Budi", KeyType::P256)).unwrap();
    let issuing = ca.issuing_cert().clone();
    let ca = ca.with_clock(paraf_pki::Clock::fixed(SystemTime::now()));
    let resp = ca
        .ocsp(&leaf, &issuing)
        .unwrap()
        .expect("our own certificate");
    assert_eq!(
        ocsp::parse_response(&resp, &leaf, &issuing, None)
            .unwrap()
            .status,
        OcspCertStatus::Good
    );
    assert_eq!(ca.crls(&leaf).unwrap().len(), 1);
    assert_eq!(ca.crls(&issuing).unwrap().len(), 1);
    assert!(ca.crls(ca.root_cert()).unwrap().is_empty());
    let other = tmp();
    let other = new_ca(&other.path().join("ca"), KeyType::P256);
    assert!(ca
        .ocsp(other.issuing_cert(), other.root_cert())
        .unwrap()
        .is_none());
    assert!(ca.crls(other.issuing_cert()).unwrap().is_empty());
}

#[test]
fn passphrase_and_master_key() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    new_ca(&ca_dir, KeyType::P256);
    let e = CertificateAuthority::open(&ca_dir, Some(b"wrong")).unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::BadPassword, "{e}");
    let e = CertificateAuthority::open(&ca_dir, None).unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("master.key"), "{e}");
    // Keys at rest are sealed, never plain PKCS#8.
    let blob = std::fs::read(ca_dir.join("root.key.sealed")).unwrap();
    assert!(blob.starts_with(b"PARAF SEALED\n"));

    let m_dir = dir.path().join("m");
    let ca = CertificateAuthority::init(
        &m_dir,
        CaInitOptions {
            key_type: KeyType::P256,
            public_url: "https://sign.example.id/".into(),
            org_name: "Paraf".into(),
            passphrase: None,
        },
        SystemTime::now(),
    )
    .unwrap();
    let master = std::fs::read(m_dir.join("master.key")).unwrap();
    assert_eq!(master.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(m_dir.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(m_dir.join("root.key.sealed"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = CertificateAuthority::open(&m_dir, None).unwrap();
    assert_eq!(
        cert_to_der(again.root_cert()).unwrap(),
        cert_to_der(ca.root_cert()).unwrap()
    );
    assert!(again
        .certificate_pem(CaName::Root)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    // The trailing slash of the public URL is not doubled.
    let text = openssl_ok(&["x509", "-in", p(&m_dir.join("tsa.pem")), "-noout", "-text"]);
    assert!(
        text.contains("URI:https://sign.example.id/pki/ocsp"),
        "{text}"
    );
}

#[test]
fn leaf_validity_follows_the_request() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    let mut req = request("Budi", KeyType::P256);
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    req.not_before = start;
    req.validity_days = 10;
    let (_, cert) = ca.issue(req).unwrap();
    let v = cert.tbs_certificate.validity;
    assert_eq!(v.not_before.to_unix_duration().as_secs(), 1_800_000_000);
    assert_eq!(
        v.not_after.to_unix_duration().as_secs(),
        1_800_000_000 + 10 * 86_400
    );
}

/// A renewal makes issuing CA 2 and its TSA under the same root; what issuing CA 1 issued
/// still chains, and CA 1 still answers OCSP and CRL requests about it; openssl agrees.
#[test]
fn renewal_adds_an_issuing_ca_and_keeps_the_old_one_answering() {
    const YEAR: Duration = Duration::from_secs(365 * 86_400);
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let (_, old_leaf) = ca.issue(request("Budi", KeyType::P256)).unwrap();
    let first_issuing = ca.issuing_cert().clone();
    assert_eq!(ca.current_issuing(), CaName::FIRST_ISSUING);
    drop(ca);

    let later = SystemTime::now() + 9 * YEAR;
    assert_eq!(
        CertificateAuthority::renew_dir(&ca_dir, Some(PASSPHRASE), later).unwrap(),
        2
    );
    let ca = CertificateAuthority::open(&ca_dir, Some(PASSPHRASE)).unwrap();
    assert_eq!(ca.current_issuing(), CaName::Issuing(2));
    assert_eq!("issuing-2".parse::<CaName>().unwrap(), CaName::Issuing(2));
    for bad in [
        "issuing-1",
        "issuing-0",
        "issuing-02",
        "issuing-+2",
        "issuing-99999999999",
        "issuing-",
    ] {
        assert!(bad.parse::<CaName>().is_err(), "{bad}");
    }
    let state = std::fs::read_to_string(ca_dir.join("state.json")).unwrap();
    assert!(state.contains("\"format\": 2") && state.contains("\"generation\": 2"));
    // The new issuing CA runs ten years from the renewal, but not past the root.
    let root_end = ca
        .root_cert()
        .tbs_certificate
        .validity
        .not_after
        .to_system_time();
    let new_end = ca.issuing_not_after();
    assert!(new_end > later + 9 * YEAR && new_end <= root_end);
    let tsa = ca.tsa().certificate();
    assert!(tsa
        .tbs_certificate
        .subject
        .to_string()
        .contains("Time Stamping Authority 2"));
    assert_eq!(
        tsa.tbs_certificate.issuer,
        ca.issuing_cert().tbs_certificate.subject
    );

    let mut req = request("Siti", KeyType::P256);
    req.not_before = later;
    let (_, new_leaf) = ca.issue(req).unwrap();
    let root = ca_dir.join("root.pem");
    for (leaf, issuing) in [(&new_leaf, "issuing-2.pem"), (&old_leaf, "issuing.pem")] {
        let leaf_pem = write_pem(dir.path(), "leaf.pem", leaf);
        let at = later + Duration::from_secs(3600);
        let at = at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let attime = if issuing == "issuing.pem" {
            vec![]
        } else {
            vec!["-attime", &at]
        };
        let mut args = vec!["verify", "-x509_strict", "-CAfile", p(&root)];
        args.extend(attime);
        let issuing_path = ca_dir.join(issuing);
        args.extend(["-untrusted", p(&issuing_path), p(&leaf_pem)]);
        let out = openssl_ok(&args);
        assert!(out.contains(": OK"), "{issuing}: {out}");
        let text = openssl_ok(&["x509", "-in", p(&leaf_pem), "-noout", "-text"]);
        assert!(text.contains(&format!("/pki/ca/{issuing}")), "{text}");
    }
    assert_eq!(ca.chain_of(&old_leaf)[0], first_issuing);
    assert_eq!(ca.chain_of(&new_leaf)[0], *ca.issuing_cert());
    assert_eq!(
        ca.issuer_of(&old_leaf),
        Some((CaName::FIRST_ISSUING, &first_issuing))
    );

    // Issuing CA 1 still answers about its own; its revocations go on its CRL only.
    ca.revoke(
        &serial_hex(&old_leaf.tbs_certificate.serial_number),
        RevocationReason::KeyCompromise,
        later,
    )
    .unwrap();
    let ca = ca.with_clock(paraf_pki::Clock::fixed(later));
    let resp = ca.ocsp(&old_leaf, &first_issuing).unwrap().expect("ours");
    assert!(matches!(
        ocsp::parse_response(&resp, &old_leaf, &first_issuing, None)
            .unwrap()
            .status,
        OcspCertStatus::Revoked { .. }
    ));
    let resp = ca
        .ocsp(&new_leaf, ca.issuing_cert())
        .unwrap()
        .expect("ours");
    assert_eq!(
        ocsp::parse_response(&resp, &new_leaf, ca.issuing_cert(), None)
            .unwrap()
            .status,
        OcspCertStatus::Good
    );
    let old_crl = paraf_pki::ca::crl_summary(&ca.crls(&old_leaf).unwrap()[0]).unwrap();
    let new_crl = paraf_pki::ca::crl_summary(&ca.crls(&new_leaf).unwrap()[0]).unwrap();
    assert_eq!(
        old_crl.revoked,
        vec![serial_hex(&old_leaf.tbs_certificate.serial_number)]
    );
    assert!(new_crl.revoked.is_empty());
    // The root answers about both issuing CAs.
    for issuing in [&first_issuing, ca.issuing_cert()] {
        let resp = ca.ocsp(issuing, ca.root_cert()).unwrap().expect("ours");
        assert_eq!(
            ocsp::parse_response(&resp, issuing, ca.root_cert(), None)
                .unwrap()
                .status,
            OcspCertStatus::Good
        );
    }
    assert!(ca.certificate_pem(CaName::Issuing(3)).is_err());
    // A serial of issuing CA 2 asked under issuing CA 1's name and key: unknown there.
    let req = ocsp::build_request(&new_leaf, &first_issuing).unwrap();
    let resp = ca.ocsp_respond(&req, later);
    assert_eq!(
        ocsp::parse_response(&resp, &new_leaf, &first_issuing, None)
            .unwrap()
            .status,
        OcspCertStatus::Unknown
    );
    // A status is not given past the certificate's end (pyHanko slides its control time to
    // nextUpdate): the new leaf ends a year after `later`, asked a day before its end.
    let near_end =
        new_leaf.tbs_certificate.validity.not_after.to_system_time() - Duration::from_secs(3600);
    let req = ocsp::build_request(&new_leaf, ca.issuing_cert()).unwrap();
    let resp = ca.ocsp_respond(&req, near_end);
    let parsed = ocsp::parse_response(&resp, &new_leaf, ca.issuing_cert(), None).unwrap();
    assert_eq!(
        parsed.next_update,
        Some(new_leaf.tbs_certificate.validity.not_after.to_system_time())
    );
    // Writers in different processes take turns on state.json: a CA opened before a renewal
    // (another process, say the server) that issues afterwards keeps the renewal, and two
    // opened at once both keep their records.
    let stale = CertificateAuthority::open(&ca_dir, Some(PASSPHRASE)).unwrap();
    let other = CertificateAuthority::open(&ca_dir, Some(PASSPHRASE)).unwrap();
    assert_eq!(
        CertificateAuthority::renew_dir(&ca_dir, Some(PASSPHRASE), later).unwrap(),
        3
    );
    let mut req = request("Dewi", KeyType::P256);
    req.not_before = later;
    let (_, a) = stale.issue(req.clone()).unwrap();
    let (_, b) = other.issue(req).unwrap();
    let reopened = CertificateAuthority::open(&ca_dir, Some(PASSPHRASE)).unwrap();
    assert_eq!(reopened.current_issuing(), CaName::Issuing(3));
    for c in [&a, &b] {
        let serial = serial_hex(&c.tbs_certificate.serial_number);
        assert!(reopened.find(&serial).unwrap().is_some(), "{serial} kept");
    }

    // Close to the root's end a renewal is refused (a new root would be needed).
    let err =
        CertificateAuthority::renew_dir(&ca_dir, Some(PASSPHRASE), SystemTime::now() + 20 * YEAR)
            .unwrap_err();
    assert!(err.message().contains("new root"), "{err}");
    // A wrong passphrase renews nothing.
    assert!(CertificateAuthority::renew_dir(&ca_dir, Some(b"wrong"), later).is_err());
    assert!(!ca_dir.join("issuing-4.pem").exists());
}
