//! The envelope core on a running server (its store, outbox and job workers): fields from
//! tags, links for every recipient, invitations to the first group only, order enforced when
//! a link is opened, decline and expiry ending the envelope with a reason, events delivered.
//! (The signer page and the GesDocs API drive these same calls.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use paraf_core::audit::Actor;
use paraf_core::envelopes::{Draft, DraftDocument, Opening, SignatureInput, Visit};
use paraf_domain::{
    Email, EnvelopeHeader, EnvelopeStatus, FieldKind, NewRecipient, Plan, RecipientStatus,
    SecondFactor, SignatureModel,
};
use paraf_testkit::pdf::{pages, simple_pdf};
use paraf_testkit::webhook::Receiver;

use crate::common::*;

pub(crate) fn signer(email: &str, group: u32, language: &str) -> NewRecipient {
    NewRecipient {
        group,
        email: Email::parse(email).unwrap(),
        first_name: "Alice".into(),
        last_name: "Dupont".into(),
        language: language.into(),
        mobile: None,
        second_factor: SecondFactor::None,
    }
}

pub(crate) fn draft(pdf: Vec<u8>, recipients: Vec<NewRecipient>) -> Draft {
    Draft {
        header: EnvelopeHeader {
            title: "Contrat de prestation".into(),
            model: SignatureModel::SignerCertificate,
            sender_email: Email::parse("admin@email.com").unwrap(),
            created_by: None,
            face: "test".into(),
            metadata: serde_json::json!({"custom_id": "ABC123"}),
            options: serde_json::json!({}),
            expires_at: None,
            reminder_days: None,
            template: false,
        },
        documents: vec![DraftDocument {
            name: "contrat.pdf".into(),
            bytes: pdf,
        }],
        recipients,
        fields: vec![],
        logo: None,
    }
}

/// An endpoint of `org` for `events`; its secret.
pub(crate) async fn subscribe(
    core: &paraf_core::Core,
    org: paraf_domain::OrgId,
    url: &str,
    events: &str,
) -> paraf_core::Secret {
    let hooks = core.webhooks();
    let (_, secret) = hooks
        .create(org, url, &[events.to_string()], "", &Actor::cli())
        .await
        .unwrap();
    secret
}

/// A draft for Alice (group 1, French) then Bob (group 2, English).
async fn alice_then_bob(
    core: &paraf_core::Core,
    org: paraf_domain::OrgId,
    pdf: Vec<u8>,
) -> paraf_domain::Envelope {
    let signers = vec![
        signer("alice@email.com", 1, "fr"),
        signer("bob@email.com", 2, "en"),
    ];
    core.create_envelope(org, draft(pdf, signers), &Actor::cli())
        .await
        .unwrap()
}

/// pyHanko (strict: every signature intact and trusted, no illegal change) and pdfsig accept
/// the `signatures` signatures of `pdf`, trusting the server's CA; pdfsig's report.
pub(crate) async fn outside_validators_accept(
    app: &TestApp,
    pdf: &[u8],
    signatures: usize,
) -> String {
    let f = ca_files(app).await;
    let path = write(f.tmp.path(), "signed.pdf", pdf);
    let (ok, out) = pyhanko_validate(&path, &f.root);
    assert!(ok, "{out}");
    assert!(out.matches("INTACT:TRUSTED").count() >= signatures, "{out}");
    assert!(
        !out.contains("ILLEGAL") && !out.contains("UNTRUSTED"),
        "{out}"
    );
    let text = pdfsig(&path, &nss_db(&f));
    assert_eq!(
        text.matches("Signature is Valid.").count(),
        signatures,
        "{text}"
    );
    text
}

/// An envelope of `org` made from `d` and sent; its links.
pub(crate) async fn sent(
    core: &paraf_core::Core,
    org: paraf_domain::OrgId,
    d: Draft,
) -> (
    paraf_domain::Envelope,
    Vec<paraf_core::envelopes::SigningLink>,
) {
    let e = core.create_envelope(org, d, &Actor::cli()).await.unwrap();
    let links = core.send_envelope(org, e.id, &Actor::cli()).await.unwrap();
    (e, links)
}

/// The signed PDF of a completed envelope (its first document).
pub(crate) async fn completed_pdf(core: &paraf_core::Core, e: &paraf_domain::Envelope) -> Vec<u8> {
    assert_eq!(e.status, EnvelopeStatus::Completed, "{:?}", e.status_reason);
    let mut files = core.envelope_files(e).await.unwrap();
    files.swap_remove(0).1
}

/// An envelope for Alice alone (one page with a signature tag), sent, and signed by her: it
/// comes back completed.
pub(crate) async fn signed_by_alice(
    app: &TestApp,
    org: paraf_domain::OrgId,
) -> paraf_domain::Envelope {
    let core = &app.state.core;
    let e = core
        .create_envelope(
            org,
            draft(
                pdf_with_pages(&["Le client <@signature1@>"]),
                vec![signer("alice@email.com", 1, "fr")],
            ),
            &Actor::cli(),
        )
        .await
        .unwrap();
    let links = core.send_envelope(org, e.id, &Actor::cli()).await.unwrap();
    let done = core
        .sign(
            token_of(&links[0].url),
            typed("Alice Dupont"),
            &paraf_core::envelopes::Visit::default(),
        )
        .await
        .unwrap();
    assert_eq!(done.status.as_str(), "completed");
    done
}

pub(crate) fn token_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

async fn invited_in_turn_and_declined(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "notaire", Plan::Piagam).await;
    let core = &app.state.core;
    let rx = Receiver::start(vec![200]).await;
    let secret = subscribe(core, tn.org.id, &rx.url, "envelope.*").await;
    let pdf = pages(&[
        "Le client <@signature1@>",
        "Le prestataire <@signature2@> et tous <@signature@>",
    ]);
    let e = alice_then_bob(core, tn.org.id, pdf).await;
    assert_eq!(e.status, EnvelopeStatus::Draft);
    assert_eq!(e.uuid.len(), 36);
    let (docs, fields) = core.envelope_contents(&e).await.unwrap();
    assert_eq!(docs[0].pages, 2);
    // signature1 on page 1 (Alice), signature2 on page 2 (Bob), the common tag twice.
    let (_, rs) = core.envelope(tn.org.id, e.id).await.unwrap();
    let mine = |r: usize| -> Vec<u32> {
        let mut p: Vec<u32> = fields
            .iter()
            .filter(|f| f.recipient == rs[r].id)
            .map(|f| f.page)
            .collect();
        p.sort();
        p
    };
    assert_eq!(mine(0), vec![1, 2]);
    assert_eq!(mine(1), vec![2, 2]);
    assert!(fields
        .iter()
        .all(|f| f.kind == FieldKind::Signature && f.required));
    assert!(e.header.options.get("summary_page").is_none());

    let links = core
        .send_envelope(tn.org.id, e.id, &Actor::cli())
        .await
        .unwrap();
    assert_eq!(links.len(), 2);
    assert!(
        links[0].url.starts_with(&format!("{}/fr/sign/", app.url)),
        "{}",
        links[0].url
    );
    assert!(links[1].url.contains("/en/sign/"));
    assert!(token_of(&links[0].url).len() >= 43);
    // Sending twice is refused.
    assert!(core
        .send_envelope(tn.org.id, e.id, &Actor::cli())
        .await
        .is_err());
    // Only the first group is mailed, in its language, with its link.
    let mails = app.store.list_mail(Some(tn.org.id), 10).await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "alice@email.com");
    assert!(
        mails[0].subject.starts_with("Document à signer"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains(&links[0].url));

    // Bob's link, early: not his turn — never the form.
    let visit = Visit::default();
    match core
        .open_link(token_of(&links[1].url), &visit)
        .await
        .unwrap()
    {
        Opening::NotYourTurn { recipient, .. } => {
            assert_eq!(recipient.email.as_str(), "bob@email.com")
        }
        other => panic!("{other:?}"),
    }
    // Alice's link: the form with her fields only.
    match core
        .open_link(token_of(&links[0].url), &visit)
        .await
        .unwrap()
    {
        Opening::Ready {
            recipient,
            fields,
            documents,
            ..
        } => {
            assert_eq!(recipient.status, RecipientStatus::Invited);
            assert_eq!(fields.len(), 2);
            assert!(fields.iter().all(|f| f.recipient == recipient.id));
            assert_eq!(documents.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    // A wrong or tampered link is "not found".
    assert!(core
        .open_link("nope", &visit)
        .await
        .unwrap_err()
        .is_not_found());
    let mut tampered = token_of(&links[0].url).to_string();
    tampered.pop();
    assert!(core
        .open_link(&tampered, &visit)
        .await
        .unwrap_err()
        .is_not_found());

    // Bob cannot decline out of turn; Alice declines with a reason: the envelope ends.
    assert!(core
        .decline(token_of(&links[1].url), "non", &visit)
        .await
        .is_err());
    assert!(core
        .decline(token_of(&links[0].url), " ", &visit)
        .await
        .is_err());
    let visit = Visit {
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("Firefox".into()),
    };
    let e2 = core
        .decline(token_of(&links[0].url), "Le montant est faux", &visit)
        .await
        .unwrap();
    assert_eq!(e2.status, EnvelopeStatus::Declined);
    assert!(e2.status_reason.unwrap().contains("Le montant est faux"));
    match core
        .open_link(token_of(&links[0].url), &visit)
        .await
        .unwrap()
    {
        Opening::Closed { recipient, .. } => {
            assert_eq!(recipient.status, RecipientStatus::Declined)
        }
        other => panic!("{other:?}"),
    }
    // Events: sent and declined (workers deliver in parallel: receivers order them by their
    // timestamps), each signed for the endpoint.
    eventually(20, "two events delivered", || async {
        (rx.len() >= 2).then_some(())
    })
    .await;
    let seen = rx.deliveries();
    let mut types: Vec<String> = seen
        .iter()
        .map(|d| d.json()["type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    assert_eq!(types, ["envelope.declined", "envelope.sent"]);
    assert!(seen.iter().all(|d| d.signed_by(secret.expose())));
    let declined = seen
        .iter()
        .map(|d| d.json())
        .find(|v| v["type"] == "envelope.declined")
        .unwrap();
    assert_eq!(declined["data"]["envelope"]["id"], e.uuid);
    assert_eq!(
        declined["data"]["envelope"]["metadata"]["custom_id"],
        "ABC123"
    );
    // The audit chain tells the story.
    let actions: Vec<String> = app
        .store
        .audit_records(tn.org.id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.target.as_deref() == Some(&format!("envelope:{}", e.uuid)))
        .map(|r| r.action)
        .collect();
    for a in [
        "envelope.created",
        "envelope.sent",
        "recipient.invited",
        "recipient.opened",
        "recipient.declined",
    ] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
    app.stop().await;
}

async fn bad_drafts_are_refused_and_envelopes_expire(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "refus", Plan::Piagam).await;
    let core = &app.state.core;
    let one = || vec![signer("alice@email.com", 1, "fr")];
    let refused = |field: &'static str| {
        move |e: paraf_core::CoreError| {
            let s = e.to_string();
            assert!(s.contains(&format!("invalid {field}")), "{s}");
        }
    };
    for bad in [b"not a pdf".to_vec(), b"%PDF-1.7 garbage".to_vec()] {
        let e = core
            .create_envelope(tn.org.id, draft(bad, one()), &Actor::cli())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("NotAPdf"), "{e}");
    }
    // A draft may wait for its recipients; sending it without any is refused.
    let lonely = core
        .create_envelope(tn.org.id, draft(simple_pdf(), vec![]), &Actor::cli())
        .await
        .unwrap();
    refused("signers")(
        core.send_envelope(tn.org.id, lonely.id, &Actor::cli())
            .await
            .unwrap_err(),
    );
    refused("signers")(
        core.create_envelope(
            tn.org.id,
            draft(pages(&["Ici <@signature2@>"]), one()),
            &Actor::cli(),
        )
        .await
        .unwrap_err(),
    );
    refused("signers")(
        core.create_envelope(
            tn.org.id,
            draft(simple_pdf(), vec![signer("a@email.com", 1, "de")]),
            &Actor::cli(),
        )
        .await
        .unwrap_err(),
    );
    let mut past = draft(simple_pdf(), one());
    past.header.expires_at = Some(app.clock.now_ts() - Duration::minutes(1));
    refused("expires_at")(
        core.create_envelope(tn.org.id, past, &Actor::cli())
            .await
            .unwrap_err(),
    );

    // No tag: a summary page to come (added at send), the signer's field on it.
    let mut d = draft(simple_pdf(), one());
    d.header.expires_at = Some(app.clock.now_ts() + Duration::hours(2));
    let e = core
        .create_envelope(tn.org.id, d, &Actor::cli())
        .await
        .unwrap();
    assert_eq!(e.header.options["summary_page"], true);
    let (docs, fields) = core.envelope_contents(&e).await.unwrap();
    assert_eq!((docs[0].pages, fields.len(), fields[0].page), (2, 1, 2));
    let links = core
        .send_envelope(tn.org.id, e.id, &Actor::cli())
        .await
        .unwrap();
    assert_eq!(core.expire_envelopes().await.unwrap(), 0);
    app.clock.advance(Duration::hours(2));
    assert_eq!(core.expire_envelopes().await.unwrap(), 1);
    let (e, _) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert_eq!(e.status, EnvelopeStatus::Expired);
    // The link expired with it.
    assert!(core
        .open_link(token_of(&links[0].url), &Visit::default())
        .await
        .unwrap_err()
        .is_not_found());
    // Another organisation sees nothing; a cancelled envelope stays cancelled.
    let other = tenant(&app, "autre", Plan::Piagam).await;
    assert!(core
        .envelope(other.org.id, e.id)
        .await
        .unwrap_err()
        .is_not_found());
    let e3 = core
        .create_envelope(tn.org.id, draft(simple_pdf(), one()), &Actor::cli())
        .await
        .unwrap();
    let c = core
        .cancel_envelope(tn.org.id, e3.id, "", &Actor::cli())
        .await
        .unwrap();
    assert_eq!(c.status, EnvelopeStatus::Cancelled);
    assert!(core
        .send_envelope(tn.org.id, e3.id, &Actor::cli())
        .await
        .is_err());
    assert!(core
        .cancel_envelope(other.org.id, e3.id, "", &Actor::cli())
        .await
        .unwrap_err()
        .is_not_found());
    app.stop().await;
}

/// Two signers in turn (typed, then an image), each a real PAdES signature in its own
/// incremental update with a certificate issued to them; the last one seals (B-LTA). pyHanko,
/// pdfsig and our validator accept every signature.
async fn two_signers_in_turn_give_a_document_every_validator_accepts(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "etude", Plan::Piagam).await;
    let core = &app.state.core;
    let rx = Receiver::start(vec![200]).await;
    subscribe(core, tn.org.id, &rx.url, "envelope.completed").await;
    let pdf = pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]);
    let e = alice_then_bob(core, tn.org.id, pdf.clone()).await;
    let links = core
        .send_envelope(tn.org.id, e.id, &Actor::cli())
        .await
        .unwrap();
    let (alice, bob) = (token_of(&links[0].url), token_of(&links[1].url));
    let visit = Visit {
        ip: Some("198.51.100.7".parse().unwrap()),
        user_agent: Some("Firefox".into()),
    };
    let typed = || typed("Alice Dupont");
    // Out of turn, or with nothing to sign with: refused.
    assert!(core.sign(bob, typed(), &visit).await.is_err());
    assert!(core
        .sign(alice, SignatureInput::default(), &visit)
        .await
        .is_err());

    let after_alice = core.sign(alice, typed(), &visit).await.unwrap();
    assert_eq!(after_alice.status, EnvelopeStatus::InProgress);
    // Signing twice: refused; the next group is invited by mail.
    assert!(core.sign(alice, typed(), &visit).await.is_err());
    let mails = app.store.list_mail(Some(tn.org.id), 10).await.unwrap();
    assert!(
        mails
            .iter()
            .any(|m| m.to == "bob@email.com" && m.text.contains(&links[1].url)),
        "{mails:?}"
    );

    let done = core.sign(bob, drawn(), &visit).await.unwrap();
    let signed = &completed_pdf(core, &done).await;
    assert!(signed.starts_with(&pdf[..pdf.len() - 10]) || signed.len() > pdf.len());
    let (_, rs) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert!(rs
        .iter()
        .all(|r| r.status == RecipientStatus::Signed && r.ip.as_deref() == Some("198.51.100.7")));

    // Outside validators.
    let text = outside_validators_accept(&app, signed, 2).await;
    assert!(
        text.contains("Alice Dupont") && text.contains("Alice Dupont"),
        "{text}"
    );
    // Each signature filled the field created empty, on its tag, when the envelope was sent.
    assert!(
        text.contains("Signature Field Name: signature_1_1")
            && text.contains("Signature Field Name: signature_2_1"),
        "{text}"
    );
    // Our validator agrees: two signatures passed (B-LTA: the document timestamp extends them)
    // and the timestamp.
    let report = core.verify_pdf(signed.clone(), None).await.unwrap().report;
    let sigs: Vec<_> = report
        .signatures
        .iter()
        .filter(|s| s.kind == paraf_core::engine::verify::SignatureKind::Signature)
        .collect();
    assert_eq!(sigs.len(), 2, "{report:?}");
    for s in &sigs {
        assert_eq!(
            s.indication,
            paraf_core::engine::verify::Indication::TotalPassed,
            "{s:?}"
        );
        assert_eq!(s.level.as_deref(), Some("B-LTA"), "{s:?}");
    }
    assert!(sigs[0]
        .signer
        .as_ref()
        .unwrap()
        .subject
        .contains("alice@email.com"));
    assert_eq!(
        report
            .signatures
            .iter()
            .filter(|s| s.kind == paraf_core::engine::verify::SignatureKind::DocumentTimestamp)
            .count(),
        1
    );
    // The completion event.
    eventually(20, "completion event", || async {
        (!rx.is_empty()).then_some(())
    })
    .await;
    assert_eq!(rx.deliveries()[0].json()["type"], "envelope.completed");
    app.stop().await;
}

/// A typed signature.
pub(crate) fn typed(name: &str) -> SignatureInput {
    SignatureInput {
        typed: Some(name.into()),
        ..SignatureInput::default()
    }
}

/// Signs at `link` with Alice's typed name, from nowhere in particular.
pub(crate) async fn alice_signs(core: &paraf_core::Core, link: &str) -> paraf_domain::Envelope {
    core.sign(token_of(link), typed("Alice Dupont"), &Visit::default())
        .await
        .unwrap()
}

/// A drawn (image) signature.
pub(crate) fn drawn() -> SignatureInput {
    SignatureInput {
        image: Some(PNG.to_vec()),
        ..SignatureInput::default()
    }
}

/// Alice then Bob on a tagged document: Alice has signed; Bob's signature is on record (as
/// `sign` records it) but the envelope is not sealed yet.
async fn alice_signed_bob_recorded(
    app: &TestApp,
    org: paraf_domain::OrgId,
) -> paraf_domain::Envelope {
    let core = &app.state.core;
    let pdf = pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]);
    let e = alice_then_bob(core, org, pdf).await;
    let links = core.send_envelope(org, e.id, &Actor::cli()).await.unwrap();
    let e = alice_signs(core, &links[0].url).await;
    // Not before every recipient has signed.
    assert!(core.complete(&e).await.is_err());
    let (_, rs) = core.envelope(org, e.id).await.unwrap();
    assert!(app
        .store
        .answer_recipient(
            rs[1].id,
            paraf_store::Answer::Signed,
            (None, None),
            app.clock.now_ts()
        )
        .await
        .unwrap());
    e
}

/// A seal that fails is never silent: the envelope is `seal_failed` with the reason, and the
/// retry (the housekeeping task's) completes it once the cause is gone.
async fn a_failed_seal_is_visible_and_retried(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "scelle", Plan::Piagam).await;
    let core = &app.state.core;
    // Then the signed file disappears from the blob store (a disk failure): sealing fails.
    let e = alice_signed_bob_recorded(&app, tn.org.id).await;
    let (docs, _) = core.envelope_contents(&e).await.unwrap();
    // Through the store in use (files, or a bucket in the S3 pass of scripts/test.sh).
    let signed = &docs[0].current;
    let kept = core.blobs.get(signed).await.unwrap().unwrap();
    core.blobs.delete(signed).await.unwrap();
    let failed = core.complete(&e).await.unwrap();
    assert_eq!(failed.status, EnvelopeStatus::SealFailed);
    assert!(
        failed
            .status_reason
            .as_deref()
            .unwrap()
            .contains("sealing failed"),
        "{:?}",
        failed.status_reason
    );
    // Nothing to do while the cause is there (the operator's reseal says so too); done once
    // it is gone.
    assert_eq!(core.retry_sealing().await.unwrap(), 0);
    let again = core.reseal(tn.org.id, e.id).await.unwrap();
    assert_eq!(again.status, EnvelopeStatus::SealFailed);
    assert_eq!(
        core.envelopes(tn.org.id, Some(EnvelopeStatus::SealFailed), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(&core.blobs.put(&kept).await.unwrap(), signed);
    assert_eq!(core.retry_sealing().await.unwrap(), 1);
    let (done, _) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert_eq!(done.status, EnvelopeStatus::Completed);
    assert_eq!(done.status_reason, None);
    app.stop().await;
}

/// A process that died while sealing leaves the envelope `sealing` with its lease: nobody
/// takes it while the lease runs; once it has run out, the housekeeping's retry seals it.
async fn a_seal_left_by_a_dead_process_is_taken_over(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "relais", Plan::Piagam).await;
    let core = &app.state.core;
    let e = alice_signed_bob_recorded(&app, tn.org.id).await;
    let now = app.clock.now_ts();
    // "Another process" takes the seal for a minute, then dies.
    assert!(app
        .store
        .start_sealing(tn.org.id, e.id, now, now + Duration::minutes(1))
        .await
        .unwrap());
    assert!(!app
        .store
        .start_sealing(tn.org.id, e.id, now, now + Duration::minutes(1))
        .await
        .unwrap());
    assert_eq!(core.retry_sealing().await.unwrap(), 0);
    assert_eq!(
        core.envelope(tn.org.id, e.id).await.unwrap().0.status,
        EnvelopeStatus::Sealing
    );
    app.clock.advance(Duration::minutes(2));
    assert_eq!(core.retry_sealing().await.unwrap(), 1);
    let (done, _) = core.envelope(tn.org.id, e.id).await.unwrap();
    assert_eq!(done.status, EnvelopeStatus::Completed);
    assert!(done.proof.is_some());
    app.stop().await;
}

crate::both_backends!(
    a_seal_left_by_a_dead_process_is_taken_over,
    a_failed_seal_is_visible_and_retried,
    invited_in_turn_and_declined,
    bad_drafts_are_refused_and_envelopes_expire,
    two_signers_in_turn_give_a_document_every_validator_accepts,
);
