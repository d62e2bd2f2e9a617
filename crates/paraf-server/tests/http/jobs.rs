//! Job consumers end to end: webhook retries with backoff (by the injected clock) and a valid
//! Standard Webhooks signature, mail to a real SMTP server (aiosmtpd) and to the development
//! outbox, and a server killed in the middle of a job losing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::http::StatusCode;
use chrono::Duration;
use paraf_core::audit::Actor;
use paraf_core::Secret;
use paraf_domain::{JobStatus, MailStatus, NewMail, Plan};
use paraf_testkit::webhook::{standard_webhooks_verify, Receiver};

use crate::common::*;

/// An endpoint made the way operators make one (`paraf admin webhook create`, the console):
/// through the core, its secret sealed; returns it and the secret shown once.
pub async fn webhook_endpoint(
    app: &TestApp,
    org: paraf_domain::OrgId,
    url: &str,
) -> (paraf_domain::WebhookEndpoint, Secret) {
    app.state
        .core
        .webhooks()
        .create(org, url, &[], "test receiver", &Actor::cli())
        .await
        .unwrap()
}

pub async fn wait_job(app: &TestApp, id: paraf_domain::JobId, status: JobStatus, attempts: u32) {
    eventually(
        20,
        &format!("job {id} {status} after {attempts} attempts"),
        || async {
            let j = app.store.job(id).await.unwrap();
            (j.status == status && j.attempts == attempts).then_some(())
        },
    )
    .await
}

async fn webhook_fails_twice_then_one_signed_delivery(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "hooks", Plan::Piagam).await;
    let rx = Receiver::start(vec![500, 503, 200]).await;
    let (ep, secret) = webhook_endpoint(&app, tn.org.id, &rx.url).await;
    assert!(secret.expose().starts_with("whsec_"));
    let (job, event_id) = app
        .state
        .enqueue_webhook(
            &ep,
            "document.signed",
            serde_json::json!({"document": "doc-1"}),
        )
        .await
        .unwrap();

    // Attempt 1 fails: queued again 20 s later (the webhook backoff, on our clock).
    wait_job(&app, job, JobStatus::Queued, 1).await;
    assert_eq!(rx.len(), 1);
    let j = app.store.job(job).await.unwrap();
    assert_eq!(j.run_at, app.clock.now_ts() + Duration::seconds(20));
    assert_eq!(j.retry, paraf_core::events::WEBHOOK_RETRY);
    // Nothing happens before the backoff is over.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(rx.len(), 1);
    app.clock.advance(Duration::seconds(20));
    wait_job(&app, job, JobStatus::Queued, 2).await;
    assert_eq!(rx.len(), 2);
    let j = app.store.job(job).await.unwrap();
    assert_eq!(j.run_at, app.clock.now_ts() + Duration::seconds(40));
    app.clock.advance(Duration::seconds(40));
    wait_job(&app, job, JobStatus::Done, 3).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;

    let seen = rx.deliveries();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen.iter().filter(|d| d.answered == 200).count(), 1);
    for d in &seen {
        assert!(d.signed_by(secret.expose()), "{d:?}");
        assert!(!d.signed_by("whsec_d3Jvbmcgc2VjcmV0"));
        assert_eq!(d.header("content-type"), "application/json");
        assert!(
            d.header("user-agent").starts_with("Paraf-Webhooks/"),
            "{d:?}"
        );
        // Same event id and bytes every attempt.
        assert_eq!(d.header("webhook-id"), event_id);
        assert_eq!(d.body, seen[0].body);
    }
    let last = &seen[2];
    assert_eq!(
        last.header("webhook-timestamp"),
        app.clock.now_ts().timestamp().to_string()
    );
    // The reference implementation agrees.
    standard_webhooks_verify(secret.expose(), last).unwrap();
    assert!(standard_webhooks_verify("whsec_d3Jvbmcgc2VjcmV0", last).is_err());
    let body = last.json();
    assert_eq!(body["id"], event_id);
    assert_eq!(body["type"], "document.signed");
    assert_eq!(body["data"]["document"], "doc-1");

    // The delivery log has every attempt.
    let log = app
        .state
        .core
        .webhooks()
        .deliveries(tn.org.id, Some(ep.id), 10)
        .await
        .unwrap();
    let mut codes: Vec<_> = log.iter().map(|d| (d.attempt, d.status_code)).collect();
    codes.sort();
    assert_eq!(codes, vec![(1, Some(500)), (2, Some(503)), (3, Some(200))]);
    assert_eq!(log.iter().filter(|d| d.succeeded()).count(), 1);
    // Metrics count the attempts.
    let m = app.text("/metrics").await;
    assert!(
        m.contains("paraf_job_attempts_total{kind=\"webhook\",outcome=\"retry\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("paraf_job_attempts_total{kind=\"webhook\",outcome=\"done\"} 1"),
        "{m}"
    );
    assert!(m.contains("paraf_jobs{state=\"done\"} 1"), "{m}");
    app.stop().await;
}

async fn killed_mid_job_loses_nothing(backend: Backend) {
    // The first delivery never gets an answer: the server is killed while it waits.
    let rx = Receiver::start(vec![0, 200]).await;
    let app = spawn(backend).await;
    let tn = tenant(&app, "crashy", Plan::Piagam).await;
    let (ep, _) = webhook_endpoint(&app, tn.org.id, &rx.url).await;
    let (job, _) = app
        .state
        .enqueue_webhook(&ep, "document.signed", serde_json::json!({}))
        .await
        .unwrap();
    eventually(20, "first delivery attempt", || async {
        (rx.len() == 1).then_some(())
    })
    .await;
    let leased = app.store.job(job).await.unwrap();
    assert_eq!(leased.status, JobStatus::Leased);
    let (fresh, clock, config) = app.kill().await;

    // A new server on the same database: the lease is still held by the dead worker…
    let app = start(fresh, clock, config).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(app.store.job(job).await.unwrap().status, JobStatus::Leased);
    assert_eq!(rx.len(), 1);
    // …until it expires; then the job runs again and succeeds.
    app.clock.advance(Duration::seconds(61));
    wait_job(&app, job, JobStatus::Done, 2).await;
    assert_eq!(rx.len(), 2);
    app.stop().await;
}

async fn graceful_shutdown_finishes_the_job_in_hand(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "graceful", Plan::Piagam).await;
    // A receiver that takes a while to answer.
    let seen = Arc::new(AtomicUsize::new(0));
    let s2 = seen.clone();
    let rapp = axum::Router::new().route(
        "/slow",
        axum::routing::post(move || {
            let s2 = s2.clone();
            async move {
                s2.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(StdDuration::from_millis(800)).await;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, rapp).await });
    let (ep, _) = webhook_endpoint(&app, tn.org.id, &url).await;
    let (job, _) = app
        .state
        .enqueue_webhook(&ep, "envelope.completed", serde_json::json!({}))
        .await
        .unwrap();
    eventually(20, "delivery started", || async {
        (seen.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    let fresh = app.fresh.clone();
    app.stop().await;
    // The stopped server closed its pool: look with a new connection.
    let store = paraf_store::Store::connect(&fresh.database_url)
        .await
        .unwrap();
    let j = store.job(job).await.unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Done, 1));
}

use paraf_testkit::smtp::start_smtpd;

async fn mail_reaches_a_real_smtp_server(backend: Backend) {
    let smtpd = start_smtpd();
    let port = smtpd.port;
    let app = spawn_with(backend, |c| {
        smtp_to(c, port);
        c.mail_from = "Paraf Test <noreply@paraf.example>".into();
    })
    .await;
    let tn = tenant(&app, "mailer", Plan::Lontar).await;
    let (mail, _) = app
        .store
        .queue_mail(
            &NewMail {
                org: Some(tn.org.id),
                to: "budi@example.id".into(),
                subject: "Dokumen menunggu tanda tangan Anda".into(),
                text: "Silakan tanda tangani dokumen Perjanjian Kerja Sama.".into(),
                html: Some("<p>Silakan tanda tangani.</p>".into()),
            },
            app.clock.now_ts(),
        )
        .await
        .unwrap();
    let sent = eventually(20, "mail sent", || async {
        let m = app.store.mail(mail.id).await.unwrap();
        (m.status == MailStatus::Sent).then_some(m)
    })
    .await;
    // Sent: its body (links, codes) is no longer kept.
    assert_eq!(sent.text, "(sent: body removed)");
    assert_eq!(sent.html, None);
    eventually(10, "aiosmtpd printing the mail", || async {
        let out = smtpd.out.lock().unwrap().clone();
        out.contains("budi@example.id").then_some(())
    })
    .await;
    let out = smtpd.out.lock().unwrap().clone();
    assert!(out.contains("noreply@paraf.example"), "{out}");
    assert!(out.contains("Silakan tanda tangani dokumen"), "{out}");
    app.stop().await;
}

async fn development_outbox_for_admins(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "devmail", Plan::Lontar).await;
    app_credential(&app, tn.org.id, "devmail-app", &[]).await;
    let (mail, _) = app
        .store
        .queue_mail(
            &NewMail {
                org: Some(tn.org.id),
                to: "siti@example.id".into(),
                subject: "Kode OTP Anda".into(),
                text: "123456".into(),
                html: None,
            },
            app.clock.now_ts(),
        )
        .await
        .unwrap();
    eventually(20, "mail captured", || async {
        let m = app.store.mail(mail.id).await.unwrap();
        (m.status == MailStatus::Captured).then_some(())
    })
    .await;
    let (s, v) = json(
        app.get("/admin/outbox")
            .header("authorization", bearer(&tn.admin_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["mails"][0]["subject"], "Kode OTP Anda");
    assert_eq!(v["mails"][0]["status"], "captured");
    assert_eq!(v["mails"][0]["text"], "123456");
    for auth in [bearer(&tn.signer_token), basic("devmail-app", PASSWORD)] {
        let r = app
            .get("/admin/outbox")
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    app.stop().await;
}

crate::both_backends!(
    webhook_fails_twice_then_one_signed_delivery,
    killed_mid_job_loses_nothing,
    graceful_shutdown_finishes_the_job_in_hand,
    mail_reaches_a_real_smtp_server,
    development_outbox_for_admins,
);
