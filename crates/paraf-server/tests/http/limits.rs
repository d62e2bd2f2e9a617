//! Plan rate limits at their boundaries (minute, day, month) with the injected clock,
//! request-id replay, and the body limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use paraf_domain::{Claim, CredentialKey, IdempotencyKey, Plan, Role};
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Answer {
    status: u16,
    limit: Option<u64>,
    remaining: Option<u64>,
    retry_after: Option<u64>,
    body: serde_json::Value,
}

async fn call(app: &TestApp, token: &str) -> Answer {
    let r = app
        .get("/api/me")
        .header("authorization", bearer(token))
        .send()
        .await
        .unwrap();
    let h = |n: &str| {
        r.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap())
    };
    let (limit, remaining, retry_after) = (
        h("x-ratelimit-limit"),
        h("x-ratelimit-remaining"),
        h("retry-after"),
    );
    let (status, body) = json(r).await;
    Answer {
        status,
        limit,
        remaining,
        retry_after,
        body,
    }
}

/// `n` calls at once; returns how many got 200 and how many 429.
async fn burst(app: &TestApp, token: &str, n: usize) -> (usize, usize) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let req = app.get("/api/me").header("authorization", bearer(token));
        set.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let (mut ok, mut limited) = (0, 0);
    while let Some(s) = set.join_next().await {
        match s.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            s => panic!("unexpected status {s}"),
        }
    }
    (ok, limited)
}

async fn rate_limits_at_plan_boundaries(backend: Backend) {
    let app = spawn(backend).await;
    let lontar = tenant(&app, "lontar-org", Plan::Lontar).await;
    let big = tenant(&app, "nusantara-org", Plan::Nusantara).await;
    // Lontar: 60 per minute, 1 000 per day, 1 000 per month.
    app.clock.set(t("2030-01-15T10:00:15Z"));
    for i in 1..=60u64 {
        let a = call(&app, &lontar.admin_token).await;
        assert_eq!(a.status, 200, "request {i}: {}", a.body);
        assert_eq!(a.limit, Some(60));
        assert_eq!(a.remaining, Some(60 - i));
        assert_eq!(a.retry_after, None);
    }
    let a = call(&app, &lontar.admin_token).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.limit, Some(60));
    assert_eq!(a.remaining, Some(0));
    assert_eq!(a.retry_after, Some(45));
    assert_eq!(a.body["error"]["code"], "rate_limited");
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("60 per minute"),
        "{}",
        a.body
    );
    // Limits are per credential: the signer's token and another plan are unaffected.
    assert_eq!(call(&app, &lontar.signer_token).await.status, 200);
    let a = call(&app, &big.admin_token).await;
    assert_eq!(
        (a.status, a.limit, a.remaining),
        (200, Some(600), Some(599))
    );

    // One second before the minute ends: still refused; at the minute: allowed.
    app.clock.set(t("2030-01-15T10:00:59Z"));
    assert_eq!(call(&app, &lontar.admin_token).await.retry_after, Some(1));
    app.clock.set(t("2030-01-15T10:01:00Z"));
    let a = call(&app, &lontar.admin_token).await;
    assert_eq!((a.status, a.remaining), (200, Some(59)));

    // Use up the day (1 000; the refused requests above were not counted in it).
    let mut used = 61u64;
    let mut minute = t("2030-01-15T10:01:00Z");
    while used < 1000 {
        let n = (1000 - used).min(if minute == t("2030-01-15T10:01:00Z") {
            59
        } else {
            60
        });
        let (ok, limited) = burst(&app, &lontar.admin_token, n as usize).await;
        assert_eq!((ok, limited), (n as usize, 0), "at {minute}");
        used += n;
        minute += Duration::minutes(1);
        app.clock.set(minute);
    }
    let a = call(&app, &lontar.admin_token).await;
    assert_eq!(a.status, 429, "{}", a.body);
    // Day and month are both exhausted: the one that resets last is reported.
    assert_eq!(a.limit, Some(1000));
    let to_month_end = (t("2030-02-01T00:00:00Z") - minute).num_seconds() as u64;
    assert_eq!(a.retry_after, Some(to_month_end));
    assert!(a.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("per month"));
    // The next day: still the month.
    app.clock.set(t("2030-01-16T00:00:30Z"));
    let a = call(&app, &lontar.admin_token).await;
    assert_eq!((a.status, a.limit), (429, Some(1000)));
    // The next month: allowed again, the day window showing.
    app.clock.set(t("2030-02-01T00:00:05Z"));
    let a = call(&app, &lontar.admin_token).await;
    assert_eq!((a.status, a.limit, a.remaining), (200, Some(60), Some(59)));
    app.stop().await;
}

async fn request_id_replays_the_first_response(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "replay", Plan::Nusantara).await;
    let get = |id: Option<&'static str>, token: &str| {
        let mut r = app.get("/api/me").header("authorization", bearer(token));
        if let Some(id) = id {
            r = r.header("x-request-id", id);
        }
        r.send()
    };
    let r = get(Some("req-0001"), &tn.admin_token).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-0001");
    assert_eq!(r.headers()["x-idempotent-replay"], "false");
    let (s, first) = json(r).await;
    assert_eq!(s, 200);
    assert_eq!(first["user"]["role"], "admin");

    // The state changes; the same id replays the first answer, a new id sees the change.
    app.store
        .set_user_role(tn.org.id, tn.admin.id, Role::Instructor)
        .await
        .unwrap();
    let r = get(Some("req-0001"), &tn.admin_token).await.unwrap();
    assert_eq!(r.headers()["x-idempotent-replay"], "true");
    assert_eq!(r.headers()["x-request-id"], "req-0001");
    assert!(r.headers().get("x-ratelimit-limit").is_some());
    let (s, again) = json(r).await;
    assert_eq!((s, &again), (200, &first));
    let (_, fresh) = json(get(Some("req-0002"), &tn.admin_token).await.unwrap()).await;
    assert_eq!(fresh["user"]["role"], "instructor");

    // Another credential with the same id is another request.
    let (_, other) = json(get(Some("req-0001"), &tn.signer_token).await.unwrap()).await;
    assert_eq!(other["user"]["role"], "signer");

    // The same id for a different request: 422.
    let r = app
        .post("/api/logout")
        .header("authorization", bearer(&tn.admin_token))
        .header("x-request-id", "req-0001")
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("request_id_reused"))
    );

    // Still being handled (claimed elsewhere, e.g. by another instance): 409.
    let tokens = app
        .store
        .list_api_tokens(tn.org.id, Some(tn.admin.id))
        .await
        .unwrap();
    let key = IdempotencyKey {
        credential: CredentialKey::api_token(tokens[0].id),
        request_id: "req-0003".into(),
    };
    let fp = hex::encode(sha2::Sha256::digest(b"GET /api/me\n"));
    let c = app
        .store
        .claim_request(&key, &fp, app.clock.now_ts(), Duration::seconds(120))
        .await
        .unwrap();
    assert_eq!(c, Claim::Acquired);
    let (s, v) = json(get(Some("req-0003"), &tn.admin_token).await.unwrap()).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("request_in_progress"))
    );
    // Once that claim expires, the request runs.
    app.clock.advance(Duration::seconds(121));
    assert_eq!(
        get(Some("req-0003"), &tn.admin_token)
            .await
            .unwrap()
            .status(),
        200
    );

    // Without an id the server makes one and nothing is recorded.
    let r = get(None, &tn.admin_token).await.unwrap();
    assert_eq!(r.headers()["x-request-id"].len(), 36);
    assert!(r.headers().get("x-idempotent-replay").is_none());
    app.stop().await;
}

async fn body_over_the_limit_gets_413(backend: Backend) {
    let app = spawn_with(backend, |c| c.body_limit = 1024).await;
    let tn = tenant(&app, "big-bodies", Plan::Nusantara).await;
    let big = "x".repeat(2000);
    // With a Content-Length: refused before reading.
    for path in ["/api/oauth/token", "/api/logout", "/pki/tsa"] {
        let r = app
            .post(path)
            .header("authorization", bearer(&tn.admin_token))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-language", "fr")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let (s, v) = json(r).await;
        assert_eq!(s, 413, "{path}: {v}");
        assert_eq!(v["error"]["code"], "payload_too_large");
        assert_eq!(
            v["error"]["message"],
            "Le corps de la requête dépasse la limite de 1024 octets."
        );
    }
    // Chunked, no Content-Length: refused while reading, same answer.
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = "POST /api/oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n";
    // Two chunks cross the limit; the server answers as soon as it reads past it (writing
    // more after that could meet a closed socket, so stop there).
    let mut req = head.to_string();
    for _ in 0..2 {
        req.push_str(&format!("{:x}\r\n{}\r\n", 600, "y".repeat(600)));
    }
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp).await;
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(resp.contains("\"payload_too_large\""), "{resp}");
    assert!(resp.contains("limit of 1024 bytes"), "{resp}");
    // Under the limit: fine.
    let r = app
        .post("/api/oauth/token")
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}

async fn api_requests_are_counted_in_usage(backend: Backend) {
    let app = spawn(backend).await;
    let org = tenant(&app, "kuota-org", Plan::Nusantara).await;
    let used = || async {
        // Counted in memory, written every half second (or now).
        app.state.core.usage.flush().await;
        let o = app.store.organisation(org.org.id).await.unwrap();
        o.usage.api_requests
    };
    let before = used().await;
    for i in 1..=3 {
        let a = call(&app, &org.admin_token).await;
        assert_eq!(a.status, 200, "request {i}: {}", a.body);
    }
    let after = used().await;
    assert_eq!(after, before + 3);
    app.stop().await;
}

crate::both_backends!(
    api_requests_are_counted_in_usage,
    rate_limits_at_plan_boundaries,
    request_id_replays_the_first_response,
    body_over_the_limit_gets_413,
);
