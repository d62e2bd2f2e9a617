//! The core's fsck on both backends: a completed envelope checks clean (and `/metrics` counts
//! the blob store's work); its signed document's blob deleted from the store is reported
//! against each row that names it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_domain::Plan;

use crate::common::*;
use crate::envelopes::signed_by_alice;

async fn fsck_sees_what_is_missing(backend: Backend) {
    let app = spawn(backend).await;
    let t = tenant(&app, "etude", Plan::Piagam).await;
    let core = &app.state.core;
    let done = signed_by_alice(&app, t.org.id).await;
    let r = core.fsck().await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    // The blob store's work is in /metrics.
    let m = app.text("/metrics").await;
    let value = |name: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} not in {m}"))
    };
    assert!(
        value("paraf_blob_operations_total{op=\"put\"}") >= 3.0,
        "{m}"
    );
    assert!(
        value("paraf_blob_operations_total{op=\"get\"}") >= 4.0,
        "{m}"
    );
    assert_eq!(value("paraf_blob_errors_total"), 0.0, "{m}");
    // The signature just made is in the signing-time histogram (process-wide).
    assert!(value("paraf_sign_duration_seconds_count") >= 1.0, "{m}");
    assert!(
        value("paraf_sign_duration_seconds_bucket{le=\"+Inf\"}")
            >= value("paraf_sign_duration_seconds_bucket{le=\"5\"}"),
        "{m}"
    );
    assert!(r.blobs >= 4 && r.references > r.blobs, "{r:?}");

    let (docs, _) = core.envelope_contents(&done).await.unwrap();
    let current = docs[0].current.clone();
    core.blobs.delete(&current).await.unwrap();
    let r = core.fsck().await.unwrap();
    assert!(!r.problems.is_empty());
    assert!(
        r.problems
            .iter()
            .all(|p| p.starts_with("etude: envelope ") && p.contains("is missing")),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| p.contains("(current)")),
        "{:?}",
        r.problems
    );
    app.stop().await;
}

crate::both_backends!(fsck_sees_what_is_missing);
