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
use crate::envelopes::signed_by_alice;
use crate::jobs::webhook_endpoint;

fn completed_ids(rx: &Receiver) -> Vec<String> {
    rx.deliveries()
        .iter()
        .filter(|d| d.json()["type"] == "envelope.completed")
        .map(|d| d.header("webhook-id"))
        .collect()
}

async fn a_completion_is_announced_once(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.sealing_lease = std::time::Duration::from_secs(60);
    })
    .await;
    let t = tenant(&app, "annonce", Plan::Piagam).await;
    let rx = Receiver::start(vec![200]).await;
    webhook_endpoint(&app, t.org.id, &rx.url).await;
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

crate::both_backends!(a_completion_is_announced_once);
