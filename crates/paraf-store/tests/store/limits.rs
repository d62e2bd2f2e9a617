//! Rate-limit counters shared between store instances, and idempotency claims/replays.

use chrono::Duration;
use paraf_domain::{
    Claim, CredentialKey, IdempotencyKey, RateDecision, RateWindow, StoredResponse,
};

use crate::common::{t, TestDb};
use crate::store_tests;

store_tests!(rate_counters_are_shared, idempotency_claim_and_replay);

async fn rate_counters_are_shared(db: TestDb) {
    let s1 = db.store.clone();
    let s2 = db.another_store().await;
    let now = t(15);
    let minute = RateWindow::Minute.start(now);
    assert_eq!(
        s1.hit("api_token:1", RateWindow::Minute, minute, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s2.hit("api_token:1", RateWindow::Minute, minute, now)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s1.hit("api_token:1", RateWindow::Minute, minute, now)
            .await
            .unwrap(),
        3
    );
    // Other windows, other credentials and the next minute count separately.
    let day = RateWindow::Day.start(now);
    assert_eq!(
        s2.hit("api_token:1", RateWindow::Day, day, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s2.hit("api_token:2", RateWindow::Minute, minute, now)
            .await
            .unwrap(),
        1
    );
    let later = t(75);
    assert_eq!(
        s1.hit(
            "api_token:1",
            RateWindow::Minute,
            RateWindow::Minute.start(later),
            later
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        s2.peek_hits("api_token:1", RateWindow::Minute, minute)
            .await
            .unwrap(),
        3
    );

    // Concurrent hits from two instances: every count from 1 to N exactly once.
    let key = "family:42";
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = if i % 2 == 0 { s1.clone() } else { s2.clone() };
        tasks.push(tokio::spawn(async move {
            s.hit(key, RateWindow::Minute, minute, now).await.unwrap()
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=40).collect::<Vec<u64>>());

    // At the plan boundary (Lontar: 60/min) the 61st request is refused.
    let limit = paraf_domain::Plan::Lontar.rate_limits().per_minute;
    let mut last = 0;
    for _ in 0..(limit - 40) {
        last = s1.hit(key, RateWindow::Minute, minute, now).await.unwrap();
    }
    assert!(RateDecision::evaluate(RateWindow::Minute, limit, last, now).allowed);
    let over = s2.hit(key, RateWindow::Minute, minute, now).await.unwrap();
    let d = RateDecision::evaluate(RateWindow::Minute, limit, over, now);
    assert!(!d.allowed);
    assert_eq!((d.remaining, d.retry_after_secs), (0, 45));

    assert_eq!(s1.prune_rate_counters(t(120)).await.unwrap(), 5);
    assert_eq!(
        s1.peek_hits("api_token:1", RateWindow::Minute, minute)
            .await
            .unwrap(),
        0
    );
}

async fn idempotency_claim_and_replay(db: TestDb) {
    let s = &db.store;
    let key = IdempotencyKey {
        credential: CredentialKey("api_token:1".into()),
        request_id: "req-1".into(),
    };
    let ttl = Duration::seconds(30);
    assert_eq!(
        s.claim_request(&key, "POST /documents abc", t(0), ttl)
            .await
            .unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        s.claim_request(&key, "POST /documents abc", t(1), ttl)
            .await
            .unwrap(),
        Claim::InProgress
    );
    assert_eq!(s.get_response(&key).await.unwrap(), None);
    let resp = StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-request-id".into(), "req-1".into()),
        ],
        body: br#"{"success":true}"#.to_vec(),
    };
    s.put_response(&key, &resp, t(2)).await.unwrap();
    assert_eq!(
        s.claim_request(&key, "POST /documents abc", t(3), ttl)
            .await
            .unwrap(),
        Claim::Completed(resp.clone())
    );
    assert_eq!(s.get_response(&key).await.unwrap(), Some(resp.clone()));
    // The same id for another request.
    assert_eq!(
        s.claim_request(&key, "DELETE /documents/9", t(3), ttl)
            .await
            .unwrap(),
        Claim::Mismatch
    );
    // A second put is a conflict; the first response stays.
    assert!(s
        .put_response(
            &key,
            &StoredResponse {
                status: 500,
                headers: vec![],
                body: vec![]
            },
            t(4)
        )
        .await
        .is_err());
    assert_eq!(s.get_response(&key).await.unwrap(), Some(resp));

    // The same request id under another credential is another request.
    let other = IdempotencyKey {
        credential: CredentialKey("api_token:2".into()),
        request_id: "req-1".into(),
    };
    assert_eq!(
        s.claim_request(&other, "x", t(0), ttl).await.unwrap(),
        Claim::Acquired
    );
    // Abandoned claims can be taken again.
    s.abandon_claim(&other).await.unwrap();
    assert_eq!(
        s.claim_request(&other, "x", t(1), ttl).await.unwrap(),
        Claim::Acquired
    );
    // A claim whose holder crashed expires and is taken over.
    assert_eq!(
        s.claim_request(&other, "x", t(20), ttl).await.unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        s.claim_request(&other, "x", t(31), ttl).await.unwrap(),
        Claim::Acquired
    );

    // Concurrent identical requests on two instances: exactly one acts.
    let s2 = db.another_store().await;
    let race = IdempotencyKey {
        credential: CredentialKey("family:9".into()),
        request_id: "same".into(),
    };
    let mut tasks = Vec::new();
    for i in 0..16 {
        let st = if i % 2 == 0 { s.clone() } else { s2.clone() };
        let k = race.clone();
        tasks.push(tokio::spawn(async move {
            st.claim_request(&k, "f", t(0), ttl).await.unwrap()
        }));
    }
    let mut acquired = 0;
    for task in tasks {
        match task.await.unwrap() {
            Claim::Acquired => acquired += 1,
            Claim::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(acquired, 1);

    assert!(s
        .claim_request(
            &IdempotencyKey {
                credential: CredentialKey("k".into()),
                request_id: String::new()
            },
            "f",
            t(0),
            ttl
        )
        .await
        .is_err());
    assert_eq!(s.prune_idempotency(t(1)).await.unwrap(), 2);
}
