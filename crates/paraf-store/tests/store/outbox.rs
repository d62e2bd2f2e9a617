//! Mail outbox and webhook endpoints / delivery log.

use paraf_domain::{JobStatus, MailStatus, NewMail, NewWebhookDelivery, NewWebhookEndpoint};

use crate::common::{org, t, TestDb};
use crate::store_tests;

store_tests!(mail_outbox_and_webhooks);

async fn mail_outbox_and_webhooks(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let b = org(s, "beta").await;
    let (mail, job) = s
        .queue_mail(
            &NewMail {
                org: Some(a.id),
                to: "siti@example.com".into(),
                subject: "Sign please".into(),
                text: "Hello".into(),
                html: None,
            },
            t(0),
        )
        .await
        .unwrap();
    assert_eq!(mail.status, MailStatus::Pending);
    let j = s.job(job).await.unwrap();
    assert_eq!((j.queue.as_str(), j.status), ("mail", JobStatus::Queued));
    assert_eq!(j.payload, serde_json::json!({ "mail_id": mail.id.0 }));
    s.mark_mail(mail.id, MailStatus::Captured, None, t(5))
        .await
        .unwrap();
    let m = s.mail(mail.id).await.unwrap();
    assert_eq!((m.status, m.sent_at), (MailStatus::Captured, Some(t(5))));
    assert_eq!(s.list_mail(Some(a.id), 10).await.unwrap().len(), 1);
    assert!(s.list_mail(Some(b.id), 10).await.unwrap().is_empty());
    assert_eq!(s.list_mail(None, 10).await.unwrap().len(), 1);

    let ep = s
        .create_webhook_endpoint(
            &NewWebhookEndpoint {
                org: a.id,
                url: "https://erp.example.com/hook".into(),
                secret: "whsec".into(),
                description: "ERP".into(),
                events: vec!["envelope.*".into(), "document.signed".into()],
            },
            t(0),
        )
        .await
        .unwrap();
    assert!(s
        .create_webhook_endpoint(
            &NewWebhookEndpoint {
                org: a.id,
                url: "ftp://x".into(),
                secret: "k".into(),
                description: String::new(),
                events: vec![],
            },
            t(0)
        )
        .await
        .is_err());
    let stored = s.webhook_endpoint(a.id, ep.id).await.unwrap();
    assert_eq!(stored.secret, "whsec");
    assert_eq!(stored.events, vec!["envelope.*", "document.signed"]);
    assert!(stored.wants("envelope.completed") && stored.wants("document.signed"));
    assert!(!stored.wants("envelope") && !stored.wants("document.sealed"));
    // Rotation keeps the previous secret beside the new one, until the given time.
    let rotated = s
        .rotate_webhook_secret(a.id, ep.id, "whsec2", t(86400))
        .await
        .unwrap();
    assert_eq!(rotated.secret, "whsec2");
    assert_eq!(rotated.previous_secret.as_deref(), Some("whsec"));
    assert_eq!(rotated.previous_secret_until, Some(t(86400)));
    assert!(s
        .rotate_webhook_secret(b.id, ep.id, "x", t(1))
        .await
        .unwrap_err()
        .is_not_found());
    for (attempt, code) in [(1u32, Some(500u16)), (2, None), (3, Some(200))] {
        s.record_webhook_delivery(&NewWebhookDelivery {
            org: a.id,
            endpoint: Some(ep.id),
            job: Some(job),
            url: ep.url.clone(),
            event: "document_signed".into(),
            attempt,
            status_code: code,
            error: code.is_none().then(|| "connection refused".into()),
            duration_ms: 12,
            at: t(i64::from(attempt)),
        })
        .await
        .unwrap();
    }
    let log = s.list_webhook_deliveries(a.id, None, 10).await.unwrap();
    assert_eq!(log.iter().filter(|d| d.succeeded()).count(), 1);
    assert_eq!(log[0].attempt, 3);
    assert_eq!(
        s.list_webhook_deliveries(a.id, Some(ep.id), 10)
            .await
            .unwrap(),
        log
    );
    let other = paraf_domain::WebhookEndpointId(ep.id.0 + 1000);
    assert!(s
        .list_webhook_deliveries(a.id, Some(other), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.webhook_delivery(a.id, log[0].id).await.unwrap(), log[0]);
    assert!(s
        .webhook_delivery(b.id, log[0].id)
        .await
        .unwrap_err()
        .is_not_found());
    assert!(
        !s.set_webhook_endpoint_enabled(a.id, ep.id, false)
            .await
            .unwrap()
            .enabled
    );
    s.delete_webhook_endpoint(a.id, ep.id).await.unwrap();
    assert_eq!(
        s.list_webhook_deliveries(a.id, None, 10).await.unwrap()[0].endpoint,
        None
    );
}
