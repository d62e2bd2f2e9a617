//! Envelopes, their documents, recipients and fields. An envelope is written in one
//! transaction with everything it holds; state changes are compare-and-set (`from` states), so
//! two requests racing on the same envelope or recipient cannot both win. A recipient's link
//! token is stored as its SHA-256 only.

use paraf_domain::{
    BlobId, Email, Entity, Envelope, EnvelopeDocument, EnvelopeDocumentId, EnvelopeHeader,
    EnvelopeId, EnvelopeProof, EnvelopeStatus, Field, FieldId, FieldKind, NewEnvelope,
    NewRecipient, OrgId, Recipient, RecipientId, RecipientStatus, SecondFactor, SignatureModel,
    Timestamp, UserId,
};

use crate::{affected, from_ts, from_ts_opt, ts, with_pool, Result, Store, StoreError};

pub(crate) const ENVELOPE_COLS: &str = "id, org_id, uuid, title, status, status_reason, model, sender_email, \
     created_by, face, metadata, options, expires_at, reminder_days, created_at, sent_at, completed_at, proof_pdf, proof_json, \
     template, deleted_at";

#[derive(sqlx::FromRow)]
pub(crate) struct EnvelopeRow {
    id: i64,
    org_id: i64,
    uuid: String,
    title: String,
    status: String,
    status_reason: Option<String>,
    model: String,
    sender_email: String,
    created_by: Option<i64>,
    face: String,
    metadata: String,
    options: String,
    expires_at: Option<i64>,
    reminder_days: Option<i64>,
    created_at: i64,
    sent_at: Option<i64>,
    completed_at: Option<i64>,
    proof_pdf: Option<String>,
    proof_json: Option<String>,
    template: bool,
    deleted_at: Option<i64>,
}

fn corrupt(what: &str, id: i64) -> StoreError {
    StoreError::corrupt(format!("{what} {id}"))
}

impl EnvelopeRow {
    pub(crate) fn into_domain(self) -> Result<Envelope> {
        let id = self.id;
        let header = EnvelopeHeader {
            title: self.title,
            model: SignatureModel::from_db(&self.model)
                .ok_or_else(|| corrupt("envelope model", id))?,
            sender_email: Email::parse(&self.sender_email)
                .map_err(|_| corrupt("envelope sender", id))?,
            created_by: self.created_by.map(UserId),
            face: self.face,
            metadata: serde_json::from_str(&self.metadata)
                .map_err(|_| corrupt("envelope metadata", id))?,
            options: serde_json::from_str(&self.options)
                .map_err(|_| corrupt("envelope options", id))?,
            expires_at: from_ts_opt(self.expires_at),
            reminder_days: self.reminder_days.and_then(|d| u32::try_from(d).ok()),
            template: self.template,
        };
        Ok(Envelope {
            header,
            status: EnvelopeStatus::from_db(&self.status)
                .ok_or_else(|| corrupt("envelope status", id))?,
            status_reason: self.status_reason,
            id: EnvelopeId(id),
            org: OrgId(self.org_id),
            uuid: self.uuid,
            created_at: from_ts(self.created_at),
            sent_at: from_ts_opt(self.sent_at),
            completed_at: from_ts_opt(self.completed_at),
            proof: match (self.proof_pdf, self.proof_json) {
                (Some(pdf), Some(json)) => Some(EnvelopeProof {
                    pdf: BlobId::parse(&pdf).map_err(|_| corrupt("envelope proof", id))?,
                    json: BlobId::parse(&json).map_err(|_| corrupt("envelope proof", id))?,
                }),
                _ => None,
            },
            deleted_at: from_ts_opt(self.deleted_at),
        })
    }
}

pub(crate) const DOCUMENT_COLS: &str =
    "id, envelope_id, position, name, original_blob, current_blob, pages, uuid, signed_uuid";

#[derive(sqlx::FromRow)]
pub(crate) struct DocumentRow {
    id: i64,
    envelope_id: i64,
    position: i64,
    name: String,
    original_blob: String,
    current_blob: String,
    pages: i64,
    uuid: Option<String>,
    signed_uuid: Option<String>,
}

impl DocumentRow {
    pub(crate) fn into_domain(self) -> Result<EnvelopeDocument> {
        let blob = |s: &str| BlobId::parse(s).map_err(|_| corrupt("document blob", self.id));
        Ok(EnvelopeDocument {
            id: EnvelopeDocumentId(self.id),
            envelope: EnvelopeId(self.envelope_id),
            position: u32::try_from(self.position).unwrap_or(0),
            original: blob(&self.original_blob)?,
            current: blob(&self.current_blob)?,
            name: self.name,
            pages: u32::try_from(self.pages).unwrap_or(0),
            uuid: self.uuid.unwrap_or_default(),
            signed_uuid: self.signed_uuid.unwrap_or_default(),
        })
    }
}

const RECIPIENT_COLS: &str = "id, envelope_id, position, group_no, email, first_name, last_name, \
     language, mobile, second_factor, status, invited_at, opened_at, signed_at, declined_at, \
     decline_reason, ip, user_agent, verified_at";

#[derive(sqlx::FromRow)]
struct RecipientRow {
    id: i64,
    envelope_id: i64,
    position: i64,
    group_no: i64,
    email: String,
    first_name: String,
    last_name: String,
    language: String,
    mobile: Option<String>,
    second_factor: String,
    status: String,
    invited_at: Option<i64>,
    opened_at: Option<i64>,
    signed_at: Option<i64>,
    declined_at: Option<i64>,
    decline_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    verified_at: Option<i64>,
}

impl RecipientRow {
    fn into_domain(self) -> Result<Recipient> {
        let id = self.id;
        Ok(Recipient {
            id: RecipientId(id),
            envelope: EnvelopeId(self.envelope_id),
            position: u32::try_from(self.position).unwrap_or(0),
            group: u32::try_from(self.group_no).unwrap_or(0),
            email: Email::parse(&self.email).map_err(|_| corrupt("recipient email", id))?,
            first_name: self.first_name,
            last_name: self.last_name,
            language: self.language,
            mobile: self.mobile,
            second_factor: SecondFactor::from_db(&self.second_factor)
                .ok_or_else(|| corrupt("recipient second factor", id))?,
            status: RecipientStatus::from_db(&self.status)
                .ok_or_else(|| corrupt("recipient status", id))?,
            invited_at: from_ts_opt(self.invited_at),
            opened_at: from_ts_opt(self.opened_at),
            verified_at: from_ts_opt(self.verified_at),
            signed_at: from_ts_opt(self.signed_at),
            declined_at: from_ts_opt(self.declined_at),
            decline_reason: self.decline_reason,
            ip: self.ip,
            user_agent: self.user_agent,
        })
    }
}

const FIELD_COLS: &str =
    "id, document_id, recipient_id, kind, name, required, page, llx, lly, urx, ury, value";

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: i64,
    document_id: i64,
    recipient_id: i64,
    kind: String,
    name: String,
    required: bool,
    page: i64,
    llx: f64,
    lly: f64,
    urx: f64,
    ury: f64,
    value: Option<String>,
}

impl FieldRow {
    fn into_domain(self) -> Result<Field> {
        Ok(Field {
            id: FieldId(self.id),
            document: EnvelopeDocumentId(self.document_id),
            recipient: RecipientId(self.recipient_id),
            kind: FieldKind::from_db(&self.kind).ok_or_else(|| corrupt("field kind", self.id))?,
            name: self.name,
            required: self.required,
            page: u32::try_from(self.page).unwrap_or(0),
            rect: [self.llx, self.lly, self.urx, self.ury],
            value: self.value,
        })
    }
}

/// A recipient's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    Signed,
    /// With the reason they gave.
    Declined(&'a str),
}

fn names(states: &[EnvelopeStatus]) -> String {
    states
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records a new version of a document (`$1` the document, `$2` the blob, `$3` the recipient
/// whose signature made it or NULL, `$4` when).
const ADD_REVISION: &str = "INSERT INTO document_revisions \
    (org_id, envelope_id, document_id, blob, recipient_id, created_at) \
    SELECT e.org_id, e.id, d.id, $2, $3, $4 FROM envelope_documents d \
    JOIN envelopes e ON e.id = d.envelope_id WHERE d.id = $1";

/// What [`Store::record_signature`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureRecord {
    /// Recorded.
    Recorded,
    /// The recipient had already answered: nothing written.
    AlreadyAnswered,
    /// A document changed since it was read (another signature landed): nothing written.
    Stale,
}

/// Deletes everything envelope `$env` holds (fields, revisions, documents, recipients), in
/// transaction `$tx`.
macro_rules! delete_contents {
    ($tx:ident, $env:expr) => {
        for table in [
            "envelope_fields",
            "document_revisions",
            "envelope_documents",
            "recipients",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE envelope_id = $1"))
                .bind($env)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Inserts the documents (and their first revisions), recipients (`waiting`) and fields of
/// `$new` into envelope `$env`, in transaction `$tx` (either backend).
macro_rules! insert_contents {
    ($tx:ident, $env:expr, $new:expr, $now:expr) => {{
            let mut documents = Vec::new();
            for (i, d) in $new.documents.iter().enumerate() {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO envelope_documents (envelope_id, position, name, original_blob, current_blob, pages, \
                     uuid, signed_uuid) VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
                )
                .bind($env)
                .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                .bind(&d.name)
                .bind(d.blob.as_str())
                .bind(i64::from(d.pages))
                .bind(&d.uuid)
                .bind(&d.signed_uuid)
                .fetch_one(&mut *$tx)
                .await?;
                sqlx::query(
                    "INSERT INTO document_revisions (org_id, envelope_id, document_id, blob, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind($new.org.0)
                .bind($env)
                .bind(id)
                .bind(d.blob.as_str())
                .bind(ts($now))
                .execute(&mut *$tx)
                .await?;
                documents.push(id);
            }
            let mut recipients = Vec::new();
            for (i, r) in $new.recipients.iter().enumerate() {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO recipients (envelope_id, position, group_no, email, first_name, last_name, \
                     language, mobile, second_factor, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting') RETURNING id",
                )
                .bind($env)
                .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                .bind(i64::from(r.group))
                .bind(r.email.as_str())
                .bind(&r.first_name)
                .bind(&r.last_name)
                .bind(&r.language)
                .bind(r.mobile.as_deref())
                .bind(r.second_factor.as_str())
                .fetch_one(&mut *$tx)
                .await?;
                recipients.push(id);
            }
            for f in &$new.fields {
                sqlx::query(
                    "INSERT INTO envelope_fields (envelope_id, document_id, recipient_id, kind, name, required, \
                     page, llx, lly, urx, ury) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind($env)
                .bind(documents[f.document])
                .bind(recipients[f.recipient])
                .bind(f.kind.as_str())
                .bind(&f.name)
                .bind(f.required)
                .bind(i64::from(f.page))
                .bind(f.rect[0])
                .bind(f.rect[1])
                .bind(f.rect[2])
                .bind(f.rect[3])
                .execute(&mut *$tx)
                .await?;
            }
    }};
}

impl Store {
    /// Creates an envelope in `draft` with its documents, recipients (all `waiting`) and
    /// fields, in one transaction.
    pub async fn create_envelope(&self, new: &NewEnvelope, now: Timestamp) -> Result<Envelope> {
        new.check()?;
        self.organisation(new.org).await?;
        let insert = format!(
            "INSERT INTO envelopes (org_id, uuid, title, status, model, sender_email, created_by, face, \
             metadata, options, expires_at, reminder_days, created_at, template) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {ENVELOPE_COLS}"
        );
        let row: EnvelopeRow = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let row: EnvelopeRow = sqlx::query_as(&insert)
                .bind(new.org.0)
                .bind(&new.uuid)
                .bind(&new.header.title)
                .bind(new.header.model.as_str())
                .bind(new.header.sender_email.as_str())
                .bind(new.header.created_by.map(|u| u.0))
                .bind(&new.header.face)
                .bind(new.header.metadata.to_string())
                .bind(new.header.options.to_string())
                .bind(new.header.expires_at.map(ts))
                .bind(new.header.reminder_days.map(i64::from))
                .bind(ts(now))
                .bind(new.header.template)
                .fetch_one(&mut *tx)
                .await?;
            insert_contents!(tx, row.id, new, now);
            tx.commit().await?;
            row
        });
        row.into_domain()
    }

    /// Replaces everything a draft holds (header, documents, recipients, fields) by `new`'s,
    /// in one transaction; `false` when the envelope is not (or no longer) a draft. Its uuid,
    /// creator and face stay.
    pub async fn replace_draft_envelope(
        &self,
        org: OrgId,
        id: EnvelopeId,
        new: &NewEnvelope,
        now: Timestamp,
    ) -> Result<bool> {
        new.check()?;
        let replaced = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE envelopes SET title = $3, model = $4, sender_email = $5, metadata = $6, \
                 options = $7, expires_at = $8, reminder_days = $9, template = $10 \
                 WHERE org_id = $1 AND id = $2 AND status = 'draft'",
            )
            .bind(org.0)
            .bind(id.0)
            .bind(&new.header.title)
            .bind(new.header.model.as_str())
            .bind(new.header.sender_email.as_str())
            .bind(new.header.metadata.to_string())
            .bind(new.header.options.to_string())
            .bind(new.header.expires_at.map(ts))
            .bind(new.header.reminder_days.map(i64::from))
            .bind(new.header.template)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                delete_contents!(tx, id.0);
                insert_contents!(tx, id.0, new, now);
            }
            tx.commit().await?;
            n == 1
        });
        Ok(replaced)
    }

    /// Takes a sent envelope nobody answered back to `draft`: every recipient `waiting`
    /// again, their links void, the documents back to their originals; `false` when it is
    /// not `sent` or somebody answered meanwhile.
    pub async fn recall_envelope(&self, org: OrgId, id: EnvelopeId) -> Result<bool> {
        let recalled = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE envelopes SET status = 'draft', sent_at = NULL WHERE id = $1 AND org_id = $2 \
                 AND status = 'sent' AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.envelope_id = $1 \
                 AND r.status IN ('signed', 'declined'))",
            )
            .bind(id.0)
            .bind(org.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                // Every recipient waiting again (links void), the documents as uploaded.
                for reset in [
                    "UPDATE recipients SET status = 'waiting', token_hash = NULL, token_sealed = NULL, \
                     token_expires_at = NULL, invited_at = NULL, opened_at = NULL, verified_at = NULL, \
                     reminded_at = NULL WHERE envelope_id = $1",
                    "UPDATE envelope_documents SET current_blob = original_blob WHERE envelope_id = $1",
                ] {
                    sqlx::query(reset).bind(id.0).execute(&mut *tx).await?;
                }
            }
            let recalled = n == 1;
            tx.commit().await?;
            recalled
        });
        Ok(recalled)
    }

    /// Sets an envelope's options (what its face keeps with it).
    pub async fn set_envelope_options(
        &self,
        org: OrgId,
        id: EnvelopeId,
        options: &serde_json::Value,
    ) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE envelopes SET options = $3 WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(options.to_string())
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Envelope));
        }
        Ok(())
    }

    /// An envelope of the organisation.
    pub async fn envelope(&self, org: OrgId, id: EnvelopeId) -> Result<Envelope> {
        let sql = format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE org_id = $1 AND id = $2");
        let row: Option<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Envelope))?
            .into_domain()
    }

    /// The envelope with public identifier `uuid`: of organisation `org`, or — only for a
    /// caller who proved a right to it without an organisation (a file link's key) — of any
    /// organisation when `org` is `None`.
    pub async fn envelope_by_uuid(&self, org: Option<OrgId>, uuid: &str) -> Result<Envelope> {
        let sql = format!(
            "SELECT {ENVELOPE_COLS} FROM envelopes WHERE uuid = $1 AND ($2 IS NULL OR org_id = $2)"
        );
        let row: Option<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(uuid)
            .bind(org.map(|o| o.0))
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Envelope))?
            .into_domain()
    }

    /// Records the proof of an envelope (its certificate PDF and JSON blobs).
    pub async fn set_envelope_proof(&self, id: EnvelopeId, proof: &EnvelopeProof) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE envelopes SET proof_pdf = $2, proof_json = $3 WHERE id = $1"
        )
        .bind(id.0)
        .bind(proof.pdf.as_str())
        .bind(proof.json.as_str())
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Envelope));
        }
        Ok(())
    }

    /// Rows of one envelope's table (documents, recipients, fields) by `sql` with `$1` the
    /// envelope id.
    async fn rows_of_envelope<R>(&self, sql: &str, id: EnvelopeId) -> Result<Vec<R>>
    where
        R: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        Ok(with_pool!(self, |p| sqlx::query_as(sql)
            .bind(id.0)
            .fetch_all(p)
            .await)?)
    }

    /// The envelope's documents, in order.
    pub async fn envelope_documents(&self, id: EnvelopeId) -> Result<Vec<EnvelopeDocument>> {
        let sql = format!("SELECT {DOCUMENT_COLS} FROM envelope_documents WHERE envelope_id = $1 ORDER BY position");
        let rows: Vec<DocumentRow> = self.rows_of_envelope(&sql, id).await?;
        rows.into_iter().map(DocumentRow::into_domain).collect()
    }

    /// The envelope's recipients, in order.
    pub async fn recipients(&self, id: EnvelopeId) -> Result<Vec<Recipient>> {
        let sql = format!(
            "SELECT {RECIPIENT_COLS} FROM recipients WHERE envelope_id = $1 ORDER BY position"
        );
        let rows: Vec<RecipientRow> = self.rows_of_envelope(&sql, id).await?;
        rows.into_iter().map(RecipientRow::into_domain).collect()
    }

    /// The recipients of several envelopes of `org`, in envelope then position order.
    pub async fn recipients_of_many(
        &self,
        org: OrgId,
        ids: &[EnvelopeId],
    ) -> Result<Vec<Recipient>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers: listed in the SQL text (no user text).
        let list = ids
            .iter()
            .map(|i| i.0.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {RECIPIENT_COLS} FROM recipients WHERE envelope_id IN ({list}) \
             AND EXISTS (SELECT 1 FROM envelopes e WHERE e.id = envelope_id AND e.org_id = $1) \
             ORDER BY envelope_id, position"
        );
        let rows: Vec<RecipientRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(RecipientRow::into_domain).collect()
    }

    /// The documents and fields of several envelopes of `org` (for lists), each in order.
    pub async fn contents_of_many(
        &self,
        org: OrgId,
        ids: &[EnvelopeId],
    ) -> Result<(Vec<EnvelopeDocument>, Vec<Field>)> {
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // Ids are integers: listed in the SQL text (no user text).
        let list = ids
            .iter()
            .map(|i| i.0.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        // The organisation checked row by row on the primary key (not by listing every
        // envelope of the organisation).
        let mine =
            "AND EXISTS (SELECT 1 FROM envelopes e WHERE e.id = envelope_id AND e.org_id = $1)";
        let docs_sql = format!(
            "SELECT {DOCUMENT_COLS} FROM envelope_documents WHERE envelope_id IN ({list}) {mine} \
             ORDER BY envelope_id, position"
        );
        let fields_sql = format!(
            "SELECT {FIELD_COLS} FROM envelope_fields WHERE envelope_id IN ({list}) {mine} \
             ORDER BY envelope_id, id"
        );
        let docs: Vec<DocumentRow> = with_pool!(self, |p| sqlx::query_as(&docs_sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        let fields: Vec<FieldRow> = with_pool!(self, |p| sqlx::query_as(&fields_sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        Ok((
            docs.into_iter()
                .map(DocumentRow::into_domain)
                .collect::<Result<_>>()?,
            fields
                .into_iter()
                .map(FieldRow::into_domain)
                .collect::<Result<_>>()?,
        ))
    }

    /// The envelope's fields.
    pub async fn fields(&self, id: EnvelopeId) -> Result<Vec<Field>> {
        let sql =
            format!("SELECT {FIELD_COLS} FROM envelope_fields WHERE envelope_id = $1 ORDER BY id");
        let rows: Vec<FieldRow> = self.rows_of_envelope(&sql, id).await?;
        rows.into_iter().map(FieldRow::into_domain).collect()
    }

    /// Moves the envelope to `to` if it is in one of `from`; `false` when it was not (someone
    /// else moved it first). `sent_at`/`completed_at` are set on the way to `sent`/`completed`;
    /// on the way to `sent`, `cancelled` or `expired` the envelope is marked unannounced (what
    /// follows — links, invitations, record, events — to be done:
    /// [`Store::statuses_unannounced`]).
    pub async fn set_envelope_status(
        &self,
        org: OrgId,
        id: EnvelopeId,
        from: &[EnvelopeStatus],
        to: EnvelopeStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE envelopes SET status = $3, status_reason = $4, \
             sent_at = CASE WHEN $3 = 'sent' THEN $5 ELSE sent_at END, \
             completed_at = CASE WHEN $3 = 'completed' THEN $5 ELSE completed_at END, \
             unannounced_since = CASE WHEN $3 IN ('sent', 'cancelled', 'expired') THEN $5 \
             ELSE unannounced_since END \
             WHERE org_id = $1 AND id = $2 AND status IN ({})",
            names(from)
        );
        let n = affected!(self, |p| sqlx::query(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(to.as_str())
            .bind(reason)
            .bind(ts(now))
            .execute(p)
            .await)?;
        Ok(n == 1)
    }

    /// Takes the envelope into `sealing` until `until`: from `in_progress` or `seal_failed`,
    /// or from `sealing` whose holder's time ran out (it died mid-seal). `false` when another
    /// process holds it or it is not ready.
    pub async fn start_sealing(
        &self,
        org: OrgId,
        id: EnvelopeId,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE envelopes SET status = 'sealing', status_reason = NULL, sealing_until = $4 \
             WHERE org_id = $1 AND id = $2 AND (status IN ('in_progress', 'seal_failed') \
             OR (status = 'sealing' AND (sealing_until IS NULL OR sealing_until < $3)))"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(ts(now))
        .bind(ts(until))
        .execute(p)
        .await
        })?;
        Ok(n == 1)
    }

    /// The organisation's envelopes, newest first, of `status` if given.
    pub async fn envelopes_of(
        &self,
        org: OrgId,
        status: Option<EnvelopeStatus>,
        limit: u32,
    ) -> Result<Vec<Envelope>> {
        let sql = format!(
            "SELECT {ENVELOPE_COLS} FROM envelopes WHERE org_id = $1 \
             AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(status.map(EnvelopeStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(EnvelopeRow::into_domain).collect()
    }

    /// Envelopes to seal again: `seal_failed`, and `sealing` ones whose holder's time ran out.
    pub async fn envelopes_to_reseal(&self, now: Timestamp, limit: u32) -> Result<Vec<Envelope>> {
        self.envelopes_at(
            "status = 'seal_failed' \
             OR (status = 'sealing' AND (sealing_until IS NULL OR sealing_until < $1)) \
             ORDER BY id",
            now,
            limit,
        )
        .await
    }

    /// Completed envelopes whose completion was not announced and that completed before
    /// `before` (their sealing process died between the two), oldest first.
    pub async fn completed_unannounced(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Envelope>> {
        self.envelopes_at(
            "status = 'completed' AND announced_at IS NULL AND completed_at < $1 \
             ORDER BY completed_at",
            before,
            limit,
        )
        .await
    }

    /// Envelopes sent, cancelled or expired before `before` whose follow-up (links,
    /// invitations, records, events) was not done — the process that moved them died in
    /// between —, oldest first.
    pub async fn statuses_unannounced(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Envelope>> {
        self.envelopes_at(
            "unannounced_since IS NOT NULL AND unannounced_since < $1 ORDER BY unannounced_since",
            before,
            limit,
        )
        .await
    }

    /// Completed envelopes whose archive timestamps hold no longer than `before` (or were not
    /// read yet), soonest first.
    pub async fn archives_due(&self, before: Timestamp, limit: u32) -> Result<Vec<Envelope>> {
        self.envelopes_at(
            "status = 'completed' AND (archive_until IS NULL OR archive_until < $1) \
             ORDER BY COALESCE(archive_until, 0), id",
            before,
            limit,
        )
        .await
    }

    /// Until when envelope `id`'s archive timestamps hold, as last recorded (`None`: not read).
    pub async fn archive_until(&self, id: EnvelopeId) -> Result<Option<Timestamp>> {
        let v: Option<Option<i64>> = with_pool!(self, |p| sqlx::query_scalar(
            "SELECT archive_until FROM envelopes WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await)?;
        Ok(v.ok_or(StoreError::not_found(Entity::Envelope))?
            .map(from_ts))
    }

    /// Takes the renewal of completed envelope `id`'s archive if it is still due (its
    /// `archive_until` unread or before `due_before`), moving `archive_until` to `until`: one
    /// instance takes it (`false`: another did, or it is not due any more).
    pub async fn claim_archive(
        &self,
        id: EnvelopeId,
        due_before: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE envelopes SET archive_until = $3 WHERE id = $1 AND status = 'completed' \
             AND (archive_until IS NULL OR archive_until < $2)"
        )
        .bind(id.0)
        .bind(ts(due_before))
        .bind(ts(until))
        .execute(p)
        .await)?;
        Ok(n == 1)
    }

    /// Records until when envelope `id`'s archive holds (see `archive.rs` in the core).
    pub async fn set_archive_until(&self, id: EnvelopeId, until: Timestamp) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "UPDATE envelopes SET archive_until = $2 WHERE id = $1"
        )
        .bind(id.0)
        .bind(ts(until))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Records that what follows the last status change of envelope `id` is done.
    pub async fn mark_status_announced(&self, id: EnvelopeId) -> Result<()> {
        self.clear_unannounced("envelopes", id.0).await
    }

    /// Takes the follow-up of envelope `id` (marked before `before`) for this process until
    /// another lease has run out; `false` when another instance took it first.
    pub async fn claim_status_followup(
        &self,
        id: EnvelopeId,
        before: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        self.claim_unannounced("envelopes", id.0, before, now).await
    }

    /// Takes the follow-up of recipient `id`'s answer, as [`Store::claim_status_followup`].
    pub async fn claim_answer_followup(
        &self,
        id: RecipientId,
        before: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        self.claim_unannounced("recipients", id.0, before, now)
            .await
    }

    /// Moves the mark of row `id` of `table` (one of ours) to `now` if it is still older than
    /// `before`: one instance's housekeeping wins, the others skip it (and a follow-up that
    /// keeps failing goes to the back of the line).
    async fn claim_unannounced(
        &self,
        table: &'static str,
        id: i64,
        before: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE {table} SET unannounced_since = $3 WHERE id = $1 \
             AND unannounced_since IS NOT NULL AND unannounced_since < $2"
        );
        let n = affected!(self, |p| sqlx::query(&sql)
            .bind(id)
            .bind(ts(before))
            .bind(ts(now))
            .execute(p)
            .await)?;
        Ok(n == 1)
    }

    /// Clears `unannounced_since` of row `id` of `table` (one of ours, never user text).
    async fn clear_unannounced(&self, table: &'static str, id: i64) -> Result<()> {
        let sql = format!("UPDATE {table} SET unannounced_since = NULL WHERE id = $1");
        affected!(self, |p| sqlx::query(&sql).bind(id).execute(p).await)?;
        Ok(())
    }

    /// Answers (signatures, refusals) given before `before` whose follow-up was not done —
    /// the process that took them died in between —, oldest first, with their envelopes.
    pub async fn answers_unannounced(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<(Envelope, Recipient)>> {
        let sql = format!(
            "SELECT {RECIPIENT_COLS} FROM recipients WHERE unannounced_since IS NOT NULL \
             AND unannounced_since < $1 ORDER BY unannounced_since LIMIT $2"
        );
        let rows: Vec<RecipientRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(ts(before))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        let envelope_sql = format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE id = $1");
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let row: EnvelopeRow = with_pool!(self, |p| sqlx::query_as(&envelope_sql)
                .bind(r.envelope_id)
                .fetch_one(p)
                .await)?;
            out.push((row.into_domain()?, r.into_domain()?));
        }
        Ok(out)
    }

    /// Records that what follows recipient `id`'s answer is done.
    pub async fn mark_answer_announced(&self, id: RecipientId) -> Result<()> {
        self.clear_unannounced("recipients", id.0).await
    }

    /// Records that the completion of envelope `id` was announced (audited, events queued).
    pub async fn mark_announced(&self, org: OrgId, id: EnvelopeId, at: Timestamp) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "UPDATE envelopes SET announced_at = $3 \
             WHERE org_id = $1 AND id = $2 AND announced_at IS NULL"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(ts(at))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Envelopes matching `condition` (with `$1` = `now`, then its ORDER BY), at most `limit`.
    async fn envelopes_at(
        &self,
        condition: &str,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Envelope>> {
        let sql = format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE {condition} LIMIT $2");
        let rows: Vec<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(ts(now))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(EnvelopeRow::into_domain).collect()
    }

    /// Gives a recipient their link token: its hash (to find it) and the token sealed by the
    /// core (to mail it when their group's turn comes), with its expiry; an earlier token
    /// stops working. Every recipient gets one when the envelope is sent (a later group's
    /// link then shows "not your turn yet").
    pub async fn set_recipient_token(
        &self,
        id: RecipientId,
        token_hash: &str,
        token_sealed: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE recipients SET token_hash = $2, token_sealed = $3, token_expires_at = $4 WHERE id = $1"
        )
        .bind(id.0)
        .bind(token_hash)
        .bind(token_sealed)
        .bind(ts(expires_at))
        .execute(p)
        .await
        })?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Recipient));
        }
        Ok(())
    }

    /// Gives a recipient who has no link token this one; `false` if they had one already (a
    /// concurrent sender's: theirs stands).
    pub async fn set_recipient_token_if_none(
        &self,
        id: RecipientId,
        token_hash: &str,
        token_sealed: &str,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let n = affected!(self, |p| {
            sqlx::query(
                "UPDATE recipients SET token_hash = $2, token_sealed = $3, token_expires_at = $4 \
             WHERE id = $1 AND token_sealed IS NULL",
            )
            .bind(id.0)
            .bind(token_hash)
            .bind(token_sealed)
            .bind(ts(expires_at))
            .execute(p)
            .await
        })?;
        Ok(n == 1)
    }

    /// The sealed link token of a recipient, if they have one.
    pub async fn recipient_token_sealed(&self, id: RecipientId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT token_sealed FROM recipients WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.ok_or(StoreError::not_found(Entity::Recipient))?.0)
    }

    /// Sets the current version of a document (after a signature: the same file with one
    /// more incremental update) and records it as a revision, made by `by` (a recipient's
    /// signature) or by Paraf (prepared fields, the seal's time-stamp).
    pub async fn set_document_current(
        &self,
        id: EnvelopeDocumentId,
        blob: &BlobId,
        by: Option<RecipientId>,
        now: Timestamp,
    ) -> Result<()> {
        // The revision first: a crash in between leaves a revision row for a blob that
        // exists (harmless), never a current version without its revision.
        let n = affected!(self, |p| {
            sqlx::query(ADD_REVISION)
                .bind(id.0)
                .bind(blob.as_str())
                .bind(by.map(|r| r.0))
                .bind(ts(now))
                .execute(p)
                .await
        })?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Envelope));
        }
        affected!(self, |p| sqlx::query(
            "UPDATE envelope_documents SET current_blob = $2 WHERE id = $1"
        )
        .bind(id.0)
        .bind(blob.as_str())
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Records a recipient's signature in one transaction: the recipient signed (if they had
    /// not answered), each document's new version — only where the version they signed is
    /// still the current one —, the values they filled in, and the envelope `in_progress`
    /// (from `sent`). Nothing is written unless all of it is. The answer stays unannounced
    /// until [`Store::mark_answer_announced`].
    pub async fn record_signature(
        &self,
        recipient: RecipientId,
        from: (Option<&str>, Option<&str>),
        versions: &[(EnvelopeDocumentId, BlobId, BlobId)],
        values: &[(FieldId, String)],
        now: Timestamp,
    ) -> Result<SignatureRecord> {
        let outcome = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let answered = sqlx::query(
                "UPDATE recipients SET status = 'signed', signed_at = $2, ip = $3, user_agent = $4, \
                 unannounced_since = $2 WHERE id = $1 AND status IN ('invited', 'opened')",
            )
            .bind(recipient.0)
            .bind(ts(now))
            .bind(from.0)
            .bind(from.1)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if answered != 1 {
                tx.rollback().await?;
                return Ok(SignatureRecord::AlreadyAnswered);
            }
            for (doc, expected, blob) in versions {
                let moved = sqlx::query(
                    "UPDATE envelope_documents SET current_blob = $3 WHERE id = $1 AND current_blob = $2",
                )
                .bind(doc.0)
                .bind(expected.as_str())
                .bind(blob.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved != 1 {
                    tx.rollback().await?;
                    return Ok(SignatureRecord::Stale);
                }
                sqlx::query(ADD_REVISION)
                    .bind(doc.0)
                    .bind(blob.as_str())
                    .bind(recipient.0)
                    .bind(ts(now))
                    .execute(&mut *tx)
                    .await?;
            }
            for (field, value) in values {
                sqlx::query("UPDATE envelope_fields SET value = $2 WHERE id = $1")
                    .bind(field.0)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE envelopes SET status = 'in_progress' WHERE status = 'sent' \
                 AND id = (SELECT envelope_id FROM recipients WHERE id = $1)",
            )
            .bind(recipient.0)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            SignatureRecord::Recorded
        });
        Ok(outcome)
    }

    /// Whether a file with this SHA-256 is a version of one of envelope `id`'s documents that
    /// Paraf wrote after the document's last signature, at or after `since` (the completion),
    /// with nobody's signature: the seal itself or an archive renewal (`ltv refresh`).
    pub async fn is_archive_version(
        &self,
        id: EnvelopeId,
        sha256: &str,
        since: Timestamp,
    ) -> Result<bool> {
        let found: Option<(i64,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT r.id FROM document_revisions r WHERE r.envelope_id = $1 AND r.blob = $2 \
             AND r.recipient_id IS NULL AND r.created_at >= $3 \
             AND r.id > (SELECT COALESCE(MAX(s.id), 0) FROM document_revisions s \
                         WHERE s.document_id = r.document_id AND s.recipient_id IS NOT NULL) \
             LIMIT 1"
        )
        .bind(id.0)
        .bind(sha256)
        .bind(ts(since))
        .fetch_optional(p)
        .await)?;
        Ok(found.is_some())
    }

    /// Where a file with this SHA-256 is a revision Paraf wrote: the envelope, and the
    /// recipients whose signatures that revision carries (in the order they signed). When
    /// several envelopes hold the same bytes the **first** wins: uploading someone's signed
    /// file again does not take its answer over.
    pub async fn revision_by_hash(
        &self,
        sha256: &str,
    ) -> Result<Option<(Envelope, Vec<Recipient>)>> {
        let found: Option<(i64, i64, i64)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT envelope_id, document_id, id FROM document_revisions WHERE blob = $1 \
             ORDER BY id LIMIT 1"
        )
        .bind(sha256)
        .fetch_optional(p)
        .await)?;
        let Some((envelope, document, revision)) = found else {
            return Ok(None);
        };
        let sql = format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE id = $1");
        let row: EnvelopeRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(envelope)
            .fetch_one(p)
            .await)?;
        let signers: Vec<(i64,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT recipient_id FROM document_revisions WHERE document_id = $1 AND id <= $2 \
             AND recipient_id IS NOT NULL ORDER BY id"
        )
        .bind(document)
        .bind(revision)
        .fetch_all(p)
        .await)?;
        let all = self.recipients(EnvelopeId(envelope)).await?;
        let mut out = Vec::new();
        for (r,) in signers {
            if let Some(rec) = all.iter().find(|x| x.id.0 == r) {
                if !out.iter().any(|o: &Recipient| o.id == rec.id) {
                    out.push(rec.clone());
                }
            }
        }
        Ok(Some((row.into_domain()?, out)))
    }

    /// A page of the organisation's envelopes of `face` (newest first, of `status` if
    /// given: `offset`, at most `limit`) and how many match in all.
    pub async fn envelopes_page(
        &self,
        org: OrgId,
        face: &str,
        statuses: &[EnvelopeStatus],
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Envelope>, u64)> {
        let list = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        // The statuses are the domain's own words (no user text in the SQL).
        let filter = if list.is_empty() {
            String::new()
        } else {
            format!(" AND status IN ({list})")
        };
        let sql = format!(
            "SELECT {ENVELOPE_COLS} FROM envelopes WHERE org_id = $1 AND face = $2{filter} \
             ORDER BY id DESC LIMIT $3 OFFSET $4"
        );
        let rows: Vec<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(face)
            .bind(i64::from(limit))
            .bind(crate::to_i64(offset))
            .fetch_all(p)
            .await)?;
        let count =
            format!("SELECT COUNT(*) FROM envelopes WHERE org_id = $1 AND face = $2{filter}");
        let (total,): (i64,) = with_pool!(self, |p| sqlx::query_as(&count)
            .bind(org.0)
            .bind(face)
            .fetch_one(p)
            .await)?;
        let list = rows
            .into_iter()
            .map(EnvelopeRow::into_domain)
            .collect::<Result<_>>()?;
        Ok((list, crate::to_u64(total)))
    }

    /// Deletes a draft envelope and everything in it (documents, recipients, fields,
    /// revisions); `false` when it is not (or no longer) a draft. The blobs stay (content
    /// addressed: others may share them).
    pub async fn delete_draft_envelope(&self, org: OrgId, id: EnvelopeId) -> Result<bool> {
        let deleted = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE envelopes SET status = 'deleting' WHERE org_id = $1 AND id = $2 AND status = 'draft'",
            )
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                delete_contents!(tx, id.0);
                sqlx::query("DELETE FROM envelopes WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n == 1
        });
        Ok(deleted)
    }

    /// Records what a recipient filled in a field.
    pub async fn set_field_value(&self, id: FieldId, value: &str) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE envelope_fields SET value = $2 WHERE id = $1"
        )
        .bind(id.0)
        .bind(value)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Envelope));
        }
        Ok(())
    }

    /// Moves a recipient from status `from` to `to`, recording `now` in `column`; `false` if
    /// they were not in `from`.
    async fn step_recipient(
        &self,
        id: RecipientId,
        from: RecipientStatus,
        to: RecipientStatus,
        column: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE recipients SET status = $1, {column} = $2 WHERE status = $3 AND id = $4"
        );
        let stepped = affected!(self, |p| sqlx::query(&sql)
            .bind(to.as_str())
            .bind(ts(now))
            .bind(from.as_str())
            .bind(id.0)
            .execute(p)
            .await)?;
        Ok(stepped == 1)
    }

    /// Recipients who were invited (or last reminded) at least their envelope's
    /// `reminder_days` ago and have not answered, with their envelope (open ones only).
    pub async fn recipients_to_remind(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(Envelope, Recipient)>> {
        let cols: String = RECIPIENT_COLS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM recipients r JOIN envelopes e ON e.id = r.envelope_id \
             WHERE e.status IN ('sent', 'in_progress') AND e.reminder_days IS NOT NULL \
             AND e.reminder_days > 0 AND r.status IN ('invited', 'opened') \
             AND COALESCE(r.reminded_at, r.invited_at) + e.reminder_days * 86400000000 <= $1 \
             ORDER BY r.id LIMIT $2"
        );
        let rows: Vec<RecipientRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(ts(now))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        let mut out = Vec::new();
        for row in rows {
            let r = row.into_domain()?;
            let sql = format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE id = $1");
            let e: EnvelopeRow = with_pool!(self, |p| sqlx::query_as(&sql)
                .bind(r.envelope.0)
                .fetch_one(p)
                .await)?;
            out.push((e.into_domain()?, r));
        }
        Ok(out)
    }

    /// When a recipient was last reminded.
    pub async fn recipient_reminded_at(&self, id: RecipientId) -> Result<Option<Timestamp>> {
        let v: Option<Option<i64>> = with_pool!(self, |p| sqlx::query_scalar(
            "SELECT reminded_at FROM recipients WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await)?;
        Ok(from_ts_opt(v.flatten()))
    }

    /// Records a reminder to a recipient; `false` if one was recorded since `since` (another
    /// instance sent it).
    pub async fn mark_recipient_reminded(
        &self,
        id: RecipientId,
        since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE recipients SET reminded_at = $3 WHERE id = $1 \
             AND (reminded_at IS NULL OR reminded_at = $2)"
        )
        .bind(id.0)
        .bind(since.map(ts))
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(n == 1)
    }

    /// Puts another person in a recipient's place (replacement by the sender, delegation by
    /// the recipient): their address, names, language, phone and second factor; a recipient
    /// who had opened their link is `invited` again (the new person has not), the code they
    /// confirmed is forgotten. `false` if the recipient has answered already.
    pub async fn replace_recipient(&self, id: RecipientId, new: &NewRecipient) -> Result<bool> {
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE recipients SET email = $2, first_name = $3, last_name = $4, language = $5, \
             mobile = $6, second_factor = $7, verified_at = NULL, opened_at = NULL, \
             reminded_at = NULL, status = CASE WHEN status = 'opened' THEN 'invited' ELSE status END \
             WHERE id = $1 AND status IN ('waiting', 'invited', 'opened')"
        )
        .bind(id.0)
        .bind(new.email.as_str())
        .bind(&new.first_name)
        .bind(&new.last_name)
        .bind(&new.language)
        .bind(new.mobile.as_deref())
        .bind(new.second_factor.as_str())
        .execute(p)
        .await
        })?;
        Ok(n == 1)
    }

    /// Marks a `waiting` recipient invited (their group's turn came, their mail is queued);
    /// `false` if they were not waiting.
    pub async fn mark_recipient_invited(&self, id: RecipientId, now: Timestamp) -> Result<bool> {
        let (from, to) = (RecipientStatus::Waiting, RecipientStatus::Invited);
        self.step_recipient(id, from, to, "invited_at", now).await
    }

    /// The recipient a link token (by its hash) belongs to, with its envelope and the token's
    /// expiry. Not scoped to an organisation: the token is the credential.
    pub async fn recipient_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<(Envelope, Recipient, Timestamp)> {
        let sql = format!(
            "SELECT {RECIPIENT_COLS}, token_expires_at FROM recipients WHERE token_hash = $1"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            r: RecipientRow,
            token_expires_at: Option<i64>,
        }
        let row: Option<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        let row = row.ok_or(StoreError::not_found(Entity::Recipient))?;
        let expires = from_ts(row.token_expires_at.unwrap_or(0));
        let recipient = row.r.into_domain()?;
        let sql = format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE id = $1");
        let env: EnvelopeRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(recipient.envelope.0)
            .fetch_one(p)
            .await)?;
        Ok((env.into_domain()?, recipient, expires))
    }

    /// Records that an `invited` recipient opened their link (later openings change nothing).
    pub async fn mark_recipient_opened(&self, id: RecipientId, now: Timestamp) -> Result<()> {
        let (from, to) = (RecipientStatus::Invited, RecipientStatus::Opened);
        self.step_recipient(id, from, to, "opened_at", now)
            .await
            .map(|_| ())
    }

    /// Records that a recipient confirmed a one-time code now.
    pub async fn mark_recipient_verified(&self, id: RecipientId, now: Timestamp) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "UPDATE recipients SET verified_at = $2 WHERE id = $1"
        )
        .bind(id.0)
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Records a recipient's answer — a signature, or a refusal with its reason — from where
    /// they gave it, only while they are invited or opened (compare-and-set: a double click
    /// counts once); `false` otherwise (already answered, or not their turn).
    pub async fn answer_recipient(
        &self,
        id: RecipientId,
        answer: Answer<'_>,
        from: (Option<&str>, Option<&str>),
        now: Timestamp,
    ) -> Result<bool> {
        let (status, column, reason) = match answer {
            Answer::Signed => ("signed", "signed_at", None),
            Answer::Declined(reason) => ("declined", "declined_at", Some(reason)),
        };
        let sql = format!(
            "UPDATE recipients SET status = $2, {column} = $3, decline_reason = COALESCE($4, decline_reason), \
             ip = $5, user_agent = $6, unannounced_since = $3 \
             WHERE id = $1 AND status IN ('invited', 'opened')"
        );
        let n = affected!(self, |p| sqlx::query(&sql)
            .bind(id.0)
            .bind(status)
            .bind(ts(now))
            .bind(reason)
            .bind(from.0)
            .bind(from.1)
            .execute(p)
            .await)?;
        Ok(n == 1)
    }

    /// Envelopes (of every organisation) in `status`, oldest first: the jobs that retry or
    /// end them.
    pub async fn envelopes_in(&self, status: EnvelopeStatus, limit: u32) -> Result<Vec<Envelope>> {
        let sql =
            format!("SELECT {ENVELOPE_COLS} FROM envelopes WHERE status = $1 ORDER BY id LIMIT $2");
        let (status, limit) = (status.as_str(), i64::from(limit));
        let rows: Vec<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(status)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(r.into_domain()?);
        }
        Ok(out)
    }

    /// Envelopes past their expiry still waiting for signatures (for the expiry job).
    pub async fn envelopes_to_expire(&self, now: Timestamp, limit: u32) -> Result<Vec<Envelope>> {
        self.envelopes_at(
            "status IN ('sent', 'in_progress') \
             AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at",
            now,
            limit,
        )
        .await
    }
}
