//! Long-term preservation of completed envelopes (`ltv refresh`, issue 17): the housekeeping
//! reads until when each envelope's archive timestamps hold, renews a file whose archive is
//! due (a DSS with the validation data of its signatures and timestamps, then a new document
//! timestamp) so that pyHanko's AdES B-LTA validation and ours pass, leaves alone a file the
//! current TSA cannot extend, and the proof still names a document the server renewed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::audit::Actor;
use paraf_core::engine::verify::{Indication, SignatureKind};
use paraf_core::proof::ProofOutcome;
use paraf_domain::{Envelope, Plan};
use paraf_testkit::pdf::simple_pdf;
use paraf_testkit::tools::{assert_pyhanko_lta, assert_pyhanko_lta_at};

use crate::common::*;
use crate::envelopes::{alice_signs, completed_pdf, draft, sent, signer};

async fn completed(app: &TestApp, slug: &str) -> (Tenant, Envelope) {
    let tn = tenant(app, slug, Plan::Piagam).await;
    let core = &app.state.core;
    let (_, links) = sent(
        core,
        tn.org.id,
        draft(simple_pdf(), vec![signer("alice@email.com", 1, "id")]),
    )
    .await;
    let done = alice_signs(core, &links[0].url).await;
    (tn, done)
}

/// Our validator's report on `pdf`.
async fn report_of(app: &TestApp, pdf: &[u8]) -> paraf_verify::ValidationReport {
    app.state
        .core
        .verify_pdf(pdf.to_vec(), None)
        .await
        .unwrap()
        .report
}

/// The document timestamps of `pdf` per our validator, after checking that every signature
/// and timestamp passed.
async fn passed_with_timestamps(app: &TestApp, pdf: &[u8]) -> usize {
    let report = report_of(app, pdf).await;
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert!(report
        .signatures
        .iter()
        .all(|s| s.indication == Indication::TotalPassed));
    let first = &report.signatures[0];
    assert_eq!(first.level.as_deref(), Some("B-LTA"), "{first:?}");
    report
        .signatures
        .iter()
        .filter(|s| s.kind == SignatureKind::DocumentTimestamp)
        .count()
}

/// The end of the last approval signature's signed range: the file before sealing.
async fn before_the_seal(app: &TestApp, pdf: &[u8]) -> Vec<u8> {
    let report = report_of(app, pdf).await;
    let s = report
        .signatures
        .iter()
        .rfind(|s| s.kind == SignatureKind::Signature)
        .unwrap();
    let br = s.byte_range.as_ref().unwrap();
    pdf[..usize::try_from(br[2] + br[3]).unwrap()].to_vec()
}

async fn archives_are_read_then_renewed_when_due(backend: Backend) {
    let app = spawn(backend).await;
    let core = &app.state.core;
    let (tn, done) = completed(&app, "arsip").await;
    let sealed = completed_pdf(core, &done).await;
    assert_eq!(passed_with_timestamps(&app, &sealed).await, 1);

    // Sealing recorded until when it holds (the built-in TSA's certificate runs for years):
    // nothing due.
    let until = app.store.archive_until(done.id).await.unwrap().unwrap();
    assert_eq!(core.refresh_archives().await.unwrap(), 0);
    let now = app.clock.now_ts();
    assert!(until > now + chrono::Duration::days(9 * 365), "{until}");
    assert_eq!(
        completed_pdf(core, &done).await,
        sealed,
        "not due: untouched"
    );
    assert!(app
        .store
        .archives_due(now + core.config.ltv_refresh, 10)
        .await
        .unwrap()
        .is_empty());

    // A document whose archive timestamp is missing (sealed by an older release): due now.
    let bare = before_the_seal(&app, &sealed).await;
    let blob = app.state.blobs.put(&bare).await.unwrap();
    let d = &app.store.envelope_documents(done.id).await.unwrap()[0];
    app.store
        .set_document_current(d.id, &blob, None, now)
        .await
        .unwrap();
    app.store
        .set_archive_until(done.id, now - chrono::Duration::days(1))
        .await
        .unwrap();
    // Two instances at once: one renews it.
    let (a, b) = tokio::join!(core.refresh_archive(&done), core.refresh_archive(&done));
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1);
    let renewed = completed_pdf(core, &done).await;
    assert!(renewed.starts_with(&bare) && renewed.len() > bare.len());
    assert_eq!(passed_with_timestamps(&app, &renewed).await, 1);
    let f = ca_files(&app).await;
    let path = write(f.tmp.path(), "renewed.pdf", &renewed);
    assert_pyhanko_lta(&path, &f.root);
    let until_now = app.store.archive_until(done.id).await.unwrap().unwrap();
    assert!(until_now > now + chrono::Duration::days(9 * 365));
    let target = format!("envelope:{}", done.uuid);
    eventually(10, "the renewal audited", || async {
        let audit = app
            .store
            .audit_of_target(tn.org.id, &target, 100)
            .await
            .unwrap();
        audit
            .iter()
            .any(|a| a.action == "envelope.archive_renewed")
            .then_some(())
    })
    .await;
    // Nothing more is due.
    assert_eq!(core.refresh_archives().await.unwrap(), 0);
    app.stop().await;
}

/// A document the server renewed after completion stays named by the proof (its record of
/// that version vouches); a copy renewed elsewhere, or changed in any other way, does not.
async fn the_proof_names_a_renewed_document(backend: Backend) {
    let app = spawn(backend).await;
    let core = &app.state.core;
    let (tn, done) = completed(&app, "bukti").await;
    let sealed = completed_pdf(core, &done).await;
    let (cert, _) = core.envelope_proof(&done).await.unwrap();
    let ca = core.pki.current().unwrap();
    let renew = |pdf: Vec<u8>| {
        let doc = paraf_pdf::Document::load(pdf, None).unwrap();
        paraf_sign::renew_archive(
            &doc,
            paraf_sign::Services {
                timestamper: Some(ca.tsa()),
                revocation: Some(ca.as_ref()),
            },
            std::time::SystemTime::now(),
        )
        .unwrap()
    };
    let check = |doc: Vec<u8>| {
        let cert = cert.clone();
        async move {
            core.check_with_certificate(tn.org.id, &doc, cert, &Actor::cli())
                .await
                .unwrap()
                .outcome
        }
    };
    assert_eq!(check(sealed.clone()).await, ProofOutcome::Valid);
    // Renewed elsewhere (valid B-LTA, but not a version this server wrote): not vouched for.
    let elsewhere = renew(sealed.clone());
    assert_eq!(passed_with_timestamps(&app, &elsewhere).await, 2);
    assert_eq!(check(elsewhere.clone()).await, ProofOutcome::HashMismatch);
    // Renewed by the server (as the housekeeping records it): named, and still after a second
    // renewal.
    let d = &app.store.envelope_documents(done.id).await.unwrap()[0];
    let mut current = sealed.clone();
    for _ in 0..2 {
        current = renew(current);
        let blob = app.state.blobs.put(&current).await.unwrap();
        app.store
            .set_document_current(d.id, &blob, None, app.clock.now_ts())
            .await
            .unwrap();
        assert_eq!(check(current.clone()).await, ProofOutcome::Valid);
    }
    assert_eq!(passed_with_timestamps(&app, &current).await, 3);
    // A page added after the seal: not the completed document any more.
    let changed = {
        let d = paraf_pdf::Document::load(sealed.clone(), None).unwrap();
        paraf_sign::pages::add_pages(&d, &[paraf_sign::pages::NewPage::a4()], None).unwrap()
    };
    assert_eq!(check(changed).await, ProofOutcome::HashMismatch);
    app.stop().await;
}

/// Due, but the current TSA's certificate ends when the file's newest timestamp does: the
/// file is left as it is, and looked at again a week later (not every round).
async fn an_archive_the_tsa_cannot_extend_is_left_and_looked_at_weekly(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.ltv_refresh = chrono::Duration::days(20 * 365);
    })
    .await;
    let core = &app.state.core;
    let (_, done) = completed(&app, "lama").await;
    let sealed = completed_pdf(core, &done).await;
    assert_eq!(core.refresh_archives().await.unwrap(), 0);
    assert_eq!(completed_pdf(core, &done).await, sealed);
    let now = app.clock.now_ts();
    let until = app.store.archive_until(done.id).await.unwrap().unwrap();
    assert_eq!(
        until,
        now + chrono::Duration::days(7) + core.config.ltv_refresh
    );
    assert!(app
        .store
        .archives_due(now + core.config.ltv_refresh, 10)
        .await
        .unwrap()
        .is_empty());
    app.stop().await;
}

/// Years on, by the housekeeping alone: two years before the TSA's certificate ends the CA is
/// renewed (issuing CA 2 and its TSA under the same root, the first still answering OCSP and
/// CRL requests), then, a year before that certificate ends, the envelope's archive is
/// extended with the new TSA. Nine and a half years after signing — the signer's and the first
/// TSA's certificates expired — pyHanko's AdES B-LTA validation (under libfaketime, the newest
/// timestamp's revocation fetched from the server as a validator then would) passes on the
/// renewed file and fails on the file as sealed; ours passes, and still a year later, past the
/// first issuing CA's end.
async fn ten_years_on_the_ca_is_renewed_and_the_archive_extended(backend: Backend) {
    const YEAR: i64 = 365;
    let app = spawn(backend).await;
    let core = &app.state.core;
    let (_, done) = completed(&app, "sepuluh").await;
    let sealed = completed_pdf(core, &done).await;
    let first_until = app.store.archive_until(done.id).await.unwrap().unwrap();
    assert_eq!(core.keep_ca_current().await.unwrap(), None);

    app.clock.advance(chrono::Duration::days(8 * YEAR + 10));
    assert_eq!(
        core.keep_ca_current().await.unwrap(),
        Some(paraf_pki::CaName::Issuing(2))
    );
    assert_eq!(core.keep_ca_current().await.unwrap(), None, "renewed once");
    assert_eq!(core.refresh_archives().await.unwrap(), 1);
    let renewed = completed_pdf(core, &done).await;
    assert!(renewed.starts_with(&sealed) && renewed.len() > sealed.len());
    let until = app.store.archive_until(done.id).await.unwrap().unwrap();
    assert!(
        until > first_until + chrono::Duration::days(8 * YEAR),
        "{first_until} -> {until}"
    );
    assert_eq!(core.refresh_archives().await.unwrap(), 0);
    // Every issuing CA is served; one that does not exist is not.
    for (path, status) in [
        ("/pki/ca/issuing-2.pem", 200),
        ("/pki/crl/issuing-2.crl", 200),
        ("/pki/crl/issuing.crl", 200),
        ("/pki/ca/issuing-3.pem", 404),
    ] {
        let got = app.get(path).send().await.unwrap().status().as_u16();
        assert_eq!(got, status, "{path}");
    }

    app.clock.advance(chrono::Duration::days(YEAR + 170));
    let f = ca_files(&app).await;
    let path = write(f.tmp.path(), "ten-years.pdf", &renewed);
    let at = app.clock.now_ts().timestamp();
    let text = assert_pyhanko_lta_at(&path, &f.root, Some(at), true);
    assert!(text.contains("evidence="), "{text}");
    assert_eq!(passed_with_timestamps(&app, &renewed).await, 2);
    // Without the renewal the file proves nothing any more: its only archive timestamp's TSA
    // certificate has expired.
    let bare = write(f.tmp.path(), "not-renewed.pdf", &sealed);
    let (ok, text) = paraf_testkit::tools::pyhanko_lta_at(&bare, &f.root, Some(at), true);
    assert!(!ok, "{text}");
    // Past the first issuing CA's own end too, for our validator (pyHanko 0.x reports any
    // expired intermediate as a general chain failure, which its past validation does not
    // revisit).
    app.clock.advance(chrono::Duration::days(YEAR));
    assert_eq!(passed_with_timestamps(&app, &renewed).await, 2);
    app.stop().await;
}

crate::both_backends!(
    ten_years_on_the_ca_is_renewed_and_the_archive_extended,
    archives_are_read_then_renewed_when_due,
    the_proof_names_a_renewed_document,
    an_archive_the_tsa_cannot_extend_is_left_and_looked_at_weekly,
);
