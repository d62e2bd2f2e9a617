//! The job queue: leasing, backoff, dead letters, crash recovery, release, concurrency.

use std::collections::HashSet;

use chrono::Duration;
use paraf_domain::{DomainError, FailOutcome, JobStatus, NewJob, RetryPolicy};

use crate::common::{t, TestDb};
use crate::store_tests;

store_tests!(
    lease_complete_and_order,
    backoff_schedule_and_dead_letter,
    expired_lease_is_released_to_another_worker,
    two_instances_never_lease_the_same_job
);

fn job(queue: &str, n: i64, run_at: i64) -> NewJob {
    NewJob::new(queue, serde_json::json!({ "n": n }), t(run_at))
}

async fn lease_complete_and_order(db: TestDb) {
    let s = &db.store;
    let lease = Duration::seconds(60);
    let late = s.enqueue(&job("mail", 1, 100), t(0)).await.unwrap();
    let early = s.enqueue(&job("mail", 2, 10), t(0)).await.unwrap();
    s.enqueue(&job("webhook", 3, 0), t(0)).await.unwrap();
    assert!(
        s.lease("mail", "w1", t(5), lease).await.unwrap().is_none(),
        "nothing due yet"
    );
    let j = s.lease("mail", "w1", t(10), lease).await.unwrap().unwrap();
    assert_eq!((j.id, j.status, j.attempts), (early, JobStatus::Leased, 1));
    assert_eq!(j.payload, serde_json::json!({ "n": 2 }));
    assert_eq!(
        (j.lease_owner.as_deref(), j.lease_until),
        (Some("w1"), Some(t(70)))
    );
    assert!(s.lease("mail", "w2", t(11), lease).await.unwrap().is_none());
    // Only the holder completes.
    let e = s.complete(j.id, "w2", t(12)).await.unwrap_err();
    assert!(matches!(e.domain(), Some(DomainError::Conflict { .. })));
    s.complete(j.id, "w1", t(12)).await.unwrap();
    assert_eq!(s.job(j.id).await.unwrap().status, JobStatus::Done);
    assert!(s.complete(j.id, "w1", t(13)).await.is_err());
    let j2 = s.lease("mail", "w1", t(100), lease).await.unwrap().unwrap();
    assert_eq!(j2.id, late);
    s.extend_lease(j2.id, "w1", t(150), lease).await.unwrap();
    assert_eq!(s.job(j2.id).await.unwrap().lease_until, Some(t(210)));

    // Graceful shutdown: released jobs are ready at once and the attempt is not counted.
    assert_eq!(s.release("w1", t(160)).await.unwrap(), 1);
    let back = s.job(j2.id).await.unwrap();
    assert_eq!(
        (back.status, back.attempts, back.lease_owner),
        (JobStatus::Queued, 0, None)
    );
    assert_eq!(
        s.lease("mail", "w3", t(161), lease)
            .await
            .unwrap()
            .unwrap()
            .id,
        late
    );
    assert_eq!(
        s.list_jobs(Some("mail"), Some(JobStatus::Done), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.list_jobs(None, None, 10).await.unwrap().len(), 3);
    let counts = s.job_counts().await.unwrap();
    assert!(counts.contains(&("webhook".to_owned(), JobStatus::Queued, 1)));
}

async fn backoff_schedule_and_dead_letter(db: TestDb) {
    let s = &db.store;
    let policy = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::seconds(10),
        max_delay: Duration::seconds(25),
    };
    let id = s
        .enqueue(
            &NewJob {
                retry: policy,
                ..job("webhook", 1, 0)
            },
            t(0),
        )
        .await
        .unwrap();
    let lease = Duration::seconds(30);
    let mut now = 0;
    let mut delays = Vec::new();
    loop {
        let j = s
            .lease("webhook", "w", t(now), lease)
            .await
            .unwrap()
            .expect("due");
        assert_eq!(j.id, id);
        // Not leasable again before the backoff ends.
        match s.fail(id, "w", "HTTP 500", t(now + 1)).await.unwrap() {
            FailOutcome::Retry { attempts, run_at } => {
                let delay = (run_at - t(now + 1)).num_seconds();
                delays.push(delay);
                assert!(s
                    .lease("webhook", "w", run_at - Duration::seconds(1), lease)
                    .await
                    .unwrap()
                    .is_none());
                assert_eq!(attempts as usize, delays.len());
                now = (run_at - t(0)).num_seconds();
            }
            FailOutcome::Dead { attempts } => {
                assert_eq!(attempts, 4);
                break;
            }
        }
    }
    assert_eq!(delays, vec![10, 20, 25], "10 s doubling, capped at 25 s");
    let dead = s.job(id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("HTTP 500"));
    assert!(
        s.lease("webhook", "w", t(100_000), lease)
            .await
            .unwrap()
            .is_none(),
        "dead letters stay dead"
    );
    assert_eq!(
        s.list_jobs(Some("webhook"), Some(JobStatus::Dead), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn expired_lease_is_released_to_another_worker(db: TestDb) {
    let s = &db.store;
    let lease = Duration::seconds(30);
    let id = s
        .enqueue(
            &NewJob {
                retry: RetryPolicy {
                    max_attempts: 2,
                    ..RetryPolicy::default()
                },
                ..job("mail", 1, 0)
            },
            t(0),
        )
        .await
        .unwrap();
    // Worker A leases, then "crashes" (never completes).
    assert_eq!(
        s.lease("mail", "a", t(0), lease).await.unwrap().unwrap().id,
        id
    );
    assert!(
        s.lease("mail", "b", t(29), lease).await.unwrap().is_none(),
        "lease still held"
    );
    let j = s.lease("mail", "b", t(30), lease).await.unwrap().unwrap();
    assert_eq!(
        (j.id, j.attempts, j.lease_owner.as_deref()),
        (id, 2, Some("b"))
    );
    // A comes back: its lease is gone.
    let e = s.complete(id, "a", t(31)).await.unwrap_err();
    assert!(matches!(e.domain(), Some(DomainError::Conflict { .. })));
    assert!(s.fail(id, "a", "late", t(31)).await.is_err());
    // B crashes too, on the last attempt: the job is a dead letter, not leased forever.
    assert!(s.lease("mail", "c", t(60), lease).await.unwrap().is_none());
    let dead = s.job(id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Dead);
    assert!(dead.last_error.unwrap().contains("lease expired"));
}

async fn two_instances_never_lease_the_same_job(db: TestDb) {
    let s1 = db.store.clone();
    let s2 = db.another_store().await;
    let n = 60;
    for i in 0..n {
        s1.enqueue(&job("webhook", i, 0), t(0)).await.unwrap();
    }
    let mut workers = Vec::new();
    for w in 0..6 {
        let s = if w % 2 == 0 { s1.clone() } else { s2.clone() };
        workers.push(tokio::spawn(async move {
            let name = format!("worker-{w}");
            let mut got = Vec::new();
            while let Some(j) = s
                .lease("webhook", &name, t(1), Duration::seconds(300))
                .await
                .unwrap()
            {
                got.push(j.id);
                s.complete(j.id, &name, t(2)).await.unwrap();
            }
            got
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), n as usize, "every job leased exactly once");
    assert_eq!(unique.len(), n as usize);
    assert_eq!(
        s1.list_jobs(Some("webhook"), Some(JobStatus::Done), 1000)
            .await
            .unwrap()
            .len(),
        n as usize
    );
}
