//! The audit chain: appends, verification, and tampering detected.

use paraf_domain::{AuditChainReport, BreakReason, ChainBreak, NewAuditEvent, GENESIS_HASH};

use crate::common::{org, t, Kind, TestDb};
use crate::store_tests;

store_tests!(
    audit_chain_detects_tampering,
    batches_of_several_organisations_keep_each_chain
);

fn event(org: paraf_domain::OrgId, i: i64) -> NewAuditEvent {
    NewAuditEvent {
        org,
        at: t(i),
        actor: "user:1".into(),
        action: "document.signed".into(),
        target: Some(format!("document:{i}")),
        ip: Some("192.0.2.7".into()),
        user_agent: if i % 2 == 0 {
            Some("curl/8".into())
        } else {
            None
        },
        details: serde_json::json!({ "n": i, "b": [1, 2], "a": "x" }),
    }
}

async fn audit_chain_detects_tampering(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let b = org(s, "beta").await;
    assert!(matches!(
        s.verify_audit_chain(a.id).await.unwrap(),
        AuditChainReport::Intact { records: 0, .. }
    ));
    let mut prev = GENESIS_HASH.to_owned();
    for i in 1..=5 {
        let r = s.append_audit(&event(a.id, i)).await.unwrap();
        assert_eq!((r.seq, r.prev_hash.clone()), (i, prev.clone()));
        assert_eq!(r.computed_hash(), r.hash);
        prev = r.hash;
        s.append_audit(&event(b.id, i)).await.unwrap();
    }
    let records = s.audit_records(a.id, 0, 100).await.unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(records[2].at, t(3));
    assert_eq!(s.audit_records(a.id, 3, 100).await.unwrap().len(), 2);
    assert_eq!(
        s.verify_audit_chain(a.id).await.unwrap(),
        AuditChainReport::Intact {
            records: 5,
            head: prev.clone()
        }
    );

    // Concurrent appends from two instances keep one gap-free chain.
    let s2 = db.another_store().await;
    let mut tasks = Vec::new();
    for i in 6..=15 {
        let st = if i % 2 == 0 { s.clone() } else { s2.clone() };
        tasks.push(tokio::spawn(async move {
            st.append_audit(&event(a.id, i)).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(matches!(
        s.verify_audit_chain(a.id).await.unwrap(),
        AuditChainReport::Intact { records: 15, .. }
    ));

    // The table refuses updates and deletes…
    let blocked = db
        .try_raw(&format!(
            "UPDATE audit_log SET action = 'x' WHERE org_id = {} AND seq = 3",
            a.id
        ))
        .await;
    assert!(blocked.unwrap_err().contains("append-only"));
    // …so a tamperer first removes the guard, then edits record 3.
    let unguard = match db.kind {
        Kind::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        Kind::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;",
    };
    db.raw(unguard).await;
    db.raw(&format!(
        "UPDATE audit_log SET details = '{{\"n\":3,\"b\":[1,2],\"a\":\"y\"}}' WHERE org_id = {} AND seq = 3",
        a.id
    ))
    .await;
    assert_eq!(
        s.verify_audit_chain(a.id).await.unwrap(),
        AuditChainReport::Broken(ChainBreak {
            seq: 3,
            reason: BreakReason::HashMismatch
        })
    );
    // Organisation B's chain is untouched.
    assert!(matches!(
        s.verify_audit_chain(b.id).await.unwrap(),
        AuditChainReport::Intact { records: 5, .. }
    ));

    // Recomputing record 3's hash does not help: record 4 no longer links to it.
    let r3 = &s.audit_records(a.id, 2, 1).await.unwrap()[0];
    db.raw(&format!(
        "UPDATE audit_log SET hash = '{}' WHERE org_id = {} AND seq = 3",
        r3.computed_hash(),
        a.id
    ))
    .await;
    assert_eq!(
        s.verify_audit_chain(a.id).await.unwrap(),
        AuditChainReport::Broken(ChainBreak {
            seq: 4,
            reason: BreakReason::PrevHashMismatch
        })
    );

    // Deleting the newest records of B is caught by the recorded head.
    db.raw(&format!(
        "DELETE FROM audit_log WHERE org_id = {} AND seq = 5",
        b.id
    ))
    .await;
    assert_eq!(
        s.verify_audit_chain(b.id).await.unwrap(),
        AuditChainReport::Broken(ChainBreak {
            seq: 5,
            reason: BreakReason::HeadMismatch
        })
    );
    // Deleting one in the middle is a gap.
    db.raw(&format!(
        "DELETE FROM audit_log WHERE org_id = {} AND seq = 2",
        b.id
    ))
    .await;
    assert_eq!(
        s.verify_audit_chain(b.id).await.unwrap(),
        AuditChainReport::Broken(ChainBreak {
            seq: 2,
            reason: BreakReason::MissingRecord
        })
    );
}

/// A batch interleaving two organisations (the server's group commit) appends to each chain
/// in order, after what was there, and each chain still verifies.
async fn batches_of_several_organisations_keep_each_chain(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let b = org(s, "beta").await;
    s.append_audit(&event(a.id, 1)).await.unwrap();
    let batch: Vec<NewAuditEvent> = (2..=7)
        .map(|i| event(if i % 2 == 0 { a.id } else { b.id }, i))
        .collect();
    let records = s.append_audit_batch(&batch).await.unwrap();
    let seqs: Vec<(i64, i64)> = records.iter().map(|r| (r.org.0, r.seq)).collect();
    assert_eq!(
        seqs,
        vec![
            (a.id.0, 2),
            (b.id.0, 1),
            (a.id.0, 3),
            (b.id.0, 2),
            (a.id.0, 4),
            (b.id.0, 3)
        ]
    );
    assert_eq!(
        records[0].details,
        serde_json::to_string(&batch[0].details).unwrap()
    );
    for id in [a.id, b.id] {
        assert!(matches!(
            s.verify_audit_chain(id).await.unwrap(),
            AuditChainReport::Intact { .. }
        ));
    }
    assert_eq!(s.audit_records(a.id, 0, 100).await.unwrap().len(), 4);
    assert_eq!(s.append_audit(&event(b.id, 8)).await.unwrap().seq, 4);
}
