//! Key generation, signing and verification for every key type and scheme, checked by us and by
//! `openssl dgst`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use common::*;
use paraf_pki::{verify_signature, DigestAlg, KeyType, PkiErrorKind, PrivateKey, SignatureScheme};

fn schemes_for(kt: KeyType) -> Vec<SignatureScheme> {
    use DigestAlg::*;
    match kt {
        KeyType::Rsa2048 | KeyType::Rsa3072 => [Sha256, Sha384, Sha512]
            .into_iter()
            .flat_map(|d| [SignatureScheme::RsaPkcs1v15(d), SignatureScheme::RsaPss(d)])
            .collect(),
        KeyType::P256 => vec![SignatureScheme::Ecdsa(Sha256)],
        KeyType::P384 => vec![SignatureScheme::Ecdsa(Sha384)],
    }
}

#[test]
fn every_key_type_and_scheme_signs_and_openssl_verifies() {
    let dir = tmp();
    let message = b"Paraf: the document bytes to sign".repeat(100);
    let msg_path = dir.path().join("msg.bin");
    std::fs::write(&msg_path, &message).unwrap();

    for kt in [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::P256,
        KeyType::P384,
    ] {
        let key = PrivateKey::generate(kt).unwrap();
        // PKCS#8 roundtrip keeps the key.
        let again = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.public_key_der(), key.public_key_der());

        let spki_path = dir.path().join(format!("{kt}.spki.der"));
        std::fs::write(&spki_path, key.public_key_der()).unwrap();
        let pem_path = dir.path().join(format!("{kt}.pub.pem"));
        openssl_ok(&[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            p(&spki_path),
            "-out",
            p(&pem_path),
        ]);

        assert!(key.supports(key.default_scheme()));
        for scheme in schemes_for(kt) {
            let sig = key.sign(scheme, &message).unwrap();
            verify_signature(
                &key.public_key_der(),
                &scheme.algorithm_identifier(),
                &message,
                &sig,
            )
            .unwrap();

            let mut tampered = message.clone();
            tampered[5] ^= 1;
            let e = verify_signature(
                &key.public_key_der(),
                &scheme.algorithm_identifier(),
                &tampered,
                &sig,
            )
            .unwrap_err();
            assert_eq!(e.kind(), PkiErrorKind::Crypto);

            let sig_path = dir.path().join("sig.bin");
            std::fs::write(&sig_path, &sig).unwrap();
            let dgst = format!("-{}", scheme.digest().name());
            let mut args = vec![
                "dgst",
                dgst.as_str(),
                "-verify",
                p(&pem_path),
                "-signature",
                p(&sig_path),
            ];
            if matches!(scheme, SignatureScheme::RsaPss(_)) {
                args.extend([
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:digest",
                ]);
            }
            args.push(p(&msg_path));
            let out = openssl_ok(&args);
            assert!(out.contains("Verified OK"), "{kt} {scheme:?}: {out}");
        }
    }
}

#[test]
fn openssl_generated_keys_load_and_sign() {
    let dir = tmp();
    for (alg, opts) in [
        ("RSA", vec!["-pkeyopt", "rsa_keygen_bits:2048"]),
        ("EC", vec!["-pkeyopt", "ec_paramgen_curve:P-384"]),
    ] {
        let pem_path = dir.path().join(format!("{alg}.pem"));
        let key_path = dir.path().join(format!("{alg}.der"));
        let mut args = vec!["genpkey", "-algorithm", alg];
        args.extend(opts);
        args.extend(["-out", p(&pem_path)]);
        openssl_ok(&args);
        openssl_ok(&[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            p(&pem_path),
            "-outform",
            "DER",
            "-out",
            p(&key_path),
        ]);
        let key = PrivateKey::from_pkcs8_der(&std::fs::read(&key_path).unwrap()).unwrap();
        let sig = key.sign(key.default_scheme(), b"hello").unwrap();
        verify_signature(
            &key.public_key_der(),
            &key.default_scheme().algorithm_identifier(),
            b"hello",
            &sig,
        )
        .unwrap();
    }
}

#[test]
fn unsupported_private_key_is_a_clear_error() {
    let dir = tmp();
    let key_path = dir.path().join("ed.der");
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "ED25519",
        "-outform",
        "DER",
        "-out",
        p(&key_path),
    ]);
    let e = PrivateKey::from_pkcs8_der(&std::fs::read(&key_path).unwrap()).unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::Unsupported, "{e}");
}

#[test]
fn key_type_names_parse() {
    for kt in [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::P256,
        KeyType::P384,
    ] {
        assert_eq!(kt.name().parse::<KeyType>().unwrap(), kt);
    }
    assert_eq!(
        "ed25519".parse::<KeyType>().unwrap_err().kind(),
        PkiErrorKind::InvalidInput
    );
}
