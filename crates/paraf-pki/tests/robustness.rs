//! Every parser facing the network or a user file survives corrupted input: thousands of
//! mutations of valid inputs, none may panic. (A poor man's fuzzer that runs in `cargo test`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may panic

mod common;

use std::time::SystemTime;

use common::*;
use paraf_pki::cms::{
    add_unsigned_attribute, build_detached_signed_data, signature_time_stamp_attribute,
    signature_value, verify_signed_data, SignedAttrsOptions,
};
use paraf_pki::{ocsp, pkcs12, sealed, tsp, DigestAlg, KeyType, SoftSigner, Timestamper};

use paraf_testkit::rng::Rng;

fn mutations(seed: &[u8], count: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
    (0..count)
        .map(|_| {
            let mut m = seed.to_vec();
            match rng.below(4) {
                0 => {
                    let i = rng.below(m.len());
                    m[i] ^= 1 << rng.below(8);
                }
                1 => m.truncate(rng.below(m.len())),
                2 => {
                    let i = rng.below(m.len());
                    m[i] = [0x00, 0x80, 0x81, 0xff, 0x30, 0x82][rng.below(6)];
                }
                _ => {
                    let i = rng.below(m.len());
                    let j = rng.below(m.len());
                    m.splice(i..i, seed[j..(j + 8).min(seed.len())].to_vec());
                }
            }
            m
        })
        .collect()
}

#[test]
fn corrupted_inputs_never_panic() {
    let dir = tmp();
    let ca = new_ca(&dir.path().join("ca"), KeyType::P256);
    let (key, cert) = ca.issue(request("Budi", KeyType::P256)).unwrap();
    let p12 = pkcs12::build(&key, &cert, &ca.signer_chain(), "pw", "k").unwrap();
    let signer = SoftSigner::new(key, cert.clone(), ca.signer_chain(), None).unwrap();
    let digest = DigestAlg::Sha256.digest(b"x");
    let cms = build_detached_signed_data(&signer, &digest, &SignedAttrsOptions::default()).unwrap();
    let token = ca.tsa().timestamp(DigestAlg::Sha256, &digest).unwrap();
    let ts_req = tsp::build_request(DigestAlg::Sha256, &digest, Some(7), true).unwrap();
    let ts_resp = ca.tsa().respond(&ts_req, SystemTime::now());
    let ocsp_req =
        ocsp::build_request_with_nonce(&cert, ca.issuing_cert(), Some(b"nonce")).unwrap();
    let ocsp_resp = ca.ocsp_respond(&ocsp_req, SystemTime::now());
    let blob = sealed::seal_with(
        b"k",
        b"p",
        sealed::SealParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        },
    )
    .unwrap();
    let now = SystemTime::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    // A corrupted input is either rejected or means exactly what the original meant (bytes
    // outside the signed parts, such as extra certificates, may change harmlessly).
    let tst =
        tsp::tst_info(&tsp::parse_response(&ts_resp, DigestAlg::Sha256, &digest, Some(7)).unwrap())
            .unwrap();
    let status =
        ocsp::parse_response(&ocsp_resp, &cert, ca.issuing_cert(), Some(b"nonce")).unwrap();
    let mut accepted = 0;
    for m in mutations(&ts_req, 500, &mut rng) {
        let resp = ca.tsa().respond(&m, now);
        assert!(!resp.is_empty());
    }
    for m in mutations(&ts_resp, 300, &mut rng) {
        if let Ok(t) = tsp::parse_response(&m, DigestAlg::Sha256, &digest, Some(7)) {
            assert_eq!(tsp::tst_info(&t).unwrap(), tst);
            accepted += 1;
        }
    }
    for m in mutations(&ocsp_req, 500, &mut rng) {
        assert!(!ca.ocsp_respond(&m, now).is_empty());
    }
    for m in mutations(&ocsp_resp, 300, &mut rng) {
        if let Ok(r) = ocsp::parse_response(&m, &cert, ca.issuing_cert(), Some(b"nonce")) {
            assert_eq!(
                (r.status, r.this_update, r.next_update, r.produced_at),
                (
                    status.status.clone(),
                    status.this_update,
                    status.next_update,
                    status.produced_at
                )
            );
            accepted += 1;
        }
    }
    for m in mutations(&cms, 300, &mut rng) {
        let _ = signature_value(&m);
        if let Ok(c) = verify_signed_data(&m, Some(&digest)) {
            assert_eq!(
                c.tbs_certificate.subject_public_key_info,
                cert.tbs_certificate.subject_public_key_info
            );
            assert_eq!(signature_value(&m).unwrap(), signature_value(&cms).unwrap());
            accepted += 1;
        }
        let _ = add_unsigned_attribute(&m, signature_time_stamp_attribute(&token).unwrap());
    }
    for m in mutations(&token, 200, &mut rng) {
        if let Ok(t) = tsp::verify_token(&m) {
            assert_eq!(
                t.message_imprint,
                tsp::tst_info(&token).unwrap().message_imprint
            );
        }
        let _ = signature_time_stamp_attribute(&m);
    }
    for m in mutations(&p12, 100, &mut rng) {
        let _ = pkcs12::parse(&m, "pw");
    }
    for m in mutations(&blob, 200, &mut rng) {
        assert!(sealed::open(&m, b"p").is_err() || m == blob);
    }
    // Sanity: the harness did exercise the accepting paths.
    assert!(accepted > 0);
}
