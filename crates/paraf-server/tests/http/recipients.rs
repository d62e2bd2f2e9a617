//! Reminders every N days, the sender replacing a recipient, a recipient delegating from the
//! signer page: the old link stops working, the new person signs with their own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use paraf_core::audit::Actor;
use paraf_core::envelopes::Visit;
use paraf_domain::{EnvelopeStatus, Plan};
use paraf_testkit::pdf::pages;

use crate::common::*;
use crate::envelopes::{alice_signs, draft, sent, signer, token_of, typed};
use crate::proof::texts;

/// The signing link in the newest mail of `org` to `to` (waiting for it to be queued).
pub(crate) async fn link_mailed_to(app: &TestApp, org: paraf_domain::OrgId, to: &str) -> String {
    eventually(20, "the invitation mail", || async {
        let mails = app.store.list_mail(Some(org), 100).await.unwrap();
        let m = mails.iter().find(|m| m.to == to)?;
        let at = m.text.find("http")?;
        Some(m.text[at..].split_whitespace().next()?.to_string())
    })
    .await
}

async fn reminders_go_every_n_days_until_an_answer(backend: Backend) {
    let app = spawn(backend).await;
    let core = &app.state.core;
    let tn = tenant(&app, "rappel", Plan::Piagam).await;
    let mut d = draft(
        pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]),
        vec![
            signer("alice@email.com", 1, "fr"),
            signer("bob@email.com", 2, "en"),
        ],
    );
    d.header.reminder_days = Some(2);
    let (_, links) = sent(core, tn.org.id, d).await;
    let reminders = |to: &'static str| {
        let app = &app;
        async move {
            app.store
                .list_mail(Some(tn.org.id), 50)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.to == to && m.subject.starts_with("Rappel : "))
                .count()
        }
    };
    assert_eq!(core.send_reminders().await.unwrap(), 0);
    app.clock.advance(Duration::days(2) + Duration::seconds(1));
    assert_eq!(core.send_reminders().await.unwrap(), 1);
    assert_eq!(core.send_reminders().await.unwrap(), 0);
    assert_eq!(reminders("alice@email.com").await, 1);
    app.clock.advance(Duration::days(2));
    assert_eq!(core.send_reminders().await.unwrap(), 1);
    assert_eq!(reminders("alice@email.com").await, 2);
    // Bob's turn has not come: never reminded. Once Alice signed, Alice never again.
    alice_signs(core, &links[0].url).await;
    app.clock.advance(Duration::days(2));
    assert_eq!(core.send_reminders().await.unwrap(), 1);
    let mails = app.store.list_mail(Some(tn.org.id), 50).await.unwrap();
    assert!(mails
        .iter()
        .any(|m| m.to == "bob@email.com" && m.subject.starts_with("Reminder: ")));
    assert_eq!(reminders("alice@email.com").await, 2);
    app.stop().await;
}

async fn the_sender_replaces_and_a_recipient_delegates(backend: Backend) {
    let app = spawn(backend).await;
    let core = &app.state.core;
    let tn = tenant(&app, "relai", Plan::Piagam).await;
    let mut d = draft(
        pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"]),
        vec![
            signer("alice@email.com", 1, "fr"),
            signer("bob@email.com", 1, "en"),
        ],
    );
    d.header.options = serde_json::json!({"allow_delegation": true});
    let (e, links) = sent(core, tn.org.id, d).await;

    // The sender puts Carol in Alice's place: Alice's link dies, Carol is mailed her own.
    let mut carol = signer("carol@email.com", 1, "fr");
    carol.first_name = "Carole".into();
    let r = core
        .replace_recipient(tn.org.id, e.id, 1, carol, &Actor::cli())
        .await
        .unwrap();
    assert_eq!(r.email.as_str(), "carol@email.com");
    assert!(core
        .open_link(token_of(&links[0].url), &Visit::default())
        .await
        .unwrap_err()
        .is_not_found());
    let carol_link = link_mailed_to(&app, tn.org.id, "carol@email.com").await;
    assert_ne!(carol_link, links[0].url);

    // Bob hands his turn to Dave from the signer page.
    let bob = token_of(&links[1].url);
    let html = app.text(&format!("/en/sign/{bob}")).await;
    assert!(html.contains("data-testid=\"delegate-open\""), "{html}");
    let r = app
        .post(&format!("/en/sign/{bob}/delegate"))
        .form(&[
            ("first_name", "Dave"),
            ("last_name", "Durand"),
            ("email", "bob@email.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "delegating to oneself");
    let r = app
        .post(&format!("/en/sign/{bob}/delegate"))
        .form(&[
            ("first_name", "Dave"),
            ("last_name", "Durand"),
            ("email", "dave@email.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"delegated-done\""));
    assert!(app
        .text(&format!("/en/sign/{bob}"))
        .await
        .contains("data-testid=\"gone\""));
    let dave_link = link_mailed_to(&app, tn.org.id, "dave@email.com").await;

    // Carol and Dave sign; the proof names them.
    core.sign(
        token_of(&carol_link),
        typed("Carole Dupont"),
        &Visit::default(),
    )
    .await
    .unwrap();
    let done = core
        .sign(
            token_of(&dave_link),
            typed("Dave Durand"),
            &Visit::default(),
        )
        .await
        .unwrap();
    assert_eq!(done.status, EnvelopeStatus::Completed);
    let (_, json) = core.envelope_proof(&done).await.unwrap();
    let proof: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        texts(&proof["signers"], "email"),
        ["carol@email.com", "dave@email.com"]
    );
    let actions = texts(&proof["audit"], "action");
    assert!(actions.contains(&"recipient.replaced") && actions.contains(&"recipient.delegated"));
    // Someone who signed cannot be replaced.
    let err = core
        .replace_recipient(
            tn.org.id,
            e.id,
            1,
            signer("eve@email.com", 1, "fr"),
            &Actor::cli(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("envelope is completed"), "{err}");
    app.stop().await;
}

/// Without the sender's leave, no delegation.
async fn delegation_needs_the_senders_leave(backend: Backend) {
    let app = spawn(backend).await;
    let core = &app.state.core;
    let tn = tenant(&app, "sansdelegation", Plan::Piagam).await;
    let d = draft(
        pages(&["Le client <@signature1@>"]),
        vec![signer("alice@email.com", 1, "fr")],
    );
    let (_, links) = sent(core, tn.org.id, d).await;
    let alice = token_of(&links[0].url);
    assert!(!app
        .text(&format!("/fr/sign/{alice}"))
        .await
        .contains("delegate-open"));
    let err = core
        .delegate(
            alice,
            signer("mallory@email.com", 1, "fr"),
            &Visit::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("delegation"), "{err}");
    app.stop().await;
}

/// "n of m": one signature of group 1 is enough; the other member's link closes, the next
/// group is invited, the envelope completes without them.
async fn one_of_two_is_enough_when_the_sender_says_so(backend: Backend) {
    let app = spawn(backend).await;
    let core = &app.state.core;
    let tn = tenant(&app, "quorum", Plan::Piagam).await;
    let signers = || {
        vec![
            signer("alice@email.com", 1, "fr"),
            signer("bob@email.com", 1, "fr"),
            signer("carol@email.com", 2, "fr"),
        ]
    };
    let pdf = || {
        pages(&[
            "Le client <@signature1@> ou <@signature2@>",
            "Le prestataire <@signature3@>",
        ])
    };
    let mut bad = draft(pdf(), signers());
    bad.header.options = serde_json::json!({"quorum": {"1": 3}});
    let err = core
        .create_envelope(tn.org.id, bad, &Actor::cli())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("quorum"), "{err}");
    let mut d = draft(pdf(), signers());
    d.header.options = serde_json::json!({"quorum": {"1": 1}});
    d.header.reminder_days = Some(1);
    let (_, links) = sent(core, tn.org.id, d).await;
    let e = alice_signs(core, &links[0].url).await;
    assert_eq!(e.status, EnvelopeStatus::InProgress);
    let bob = core
        .open_link(token_of(&links[1].url), &Visit::default())
        .await
        .unwrap();
    assert!(matches!(bob, paraf_core::envelopes::Opening::Closed { .. }));
    assert!(core
        .sign(token_of(&links[1].url), typed("Bob"), &Visit::default())
        .await
        .is_err());
    // Carol's turn (mailed); Bob is not reminded.
    link_mailed_to(&app, tn.org.id, "carol@email.com").await;
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    assert_eq!(core.send_reminders().await.unwrap(), 1);
    let done = core
        .sign(token_of(&links[2].url), typed("Carol"), &Visit::default())
        .await
        .unwrap();
    assert_eq!(done.status, EnvelopeStatus::Completed);
    app.stop().await;
}

crate::both_backends!(
    one_of_two_is_enough_when_the_sender_says_so,
    reminders_go_every_n_days_until_an_answer,
    the_sender_replaces_and_a_recipient_delegates,
    delegation_needs_the_senders_leave,
);
