//! Long-term preservation of completed envelopes (`ltv refresh`): every document of a
//! completed envelope, and its proof certificate, ends with a document timestamp (B-LTA).
//! Before the newest one's TSA certificate expires, the housekeeping renews it: a DSS update
//! with that timestamp's validation data, then a new document timestamp from the current TSA
//! ([`paraf_sign::renew_archive`]). Each renewal is a new version of the document; the earlier
//! bytes stay its prefix, so the proof's hashes still name it ([`crate::proof`]).
//!
//! `envelopes.archive_until` records until when an envelope's archive holds (the earliest
//! expiry over its files; set when it is sealed): the housekeeping looks again `ltv_refresh`
//! before then. Taking an envelope moves it a day ahead (one instance renews it; a failure is
//! retried then). A file the current TSA cannot extend (its own certificate ends no later —
//! the CA must be renewed) is left as it is, logged, and looked at again a week later.
//!
//! The built-in TSA's certificate ends before its issuing CA (nine years, ten for CAs made
//! before TSA certificates were shortened), so the hourly round
//! first keeps the CA current ([`Core::keep_ca_current`]): it renews the issuing CA and TSA
//! [`crate::pki::RENEW_BEFORE`] (two years) before the TSA's certificate ends (it ends a year
//! before its issuing CA), and the renewals that follow
//! timestamp with the new TSA and take revocation information for the earlier signatures
//! from the earlier issuing CA, which keeps answering. Renewals timestamp and collect at the
//! injected "now".

use std::time::SystemTime;

use chrono::Duration;
use paraf_domain::{BlobId, Envelope, EnvelopeProof, Timestamp};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::pki::RENEW_BEFORE;
use crate::verification::LiveCa;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// Envelopes read per batch.
const BATCH: u32 = 20;
/// How long one housekeeping round may keep renewing (it goes on at the next round).
const ROUND_BUDGET: std::time::Duration = std::time::Duration::from_secs(300);

/// What became of one file.
enum Outcome {
    /// Its archive holds until then (renewed now or not yet due).
    Holds {
        until: Timestamp,
        renewed: Option<Vec<u8>>,
    },
    /// Due, but the current TSA's certificate ends no later than the file's newest timestamp.
    CannotExtend { until: Timestamp },
}

impl Core {
    /// Keeps the built-in CA able to extend archives: loads an issuing CA another instance
    /// added, then renews the CA when its TSA's certificate has less than [`RENEW_BEFORE`]
    /// left.
    /// Gives the new issuing CA when it renewed now.
    pub async fn keep_ca_current(&self) -> Result<Option<paraf_pki::CaName>> {
        self.pki
            .reload_if_renewed()
            .await
            .map_err(CoreError::internal)?;
        let now: SystemTime = self.now().into();
        let pki = self.pki.clone();
        let (tsa_ends, ends, root_ends) = tokio::task::spawn_blocking(move || {
            pki.current().map(|ca| {
                let root = &ca.root_cert().tbs_certificate.validity.not_after;
                let tsa = &ca.tsa().certificate().tbs_certificate.validity.not_after;
                (
                    tsa.to_system_time(),
                    ca.issuing_not_after(),
                    root.to_system_time(),
                )
            })
        })
        .await
        .map_err(CoreError::internal)?
        .map_err(CoreError::internal)?;
        if tsa_ends > now + RENEW_BEFORE {
            return Ok(None);
        }
        // A new issuing CA cannot outlive the root: near its end, renewing gains nothing.
        if root_ends < ends + std::time::Duration::from_secs(365 * 86_400) {
            tracing::warn!("the built-in CA's root ends less than a year after its issuing CA: a new issuing CA under it would not last longer; a new root is needed (not built)");
            return Ok(None);
        }
        let name = self.pki.renew(now).await.map_err(CoreError::internal)?;
        tracing::info!(issuing = %name, "the issuing CA was renewed (its TSA ended within two years)");
        Ok(Some(name))
    }

    /// Renews the archive timestamps of completed envelopes that are due (their newest
    /// document timestamp expires within `ltv_refresh`, or was never read), batch after batch
    /// until none is due or [`ROUND_BUDGET`] has passed. Returns how many envelopes got a new
    /// version of some file. A failure is logged and looked at again a day later.
    pub async fn refresh_archives(&self) -> Result<usize> {
        let started = std::time::Instant::now();
        let mut renewed = 0;
        loop {
            let due = self
                .store
                .archives_due(self.now() + self.config.ltv_refresh, BATCH)
                .await?;
            if due.is_empty() {
                break;
            }
            for e in due {
                match self.refresh_archive(&e).await {
                    Ok(true) => renewed += 1,
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, envelope = %e.uuid, "renewing the archive timestamps failed (retried in a day)");
                    }
                }
            }
            if started.elapsed() > ROUND_BUDGET {
                break;
            }
        }
        Ok(renewed)
    }

    /// Renews what is due in one completed envelope (see [`Core::refresh_archives`]);
    /// `true` when some file got a new version.
    pub async fn refresh_archive(&self, e: &Envelope) -> Result<bool> {
        let now = self.now();
        let horizon = now + self.config.ltv_refresh;
        // Taken for a day (one instance renews it; after a failure it is due again then).
        let retry = now + Duration::days(1) + self.config.ltv_refresh;
        if !self.store.claim_archive(e.id, horizon, retry).await? {
            return Ok(false);
        }
        // Read again now that it is ours: the proof and documents as they are.
        let e = self.store.envelope(e.org, e.id).await?;
        let mut earliest: Option<Timestamp> = None;
        let mut stuck = false;
        let mut renewed_files = Vec::new();
        let mut note = |outcome: &Outcome| {
            let until = match outcome {
                Outcome::Holds { until, .. } => *until,
                Outcome::CannotExtend { until } => {
                    stuck = true;
                    *until
                }
            };
            earliest = Some(earliest.map_or(until, |t: Timestamp| t.min(until)));
        };
        for d in self.store.envelope_documents(e.id).await? {
            let pdf = self.stored_file(&d.current).await?;
            let outcome = self.renew_if_due(pdf, horizon).await?;
            note(&outcome);
            if let Outcome::Holds {
                renewed: Some(new), ..
            } = outcome
            {
                let blob = self.blobs.put(&new).await.map_err(CoreError::internal)?;
                self.store
                    .set_document_current(d.id, &blob, None, self.now())
                    .await?;
                renewed_files.push(json!({"document": d.name, "sha256": blob.as_str()}));
            }
        }
        if let Some(proof) = &e.proof {
            let pdf = self.stored_file(&proof.pdf).await?;
            let outcome = self.renew_if_due(pdf, horizon).await?;
            note(&outcome);
            if let Outcome::Holds {
                renewed: Some(new), ..
            } = outcome
            {
                let blob: BlobId = self.blobs.put(&new).await.map_err(CoreError::internal)?;
                let p = EnvelopeProof {
                    pdf: blob.clone(),
                    json: proof.json.clone(),
                };
                self.store.set_envelope_proof(e.id, &p).await?;
                renewed_files.push(json!({"proof": true, "sha256": blob.as_str()}));
            }
        }
        // `archive_until`: when the archive stops holding — or, when the current TSA cannot
        // extend it, a week past the margin, so that it is looked at again in a week.
        let until = match earliest {
            Some(t) if !stuck && t > horizon => t,
            Some(t) => {
                tracing::warn!(
                    envelope = %e.uuid,
                    until = %t,
                    "a completed envelope's archive timestamps expire soon and the current TSA's certificate ends no later: renew the CA (looked at again in a week)"
                );
                now + Duration::days(7) + self.config.ltv_refresh
            }
            // Nothing to preserve (no file): not looked at again for a year.
            None => now + Duration::days(365) + self.config.ltv_refresh,
        };
        self.store.set_archive_until(e.id, until).await?;
        if renewed_files.is_empty() {
            return Ok(false);
        }
        self.envelope_event(
            &e,
            &Actor::system(),
            AuditAction::EnvelopeArchiveRenewed,
            json!({"files": renewed_files, "until": until}),
        );
        Ok(true)
    }

    /// Renews `pdf`'s archive timestamp if it expires before `horizon` (or it has none) and
    /// the current TSA's certificate outlasts it.
    async fn renew_if_due(&self, pdf: Vec<u8>, horizon: Timestamp) -> Result<Outcome> {
        let pki = self.pki.clone();
        let horizon: SystemTime = horizon.into();
        let now: SystemTime = self.now().into();
        tokio::task::spawn_blocking(move || -> Result<Outcome> {
            let doc = paraf_pdf::Document::load(pdf, None).map_err(CoreError::internal)?;
            let expiry = paraf_sign::archive_expiry(&doc).map_err(CoreError::internal)?;
            if let Some(t) = expiry.filter(|t| *t > horizon) {
                return Ok(Outcome::Holds {
                    until: t.into(),
                    renewed: None,
                });
            }
            let ca = pki.current().map_err(CoreError::internal)?;
            let tsa_until = ca
                .tsa()
                .certificate()
                .tbs_certificate
                .validity
                .not_after
                .to_system_time();
            if expiry.is_some_and(|t| tsa_until <= t) {
                return Ok(Outcome::CannotExtend {
                    until: expiry.unwrap_or(tsa_until).into(),
                });
            }
            // At the injected "now": the earlier issuing CAs answer for what they issued.
            let tsa = paraf_pki::TimestampAt { tsa: ca.tsa(), now };
            let live = LiveCa::new(ca.clone(), now);
            let services = paraf_sign::Services {
                timestamper: Some(&tsa),
                revocation: Some(&live),
            };
            let new =
                paraf_sign::renew_archive(&doc, services, now).map_err(CoreError::internal)?;
            let check = paraf_pdf::Document::load(new, None).map_err(CoreError::internal)?;
            let until = paraf_sign::archive_expiry(&check)
                .map_err(CoreError::internal)?
                .unwrap_or(tsa_until);
            Ok(Outcome::Holds {
                until: until.into(),
                renewed: Some(check.into_data()),
            })
        })
        .await
        .map_err(CoreError::internal)?
    }
}
