//! The built-in TSA answering `openssl ts` requests, verified by `openssl ts -verify`; our RFC
//! 3161 client against it; refusals for bad requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use der::Decode;
use paraf_pki::tsp::{self, TimeStampResp};
use paraf_pki::{oids, DigestAlg, KeyType, PkiErrorKind, Timestamper};

#[test]
fn openssl_query_reply_verifies() {
    let dir = tmp();
    let ca_dir = dir.path().join("ca");
    let ca = new_ca(&ca_dir, KeyType::P256);
    let data = dir.path().join("data.bin");
    std::fs::write(&data, b"some document".repeat(50)).unwrap();

    for (digest, cert) in [("-sha256", true), ("-sha384", false), ("-sha512", true)] {
        let q = dir.path().join("q.tsq");
        let mut args = vec!["ts", "-query", "-data", p(&data), digest, "-out", p(&q)];
        if cert {
            args.push("-cert");
        }
        openssl_ok(&args);
        let resp = ca
            .tsa()
            .respond(&std::fs::read(&q).unwrap(), SystemTime::now());
        let r = dir.path().join("r.tsr");
        std::fs::write(&r, &resp).unwrap();

        let root = ca_dir.join("root.pem");
        let issuing = ca_dir.join("issuing.pem");
        let tsa = ca_dir.join("tsa.pem");
        let mut verify = vec![
            "ts",
            "-verify",
            "-data",
            p(&data),
            "-in",
            p(&r),
            "-CAfile",
            p(&root),
        ];
        // openssl ts takes one -untrusted file: the TSA certificate (needed when the token
        // carries no certificates) and the issuing CA together.
        let untrusted = dir.path().join("untrusted.pem");
        std::fs::write(
            &untrusted,
            [
                std::fs::read(&tsa).unwrap(),
                std::fs::read(&issuing).unwrap(),
            ]
            .concat(),
        )
        .unwrap();
        verify.extend(["-untrusted", p(&untrusted)]);
        let out = openssl_ok(&verify);
        assert!(out.contains("Verification: OK"), "{digest}: {out}");
        let out = openssl_ok(&[
            "ts",
            "-verify",
            "-queryfile",
            p(&q),
            "-in",
            p(&r),
            "-CAfile",
            p(&ca_dir.join("root.pem")),
            "-untrusted",
            p(&untrusted),
        ]);
        assert!(
            out.contains("Verification: OK"),
            "{digest} nonce and imprint: {out}"
        );

        let text = openssl_ok(&["ts", "-reply", "-in", p(&r), "-text"]);
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(
            text.contains(&format!("Policy OID: {}", oids::TSA_POLICY)),
            "{text}"
        );
        assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");
        assert!(
            text.contains("TSA: DirName:/O=Paraf Test/CN=Paraf Test Time Stamping Authority"),
            "{text}"
        );
        let parsed = TimeStampResp::from_der(&resp).unwrap();
        let token = der::Encode::to_der(&parsed.time_stamp_token.unwrap()).unwrap();
        let sd = paraf_pki::cms::parse_signed_data(&token).unwrap();
        assert_eq!(
            sd.certificates.is_some(),
            cert,
            "certReq decides whether certificates are included"
        );
    }
}

#[test]
fn our_client_against_our_tsa() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::Rsa2048);
    let digest = DigestAlg::Sha384.digest(b"abc");
    let req = tsp::build_request(
        DigestAlg::Sha384,
        &digest,
        Some(0xfedc_ba98_7654_3210),
        true,
    )
    .unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let resp = ca.tsa().respond(&req, now);
    let token = tsp::parse_response(
        &resp,
        DigestAlg::Sha384,
        &digest,
        Some(0xfedc_ba98_7654_3210),
    )
    .unwrap();
    let tst = tsp::verify_token(&token).unwrap();
    assert_eq!(tst.gen_time.to_unix_duration().as_secs(), 1_900_000_000);
    assert_eq!(tst.policy, oids::TSA_POLICY);
    assert_eq!(tst.serial_number.as_bytes().len(), 16);

    // Wrong nonce, wrong digest.
    assert_eq!(
        tsp::parse_response(&resp, DigestAlg::Sha384, &digest, Some(1))
            .unwrap_err()
            .kind(),
        PkiErrorKind::Crypto
    );
    let other = DigestAlg::Sha384.digest(b"abd");
    assert_eq!(
        tsp::parse_response(&resp, DigestAlg::Sha384, &other, None)
            .unwrap_err()
            .kind(),
        PkiErrorKind::Crypto
    );

    // Two tokens for the same imprint have different serials.
    let t2 = ca.tsa().token(DigestAlg::Sha384, &digest, now).unwrap();
    assert_ne!(tsp::tst_info(&t2).unwrap().serial_number, tst.serial_number);

    // The Timestamper impl uses the injected clock.
    let ca = ca.with_clock(paraf_pki::Clock::fixed(now + Duration::from_secs(5)));
    let t3 = ca
        .tsa()
        .timestamp(DigestAlg::Sha256, &DigestAlg::Sha256.digest(b"x"))
        .unwrap();
    assert_eq!(
        tsp::tst_info(&t3)
            .unwrap()
            .gen_time
            .to_unix_duration()
            .as_secs(),
        1_900_000_005
    );
}

#[test]
fn bad_requests_get_rejections_not_panics() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    let now = SystemTime::now();
    let status = |resp: &[u8]| TimeStampResp::from_der(resp).unwrap().status;

    for garbage in [
        &b""[..],
        b"hello",
        b"\x30\x03\x02\x01\x07",
        b"\x30\x80\x00\x00",
    ] {
        let s = status(&ca.tsa().respond(garbage, now));
        assert_eq!(s.status, 2);
        assert!(s.fail_info.is_some());
    }
    // SHA-1 imprint: badAlg, and openssl reads the refusal.
    let q = dir.path().join("q.tsq");
    let data = dir.path().join("d");
    std::fs::write(&data, b"x").unwrap();
    openssl_ok(&["ts", "-query", "-data", p(&data), "-sha1", "-out", p(&q)]);
    let r = dir.path().join("r.tsr");
    std::fs::write(&r, ca.tsa().respond(&std::fs::read(&q).unwrap(), now)).unwrap();
    let text = openssl_ok(&["ts", "-reply", "-in", p(&r), "-text"]);
    assert!(text.contains("Status: Rejected"), "{text}");
    assert!(
        text.to_lowercase()
            .contains("unrecognized or unsupported algorithm identifier"),
        "{text}"
    );
    // Unknown policy.
    let query_with_policy = |policy: &str| {
        openssl_ok(&[
            "ts",
            "-query",
            "-data",
            p(&data),
            "-sha256",
            "-tspolicy",
            policy,
            "-out",
            p(&q),
        ])
    };
    query_with_policy("1.2.3.4");
    std::fs::write(&r, ca.tsa().respond(&std::fs::read(&q).unwrap(), now)).unwrap();
    let text = openssl_ok(&["ts", "-reply", "-in", p(&r), "-text"]);
    assert!(text.contains("Status: Rejected"), "{text}");
    assert!(
        text.contains("requested TSA policy is not supported"),
        "{text}"
    );
    // Our own policy is accepted.
    let policy = oids::TSA_POLICY.to_string();
    query_with_policy(&policy);
    assert_eq!(
        status(&ca.tsa().respond(&std::fs::read(&q).unwrap(), now)).status,
        0
    );

    // Our client reports the refusal.
    let e = tsp::parse_response(
        &ca.tsa().respond(b"junk", now),
        DigestAlg::Sha256,
        &[0; 32],
        None,
    )
    .unwrap_err();
    assert_eq!(e.kind(), PkiErrorKind::Rejected);
    // Wrong digest length is refused before sending.
    assert_eq!(
        tsp::build_request(DigestAlg::Sha256, &[0; 20], None, true)
            .unwrap_err()
            .kind(),
        PkiErrorKind::InvalidInput
    );
}
