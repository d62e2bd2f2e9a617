//! Envelopes: written whole, read back, compare-and-set states, link tokens by hash,
//! organisation scoping, and what the store refuses.

use paraf_domain::{
    BlobId, Email, EnvelopeHeader, EnvelopeStatus, FieldKind, NewEnvelope, NewEnvelopeDocument,
    NewField, NewRecipient, RecipientStatus, SecondFactor, SignatureModel,
};

use paraf_store::Answer;

use crate::common::{org, t, TestDb};
use crate::store_tests;

store_tests!(envelopes_round_trip_and_move_by_compare_and_set);

fn recipient(email: &str, group: u32) -> NewRecipient {
    NewRecipient {
        group,
        email: Email::parse(email).unwrap(),
        first_name: "Alice".into(),
        last_name: "Dupont".into(),
        language: "fr".into(),
        mobile: None,
        second_factor: SecondFactor::Mail,
    }
}

fn envelope(org: paraf_domain::OrgId, uuid: &str) -> NewEnvelope {
    NewEnvelope {
        org,
        uuid: uuid.into(),
        header: EnvelopeHeader {
            title: "Contrat".into(),
            model: SignatureModel::SignerCertificate,
            sender_email: Email::parse("admin@email.com").unwrap(),
            created_by: None,
            face: "gesdocs".into(),
            metadata: serde_json::json!({"custom_id": "ABC123"}),
            options: serde_json::json!({"color": "#4f46e5"}),
            expires_at: Some(t(3600)),
            reminder_days: Some(2),
            template: false,
        },
        documents: vec![NewEnvelopeDocument {
            name: "contrat.pdf".into(),
            blob: BlobId::of(b"%PDF-1.7 test"),
            pages: 2,
            uuid: format!("{uuid}-d"),
            signed_uuid: format!("{uuid}-s"),
        }],
        recipients: vec![
            recipient("alice@email.com", 1),
            recipient("bob@email.com", 2),
        ],
        fields: vec![
            NewField {
                document: 0,
                recipient: 0,
                kind: FieldKind::Signature,
                name: "signature_1".into(),
                required: true,
                page: 1,
                rect: [100.0, 100.0, 250.0, 150.0],
                unit: paraf_domain::FieldUnit::Points,
            },
            NewField {
                document: 0,
                recipient: 1,
                kind: FieldKind::Signature,
                name: "signature_2".into(),
                required: true,
                page: 2,
                rect: [300.0, 100.0, 450.0, 150.0],
                unit: paraf_domain::FieldUnit::Points,
            },
        ],
    }
}

async fn envelopes_round_trip_and_move_by_compare_and_set(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let b = org(s, "beta").await;
    let e = s
        .create_envelope(&envelope(a.id, "u-1"), t(0))
        .await
        .unwrap();
    assert_eq!(e.status, EnvelopeStatus::Draft);
    assert_eq!(e.header.metadata["custom_id"], "ABC123");
    assert_eq!(e.header.expires_at, Some(t(3600)));
    let docs = s.envelope_documents(e.id).await.unwrap();
    assert_eq!((docs.len(), docs[0].pages, docs[0].position), (1, 2, 1));
    assert_eq!(docs[0].original, docs[0].current);
    let rs = s.recipients(e.id).await.unwrap();
    assert_eq!(
        rs.iter()
            .map(|r| (r.position, r.group, r.status))
            .collect::<Vec<_>>(),
        vec![
            (1, 1, RecipientStatus::Waiting),
            (2, 2, RecipientStatus::Waiting)
        ]
    );
    let fields = s.fields(e.id).await.unwrap();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[1].recipient, rs[1].id);
    assert_eq!(fields[1].rect, [300.0, 100.0, 450.0, 150.0]);
    assert_eq!(fields[1].page, 2);

    // Scoped to the organisation; the uuid is unique.
    assert!(s.envelope(b.id, e.id).await.unwrap_err().is_not_found());
    assert!(s
        .create_envelope(&envelope(a.id, "u-1"), t(0))
        .await
        .is_err());
    // A draft may wait for its signers; a draft is deleted with everything in it, and only
    // a draft.
    let mut lonely = envelope(a.id, "u-2");
    lonely.recipients.clear();
    lonely.fields.clear();
    let l = s.create_envelope(&lonely, t(0)).await.unwrap();
    let (page, total) = s
        .envelopes_page(a.id, &l.header.face, &[EnvelopeStatus::Draft], 0, 1)
        .await
        .unwrap();
    assert_eq!(
        (page[0].id, total),
        (l.id, 2),
        "newest first, both drafts counted"
    );
    let original = s.envelope_documents(l.id).await.unwrap()[0]
        .original
        .clone();
    let (found, signers) = s
        .revision_by_hash(original.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(
        found.id == l.id || found.id == e.id,
        "the upload is a known revision"
    );
    assert!(signers.is_empty());
    assert!(
        !s.delete_draft_envelope(b.id, l.id).await.unwrap(),
        "not B's"
    );
    assert!(s.delete_draft_envelope(a.id, l.id).await.unwrap());
    assert!(s.envelope(a.id, l.id).await.unwrap_err().is_not_found());
    // Refused before anything is written: a gap in groups, a page that is not there.
    let mut bad = envelope(a.id, "u-3");
    bad.recipients[1].group = 3;
    assert!(s
        .create_envelope(&bad, t(0))
        .await
        .unwrap_err()
        .to_string()
        .contains("groups"));
    let mut bad = envelope(a.id, "u-4");
    bad.fields[0].page = 3;
    assert!(s
        .create_envelope(&bad, t(0))
        .await
        .unwrap_err()
        .to_string()
        .contains("page 3"));

    // States move only from the states named.
    let sent = [EnvelopeStatus::Draft];
    assert!(s
        .set_envelope_status(a.id, e.id, &sent, EnvelopeStatus::Sent, None, t(5))
        .await
        .unwrap());
    assert!(!s
        .set_envelope_status(a.id, e.id, &sent, EnvelopeStatus::Sent, None, t(6))
        .await
        .unwrap());
    assert!(!s
        .set_envelope_status(
            b.id,
            e.id,
            &[EnvelopeStatus::Sent],
            EnvelopeStatus::Cancelled,
            None,
            t(6)
        )
        .await
        .unwrap());
    let e2 = s.envelope(a.id, e.id).await.unwrap();
    assert_eq!((e2.status, e2.sent_at), (EnvelopeStatus::Sent, Some(t(5))));

    // Links: found by the token's hash only; a new token replaces the old one.
    s.set_recipient_token(rs[0].id, "hash-old", "sealed-old", t(3600))
        .await
        .unwrap();
    s.set_recipient_token(rs[0].id, "hash-alice", "sealed-alice", t(3600))
        .await
        .unwrap();
    assert!(s
        .recipient_by_token_hash("hash-old")
        .await
        .unwrap_err()
        .is_not_found());
    let (_, r, _) = s.recipient_by_token_hash("hash-alice").await.unwrap();
    assert_eq!(r.status, RecipientStatus::Waiting);
    assert_eq!(
        s.recipient_token_sealed(rs[0].id).await.unwrap().as_deref(),
        Some("sealed-alice")
    );
    assert!(s.mark_recipient_invited(rs[0].id, t(5)).await.unwrap());
    assert!(!s.mark_recipient_invited(rs[0].id, t(5)).await.unwrap());
    let (env, r, until) = s.recipient_by_token_hash("hash-alice").await.unwrap();
    assert_eq!(
        (env.id, r.id, r.status, until),
        (e.id, rs[0].id, RecipientStatus::Invited, t(3600))
    );
    assert!(s
        .recipient_by_token_hash("nope")
        .await
        .unwrap_err()
        .is_not_found());
    s.mark_recipient_opened(r.id, t(7)).await.unwrap();
    s.mark_recipient_opened(r.id, t(8)).await.unwrap();
    let r = &s.recipients(e.id).await.unwrap()[0];
    assert_eq!(
        (r.status, r.opened_at),
        (RecipientStatus::Opened, Some(t(7)))
    );
    // A waiting recipient cannot decline; an opened one can, once.
    assert!(!s
        .answer_recipient(rs[1].id, Answer::Declined("no"), (None, None), t(9))
        .await
        .unwrap());
    assert!(s
        .answer_recipient(
            r.id,
            Answer::Declined("Pas d'accord"),
            (Some("1.2.3.4"), Some("UA")),
            t(9)
        )
        .await
        .unwrap());
    assert!(!s
        .answer_recipient(r.id, Answer::Signed, (None, None), t(9))
        .await
        .unwrap());
    let r = &s.recipients(e.id).await.unwrap()[0];
    assert_eq!(r.decline_reason.as_deref(), Some("Pas d'accord"));
    assert_eq!(r.ip.as_deref(), Some("1.2.3.4"));

    // Expiry: sent or in progress, past the date.
    assert!(s.envelopes_to_expire(t(3599), 10).await.unwrap().is_empty());
    assert_eq!(
        s.envelopes_to_expire(t(3600), 10).await.unwrap()[0].id,
        e.id
    );
}
