//! What `paraf admin fsck` reads: every row that names a blob, and the rows of envelopes and
//! their revisions that must agree with each other. The checks themselves (blobs present and
//! intact, audit chains) are the core's.

use paraf_domain::OrgId;

use crate::{with_pool, Result, Store};

/// A row that names a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobReference {
    pub org: OrgId,
    /// Which row, in words (`envelope 7 document 1 (original)`).
    pub row: String,
    /// The blob id as stored (checked to be one by the caller).
    pub blob: String,
}

/// Every row that names a blob: documents (original and current), their revisions, proofs,
/// logos, signed documents not yet downloaded, appearances and uploads.
const REFERENCES: &str = "\
    SELECT e.org_id, 'envelope ' || e.uuid || ' document ' || d.position || ' (original)', d.original_blob \
      FROM envelope_documents d JOIN envelopes e ON e.id = d.envelope_id \
    UNION ALL SELECT e.org_id, 'envelope ' || e.uuid || ' document ' || d.position || ' (current)', d.current_blob \
      FROM envelope_documents d JOIN envelopes e ON e.id = d.envelope_id \
    UNION ALL SELECT r.org_id, 'envelope ' || e.uuid || ' revision ' || r.id, r.blob \
      FROM document_revisions r JOIN envelopes e ON e.id = r.envelope_id \
    UNION ALL SELECT org_id, 'envelope ' || uuid || ' proof (PDF)', proof_pdf FROM envelopes WHERE proof_pdf IS NOT NULL \
    UNION ALL SELECT org_id, 'envelope ' || uuid || ' proof (JSON)', proof_json FROM envelopes WHERE proof_json IS NOT NULL \
    UNION ALL SELECT org_id, 'signed document ' || id, blob_id FROM signed_documents WHERE downloaded_at IS NULL \
    UNION ALL SELECT org_id, 'appearance ' || uuid, blob_id FROM appearances \
    UNION ALL SELECT org_id, 'upload ' || path, blob FROM uploads";

/// Rows that disagree: a document whose current version is none of its revisions, a
/// revision of another envelope than its document's, a completed envelope without its proof.
const INCONSISTENT: &str = "\
    SELECT e.org_id, 'envelope ' || e.uuid || ' document ' || d.position || ': its current version is none of its revisions' \
      FROM envelope_documents d JOIN envelopes e ON e.id = d.envelope_id \
      WHERE NOT EXISTS (SELECT 1 FROM document_revisions r WHERE r.document_id = d.id AND r.blob = d.current_blob) \
        AND d.current_blob <> d.original_blob \
    UNION ALL SELECT r.org_id, 'revision ' || r.id || ': not of its document''s envelope' \
      FROM document_revisions r JOIN envelope_documents d ON d.id = r.document_id \
      WHERE d.envelope_id <> r.envelope_id \
    UNION ALL SELECT org_id, 'envelope ' || uuid || ': completed without its proof' \
      FROM envelopes WHERE status = 'completed' AND (proof_pdf IS NULL OR proof_json IS NULL)";

impl Store {
    /// Every row that names a blob, with the envelope options' logos.
    pub async fn blob_references(&self) -> Result<Vec<BlobReference>> {
        let rows: Vec<(i64, String, String)> =
            with_pool!(self, |p| sqlx::query_as(REFERENCES).fetch_all(p).await)?;
        let mut out: Vec<BlobReference> = rows
            .into_iter()
            .map(|(org, row, blob)| BlobReference {
                org: OrgId(org),
                row,
                blob,
            })
            .collect();
        let logos: Vec<(i64, String, String)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT org_id, uuid, options FROM envelopes WHERE options LIKE '%\"logo\"%'"
        )
        .fetch_all(p)
        .await)?;
        for (org, uuid, options) in logos {
            let logo = serde_json::from_str::<serde_json::Value>(&options)
                .ok()
                .and_then(|o| o.get("logo").and_then(|l| l.as_str().map(str::to_string)));
            if let Some(blob) = logo {
                out.push(BlobReference {
                    org: OrgId(org),
                    row: format!("envelope {uuid} logo"),
                    blob,
                });
            }
        }
        Ok(out)
    }

    /// Envelope and revision rows that disagree, in words, by organisation.
    pub async fn inconsistent_rows(&self) -> Result<Vec<(OrgId, String)>> {
        let rows: Vec<(i64, String)> =
            with_pool!(self, |p| sqlx::query_as(INCONSISTENT).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(o, r)| (OrgId(o), r)).collect())
    }
}
