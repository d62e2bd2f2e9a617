//! Organisations: creation, lookup, plan and quotas, usage counters (atomic, so concurrent
//! requests on several instances never overrun a quota).

use paraf_domain::{
    DomainError, Entity, KeyAlgorithm, NewOrganisation, OrgId, OrgName, Organisation, Plan,
    QuotaKind, Quotas, SignatureLevel, SigningProfile, Slug, Timestamp, Usage,
};

use crate::error::unique_as_exists;
use crate::{affected, from_ts, to_i64, to_u64, ts, with_pool, Result, Store, StoreError};

pub(crate) const ORG_COLS: &str = "id, slug, name, plan, quota_documents, quota_signatures, \
    quota_storage_bytes, quota_api_requests, used_documents, used_signatures, used_storage_bytes, \
    used_api_requests, usage_period, signature_level, key_type, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: i64,
    slug: String,
    name: String,
    plan: String,
    quota_documents: i64,
    quota_signatures: i64,
    quota_storage_bytes: i64,
    quota_api_requests: i64,
    used_documents: i64,
    used_signatures: i64,
    used_storage_bytes: i64,
    used_api_requests: i64,
    usage_period: String,
    signature_level: String,
    key_type: String,
    created_at: i64,
}

impl OrgRow {
    fn into_domain(self) -> Result<Organisation> {
        Ok(Organisation {
            id: OrgId(self.id),
            slug: Slug::parse(&self.slug)
                .map_err(|_| StoreError::corrupt(format!("organisation {}: slug", self.id)))?,
            name: OrgName::parse(&self.name)
                .map_err(|_| StoreError::corrupt(format!("organisation {}: name", self.id)))?,
            plan: Plan::parse(&self.plan)
                .map_err(|_| StoreError::corrupt(format!("organisation {}: plan", self.id)))?,
            quotas: Quotas {
                documents: to_u64(self.quota_documents),
                signatures: to_u64(self.quota_signatures),
                storage_bytes: to_u64(self.quota_storage_bytes),
                api_requests: to_u64(self.quota_api_requests),
            },
            usage: Usage {
                documents: to_u64(self.used_documents),
                signatures: to_u64(self.used_signatures),
                storage_bytes: to_u64(self.used_storage_bytes),
                api_requests: to_u64(self.used_api_requests),
            },
            usage_period: self.usage_period,
            signing: SigningProfile {
                level: SignatureLevel::parse(&self.signature_level).map_err(|_| {
                    StoreError::corrupt(format!("organisation {}: signature_level", self.id))
                })?,
                key_type: KeyAlgorithm::parse(&self.key_type).map_err(|_| {
                    StoreError::corrupt(format!("organisation {}: key_type", self.id))
                })?,
            },
            created_at: from_ts(self.created_at),
        })
    }
}

/// The value of a usage column in the month `$3`: monthly counters of an older month count as
/// 0 (of a newer one — a clock behind — as they stand).
fn current(used: &str, kind: QuotaKind) -> String {
    if kind.is_monthly() {
        format!("(CASE WHEN usage_period >= $3 THEN {used} ELSE 0 END)")
    } else {
        used.to_string()
    }
}

/// The SET list that adds (`op` `+`) or removes (`-`, never below 0) `$2` of `kind` in the
/// month `$3`, moving every monthly counter to that month.
fn counting(kind: QuotaKind, op: &str) -> String {
    let mut sets: Vec<String> = QuotaKind::ALL
        .into_iter()
        .map(|k| {
            let (used, _) = columns(k);
            let base = current(used, k);
            let value = match (k == kind, op) {
                (false, _) => base,
                (true, "-") => format!("CASE WHEN {base} >= $2 THEN {base} - $2 ELSE 0 END"),
                (true, _) => format!("{base} + $2"),
            };
            format!("{used} = {value}")
        })
        .collect();
    // Only forward: an instance whose clock is behind at a month's turn counts in the newer
    // month rather than starting an older one again ('YYYY-MM' sorts as text).
    sets.push("usage_period = CASE WHEN usage_period > $3 THEN usage_period ELSE $3 END".into());
    sets.join(", ")
}

fn columns(kind: QuotaKind) -> (&'static str, &'static str) {
    match kind {
        QuotaKind::Documents => ("used_documents", "quota_documents"),
        QuotaKind::Signatures => ("used_signatures", "quota_signatures"),
        QuotaKind::StorageBytes => ("used_storage_bytes", "quota_storage_bytes"),
        QuotaKind::ApiRequests => ("used_api_requests", "quota_api_requests"),
    }
}

impl Store {
    /// Creates an organisation on a plan, with the plan's default quotas and an empty audit
    /// chain. `AlreadyExists` if the slug is taken.
    pub async fn create_organisation(
        &self,
        new: &NewOrganisation,
        now: Timestamp,
    ) -> Result<Organisation> {
        let q = new.plan.default_quotas();
        let sql = format!(
            "INSERT INTO organisations (slug, name, plan, quota_documents, quota_signatures, \
             quota_storage_bytes, quota_api_requests, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ORG_COLS}"
        );
        let row: OrgRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.slug.as_str())
            .bind(new.name.as_str())
            .bind(new.plan.as_str())
            .bind(to_i64(q.documents))
            .bind(to_i64(q.signatures))
            .bind(to_i64(q.storage_bytes))
            .bind(to_i64(q.api_requests))
            .bind(ts(now))
            .fetch_one(p)
            .await)
        .map_err(|e| unique_as_exists(e, Entity::Organisation, new.slug.as_str()))?;
        row.into_domain()
    }

    /// The organisation with this id.
    pub async fn organisation(&self, id: OrgId) -> Result<Organisation> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations WHERE id = $1");
        let row: Option<OrgRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Organisation))?
            .into_domain()
    }

    /// The organisation with this slug.
    pub async fn organisation_by_slug(&self, slug: &str) -> Result<Organisation> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations WHERE slug = $1");
        let row: Option<OrgRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(slug.trim())
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Organisation))?
            .into_domain()
    }

    /// Every organisation, oldest first (operator view).
    pub async fn list_organisations(&self) -> Result<Vec<Organisation>> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations ORDER BY id");
        let rows: Vec<OrgRow> = with_pool!(self, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
        rows.into_iter().map(OrgRow::into_domain).collect()
    }

    /// Moves an organisation to another plan; its quotas become the plan's defaults (usage
    /// is kept).
    pub async fn set_plan(&self, org: OrgId, plan: Plan) -> Result<Organisation> {
        self.set_plan_and_quotas(org, Some(plan), plan.default_quotas())
            .await
    }

    /// Sets an organisation's quotas explicitly (operator override of the plan's).
    pub async fn set_quotas(&self, org: OrgId, quotas: Quotas) -> Result<Organisation> {
        self.set_plan_and_quotas(org, None, quotas).await
    }

    async fn set_plan_and_quotas(
        &self,
        org: OrgId,
        plan: Option<Plan>,
        q: Quotas,
    ) -> Result<Organisation> {
        let sql = format!(
            "UPDATE organisations SET plan = COALESCE($2, plan), quota_documents = $3, \
             quota_signatures = $4, quota_storage_bytes = $5, quota_api_requests = $6 \
             WHERE id = $1 RETURNING {ORG_COLS}"
        );
        let row: Option<OrgRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(plan.map(Plan::as_str))
            .bind(to_i64(q.documents))
            .bind(to_i64(q.signatures))
            .bind(to_i64(q.storage_bytes))
            .bind(to_i64(q.api_requests))
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Organisation))?
            .into_domain()
    }

    /// Runs a usage `UPDATE … RETURNING` with `$1` = org, `$2` = amount, `$3` = period.
    async fn usage_update(
        &self,
        sql: &str,
        org: OrgId,
        amount: u64,
        period: &str,
    ) -> Result<Option<OrgRow>> {
        Ok(with_pool!(self, |p| sqlx::query_as(sql)
            .bind(org.0)
            .bind(to_i64(amount))
            .bind(period)
            .fetch_optional(p)
            .await)?)
    }

    /// Counts `amount` against a quota in the month `period` (`YYYY-MM`), atomically: either
    /// the whole amount fits and is counted, or nothing is counted and `QuotaExceeded` says
    /// how much is used. The monthly counters start from zero in a new month.
    pub async fn consume_quota(
        &self,
        org: OrgId,
        kind: QuotaKind,
        amount: u64,
        period: &str,
    ) -> Result<Usage> {
        let (used, quota) = columns(kind);
        let sql = format!(
            "UPDATE organisations SET {} WHERE id = $1 AND {} + $2 <= {quota} RETURNING {ORG_COLS}",
            counting(kind, "+"),
            current(used, kind)
        );
        match self.usage_update(&sql, org, amount, period).await? {
            Some(r) => Ok(r.into_domain()?.usage),
            None => {
                let o = self.organisation(org).await?;
                Err(DomainError::QuotaExceeded {
                    quota: kind,
                    limit: o.quotas.get(kind),
                    used: o.usage_in(period).get(kind),
                }
                .into())
            }
        }
    }

    /// Changes usage in the month `period` without enforcing the quota: `delta` > 0 counts
    /// (API requests, whose limits are the plan's rate windows), `delta` < 0 gives back (never
    /// below zero: a deleted draft).
    pub async fn add_usage(
        &self,
        org: OrgId,
        kind: QuotaKind,
        delta: i64,
        period: &str,
    ) -> Result<Usage> {
        let op = if delta < 0 { "-" } else { "+" };
        let sql = format!(
            "UPDATE organisations SET {} WHERE id = $1 RETURNING {ORG_COLS}",
            counting(kind, op)
        );
        Ok(self
            .usage_update(&sql, org, delta.unsigned_abs(), period)
            .await?
            .ok_or(StoreError::not_found(Entity::Organisation))?
            .into_domain()?
            .usage)
    }

    /// Sets every usage counter back to zero (start of a billing period).
    pub async fn reset_usage(&self, org: OrgId) -> Result<Usage> {
        let sql = format!(
            "UPDATE organisations SET used_documents = 0, used_signatures = 0, \
             used_storage_bytes = 0, used_api_requests = 0 WHERE id = $1 RETURNING {ORG_COLS}"
        );
        let row: Option<OrgRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_optional(p)
            .await)?;
        Ok(row
            .ok_or(StoreError::not_found(Entity::Organisation))?
            .into_domain()?
            .usage)
    }
}

/// What taking a credit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditTake {
    /// The organisation has no credit limit.
    Unlimited,
    /// One taken; this many are left.
    Left(i64),
    /// None left: nothing taken.
    NoneLeft,
}

impl Store {
    /// Sets how the organisation signs; returns it changed.
    pub async fn set_signing_profile(
        &self,
        org: OrgId,
        profile: SigningProfile,
    ) -> Result<Organisation> {
        let sql = format!(
            "UPDATE organisations SET signature_level = $2, key_type = $3 WHERE id = $1 \
             RETURNING {ORG_COLS}"
        );
        let row: Option<OrgRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(profile.level.as_str())
            .bind(profile.key_type.as_str())
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Organisation))?
            .into_domain()
    }

    /// The organisation's credits (`None`: unlimited).
    pub async fn credits(&self, org: OrgId) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT credits FROM organisations WHERE id = $1"
        )
        .bind(org.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.ok_or(StoreError::not_found(Entity::Organisation))?.0)
    }

    /// Sets the credits (`None`: unlimited).
    pub async fn set_credits(&self, org: OrgId, credits: Option<i64>) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE organisations SET credits = $2 WHERE id = $1"
        )
        .bind(org.0)
        .bind(credits)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Organisation));
        }
        Ok(())
    }

    /// Adds `n` credits (a limited organisation only; unlimited stays unlimited); returns the
    /// new balance.
    pub async fn add_credits(&self, org: OrgId, n: i64) -> Result<Option<i64>> {
        affected!(self, |p| sqlx::query(
            "UPDATE organisations SET credits = credits + $2 WHERE id = $1 AND credits IS NOT NULL"
        )
        .bind(org.0)
        .bind(n)
        .execute(p)
        .await)?;
        self.credits(org).await
    }

    /// Takes one credit, atomically: two requests racing for the last credit cannot both
    /// get it.
    pub async fn take_credit(&self, org: OrgId) -> Result<CreditTake> {
        let row: Option<(i64,)> = with_pool!(self, |p| sqlx::query_as(
            "UPDATE organisations SET credits = credits - 1 \
             WHERE id = $1 AND credits IS NOT NULL AND credits > 0 RETURNING credits"
        )
        .bind(org.0)
        .fetch_optional(p)
        .await)?;
        if let Some((left,)) = row {
            return Ok(CreditTake::Left(left));
        }
        Ok(match self.credits(org).await? {
            None => CreditTake::Unlimited,
            Some(_) => CreditTake::NoneLeft,
        })
    }

    /// Gives back a credit taken for work that then failed.
    pub async fn return_credit(&self, org: OrgId) -> Result<()> {
        self.add_credits(org, 1).await.map(|_| ())
    }
}
