//! A document without tags gets summary pages carrying every signature; a completed envelope
//! gets its proof (a certificate PDF sealed by the organisation, with the evidence as JSON
//! attached) that outside validators accept and that ties the final document to its uuid; the
//! organisation-seal model signs on the recipients' behalf.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::audit::Actor;
use paraf_core::envelopes::Visit;
use paraf_core::proof::{sha256_hex, ProofOutcome};
use paraf_domain::{EnvelopeStatus, Plan, SignatureModel};
use paraf_testkit::pdf::{pages, simple_pdf};

use crate::common::*;
use crate::envelopes::{
    alice_signs, completed_pdf, draft, drawn, outside_validators_accept, sent, signer, token_of,
    typed,
};

/// `key` of every element of the JSON array `list`.
pub(crate) fn texts<'a>(list: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a[key].as_str().unwrap())
        .collect()
}

/// No tag: one summary page after the last, a field per signer on it; the proof certificate.
async fn no_tags_give_a_summary_page_and_a_sealed_proof(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "preuve", Plan::Piagam).await;
    let other = tenant(&app, "autre", Plan::Piagam).await;
    let core = &app.state.core;
    let original = simple_pdf();
    let signers = vec![
        signer("alice@email.com", 1, "fr"),
        signer("bob@email.com", 1, "fr"),
    ];
    let (e, links) = sent(core, tn.org.id, draft(original.clone(), signers)).await;
    assert_eq!(e.header.options["summary_page"], true);
    let (docs, fields) = core.envelope_contents(&e).await.unwrap();
    assert_eq!(docs[0].pages, 2);
    assert!(fields.iter().all(|f| f.page == 2), "{fields:?}");
    let visit = Visit {
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("Mozilla/5.0 (proof test)".into()),
    };
    core.sign(token_of(&links[0].url), typed("Alice Dupont"), &visit)
        .await
        .unwrap();
    let done = core
        .sign(token_of(&links[1].url), drawn(), &visit)
        .await
        .unwrap();
    let signed = completed_pdf(core, &done).await;
    let text = outside_validators_accept(&app, &signed, 2).await;
    assert!(
        text.contains("Signature Field Name: signature_1_summary")
            && text.contains("Signature Field Name: signature_2_summary"),
        "{text}"
    );
    let doc = paraf_pdf::Document::load(signed.clone(), None).unwrap();
    assert_eq!(doc.pages().unwrap().len(), 2);
    let title = paraf_pdf::text::find_text(&doc, "Page récapitulative").unwrap();
    assert_eq!(title.len(), 1, "{title:?}");
    assert_eq!(title[0].page, 2);
    let bob = paraf_pdf::text::find_text(&doc, "bob@email.com").unwrap();
    assert!(bob.iter().all(|m| m.page == 2) && !bob.is_empty());

    // The proof: JSON and a sealed certificate PDF that carries it.
    let (cert, json) = core.envelope_proof(&done).await.unwrap();
    let proof: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(proof["uuid"], e.uuid.as_str());
    assert_eq!(proof["document_hash"], sha256_hex(&signed).as_str());
    assert_eq!(proof["signers"][1]["ip"], "203.0.113.9");
    assert_eq!(proof["signers"][1]["status"], "signed");
    let actions = texts(&proof["audit"], "action");
    assert_eq!(
        actions.iter().filter(|a| **a == "recipient.signed").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"envelope.sent"), "{actions:?}");
    // Each record's hash links to the previous one of the organisation's chain.
    let audit = proof["audit"].as_array().unwrap();
    assert!(audit
        .iter()
        .all(|a| a["hash"].as_str().unwrap().len() == 64));
    let cert_text = outside_validators_accept(&app, &cert, 1).await;
    assert!(cert_text.contains("preuve"), "{cert_text}");
    let cert_doc = paraf_pdf::Document::load(cert.clone(), None).unwrap();
    let attached =
        paraf_sign::pages::attachment(&cert_doc, paraf_core::proof::PROOF_ATTACHMENT).unwrap();
    assert_eq!(attached.as_deref(), Some(&json[..]));
    assert!(!paraf_pdf::text::find_text(&cert_doc, &e.uuid)
        .unwrap()
        .is_empty());

    // Checking a document against the certificate.
    let check = |org, doc: Vec<u8>, cert: Vec<u8>| async move {
        core.check_with_certificate(org, &doc, cert, &Actor::cli())
            .await
            .unwrap()
    };
    let ok = check(tn.org.id, signed.clone(), cert.clone()).await;
    assert_eq!(ok.outcome, ProofOutcome::Valid, "{ok:?}");
    assert_eq!(ok.uuid_from_cert.as_deref(), Some(e.uuid.as_str()));
    assert_eq!(ok.date_from_cert, ok.date_in_db);
    assert!(ok.date_in_db.is_some());
    let wrong_doc = check(tn.org.id, original.clone(), cert.clone()).await;
    assert_eq!(wrong_doc.outcome, ProofOutcome::HashMismatch);
    assert_ne!(
        wrong_doc.hash_from_cert,
        Some(wrong_doc.hash_of_doc.clone())
    );
    let elsewhere = check(other.org.id, signed.clone(), cert.clone()).await;
    assert_eq!(elsewhere.outcome, ProofOutcome::UnknownEnvelope);
    let not_cert = check(tn.org.id, signed.clone(), signed.clone()).await;
    assert_eq!(not_cert.outcome, ProofOutcome::NotACertificate);
    let garbage = check(tn.org.id, signed.clone(), b"%PDF-1.7 no".to_vec()).await;
    assert_eq!(garbage.outcome, ProofOutcome::NotACertificate);
    // A certificate whose JSON was edited after sealing (an appended revision naming the
    // original's hash) is not authentic.
    let forged = {
        let d = paraf_pdf::Document::load(cert.clone(), None).unwrap();
        let mut page = paraf_sign::pages::NewPage::a4();
        page.texts.push(paraf_sign::pages::TextBlock {
            rect: [50.0, 700.0, 500.0, 720.0],
            lines: vec!["forged".into()],
        });
        paraf_sign::pages::add_pages(&d, &[page], None).unwrap()
    };
    let forged_check = check(tn.org.id, signed.clone(), forged).await;
    assert_eq!(
        forged_check.outcome,
        ProofOutcome::CertificateNotAuthentic,
        "{forged_check:?}"
    );
    app.stop().await;
}

/// The organisation-seal model: the signature is the organisation's seal, made on the
/// recipient's behalf (their typed name as the stamp's text); the proof names them.
async fn the_organisation_seal_signs_for_the_recipient(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "cachet", Plan::Piagam).await;
    let core = &app.state.core;
    let mut d = draft(
        pages(&["Le client <@signature1@>"]),
        vec![signer("alice@email.com", 1, "en")],
    );
    d.header.model = SignatureModel::Seal;
    let (_, links) = sent(core, tn.org.id, d).await;
    let done = alice_signs(core, &links[0].url).await;
    assert_eq!(done.status, EnvelopeStatus::Completed);
    let signed = completed_pdf(core, &done).await;
    outside_validators_accept(&app, &signed, 1).await;
    let report = core.verify_pdf(signed, None).await.unwrap().report;
    let subject = &report.signatures[0].signer.as_ref().unwrap().subject;
    assert!(subject.contains(tn.org.name.as_str()), "{subject}");
    assert!(!subject.contains("alice@email.com"), "{subject}");
    // One seal per organisation, reused by the proof and later envelopes.
    let seals = app.store.list_seals(tn.org.id).await.unwrap();
    assert_eq!(seals.len(), 1);
    assert_eq!(seals[0].id_subscriber, paraf_core::envelopes::ENVELOPE_SEAL);
    let (cert, _) = core.envelope_proof(&done).await.unwrap();
    let cert_report = core.verify_pdf(cert, None).await.unwrap().report;
    assert_eq!(
        cert_report.signatures[0].signer.as_ref().unwrap().subject,
        *subject
    );
    app.stop().await;
}

crate::both_backends!(
    no_tags_give_a_summary_page_and_a_sealed_proof,
    the_organisation_seal_signs_for_the_recipient,
);
