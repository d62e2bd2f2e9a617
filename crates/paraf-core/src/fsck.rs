//! `paraf admin fsck`: every stored reference checked — each blob a row names exists and its
//! bytes still hash to its id, envelope and revision rows agree, every organisation's audit
//! chain is intact. Problems are reported, never repaired.

use std::collections::BTreeMap;

use paraf_domain::{AuditChainReport, BlobId, BreakReason};
use paraf_store::StoreError;

use crate::error::CoreError;
use crate::Core;

/// What the check found.
#[derive(Debug, Clone, Default)]
pub struct FsckReport {
    /// Distinct blobs read and hashed.
    pub blobs: usize,
    /// Rows naming a blob.
    pub references: usize,
    /// Audit chains verified.
    pub chains: usize,
    /// Each problem, in words, prefixed with the organisation's slug.
    pub problems: Vec<String>,
}

/// A chain break in words.
pub fn break_words(reason: BreakReason) -> &'static str {
    match reason {
        BreakReason::HashMismatch => "the record was modified",
        BreakReason::PrevHashMismatch => "the record does not link to the previous one",
        BreakReason::MissingRecord => "records are missing",
        BreakReason::HeadMismatch => "records at the end were removed or added",
    }
}

impl Core {
    /// Checks everything stored (reads every blob once).
    pub async fn fsck(&self) -> Result<FsckReport, CoreError> {
        let orgs = self.store.list_organisations().await?;
        let slug = |id: paraf_domain::OrgId| {
            orgs.iter()
                .find(|o| o.id == id)
                .map_or_else(|| format!("org {}", id.0), |o| o.slug.as_str().to_string())
        };
        let mut report = FsckReport::default();
        let refs = self.store.blob_references().await?;
        report.references = refs.len();
        let mut by_blob: BTreeMap<&str, Vec<&paraf_store::BlobReference>> = BTreeMap::new();
        for r in &refs {
            by_blob.entry(r.blob.as_str()).or_default().push(r);
        }
        for (blob, rows) in by_blob {
            let found = match BlobId::parse(blob) {
                Err(_) => Some(format!("names {blob:?}, which is not a blob id")),
                Ok(id) => {
                    report.blobs += 1;
                    match self.blobs.get(&id).await {
                        Ok(Some(_)) => None,
                        Ok(None) => Some(format!("its blob {blob} is missing")),
                        Err(StoreError::Corrupt(_)) => Some(format!(
                            "its blob {blob} was altered (the bytes no longer hash to its id)"
                        )),
                        Err(e) => Some(format!("its blob {blob} cannot be read: {e}")),
                    }
                }
            };
            if let Some(what) = found {
                for r in rows {
                    report
                        .problems
                        .push(format!("{}: {}: {what}", slug(r.org), r.row));
                }
            }
        }
        for (org, what) in self.store.inconsistent_rows().await? {
            report.problems.push(format!("{}: {what}", slug(org)));
        }
        for o in &orgs {
            report.chains += 1;
            if let AuditChainReport::Broken(b) = self.store.verify_audit_chain(o.id).await? {
                report.problems.push(format!(
                    "{}: the audit chain is broken at record {}: {}",
                    o.slug.as_str(),
                    b.seq,
                    break_words(b.reason)
                ));
            }
        }
        Ok(report)
    }
}
