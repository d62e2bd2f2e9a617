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
        let details = serde_json::to_string(&event.details)
            .map_err(|e| StoreError::corrupt(e.to_string()))?;
        let insert = format!(
            "INSERT INTO audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let record = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let head: Option<(i64, String)> = sqlx::query_as(
                "UPDATE organisations SET audit_seq = audit_seq + 1 WHERE id = $1 \
                 RETURNING audit_seq, audit_head",
            )
            .bind(event.org.0)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((seq, prev_hash)) = head else {
                return Err(StoreError::not_found(Entity::Organisation));
            };
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
                &details,
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
                .bind(&details)
                .bind(&prev_hash)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE organisations SET audit_head = $2 WHERE id = $1")
                .bind(event.org.0)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            AuditRecord {
                org: event.org,
                seq,
                at: event.at,
                actor: event.actor.clone(),
                action: event.action.clone(),
                target: event.target.clone(),
                ip: event.ip.clone(),
                user_agent: event.user_agent.clone(),
                details,
                prev_hash,
                hash,
            }
        });
        Ok(record)
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
