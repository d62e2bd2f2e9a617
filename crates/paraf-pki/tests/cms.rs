//! CMS SignedData built by us, verified by `openssl cms`; unsigned attributes added afterwards
//! keep the signature valid.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use std::time::SystemTime;

use common::*;
use paraf_pki::cms::{
    add_unsigned_attribute, build_detached_signed_data, signature_time_stamp_attribute,
    signature_value, verify_signed_data, SignedAttrsOptions,
};
use paraf_pki::{
    DigestAlg, KeyType, PkiErrorKind, SignatureScheme, Signer, SoftSigner, Timestamper,
};

#[test]
fn detached_signed_data_verifies_with_openssl_for_every_key_type() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let root = ca_dir.join("root.pem");
    let content = b"%PDF-1.7 pretend these are the byte ranges of a PDF".repeat(1000);

    let cases: Vec<(KeyType, Option<SignatureScheme>)> = vec![
        (KeyType::P256, None),
        (KeyType::P384, None),
        (KeyType::Rsa2048, None),
        (
            KeyType::Rsa2048,
            Some(SignatureScheme::RsaPss(DigestAlg::Sha256)),
        ),
        (
            KeyType::Rsa3072,
            Some(SignatureScheme::RsaPkcs1v15(DigestAlg::Sha512)),
        ),
    ];
    for (kt, scheme) in cases {
        let (key, cert) = ca.issue(request("Budi", kt)).unwrap();
        let signer = SoftSigner::new(key, cert, ca.signer_chain(), scheme).unwrap();
        let digest = signer.scheme().digest().digest(&content);
        for signing_time in [None, Some(SystemTime::now())] {
            let opts = SignedAttrsOptions {
                signing_time,
                ..SignedAttrsOptions::default()
            };
            let sig = build_detached_signed_data(&signer, &digest, &opts).unwrap();
            let (ok, out) = openssl_cms_verify(dir.path(), &sig, &content, &root);
            assert!(ok, "{kt} {scheme:?}: {out}");
            assert!(out.contains("Verification successful"), "{out}");
            assert_eq!(
                verify_signed_data(&sig, Some(&digest)).unwrap(),
                *signer.certificate()
            );

            let mut flipped = content.clone();
            flipped[1000] ^= 0x20;
            let (ok, out) = openssl_cms_verify(dir.path(), &sig, &flipped, &root);
            assert!(!ok, "a changed byte must fail: {out}");
            let other = signer.scheme().digest().digest(&flipped);
            assert_eq!(
                verify_signed_data(&sig, Some(&other)).unwrap_err().kind(),
                PkiErrorKind::Crypto
            );

            // Attributes as PAdES wants them.
            let sig_path = dir.path().join("s.der");
            std::fs::write(&sig_path, &sig).unwrap();
            let text = openssl_ok(&[
                "cms",
                "-cmsout",
                "-print",
                "-inform",
                "DER",
                "-in",
                p(&sig_path),
            ]);
            assert!(text.contains("id-smime-aa-signingCertificateV2"), "{text}");
            assert!(text.contains("messageDigest"), "{text}");
            assert!(text.contains("contentType"), "{text}");
            assert_eq!(
                text.contains("signingTime"),
                signing_time.is_some(),
                "{text}"
            );
            assert!(text.contains("eContent: <ABSENT>"), "{text}");
        }
    }
}

#[test]
fn timestamp_token_attached_as_unsigned_attribute_keeps_signature_valid() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let (key, cert) = ca.issue(request("Budi", KeyType::P256)).unwrap();
    let signer = SoftSigner::new(key, cert, ca.signer_chain(), None).unwrap();
    let content = b"document".to_vec();
    let digest = DigestAlg::Sha256.digest(&content);
    let sig = build_detached_signed_data(&signer, &digest, &SignedAttrsOptions::default()).unwrap();

    let sv = signature_value(&sig).unwrap();
    let token = ca
        .tsa()
        .timestamp(DigestAlg::Sha256, &DigestAlg::Sha256.digest(&sv))
        .unwrap();
    let with_ts =
        add_unsigned_attribute(&sig, signature_time_stamp_attribute(&token).unwrap()).unwrap();
    assert!(with_ts.len() > sig.len() + token.len());
    assert_eq!(
        signature_value(&with_ts).unwrap(),
        sv,
        "signature bytes unchanged"
    );

    let (ok, out) = openssl_cms_verify(dir.path(), &with_ts, &content, &ca_dir.join("root.pem"));
    assert!(ok, "{out}");
    let p7 = dir.path().join("ts.der");
    std::fs::write(&p7, &with_ts).unwrap();
    let text = openssl_ok(&["cms", "-cmsout", "-print", "-inform", "DER", "-in", p(&p7)]);
    assert!(text.contains("id-smime-aa-timeStampToken"), "{text}");
    verify_signed_data(&with_ts, Some(&digest)).unwrap();

    // The embedded token verifies against the signature value with openssl ts.
    let sv_path = dir.path().join("sv.bin");
    std::fs::write(&sv_path, &sv).unwrap();
    let tok_path = dir.path().join("token.der");
    std::fs::write(&tok_path, &token).unwrap();
    let out = openssl_ok(&[
        "ts",
        "-verify",
        "-data",
        p(&sv_path),
        "-in",
        p(&tok_path),
        "-token_in",
        "-CAfile",
        p(&ca_dir.join("root.pem")),
        "-untrusted",
        p(&ca_dir.join("issuing.pem")),
    ]);
    assert!(out.contains("Verification: OK"), "{out}");

    // A second token (another serial, so another value) goes next to the first; the
    // signature still verifies and both tokens are there.
    let token2 = ca
        .tsa()
        .timestamp(DigestAlg::Sha256, &DigestAlg::Sha256.digest(&sv))
        .unwrap();
    assert_ne!(token2, token);
    let twice =
        add_unsigned_attribute(&with_ts, signature_time_stamp_attribute(&token2).unwrap()).unwrap();
    verify_signed_data(&twice, Some(&digest)).unwrap();
    let (ok, out) = openssl_cms_verify(dir.path(), &twice, &content, &ca_dir.join("root.pem"));
    assert!(ok, "{out}");
    std::fs::write(&p7, &twice).unwrap();
    let text = openssl_ok(&["cms", "-cmsout", "-print", "-inform", "DER", "-in", p(&p7)]);
    assert_eq!(
        text.matches("id-smime-aa-timeStampToken").count(),
        2,
        "{text}"
    );
    // The same token twice is refused rather than silently duplicated.
    assert!(
        add_unsigned_attribute(&with_ts, signature_time_stamp_attribute(&token).unwrap()).is_err()
    );
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    for bad in [
        &b""[..],
        b"\x30\x80\x00\x00",
        b"\x30\x05\x06\x03\x2a\x03\x04",
        b"\xff\xff",
    ] {
        assert!(signature_value(bad).is_err());
        assert!(
            add_unsigned_attribute(bad, signature_time_stamp_attribute(b"\x30\x00").unwrap())
                .is_err()
        );
        assert!(verify_signed_data(bad, None).is_err());
    }
}

#[test]
fn soft_signer_refuses_a_foreign_certificate() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    let (_, cert) = ca.issue(request("A", KeyType::P256)).unwrap();
    let other = paraf_pki::PrivateKey::generate(KeyType::P256).unwrap();
    assert_eq!(
        SoftSigner::new(other, cert.clone(), vec![], None)
            .unwrap_err()
            .kind(),
        PkiErrorKind::InvalidInput
    );
    let (key, cert) = ca.issue(request("B", KeyType::P256)).unwrap();
    let e = SoftSigner::new(
        key,
        cert,
        vec![],
        Some(SignatureScheme::RsaPss(DigestAlg::Sha256)),
    )
    .unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::Unsupported);
}
