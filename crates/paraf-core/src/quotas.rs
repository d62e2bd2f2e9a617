//! An organisation's quotas (from its plan, `paraf_domain::Plan::default_quotas`) and what it
//! used: documents, signatures and API requests per calendar month (UTC), storage in all.
//!
//! Every face counts the same way: an envelope's documents and their bytes when it is created
//! (given back when a draft is deleted), one signature per recipient when it is sent (so an
//! envelope once sent can always be completed; given back for those who had not signed when it
//! is cancelled), one API request per admitted authenticated request. Exceeding a quota is
//! `DomainError::QuotaExceeded`, and nothing is counted.

use paraf_domain::{usage_period, OrgId, QuotaKind, Quotas, Usage};

use crate::error::CoreError;

type Result<T> = std::result::Result<T, CoreError>;
use crate::Core;

impl Core {
    /// The organisation's quotas and its usage this month.
    pub async fn quota(&self, org: OrgId) -> Result<(Quotas, Usage)> {
        let o = self.store.organisation(org).await?;
        let period = usage_period(self.now());
        let mut usage = o.usage_in(&period);
        // With the requests counted here and not written yet.
        usage.api_requests += self.usage.unwritten_requests(org, &period);
        Ok((o.quotas, usage))
    }

    /// Counts `amount` of `kind` against the quota this month; refused (nothing counted) if
    /// it does not fit.
    pub(crate) async fn take_quota(&self, org: OrgId, kind: QuotaKind, amount: u64) -> Result<()> {
        if amount > 0 {
            let period = usage_period(self.now());
            self.store.consume_quota(org, kind, amount, &period).await?;
        }
        Ok(())
    }

    /// Gives back `amount` of `kind` taken at `taken_at` (never fails the caller: a failure is
    /// logged). A monthly count taken in an earlier month is not given back: it was that
    /// month's, and giving it back to this one would let a quota be used twice.
    pub(crate) async fn give_back_quota(
        &self,
        org: OrgId,
        kind: QuotaKind,
        amount: u64,
        taken_at: paraf_domain::Timestamp,
    ) {
        let period = usage_period(self.now());
        if amount == 0 || (kind.is_monthly() && usage_period(taken_at) != period) {
            return;
        }
        let delta = -i64::try_from(amount).unwrap_or(i64::MAX);
        if let Err(e) = self.store.add_usage(org, kind, delta, &period).await {
            tracing::error!(error = %e, %kind, "could not give quota back");
        }
    }

    /// Gives back the quotas of documents taken at `taken_at`: their number and their bytes.
    pub(crate) async fn give_back_document_quota(
        &self,
        org: OrgId,
        docs: u64,
        bytes: u64,
        taken_at: paraf_domain::Timestamp,
    ) {
        self.give_back_quota(org, QuotaKind::Documents, docs, taken_at)
            .await;
        self.give_back_quota(org, QuotaKind::StorageBytes, bytes, taken_at)
            .await;
    }

    /// Takes the quotas of new documents: their number and their bytes, both or neither.
    pub(crate) async fn take_document_quota(
        &self,
        org: OrgId,
        docs: u64,
        bytes: u64,
    ) -> Result<()> {
        self.take_quota(org, QuotaKind::Documents, docs).await?;
        if let Err(e) = self.take_quota(org, QuotaKind::StorageBytes, bytes).await {
            self.give_back_quota(org, QuotaKind::Documents, docs, self.now())
                .await;
            return Err(e);
        }
        Ok(())
    }
}
