//! The typed bodies of `/ext/v1`: what a client sends (`…In`, unknown fields refused) and the
//! `data` of the replies (`…Out`), described in the OpenAPI document from these types.
//!
//! Positions are 1-based everywhere: `document` 1 is the envelope's first document, `recipient`
//! 1 its first recipient (in the order given), `group` 1 signs first. Times are RFC 3339 (UTC).

use paraf_core::domain::{Envelope, EnvelopeDocument, Field, Recipient, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /ext/v1/envelopes` and `POST /ext/v1/templates`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeIn {
    /// Shown to the recipients; default: the first document's name.
    pub title: Option<String>,
    /// `signer_certificate` (default: every signer signs with a certificate of their own) or
    /// `seal` (the organisation's seal signs, naming the signer).
    pub model: Option<String>,
    #[serde(default)]
    pub documents: Vec<DocumentIn>,
    #[serde(default)]
    pub recipients: Vec<RecipientIn>,
    /// Fields placed by hand. Without: `<@signature@>` / `<@signatureN@>` tags in the text,
    /// else a summary page per document carries the signatures.
    pub fields: Option<Vec<FieldIn>>,
    /// RFC 3339; the links stop then and the envelope expires.
    pub expires_at: Option<String>,
    /// Remind who has not answered every N days.
    pub reminder_days: Option<u32>,
    /// Any JSON object, kept and returned as given.
    pub metadata: Option<Value>,
    /// `false`: no mail invitations (hand out the links of `send` or `…/link` yourself).
    pub mail_invitations: Option<bool>,
    /// Send at once (default: keep a draft).
    #[serde(default)]
    pub send: bool,
}

/// A document: a base64 PDF (`content`) or a URL Paraf fetches (public addresses only).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentIn {
    pub name: Option<String>,
    /// The PDF, base64 (standard alphabet).
    pub content: Option<String>,
    pub url: Option<String>,
}

/// A recipient.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientIn {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// 1 (default), 2, 3…: a group signs once the previous one has; inside a group in any
    /// order.
    pub group: Option<u32>,
    /// Of the mails and the signing page: `id` (default), `en`, `fr`, `it`, `es`.
    pub language: Option<String>,
    /// `none` (default), `mail` or `sms` (then `mobile` is needed).
    pub second_factor: Option<String>,
    pub mobile: Option<String>,
}

/// A field: a rectangle on a page of a document, for a recipient.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldIn {
    /// The document's position (1-based).
    pub document: Option<u32>,
    /// The recipient's position (1-based).
    pub recipient: Option<u32>,
    /// `signature` (default), `initials`, `text`, `date`, `checkbox`.
    pub kind: Option<String>,
    /// Unique in its document; default `<kind><n>`.
    pub name: Option<String>,
    /// Default `true`.
    pub required: Option<bool>,
    /// 1-based.
    pub page: Option<u32>,
    /// `pt` (default): `x`, `y` the lower-left corner in PDF points from the page's lower
    /// left; `percent`: `x`, `y` the upper-left corner in percent of the page as displayed.
    pub unit: Option<String>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
}

/// `PATCH /ext/v1/envelopes/{id}` (drafts): what is given changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopePatch {
    pub title: Option<String>,
    /// RFC 3339, or `null` for none.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Option<String>>,
    pub reminder_days: Option<u32>,
    pub metadata: Option<Value>,
    pub mail_invitations: Option<bool>,
}

/// `POST …/cancel`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    pub reason: Option<String>,
}

/// `POST /ext/v1/templates/{id}/envelopes`: an envelope from a template.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTemplateIn {
    pub title: Option<String>,
    /// One per recipient of the template, in its order (default: the template's).
    pub recipients: Option<Vec<RecipientIn>>,
    pub expires_at: Option<String>,
    #[serde(default)]
    pub send: bool,
}

/// A field present with `null` is `Some(None)`; absent is `None`.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// RFC 3339 in UTC, to the second.
pub fn time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn time_opt(t: Option<Timestamp>) -> Option<String> {
    t.map(time)
}

/// An envelope with everything in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvelopeOut {
    /// The envelope's public id.
    pub id: String,
    pub title: String,
    /// `draft`, `sent`, `in_progress`, `sealing`, `completed`, `declined`, `expired`,
    /// `cancelled`, `seal_failed` (retried by the server).
    pub status: String,
    pub status_reason: Option<String>,
    pub model: String,
    pub template: bool,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub completed_at: Option<String>,
    pub expires_at: Option<String>,
    pub reminder_days: Option<u32>,
    pub mail_invitations: bool,
    pub metadata: Value,
    pub documents: Vec<DocumentOut>,
    /// The recipients by group, in signing order.
    pub groups: Vec<GroupOut>,
    pub fields: Vec<FieldOut>,
}

/// A document of an envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    pub position: u32,
    pub name: String,
    pub pages: u32,
    /// The public id of the document as uploaded.
    pub id: String,
    /// The public id of its signed version.
    pub signed_id: String,
}

/// A group of recipients.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    pub group: u32,
    pub recipients: Vec<RecipientOut>,
}

/// A recipient and where they are.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientOut {
    pub position: u32,
    pub group: u32,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub second_factor: String,
    pub mobile: Option<String>,
    /// `waiting` (an earlier group signs first), `invited`, `opened`, `signed`, `declined`.
    pub status: String,
    pub invited_at: Option<String>,
    pub opened_at: Option<String>,
    pub signed_at: Option<String>,
    pub declined_at: Option<String>,
    pub decline_reason: Option<String>,
}

/// A field as placed (points of the page's user space).
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldOut {
    pub document: u32,
    pub recipient: u32,
    pub kind: String,
    pub name: String,
    pub required: bool,
    pub page: u32,
    pub unit: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Filled in by the recipient (or before, by the sender).
    pub value: Option<String>,
}

/// An envelope in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvelopeSummary {
    pub id: String,
    pub title: String,
    pub status: String,
    pub template: bool,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub completed_at: Option<String>,
    pub expires_at: Option<String>,
}

/// A page of a list, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvelopeList {
    pub items: Vec<EnvelopeSummary>,
    /// Give it as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// A signing link, handed out once.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    pub recipient: u32,
    pub email: String,
    pub url: String,
}

/// `POST …/send`: the envelope and every recipient's link.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentOut {
    pub envelope: EnvelopeOut,
    pub links: Vec<LinkOut>,
}

/// `POST …/remind`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemindedOut {
    /// How many recipients were reminded.
    pub reminded: u64,
}

/// A record of the envelope's audit trail (hash-chained with the organisation's trail).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
    pub hash: String,
    pub prev_hash: String,
}

impl EnvelopeOut {
    pub fn of(
        e: &Envelope,
        recipients: &[Recipient],
        documents: &[EnvelopeDocument],
        fields: &[Field],
    ) -> EnvelopeOut {
        let mut groups: Vec<GroupOut> = Vec::new();
        let mut sorted: Vec<&Recipient> = recipients.iter().collect();
        sorted.sort_by_key(|r| (r.group, r.position));
        for r in sorted {
            let out = RecipientOut::of(r);
            match groups.last_mut() {
                Some(g) if g.group == r.group => g.recipients.push(out),
                _ => groups.push(GroupOut {
                    group: r.group,
                    recipients: vec![out],
                }),
            }
        }
        let doc_pos = |f: &Field| {
            documents
                .iter()
                .find(|d| d.id == f.document)
                .map_or(0, |d| d.position)
        };
        let rec_pos = |f: &Field| {
            recipients
                .iter()
                .find(|r| r.id == f.recipient)
                .map_or(0, |r| r.position)
        };
        EnvelopeOut {
            id: e.uuid.clone(),
            title: e.header.title.clone(),
            status: e.status.as_str().into(),
            status_reason: e.status_reason.clone(),
            model: e.header.model.as_str().into(),
            template: e.header.template,
            created_at: time(e.created_at),
            sent_at: time_opt(e.sent_at),
            completed_at: time_opt(e.completed_at),
            expires_at: time_opt(e.header.expires_at),
            reminder_days: e.header.reminder_days,
            mail_invitations: e.header.options.get("mail_invitations") != Some(&Value::Bool(false)),
            metadata: e.header.metadata.clone(),
            documents: documents.iter().map(DocumentOut::of).collect(),
            groups,
            fields: fields
                .iter()
                .map(|f| FieldOut {
                    document: doc_pos(f),
                    recipient: rec_pos(f),
                    kind: f.kind.as_str().into(),
                    name: f.name.clone(),
                    required: f.required,
                    page: f.page,
                    unit: "pt".into(),
                    x: f.rect[0],
                    y: f.rect[1],
                    width: f.rect[2] - f.rect[0],
                    height: f.rect[3] - f.rect[1],
                    value: f.value.clone(),
                })
                .collect(),
        }
    }
}

impl DocumentOut {
    pub fn of(d: &EnvelopeDocument) -> DocumentOut {
        DocumentOut {
            position: d.position,
            name: d.name.clone(),
            pages: d.pages,
            id: d.uuid.clone(),
            signed_id: d.signed_uuid.clone(),
        }
    }
}

impl RecipientOut {
    pub fn of(r: &Recipient) -> RecipientOut {
        RecipientOut {
            position: r.position,
            group: r.group,
            email: r.email.as_str().into(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            language: r.language.clone(),
            second_factor: r.second_factor.as_str().into(),
            mobile: r.mobile.clone(),
            status: r.status.as_str().into(),
            invited_at: time_opt(r.invited_at),
            opened_at: time_opt(r.opened_at),
            signed_at: time_opt(r.signed_at),
            declined_at: time_opt(r.declined_at),
            decline_reason: r.decline_reason.clone(),
        }
    }
}

impl EnvelopeSummary {
    pub fn of(e: &Envelope) -> EnvelopeSummary {
        EnvelopeSummary {
            id: e.uuid.clone(),
            title: e.header.title.clone(),
            status: e.status.as_str().into(),
            template: e.header.template,
            created_at: time(e.created_at),
            sent_at: time_opt(e.sent_at),
            completed_at: time_opt(e.completed_at),
            expires_at: time_opt(e.header.expires_at),
        }
    }
}
