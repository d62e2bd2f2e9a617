//! The signer page's second factor: a six-digit code sent to an envelope recipient by mail or
//! by SMS before they may sign. Codes are drawn from the injected randomness, stored hashed
//! (`otp_codes`, purpose `recipient`), single use, valid [`RECIPIENT_CODE_MINUTES`], limited to
//! a few wrong attempts and a few sendings an hour, and never logged. A confirmed code lets the
//! recipient sign for [`VERIFIED_MINUTES`].

use chrono::Duration;
use paraf_domain::{otp_hash, DomainError, NewMail, OtpPurpose, Recipient, SecondFactor};
use serde_json::json;

use crate::audit::AuditAction;
use crate::envelopes::Visit;
use crate::error::CoreError;
use crate::Core;

/// How long a code is valid.
pub const RECIPIENT_CODE_MINUTES: i64 = 10;
/// How long a confirmed code lets the recipient sign.
pub const VERIFIED_MINUTES: i64 = 30;
/// Codes a recipient may be sent per hour.
pub const CODES_PER_HOUR: u64 = 5;
/// Queue of text messages (the SMS gateway's consumer in `paraf-http`).
pub const SMS_QUEUE: &str = "sms";

/// Where a code went, for the page ("sent to a•••@example.com").
#[derive(Debug, Clone)]
pub struct CodeSent {
    pub channel: SecondFactor,
    /// The address or number, masked.
    pub to: String,
}

fn subject(r: &Recipient) -> String {
    format!("recipient:{}", r.id)
}

/// `alice@example.com` → `a•••@example.com`; `+33612345678` → `•••••••••78`.
pub fn mask(to: &str) -> String {
    match to.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => {
            let n = to.chars().count();
            let tail: String = to.chars().skip(n.saturating_sub(2)).collect();
            format!("{}{tail}", "•".repeat(n.saturating_sub(2)))
        }
    }
}

/// The code's message, in the recipient's language: to sign, or to download a share.
fn code_text(lang: &str, code: &str, title: &str, sharing: bool) -> (String, String) {
    let m = RECIPIENT_CODE_MINUTES;
    let pick = |sign: &'static str, download: &'static str| if sharing { download } else { sign };
    match lang {
        "fr" => (
            pick("Votre code de signature", "Votre code de téléchargement").into(),
            format!("Votre code pour {} « {title} » : {code}\nIl est valable {m} minutes. Ne le communiquez à personne.\n", pick("signer", "télécharger")),
        ),
        "id" => (
            pick("Kode tanda tangan Anda", "Kode unduhan Anda").into(),
            format!("Kode Anda untuk {} \"{title}\": {code}\nBerlaku {m} menit. Jangan berikan kepada siapa pun.\n", pick("menandatangani", "mengunduh")),
        ),
        "it" => (
            pick("Il suo codice di firma", "Il suo codice di download").into(),
            format!("Il suo codice per {} «{title}»: {code}\nÈ valido {m} minuti. Non lo comunichi a nessuno.\n", pick("firmare", "scaricare")),
        ),
        "es" => (
            pick("Su código de firma", "Su código de descarga").into(),
            format!("Su código para {} «{title}»: {code}\nEs válido {m} minutos. No lo comparta con nadie.\n", pick("firmar", "descargar")),
        ),
        _ => (
            pick("Your signing code", "Your download code").into(),
            format!("Your code to {} \"{title}\": {code}\nIt is valid for {m} minutes. Do not share it with anyone.\n", pick("sign", "download")),
        ),
    }
}

impl Core {
    /// Sends the recipient of `token` a new code by their channel (mail or SMS).
    pub async fn send_recipient_code(
        &self,
        token: &str,
        visit: &Visit,
    ) -> Result<CodeSent, CoreError> {
        let (envelope, r, _, _) = self.ready_link(token, visit, "answers").await?;
        let to = match r.second_factor {
            SecondFactor::None => {
                return Err(CoreError::invalid(
                    "code",
                    "this signer needs no one-time code",
                ))
            }
            SecondFactor::Mail => r.email.as_str().to_string(),
            SecondFactor::Sms => r.mobile.clone().ok_or_else(|| {
                CoreError::internal("a recipient with codes by SMS has no mobile number")
            })?,
        };
        let now = self.now();
        let subject = subject(&r);
        let sent = self
            .store
            .otp_codes_since(
                envelope.org,
                &subject,
                OtpPurpose::Recipient,
                now - Duration::hours(1),
            )
            .await?;
        if sent >= CODES_PER_HOUR {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: format!(
                    "{CODES_PER_HOUR} codes were sent in the last hour: use one of them or try later"
                ),
            }));
        }
        let code = crate::codes::six_digits(&*self.entropy)?;
        self.store
            .create_otp(
                envelope.org,
                &subject,
                OtpPurpose::Recipient,
                &otp_hash(&subject, &code),
                1,
                now + Duration::minutes(RECIPIENT_CODE_MINUTES),
                now,
            )
            .await?;
        let sharing = crate::sharing::is_sharing(&envelope.header);
        let (title, text) = code_text(&r.language, &code, &envelope.header.title, sharing);
        let message = NewMail {
            org: Some(envelope.org),
            to: to.clone(),
            subject: title,
            text,
            html: None,
        };
        let queue = match r.second_factor {
            SecondFactor::Sms => SMS_QUEUE,
            _ => "mail",
        };
        self.store.queue_message(&message, queue, now).await?;
        let channel = r.second_factor.as_str();
        self.envelope_audit(
            &envelope,
            &r,
            visit,
            AuditAction::RecipientCodeSent,
            json!({"recipient": r.position, "channel": channel}),
        );
        Ok(CodeSent {
            channel: r.second_factor,
            to: mask(&to),
        })
    }

    /// Checks a code of the recipient of `token`: right, it is spent and they may sign for a
    /// while; wrong, expired or spent, refused (wrong attempts count against the live codes).
    pub async fn verify_recipient_code(
        &self,
        token: &str,
        code: &str,
        visit: &Visit,
    ) -> Result<(), CoreError> {
        let (envelope, r, _, _) = self.ready_link(token, visit, "answers").await?;
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::invalid("code", "the code has six digits"));
        }
        let subject = subject(&r);
        let now = self.now();
        let ok = self
            .store
            .consume_otp(
                envelope.org,
                &subject,
                OtpPurpose::Recipient,
                &otp_hash(&subject, code),
                1,
                now,
            )
            .await?;
        let (action, outcome) = if ok {
            (AuditAction::RecipientCodeVerified, "verified")
        } else {
            (AuditAction::RecipientCodeRefused, "refused")
        };
        self.envelope_audit(
            &envelope,
            &r,
            visit,
            action,
            json!({"recipient": r.position, "outcome": outcome}),
        );
        if !ok {
            return Err(CoreError::invalid(
                "code",
                "the code is wrong, expired or already used",
            ));
        }
        self.store.mark_recipient_verified(r.id, now).await?;
        Ok(())
    }

    /// Whether `r` may sign now as far as their second factor goes.
    pub fn second_factor_done(&self, r: &Recipient) -> bool {
        r.second_factor == SecondFactor::None
            || r.verified_at
                .is_some_and(|t| self.now() - t < Duration::minutes(VERIFIED_MINUTES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_addresses_and_numbers() {
        assert_eq!(mask("alice@example.com"), "a•••@example.com");
        assert_eq!(mask("+33612345678"), "••••••••••78");
    }
}
