//! PKCS#11 against SoftHSM2: keys generated on the token (by us and by `pkcs11-tool`),
//! certified by the CA, signing CMS that `openssl cms -verify` accepts.
//!
//! Needs `softhsm2` (and `opensc` for pkcs11-tool) installed; the test fails, not skips, when
//! the module is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use common::*;
use paraf_pki::cms::{build_detached_signed_data, SignedAttrsOptions};
use paraf_pki::{pkcs11, KeyType, Pkcs11Signer, PkiErrorKind, Signer};

#[test]
fn token_keys_sign_cms_that_openssl_verifies() {
    let dir = tmp();
    // The whole PKCS#11 scenario is one test, so the process-wide SOFTHSM2_CONF is set before
    // any use of the module.
    let module = &paraf_testkit::tools::softhsm_token(dir.path(), "paraf", "1234");
    // Wrong PIN first (once a session of this process is logged in, PKCS#11 reports
    // "already logged in" instead of checking the PIN).
    let e = pkcs11::generate_key_pair(module, "paraf", "0000", "x", KeyType::P256).unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::BadPassword, "{e}");
    let e = pkcs11::generate_key_pair(module, "nope", "1234", "x", KeyType::P256).unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::NotFound, "{e}");

    // One key made by an outside tool.
    let (ok, text) = run(
        "pkcs11-tool",
        &[
            "--module",
            p(module),
            "--token-label",
            "paraf",
            "--login",
            "--pin",
            "1234",
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--label",
            "ext-ec",
            "--id",
            "e1",
        ],
    );
    assert!(ok, "pkcs11-tool (apt-get install -y opensc): {text}");

    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let root = ca_dir.join("root.pem");
    let content = b"PDF byte ranges".repeat(300);

    let mut keys = vec![];
    for (label, kt) in [
        ("rsa-key", KeyType::Rsa2048),
        ("ec-key", KeyType::P256),
        ("ec384-key", KeyType::P384),
    ] {
        let spki = pkcs11::generate_key_pair(module, "paraf", "1234", label, kt).unwrap();
        assert_eq!(
            pkcs11::public_key_spki(module, "paraf", "1234", label).unwrap(),
            spki
        );
        keys.push((label, spki));
    }
    keys.push((
        "ext-ec",
        pkcs11::public_key_spki(module, "paraf", "1234", "ext-ec").unwrap(),
    ));

    let mut certs = vec![];
    for (label, spki) in &keys {
        let cert = ca
            .issue_for_public_key(&request(label, KeyType::P256), spki)
            .unwrap();
        // The SPKI we read is the one openssl sees in the certificate.
        let cert_pem = write_pem(dir.path(), "cert.pem", &cert);
        let spki_path = dir.path().join("spki.der");
        std::fs::write(&spki_path, spki).unwrap();
        let from_cert = openssl_ok(&["x509", "-in", p(&cert_pem), "-noout", "-pubkey"]);
        let from_token = openssl_ok(&["pkey", "-pubin", "-inform", "DER", "-in", p(&spki_path)]);
        assert_eq!(from_cert, from_token);

        let signer = Pkcs11Signer::open(
            module,
            "paraf",
            "1234",
            label,
            cert.clone(),
            ca.signer_chain(),
        )
        .unwrap();
        let digest = signer.scheme().digest().digest(&content);
        let sig =
            build_detached_signed_data(&signer, &digest, &SignedAttrsOptions::default()).unwrap();
        let (ok, out) = openssl_cms_verify(dir.path(), &sig, &content, &root);
        assert!(
            ok && out.contains("Verification successful"),
            "{label}: {out}"
        );
        let mut flipped = content.clone();
        flipped[0] ^= 1;
        let (ok, _) = openssl_cms_verify(dir.path(), &sig, &flipped, &root);
        assert!(!ok, "{label}: changed content must not verify");
        certs.push(cert);
    }

    // A certificate for another key is refused at open.
    let e = Pkcs11Signer::open(module, "paraf", "1234", "rsa-key", certs[1].clone(), vec![])
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            PkiErrorKind::InvalidInput | PkiErrorKind::Crypto | PkiErrorKind::Token
        ),
        "{e}"
    );
    let e = Pkcs11Signer::open(
        module,
        "paraf",
        "1234",
        "no-such-key",
        certs[1].clone(),
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::NotFound, "{e}");
}
