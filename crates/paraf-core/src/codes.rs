//! One-time codes sent to people: the six-digit signing code of an identity (mailed), and an
//! organisation seal's activation code (mailed, valid 30 days) and sealing codes (returned to
//! the caller). Codes are stored hashed ([`otp_hash`]), drawn from the injected randomness,
//! attempt-limited: ten wrong activation codes revoke a seal's activation.

use chrono::Duration;
use paraf_domain::{otp_hash, Entropy, Identity, NewMail, OrgId, OtpPurpose, Seal, Timestamp};

use crate::error::{CoreError, KeyRefusal};
use crate::secret::constant_time_eq;
use crate::Core;

/// How long an organisation's seal activation code lasts (refreshing extends it).
pub const SEAL_ACTIVATION_DAYS: i64 = 30;
/// Wrong activation codes after which a seal's activation is revoked (a 6-digit code must
/// not be guessable over its 30 days).
pub const SEAL_ACTIVATION_MAX_FAILURES: u32 = 10;

/// A uniformly drawn six-digit code.
pub fn six_digits(entropy: &dyn Entropy) -> Result<String, CoreError> {
    loop {
        let v = u32::from_be_bytes(paraf_domain::random_bytes::<4>(entropy)?);
        // Rejection sampling keeps every code equally likely.
        if v < u32::MAX - u32::MAX % 1_000_000 {
            return Ok(format!("{:06}", v % 1_000_000));
        }
    }
}

/// The time format of the mails (the BSrE seed's, `2024-01-31T23:59:59.000+0000`).
fn mail_time(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

impl Core {
    async fn send_mail(
        &self,
        org: OrgId,
        to: &str,
        subject: &str,
        text: String,
    ) -> Result<(), CoreError> {
        self.store
            .queue_mail(
                &NewMail {
                    org: Some(org),
                    to: to.to_string(),
                    subject: subject.to_string(),
                    text,
                    html: None,
                },
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// Mails `identity` a signing code for one request of at most `files` documents; returns
    /// when it expires. The identity must be able to sign and have opted in to codes.
    pub async fn send_signing_code(
        &self,
        identity: &Identity,
        files: u64,
    ) -> Result<Timestamp, CoreError> {
        let now = self.now();
        if let Some(r) = crate::signing::refuse_status(identity, now, self.config.bsre_lock_after) {
            return Err(CoreError::Key(r));
        }
        if identity.otp_key.is_none() {
            return Err(CoreError::Key(KeyRefusal::CodesNotEnabled));
        }
        let Some(email) = identity.email.clone() else {
            return Err(CoreError::invalid(
                "email",
                "the user has no e-mail address to send the TOTP to",
            ));
        };
        let code = six_digits(&*self.entropy)?;
        let subject = format!("identity:{}", identity.id);
        let expires = now + paraf_domain::otp_lifetime();
        self.store
            .create_otp(
                identity.org,
                &subject,
                OtpPurpose::Sign,
                &otp_hash(&subject, &code),
                files,
                expires,
                now,
            )
            .await?;
        self.send_mail(
            identity.org,
            email.as_str(),
            "Kode TOTP tanda tangan elektronik / Signing code",
            format!(
                "Kode TOTP Anda: {code}\n\nBerlaku sampai {} untuk satu permintaan tanda tangan \
                 berisi paling banyak {files} dokumen. Jangan berikan kode ini kepada siapa pun.\n\n\
                 Your signing code: {code} (valid until {}, one request, at most {files} documents).\n",
                mail_time(expires),
                mail_time(expires)
            ),
        )
        .await?;
        Ok(expires)
    }

    /// The seal named `id_subscriber` in `org` (`NotFound` otherwise).
    pub async fn seal_by_subscriber(
        &self,
        org: OrgId,
        id_subscriber: &str,
    ) -> Result<Seal, CoreError> {
        Ok(self.store.seal_by_subscriber(org, id_subscriber).await?)
    }

    /// Checks a seal's activation code: `SealNotActivated` without a live activation,
    /// `InvalidCode` for a wrong one (counted; too many revoke the activation).
    pub async fn check_seal_activation(&self, seal: &Seal, code: &str) -> Result<(), CoreError> {
        if !seal.activated(self.now()) {
            return Err(CoreError::Key(KeyRefusal::SealNotActivated));
        }
        let given = otp_hash(&format!("seal:{}", seal.id), code);
        let ok = seal
            .activation_hash
            .as_deref()
            .is_some_and(|h| constant_time_eq(h.as_bytes(), given.as_bytes()));
        if !ok {
            if self
                .store
                .record_seal_activation_failure(seal.org, seal.id, SEAL_ACTIVATION_MAX_FAILURES)
                .await?
            {
                tracing::warn!(seal = %seal.id, "seal activation revoked after wrong codes");
            }
            return Err(CoreError::Key(KeyRefusal::InvalidCode));
        }
        Ok(())
    }

    /// Mails the seal's address a new activation code; returns when it expires.
    pub async fn send_seal_activation(&self, seal: &Seal) -> Result<Timestamp, CoreError> {
        let code = six_digits(&*self.entropy)?;
        let expires = self.set_seal_activation(seal, &code).await?;
        self.send_mail(
            seal.org,
            seal.email.as_str(),
            "TOTP aktivasi segel elektronik / Seal activation code",
            format!(
                "TOTP aktivasi segel elektronik {} ({}): {code}\n\nBerlaku sampai {}. Gunakan untuk \
                 meminta OTP segel.\n\nSeal activation code: {code} \
                 (valid until {}).\n",
                seal.name,
                seal.id_subscriber,
                mail_time(expires),
                mail_time(expires)
            ),
        )
        .await?;
        Ok(expires)
    }

    /// Extends the activation whose current `code` was just checked; returns the new expiry.
    pub async fn refresh_seal_activation(
        &self,
        seal: &Seal,
        code: &str,
    ) -> Result<Timestamp, CoreError> {
        self.set_seal_activation(seal, code).await
    }

    async fn set_seal_activation(&self, seal: &Seal, code: &str) -> Result<Timestamp, CoreError> {
        let expires = self.now() + Duration::days(SEAL_ACTIVATION_DAYS);
        let hash = otp_hash(&format!("seal:{}", seal.id), code);
        self.store
            .set_seal_activation(seal.org, seal.id, Some((&hash, expires)))
            .await?;
        Ok(expires)
    }

    /// Ends the seal's activation.
    pub async fn revoke_seal_activation(&self, seal: &Seal) -> Result<(), CoreError> {
        Ok(self
            .store
            .set_seal_activation(seal.org, seal.id, None)
            .await?)
    }

    /// A sealing code for one request of at most `files` documents, returned to the caller
    /// (whose activation code was just checked), with its expiry.
    pub async fn issue_seal_code(
        &self,
        seal: &Seal,
        files: u64,
    ) -> Result<(String, Timestamp), CoreError> {
        let now = self.now();
        let code = six_digits(&*self.entropy)?;
        let subject = format!("seal:{}", seal.id);
        let expires = now + paraf_domain::otp_lifetime();
        self.store
            .create_otp(
                seal.org,
                &subject,
                OtpPurpose::Seal,
                &otp_hash(&subject, &code),
                files,
                expires,
                now,
            )
            .await?;
        Ok((code, expires))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn six_digit_codes_are_six_digits_and_vary() {
        let e = paraf_domain::SeededEntropy::new(3);
        let codes: Vec<String> = (0..50).map(|_| six_digits(&e).unwrap()).collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 45);
    }
}
