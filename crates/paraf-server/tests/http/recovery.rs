//! What follows an answer done once whatever happens: a signature or a refusal recorded by a
//! process that died before following it up (simulated: recorded through the store only) is
//! followed up by the housekeeping once the sealing lease has run out — the envelope moves on
//! (sealed and completed, or declined), one audit record, one event each, and running the
//! housekeeping again adds nothing.
//!
//! A completion announced once whatever happens between the status and the announcement: an
//! envelope completed by a process that died before queueing its `envelope.completed` events
//! (simulated: the jobs deleted, the envelope marked not announced) is announced by the
//! housekeeping once the sealing lease has run out — under the same event id, one audit
//! record; one that died after queueing them (marked not announced only) gets no second job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use paraf_domain::Plan;
use paraf_testkit::webhook::Receiver;

use crate::common::*;
use crate::envelopes::{draft, signed_by_alice, signer};
use crate::jobs::webhook_endpoint;

/// A server whose sealing lease (the housekeeping's wait) is 60 s, an organisation `slug` and
/// a webhook receiver for all its events.
async fn leased(backend: Backend, slug: &str) -> (TestApp, Tenant, Receiver) {
    let app = spawn_with(backend, |c| {
        c.sealing_lease = std::time::Duration::from_secs(60);
    })
    .await;
    let t = tenant(&app, slug, Plan::Piagam).await;
    let rx = Receiver::start(vec![200]).await;
    webhook_endpoint(&app, t.org.id, &rx.url).await;
    (app, t, rx)
}

/// The actions of the audit records about `e`, oldest first.
async fn actions(app: &TestApp, t: &Tenant, e: &paraf_domain::Envelope) -> Vec<String> {
    app.store
        .audit_of_target(t.org.id, &format!("envelope:{}", e.uuid), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

fn completed_ids(rx: &Receiver) -> Vec<String> {
    rx.deliveries()
        .iter()
        .filter(|d| d.json()["type"] == "envelope.completed")
        .map(|d| d.header("webhook-id"))
        .collect()
}

async fn a_completion_is_announced_once(backend: Backend) {
    let (app, t, rx) = leased(backend, "annonce").await;
    let core = &app.state.core;
    let done = signed_by_alice(&app, t.org.id).await;
    eventually(20, "the completion delivered", || async {
        (completed_ids(&rx).len() == 1).then_some(())
    })
    .await;
    let first = completed_ids(&rx)[0].clone();
    let target = format!("envelope:{}", done.uuid);
    let completions = || async {
        app.store
            .audit_of_target(t.org.id, &target, 100)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.action == "envelope.completed")
            .count()
    };

    // Died before queueing: no job, not announced. Within the lease nothing happens...
    app.fresh
        .db
        .raw("DELETE FROM jobs WHERE payload LIKE '%envelope.completed%'")
        .await;
    app.fresh
        .db
        .raw("UPDATE envelopes SET announced_at = NULL")
        .await;
    core.retry_sealing().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(completed_ids(&rx).len(), 1);
    // ...after it, the housekeeping announces it: the same event id, still one audit record.
    app.clock.advance(Duration::seconds(61));
    core.retry_sealing().await.unwrap();
    eventually(20, "the completion announced again", || async {
        (completed_ids(&rx).len() == 2).then_some(())
    })
    .await;
    assert_eq!(completed_ids(&rx), vec![first.clone(), first]);
    assert_eq!(completions().await, 1);
    assert!(app
        .store
        .completed_unannounced(paraf_domain::Clock::now(&*app.clock), 10)
        .await
        .unwrap()
        .is_empty());

    // Died after queueing: the job is there, so announcing again queues nothing.
    app.fresh
        .db
        .raw("UPDATE envelopes SET announced_at = NULL")
        .await;
    core.retry_sealing().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(completed_ids(&rx).len(), 2);
    assert_eq!(completions().await, 1);
    app.stop().await;
}

fn events(rx: &Receiver) -> Vec<(String, String)> {
    rx.deliveries()
        .iter()
        .map(|d| {
            (
                format!(
                    "{} {}",
                    d.json()["type"].as_str().unwrap_or(""),
                    d.json()["data"]["envelope"]["title"].as_str().unwrap_or("")
                ),
                d.header("webhook-id"),
            )
        })
        .collect()
}

async fn an_answer_whose_process_died_is_followed_up_once(backend: Backend) {
    let (app, t, rx) = leased(backend, "reponse").await;
    let core = &app.state.core;
    let (app, t) = (&app, &t);
    let sent = |title: &'static str, email: &'static str| async move {
        let mut d = draft(
            pdf_with_pages(&["Le client <@signature1@>"]),
            vec![signer(email, 1, "fr")],
        );
        d.header.title = title.into();
        let e = core
            .create_envelope(t.org.id, d, &paraf_core::audit::Actor::cli())
            .await
            .unwrap();
        core.send_envelope(t.org.id, e.id, &paraf_core::audit::Actor::cli())
            .await
            .unwrap();
        let r = app.store.recipients(e.id).await.unwrap().remove(0);
        (e, r)
    };
    let (signed, alice) = sent("signé", "alice@email.com").await;
    let (refused, bob) = sent("refusé", "bob@email.com").await;
    eventually(20, "the sent events", || async {
        (events(&rx).len() == 2).then_some(())
    })
    .await;

    // The answers land, and their processes die before anything else.
    let now = paraf_domain::Clock::now(&*app.clock);
    let recorded = app
        .store
        .record_signature(alice.id, (Some("192.0.2.7"), Some("test")), &[], &[], now)
        .await
        .unwrap();
    assert!(matches!(recorded, paraf_store::SignatureRecord::Recorded));
    assert!(app
        .store
        .answer_recipient(
            bob.id,
            paraf_store::Answer::Declined("pas d'accord"),
            (None, None),
            now
        )
        .await
        .unwrap());
    let status = move |id| async move { app.store.envelope(t.org.id, id).await.unwrap().status };
    assert_eq!(status(signed.id).await.as_str(), "in_progress");
    assert_eq!(status(refused.id).await.as_str(), "sent");

    // Within the lease nothing happens (the process may still be at it)...
    core.retry_sealing().await.unwrap();
    assert_eq!(status(signed.id).await.as_str(), "in_progress");
    // ...after it, the housekeeping follows both up.
    app.clock.advance(Duration::seconds(61));
    core.retry_sealing().await.unwrap();
    assert_eq!(status(signed.id).await.as_str(), "completed");
    let declined = app.store.envelope(t.org.id, refused.id).await.unwrap();
    assert_eq!(declined.status.as_str(), "declined");
    assert_eq!(
        declined.status_reason.as_deref(),
        Some("declined by bob@email.com: pas d'accord")
    );
    let expected = [
        "recipient.signed",
        "envelope.completed",
        "envelope.declined",
    ];
    eventually(20, "the events of both answers", || async {
        let got = events(&rx);
        expected
            .iter()
            .all(|x| got.iter().any(|(e, _)| e.starts_with(x)))
            .then_some(())
    })
    .await;
    let audited = |e: paraf_domain::Envelope| async move { actions(app, t, &e).await };
    let count = |v: &[String], a: &str| v.iter().filter(|x| *x == a).count();
    let of_signed = audited(signed.clone()).await;
    assert_eq!(count(&of_signed, "recipient.signed"), 1, "{of_signed:?}");
    assert_eq!(count(&of_signed, "envelope.completed"), 1, "{of_signed:?}");
    let of_refused = audited(refused.clone()).await;
    assert_eq!(
        count(&of_refused, "recipient.declined"),
        1,
        "{of_refused:?}"
    );

    // Followed up: a second run (another instance's housekeeping) adds nothing.
    let before = events(&rx);
    app.fresh
        .db
        .raw("UPDATE recipients SET unannounced_since = 1")
        .await;
    core.retry_sealing().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(events(&rx), before);
    assert_eq!(audited(signed).await, of_signed);
    assert_eq!(audited(refused).await, of_refused);
    assert!(app
        .store
        .answers_unannounced(paraf_domain::Clock::now(&*app.clock), 10)
        .await
        .unwrap()
        .is_empty());
    // (the app stops when dropped)
}

/// A sending whose process died right after the status: no links, nobody invited. The
/// housekeeping (after the lease) gives the links, invites the first group — one mail each —
/// and records and announces the sending once; again, nothing more.
async fn a_sending_whose_process_died_is_followed_up_once(backend: Backend) {
    let (app, t, rx) = leased(backend, "envoi").await;
    let core = &app.state.core;
    let e = core
        .create_envelope(
            t.org.id,
            draft(
                pdf_with_pages(&["Le client <@signature1@>", "La banque <@signature2@>"]),
                vec![
                    signer("alice@email.com", 1, "fr"),
                    signer("bob@email.com", 2, "fr"),
                ],
            ),
            &paraf_core::audit::Actor::cli(),
        )
        .await
        .unwrap();
    let now = paraf_domain::Clock::now(&*app.clock);
    let from = [paraf_domain::EnvelopeStatus::Draft];
    let to = paraf_domain::EnvelopeStatus::Sent;
    let moved = app
        .store
        .set_envelope_status(t.org.id, e.id, &from, to, None, now);
    assert!(moved.await.unwrap());
    core.retry_sealing().await.unwrap();
    let mails = || async { app.store.list_mail(Some(t.org.id), 100).await.unwrap() };
    assert!(mails().await.is_empty(), "within the lease nothing happens");

    app.clock.advance(Duration::seconds(61));
    core.retry_sealing().await.unwrap();
    let rs = app.store.recipients(e.id).await.unwrap();
    assert_eq!(rs[0].status.as_str(), "invited");
    assert_eq!(rs[1].status.as_str(), "waiting");
    for r in &rs {
        assert!(app
            .store
            .recipient_token_sealed(r.id)
            .await
            .unwrap()
            .is_some());
    }
    let sent = mails().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "alice@email.com");
    eventually(20, "the sent event", || async {
        events(&rx)
            .iter()
            .any(|(e, _)| e.starts_with("envelope.sent"))
            .then_some(())
    })
    .await;
    let records = || actions(&app, &t, &e);
    let audited = records().await;
    assert_eq!(
        audited.iter().filter(|a| *a == "envelope.sent").count(),
        1,
        "{audited:?}"
    );

    // Run again (another instance's housekeeping): the same links, no second mail, event or
    // record.
    let before = events(&rx);
    let cli = paraf_core::audit::Actor::cli();
    let link = core
        .recipient_link(t.org.id, e.id, rs[0].id, &cli)
        .await
        .unwrap();
    app.fresh
        .db
        .raw("UPDATE envelopes SET unannounced_since = 1")
        .await;
    core.retry_sealing().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mails().await.len(), 1);
    assert_eq!(events(&rx), before);
    assert_eq!(
        records()
            .await
            .iter()
            .filter(|a| *a == "envelope.sent")
            .count(),
        1
    );
    let again = core
        .recipient_link(t.org.id, e.id, rs[0].id, &cli)
        .await
        .unwrap();
    assert_eq!(again, link);
    assert!(app
        .store
        .statuses_unannounced(paraf_domain::Clock::now(&*app.clock), 10)
        .await
        .unwrap()
        .is_empty());
}

/// A cancellation whose process died right after the status: the housekeeping (after the
/// lease) records and announces it once, as the system; again, nothing more.
async fn a_cancellation_whose_process_died_is_announced_once(backend: Backend) {
    let (app, t, rx) = leased(backend, "annule").await;
    let core = &app.state.core;
    let cli = paraf_core::audit::Actor::cli();
    let e = core
        .create_envelope(
            t.org.id,
            draft(
                pdf_with_pages(&["Le client <@signature1@>"]),
                vec![signer("alice@email.com", 1, "fr")],
            ),
            &cli,
        )
        .await
        .unwrap();
    core.send_envelope(t.org.id, e.id, &cli).await.unwrap();
    let now = paraf_domain::Clock::now(&*app.clock);
    let from = [paraf_domain::EnvelopeStatus::Sent];
    let to = paraf_domain::EnvelopeStatus::Cancelled;
    let moved = app
        .store
        .set_envelope_status(t.org.id, e.id, &from, to, Some("plus besoin"), now);
    assert!(moved.await.unwrap());
    core.retry_sealing().await.unwrap();
    assert!(!actions(&app, &t, &e)
        .await
        .contains(&"envelope.cancelled".to_string()));

    app.clock.advance(Duration::seconds(61));
    for _ in 0..2 {
        core.retry_sealing().await.unwrap();
        app.fresh
            .db
            .raw("UPDATE envelopes SET unannounced_since = 1")
            .await;
    }
    eventually(20, "the cancelled event", || async {
        events(&rx)
            .iter()
            .any(|(e, _)| e.starts_with("envelope.cancelled"))
            .then_some(())
    })
    .await;
    core.retry_sealing().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let cancelled: Vec<_> = events(&rx)
        .into_iter()
        .filter(|(e, _)| e.starts_with("envelope.cancelled"))
        .collect();
    assert_eq!(cancelled.len(), 1, "{cancelled:?}");
    let records = actions(&app, &t, &e).await;
    assert_eq!(
        records
            .iter()
            .filter(|a| *a == "envelope.cancelled")
            .count(),
        1,
        "{records:?}"
    );
}

crate::both_backends!(
    a_cancellation_whose_process_died_is_announced_once,
    a_completion_is_announced_once,
    an_answer_whose_process_died_is_followed_up_once,
    a_sending_whose_process_died_is_followed_up_once
);
