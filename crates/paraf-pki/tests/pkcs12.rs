//! PKCS#12 files we write are read by openssl and Python `cryptography`; files openssl writes
//! (modern and `-legacy`) are read by us.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use common::*;
use paraf_pki::x509::cert_to_der;
use paraf_pki::{pkcs12, KeyType, PkiErrorKind, Signer, SoftSigner};

#[test]
fn our_pkcs12_is_read_by_openssl_and_python() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    for kt in [KeyType::Rsa2048, KeyType::P384] {
        let (key, cert) = ca.issue(request("Budi Santoso", kt)).unwrap();
        let p12 =
            pkcs12::build(&key, &cert, &ca.signer_chain(), "pässword", "Budi Santoso").unwrap();
        let path = dir.path().join("budi.p12");
        std::fs::write(&path, &p12).unwrap();

        let info = |pass: &str| {
            let pass = format!("pass:{pass}");
            openssl(&[
                "pkcs12",
                "-info",
                "-nokeys",
                "-in",
                p(&path),
                "-passin",
                &pass,
            ])
        };
        let (ok, out) = info("pässword");
        assert!(ok, "{out}");
        assert!(out.contains("MAC: sha256"), "{out}");
        assert!(out.contains("PBES2, PBKDF2, AES-256-CBC"), "{out}");
        assert_eq!(
            out.matches("-----BEGIN CERTIFICATE-----").count(),
            3,
            "{out}"
        );
        let out = openssl_ok(&[
            "pkcs12",
            "-in",
            p(&path),
            "-passin",
            "pass:pässword",
            "-nocerts",
            "-nodes",
        ]);
        assert!(out.contains("-----BEGIN PRIVATE KEY-----"), "{out}");
        let (ok, out) = info("wrong");
        assert!(!ok, "{out}");

        let script = r#"
import sys
from cryptography.hazmat.primitives.serialization import pkcs12
data = open(sys.argv[1], 'rb').read()
key, cert, extra = pkcs12.load_key_and_certificates(data, sys.argv[2].encode())
assert key is not None
print(cert.subject.rfc4514_string())
print(len(extra))
"#;
        let (ok, out) = run("python3", &["-c", script, p(&path), "pässword"]);
        assert!(ok, "python cryptography could not read it: {out}");
        assert!(out.contains("CN=Budi Santoso"), "{out}");
        assert!(out.lines().any(|l| l.trim() == "2"), "{out}");

        // And we read our own back.
        let signer = SoftSigner::from_pkcs12(&p12, "pässword").unwrap();
        assert_eq!(
            cert_to_der(signer.certificate()).unwrap(),
            cert_to_der(&cert).unwrap()
        );
        assert_eq!(signer.chain().len(), 2);
        assert_eq!(signer.chain()[0], *ca.issuing_cert());
        assert_eq!(signer.chain()[1], *ca.root_cert());
        let e = pkcs12::parse(&p12, "wrong").unwrap_err();
        assert_eq!(e.kind(), PkiErrorKind::BadPassword, "{e}");
    }
}

#[test]
fn openssl_made_pkcs12_modern_and_legacy_are_read() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let (key, cert) = ca.issue(request("Siti", KeyType::Rsa2048)).unwrap();
    let key_pem = dir.path().join("key.pem");
    let key_der = dir.path().join("key.der");
    std::fs::write(&key_der, key.to_pkcs8_der().unwrap().as_slice()).unwrap();
    openssl_ok(&[
        "pkey",
        "-inform",
        "DER",
        "-in",
        p(&key_der),
        "-out",
        p(&key_pem),
    ]);
    let cert_pem = write_pem(dir.path(), "cert.pem", &cert);
    let chain = dir.path().join("chain.pem");
    std::fs::write(
        &chain,
        [
            std::fs::read(ca_dir.join("issuing.pem")).unwrap(),
            std::fs::read(ca_dir.join("root.pem")).unwrap(),
        ]
        .concat(),
    )
    .unwrap();

    for legacy in [false, true] {
        let out_path = dir
            .path()
            .join(if legacy { "legacy.p12" } else { "modern.p12" });
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            p(&key_pem),
            "-in",
            p(&cert_pem),
            "-certfile",
            p(&chain),
            "-passout",
            "pass:secret",
            "-out",
            p(&out_path),
        ];
        if legacy {
            args.push("-legacy");
        }
        let (ok, out) = openssl(&args);
        if legacy && !ok && out.contains("legacy") {
            // OpenSSL without the legacy provider cannot write it; nothing to test then.
            panic!("openssl cannot write -legacy PKCS#12 here: {out}");
        }
        assert!(ok, "{out}");
        let mut info_args = vec![
            "pkcs12",
            "-info",
            "-nokeys",
            "-noout",
            "-in",
            p(&out_path),
            "-passin",
            "pass:secret",
        ];
        if legacy {
            info_args.push("-legacy");
        }
        let info = openssl_ok(&info_args);
        if legacy {
            assert!(info.contains("pbeWithSHA1And"), "{info}");
        }
        let der = std::fs::read(&out_path).unwrap();
        let (k, c, ch) = pkcs12::parse(&der, "secret").unwrap();
        assert_eq!(k.public_key_der(), key.public_key_der(), "legacy={legacy}");
        assert_eq!(c, cert);
        assert_eq!(ch, ca.signer_chain());
        assert_eq!(
            pkcs12::parse(&der, "nope").unwrap_err().kind(),
            PkiErrorKind::BadPassword
        );
    }
}

#[test]
fn garbage_and_keyless_files() {
    assert_eq!(
        pkcs12::parse(b"not a pfx", "x").unwrap_err().kind(),
        PkiErrorKind::Malformed
    );
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    new_ca(&ca_dir, KeyType::P256);
    let out = dir.path().join("certs.p12");
    openssl_ok(&[
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        p(&ca_dir.join("root.pem")),
        "-passout",
        "pass:x",
        "-out",
        p(&out),
    ]);
    let e = pkcs12::parse(&std::fs::read(&out).unwrap(), "x").unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::NotFound, "{e}");
}
