//! PKCS#11 against SoftHSM2: keys generated on the token (by us and by `pkcs11-tool`),
//! certified by the CA, signing CMS that `openssl cms -verify` accepts.
//!
//! Needs `softhsm2` (and `opensc` for pkcs11-tool) installed; the test fails, not skips, when
//! the module is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use paraf_pki::cms::{build_detached_signed_data, SignedAttrsOptions};
use paraf_pki::{pkcs11, KeyType, Pkcs11Signer, PkiErrorKind, Signer};

const MODULE_CANDIDATES: [&str; 3] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];

fn module() -> &'static Path {
    MODULE_CANDIDATES.iter().map(Path::new).find(|p| p.exists()).unwrap_or_else(|| {
        panic!("SoftHSM2 module not found in {MODULE_CANDIDATES:?}: install it with `apt-get install -y softhsm2 opensc`")
    })
}

#[test]
fn token_keys_sign_cms_that_openssl_verifies() {
    let module = module();
    let dir = tmp();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    // SoftHSM reads this when the module is initialised, which happens in this test only: the
    // whole PKCS#11 scenario is one test so the process-wide setting is set before any use.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let out = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            "paraf",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util is installed (apt-get install -y softhsm2)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

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
    let mut ca = new_ca(&ca_dir, KeyType::P256);
    let root = ca_dir.join("root.pem");
    let content = b"PDF byte ranges".repeat(300);
    let content_path = dir.path().join("content.bin");
    std::fs::write(&content_path, &content).unwrap();

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
        let sig_path = dir.path().join("sig.der");
        std::fs::write(&sig_path, &sig).unwrap();
        let out = openssl_ok(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            p(&sig_path),
            "-content",
            p(&content_path),
            "-CAfile",
            p(&root),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ]);
        assert!(out.contains("Verification successful"), "{label}: {out}");
        let mut flipped = content.clone();
        flipped[0] ^= 1;
        let flipped_path = dir.path().join("flipped.bin");
        std::fs::write(&flipped_path, &flipped).unwrap();
        let (ok, _) = openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            p(&sig_path),
            "-content",
            p(&flipped_path),
            "-CAfile",
            p(&root),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ]);
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
