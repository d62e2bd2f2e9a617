//! Changing who signs, and nudging them: reminders every `reminder_days` (the housekeeping
//! task), the sender replacing a recipient who has not answered, and a recipient delegating
//! to someone else when the sender allows it (`allow_delegation` in the envelope's options).
//! A replaced or delegating recipient's link stops working; the new person gets their own.

use paraf_domain::{
    DomainError, Envelope, EnvelopeId, EnvelopeStatus, NewRecipient, OrgId, Recipient,
    RecipientStatus,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::envelopes::{recipient_actor, Visit, LANGUAGES};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// The subject prefix of a reminder.
fn reminder_prefix(lang: &str) -> &'static str {
    match lang {
        "fr" => "Rappel : ",
        "id" => "Pengingat: ",
        "it" => "Promemoria: ",
        "es" => "Recordatorio: ",
        _ => "Reminder: ",
    }
}

fn conflict(reason: impl Into<String>) -> CoreError {
    CoreError::Domain(DomainError::Conflict {
        reason: reason.into(),
    })
}

impl Core {
    /// Mails a reminder to every recipient whose turn came at least their envelope's
    /// `reminder_days` ago (or since their last reminder) and who has not answered; returns
    /// how many (the housekeeping task calls this every minute).
    pub async fn send_reminders(&self) -> Result<usize> {
        let now = self.now();
        let mut n = 0;
        for (e, r) in self.store.recipients_to_remind(now, 200).await? {
            if !crate::envelopes::mails_invitations(&e) {
                continue;
            }
            let all = self.store.recipients(e.id).await?;
            if crate::envelopes::group_done(&e, &all, r.group) {
                continue;
            }
            let since = self.store.recipient_reminded_at(r.id).await?;
            if !self.store.mark_recipient_reminded(r.id, since, now).await? {
                continue;
            }
            self.mail_link(&e, &r, reminder_prefix(&r.language)).await?;
            self.envelope_event(
                &e,
                &Actor::system(),
                AuditAction::RecipientReminded,
                json!({"recipient": r.position, "email": r.email.as_str()}),
            );
            n += 1;
        }
        Ok(n)
    }

    /// The sender reminds now every recipient whose turn has come and who has not answered
    /// (by mail, unless the envelope's invitations are not mailed); returns how many. Only
    /// while the envelope takes signatures.
    pub async fn remind_now(&self, org: OrgId, id: EnvelopeId, actor: &Actor) -> Result<usize> {
        let e = self.store.envelope(org, id).await?;
        if !e.status.is_open_for_signing() {
            return Err(conflict(format!("the envelope is {}", e.status)));
        }
        let mut n = 0;
        for r in self.store.recipients(id).await? {
            if !matches!(r.status, RecipientStatus::Invited | RecipientStatus::Opened) {
                continue;
            }
            if crate::envelopes::mails_invitations(&e) {
                self.mail_link(&e, &r, reminder_prefix(&r.language)).await?;
            }
            self.envelope_event(
                &e,
                actor,
                AuditAction::RecipientReminded,
                json!({"recipient": r.position, "email": r.email.as_str()}),
            );
            n += 1;
        }
        Ok(n)
    }

    /// Puts `new` in the place of recipient `position` (their group, fields and turn) and
    /// gives them a link of their own — mailed at once when their group's turn has come. The
    /// earlier person's link stops working. Only for a recipient who has not answered, on an
    /// envelope that is still open.
    async fn put_in_place(
        &self,
        e: &Envelope,
        old: &Recipient,
        new: &NewRecipient,
        actor: &Actor,
        action: AuditAction,
    ) -> Result<Recipient> {
        if !LANGUAGES.contains(&new.language.as_str()) {
            return Err(CoreError::invalid(
                "language",
                "must be one of fr, en, id, it, es",
            ));
        }
        if new.first_name.trim().is_empty() && new.last_name.trim().is_empty() {
            return Err(CoreError::invalid("name", "must not be empty"));
        }
        if !matches!(
            e.status,
            EnvelopeStatus::Draft | EnvelopeStatus::Sent | EnvelopeStatus::InProgress
        ) {
            return Err(conflict(format!("the envelope is {}", e.status)));
        }
        if !self.store.replace_recipient(old.id, new).await? {
            return Err(conflict("this recipient has answered already"));
        }
        let r = self
            .store
            .recipients(e.id)
            .await?
            .into_iter()
            .find(|r| r.id == old.id)
            .ok_or_else(|| CoreError::internal("a replaced recipient vanished"))?;
        if e.status != EnvelopeStatus::Draft {
            self.new_link(&r, self.links_expire(e)).await?;
            if r.status == RecipientStatus::Invited {
                self.mail_link(e, &r, "").await?;
            }
        }
        self.envelope_event(
            e,
            actor,
            action,
            json!({"recipient": r.position, "from": old.email.as_str(), "to": r.email.as_str()}),
        );
        let event = match action {
            AuditAction::RecipientDelegated => "recipient.delegated",
            _ => "recipient.replaced",
        };
        self.envelope_webhook(
            e,
            event,
            Some(&r),
            json!({"recipient": {"position": r.position, "from": old.email.as_str(), "to": r.email.as_str()}}),
        )
        .await;
        Ok(r)
    }

    /// The sender replaces recipient `position` (1-based) of envelope `id` by `new`.
    pub async fn replace_recipient(
        &self,
        org: OrgId,
        id: EnvelopeId,
        position: u32,
        new: NewRecipient,
        actor: &Actor,
    ) -> Result<Recipient> {
        let e = self.store.envelope(org, id).await?;
        let old = self
            .store
            .recipients(id)
            .await?
            .into_iter()
            .find(|r| r.position == position)
            .ok_or(CoreError::Domain(DomainError::not_found(
                paraf_domain::Entity::Recipient,
            )))?;
        self.put_in_place(&e, &old, &new, actor, AuditAction::RecipientReplaced)
            .await
    }

    /// The recipient of a link hands their turn to `new` (when the sender allowed it); their
    /// link stops working. `new` keeps the recipient's group, fields and second factor kind.
    pub async fn delegate(
        &self,
        token: &str,
        new: NewRecipient,
        visit: &Visit,
    ) -> Result<Recipient> {
        let (e, r, _, _) = self.ready_link(token, visit, "answers").await?;
        let allowed = e
            .header
            .options
            .get("allow_delegation")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        if !allowed {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "the sender does not allow delegation".into(),
            }));
        }
        if new.email == r.email {
            return Err(CoreError::invalid("email", "is your own address"));
        }
        // The person named proves control of the address the link goes to; a second factor
        // the sender asked for stays, by mail (their phone is not known).
        let mut new = new;
        if r.second_factor != paraf_domain::SecondFactor::None && new.mobile.is_none() {
            new.second_factor = paraf_domain::SecondFactor::Mail;
        }
        let actor = recipient_actor(&r, visit);
        self.put_in_place(&e, &r, &new, &actor, AuditAction::RecipientDelegated)
            .await
    }
}
