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

impl Core {
    /// Keeps an uploaded file for a later share; returns its path
    /// (`secure_downloads/<random>_<name>`).
    pub async fn upload(
        &self,
        org: OrgId,
        name: &str,
        bytes: &[u8],
        actor: &Actor,
    ) -> Result<String> {
        if bytes.is_empty() || bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(CoreError::invalid("file", "must be 1 byte to 50 MB"));
        }
        let r: [u8; 8] = paraf_domain::random_bytes(&*self.entropy)?;
        let path = format!("secure_downloads/{}_{}", hex::encode(r), safe_name(name));
        let blob = self.blobs.put(bytes).await.map_err(CoreError::internal)?;
        let up = paraf_store::Upload {
            path: path.clone(),
            name: name.chars().take(200).collect(),
            blob,
            size: bytes.len() as u64,
        };
        self.store.create_upload(org, &up, self.now()).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::FileUploaded,
            Some(format!("upload:{path}")),
            json!({"size": bytes.len()}),
        );
        self.record_later(event);
        Ok(path)
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
