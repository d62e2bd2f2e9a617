//! Envelopes: documents sent to recipients who sign in their browser, in ordered groups
//! (parallel inside a group; the next group is invited when the previous one is done), with
//! fields placed per document. States:
//!
//! ```text
//! draft → sent → in_progress → sealing → completed
//!           ╰──────┴──→ declined | expired | cancelled          sealing → seal_failed (retried)
//! ```

use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::DomainError;
use crate::ids::{BlobId, EnvelopeDocumentId, EnvelopeId, FieldId, OrgId, RecipientId, UserId};
use crate::user::Email;

/// A closed set of names stored as text.
macro_rules! db_names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $s)] $v),* }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$v),*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }

            /// The inverse of `as_str`.
            pub fn from_db(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

db_names!(
    /// Where an envelope is in its life.
    EnvelopeStatus {
        /// Being prepared; nobody invited yet.
        Draft = "draft",
        /// Invitations out, nobody has signed yet.
        Sent = "sent",
        /// At least one signature.
        InProgress = "in_progress",
        /// Every signature made; the final timestamp, DSS and certificate are being added.
        Sealing = "sealing",
        /// Done: the signed document and the proof are ready.
        Completed = "completed",
        /// A recipient declined.
        Declined = "declined",
        /// Past its expiry date before completion.
        Expired = "expired",
        /// Cancelled by the sender.
        Cancelled = "cancelled",
        /// The final seal failed; retried by a job, resumable by an operator.
        SealFailed = "seal_failed",
    }
);

impl EnvelopeStatus {
    /// Whether nothing more can happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            EnvelopeStatus::Completed
                | EnvelopeStatus::Declined
                | EnvelopeStatus::Expired
                | EnvelopeStatus::Cancelled
        )
    }

    /// Whether recipients may open and sign.
    pub fn is_open_for_signing(self) -> bool {
        matches!(self, EnvelopeStatus::Sent | EnvelopeStatus::InProgress)
    }
}

db_names!(
    /// Where a recipient is.
    RecipientStatus {
        /// Their group's turn has not come.
        Waiting = "waiting",
        /// Invited (link sent), not opened yet.
        Invited = "invited",
        /// Opened the link.
        Opened = "opened",
        /// Signed.
        Signed = "signed",
        /// Declined (with a reason).
        Declined = "declined",
    }
);

db_names!(
    /// How a recipient's signature is made.
    SignatureModel {
        /// The organisation seal signs on the recipient's behalf.
        Seal = "seal",
        /// A certificate issued on the spot to the recipient by the organisation's CA after
        /// they proved control of their mail or phone (key destroyed after use).
        SignerCertificate = "signer_certificate",
    }
);

db_names!(
    /// A recipient's second factor before signing.
    SecondFactor {
        None = "none",
        /// A six-digit code by mail.
        Mail = "mail",
        /// A six-digit code by SMS.
        Sms = "sms",
    }
);

db_names!(
    /// What a field asks for.
    FieldKind {
        Signature = "signature",
        Initials = "initials",
        Text = "text",
        Date = "date",
        Checkbox = "checkbox",
    }
);

/// A document of an envelope: the original is kept; `current` grows by one incremental update
/// per signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeDocument {
    pub id: EnvelopeDocumentId,
    pub envelope: EnvelopeId,
    /// 1-based order in the envelope.
    pub position: u32,
    pub name: String,
    pub original: BlobId,
    pub current: BlobId,
    pub pages: u32,
    /// Public id of the original (a UUID: the API's resource id).
    pub uuid: String,
    /// Public id of the signed version (a UUID).
    pub signed_uuid: String,
}

/// A recipient: who signs, in which group, how far they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub id: RecipientId,
    pub envelope: EnvelopeId,
    /// 1-based signer number (the `N` of a `<@signatureN@>` tag).
    pub position: u32,
    /// 1-based group: group 1 signs first; inside a group, in any order.
    pub group: u32,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// fr, en, id, it, es.
    pub language: String,
    pub mobile: Option<String>,
    pub second_factor: SecondFactor,
    pub status: RecipientStatus,
    pub invited_at: Option<Timestamp>,
    pub opened_at: Option<Timestamp>,
    /// When they last confirmed a one-time code (their second factor).
    pub verified_at: Option<Timestamp>,
    pub signed_at: Option<Timestamp>,
    pub declined_at: Option<Timestamp>,
    pub decline_reason: Option<String>,
    /// Where they signed or declined from.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Recipient {
    /// The same person as a recipient to add (to a copy of the envelope).
    pub fn to_new(&self) -> NewRecipient {
        NewRecipient {
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            group: self.group,
            language: self.language.clone(),
            mobile: self.mobile.clone(),
            second_factor: self.second_factor,
        }
    }

    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
}

/// A recipient to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    /// Where their link is mailed; the e-mail in their certificate.
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// 1-based group (see [`Recipient::group`]).
    pub group: u32,
    /// Of their mails and signing page.
    pub language: String,
    /// For a code by SMS.
    pub mobile: Option<String>,
    pub second_factor: SecondFactor,
}

/// A field placed on a document for one recipient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub id: FieldId,
    pub document: EnvelopeDocumentId,
    pub recipient: RecipientId,
    pub kind: FieldKind,
    /// Unique per document (`signature_1`, a text field's name).
    pub name: String,
    pub required: bool,
    /// 1-based page.
    pub page: u32,
    /// `[llx, lly, urx, ury]` in the page's default user space (what a widget's `/Rect` holds).
    pub rect: [f64; 4],
    /// What the recipient filled in (text, date, `true`).
    pub value: Option<String>,
}

/// What the sender decides about an envelope (the same when it is made and when it is read).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvelopeHeader {
    pub title: String,
    pub model: SignatureModel,
    /// Who asked for the signatures (GesDocs `demandeur_email`).
    pub sender_email: Email,
    pub created_by: Option<UserId>,
    /// The face it was made through (`gesdocs`, …): its webhook payloads take that shape.
    pub face: String,
    /// The integrator's data, returned as given.
    pub metadata: serde_json::Value,
    /// Presentation: `color`, `logo` (blob), `logo_url`, `region`, `summary_page`.
    pub options: serde_json::Value,
    /// After this, the links stop working and the envelope expires.
    pub expires_at: Option<Timestamp>,
    /// Remind unsigned recipients every N days.
    pub reminder_days: Option<u32>,
    /// A template: never sent, copied into new drafts (Signing Today's templates).
    pub template: bool,
}

/// An envelope as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    pub id: EnvelopeId,
    pub org: OrgId,
    /// Public identifier (the certificate's `uuid`).
    pub uuid: String,
    #[serde(flatten)]
    pub header: EnvelopeHeader,
    pub status: EnvelopeStatus,
    /// Why it is declined, expired, cancelled or seal_failed.
    pub status_reason: Option<String>,
    /// When it was made, sent and completed.
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// The proof certificate, once completed.
    pub proof: Option<EnvelopeProof>,
    /// Deleted by its sender: kept (trail, files) but out of the lists.
    pub deleted_at: Option<Timestamp>,
}

/// The proof of a completed envelope: a certificate PDF sealed by the organisation, and the
/// same evidence as JSON (also attached inside the PDF).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeProof {
    pub pdf: BlobId,
    pub json: BlobId,
}

/// How a new field's rectangle is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldUnit {
    /// `[llx, lly, urx, ury]` in the page's default user space (points).
    #[default]
    Points,
    /// `[left, top, width, height]` in percent of the page as displayed (origin top-left),
    /// converted to points when the envelope is made.
    Percent,
}

/// A field to add: for the recipient at `recipient` (0-based index into the recipients given).
#[derive(Debug, Clone, PartialEq)]
pub struct NewField {
    /// 0-based index into the new envelope's documents.
    pub document: usize,
    /// 0-based index into the new envelope's recipients.
    pub recipient: usize,
    pub kind: FieldKind,
    pub name: String,
    pub required: bool,
    pub page: u32,
    pub rect: [f64; 4],
    pub unit: FieldUnit,
}

/// A document to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnvelopeDocument {
    pub name: String,
    pub blob: BlobId,
    pub pages: u32,
    /// See [`EnvelopeDocument::uuid`].
    pub uuid: String,
    /// See [`EnvelopeDocument::signed_uuid`].
    pub signed_uuid: String,
}

/// What is needed to create an envelope (in `draft`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEnvelope {
    pub org: OrgId,
    pub uuid: String,
    pub header: EnvelopeHeader,
    pub documents: Vec<NewEnvelopeDocument>,
    pub recipients: Vec<NewRecipient>,
    pub fields: Vec<NewField>,
}

impl NewEnvelope {
    /// Checks what the store cannot: groups numbered from 1 without gaps, fields pointing at
    /// existing documents and recipients (a draft may have no document or recipient yet).
    pub fn check(&self) -> Result<(), DomainError> {
        // A draft may wait for its documents and recipients (sending one without is refused).
        let mut groups: Vec<u32> = self.recipients.iter().map(|r| r.group).collect();
        groups.sort_unstable();
        groups.dedup();
        if !groups.is_empty()
            && (groups.first() != Some(&1) || groups.windows(2).any(|w| w[1] != w[0] + 1))
        {
            return Err(DomainError::invalid(
                "signers",
                "groups must be numbered 1, 2, 3… without gaps",
            ));
        }
        for f in &self.fields {
            let pages = self.documents.get(f.document).map(|d| d.pages);
            if pages.is_none() || f.recipient >= self.recipients.len() {
                return Err(DomainError::invalid(
                    "fields",
                    "a field names no document or signer",
                ));
            }
            if f.page == 0 || Some(f.page) > pages {
                return Err(DomainError::invalid(
                    "fields",
                    format!("page {} does not exist", f.page),
                ));
            }
        }
        Ok(())
    }
}

/// Envelopes made together from one template (a spreadsheet's rows), with how far they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeBatch {
    pub id: i64,
    /// Its public name (unique in the organisation).
    pub name: String,
    /// The template's public id, if it still exists.
    pub template: Option<String>,
    pub title: String,
    pub created_at: Timestamp,
    pub size: u64,
    pub completed: u64,
    pub failed: u64,
    pub declined: u64,
    pub expired: u64,
}

/// A note written on an envelope by a user of its organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeNote {
    pub id: i64,
    pub envelope: EnvelopeId,
    pub user: Option<UserId>,
    pub created_at: Timestamp,
    pub text: String,
}

/// What a list of envelopes selects (always one organisation and one face; deleted ones never).
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeQuery {
    pub org: OrgId,
    pub face: String,
    /// Only templates (`true`) or only the others (`false`).
    pub template: Option<bool>,
    /// Only those this user made.
    pub created_by: Option<UserId>,
    pub filter: Option<EnvelopeFilter>,
    pub order: EnvelopeOrder,
    /// Descending.
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

/// A condition on envelopes (what an API's filter expression becomes).
#[derive(Debug, Clone, PartialEq)]
pub enum EnvelopeFilter {
    /// The title equals (`true`) or differs from (`false`) the text.
    Title(bool, String),
    /// The title contains (`true`) or does not contain (`false`) the text (case-insensitive
    /// for ASCII).
    TitleContains(bool, String),
    /// The status is (`true`) or is not (`false`) one of these.
    Status(bool, Vec<EnvelopeStatus>),
    /// Made (`true`) or not (`false`) by this user.
    CreatedBy(bool, UserId),
    /// Made by this user, or sent to their e-mail (they take part in it).
    Involves(UserId, Email),
    /// Made before this envelope (a smaller id): the keyset of a cursor over the newest first.
    Before(EnvelopeId),
    /// The condition does not hold.
    Not(Box<EnvelopeFilter>),
    All(Vec<EnvelopeFilter>),
    Any(Vec<EnvelopeFilter>),
}

/// What a list of envelopes is sorted by (then by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EnvelopeOrder {
    #[default]
    Created,
    /// The latest of made, sent and completed.
    Updated,
    Title,
    Expires,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in EnvelopeStatus::ALL {
            assert_eq!(EnvelopeStatus::from_db(s.as_str()), Some(*s));
        }
        assert_eq!(
            RecipientStatus::from_db("opened"),
            Some(RecipientStatus::Opened)
        );
        assert_eq!(FieldKind::from_db("nope"), None);
        assert!(EnvelopeStatus::Completed.is_final());
        assert!(!EnvelopeStatus::SealFailed.is_final());
        assert!(EnvelopeStatus::InProgress.is_open_for_signing());
    }
}
