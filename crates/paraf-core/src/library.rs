//! An organisation's envelopes as lists (pages with a total), the deletion of drafts, the
//! address book, and the public lookup of a file by its SHA-256 among every revision Paraf
//! wrote.

use paraf_domain::{
    Contact, DomainError, Email, Entity, Envelope, EnvelopeDocument, EnvelopeId, EnvelopeNote,
    EnvelopeQuery, EnvelopeStatus, NewContact, OrgId, PersonName, RateDecision, RateWindow,
    Recipient, UserId,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// Look-ups by hash per client address and minute (the API's and the page's together).
pub const LOOKUPS_PER_MINUTE: u64 = 60;

/// Validations of uploaded files per client address and minute (the `/verify` page).
pub const VALIDATIONS_PER_MINUTE: u64 = 10;

/// Who a per-address limit counts: an IPv4 address, or an IPv6 address's /64 (one host
/// commonly holds the whole /64).
pub fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Longest page a list returns.
pub const MAX_PAGE: u32 = 100;

/// Which page of a list: 1-based `page` of `per_page` items (at most [`MAX_PAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u32,
}

impl Paging {
    /// How many items come before the page.
    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1) * u64::from(self.per_page.clamp(1, MAX_PAGE))
    }

    fn limit(&self) -> u32 {
        self.per_page.clamp(1, MAX_PAGE)
    }
}

/// A page of a list and the number of items in all.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// What a file's hash says: the envelope holding it and who had signed in it.
#[derive(Debug, Clone)]
pub struct KnownRevision {
    pub envelope: Envelope,
    /// The recipients whose signatures the file carries, in the order they signed.
    pub signers: Vec<Recipient>,
}

/// An envelope's status as the public words of the faces that show one word (Alphasign, the
/// verification page): `draft`, `pending` (sent, being signed or sealed), `completed`,
/// `declined`, `cancelled`, `expired`.
pub fn public_status(s: EnvelopeStatus) -> &'static str {
    match s {
        EnvelopeStatus::Draft => "draft",
        EnvelopeStatus::Sent
        | EnvelopeStatus::InProgress
        | EnvelopeStatus::Sealing
        | EnvelopeStatus::SealFailed => "pending",
        EnvelopeStatus::Completed => "completed",
        EnvelopeStatus::Declined => "declined",
        EnvelopeStatus::Cancelled => "cancelled",
        EnvelopeStatus::Expired => "expired",
    }
}

/// Longest note.
pub const MAX_NOTE: usize = 4000;

fn note_text(text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_NOTE {
        return Err(CoreError::invalid(
            "text",
            format!("must have 1 … {MAX_NOTE} characters"),
        ));
    }
    Ok(t.to_string())
}

/// Whether `s` is a SHA-256 in hex (64 digits, either case).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A signer of such a draft: `name` (one field, as Alphasign has it), invited in Indonesian,
/// no second factor.
pub fn document_signer(name: String, email: Email) -> paraf_domain::NewRecipient {
    paraf_domain::NewRecipient {
        group: 1,
        email,
        first_name: name,
        last_name: String::new(),
        language: "id".into(),
        mobile: None,
        second_factor: paraf_domain::SecondFactor::None,
    }
}

/// A draft of one PDF made by `sender` through `face`, its recipients all in one group
/// (invited at once), signatures placed by the PDF's tags, else at the foot of the last page,
/// else on summary pages: Alphasign's documents (the API and the console make them alike).
pub fn one_document_draft(
    title: String,
    sender: &paraf_domain::User,
    face: &str,
    file: crate::envelopes::DraftDocument,
    recipients: Vec<paraf_domain::NewRecipient>,
) -> crate::envelopes::Draft {
    crate::envelopes::Draft {
        header: paraf_domain::EnvelopeHeader {
            title,
            model: paraf_domain::SignatureModel::SignerCertificate,
            sender_email: sender.email.clone(),
            created_by: Some(sender.id),
            face: face.into(),
            metadata: json!({}),
            options: json!({"placement": crate::envelopes::PLACE_ON_LAST_PAGE}),
            expires_at: None,
            reminder_days: None,
            template: false,
        },
        documents: vec![file],
        recipients,
        fields: vec![],
        logo: None,
    }
}

impl Core {
    /// The envelopes `q` selects (never deleted ones) and, if `count`, how many in all.
    pub async fn envelope_query(
        &self,
        q: &EnvelopeQuery,
        count: bool,
    ) -> Result<(Vec<Envelope>, Option<u64>)> {
        let mut q = q.clone();
        q.limit = q.limit.clamp(1, MAX_PAGE);
        Ok(self.store.envelopes_query(&q, count).await?)
    }

    /// Deletes an envelope as its sender sees it: cancelled first if it is still being
    /// signed, then kept (trail, files) but out of every list. Deleting twice is "not found".
    pub async fn delete_envelope(&self, org: OrgId, id: EnvelopeId, actor: &Actor) -> Result<()> {
        let e = self.store.envelope(org, id).await?;
        if e.deleted_at.is_some() {
            return Err(DomainError::not_found(Entity::Envelope).into());
        }
        if matches!(e.status, EnvelopeStatus::Sent | EnvelopeStatus::InProgress) {
            // Raced by a signature that completes it: deleted as it is then.
            if let Err(err) = self
                .cancel_envelope(org, id, "deleted by the sender", actor)
                .await
            {
                tracing::info!(error = %err, envelope = %e.uuid, "not cancelled before deletion");
            }
        }
        if !self.store.set_envelope_deleted(org, id, self.now()).await? {
            return Err(DomainError::not_found(Entity::Envelope).into());
        }
        let event = self.audit_event(
            org,
            actor,
            AuditAction::EnvelopeDeleted,
            Some(format!("envelope:{}", e.uuid)),
            json!({"status": e.status.as_str()}),
        );
        self.record(event).await;
        Ok(())
    }

    /// The organisation's document whose original or signed version has the public id
    /// `uuid`, with its envelope and the bytes of that version (`true`: the signed one, which
    /// is the current version until the envelope completes).
    pub async fn document_by_uuid(
        &self,
        org: OrgId,
        uuid: &str,
    ) -> Result<(Envelope, EnvelopeDocument, bool, Vec<u8>)> {
        let (e, d, signed) = self.document_named(org, uuid).await?;
        let bytes = self.document_file(&d, signed).await?;
        Ok((e, d, signed, bytes))
    }

    /// [`Core::document_by_uuid`] without reading the file.
    pub async fn document_named(
        &self,
        org: OrgId,
        uuid: &str,
    ) -> Result<(Envelope, EnvelopeDocument, bool)> {
        Ok(self.store.document_by_uuid(org, uuid.trim()).await?)
    }

    /// [`Core::document_file`] as a stream, checked as it passes (for downloads).
    pub async fn document_reader(
        &self,
        d: &EnvelopeDocument,
        current: bool,
    ) -> Result<paraf_store::BlobReader> {
        self.open_file(if current { &d.current } else { &d.original })
            .await
    }

    /// A document's original as uploaded, or (`current`) its version now: signed once the
    /// envelope completes.
    pub async fn document_file(&self, d: &EnvelopeDocument, current: bool) -> Result<Vec<u8>> {
        if current {
            self.current_file(d).await
        } else {
            self.stored_file(&d.original).await
        }
    }

    /// The trail of an envelope of `org`: its audit records, oldest first (hash-chained with
    /// the organisation's whole trail).
    pub async fn envelope_trail(
        &self,
        org: OrgId,
        id: EnvelopeId,
    ) -> Result<Vec<paraf_domain::AuditRecord>> {
        let e = self.store.envelope(org, id).await?;
        Ok(self
            .store
            .audit_of_target(org, &format!("envelope:{}", e.uuid), 10_000)
            .await?)
    }

    /// Starts a batch of envelopes made from `template` (its public name is a new UUID).
    pub async fn create_batch(
        &self,
        org: OrgId,
        template: EnvelopeId,
        title: &str,
    ) -> Result<(i64, String)> {
        let name = self.new_uuid()?;
        let id = self
            .store
            .create_batch(org, &name, Some(template), title, self.now())
            .await?;
        Ok((id, name))
    }

    /// Puts envelope `id` of `org` in batch `batch`.
    pub async fn add_to_batch(&self, org: OrgId, id: EnvelopeId, batch: i64) -> Result<()> {
        Ok(self.store.set_envelope_batch(org, id, batch).await?)
    }

    /// A page of the organisation's batches (newest first) and, if `count`, how many.
    pub async fn batches(
        &self,
        org: OrgId,
        paging: (u64, u32),
        count: bool,
    ) -> Result<(Vec<paraf_domain::EnvelopeBatch>, Option<u64>)> {
        let (offset, limit) = (paging.0, paging.1.clamp(1, MAX_PAGE));
        Ok(self.store.batches(org, offset, limit, count).await?)
    }

    /// The envelopes of batch `name` of `org`.
    pub async fn batch_envelopes(&self, org: OrgId, name: &str) -> Result<Vec<Envelope>> {
        Ok(self.store.batch_envelopes(org, name).await?)
    }

    /// The notes of an envelope of `org`, oldest first.
    pub async fn notes(&self, org: OrgId, id: EnvelopeId) -> Result<Vec<EnvelopeNote>> {
        self.store.envelope(org, id).await?;
        Ok(self.store.envelope_notes(id).await?)
    }

    /// Writes a note on an envelope of `org` (1 … 4000 characters).
    pub async fn add_note(
        &self,
        org: OrgId,
        id: EnvelopeId,
        user: Option<UserId>,
        text: &str,
        actor: &Actor,
    ) -> Result<EnvelopeNote> {
        let e = self.store.envelope(org, id).await?;
        let text = note_text(text)?;
        let note = self
            .store
            .add_envelope_note(id, user, &text, self.now())
            .await?;
        self.note_event(&e, AuditAction::NoteAdded, note.id, actor)
            .await;
        Ok(note)
    }

    /// Changes a note's text; another envelope's note is "not found".
    pub async fn change_note(
        &self,
        org: OrgId,
        id: EnvelopeId,
        note: i64,
        text: &str,
        actor: &Actor,
    ) -> Result<EnvelopeNote> {
        let e = self.store.envelope(org, id).await?;
        let text = note_text(text)?;
        let n = self
            .store
            .set_envelope_note(id, note, &text)
            .await?
            .ok_or(DomainError::not_found(Entity::Note))?;
        self.note_event(&e, AuditAction::NoteChanged, note, actor)
            .await;
        Ok(n)
    }

    /// Deletes a note; another envelope's note is "not found".
    pub async fn delete_note(
        &self,
        org: OrgId,
        id: EnvelopeId,
        note: i64,
        actor: &Actor,
    ) -> Result<()> {
        let e = self.store.envelope(org, id).await?;
        if !self.store.delete_envelope_note(id, note).await? {
            return Err(DomainError::not_found(Entity::Note).into());
        }
        self.note_event(&e, AuditAction::NoteDeleted, note, actor)
            .await;
        Ok(())
    }

    async fn note_event(&self, e: &Envelope, action: AuditAction, note: i64, actor: &Actor) {
        let event = self.audit_event(
            e.org,
            actor,
            action,
            Some(format!("envelope:{}", e.uuid)),
            json!({"note": note}),
        );
        self.record(event).await;
    }

    /// A page of the organisation's envelopes made through `face`, newest first, in any of
    /// `statuses` (all when empty).
    pub async fn envelope_page(
        &self,
        org: OrgId,
        face: &str,
        statuses: &[EnvelopeStatus],
        paging: Paging,
    ) -> Result<Page<Envelope>> {
        let (items, total) = self
            .store
            .envelopes_page(org, face, statuses, paging.offset(), paging.limit())
            .await?;
        Ok(Page { items, total })
    }

    /// The documents and fields of several envelopes of `org`, by envelope (for lists).
    pub async fn contents_of(
        &self,
        org: OrgId,
        ids: &[EnvelopeId],
    ) -> Result<
        std::collections::HashMap<EnvelopeId, (Vec<EnvelopeDocument>, Vec<paraf_domain::Field>)>,
    > {
        let (docs, fields) = self.store.contents_of_many(org, ids).await?;
        let mut out: std::collections::HashMap<
            EnvelopeId,
            (Vec<EnvelopeDocument>, Vec<paraf_domain::Field>),
        > = std::collections::HashMap::new();
        for d in docs {
            out.entry(d.envelope).or_default().0.push(d);
        }
        // A field's envelope is its document's.
        let envelope_of: std::collections::HashMap<_, _> = out
            .iter()
            .flat_map(|(e, (ds, _))| ds.iter().map(move |d| (d.id, *e)))
            .collect();
        for f in fields {
            if let Some(e) = envelope_of.get(&f.document) {
                out.entry(*e).or_default().1.push(f);
            }
        }
        Ok(out)
    }

    /// The recipients of several envelopes of `org`, by envelope.
    pub async fn recipients_of(
        &self,
        org: OrgId,
        ids: &[EnvelopeId],
    ) -> Result<std::collections::HashMap<EnvelopeId, Vec<Recipient>>> {
        let mut out: std::collections::HashMap<EnvelopeId, Vec<Recipient>> =
            std::collections::HashMap::new();
        for r in self.store.recipients_of_many(org, ids).await? {
            out.entry(r.envelope).or_default().push(r);
        }
        Ok(out)
    }

    /// The organisation's envelope with this public id (its uuid), with its recipients;
    /// `NotFound` for another organisation's.
    pub async fn envelope_by_uuid(
        &self,
        org: OrgId,
        uuid: &str,
    ) -> Result<(Envelope, Vec<Recipient>)> {
        let e = self.store.envelope_by_uuid(Some(org), uuid.trim()).await?;
        let r = self.store.recipients(e.id).await?;
        Ok((e, r))
    }

    /// What a draft's documents count against the quotas: their number and their bytes (as
    /// uploaded).
    pub(crate) async fn draft_footprint(&self, id: EnvelopeId) -> Result<(u64, u64)> {
        let docs = self.store.envelope_documents(id).await?;
        let mut bytes = 0u64;
        for d in &docs {
            if let Some(b) = self
                .blobs
                .get(&d.original)
                .await
                .map_err(CoreError::internal)?
            {
                bytes += b.len() as u64;
            }
        }
        Ok((docs.len() as u64, bytes))
    }

    /// Deletes a draft (its documents' quota is given back); anything else is a conflict
    /// naming the status.
    pub async fn delete_draft(&self, org: OrgId, id: EnvelopeId, actor: &Actor) -> Result<()> {
        let e = self.store.envelope(org, id).await?;
        if e.status != EnvelopeStatus::Draft {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: format!("the envelope is {}", e.status),
            }));
        }
        let (docs, bytes) = self.draft_footprint(id).await?;
        if !self.store.delete_draft_envelope(org, id).await? {
            let e = self.store.envelope(org, id).await?;
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: format!("the envelope is {}", e.status),
            }));
        }
        self.give_back_document_quota(org, docs, bytes, e.created_at)
            .await;
        self.envelope_event(
            &e,
            actor,
            AuditAction::EnvelopeDeleted,
            json!({"documents": docs}),
        );
        Ok(())
    }

    /// Counts a look-up by hash from `ip` (public: limited per address); the decision.
    pub async fn count_lookup(&self, ip: std::net::IpAddr) -> Result<RateDecision> {
        self.count_per_address("verify-ip", ip, LOOKUPS_PER_MINUTE)
            .await
    }

    /// Counts a validation of an uploaded file from `ip` (public, and costlier than a look-up:
    /// [`VALIDATIONS_PER_MINUTE`]); the decision.
    pub async fn count_validation(&self, ip: std::net::IpAddr) -> Result<RateDecision> {
        self.count_per_address("validate-ip", ip, VALIDATIONS_PER_MINUTE)
            .await
    }

    async fn count_per_address(
        &self,
        what: &str,
        ip: std::net::IpAddr,
        limit: u64,
    ) -> Result<RateDecision> {
        let now = self.now();
        let w = RateWindow::Minute;
        let key = format!("{what}:{}", address_key(ip));
        let count = self.store.hit(&key, w, w.start(now), now).await?;
        Ok(RateDecision::evaluate(w, limit, count, now))
    }

    /// The envelope holding a file with this SHA-256 (hex, any case) among every revision
    /// Paraf wrote — original, prepared, after each signature, sealed — or `None`.
    pub async fn revision_by_hash(&self, sha256: &str) -> Result<Option<KnownRevision>> {
        if !is_sha256_hex(sha256) {
            return Err(CoreError::invalid(
                "hash",
                "must be a SHA-256 in hexadecimal (64 digits)",
            ));
        }
        let found = self
            .store
            .revision_by_hash(&sha256.to_ascii_lowercase())
            .await?;
        Ok(found.map(|(envelope, signers)| KnownRevision { envelope, signers }))
    }

    /// Adds a contact to the organisation's address book (one per e-mail address).
    pub async fn create_contact(
        &self,
        org: OrgId,
        name: &str,
        email: &str,
        phone: Option<&str>,
        company: Option<&str>,
        actor: &Actor,
    ) -> Result<Contact> {
        let clean = |v: Option<&str>, field: &'static str| -> Result<Option<String>> {
            match v.map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > 200 => {
                    Err(CoreError::invalid(field, "must be at most 200 characters"))
                }
                Some(s) if s.chars().any(char::is_control) => Err(CoreError::invalid(
                    field,
                    "must not contain control characters",
                )),
                other => Ok(other.map(str::to_string)),
            }
        };
        let new = NewContact {
            org,
            name: PersonName::parse(name)?,
            email: Email::parse(email)?,
            phone: clean(phone, "phone")?,
            company: clean(company, "company")?,
        };
        let c = self.store.create_contact(&new, self.now()).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::ContactCreated,
            Some(format!("contact:{}", c.id.0)),
            json!({}),
        );
        self.record_later(event);
        Ok(c)
    }

    /// A page of the organisation's contacts, oldest first.
    pub async fn contact_page(&self, org: OrgId, paging: Paging) -> Result<Page<Contact>> {
        let (items, total) = self
            .store
            .contacts_page(org, paging.offset(), paging.limit())
            .await?;
        Ok(Page { items, total })
    }

    /// Every contact of the organisation (the console offers them when adding signers).
    pub async fn contacts(&self, org: OrgId) -> Result<Vec<Contact>> {
        Ok(self.store.list_contacts(org).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_per_host_or_per_64() {
        let k = |s: &str| address_key(s.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])));
        assert_eq!(k("192.0.2.7"), "192.0.2.7");
        assert_eq!(k("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(k("2001:db8:1:2:aaaa::1"), k("2001:db8:1:2:ffff::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(
            Paging {
                page: 3,
                per_page: 20
            }
            .offset(),
            40,
            "pages are 1-based"
        );
        assert!(is_sha256_hex(&"aB".repeat(32)) && !is_sha256_hex("abc"));
    }
}
