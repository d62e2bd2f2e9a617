//! Webhook endpoints end to end: secrets sealed at rest and rotated with a day of overlap,
//! events sent only to the endpoints that want them, redelivery, and the outbound address
//! guard (no loopback, private or link-local address unless the operator allows it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use paraf_core::audit::Actor;
use paraf_domain::{JobStatus, Plan};
use paraf_testkit::webhook::{standard_webhooks_verify, Receiver};

use crate::common::*;
use crate::jobs::{wait_job, webhook_endpoint};

async fn secrets_are_sealed_and_rotate_with_a_day_of_overlap(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "rotating", Plan::Piagam).await;
    let rx = Receiver::start(vec![200]).await;
    let (ep, old) = webhook_endpoint(&app, tn.org.id, &rx.url).await;
    // At rest: sealed, never the secret itself.
    let stored = app.store.webhook_endpoint(tn.org.id, ep.id).await.unwrap();
    assert!(stored.secret.starts_with("sealed:"), "{}", stored.secret);
    let key_part = old.expose().trim_start_matches("whsec_");
    assert!(!stored.secret.contains(key_part));
    assert!(!format!("{stored:?}").contains(&stored.secret));

    let hooks = app.state.core.webhooks();
    let (_, new) = hooks.rotate(tn.org.id, ep.id, &Actor::cli()).await.unwrap();
    assert_ne!(new.expose(), old.expose());
    let sent = app
        .state
        .core
        .emit(tn.org.id, "envelope.completed", serde_json::json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    wait_job(&app, sent[0].1, JobStatus::Done, 1).await;
    let d = &rx.deliveries()[0];
    assert_eq!(d.header("webhook-signature").split(' ').count(), 2);
    assert!(d.signed_by(old.expose()) && d.signed_by(new.expose()));
    standard_webhooks_verify(old.expose(), d).unwrap();
    standard_webhooks_verify(new.expose(), d).unwrap();

    // A day later the old secret no longer signs.
    app.clock
        .advance(Duration::hours(24) + Duration::seconds(1));
    let sent = app
        .state
        .core
        .emit(tn.org.id, "envelope.completed", serde_json::json!({"n": 2}))
        .await
        .unwrap();
    wait_job(&app, sent[0].1, JobStatus::Done, 1).await;
    let d = &rx.deliveries()[1];
    assert_eq!(d.header("webhook-signature").split(' ').count(), 1);
    assert!(d.signed_by(new.expose()) && !d.signed_by(old.expose()));

    // The audit chain names each step.
    let actions: Vec<String> = app
        .state
        .core
        .audit_records(tn.org.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        actions.contains(&"webhook_endpoint.created".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"webhook_endpoint.rotated".to_string()),
        "{actions:?}"
    );
    app.stop().await;
}

async fn events_go_only_where_they_are_wanted_and_can_be_redelivered(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "subscribers", Plan::Piagam).await;
    let other = tenant(&app, "elsewhere", Plan::Piagam).await;
    let hooks = app.state.core.webhooks();
    let envelopes = Receiver::start(vec![200]).await;
    let documents = Receiver::start(vec![200]).await;
    let disabled = Receiver::start(vec![200]).await;
    let foreign = Receiver::start(vec![200]).await;
    let (ep, secret) = hooks
        .create(
            tn.org.id,
            &envelopes.url,
            &["envelope.*".into()],
            "",
            &Actor::cli(),
        )
        .await
        .unwrap();
    hooks
        .create(
            tn.org.id,
            &documents.url,
            &["document.signed".into()],
            "",
            &Actor::cli(),
        )
        .await
        .unwrap();
    let (off, _) = hooks
        .create(tn.org.id, &disabled.url, &[], "", &Actor::cli())
        .await
        .unwrap();
    hooks
        .set_enabled(tn.org.id, off.id, false, &Actor::cli())
        .await
        .unwrap();
    hooks
        .create(other.org.id, &foreign.url, &[], "", &Actor::cli())
        .await
        .unwrap();
    // Bad event names are refused with the field named.
    let e = hooks
        .create(
            tn.org.id,
            &envelopes.url,
            &["Envelope Completed".into()],
            "",
            &Actor::cli(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("events"), "{e}");

    let sent = app
        .state
        .core
        .emit(
            tn.org.id,
            "envelope.completed",
            serde_json::json!({"envelope": "e1"}),
        )
        .await
        .unwrap();
    assert_eq!(sent.iter().map(|s| s.0).collect::<Vec<_>>(), vec![ep.id]);
    wait_job(&app, sent[0].1, JobStatus::Done, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(envelopes.len(), 1);
    assert!(documents.is_empty() && disabled.is_empty() && foreign.is_empty());

    // Redelivery: the same event (id and bytes) once more, recorded in the log.
    let log = hooks.deliveries(tn.org.id, Some(ep.id), 10).await.unwrap();
    assert_eq!(log.len(), 1);
    let job = hooks
        .redeliver(tn.org.id, log[0].id, &Actor::cli())
        .await
        .unwrap();
    wait_job(&app, job, JobStatus::Done, 1).await;
    let seen = envelopes.deliveries();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("webhook-id"), seen[0].header("webhook-id"));
    assert_eq!(seen[1].body, seen[0].body);
    assert!(seen[1].signed_by(secret.expose()));
    assert_eq!(
        hooks
            .deliveries(tn.org.id, Some(ep.id), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    // Another organisation cannot redeliver it, nor see the endpoint.
    assert!(hooks
        .redeliver(other.org.id, log[0].id, &Actor::cli())
        .await
        .unwrap_err()
        .is_not_found());
    assert!(hooks
        .get(other.org.id, ep.id)
        .await
        .unwrap_err()
        .is_not_found());

    // The same over HTTP (admins): endpoints without secrets, the log, a redelivery.
    let get = |path: &str, token: &str| {
        let r = app.get(path).header("authorization", bearer(token));
        async move { json(r.send().await.unwrap()).await }
    };
    let (s, v) = get("/api/webhooks", &tn.admin_token).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["endpoints"].as_array().unwrap().len(), 3);
    assert!(!v.to_string().contains("whsec_") && v["endpoints"][0].get("secret").is_none());
    let (s, v) = get(
        &format!("/api/webhooks/deliveries?endpoint_id={}&limit=1", ep.id),
        &tn.admin_token,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let log = v["deliveries"].as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["event"], "envelope.completed");
    assert_eq!(log[0]["status_code"], 200);
    let id = log[0]["id"].as_i64().unwrap();
    let (s, v) = json(
        app.post(&format!("/api/webhooks/deliveries/{id}/redeliver"))
            .header("authorization", bearer(&tn.admin_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 202, "{v}");
    eventually(20, "the third delivery", || async {
        (envelopes.len() == 3).then_some(())
    })
    .await;
    // Not an admin, or not this organisation's: refused.
    assert_eq!(get("/api/webhooks", &tn.signer_token).await.0, 403);
    let (s, _) = json(
        app.post(&format!("/api/webhooks/deliveries/{id}/redeliver"))
            .header("authorization", bearer(&other.admin_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
    app.stop().await;
}

async fn private_addresses_are_refused_unless_allowed(backend: Backend) {
    let app = spawn_with(backend, |c| c.outbound_allow_private = false).await;
    let tn = tenant(&app, "guarded", Plan::Piagam).await;
    let hooks = app.state.core.webhooks();
    let rx = Receiver::start(vec![200]).await;
    // Address literals are refused when the endpoint is made…
    for url in [
        rx.url.clone(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]/hook".to_string(),
        "http://10.0.0.8/hook".to_string(),
    ] {
        let e = hooks
            .create(tn.org.id, &url, &[], "", &Actor::cli())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("invalid url"), "{url}: {e}");
    }
    // …names when they are resolved, at every delivery: nothing reaches the receiver.
    let by_name = rx.url.replace("127.0.0.1", "localhost");
    let (ep, _) = hooks
        .create(tn.org.id, &by_name, &[], "", &Actor::cli())
        .await
        .unwrap();
    let sent = app
        .state
        .core
        .emit(tn.org.id, "envelope.completed", serde_json::json!({}))
        .await
        .unwrap();
    wait_job(&app, sent[0].1, JobStatus::Queued, 1).await;
    assert!(rx.is_empty());
    let log = hooks.deliveries(tn.org.id, Some(ep.id), 10).await.unwrap();
    let error = log[0].error.clone().unwrap();
    assert!(
        error.starts_with("refused: localhost resolves to a loopback"),
        "{error}"
    );
    assert_eq!(log[0].status_code, None);
    app.stop().await;
}

crate::both_backends!(
    secrets_are_sealed_and_rotate_with_a_day_of_overlap,
    events_go_only_where_they_are_wanted_and_can_be_redelivered,
    private_addresses_are_refused_unless_allowed,
);
