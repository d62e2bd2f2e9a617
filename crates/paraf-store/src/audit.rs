//! The append-only, hash-chained audit log (one chain per organisation).
//!
//! **Invariant**: appending is one transaction that first bumps the organisation's
//! `audit_seq` (`UPDATE … RETURNING`, which takes the row lock on PostgreSQL and the write
//! lock on SQLite, so appends of one organisation are serialised), reads the previous head
//! hash in the same statement, inserts the record, and stores the new head. The head kept on
//! the organisation row lets verification notice records deleted from the end.
//! The tables also refuse `UPDATE`/`DELETE` by trigger; the chain catches whoever bypasses it.

use paraf_domain::{
    audit_hash, AuditChainReport, AuditRecord, ChainVerifier, Entity, NewAuditEvent, OrgId,
};

use crate::{from_ts, ts, with_pool, Result, Store, StoreError};

/// Records read per page while verifying.
const PAGE: i64 = 1000;

#[derive(sqlx::FromRow)]
struct Row {
    org_id: i64,
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl Row {
    fn into_domain(self) -> AuditRecord {
        AuditRecord {
            org: OrgId(self.org_id),
            seq: self.seq,
            at: from_ts(self.at),
            actor: self.actor,
            action: self.action,
            target: self.target,
            ip: self.ip,
            user_agent: self.user_agent,
            details: self.details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

const COLS: &str =
    "org_id, seq, at, actor, action, target, ip, user_agent, details, prev_hash, hash";

impl Store {
    /// Appends an event to its organisation's chain and returns the stored record.
    pub async fn append_audit(&self, event: &NewAuditEvent) -> Result<AuditRecord> {
        let mut records = self.append_audit_batch(std::slice::from_ref(event)).await?;
        records
            .pop()
            .ok_or_else(|| StoreError::corrupt("audit append returned no record"))
    }

    /// Appends events (of one or several organisations) in one transaction, each
    /// organisation's in the given order: per organisation one `UPDATE … RETURNING` reserves
    /// the sequence numbers and reads the chain head, the records are inserted, and the new
    /// head is stored. A server under load groups concurrent events this way (group commit),
    /// so the chain's serialisation point is taken once per batch, not once per event.
    pub async fn append_audit_batch(&self, events: &[NewAuditEvent]) -> Result<Vec<AuditRecord>> {
        let mut details = Vec::with_capacity(events.len());
        for e in events {
            details.push(
                serde_json::to_string(&e.details)
                    .map_err(|e| StoreError::corrupt(e.to_string()))?,
            );
        }
        let mut orgs: Vec<paraf_domain::OrgId> = Vec::new();
        for e in events {
            if !orgs.contains(&e.org) {
                orgs.push(e.org);
            }
        }
        let insert = format!(
            "INSERT INTO audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let mut out: Vec<Option<AuditRecord>> = vec![None; events.len()];
        let _turn = self.write_turn().await;
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for org in &orgs {
                let mine: Vec<usize> = (0..events.len())
                    .filter(|i| events[*i].org == *org)
                    .collect();
                let k = i64::try_from(mine.len()).unwrap_or(i64::MAX);
                let head: Option<(i64, String)> = sqlx::query_as(
                    "UPDATE organisations SET audit_seq = audit_seq + $2 WHERE id = $1 \
                     RETURNING audit_seq, audit_head",
                )
                .bind(org.0)
                .bind(k)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((last, mut prev_hash)) = head else {
                    return Err(StoreError::not_found(Entity::Organisation));
                };
                let mut seq = last - k;
                for i in mine {
                    let event = &events[i];
                    seq += 1;
                    let hash = audit_hash(
                        &prev_hash,
                        event.org,
                        seq,
                        event.at,
                        &event.actor,
                        &event.action,
                        event.target.as_deref(),
                        event.ip.as_deref(),
                        event.user_agent.as_deref(),
                        &details[i],
                    );
                    sqlx::query(&insert)
                        .bind(event.org.0)
                        .bind(seq)
                        .bind(ts(event.at))
                        .bind(&event.actor)
                        .bind(&event.action)
                        .bind(event.target.as_deref())
                        .bind(event.ip.as_deref())
                        .bind(event.user_agent.as_deref())
                        .bind(&details[i])
                        .bind(&prev_hash)
                        .bind(&hash)
                        .execute(&mut *tx)
                        .await?;
                    out[i] = Some(AuditRecord {
                        org: event.org,
                        seq,
                        at: event.at,
                        actor: event.actor.clone(),
                        action: event.action.clone(),
                        target: event.target.clone(),
                        ip: event.ip.clone(),
                        user_agent: event.user_agent.clone(),
                        details: details[i].clone(),
                        prev_hash: prev_hash.clone(),
                        hash: hash.clone(),
                    });
                    prev_hash = hash;
                }
                sqlx::query("UPDATE organisations SET audit_head = $2 WHERE id = $1")
                    .bind(org.0)
                    .bind(&prev_hash)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        out.into_iter()
            .map(|r| r.ok_or_else(|| StoreError::corrupt("audit batch lost a record")))
            .collect()
    }

    /// Up to `limit` records of the organisation with `seq > after_seq`, in order.
    pub async fn audit_records(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Row::into_domain).collect())
    }

    /// The organisation's records about `target` (`envelope:<uuid>`), oldest first, at most
    /// `limit`.
    pub async fn audit_of_target(
        &self,
        org: OrgId,
        target: &str,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM audit_log WHERE org_id = $1 AND target = $2 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(target)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Row::into_domain).collect())
    }

    /// Whether the organisation has a record of `action` about `target` (with exactly these
    /// `details`, the JSON text, if given; made at `since` or later, if given).
    pub async fn audit_exists(
        &self,
        org: OrgId,
        target: &str,
        action: &str,
        details: Option<&str>,
        since: Option<paraf_domain::Timestamp>,
    ) -> Result<bool> {
        let row: Option<(i64,)> = with_pool!(self, |p| {
            sqlx::query_as(
                "SELECT seq FROM audit_log WHERE org_id = $1 AND target = $2 AND action = $3 \
             AND ($4 IS NULL OR details = $4) AND ($5 IS NULL OR at >= $5) LIMIT 1",
            )
            .bind(org.0)
            .bind(target)
            .bind(action)
            .bind(details)
            .bind(since.map(ts))
            .fetch_optional(p)
            .await
        })?;
        Ok(row.is_some())
    }

    /// Verifies the organisation's whole chain: every record's hash, the links between
    /// records, contiguous sequence numbers, and the recorded head. Returns the first break.
    pub async fn verify_audit_chain(&self, org: OrgId) -> Result<AuditChainReport> {
        let head: Option<(i64, String)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT audit_seq, audit_head FROM organisations WHERE id = $1"
        )
        .bind(org.0)
        .fetch_optional(p)
        .await)?;
        let (head_seq, head_hash) = head.ok_or(StoreError::not_found(Entity::Organisation))?;
        let mut verifier = ChainVerifier::new();
        let mut after = 0i64;
        loop {
            let page = self
                .audit_records(org, after, u32::try_from(PAGE).unwrap_or(1000))
                .await?;
            let n = page.len();
            for r in &page {
                if let Err(b) = verifier.push(r) {
                    return Ok(AuditChainReport::Broken(b));
                }
                after = r.seq;
            }
            if (n as i64) < PAGE {
                break;
            }
        }
        Ok(verifier.finish(head_seq, &head_hash))
    }
}
