//! Secure downloads (GesDocs' `secure-downloads`): documents shared with recipients who get
//! each their own expiring link and must confirm a one-time code (mail or SMS) before they
//! see or download anything. A share is an envelope of kind `secure_download` — documents,
//! recipients, links, codes, expiry and audit are the envelope's — that nobody signs.
//! Files may be uploaded first (`upload`), then named by the path it returns.

use paraf_domain::{Envelope, EnvelopeHeader, OrgId, SecondFactor};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::envelopes::{Draft, SigningLink, MAX_DOCUMENT_BYTES};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// The `kind` (in the envelope's options) of a share.
pub const SHARE_KIND: &str = "secure_download";

/// Whether an envelope is a share (documents to download, nothing to sign).
pub fn is_sharing(h: &EnvelopeHeader) -> bool {
    h.options.get("kind").and_then(serde_json::Value::as_str) == Some(SHARE_KIND)
}

/// A file name fit for a path: letters, digits, `.`, `-` and `_`, at most 100 characters.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.trim_matches(['.', '_']).is_empty() {
        "file".into()
    } else {
        s
    }
}

/// A file being uploaded for a later share, written to the blob store as it arrives (never
/// whole in memory): [`Core::begin_upload`], [`UploadWriter::write`], [`Core::finish_upload`].
/// Dropped unfinished, it leaves nothing behind.
pub struct UploadWriter {
    blob: Box<dyn paraf_store::BlobWriter>,
    /// The first bytes, for the PDF header check.
    head: Vec<u8>,
}

/// Enough of a file's start to see a PDF header (`%PDF-` starting in the first 1024 bytes).
const HEAD: usize = 1024 + 4;

impl UploadWriter {
    /// Appends a chunk; more than 50 MB in all is refused (`file`).
    pub async fn write(&mut self, chunk: bytes::Bytes) -> Result<()> {
        if self.blob.written() + chunk.len() as u64 > MAX_DOCUMENT_BYTES as u64 {
            return Err(CoreError::invalid("file", "must be 1 byte to 50 MB"));
        }
        let take = HEAD.saturating_sub(self.head.len()).min(chunk.len());
        self.head.extend_from_slice(&chunk[..take]);
        self.blob.write(chunk).await.map_err(CoreError::internal)
    }

    /// How many bytes came so far.
    pub fn written(&self) -> u64 {
        self.blob.written()
    }

    /// Whether the file starts as a PDF does; `None` while too few bytes came to tell.
    pub fn pdf_header(&self) -> Option<bool> {
        match crate::documents::has_pdf_header(&self.head) {
            true => Some(true),
            false if self.head.len() >= HEAD => Some(false),
            false => None,
        }
    }
}

impl Core {
    /// Starts an upload (see [`UploadWriter`]).
    pub async fn begin_upload(&self) -> Result<UploadWriter> {
        Ok(UploadWriter {
            blob: self.blobs.writer().await.map_err(CoreError::internal)?,
            head: Vec::new(),
        })
    }

    /// Keeps an uploaded file for a later share; returns its path
    /// (`secure_downloads/<random>_<name>`) and size. An empty file is refused (`file`).
    pub async fn finish_upload(
        &self,
        org: OrgId,
        upload: UploadWriter,
        name: &str,
        actor: &Actor,
    ) -> Result<(String, u64)> {
        if upload.written() == 0 {
            return Err(CoreError::invalid("file", "must be 1 byte to 50 MB"));
        }
        let r: [u8; 8] = paraf_domain::random_bytes(&*self.entropy)?;
        let path = format!("secure_downloads/{}_{}", hex::encode(r), safe_name(name));
        // The blob is durable before the row that names it.
        let (blob, size) = upload.blob.finish().await.map_err(CoreError::internal)?;
        let up = paraf_store::Upload {
            path: path.clone(),
            name: name.chars().take(200).collect(),
            blob,
            size,
        };
        self.store.create_upload(org, &up, self.now()).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::FileUploaded,
            Some(format!("upload:{path}")),
            json!({"size": size}),
        );
        self.record_later(event);
        Ok((path, size))
    }

    /// An upload of the organisation: its name and bytes ("not found" for another's path).
    pub async fn uploaded(&self, org: OrgId, path: &str) -> Result<(String, Vec<u8>)> {
        let up = self.store.upload(org, path).await?;
        Ok((up.name, self.stored_file(&up.blob).await?))
    }

    /// Shares `d`'s documents with its recipients: every recipient in one group, a one-time
    /// code required (by mail unless SMS was asked), each mailed their link at once.
    pub async fn share_documents(
        &self,
        org: OrgId,
        mut d: Draft,
        actor: &Actor,
    ) -> Result<(Envelope, Vec<SigningLink>)> {
        if !d.header.options.is_object() {
            d.header.options = json!({});
        }
        if let Some(o) = d.header.options.as_object_mut() {
            o.insert("kind".into(), json!(SHARE_KIND));
        }
        d.fields.clear();
        for r in &mut d.recipients {
            r.group = 1;
            if r.second_factor == SecondFactor::None {
                r.second_factor = SecondFactor::Mail;
            }
        }
        let e = self.create_envelope(org, d, actor).await?;
        let links = self.send_envelope(org, e.id, actor).await?;
        let e = self.store.envelope(org, e.id).await?;
        Ok((e, links))
    }
}
