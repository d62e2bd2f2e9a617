//! Envelopes edited after they are made: a draft's contents replaced, a sent envelope that
//! nobody answered taken back to draft, copies (clones, templates and what is made from
//! them) and fields filled in before their recipient signs — what APIs with editable
//! transactions (Signing Today's DSTs) need.

use paraf_domain::{
    DomainError, Envelope, EnvelopeId, EnvelopeStatus, Field, FieldKind, FieldUnit, NewField,
    NewRecipient, OrgId, QuotaKind, RecipientStatus, Timestamp,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::envelopes::{Draft, DraftDocument};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

fn conflict(reason: impl Into<String>) -> CoreError {
    CoreError::Domain(DomainError::Conflict {
        reason: reason.into(),
    })
}

/// What a copy changes from its source.
#[derive(Debug, Clone, Default)]
pub struct EnvelopeCopy {
    /// The copy is a template (`true`) or an envelope to send (`false`).
    pub template: bool,
    pub title: Option<String>,
    /// Replaces the source's options.
    pub options: Option<serde_json::Value>,
    /// Replaces the source's expiry (`Some(None)`: none).
    pub expires_at: Option<Option<Timestamp>>,
    /// Replaces the recipients, position by position (as many as the source has).
    pub recipients: Option<Vec<NewRecipient>>,
}

impl Core {
    /// Replaces a draft's contents (documents, recipients, fields, header) by `d`'s; its
    /// public id stays; the quotas count the new documents instead of the old. Anything but a
    /// draft is a conflict.
    pub async fn replace_draft(
        &self,
        org: OrgId,
        id: EnvelopeId,
        d: Draft,
        actor: &Actor,
    ) -> Result<Envelope> {
        let e = self.store.envelope(org, id).await?;
        if e.status != EnvelopeStatus::Draft {
            return Err(conflict(format!("the envelope is {}, not draft", e.status)));
        }
        // The new contents take their quota; the replaced ones give theirs back.
        let (docs, bytes) = self.draft_footprint(id).await?;
        let made = self.make_envelope(org, d, actor, Some(id)).await?;
        self.give_back_document_quota(org, docs, bytes, e.created_at)
            .await;
        Ok(made)
    }

    /// Takes a sent envelope back to draft while nobody has answered (links void, documents
    /// back to their originals, the signatures counted at sending given back). A draft stays
    /// as it is; anything else is a conflict.
    pub async fn recall_envelope(
        &self,
        org: OrgId,
        id: EnvelopeId,
        actor: &Actor,
    ) -> Result<Envelope> {
        let e = self.store.envelope(org, id).await?;
        if e.status == EnvelopeStatus::Draft {
            return Ok(e);
        }
        if e.status != EnvelopeStatus::Sent || !self.store.recall_envelope(org, id).await? {
            return Err(conflict(format!(
                "the envelope is {} and signing has begun",
                e.status
            )));
        }
        let recipients = self.store.recipients(id).await?.len() as u64;
        if !crate::sharing::is_sharing(&e.header) {
            let sent = e.sent_at.unwrap_or(e.created_at);
            self.give_back_quota(org, QuotaKind::Signatures, recipients, sent)
                .await;
        }
        let e = self.store.envelope(org, id).await?;
        self.envelope_event(&e, actor, AuditAction::EnvelopeRecalled, json!({}));
        Ok(e)
    }

    /// An envelope of `org` as a [`Draft`] would make it again: its header, its documents as
    /// first uploaded, its recipients and every stored field (in points; auto-placed ones
    /// included — drop them to have tags or summary pages placed anew).
    pub async fn draft_of(&self, org: OrgId, id: EnvelopeId) -> Result<(Envelope, Draft)> {
        let e = self.store.envelope(org, id).await?;
        let docs = self.store.envelope_documents(id).await?;
        let recipients = self.store.recipients(id).await?;
        let fields = self.store.fields(id).await?;
        let mut documents = Vec::with_capacity(docs.len());
        for d in &docs {
            documents.push(DraftDocument {
                name: d.name.clone(),
                bytes: self.stored_file(&d.original).await?,
            });
        }
        let index_of_doc = |f: &Field| docs.iter().position(|d| d.id == f.document);
        let index_of_recipient = |f: &Field| recipients.iter().position(|r| r.id == f.recipient);
        let fields = fields
            .iter()
            .filter_map(|f| {
                Some(NewField {
                    document: index_of_doc(f)?,
                    recipient: index_of_recipient(f)?,
                    kind: f.kind,
                    name: f.name.clone(),
                    required: f.required,
                    page: f.page,
                    rect: f.rect,
                    unit: FieldUnit::Points,
                })
            })
            .collect();
        let d = Draft {
            header: e.header.clone(),
            documents,
            recipients: recipients
                .iter()
                .map(paraf_domain::Recipient::to_new)
                .collect(),
            fields,
            logo: None,
        };
        Ok((e, d))
    }

    /// A new draft (or template) with the source's documents as first uploaded, its
    /// recipients and fields (empty), changed as `c` says. Any state may be copied.
    pub async fn copy_envelope(
        &self,
        org: OrgId,
        id: EnvelopeId,
        c: EnvelopeCopy,
        actor: &Actor,
    ) -> Result<Envelope> {
        let (e, source) = self.draft_of(org, id).await?;
        let new_recipients = match c.recipients {
            Some(list) if list.len() != source.recipients.len() => {
                return Err(CoreError::invalid(
                    "signers",
                    format!("{} are needed, one per signer", source.recipients.len()),
                ))
            }
            Some(list) => list,
            None => source.recipients,
        };
        let (documents, new_fields) = (source.documents, source.fields);
        let mut header = e.header.clone();
        header.template = c.template;
        header.created_by = actor_user(actor).or(header.created_by);
        if let Some(t) = c.title {
            header.title = t;
        }
        if let Some(o) = c.options {
            header.options = o;
        }
        if let Some(x) = c.expires_at {
            header.expires_at = x;
        }
        // The logo and summary pages of the source are not carried over: the copy holds the
        // fields exactly as they were placed.
        if let Some(o) = header.options.as_object_mut() {
            o.remove("logo");
            o.remove("summary_page");
            o.insert("placement".into(), json!(crate::envelopes::PLACE_AS_GIVEN));
        }
        let d = Draft {
            header,
            documents,
            recipients: new_recipients,
            fields: new_fields,
            logo: None,
        };
        self.create_envelope(org, d, actor).await
    }

    /// Fills in field `name` of document `position` (1-based) before its recipient signs:
    /// a text (at most 500 characters) or a check box (`true`/`false`); the recipient's
    /// signature writes it into the document. Only while the envelope is a draft or open and
    /// the recipient has not answered.
    pub async fn prefill_field(
        &self,
        org: OrgId,
        id: EnvelopeId,
        position: u32,
        name: &str,
        value: &str,
        actor: &Actor,
    ) -> Result<Field> {
        let e = self.store.envelope(org, id).await?;
        if !matches!(
            e.status,
            EnvelopeStatus::Draft | EnvelopeStatus::Sent | EnvelopeStatus::InProgress
        ) {
            return Err(conflict(format!("the envelope is {}", e.status)));
        }
        let doc = self
            .store
            .envelope_documents(id)
            .await?
            .into_iter()
            .find(|d| d.position == position)
            .ok_or_else(|| CoreError::invalid("document", "no such document"))?;
        let f = self
            .store
            .fields(id)
            .await?
            .into_iter()
            .find(|f| f.document == doc.id && f.name == name)
            .ok_or_else(|| CoreError::invalid("field", format!("no field {name}")))?;
        let value = match f.kind {
            FieldKind::Text => {
                let v = value.trim();
                if v.chars().count() > 500 {
                    return Err(CoreError::invalid("value", "is longer than 500 characters"));
                }
                if f.required && v.is_empty() {
                    return Err(CoreError::invalid("value", "must not be empty"));
                }
                v.to_string()
            }
            FieldKind::Checkbox => match value.trim().to_ascii_lowercase().as_str() {
                "true" | "on" | "1" | "yes" => "true".to_string(),
                "false" | "off" | "0" | "no" if !f.required => "false".to_string(),
                _ => {
                    return Err(CoreError::invalid(
                        "value",
                        "a required check box is filled with true",
                    ))
                }
            },
            _ => {
                return Err(CoreError::invalid(
                    "type",
                    "signatures and dates are made when the recipient signs",
                ))
            }
        };
        let r = self
            .store
            .recipients(id)
            .await?
            .into_iter()
            .find(|r| r.id == f.recipient)
            .ok_or_else(|| CoreError::internal("a field without its recipient"))?;
        if matches!(
            r.status,
            RecipientStatus::Signed | RecipientStatus::Declined
        ) {
            return Err(conflict(format!(
                "recipient {} has answered already",
                r.position
            )));
        }
        self.store.set_field_value(f.id, &value).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::FieldFilled,
            Some(format!("envelope:{}", e.uuid)),
            json!({"recipient": r.position, "document": position, "field": name}),
        );
        self.record(event).await;
        Ok(Field {
            value: Some(value),
            ..f
        })
    }

    /// Keeps `options` as envelope `e`'s (what its face keeps with it).
    pub async fn keep_options(&self, e: &Envelope, options: serde_json::Value) -> Result<()> {
        self.store
            .set_envelope_options(e.org, e.id, &options)
            .await
            .map_err(CoreError::from)
    }
}

/// The user an actor `user:<id>` is.
fn actor_user(a: &Actor) -> Option<paraf_domain::UserId> {
    a.id.strip_prefix("user:")?
        .parse()
        .ok()
        .map(paraf_domain::UserId)
}
