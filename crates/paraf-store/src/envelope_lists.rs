//! Envelopes as an API lists them (a typed filter turned into SQL with bound values: no
//! caller text ever enters the statement), soft deletion, documents by their public ids and
//! notes.

use paraf_domain::{
    Entity, Envelope, EnvelopeDocument, EnvelopeFilter, EnvelopeId, EnvelopeNote, EnvelopeOrder,
    EnvelopeQuery, OrgId, Timestamp, UserId,
};

use crate::envelopes::{DocumentRow, EnvelopeRow, DOCUMENT_COLS, ENVELOPE_COLS};
use crate::{affected, from_ts, ts, with_pool, Result, Store, StoreError};

/// A value bound to a `$n` of a built statement.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

/// A WHERE clause under construction: its text and its values, in order.
#[derive(Default)]
struct Clause {
    sql: String,
    binds: Vec<Bind>,
}

impl Clause {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// `f` as SQL over the `envelopes` columns.
    fn filter(&mut self, f: &EnvelopeFilter) -> String {
        match f {
            EnvelopeFilter::Title(eq, t) => {
                let p = self.bind(Bind::Text(t.clone()));
                format!("title {} {p}", if *eq { "=" } else { "<>" })
            }
            EnvelopeFilter::TitleContains(has, t) => {
                let escaped = t
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let p = self.bind(Bind::Text(format!("%{escaped}%")));
                let not = if *has { "" } else { "NOT " };
                format!("lower(title) {not}LIKE {p} ESCAPE '\\'")
            }
            EnvelopeFilter::Status(is, list) => {
                if list.is_empty() {
                    return if *is { "1 = 0" } else { "1 = 1" }.into();
                }
                let names: Vec<String> = list
                    .iter()
                    .map(|s| self.bind(Bind::Text(s.as_str().to_string())))
                    .collect();
                format!(
                    "status {}IN ({})",
                    if *is { "" } else { "NOT " },
                    names.join(", ")
                )
            }
            EnvelopeFilter::CreatedBy(is, u) => {
                let p = self.bind(Bind::Int(u.0));
                if *is {
                    format!("created_by = {p}")
                } else {
                    format!("(created_by IS NULL OR created_by <> {p})")
                }
            }
            EnvelopeFilter::Involves(u, email) => {
                let p = self.bind(Bind::Int(u.0));
                let e = self.bind(Bind::Text(email.as_str().to_string()));
                format!(
                    "(created_by = {p} OR EXISTS (SELECT 1 FROM recipients r \
                     WHERE r.envelope_id = envelopes.id AND r.email = {e}))"
                )
            }
            EnvelopeFilter::Before(id) => {
                let p = self.bind(Bind::Int(id.0));
                format!("id < {p}")
            }
            EnvelopeFilter::Not(inner) => format!("NOT ({})", self.filter(inner)),
            EnvelopeFilter::All(list) | EnvelopeFilter::Any(list) => {
                if list.is_empty() {
                    return "1 = 1".into();
                }
                let join = if matches!(f, EnvelopeFilter::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let parts: Vec<String> = list.iter().map(|x| self.filter(x)).collect();
                format!("({})", parts.join(join))
            }
        }
    }
}

/// Runs `$sql` with the clause's values bound, as `$method` (`fetch_all`, `fetch_one`).
macro_rules! run_bound {
    ($store:expr, $sql:expr, $binds:expr, $method:ident) => {
        with_pool!($store, |p| {
            let mut q = sqlx::query_as($sql);
            for b in $binds {
                q = match b {
                    Bind::Int(i) => q.bind(*i),
                    Bind::Text(t) => q.bind(t.clone()),
                };
            }
            q.$method(p).await
        })
    };
}

impl Store {
    /// A page of the envelopes `q` selects and, if `count`, how many it selects in all.
    pub async fn envelopes_query(
        &self,
        q: &EnvelopeQuery,
        count: bool,
    ) -> Result<(Vec<Envelope>, Option<u64>)> {
        let mut c = Clause::default();
        let org = c.bind(Bind::Int(q.org.0));
        let face = c.bind(Bind::Text(q.face.clone()));
        let mut wh = format!("org_id = {org} AND face = {face} AND deleted_at IS NULL");
        if let Some(t) = q.template {
            wh.push_str(if t {
                " AND template = TRUE"
            } else {
                " AND template = FALSE"
            });
        }
        if let Some(u) = q.created_by {
            let p = c.bind(Bind::Int(u.0));
            wh.push_str(&format!(" AND created_by = {p}"));
        }
        if let Some(f) = &q.filter {
            let s = c.filter(f);
            wh.push_str(&format!(" AND {s}"));
        }
        c.sql = wh;
        let dir = if q.descending { "DESC" } else { "ASC" };
        let order = match q.order {
            EnvelopeOrder::Created => format!("id {dir}"),
            EnvelopeOrder::Updated => {
                format!("COALESCE(completed_at, sent_at, created_at) {dir}, id {dir}")
            }
            EnvelopeOrder::Title => format!("title {dir}, id {dir}"),
            EnvelopeOrder::Expires => format!("expires_at {dir}, id {dir}"),
        };
        let total = if count {
            let sql = format!("SELECT COUNT(*) FROM envelopes WHERE {}", c.sql);
            let (n,): (i64,) = run_bound!(self, &sql, &c.binds, fetch_one)?;
            Some(crate::to_u64(n))
        } else {
            None
        };
        let mut binds = c.binds.clone();
        binds.push(Bind::Int(i64::from(q.limit)));
        binds.push(Bind::Int(crate::to_i64(q.offset)));
        let sql = format!(
            "SELECT {ENVELOPE_COLS} FROM envelopes WHERE {} ORDER BY {order} LIMIT ${} OFFSET ${}",
            c.sql,
            binds.len() - 1,
            binds.len()
        );
        let rows: Vec<EnvelopeRow> = run_bound!(self, &sql, &binds, fetch_all)?;
        let list = rows
            .into_iter()
            .map(EnvelopeRow::into_domain)
            .collect::<Result<_>>()?;
        Ok((list, total))
    }

    /// Marks an envelope deleted (once); `false` when it already was.
    pub async fn set_envelope_deleted(
        &self,
        org: OrgId,
        id: EnvelopeId,
        now: Timestamp,
    ) -> Result<bool> {
        let sql = "UPDATE envelopes SET deleted_at = $1 \
                   WHERE id = $2 AND org_id = $3 AND deleted_at IS NULL RETURNING id";
        let row: Option<(i64,)> = with_pool!(self, |p| sqlx::query_as(sql)
            .bind(ts(now))
            .bind(id.0)
            .bind(org.0)
            .fetch_optional(p)
            .await)?;
        Ok(row.is_some())
    }

    /// The document of organisation `org` whose original (`false`) or signed version (`true`)
    /// has the public id `uuid`.
    pub async fn document_by_uuid(
        &self,
        org: OrgId,
        uuid: &str,
    ) -> Result<(Envelope, EnvelopeDocument, bool)> {
        let cols = DOCUMENT_COLS
            .split(", ")
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM envelope_documents d JOIN envelopes e ON e.id = d.envelope_id \
             WHERE e.org_id = $1 AND (d.uuid = $2 OR d.signed_uuid = $2)"
        );
        let row: Option<DocumentRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(uuid)
            .fetch_optional(p)
            .await)?;
        let d = row
            .ok_or(StoreError::not_found(Entity::Document))?
            .into_domain()?;
        let e = self.envelope(org, d.envelope).await?;
        let signed = d.signed_uuid == uuid;
        Ok((e, d, signed))
    }

    /// The notes of an envelope, oldest first.
    pub async fn envelope_notes(&self, id: EnvelopeId) -> Result<Vec<EnvelopeNote>> {
        let rows: Vec<NoteRow> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id, envelope_id, user_id, created_at, text FROM envelope_notes \
             WHERE envelope_id = $1 ORDER BY id"
        )
        .bind(id.0)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(NoteRow::into_domain).collect())
    }

    /// Adds a note.
    pub async fn add_envelope_note(
        &self,
        id: EnvelopeId,
        user: Option<UserId>,
        text: &str,
        now: Timestamp,
    ) -> Result<EnvelopeNote> {
        let row: NoteRow = with_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO envelope_notes (envelope_id, user_id, created_at, text) VALUES ($1, $2, $3, $4) \
             RETURNING id, envelope_id, user_id, created_at, text"
        )
        .bind(id.0)
        .bind(user.map(|u| u.0))
        .bind(ts(now))
        .bind(text)
        .fetch_one(p)
        .await
        })?;
        Ok(row.into_domain())
    }

    /// Changes a note's text (`Some(note)`), `None` when the envelope has no such note.
    pub async fn set_envelope_note(
        &self,
        id: EnvelopeId,
        note: i64,
        text: &str,
    ) -> Result<Option<EnvelopeNote>> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE envelope_notes SET text = $3 WHERE envelope_id = $1 AND id = $2"
        )
        .bind(id.0)
        .bind(note)
        .bind(text)
        .execute(p)
        .await)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(self
            .envelope_notes(id)
            .await?
            .into_iter()
            .find(|x| x.id == note))
    }

    /// Deletes a note; `false` when the envelope has no such note.
    pub async fn delete_envelope_note(&self, id: EnvelopeId, note: i64) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM envelope_notes WHERE envelope_id = $1 AND id = $2"
        )
        .bind(id.0)
        .bind(note)
        .execute(p)
        .await)?;
        Ok(n == 1)
    }
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: i64,
    name: String,
    template: Option<String>,
    title: String,
    created_at: i64,
    size: i64,
    completed: i64,
    failed: i64,
    declined: i64,
    expired: i64,
}

const BATCH_SELECT: &str = "SELECT b.id, b.name, t.uuid AS template, b.title, b.created_at, \
     COUNT(e.id) AS size, \
     COALESCE(SUM(CASE WHEN e.status = 'completed' THEN 1 ELSE 0 END), 0) AS completed, \
     COALESCE(SUM(CASE WHEN e.status = 'seal_failed' THEN 1 ELSE 0 END), 0) AS failed, \
     COALESCE(SUM(CASE WHEN e.status IN ('declined', 'cancelled') THEN 1 ELSE 0 END), 0) AS declined, \
     COALESCE(SUM(CASE WHEN e.status = 'expired' THEN 1 ELSE 0 END), 0) AS expired \
     FROM envelope_batches b LEFT JOIN envelopes t ON t.id = b.template_id \
     LEFT JOIN envelopes e ON e.batch_id = b.id AND e.deleted_at IS NULL \
     WHERE b.org_id = $1";

impl BatchRow {
    fn into_domain(self) -> paraf_domain::EnvelopeBatch {
        paraf_domain::EnvelopeBatch {
            id: self.id,
            name: self.name,
            template: self.template,
            title: self.title,
            created_at: from_ts(self.created_at),
            size: crate::to_u64(self.size),
            completed: crate::to_u64(self.completed),
            failed: crate::to_u64(self.failed),
            declined: crate::to_u64(self.declined),
            expired: crate::to_u64(self.expired),
        }
    }
}

impl Store {
    /// Starts a batch named `name` of envelopes made from `template`.
    pub async fn create_batch(
        &self,
        org: OrgId,
        name: &str,
        template: Option<EnvelopeId>,
        title: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let (id,): (i64,) = with_pool!(self, |p| sqlx::query_as(
            "INSERT INTO envelope_batches (org_id, name, template_id, title, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id"
        )
        .bind(org.0)
        .bind(name)
        .bind(template.map(|t| t.0))
        .bind(title)
        .bind(ts(now))
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    /// Puts an envelope of `org` in batch `batch`.
    pub async fn set_envelope_batch(&self, org: OrgId, id: EnvelopeId, batch: i64) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE envelopes SET batch_id = $3 WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(batch)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Envelope));
        }
        Ok(())
    }

    /// A page of the organisation's batches, newest first, and (if `count`) how many in all.
    pub async fn batches(
        &self,
        org: OrgId,
        offset: u64,
        limit: u32,
        count: bool,
    ) -> Result<(Vec<paraf_domain::EnvelopeBatch>, Option<u64>)> {
        let sql = format!(
            "{BATCH_SELECT} GROUP BY b.id, b.name, t.uuid, b.title, b.created_at \
             ORDER BY b.id DESC LIMIT $2 OFFSET $3"
        );
        let rows: Vec<BatchRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(i64::from(limit))
            .bind(crate::to_i64(offset))
            .fetch_all(p)
            .await)?;
        let total = if count {
            let (n,): (i64,) = with_pool!(self, |p| sqlx::query_as(
                "SELECT COUNT(*) FROM envelope_batches WHERE org_id = $1"
            )
            .bind(org.0)
            .fetch_one(p)
            .await)?;
            Some(crate::to_u64(n))
        } else {
            None
        };
        Ok((rows.into_iter().map(BatchRow::into_domain).collect(), total))
    }

    /// The envelopes of the organisation's batch `name` (oldest first), or `NotFound`.
    pub async fn batch_envelopes(&self, org: OrgId, name: &str) -> Result<Vec<Envelope>> {
        let found: Option<(i64,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM envelope_batches WHERE org_id = $1 AND name = $2"
        )
        .bind(org.0)
        .bind(name)
        .fetch_optional(p)
        .await)?;
        let (batch,) = found.ok_or(StoreError::not_found(Entity::Envelope))?;
        let sql = format!(
            "SELECT {ENVELOPE_COLS} FROM envelopes WHERE batch_id = $1 AND deleted_at IS NULL ORDER BY id"
        );
        let rows: Vec<EnvelopeRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(batch)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(EnvelopeRow::into_domain).collect()
    }
}

impl Store {
    /// A user's sealed robot settings, if any.
    pub async fn robot_configuration(&self, org: OrgId, user: UserId) -> Result<Option<String>> {
        let row: Option<(String,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT config_sealed FROM robot_configurations WHERE org_id = $1 AND user_id = $2"
        )
        .bind(org.0)
        .bind(user.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(s,)| s))
    }

    /// Sets a user's sealed robot settings.
    pub async fn set_robot_configuration(
        &self,
        org: OrgId,
        user: UserId,
        sealed: &str,
        now: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| {
            sqlx::query(
            "INSERT INTO robot_configurations (org_id, user_id, config_sealed, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, user_id) \
             DO UPDATE SET config_sealed = excluded.config_sealed, updated_at = excluded.updated_at"
        )
        .bind(org.0)
        .bind(user.0)
        .bind(sealed)
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        Ok(())
    }

    /// The sealed headers an endpoint's deliveries carry, if any.
    pub async fn endpoint_headers(&self, endpoint: i64) -> Result<Option<String>> {
        let row: Option<(String,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT headers_sealed FROM webhook_endpoint_headers WHERE endpoint_id = $1"
        )
        .bind(endpoint)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(s,)| s))
    }

    /// Sets (or, `None`, removes) the sealed headers of an endpoint.
    pub async fn set_endpoint_headers(&self, endpoint: i64, sealed: Option<&str>) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "DELETE FROM webhook_endpoint_headers WHERE endpoint_id = $1"
        )
        .bind(endpoint)
        .execute(p)
        .await)?;
        if let Some(s) = sealed {
            affected!(self, |p| {
                sqlx::query(
                "INSERT INTO webhook_endpoint_headers (endpoint_id, headers_sealed) VALUES ($1, $2)"
            )
            .bind(endpoint)
            .bind(s)
            .execute(p)
            .await
            })?;
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    id: i64,
    envelope_id: i64,
    user_id: Option<i64>,
    created_at: i64,
    text: String,
}

impl NoteRow {
    fn into_domain(self) -> EnvelopeNote {
        EnvelopeNote {
            id: self.id,
            envelope: EnvelopeId(self.envelope_id),
            user: self.user_id.map(UserId),
            created_at: from_ts(self.created_at),
            text: self.text,
        }
    }
}
