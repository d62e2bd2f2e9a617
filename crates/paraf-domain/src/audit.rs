//! The append-only audit log: every record carries the hash of the previous record of the
//! same organisation, so editing, deleting or reordering records is detectable.
//!
//! `hash = SHA-256( canonical(record) )` where the canonical encoding is the domain tag
//! `paraf-audit-v1` followed by each field — `prev_hash`, organisation id, sequence number,
//! time (µs since the epoch), actor, action, target, ip, user agent, details (the JSON text
//! exactly as stored) — each written as an 8-byte big-endian length and the UTF-8 bytes; an
//! absent optional field is written as the length `u64::MAX` and no bytes. Integers are
//! written in decimal. The first record of an organisation has `prev_hash` = [`GENESIS_HASH`].

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::{to_micros, Timestamp};
use crate::ids::OrgId;

/// `prev_hash` of an organisation's first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to record (the store assigns `seq`, `prev_hash` and `hash`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub org: OrgId,
    pub at: Timestamp,
    /// Who acted: `user:<id>`, `api_token:<id>`, `app_credential:<id>`, `system`, `cli`…
    pub actor: String,
    /// What happened, dotted lower case: `user.created`, `token.revoked`, `auth.refused`…
    pub action: String,
    /// What it happened to (`user:12`, `envelope:…`), if anything.
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Anything else worth keeping (never secrets).
    pub details: serde_json::Value,
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub org: OrgId,
    /// 1, 2, 3… per organisation, without gaps.
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The details as JSON text, exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// Recomputes this record's hash from its fields (compare with `self.hash`).
    pub fn computed_hash(&self) -> String {
        audit_hash(
            &self.prev_hash,
            self.org,
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            self.target.as_deref(),
            self.ip.as_deref(),
            self.user_agent.as_deref(),
            &self.details,
        )
    }
}

/// The hash of a record (see the module documentation for the encoding).
#[allow(clippy::too_many_arguments)]
pub fn audit_hash(
    prev_hash: &str,
    org: OrgId,
    seq: i64,
    at: Timestamp,
    actor: &str,
    action: &str,
    target: Option<&str>,
    ip: Option<&str>,
    user_agent: Option<&str>,
    details: &str,
) -> String {
    fn field(h: &mut Sha256, v: Option<&str>) {
        match v {
            Some(s) => {
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update(u64::MAX.to_be_bytes()),
        }
    }
    let mut h = Sha256::new();
    field(&mut h, Some("paraf-audit-v1"));
    field(&mut h, Some(prev_hash));
    field(&mut h, Some(&org.0.to_string()));
    field(&mut h, Some(&seq.to_string()));
    field(&mut h, Some(&to_micros(at).to_string()));
    field(&mut h, Some(actor));
    field(&mut h, Some(action));
    field(&mut h, target);
    field(&mut h, ip);
    field(&mut h, user_agent);
    field(&mut h, Some(details));
    hex::encode(h.finalize())
}

/// Why the chain is broken at a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// The record's fields do not hash to its `hash` (the record was edited).
    HashMismatch,
    /// The record's `prev_hash` is not the previous record's `hash` (a record was replaced
    /// or reordered).
    PrevHashMismatch,
    /// Sequence numbers jump: the record(s) before this one were deleted.
    MissingRecord,
    /// The organisation's recorded chain head does not match the last record (records at
    /// the end were deleted or appended behind the store's back).
    HeadMismatch,
}

/// Where verification stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The first sequence number found broken.
    pub seq: i64,
    pub reason: BreakReason,
}

/// The outcome of verifying an organisation's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum AuditChainReport {
    /// Every record checks out.
    Intact { records: u64, head: String },
    /// The first break found.
    Broken(ChainBreak),
}

/// Checks records one at a time, in sequence order (so a long chain can be read in pages).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    expected_seq: i64,
    count: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev_hash: GENESIS_HASH.to_owned(),
            expected_seq: 1,
            count: 0,
        }
    }
}

impl ChainVerifier {
    /// A verifier expecting sequence number 1 with `prev_hash` = [`GENESIS_HASH`].
    pub fn new() -> ChainVerifier {
        ChainVerifier::default()
    }

    /// Checks the next record.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        if r.seq != self.expected_seq {
            return Err(ChainBreak {
                seq: self.expected_seq.min(r.seq),
                reason: BreakReason::MissingRecord,
            });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq: r.seq,
                reason: BreakReason::PrevHashMismatch,
            });
        }
        if r.computed_hash() != r.hash {
            return Err(ChainBreak {
                seq: r.seq,
                reason: BreakReason::HashMismatch,
            });
        }
        self.prev_hash = r.hash.clone();
        self.expected_seq += 1;
        self.count += 1;
        Ok(())
    }

    /// Compares the last record with the recorded chain head and reports.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> AuditChainReport {
        let last_seq = self.expected_seq - 1;
        if last_seq != head_seq || self.prev_hash != head_hash {
            return AuditChainReport::Broken(ChainBreak {
                seq: last_seq.min(head_seq) + 1,
                reason: BreakReason::HeadMismatch,
            });
        }
        AuditChainReport::Intact {
            records: self.count,
            head: self.prev_hash,
        }
    }
}

/// Verifies records in sequence order against each other and against the recorded head
/// (`head_seq`, `head_hash`): the pure part of `Store::verify_audit_chain`.
pub fn verify_records<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
    head_seq: i64,
    head_hash: &str,
) -> AuditChainReport {
    let mut v = ChainVerifier::new();
    for r in records {
        if let Err(b) = v.push(r) {
            return AuditChainReport::Broken(b);
        }
    }
    v.finish(head_seq, head_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        let mut prev = GENESIS_HASH.to_owned();
        for seq in 1..=n {
            let mut r = AuditRecord {
                org: OrgId(7),
                seq,
                at: crate::clock::from_micros(seq * 1_000_000),
                actor: "cli".into(),
                action: "user.created".into(),
                target: Some(format!("user:{seq}")),
                ip: None,
                user_agent: None,
                details: "{}".into(),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            r.hash = r.computed_hash();
            prev = r.hash.clone();
            out.push(r);
        }
        out
    }

    #[test]
    fn detects_edits_gaps_and_truncation() {
        let c = chain(4);
        let head = c[3].hash.clone();
        assert!(matches!(
            verify_records(&c, 4, &head),
            AuditChainReport::Intact { records: 4, .. }
        ));

        let mut edited = c.clone();
        edited[1].action = "user.deleted".into();
        assert_eq!(
            verify_records(&edited, 4, &head),
            AuditChainReport::Broken(ChainBreak {
                seq: 2,
                reason: BreakReason::HashMismatch
            })
        );

        let mut gap = c.clone();
        gap.remove(2);
        assert_eq!(
            verify_records(&gap, 4, &head),
            AuditChainReport::Broken(ChainBreak {
                seq: 3,
                reason: BreakReason::MissingRecord
            })
        );

        assert_eq!(
            verify_records(&c[..3], 4, &head),
            AuditChainReport::Broken(ChainBreak {
                seq: 4,
                reason: BreakReason::HeadMismatch
            })
        );
        assert!(matches!(
            verify_records([], 0, GENESIS_HASH),
            AuditChainReport::Intact { records: 0, .. }
        ));
    }

    #[test]
    fn none_differs_from_empty() {
        let at = crate::clock::from_micros(0);
        let a = audit_hash(
            GENESIS_HASH,
            OrgId(1),
            1,
            at,
            "a",
            "b",
            None,
            None,
            None,
            "{}",
        );
        let b = audit_hash(
            GENESIS_HASH,
            OrgId(1),
            1,
            at,
            "a",
            "b",
            Some(""),
            None,
            None,
            "{}",
        );
        assert_ne!(a, b);
    }
}
