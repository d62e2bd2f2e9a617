//! Signed documents kept for one download (BSrE v1's `id_dokumen`): the signed PDF is written
//! to the blob store before its row, handed out once, then deleted (unless another pending
//! document has the very same bytes: blobs are content-addressed). Documents never fetched
//! expire after a week (the housekeeping job).

use paraf_domain::{DomainError, OrgId, SignedDocument};

use crate::error::CoreError;
use crate::Core;

impl Core {
    /// Keeps `pdf` for one download as `file_name`; returns the document id (128 random bits).
    pub async fn keep_signed_document(
        &self,
        org: OrgId,
        pdf: &[u8],
        file_name: &str,
    ) -> Result<String, CoreError> {
        let blob = self
            .blobs
            .put(pdf)
            .await
            .map_err(|e| CoreError::internal(format!("blob: {e}")))?;
        let id = hex::encode(paraf_domain::random_bytes::<16>(&*self.entropy)?);
        self.store
            .put_signed_document(&SignedDocument {
                id: id.clone(),
                org,
                blob,
                file_name: file_name.to_string(),
                created_at: self.now(),
                downloaded_at: None,
            })
            .await?;
        Ok(id)
    }

    /// Hands out a kept document once, as a stream: `NotFound` when there is none in `org`,
    /// `Conflict` when it was already downloaded. The server's copy is deleted once the
    /// stream is done with (read to its end, or dropped by a client gone away).
    pub async fn take_signed_document(
        &self,
        org: OrgId,
        id: &str,
    ) -> Result<(SignedDocument, paraf_store::BlobReader), CoreError> {
        let doc = self.store.take_signed_document(org, id, self.now()).await?;
        let file = self
            .blobs
            .get_stream(&doc.blob)
            .await
            .map_err(|e| CoreError::internal(format!("blob: {e}")))?
            .ok_or_else(|| CoreError::internal(format!("blob {} is missing", doc.blob)))?;
        let done = DeleteWhenRead {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            blob: doc.blob.clone(),
        };
        let stream = futures_util::StreamExt::map(file.stream, move |chunk| {
            let _ = &done;
            chunk
        });
        let file = paraf_store::BlobReader {
            size: file.size,
            stream: Box::pin(stream),
        };
        Ok((doc, file))
    }
}

/// Deletes a handed-out document's blob when dropped (with the stream that reads it) — unless
/// another kept document still names the same bytes.
struct DeleteWhenRead {
    store: paraf_store::Store,
    blobs: std::sync::Arc<dyn paraf_store::BlobStore>,
    blob: paraf_domain::BlobId,
}

impl Drop for DeleteWhenRead {
    fn drop(&mut self) {
        let (store, blobs, blob) = (self.store.clone(), self.blobs.clone(), self.blob.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            match store.signed_blob_pending(&blob).await {
                Ok(false) => {
                    if let Err(e) = blobs.delete(&blob).await {
                        tracing::warn!(error = %e, blob = %blob, "could not delete a downloaded document");
                    }
                }
                Ok(true) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not check a downloaded document's blob");
                }
            }
        });
    }
}

/// Whether `e` says the document was already downloaded.
pub fn already_taken(e: &CoreError) -> bool {
    matches!(e, CoreError::Domain(DomainError::Conflict { .. }))
}

/// Whether `bytes` carry a PDF header (`%PDF-`) starting within their first 1024 bytes, as
/// the PDF standard allows: the one check before a file is parsed as a PDF.
pub fn has_pdf_header(bytes: &[u8]) -> bool {
    bytes.windows(5).take(1024).any(|w| w == b"%PDF-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_headers() {
        assert!(has_pdf_header(b"%PDF-1.7\n") && !has_pdf_header(b"<html>"));
        let mut late = vec![b' '; 1023];
        late.extend_from_slice(b"%PDF-1.7");
        assert!(has_pdf_header(&late));
        late.insert(0, b' ');
        assert!(!has_pdf_header(&late));
    }
}
