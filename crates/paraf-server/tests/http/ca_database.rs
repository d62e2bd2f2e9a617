//! The CA in the database (`ca_store = database`, issue 16) on both backends: two instances
//! with different, empty data directories started at the same moment on one database install
//! one CA and one first organisation; a certificate issued by one is known to the other's OCSP
//! responder, revoked through the other, and both CRLs — the same bytes — list it with a CRL
//! number that only grows; concurrent revocations on both instances all land. A CA directory
//! made with `ca_store = file` is imported at the first start with `database`, with the
//! issuing CAs its renewals made; renewals in the database reach every instance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::SystemTime;

use paraf_pki::asn1::x509_cert::Certificate;
use paraf_pki::ca::crl_summary;
use paraf_pki::ocsp::{build_request, parse_response, OcspCertStatus};
use paraf_pki::x509::{cert_from_pem, serial_hex};
use paraf_pki::{CaName, KeyType, RevocationReason};
use paraf_server::config::CaLocation;
use paraf_server::Config;

use crate::common::*;

const PASSPHRASE: &str = "correct horse battery staple of the CA";

fn in_database(c: &mut Config) {
    c.ca_store = CaLocation::Database;
    c.ca_passphrase = Some(PASSPHRASE.to_string().into());
}

/// The CA in the data directory's files, sealed under the passphrase.
fn in_files(c: &mut Config) {
    c.ca_store = CaLocation::File;
    c.ca_passphrase = Some(PASSPHRASE.to_string().into());
}

/// A second instance's configuration: the same database, its own empty data directory.
fn elsewhere(base: &Config, dir: &tempfile::TempDir) -> Config {
    let mut c = base.clone();
    c.data_dir = dir.path().to_path_buf();
    c
}

async fn issue(app: &TestApp, cn: &str) -> Certificate {
    crate::pki::issue(app, cn, KeyType::P256).await.1
}

async fn revoke(app: &TestApp, cert: &Certificate, reason: RevocationReason) {
    let pki = app.state.pki.clone();
    let serial = serial_hex(&cert.tbs_certificate.serial_number);
    tokio::task::spawn_blocking(move || {
        pki.modify(|ca| ca.revoke(&serial, reason, SystemTime::now()))
    })
    .await
    .unwrap()
    .unwrap();
}

async fn issuing(app: &TestApp) -> Certificate {
    let (s, _, pem) = fetch(app, "/pki/ca/issuing.pem").await;
    assert_eq!(s, 200);
    cert_from_pem(&pem).unwrap()
}

async fn ocsp(app: &TestApp, cert: &Certificate) -> OcspCertStatus {
    let issuer = issuing(app).await;
    let body = build_request(cert, &issuer).unwrap();
    let r = app
        .post("/pki/ocsp")
        .header("content-type", "application/ocsp-request")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let der = r.bytes().await.unwrap();
    parse_response(&der, cert, &issuer, None).unwrap().status
}

/// The issuing CA's CRL: its DER, number and revoked serials.
async fn crl(app: &TestApp) -> (Vec<u8>, u128, Vec<String>) {
    let (s, _, der) = fetch(app, "/pki/crl/issuing.crl").await;
    assert_eq!(s, 200);
    let summary = crl_summary(&der).unwrap();
    (der, summary.number.expect("CRL number"), summary.revoked)
}

async fn two_instances_share_one_ca(backend: Backend) {
    let f = Arc::new(fresh(backend).await);
    let clock = Arc::new(paraf_domain::ManualClock::new(now_utc()));
    let mut base = config_for(&f);
    in_database(&mut base);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Both start at once on empty data directories.
    let (a, b) = tokio::join!(
        start(f.clone(), clock.clone(), elsewhere(&base, &dir_a)),
        start(f.clone(), clock.clone(), elsewhere(&base, &dir_b)),
    );
    assert_eq!(
        usize::from(a.first.is_some()) + usize::from(b.first.is_some()),
        1,
        "exactly one instance creates the first organisation"
    );
    assert_eq!(a.store.list_organisations().await.unwrap().len(), 1);
    let (_, _, root_a) = fetch(&a, "/pki/ca/root.pem").await;
    let (_, _, root_b) = fetch(&b, "/pki/ca/root.pem").await;
    assert_eq!(root_a, root_b, "one CA");
    assert!(a.state.pki.in_database() && b.state.pki.in_database());
    // Nothing of the CA on either disk: keys are sealed under the passphrase in the database.
    for dir in [&dir_a, &dir_b] {
        assert!(!dir.path().join("ca").exists(), "{:?}", dir.path());
    }

    // Issued on A, known to B; revoked through B, seen revoked by A.
    let cert = issue(&a, "Budi Santoso").await;
    assert_eq!(ocsp(&b, &cert).await, OcspCertStatus::Good);
    assert_eq!(ocsp(&a, &cert).await, OcspCertStatus::Good);
    let (crl_before, n_before, listed) = crl(&a).await;
    assert!(listed.is_empty());
    assert_eq!(crl(&b).await.0, crl_before, "both hand out the same CRL");
    revoke(&b, &cert, RevocationReason::KeyCompromise).await;
    for app in [&a, &b] {
        match ocsp(app, &cert).await {
            OcspCertStatus::Revoked { reason, .. } => {
                assert_eq!(reason, Some(RevocationReason::KeyCompromise));
            }
            other => panic!("{other:?}"),
        }
    }
    let serial = serial_hex(&cert.tbs_certificate.serial_number);
    let (crl_a, n_a, listed_a) = crl(&a).await;
    let (crl_b, n_b, listed_b) = crl(&b).await;
    assert_eq!(crl_a, crl_b, "both hand out the same CRL");
    assert_eq!(listed_a, vec![serial.clone()]);
    assert_eq!(listed_b, listed_a);
    assert!(n_a > n_before, "CRL numbers grow");
    assert_eq!(n_a, n_b);

    // Revoking again is refused whichever instance is asked.
    let pki = a.state.pki.clone();
    let again = tokio::task::spawn_blocking(move || {
        pki.modify(|ca| ca.revoke(&serial, RevocationReason::Superseded, SystemTime::now()))
    })
    .await
    .unwrap();
    assert!(again.unwrap_err().to_string().contains("already revoked"));

    // Concurrent issues and revocations on both instances all land.
    let mut certs = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        certs.push(issue(app, &format!("Signer {i}")).await);
    }
    let mut tasks = Vec::new();
    for (i, c) in certs.iter().enumerate() {
        let pki = if i % 2 == 0 {
            b.state.pki.clone()
        } else {
            a.state.pki.clone()
        };
        let serial = serial_hex(&c.tbs_certificate.serial_number);
        tasks.push(tokio::task::spawn_blocking(move || {
            pki.modify(|ca| ca.revoke(&serial, RevocationReason::Superseded, SystemTime::now()))
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let (crl_a, n_after, listed) = crl(&a).await;
    assert_eq!(listed.len(), 7, "{listed:?}");
    assert!(n_after > n_a);
    assert_eq!(crl(&b).await.0, crl_a);
    let issued = tokio::task::spawn_blocking({
        let pki = b.state.pki.clone();
        move || pki.current().unwrap().issued().unwrap()
    })
    .await
    .unwrap();
    // The issuing CA, the TSA and seven signers.
    assert_eq!(issued.len(), 9);
    a.stop().await;
    b.stop().await;
}

async fn a_file_ca_is_imported(backend: Backend) {
    let f = Arc::new(fresh(backend).await);
    let clock = Arc::new(paraf_domain::ManualClock::new(now_utc()));
    let mut file = config_for(&f);
    in_files(&mut file);
    let app = start(f.clone(), clock.clone(), file.clone()).await;
    assert!(!app.state.pki.in_database());
    let cert = issue(&app, "Siti Rahayu").await;
    revoke(&app, &cert, RevocationReason::CertificateHold).await;
    let (_, _, root) = fetch(&app, "/pki/ca/root.pem").await;
    app.stop().await;

    // The same data directory, now with the CA in the database: imported, same root, same
    // records.
    let mut db = file.clone();
    db.ca_store = CaLocation::Database;
    let app = start(f.clone(), clock.clone(), db.clone()).await;
    assert!(app.state.pki.in_database());
    assert!(app.store.ca_authority().await.unwrap().unwrap().imported);
    assert_eq!(fetch(&app, "/pki/ca/root.pem").await.2, root);
    match ocsp(&app, &cert).await {
        OcspCertStatus::Revoked { reason, .. } => {
            assert_eq!(reason, Some(RevocationReason::CertificateHold));
        }
        other => panic!("{other:?}"),
    }
    // The files are a stale copy now: refused, by `paraf ca` and `file` mode alike.
    let stale = paraf_pki::CertificateAuthority::open(&db.ca_dir(), Some(PASSPHRASE.as_bytes()))
        .unwrap_err()
        .to_string();
    assert!(stale.contains("imported into the database"), "{stale}");
    // Another instance without the directory serves the imported CA too.
    let empty = tempfile::tempdir().unwrap();
    let other = start(f.clone(), clock.clone(), elsewhere(&db, &empty)).await;
    assert_eq!(fetch(&other, "/pki/ca/root.pem").await.2, root);
    let serial = serial_hex(&cert.tbs_certificate.serial_number);
    let pki = other.state.pki.clone();
    tokio::task::spawn_blocking(move || pki.modify(|ca| ca.release_hold(&serial)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ocsp(&app, &cert).await, OcspCertStatus::Good);
    other.stop().await;
    app.stop().await;

    // A data directory holding another CA than the database's: refused, not ignored.
    let foreign = tempfile::tempdir().unwrap();
    paraf_pki::CertificateAuthority::init(
        &foreign.path().join("ca"),
        paraf_pki::CaInitOptions {
            key_type: KeyType::P256,
            public_url: "http://127.0.0.1:9".into(),
            org_name: "Lain".into(),
            passphrase: Some(PASSPHRASE.as_bytes().to_vec()),
        },
        SystemTime::now(),
    )
    .unwrap();
    let store = paraf_store::Store::connect(&f.database_url).await.unwrap();
    let started = paraf_server::build_with(
        elsewhere(&db, &foreign),
        paraf_server::Services {
            clock: clock.clone(),
            entropy: Arc::new(paraf_domain::OsEntropy),
            store: Some(store),
        },
    )
    .await;
    let Err(err) = started else {
        panic!("started beside another CA")
    };
    assert!(err.to_string().contains("holds another CA"), "{err}");

    // Without the passphrase an instance with an empty directory cannot open it, and says why.
    let mut no_pass = elsewhere(&db, &empty);
    no_pass.ca_passphrase = None;
    let store = paraf_store::Store::connect(&f.database_url).await.unwrap();
    let started = paraf_server::build_with(
        no_pass,
        paraf_server::Services {
            clock,
            entropy: Arc::new(paraf_domain::OsEntropy),
            store: Some(store),
        },
    )
    .await;
    let Err(err) = started else {
        panic!("started without the passphrase")
    };
    assert!(err.to_string().contains("PARAF_CA_PASSPHRASE"), "{err}");
}

/// The issuing CA that issues now on `app`.
async fn issues(app: &TestApp) -> CaName {
    let pki = app.state.pki.clone();
    tokio::task::spawn_blocking(move || pki.current().unwrap().current_issuing())
        .await
        .unwrap()
}

/// A file CA renewed once is imported with both issuing CAs; of two instances renewing at once
/// one adds issuing CA 3 and the other loads it; a renewal on one instance reaches the other
/// at its next housekeeping round; every issuing CA stays served everywhere.
async fn a_renewal_reaches_every_instance(backend: Backend) {
    let f = Arc::new(fresh(backend).await);
    let clock = Arc::new(paraf_domain::ManualClock::new(now_utc()));
    let mut file = config_for(&f);
    in_files(&mut file);
    let app = start(f.clone(), clock.clone(), file.clone()).await;
    let old = issue(&app, "Lama").await;
    let now = SystemTime::now();
    assert_eq!(app.state.pki.renew(now).await.unwrap(), CaName::Issuing(2));
    assert_eq!(issues(&app).await, CaName::Issuing(2));
    app.stop().await;

    let mut db = file.clone();
    db.ca_store = CaLocation::Database;
    let a = start(f.clone(), clock.clone(), db.clone()).await;
    let empty = tempfile::tempdir().unwrap();
    let b = start(f.clone(), clock.clone(), elsewhere(&db, &empty)).await;
    for app in [&a, &b] {
        assert_eq!(issues(app).await, CaName::Issuing(2));
        // The first issuing CA still answers about what it issued.
        assert_eq!(ocsp(app, &old).await, OcspCertStatus::Good);
    }

    let (ra, rb) = tokio::join!(a.state.pki.renew(now), b.state.pki.renew(now));
    assert_eq!(
        (ra.unwrap(), rb.unwrap()),
        (CaName::Issuing(3), CaName::Issuing(3))
    );
    assert_eq!(a.store.ca_generation().await.unwrap(), 3, "one renewal");

    assert_eq!(a.state.pki.renew(now).await.unwrap(), CaName::Issuing(4));
    assert_eq!(issues(&b).await, CaName::Issuing(3), "not yet loaded");
    assert_eq!(b.state.core.keep_ca_current().await.unwrap(), None);
    assert_eq!(issues(&b).await, CaName::Issuing(4));
    let fresh_cert = issue(&b, "Baru").await;
    let (_, _, pem) = fetch(&b, "/pki/ca/issuing-4.pem").await;
    assert_eq!(
        fresh_cert.tbs_certificate.issuer,
        cert_from_pem(&pem).unwrap().tbs_certificate.subject
    );
    for app in [&a, &b] {
        for n in ["issuing", "issuing-2", "issuing-3", "issuing-4"] {
            let (s, _, der) = fetch(app, &format!("/pki/crl/{n}.crl")).await;
            assert_eq!(s, 200, "{n}");
            crl_summary(&der).unwrap();
        }
    }
    a.stop().await;
    b.stop().await;
}

crate::both_backends!(
    two_instances_share_one_ca,
    a_file_ca_is_imported,
    a_renewal_reaches_every_instance
);
